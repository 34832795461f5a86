"""A camera source safe to show or log: a URL's ``user:password@`` masked (no dependencies: the capture
code uses it too). The store of sources is ``monitor.store.camera_sources``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def mask_source(source: str | None) -> str:
    """``source`` safe to show or log: a URL's ``user:password@`` becomes ``***@``."""
    if not source or "://" not in source:
        return source or ""
    scheme, _, rest = source.partition("://")
    netloc, sep, tail = rest.partition("/")
    if "@" not in netloc:
        return source
    return f"{scheme}://***@{netloc.rpartition('@')[2]}{sep}{tail}"


def mask_text(text: str, *sources: str | None) -> str:
    """``text`` (an error) with the credentials of ``sources`` and any ``user:pw@`` in a URL masked."""
    for source in sources:
        if source and "://" in source:
            parsed = urlsplit(source)
            for secret in (parsed.password, parsed.username):
                if secret and len(secret) > 1:
                    text = text.replace(secret, "***")
    return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]*@", r"\1***@", text)
