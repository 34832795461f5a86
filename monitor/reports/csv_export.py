"""CSV, under the site's privacy settings.

Normally one row per stored observation, streamed from the database in batches so memory stays flat. In
class-only mode no per-track row may leave the server, so the CSV is the class timeline instead: one row per
second of the session: its heads-up share with the readable and unknown heads per frame. Per-face rows
carry each head's posture (up, down, away or unknown). Attention-only mode (site-wide now, or for the whole
session then) drops every emotion column.

A session with lesson markers gets a last column ``marker``: the text of the latest marker at or before the
row's time (empty before the first), so rows can be grouped by the phases the teacher marked; the JSON,
HTML and PDF reports list the markers themselves.

Times: ``timestamp`` (or ``second``) is UTC, ISO 8601 with its offset; the next column, ``school_time``, gives
the same instant on the school's clock (site setting ``timezone``, ``2026-11-20 17:00:00.500``, no offset, as
spreadsheets read it). Shares and probabilities are rounded to ``DIGITS`` decimals. A byte-order mark for
Excel is added by ``monitor.reports.render`` (on by default for a Chinese reader).

Text cells that a spreadsheet would run as a formula (a marker ``=HYPERLINK(...)``) are neutralised here, for
the dashboard's download, ``export`` and bulk zips alike (:func:`neutralise_formula`). Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo
from itertools import chain

from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.labels import EMOTIONS
from monitor.store.markers import list_markers
from monitor.store.observations import BATCH_ROWS, has_observations, observation_rows
from monitor.store.queries import TimelineBucket, session_timeline
from monitor.store.retention import purged_note
from monitor.store.schema import PROB_COLUMNS, ClassSession
from monitor.views import lesson as lesson_view
from monitor.views.audience import Audience

DIGITS = 4
"""Decimals kept for shares and probabilities (0.1234 = 12.34%): stored floats carry 17 digits of noise."""
SCHOOL_TIME = "school_time"

EMOTION_COLUMNS: tuple[str, ...] = ("top_label", "confidence", *PROB_COLUMNS)
CLASS_COLUMNS: tuple[str, ...] = (
    "second",
    "frames",
    "people_per_frame",
    "heads_up",  # share of the readable heads that are up (monitor/heads.py); empty when none was readable
    "readable_heads_per_frame",
    "unknown_heads_per_frame",
    "engagement",
)

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection")."""


def neutralise_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it but never runs it: one that begins with ``= + - @``, tab or CR
    gets a leading single quote (OWASP's advice for CSV injection); any other text is returned as it is."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_columns(mode: str, *, class_only: bool = False) -> list[str]:
    """Header of the CSV of a session whose emotions may be shown (``mode`` emotion) or not."""
    if class_only:
        return [*CLASS_COLUMNS, *(f"share_{e}" for e in EMOTIONS)] if mode == "emotion" else [*CLASS_COLUMNS]
    emotion = list(EMOTION_COLUMNS) if mode == "emotion" else []
    return ["timestamp", "frame_index", "track_id", *emotion, "attention", "posture"]


def marker_phase(markers: list[dict]) -> Callable[[datetime], str]:
    """A row's time -> the text of the latest marker at or before it ('' before the first)."""
    times = [datetime.fromisoformat(m["at"]) for m in markers]
    texts = [neutralise_formula(m["text"]) for m in markers]

    def phase(ts: datetime) -> str:
        i = bisect_right(times, ts)
        return texts[i - 1] if i else ""

    return phase


def _base(b: TimelineBucket) -> tuple[float | None, float | None]:
    """Readable and not-readable heads per frame in a one-second bucket (empty for rows older than them)."""
    base = None if b.heads is None else b.heads.per_frame()
    return (None, None) if base is None else (round(base[0], 2), round(base[1], 2))


def _rounded(value: object) -> object:
    return round(value, DIGITS) if isinstance(value, float) else value


def _school_time(ts: datetime, zone: tzinfo, ms: bool) -> str:
    local = timefmt.in_zone(ts, zone)
    return local.strftime("%Y-%m-%d %H:%M:%S") + (f".{local.microsecond // 1000:03d}" if ms else "")


def _text_cell(value: str | None) -> str | None:
    return neutralise_formula(value) if isinstance(value, str) else value


def _lines(writer_rows: Iterable[Iterable], header: list[str]) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    yield buf.getvalue().encode()
    for part in writer_rows:
        buf.seek(0)
        buf.truncate()
        writer.writerows(part)
        yield buf.getvalue().encode()


def iter_csv(
    db: Session, session_id: int, batch_rows: int = BATCH_ROWS, audience: Audience | None = None
) -> Iterator[bytes]:
    """Yield the session's CSV (UTF-8, header first) in chunks, as ``audience`` may see it (default: the
    site's settings now)."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    audience = audience or Audience.load(db)
    shown = lesson_view.shown(audience, cs.mode)
    mode = shown.mode
    header = csv_columns(mode, class_only=not shown.tracks)
    markers = list_markers(db, session_id)
    phase = marker_phase(markers)
    if markers:
        header.append("marker")
    # A lesson the retention policy purged says so in a first row, where its deleted (oldest) rows were.
    zone = audience.zone
    columns = [header[0], SCHOOL_TIME, *header[1:]]
    purged = _purged_rows(db, cs, len(columns), zone)
    if not shown.tracks:
        _, buckets = session_timeline(db, session_id, bucket_s=1)
        engagement_shown = shown.engagement
        rows = (
            (
                b.start.isoformat(timespec="seconds"),
                _school_time(b.start, zone, ms=False),
                b.frames,
                round(b.faces_per_frame, 3),
                _rounded(b.heads_up),
                *(_base(b)),
                _rounded(b.engagement) if engagement_shown else None,
                *(_rounded((b.emotions or {}).get(e)) for e in EMOTIONS if mode == "emotion"),
                *((phase(b.start),) if markers else ()),
            )
            for b in buckets
        )
        yield from _lines([*purged, rows], columns)
        return
    cols = header[1 : len(header) - bool(markers)]
    label_at = header.index("top_label") if "top_label" in header else None

    def parts() -> Iterator[Iterable]:
        # Read only after the header is out: the dashboard sends the first chunk before it streams the
        # rest (observation_rows is a generator). Floats are rounded to DIGITS decimals.
        for part in observation_rows(db, session_id, cols, batch_rows):
            if label_at is not None:
                # A stored label is one of EMOTIONS unless the database was written by hand.
                part = [(*r[:label_at], _text_cell(r[label_at]), *r[label_at + 1 :]) for r in part]
            yield (
                (
                    row[0].isoformat(timespec="milliseconds"),
                    _school_time(row[0], zone, ms=True),
                    *map(_rounded, row[1:]),
                    *((phase(row[0]),) if markers else ()),
                )
                for row in part
            )

    yield from _lines(chain(purged, parts()), columns)


def _purged_rows(db: Session, cs: ClassSession, width: int, zone: tzinfo) -> list[list[list[str]]]:
    """One part of one row, "Observations deleted by the retention policy on ...", or none."""
    if cs.observations_purged_at is None:
        return []
    note = purged_note(cs.observations_purged_at, zone, all_gone=not has_observations(db, cs.id))
    return [[[note, *[""] * (width - 1)]]]
