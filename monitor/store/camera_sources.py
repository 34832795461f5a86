"""Camera sources set on the admin page: a URL, a video file or a webcam index, and the hosts that serve it.

A URL's ``user:password@`` part is kept apart from the rest, encrypted with Fernet (the ``cryptography``
package) under a key from the PROCESS settings (``camera_key``: ``CLASSROOM_MONITOR_CAMERA_KEY`` or the
settings file), never from the database: a copy of the database alone cannot open a camera. What is stored:

- ``cameras.configured_source``: the source without credentials (``rtsp://cam-101/stream2``);
- ``cameras.source_credentials``: the Fernet token of ``user:password`` (None: no credentials);
- ``cameras.serve_hosts``: the host names that may serve the camera, comma-separated (None: any host).

Pages, the API and exports only ever see :func:`source_view` (the source without credentials, and whether a
password is set). :func:`camera_source_url` gives the openable URL, credentials included, for internal use
(``serve`` starting a worker, a connection test, a snapshot); never log or show what it returns, use
:func:`mask_source`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.orm import Session

from monitor.config import ConfigError, Settings, load_settings
from monitor.source_mask import mask_source
from monitor.source_mask import mask_text as mask_text  # re-exported: the dashboard masks errors with it
from monitor.store.schema import Camera

URL_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https")
MAX_SOURCE_CHARS = 1000
MAX_HOSTS = 20
HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$")


class CameraSourceError(ValueError):
    """A source, host list or key that cannot be used; the message is meant for the admin."""


# --- the key: from the process settings, never the database -------------------------------------------

_configured_key: str | None = None
_key_set = False


def use_settings(settings: Settings) -> None:
    """Take ``camera_key`` from these settings (the dashboard and the CLI call this at start)."""
    global _configured_key, _key_set
    _configured_key, _key_set = settings.camera_key, True


def _key_text() -> str | None:
    if _key_set:
        return _configured_key
    try:  # a process that did not call use_settings: the environment (and CLASSROOM_MONITOR_CONFIG)
        return load_settings().camera_key
    except ConfigError:
        return None


def _fernet(key_text: str | None = None):
    """The Fernet for ``key_text`` (default: the process's camera_key); None when no key is configured.

    Any passphrase of 16 characters or more works: it is stretched with SHA-256 into Fernet's 32 bytes."""
    from cryptography.fernet import Fernet

    text = _key_text() if key_text is None else key_text
    if not text:
        return None
    if len(text) < 16:
        raise CameraSourceError("camera_key is too short: use 16 characters or more (a random string)")
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()))


def key_configured() -> bool:
    """Whether this process can store and read camera passwords."""
    try:
        return _fernet() is not None
    except CameraSourceError:
        return False


# --- parsing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedSource:
    """A source split into what may be shown (``clean``) and the credentials (``userinfo``, or None)."""

    kind: str  # url | file | device
    clean: str
    userinfo: str | None = None


def split_source(source: str) -> ParsedSource:
    """Check ``source`` and split a URL's ``user:password@`` off (``CameraSourceError`` when unusable)."""
    text = (source or "").strip()
    if not text:
        raise CameraSourceError(
            "the source is empty: give an RTSP/HTTP URL, a video file path or a webcam index"
        )
    if len(text) > MAX_SOURCE_CHARS:
        raise CameraSourceError(f"the source is longer than {MAX_SOURCE_CHARS} characters")
    if any(ord(c) < 32 for c in text):
        raise CameraSourceError("the source holds a control character")
    if text.isdigit():
        if int(text) > 99:
            raise CameraSourceError(f"webcam index {text} is out of range (0 to 99)")
        return ParsedSource("device", str(int(text)))
    if "://" in text:
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise CameraSourceError(f"not a valid URL: {mask_source(text)} ({exc})") from None
        if parts.scheme.lower() not in URL_SCHEMES:
            raise CameraSourceError(
                f"unsupported URL scheme {parts.scheme!r}: use one of {', '.join(URL_SCHEMES)}"
            )
        if not parts.hostname:
            raise CameraSourceError(f"the URL names no host: {mask_source(text)}")
        userinfo, _, hostport = parts.netloc.rpartition("@")
        clean = urlunsplit((parts.scheme.lower(), hostport, parts.path, parts.query, parts.fragment))
        return ParsedSource("url", clean, userinfo or None)
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute():
        return ParsedSource("file", text)
    raise CameraSourceError(
        f"{text!r} is not a source: give an rtsp:// or http(s):// URL, an absolute video file path "
        "(as the serving host sees it) or a webcam index such as 0"
    )


def parse_hosts(text: str | None) -> tuple[str, ...]:
    """Host names from a comma- or space-separated list (empty: any host may serve the camera)."""
    names = [h for h in re.split(r"[,\s]+", (text or "").strip()) if h]
    if len(names) > MAX_HOSTS:
        raise CameraSourceError(f"at most {MAX_HOSTS} hosts")
    for name in names:
        if not HOST_NAME.match(name):
            raise CameraSourceError(f"{name!r} is not a host name (letters, digits, '.', '-' and '_')")
    return tuple(dict.fromkeys(names))


def host_may_serve(serve_hosts: str | None, hostname: str | None = None) -> bool:
    """Whether ``hostname`` (default: this host) may serve a camera with these ``serve_hosts``.

    A name matches case-insensitively, and a short name matches a full one (``cam-host`` and
    ``cam-host.school.lan``)."""
    allowed = parse_hosts(serve_hosts)
    if not allowed:
        return True
    me = (hostname or socket.gethostname()).lower()
    short = me.split(".")[0]
    return any(h.lower() in (me, short) or h.lower().split(".")[0] == short for h in allowed)


# --- the store -------------------------------------------------------------------------------------


def set_camera_source(
    db: Session, cam: Camera, source: str | None, hosts: str | None, *, keep_password: bool
) -> None:
    """Store ``source`` and ``hosts`` on ``cam``.

    Credentials typed in the URL replace the stored ones (encrypted; refused without a camera_key). A URL
    typed without credentials keeps the stored ones when ``keep_password`` (the page shows the URL without
    them, so saving it unchanged must not drop them), else clears them. An empty ``source`` clears all."""
    host_list = parse_hosts(hosts)
    if not (source or "").strip():
        cam.configured_source, cam.source_credentials = None, None
        cam.serve_hosts = ",".join(host_list) or None
        return
    parsed = split_source(source)
    if parsed.userinfo is not None:
        fernet = _fernet()
        if fernet is None:
            raise CameraSourceError(
                "this URL holds a user name or password, and no camera_key is configured to encrypt it: "
                "set CLASSROOM_MONITOR_CAMERA_KEY (16+ random characters) for the dashboard and serve, "
                "or give the URL without credentials"
            )
        cam.source_credentials = fernet.encrypt(parsed.userinfo.encode()).decode()
    elif not (keep_password and parsed.kind == "url" and parsed.clean == cam.configured_source):
        cam.source_credentials = None
    cam.configured_source = parsed.clean
    cam.serve_hosts = ",".join(host_list) or None


def _decrypt(token: str) -> str:
    from cryptography.fernet import InvalidToken

    fernet = _fernet()
    if fernet is None:
        raise CameraSourceError(
            "the camera's password is stored encrypted, and this process has no camera_key"
        )
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise CameraSourceError(
            "the camera's stored password cannot be decrypted with this process's camera_key "
            "(a different key?): set the source again on the admin page"
        ) from None


def openable_source(cam: Camera) -> str | None:
    """The source a worker opens for ``cam``: credentials decrypted back in (None: no source set).

    Raises ``CameraSourceError`` when credentials are stored and cannot be decrypted here."""
    if not cam.configured_source:
        return None
    if not cam.source_credentials:
        return cam.configured_source
    userinfo = _decrypt(cam.source_credentials)
    scheme, _, rest = cam.configured_source.partition("://")
    return f"{scheme}://{userinfo}@{rest}"


def camera_source_url(db: Session, camera_id: int) -> str | None:
    """The openable source of camera ``camera_id`` (credentials included), for internal use only.

    None for an unknown camera or one without a source set on the admin page; ``CameraSourceError`` when its
    credentials cannot be decrypted by this process."""
    cam = db.get(Camera, camera_id)
    return None if cam is None else openable_source(cam)


def source_view(cam: Camera) -> dict:
    """What a page or the API may show of ``cam``'s source: never the credentials."""
    return {
        "source": cam.configured_source,
        "password_set": bool(cam.source_credentials),
        "hosts": list(parse_hosts(cam.serve_hosts)),
    }


# --- a serve config file's source (recorded by serve: monitor.store.config_file_cameras) ------------


@dataclass(frozen=True)
class FileSource:
    """A camera's source as a serve's config file sets it: masked, the serve's host, when recorded."""

    source: str
    host: str
    recorded_at: datetime | None


def file_source_of(cam: Camera) -> FileSource | None:
    """Where ``cam``'s source is set in a serve config file (None: it is not)."""
    if not cam.file_host:
        return None
    return FileSource(cam.file_source or "", cam.file_host, cam.file_recorded_at)


def file_source_view(cam: Camera) -> dict | None:
    """What a page or the API may show of it (the source is stored masked already)."""
    found = file_source_of(cam)
    if found is None:
        return None
    at = found.recorded_at.isoformat() if found.recorded_at else None
    return {"source": found.source, "host": found.host, "recorded_at": at}
