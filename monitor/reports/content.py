"""What a report says, gathered once from the store and worded once, for the JSON, PDF and HTML renderers."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.labels import EMOTIONS
from monitor.privacy import Privacy
from monitor.store.queries import (
    PeopleInView,
    TimelineBucket,
    auto_bucket_seconds,
    people_in_view,
    session_dict,
    session_timeline,
    track_summaries,
)
from monitor.store.schema import Camera, ClassSession, ModelVersion, utcnow

LOW_PERIODS = 3
"""How many periods of lowest attention the headline names."""
PERIODS_PER_SESSION = 12
"""The session is cut into about this many periods to find the low-attention ones."""
MIN_PERIODS = 6
"""Below this many periods with faces the session is too short to single any out."""
LOW_MARGIN = 0.05
"""A period counts as low only when its attention is this far below the session mean."""
TABLE_TRACKS = 15
"""Rows of the per-track table in PDF/HTML (the longest in view); JSON lists every track."""

NOTE_EMOTION = (
    "The expression figures come from software that scores each visible face, "
    "frame by frame, for seven facial expressions, and that is right on only part of the faces it is "
    "tested on (see the measured accuracy above). A facial expression is not a feeling: people look "
    "neutral while interested and smile while confused, and lighting, angle and glasses all change the "
    "score. The figures are therefore meaningful only as an aggregated signal for the whole class over "
    "minutes, never as a measure of what any one student feels. Tracks are anonymous and are not linked "
    "to names. Do not use this report for grading, discipline or any decision about an individual."
)
NOTE_ATTENTION = (
    "This session ran in attention-only mode: the software estimated only how "
    "squarely each visible face was turned towards the front of the room. Looking away is not the same as "
    "not paying attention (students take notes, read and think), and angle, lighting and seating change "
    "the score. The figures are meaningful only as an aggregated signal for the whole class over minutes. "
    "Tracks are anonymous and are not linked to names. Do not use this report for grading, discipline or "
    "any decision about an individual."
)


@dataclass
class Period:
    """A stretch of the session with its mean attention (0..1)."""

    start: datetime
    end: datetime
    attention: float


@dataclass
class ReportContent:
    """Everything a report shows about one session; ``emotion`` is False in attention-only sessions."""

    session: dict
    camera: str
    emotion: bool
    generated_at: datetime
    data_until: datetime
    bucket_s: int
    timeline: list[TimelineBucket]
    tracks: list[dict]
    class_only: bool
    model: dict | None
    mean_engagement: float | None
    mean_attention: float | None
    engagement_thirds: list[float | None]
    emotion_shares: dict[str, float] | None
    low_periods: list[Period] = field(default_factory=list)
    people: PeopleInView | None = None  # typical and peak people in view (per-second rollups)

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
    def note(self) -> str:
        return NOTE_EMOTION if self.emotion else NOTE_ATTENTION


def model_info(db: Session, version: str | None, models_dir: Path | None) -> dict | None:
    """Version, accuracy and macro-F1 of a model: from the registry table, else its ``metrics.json``."""
    if not version:
        return None
    info: dict = {"version": version, "accuracy": None, "macro_f1": None}
    row = db.scalars(select(ModelVersion).where(ModelVersion.version == version)).first()
    if row is not None:
        info.update(accuracy=row.accuracy, macro_f1=row.macro_f1)
    if info["accuracy"] is None and Path(version).name == version:
        if models_dir is None:
            from monitor.config import Settings

            models_dir = Settings().models_dir
        try:
            metrics = json.loads((Path(models_dir) / version / "metrics.json").read_text())
            info["accuracy"] = _fraction(metrics.get("accuracy"))
            info["macro_f1"] = (
                info["macro_f1"] if info["macro_f1"] is not None else _fraction(metrics.get("macro_f1"))
            )
        except (OSError, ValueError, AttributeError):
            pass
    return info


def _fraction(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _weighted(pairs: list[tuple[float | None, int]]) -> float | None:
    total = sum(w for v, w in pairs if v is not None)
    return sum(v * w for v, w in pairs if v is not None) / total if total else None


def _thirds(content_start: datetime, span_s: float, timeline: list[TimelineBucket]) -> list[float | None]:
    groups: list[list[tuple[float | None, int]]] = [[], [], []]
    for b in timeline:
        pos = (b.start - content_start).total_seconds() / span_s if span_s > 0 else 0.0
        groups[min(max(int(pos * 3), 0), 2)].append((b.engagement, b.frames))
    return [_weighted(g) for g in groups]


def low_attention_periods(periods: list[TimelineBucket], period_s: int, n: int = LOW_PERIODS) -> list[Period]:
    """Up to ``n`` periods of attention clearly below the session mean, lowest first chosen, in time order.

    Periods much shorter than the typical one (the ragged end of a session) are ignored; neighbouring
    choices are merged into one stretch.
    """
    usable = [p for p in periods if p.attention is not None and p.faces]
    if len(usable) < MIN_PERIODS:
        return []
    typical = sorted(p.frames for p in usable)[len(usable) // 2]
    usable = [p for p in usable if p.frames >= 0.25 * typical]
    mean = sum(p.attention * p.faces for p in usable) / sum(p.faces for p in usable)
    below = [p for p in usable if p.attention < mean - LOW_MARGIN]
    chosen = sorted(sorted(below, key=lambda p: p.attention)[:n], key=lambda p: p.start)
    step = timedelta(seconds=period_s)
    merged: list[tuple[datetime, datetime, float, int]] = []  # start, end, attention sum, faces
    for p in chosen:
        if merged and merged[-1][1] == p.start:
            start, _, att, faces = merged[-1]
            merged[-1] = (start, p.start + step, att + p.attention * p.faces, faces + p.faces)
        else:
            merged.append((p.start, p.start + step, p.attention * p.faces, p.faces))
    return [Period(start, end, att / faces) for start, end, att, faces in merged]


def load_content(db: Session, session_id: int, *, models_dir: Path | None = None) -> ReportContent:
    """Read one session's metadata, timeline, tracks and model, and work out the headline figures."""
    cs = db.get(ClassSession, session_id)
    if cs is None:
        raise LookupError(f"no session {session_id}")
    info = session_dict(cs)
    camera = db.get(Camera, cs.camera_id)
    privacy = Privacy.load(db)
    # The site's settings now decide what a report may show, whatever the session ran in.
    emotion = cs.mode == "emotion" and privacy.emotions
    info["mode"] = "emotion" if emotion else "attention"  # what this report may show, not what ran
    bucket_s, timeline = session_timeline(db, session_id)
    if not emotion:
        timeline = [dataclasses.replace(b, emotions=None) for b in timeline]
    data_until = (timeline[-1].start + timedelta(seconds=bucket_s)) if timeline else cs.started_at
    if cs.ended_at is not None:
        data_until = min(data_until, cs.ended_at) if timeline else cs.ended_at
    elif timeline:
        data_until = min(data_until, utcnow())
    span_s = ((cs.ended_at or data_until) - cs.started_at).total_seconds()
    period_s = max(auto_bucket_seconds(span_s, target=PERIODS_PER_SESSION), bucket_s)
    _, periods = session_timeline(db, session_id, bucket_s=period_s)

    tracks = track_summaries(db, session_id)
    class_only = not privacy.tracks
    if class_only:
        tracks = []
    if not emotion:
        tracks = [{k: v for k, v in t.items() if k not in ("emotions", "dominant")} for t in tracks]

    shares = None
    if emotion:
        faces = sum(b.faces for b in timeline if b.emotions)
        if faces:
            shares = {
                e: sum(b.emotions[e] * b.faces for b in timeline if b.emotions) / faces for e in EMOTIONS
            }
    return ReportContent(
        session=info,
        camera=camera.name if camera else f"camera {cs.camera_id}",
        emotion=emotion,
        generated_at=utcnow(),
        data_until=data_until,
        bucket_s=bucket_s,
        timeline=timeline,
        tracks=tracks,
        class_only=class_only,
        model=model_info(db, cs.model_version, models_dir) if emotion else None,
        mean_engagement=_weighted([(b.engagement, b.frames) for b in timeline]),
        mean_attention=_weighted([(b.attention, b.faces) for b in timeline]),
        engagement_thirds=_thirds(cs.started_at, span_s, timeline),
        emotion_shares=shares,
        low_periods=low_attention_periods(periods, period_s),
        people=people_in_view(db, session_id),
    )


# ---- wording shared by the PDF and the HTML ----------------------------------------------------------


def local(dt: datetime) -> datetime:
    """A timestamp in the server's local time zone, the one the teachers' clocks show."""
    return dt.astimezone()


def clock(dt: datetime, seconds: bool = False) -> str:
    return local(dt).strftime("%H:%M:%S" if seconds else "%H:%M")


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" if minutes >= 10 or not s else f"{minutes} min {s} s"
    hours, m = divmod(minutes, 60)
    return f"{hours} h {m:02d} min"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def when_text(c: ReportContent) -> str:
    """``Sat 21 Nov 2026, 09:00–09:45 (45 min, UTC+01:00)``; 'in progress' while the session runs."""
    short = c.duration_s < 600
    start = local(c.started)
    day = start.strftime("%a %d %b %Y")
    zone = start.strftime("UTC%z")
    zone = f"{zone[:-2]}:{zone[-2:]}" if len(zone) > 5 else zone
    if c.in_progress:
        return (
            f"{day}, started {clock(c.started, short)}, in progress: data up to "
            f"{clock(c.data_until, True)} ({duration_text(c.duration_s)}, {zone})"
        )
    end = datetime.fromisoformat(c.session["ended_at"])
    return f"{day}, {clock(c.started, short)}–{clock(end, short)} ({duration_text(c.duration_s)}, {zone})"


def period_text(p: Period, short: bool) -> str:
    return f"{clock(p.start, short)}–{clock(p.end, short)} ({pct(p.attention)} attention)"


def headline(c: ReportContent) -> list[str]:
    """The summary a teacher reads first, as short plain sentences."""
    if not c.timeline:
        return ["No faces or frames have been stored for this session yet."]
    lines = []
    if c.emotion and c.emotion_shares:
        top = sorted(c.emotion_shares.items(), key=lambda kv: kv[1], reverse=True)[:3]
        moods = ", ".join(f"{label} {pct(share)}" for label, share in top)
        lines.append(f"Dominant expressions across the class: {moods}.")
    thirds = c.engagement_thirds
    detail = ""
    if all(v is not None for v in thirds):
        first, middle, last = (pct(v) for v in thirds)
        detail = f": {first} in the first third, {middle} in the middle, {last} in the last"
    lines.append(f"Engagement index averaged {pct(c.mean_engagement)} over the session{detail}.")
    lines.append(f"Faces turned to the front of the room: {pct(c.mean_attention)} on average.")
    if c.low_periods:
        short = c.duration_s < 600
        periods = "; ".join(period_text(p, short) for p in c.low_periods)
        lines.append(f"Lowest attention: {periods}.")
    if c.people is not None and c.people.seconds:
        tracks = c.session["tracks"]
        lines.append(
            f"People in view: {c.people.text()}; {tracks} anonymous track{'s' * (tracks != 1)} in all."
        )
    heads = heads_up_text(c.session, c.timeline)
    if heads:
        lines.append(heads)
    return lines


def heads_up_text(session: dict, timeline: list[TimelineBucket]) -> str | None:
    """The session's heads-up line ("Heads up: 62% of 26 (class size); ..."); None before it was measured."""
    rows = [b for b in timeline if b.frames and b.heads_up is not None]
    frames = sum(b.frames for b in rows)
    if not frames or not session.get("attention_basis"):
        return None
    up, down, away = (
        sum(getattr(b, k) * b.frames for b in rows) / frames
        for k in ("heads_up", "heads_down", "turned_away")
    )
    of = (
        f"of {session['class_size']} (class size)"
        if session["attention_basis"] == "class_size"
        else "of the people in view"
    )
    return f"Heads up: {pct(up)} {of}; heads down {pct(down)}, turned away {pct(away)}."


def model_text(c: ReportContent) -> str:
    """One line on the model behind the figures."""
    if not c.emotion:
        detector = c.session.get("detector") or "default"
        return (
            f"Attention-only mode: only face position and orientation were estimated (detector: {detector})."
        )
    if c.model is None:
        return "Expression model: not recorded for this session."
    acc = c.model.get("accuracy")
    f1 = c.model.get("macro_f1")
    measured = "accuracy not measured" if acc is None else f"measured test accuracy {pct(acc)}"
    if f1 is not None:
        measured += f", macro-F1 {f1:.2f}"
    return f"Expression model {c.model['version']}: {measured}."
