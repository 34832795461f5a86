"""The plain-language summary of one lesson ("how was my class?"): the figures and the sentences.

One source of truth: the session page (``monitor.views.lesson``) and every report (``monitor.reports``) call
``lesson_figures`` and ``summary_lines``, so they always say the same thing. Times are worded in the
school's time zone (``monitor.timefmt``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.orm import Session

from monitor import timefmt
from monitor.heads import HeadCount
from monitor.labels import EMOTIONS, FACES_TOO_SMALL
from monitor.locales import N_
from monitor.store.queries import (
    PeopleInView,
    TimelineBucket,
    auto_bucket_seconds,
    people_in_view,
    session_dict,
    session_timeline,
)
from monitor.store.retention import purged_note
from monitor.store.schema import ClassSession, utcnow

LOW_PERIODS = 3
"""How many periods of lowest attention the headline names."""
PERIODS_PER_SESSION = 12
"""The session is cut into about this many periods to find the low-attention ones."""
MIN_PERIODS = 6
"""Below this many periods with faces the session is too short to single any out."""
LOW_MARGIN = 0.05
"""A period counts as low only when its attention is this far below the session mean."""
NO_FACES = N_("No faces were detected in this lesson.")
NO_DATA_YET = N_("No faces or frames have been stored for this lesson yet.")
ENGAGEMENT_WITHHELD = N_(
    "The engagement index is hidden in attention-only mode: this lesson's index was not computed from "
    "attention alone."
)


@dataclass
class Period:
    """A stretch of the session with its mean attention (0..1)."""

    start: datetime
    end: datetime
    attention: float


@dataclass
class LessonFigures:
    """The headline figures of one session; ``emotion`` is False when expressions may not be shown."""

    session: dict
    emotion: bool
    zone: tzinfo
    bucket_s: int
    timeline: list[TimelineBucket]
    data_until: datetime
    mean_engagement: float | None
    mean_attention: (
        float | None
    )  # the heads-up share of the readable heads over the lesson (= heads.heads_up)
    engagement_thirds: list[float | None]
    emotion_shares: dict[str, float] | None
    low_periods: list[Period]
    people: PeopleInView | None
    engagement_withheld: bool  # attention-only mode and the lesson was recorded with expressions
    heads: HeadCount  # the heads-up share's base: heads read up, down, away, and unreadable

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.session["started_at"])

    @property
    def in_progress(self) -> bool:
        return bool(self.session["in_progress"])

    @property
    def duration_s(self) -> float:
        """Seconds covered: start to end, or to the newest stored data while the session runs."""
        end = self.data_until if self.in_progress else datetime.fromisoformat(self.session["ended_at"])
        return max((end - self.started).total_seconds(), 0.0)

    @property
    def faces_seen(self) -> bool:
        return any(b.faces for b in self.timeline)


def _weighted(pairs: list[tuple[float | None, int]]) -> float | None:
    total = sum(w for v, w in pairs if v is not None)
    return sum(v * w for v, w in pairs if v is not None) / total if total else None


def _thirds(content_start: datetime, span_s: float, timeline: list[TimelineBucket]) -> list[float | None]:
    groups: list[list[tuple[float | None, int]]] = [[], [], []]
    for b in timeline:
        pos = (b.start - content_start).total_seconds() / span_s if span_s > 0 else 0.0
        groups[min(max(int(pos * 3), 0), 2)].append((b.engagement, b.frames))
    return [_weighted(g) for g in groups]


def _regroup(
    timeline: list[TimelineBucket], origin: datetime, bucket_s: int, period_s: int
) -> list[TimelineBucket] | None:
    """The timeline in longer periods (frames, faces, attention), summed from its buckets: one read of the
    rollups instead of two. None when a period is not a whole number of buckets (read them again)."""
    if period_s % bucket_s:
        return None
    groups: dict[int, list] = {}
    for b in timeline:
        g = groups.setdefault(int((b.start - origin).total_seconds() // period_s), [0, 0, HeadCount()])
        g[0] += b.frames
        g[1] += b.faces
        g[2] += b.heads or HeadCount()
    return [
        TimelineBucket.of_heads(
            heads,
            start=origin + timedelta(seconds=k * period_s),
            frames=int(frames),
            faces=int(faces),
            faces_per_frame=faces / frames if frames else 0.0,
            engagement=None,
        )
        for k, (frames, faces, heads) in sorted(groups.items())
    ]


def low_attention_periods(periods: list[TimelineBucket], period_s: int, n: int = LOW_PERIODS) -> list[Period]:
    """Up to ``n`` periods of attention clearly below the session mean, lowest first chosen, in time order.

    Periods much shorter than the typical one (the ragged end of a session) are ignored; neighbouring
    choices are merged into one stretch.
    """
    usable = [p for p in periods if p.attention is not None and _weight(p)]
    if len(usable) < MIN_PERIODS:
        return []
    typical = sorted(p.frames for p in usable)[len(usable) // 2]
    usable = [p for p in usable if p.frames >= 0.25 * typical]
    mean = sum(p.attention * _weight(p) for p in usable) / sum(_weight(p) for p in usable)
    below = [p for p in usable if p.attention < mean - LOW_MARGIN]
    chosen = sorted(sorted(below, key=lambda p: p.attention)[:n], key=lambda p: p.start)
    step = timedelta(seconds=period_s)
    merged: list[tuple[datetime, datetime, float, int]] = []  # start, end, attention sum, weight
    for p in chosen:
        w = _weight(p)
        if merged and merged[-1][1] == p.start:
            start, _, att, weight = merged[-1]
            merged[-1] = (start, p.start + step, att + p.attention * w, weight + w)
        else:
            merged.append((p.start, p.start + step, p.attention * w, w))
    return [Period(start, end, att / weight) for start, end, att, weight in merged]


def _weight(b: TimelineBucket) -> int:
    """What a bucket's heads-up share rests on: its readable heads (faces, for rows older than the counts)."""
    return b.heads.readable if b.heads is not None and b.heads.per_frame() is not None else b.faces


def lesson_figures(
    db: Session, cs: ClassSession, *, emotion: bool, zone: tzinfo | None = None
) -> LessonFigures:
    """Read one session's timeline from its rollups and work out the headline figures.

    ``emotion``: whether expressions may be shown (the session ran in emotion mode and the site allows it);
    when False the timeline carries no expression shares, and a lesson recorded with emotions no engagement
    index either (``Privacy.for_lesson``).
    """
    bucket_s, timeline = session_timeline(db, cs.id)
    withheld = not emotion and cs.mode == "emotion"
    if withheld:
        timeline = [dataclasses.replace(b, emotions=None, engagement=None) for b in timeline]
    elif not emotion:
        timeline = [dataclasses.replace(b, emotions=None) for b in timeline]
    data_until = (timeline[-1].start + timedelta(seconds=bucket_s)) if timeline else cs.started_at
    if cs.ended_at is not None:
        data_until = min(data_until, cs.ended_at) if timeline else cs.ended_at
    elif timeline:
        data_until = min(data_until, utcnow())
    span_s = ((cs.ended_at or data_until) - cs.started_at).total_seconds()
    period_s = max(auto_bucket_seconds(span_s, target=PERIODS_PER_SESSION), bucket_s)
    periods = _regroup(timeline, cs.started_at.replace(microsecond=0), bucket_s, period_s)
    if periods is None:
        _, periods = session_timeline(db, cs.id, bucket_s=period_s)
    heads = sum((b.heads for b in timeline if b.heads is not None), HeadCount())
    shares = None
    if emotion:
        faces = sum(b.faces for b in timeline if b.emotions)
        if faces:
            shares = {
                e: sum(b.emotions[e] * b.faces for b in timeline if b.emotions) / faces for e in EMOTIONS
            }
    return LessonFigures(
        session=session_dict(cs),
        emotion=emotion,
        zone=zone or timefmt.UTC_ZONE,
        bucket_s=bucket_s,
        timeline=timeline,
        data_until=data_until,
        mean_engagement=_weighted([(b.engagement, b.frames) for b in timeline]),
        mean_attention=heads.heads_up,
        heads=heads,
        engagement_thirds=_thirds(cs.started_at, span_s, timeline),
        emotion_shares=shares,
        low_periods=low_attention_periods(periods, period_s),
        people=people_in_view(db, cs.id),
        engagement_withheld=withheld,
    )


# ---- wording --------------------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


Gettext = Callable[[str], str]
_CATALOGUE = (N_("faces too small to read expressions"),)
"""Strings defined elsewhere (``monitor.labels``) that the summary translates."""


def _english(text: str) -> str:
    return text


def period_text(p: Period, short: bool, zone: tzinfo | None = None, gettext: Gettext = _english) -> str:
    """``10:05–10:09 (41% heads up)``; ``short`` sessions (under 10 min) show seconds."""
    span = f"{timefmt.clock(p.start, zone, short)}–{timefmt.clock(p.end, zone, short)}"
    return gettext("%(span)s (%(share)s heads up)") % {"span": span, "share": pct(p.attention)}


def summary_lines(f: LessonFigures, gettext: Gettext = _english) -> list[str]:
    """The summary a teacher reads first, as short plain sentences (never "0%" for a lesson with no faces,
    never "no faces" for a lesson whose observations the retention policy deleted), in the language of
    ``gettext`` (``monitor.locales.gettext_for``; English by default)."""
    _ = gettext
    purged = purged_note(f.session.get("observations_purged_at"), f.zone, all_gone=not f.timeline)
    if not f.timeline:
        return [purged or _(NO_DATA_YET if f.in_progress else NO_FACES)]
    lines = [purged] if purged else []
    if not f.faces_seen:
        frames = f.session["frames"] or sum(b.frames for b in f.timeline)
        analysed = (
            _("%(n)s frames were analysed so far.") if f.in_progress else _("%(n)s frames were analysed.")
        )
        return [*lines, _(NO_FACES) + " " + analysed % {"n": frames}]
    if f.emotion and f.emotion_shares:
        top = sorted(f.emotion_shares.items(), key=lambda kv: kv[1], reverse=True)[:3]
        moods = _(", ").join(f"{_(label)} {pct(share)}" for label, share in top)
        lines.append(_("Dominant expressions across the class: %(moods)s.") % {"moods": moods})
    elif f.emotion:  # emotion mode, faces seen, none large enough to read (monitor.classify min_face_px)
        lines.append(_("Expressions: %(why)s.") % {"why": _(FACES_TOO_SMALL)})
    thirds = f.engagement_thirds
    lines.append(heads_up_text(f.session, f.heads, _))
    if f.engagement_withheld:
        lines.append(_(ENGAGEMENT_WITHHELD))
    elif all(v is not None for v in thirds):
        first, middle, last = (pct(v) for v in thirds)
        lines.append(
            _(
                "Engagement index averaged %(mean)s over the session: %(first)s in the first third, "
                "%(middle)s in the middle, %(last)s in the last."
            )
            % {"mean": pct(f.mean_engagement), "first": first, "middle": middle, "last": last}
        )
    else:
        lines.append(
            _("Engagement index averaged %(mean)s over the session.") % {"mean": pct(f.mean_engagement)}
        )
    if f.low_periods:
        short = f.duration_s < 600
        periods = _("; ").join(period_text(p, short, f.zone, _) for p in f.low_periods)
        lines.append(_("Lowest heads-up periods: %(periods)s.") % {"periods": periods})
    if f.people is not None and f.people.seconds:
        tracks = f.session["tracks"]
        people = _("typical %(typical)s, peak %(peak)s") % f.people.counts()
        line = (
            _("People in view: %(people)s; 1 anonymous track in all.")
            if tracks == 1
            else _("People in view: %(people)s; %(n)s anonymous tracks in all.")
        )
        lines.append(line % {"people": people, "n": tracks})
    return lines


def heads_up_text(session: dict, heads: HeadCount, gettext: Gettext = _english) -> str:
    """The lesson's heads-up line with its base: "Heads up: 15% of the readable heads (on average 3 of 18
    readable heads up; 5 not readable); heads down 50%, turned away 35%." Unknown heads never count as up."""
    _ = gettext
    shares = heads.shares()
    if shares is None:
        return (
            _("Heads up: not readable (no head in view could be read: faces too small or seen from behind).")
            if heads.frames
            else _("Heads up: no heads seen.")
        )
    up, down, away = (pct(v) for v in shares)
    size = _(", class of %(n)s") % {"n": session["class_size"]} if session.get("class_size") else ""
    return _(
        "Heads up: %(up)s of the readable heads (on average %(base)s%(size)s); heads down %(down)s, "
        "turned away %(away)s."
    ) % {"up": up, "base": heads.text(_), "size": size, "down": down, "away": away}
