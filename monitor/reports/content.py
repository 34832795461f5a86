"""What a report says, gathered once from the store and worded once, for the JSON, PDF and HTML renderers."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.locales import N_, gettext_for, long_date
from monitor.locales import duration as locale_duration
from monitor.views.audience import Audience
from monitor.views.lesson import LessonReport, lesson_report
from monitor.views.summary import pct, summary_lines

TABLE_TRACKS = 15
"""Rows of the per-track table in PDF/HTML (the longest in view); JSON lists every track."""

NOTE_EMOTION = N_(
    "The expression figures come from software that scores each visible face, "
    "frame by frame, for seven facial expressions, and that is right on only part of the faces it is "
    "tested on (see the measured accuracy above). A facial expression is not a feeling: people look "
    "neutral while interested and smile while confused, and lighting, angle and glasses all change the "
    "score. The figures are therefore meaningful only as an aggregated signal for the whole class over "
    "minutes, never as a measure of what any one student feels. Tracks are anonymous and are not linked "
    "to names. Do not use this report for grading, discipline or any decision about an individual."
)
NOTE_ATTENTION = N_(
    "This session ran in attention-only mode: the software estimated only how "
    "squarely each visible face was turned towards the front of the room. Looking away is not the same as "
    "not paying attention (students take notes, read and think), and angle, lighting and seating change "
    "the score. The figures are meaningful only as an aggregated signal for the whole class over minutes. "
    "Tracks are anonymous and are not linked to names. Do not use this report for grading, discipline or "
    "any decision about an individual."
)


class ReportContent(LessonReport):
    """Everything a report shows about one session (``monitor.views.lesson.lesson_report``: gathered and
    filtered there), with the report's wording: its note and ``gettext`` in the report's locale."""

    @property
    def note(self) -> str:
        return self.gettext(NOTE_EMOTION if self.emotion else NOTE_ATTENTION)

    @property
    def gettext(self):
        """``gettext`` in the report's locale."""
        return gettext_for(self.locale)


def load_content(
    db: Session,
    session_id: int,
    *,
    models_dir: Path | None = None,
    locale: str | None = None,
    audience: Audience | None = None,
) -> ReportContent:
    """One session's report as ``audience`` may see it (``monitor.views.lesson.lesson_report``); None: the
    site's settings now, in ``locale``, the requester's language (None: the site default)."""
    audience = audience or Audience.load(db, locale=locale)  # the site's rules, zone and language, once
    report = lesson_report(db, session_id, audience, models_dir=models_dir)
    return ReportContent(**{f.name: getattr(report, f.name) for f in fields(LessonReport)})


# ---- wording shared by the PDF and the HTML ----------------------------------------------------------


def local(dt: datetime, zone: tzinfo | None = None) -> datetime:
    """A timestamp in the school's time zone (``ReportContent.zone``; UTC when none is given)."""
    return timefmt.in_zone(dt, zone)


def clock(dt: datetime, seconds: bool = False, zone: tzinfo | None = None) -> str:
    return timefmt.clock(dt, zone, seconds)


duration_text = timefmt.duration


def when_text(c: ReportContent) -> str:
    """``Sat 21 Nov 2026, 09:00–09:45 (45 min, UTC+01:00)`` in the school's zone; 'in progress' while on."""
    short = c.duration_s < 600
    zone = timefmt.zone_offset(c.started, c.zone)
    if c.locale != "en":
        _ = c.gettext
        day = long_date(c.started, c.zone or timefmt.UTC_ZONE, c.locale)
        start, span = clock(c.started, short, c.zone), locale_duration(c.duration_s, c.locale)
        if c.in_progress:
            until = clock(c.data_until, True, c.zone)
            return _("%(day)s, started %(start)s, in progress: data up to %(until)s (%(span)s, %(zone)s)") % {
                "day": day,
                "start": start,
                "until": until,
                "span": span,
                "zone": zone,
            }
        end = clock(datetime.fromisoformat(c.session["ended_at"]), short, c.zone)
        return _("%(day)s, %(start)s–%(end)s (%(span)s, %(zone)s)") % {
            "day": day,
            "start": start,
            "end": end,
            "span": span,
            "zone": zone,
        }
    day = timefmt.day(c.started, c.zone)
    if c.in_progress:
        return (
            f"{day}, started {clock(c.started, short, c.zone)}, in progress: data up to "
            f"{clock(c.data_until, True, c.zone)} ({duration_text(c.duration_s)}, {zone})"
        )
    end = datetime.fromisoformat(c.session["ended_at"])
    return (
        f"{day}, {clock(c.started, short, c.zone)}–{clock(end, short, c.zone)} "
        f"({duration_text(c.duration_s)}, {zone})"
    )


def headline(c: ReportContent) -> list[str]:
    """The summary a teacher reads first: ``monitor.views.summary.summary_lines``, as on the session page."""
    return summary_lines(c, c.gettext)


def marker_lines(c: ReportContent) -> list[str]:
    """``09:05 · group work starts``: the lesson's markers at the school's clock, in time order."""
    short = c.duration_s < 600
    return [f"{clock(datetime.fromisoformat(m['at']), short, c.zone)} · {m['text']}" for m in c.markers]


def model_text(c: ReportContent) -> str:
    """One line on the model behind the figures."""
    _ = c.gettext
    if not c.emotion:
        detector = c.session.get("detector") or "default"
        return _(
            "Attention-only mode: only face position and orientation were estimated (detector: %(detector)s)."
        ) % {"detector": detector}
    if c.model is None:
        return _("Expression model: not recorded for this session.")
    acc = c.model.get("accuracy")
    f1 = c.model.get("macro_f1")
    measured = (
        _("accuracy not measured") if acc is None else _("measured test accuracy %(acc)s") % {"acc": pct(acc)}
    )
    if f1 is not None:
        measured += f", macro-F1 {f1:.2f}"
    return _("Expression model %(version)s: %(measured)s.") % {
        "version": c.model["version"],
        "measured": measured,
    }
