"""The weekly digest: one mail per teacher, in the teacher's language, about the classes on their cameras.

For each class taught that week (a lesson label's class, ``monitor.store.lesson_stats.class_of``): its
lessons with their heads-up share and a link to each lesson page, the week's heads-up share against the
class's usual figure (the mean of its weekly figures over the ``USUAL_WEEKS`` weeks before), its lowest
periods and the markers set in its lessons. Every figure is the trends API's (``monitor.views.trends``),
read for the teacher's ``Audience``, so the privacy rules are the views' own: class-level figures only, no
track, no expression; the engagement index only where the trends API shows it.

``send_digests`` mails it (``serve`` on Monday morning, ``classroom-monitor digest --week`` on demand) and
records each teacher's week (``digests``), so that a week reaches a teacher once.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor import locales
from monitor.locales import gettext_for
from monitor.mail import Mail, MailError, MailSettings, send_all
from monitor.store import directory, lesson_stats, notifications
from monitor.store.markers import iso_z
from monitor.store.site_settings import all_settings
from monitor.views import trends
from monitor.views.audience import Audience

USUAL_WEEKS = 8
LOWEST = 3
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


class DigestError(ValueError):
    """A digest that cannot be made (a bad week); the message is meant for the user."""


def iso_week(day: date) -> str:
    """``2026-W49``: the ISO week ``day`` falls in."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday of ISO week ``2026-W49``; raises ``DigestError`` for anything else."""
    found = _WEEK.match(week.strip()) if isinstance(week, str) else None
    if found is None:
        raise DigestError(f"bad week {str(week)[:20]!r} (use YYYY-Www, e.g. 2026-W49)")
    try:
        return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError as exc:
        raise DigestError(f"bad week {week!r}: {exc}") from exc


def last_week(now: datetime, zone) -> str:
    """The ISO week before the one ``now`` falls in, in ``zone``."""
    return iso_week(now.astimezone(zone).date() - timedelta(days=7))


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def _at(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass
class ClassWeek:
    """One class's week, every figure as the trends API gives it."""

    label: str
    week: dict | None  # the trends API's weekly row of this week
    usual: float | None
    lessons: list[dict] = field(default_factory=list)  # the API's points of this week, oldest first

    @property
    def lowest(self) -> list[dict]:
        measured = [p for p in self.lessons if p["attention"] is not None]
        return sorted(measured, key=lambda p: (p["attention"], p["started_at"]))[:LOWEST]


def usual_figure(weekly: list[dict], monday: date) -> float | None:
    """A class's usual heads-up share before the week of ``monday``: the mean of its weekly figures (the
    trends API's ``weekly`` rows) over the ``USUAL_WEEKS`` weeks before, weeks without a figure left out."""
    first = (monday - timedelta(weeks=USUAL_WEEKS)).isoformat()
    before = [w["attention"] for w in weekly if first <= w["week"] < monday.isoformat()]
    before = [a for a in before if a is not None]
    return fmean(before) if before else None


def class_trend(db: Session, audience: Audience, label: str, monday: date) -> dict:
    """The trends API's answer for ``label``'s class from ``USUAL_WEEKS`` weeks before ``monday``'s week
    to its end."""
    since = _at(monday - timedelta(weeks=USUAL_WEEKS), audience.zone)
    return trends.trend(
        db, audience, label=label, start=since, end=_at(monday + timedelta(days=7), audience.zone)
    )


def class_weeks(db: Session, audience: Audience, monday: date) -> list[ClassWeek]:
    """The classes with lessons on the audience's cameras in the week of ``monday``, by label."""
    start, end = _at(monday, audience.zone), _at(monday + timedelta(days=7), audience.zone)
    ids = None if audience.camera_ids is None else list(audience.camera_ids)
    found = lesson_stats.find_lessons(db, ids, start=start, end=end)
    labels = sorted({lesson_stats.class_of(cs.label or "") or cs.label for cs in found})
    out = []
    for label in labels:
        trend = class_trend(db, audience, label, monday)
        weeks = {w["week"]: w for w in trend["weekly"]}
        points = [p for p in trend["points"] if iso_z(start) <= p["started_at"] < iso_z(end)]
        out.append(
            ClassWeek(label, weeks.get(monday.isoformat()), usual_figure(trend["weekly"], monday), points)
        )
    return out


@dataclass(frozen=True)
class Digest:
    user_id: int
    mail: Mail


def compose(db: Session, teacher: notifications.Recipient, week: str, base_url: str = "") -> Digest | None:
    """The digest of ``week`` for ``teacher`` (None when no class of theirs had a lesson that week)."""
    monday = week_monday(week)
    audience = Audience.load(db, directory.camera_ids_for_user(db, teacher.user_id), teacher.locale)
    classes = class_weeks(db, audience, monday)
    if not classes:
        return None
    _ = gettext_for(audience.locale)
    loc, zone = audience.locale, audience.zone
    first, last = _at(monday, zone), _at(monday + timedelta(days=6), zone)
    span = f"{locales.long_date(first, zone, loc)} – {locales.long_date(last, zone, loc)}"
    subject = _("Weekly digest: %(week)s") % {"week": span}
    text: list[str] = [subject, "=" * 20, ""]
    page: list[str] = [f"<h1>{html.escape(subject)}</h1>"]

    def link(p: dict) -> str:
        return f"{base_url}/sessions/{p['session_id']}"

    def lesson_line(p: dict) -> str:
        when = locales.date_time(datetime.fromisoformat(p["started_at"].replace("Z", "+00:00")), zone, loc)
        figures = _("heads up %(share)s") % {"share": _pct(p["attention"])}
        if p["engagement"] is not None:
            figures += ", " + _("engagement index %(value)s") % {"value": _pct(p["engagement"])}
        return f"{when} · {p['label']}: {figures}"

    for cw in classes:
        att = None if cw.week is None else cw.week["attention"]
        done = 0 if cw.week is None else cw.week["lessons"]
        summary = _("%(n)s lessons; heads up %(share)s (usual for this class: %(usual)s)") % {
            "n": done,
            "share": _pct(att),
            "usual": _pct(cw.usual),
        }
        if att is not None and cw.usual is not None:
            points = round((att - cw.usual) * 100)
            summary += " " + (_("%(n)s pts above usual") if points >= 0 else _("%(n)s pts below usual")) % {
                "n": abs(points)
            }
        text += [cw.label, "-" * len(cw.label), summary, ""]
        page += [f"<h2>{html.escape(cw.label)}</h2>", f"<p>{html.escape(summary)}</p>"]
        if cw.lowest:
            text.append(_("Lowest periods:"))
            page.append(f"<h3>{html.escape(_('Lowest periods:'))}</h3><ul>")
            for p in cw.lowest:
                text.append(f"  - {lesson_line(p)}")
                page.append(f"<li>{html.escape(lesson_line(p))}</li>")
            text.append("")
            page.append("</ul>")
        text.append(_("Lessons:"))
        page.append(f"<h3>{html.escape(_('Lessons:'))}</h3><ul>")
        for p in cw.lessons:
            text += [f"  - {lesson_line(p)}", f"    {link(p)}"]
            page.append(f'<li><a href="{html.escape(link(p))}">{html.escape(lesson_line(p))}</a></li>')
        text.append("")
        page.append("</ul>")
        marks = [(p, m) for p in cw.lessons for m in p["markers"]]
        if marks:
            text.append(_("Markers:"))
            page.append(f"<h3>{html.escape(_('Markers:'))}</h3><ul>")
            for p, m in marks:
                at = datetime.fromisoformat(m["at"].replace("Z", "+00:00"))
                line = f"{locales.date_time(at, zone, loc)} · {p['label']}: {m['text']}"
                text.append(f"  - {line}")
                page.append(f"<li>{html.escape(line)}</li>")
            text.append("")
            page.append("</ul>")
    footer = _(
        "Class-level figures from the classroom monitor; heads up: the share of readable heads facing up."
    )
    text.append(footer)
    page.append(f"<p><small>{html.escape(footer)}</small></p>")
    body = "\n".join(text) + "\n"
    doc = f'<!doctype html><html lang="{locales.LOCALE_TAGS[loc]}"><body>{"".join(page)}</body></html>'
    return Digest(teacher.user_id, Mail(teacher.email, subject, body, doc))


@dataclass
class Outcome:
    """What ``send_digests`` did: recipients mailed, already mailed before, without lessons, and failures."""

    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    digests: list[Digest] = field(default_factory=list)


def send_digests(
    factory: sessionmaker,
    week: str,
    *,
    trigger: str,
    smtp_password: str | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Compose ``week``'s digest for every teacher with an address, and (unless ``dry_run``) mail those not
    mailed yet and record them. Raises ``DigestError`` (bad week) or ``MailError`` (no mail server set, or
    unreachable)."""
    week_monday(week)
    out = Outcome()
    with notifications.reads_of(factory)() as db:  # composing never holds the write lock
        site = all_settings(db)
        for teacher in notifications.teachers(db):
            if not dry_run and notifications.digest_sent(db, week, teacher.user_id):
                out.already.append(teacher.email)
                continue
            digest = compose(db, teacher, week, site["base_url"])
            if digest is None:
                out.quiet.append(teacher.email)
            else:
                out.digests.append(digest)
    if dry_run or not out.digests:
        return out
    settings = MailSettings.from_site(site, smtp_password)
    if settings is None:
        raise MailError(
            "no mail server is set: set smtp_host and smtp_sender (classroom-monitor settings set)"
        )
    claimed = []
    for digest in out.digests:  # recorded first: two hosts' serve never both mail a teacher's week
        try:
            with factory.begin() as db:
                notifications.record_digest(db, week, digest.user_id, digest.mail.to, trigger)
            claimed.append(digest)
        except IntegrityError:
            out.already.append(digest.mail.to)
    try:
        results = send_all(settings, [d.mail for d in claimed])
    except MailError:
        with factory.begin() as db:
            for digest in claimed:
                notifications.forget_digest(db, week, digest.user_id)
        raise
    for digest in claimed:
        if error := results.get(digest.mail.to):
            out.errors[digest.mail.to] = error
            with factory.begin() as db:  # not delivered: the next try sends it
                notifications.forget_digest(db, week, digest.user_id)
        else:
            out.sent.append(digest.mail.to)
    return out
