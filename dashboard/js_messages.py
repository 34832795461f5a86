"""The strings the dashboard's JavaScript draws, in English: the catalogue's keys for the browser.

Each page hands them, translated into the request's locale, to ``common.js`` in a JSON data block
(``#i18n-data``); the scripts look them up with ``CM.t("…")``. ``{name}`` placeholders are filled in by
the script. Extracted into the catalogue with the other strings (``make i18n``).
"""

from __future__ import annotations

from dashboard.i18n import N_

JS_MESSAGES: tuple[str, ...] = (
    N_("never"),
    N_("{n} s ago"),
    N_("{n} min ago"),
    N_("{n} h ago"),
)
