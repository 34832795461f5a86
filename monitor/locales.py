"""The languages the dashboard and the reports speak (the CLI stays English), and their catalogues.

``en`` and ``zh_Hans_CN`` (Simplified Chinese, China). The message catalogues are
``monitor/translations/<locale>/LC_MESSAGES/messages.po`` (committed; ``make i18n`` re-extracts them from
the templates and the code); :func:`compile_catalogues` builds their ``.mo`` files when a program first needs
them, so a fresh clone needs no extra set-up step.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterable
from datetime import datetime, tzinfo
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DEFAULT_LOCALE = "en"
LOCALES: tuple[str, ...] = ("en", "zh_Hans_CN")
LOCALE_TAGS: dict[str, str] = {"en": "en", "zh_Hans_CN": "zh-Hans-CN"}
"""Each locale's BCP 47 tag, for ``<html lang>`` and ``Content-Language``."""
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def match_locale(accepted: Iterable[str]) -> str | None:
    """The first of ``accepted`` (language tags, best first) that one of :data:`LOCALES` serves.

    Any Chinese tag (``zh``, ``zh-CN``, ``zh-Hans``...) gets Simplified Chinese, any English one English.
    """
    for tag in accepted:
        lang = tag.replace("_", "-").lower().split("-")[0]
        if lang == "zh":
            return "zh_Hans_CN"
        if lang == "en":
            return "en"
    return None


def normalise_locale(value: str) -> str | None:
    """``zh-CN``, ``zh_Hans_CN``, ``en-GB``... as one of :data:`LOCALES`; None when none fits."""
    if value in LOCALES:
        return value
    return match_locale([value]) if value and value.strip() else None


def compile_catalogues(source: Path = TRANSLATIONS_DIR) -> Path:
    """Compile each ``messages.po`` under ``source`` whose ``.mo`` is missing or older than it; return the
    folder holding the compiled catalogues (``source``, or a cache folder where ``source`` is read-only)."""
    target = source
    for po in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        try:
            with mo.open("wb") as f:
                write_mo(f, catalog)
        except OSError:
            target = Path(tempfile.gettempdir()) / "classroom-monitor-translations"
            out = target / po.relative_to(source).with_suffix(".mo")
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("wb") as f:
                write_mo(f, catalog)
    if target != source:  # every catalogue in one place
        for po in source.glob("*/LC_MESSAGES/messages.po"):
            out = target / po.relative_to(source).with_suffix(".mo")
            if not out.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
                with po.open("rb") as f, out.open("wb") as o:
                    write_mo(o, read_po(f, locale=po.parts[-3]))
    return target


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of ``locale`` (for code outside a Flask request: the reports)."""
    return Translations.load(str(compile_catalogues()), [locale if locale in LOCALES else DEFAULT_LOCALE])


def N_(message: str) -> str:  # noqa: N802 (the conventional name of a gettext marker)
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def gettext_for(locale: str):
    """A ``gettext`` function in ``locale``."""
    return translations(locale).gettext


def weekday_period(weekday: int, number: int, locale: str) -> str:
    """``Tue period 2`` / ``周二第2节`` (``weekday`` 0 is Monday)."""
    if locale == "zh_Hans_CN":
        return f"周{'一二三四五六日'[weekday]}第{number}节"
    return f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[weekday]} period {number}"


def long_date_time(dt: datetime, zone: tzinfo, locale: str) -> str:
    """``Tue 24 Nov 2026 10:52`` / ``2026年11月24日 周二 10:52`` in ``zone``."""
    if locale == "zh_Hans_CN":
        return format_datetime(dt, "y年M月d日 EEE HH:mm", tzinfo=zone, locale=Locale.parse(locale))
    return format_datetime(dt, "EEE d MMM y HH:mm", tzinfo=zone, locale="en")


def long_date(dt: datetime, zone: tzinfo, locale: str) -> str:
    """``Tue 24 Nov 2026`` / ``2026年11月24日 周二`` in ``zone``."""
    local = dt.astimezone(zone)
    if locale == "zh_Hans_CN":
        return format_date(local.date(), "y年M月d日 EEE", locale=Locale.parse(locale))
    return format_date(local.date(), "EEE d MMM y", locale="en")


def date_time(dt: datetime | None, zone: tzinfo, locale: str) -> str:
    """``monitor.timefmt.date_time`` in ``locale`` (an en dash for no time)."""
    from monitor import timefmt

    if dt is None or locale == "en":
        return timefmt.date_time(dt, zone)
    return long_date_time(timefmt.in_zone(dt, zone), zone, locale)


def duration(seconds: float | None, locale: str) -> str:
    """``monitor.timefmt.duration`` in ``locale``: ``2 min 22 s`` or ``2分22秒``, ``1小时05分``."""
    from monitor import timefmt

    if seconds is None or locale == "en":
        return timefmt.duration(seconds)
    total = int(round(max(seconds, 0.0)))
    if total < 60:
        return f"{total}秒"
    minutes, s = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}分钟" if minutes >= 10 or not s else f"{minutes}分{s}秒"
    hours, m = divmod(minutes, 60)
    return f"{hours}小时{m:02d}分"


def relative(dt: datetime | None, zone: tzinfo, locale: str, now: datetime | None = None) -> str:
    """``monitor.timefmt.relative`` in ``locale``: ``5 s ago`` / ``5秒前``, ``never`` / ``从未``."""
    from monitor import timefmt

    text = timefmt.relative(dt, zone, now)
    if locale == "en":
        return text
    if dt is None:
        return gettext_for(locale)("never")
    found = re.fullmatch(r"(\d+) (s|min|h) ago", text)
    if found is None:
        return date_time(dt, zone, locale)
    unit = {"s": "秒", "min": "分钟", "h": "小时"}[found.group(2)]
    return f"{found.group(1)}{unit}前"
