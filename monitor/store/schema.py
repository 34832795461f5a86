"""SQLAlchemy 2 schema: the one description of what the service stores.

Alembic migrations in ``migrations/`` create exactly these tables; a test checks the two never drift.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from monitor.labels import EMOTIONS


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A DateTime that always comes back timezone-aware in UTC (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware timestamps only")
        value = value.astimezone(UTC)
        # SQLite stores text: drop the zone so values sort and compare as plain ISO strings.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY, so big ids are BIGINT elsewhere and INTEGER there.
BigId = BigInteger().with_variant(Integer, "sqlite")

PROB_COLUMNS: tuple[str, ...] = tuple(f"p_{e}" for e in EMOTIONS)
"""Observation/rollup column names of the 7 class probabilities, in EMOTIONS order."""


class Base(DeclarativeBase):
    pass


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str | None] = mapped_column(String(500))
    # online | reconnecting | offline
    status: Mapped[str] = mapped_column(String(20), default="offline")
    status_detail: Mapped[str | None] = mapped_column(String(500))
    last_heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Classroom set-up (monitor/cameras.py): students in the room (None: count the people in view), the wall
    # the camera hangs on, the head pose that faces the board (auto: learned; fixed: set by an admin) and
    # the region of interest as JSON {"ignore": [[x, y, w, h], ...], "include": [...]} in 0..1 coordinates.
    class_size: Mapped[int | None] = mapped_column(Integer)
    mounting: Mapped[str] = mapped_column(String(10), default="front", server_default="front")
    board_mode: Mapped[str] = mapped_column(String(10), default="auto", server_default="auto")
    board_yaw: Mapped[float | None] = mapped_column(Float)
    board_pitch: Mapped[float | None] = mapped_column(Float)
    roi: Mapped[str | None] = mapped_column(Text)
    # The source an admin set on the admin page (monitor/store/camera_sources.py): a URL WITHOUT its
    # user:password, a file path or a webcam index; the user:password part apart, Fernet-encrypted with the
    # process setting camera_key (never stored in clear); the hosts that may serve it (comma-separated,
    # empty: any). ``source`` above is what a worker last reported it opened (credentials masked).
    configured_source: Mapped[str | None] = mapped_column(String(1000))
    source_credentials: Mapped[str | None] = mapped_column(Text)
    serve_hosts: Mapped[str | None] = mapped_column(String(500))
    # A camera a serve runs from its config file ([[cameras]] source = ...), recorded by that serve at its
    # start (monitor/store/config_file_cameras.py): the file's source, masked; the serve's host; when. Such a
    # camera runs the file's source, never configured_source.
    file_source: Mapped[str | None] = mapped_column(String(1000))
    file_host: Mapped[str | None] = mapped_column(String(200))
    file_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[ClassSession]] = relationship(back_populates="camera")


class ClassSession(Base):
    """One lesson seen by one camera: from worker start (or --session) to its end."""

    __tablename__ = "class_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # emotion | attention  (attention-only: no emotion was inferred)
    mode: Mapped[str] = mapped_column(String(20), default="emotion")
    model_version: Mapped[str | None] = mapped_column(String(100))
    detector: Mapped[str | None] = mapped_column(String(50))
    frames: Mapped[int] = mapped_column(Integer, default=0)
    faces: Mapped[int] = mapped_column(Integer, default=0)
    tracks: Mapped[int] = mapped_column(Integer, default=0)
    # Denominator of the heads-up ratio: class_size (the camera's, copied here) or in_view (people seen)
    attention_basis: Mapped[str | None] = mapped_column(String(20))
    class_size: Mapped[int | None] = mapped_column(Integer)
    # When the retention purge deleted (some of) this lesson's observations (monitor.store.retention)
    observations_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    camera: Mapped[Camera] = relationship(back_populates="sessions")


class SessionMode(Base):
    """The privacy mode a session ran in, from ``changed_at`` on (one row at its start, one per change)."""

    __tablename__ = "session_modes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(20))


class Observation(Base):
    """One face in one processed frame."""

    __tablename__ = "observations"
    __table_args__ = (
        Index("ix_observations_session_ts", "session_id", "ts"),
        Index("ix_observations_session_track", "session_id", "track_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    frame_index: Mapped[int] = mapped_column(Integer)
    track_id: Mapped[int] = mapped_column(Integer)
    x: Mapped[int] = mapped_column(Integer)
    y: Mapped[int] = mapped_column(Integer)
    w: Mapped[int] = mapped_column(Integer)
    h: Mapped[int] = mapped_column(Integer)
    p_angry: Mapped[float | None] = mapped_column(Float)
    p_disgust: Mapped[float | None] = mapped_column(Float)
    p_fear: Mapped[float | None] = mapped_column(Float)
    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_surprise: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)
    top_label: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    # 0..1: how squarely the face is turned to the front of the room (see monitor/engagement.py)
    attention: Mapped[float] = mapped_column(Float)
    posture: Mapped[str | None] = mapped_column(String(10))  # up | down | away (monitor/engagement.py)


class TrackSummary(Base):
    """Running per-track aggregate, upserted by the worker with each batch."""

    __tablename__ = "track_summaries"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    track_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    attention_sum: Mapped[float] = mapped_column(Float, default=0.0)
    p_angry: Mapped[float | None] = mapped_column(Float)  # sums of probabilities; divide by observations
    p_disgust: Mapped[float | None] = mapped_column(Float)
    p_fear: Mapped[float | None] = mapped_column(Float)
    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_surprise: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)


class SessionRollup(Base):
    """One second of one session, aggregated: the unit the timelines are built from.

    Sums, not means, so any larger bucket is a plain SUM/GROUP BY over these rows.
    """

    __tablename__ = "session_rollups"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    faces: Mapped[int] = mapped_column(Integer, default=0)  # face observations in the second
    attention_sum: Mapped[float] = mapped_column(Float, default=0.0)
    engagement_sum: Mapped[float] = mapped_column(Float, default=0.0)  # per-frame index summed over frames
    # Per-frame shares of the class (monitor/engagement.py HeadsUp) summed over frames; divide by frames
    heads_up_sum: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    heads_down_sum: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    turned_away_sum: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Heads read up, down and away, and heads not readable, summed over the second's frames: the base of
    # the heads-up share (up / readable). Rows older than migration 0012 have only the shares above.
    up_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    down_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    away_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unknown_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    p_angry: Mapped[float | None] = mapped_column(Float)
    p_disgust: Mapped[float | None] = mapped_column(Float)
    p_fear: Mapped[float | None] = mapped_column(Float)
    p_happy: Mapped[float | None] = mapped_column(Float)
    p_sad: Mapped[float | None] = mapped_column(Float)
    p_surprise: Mapped[float | None] = mapped_column(Float)
    p_neutral: Mapped[float | None] = mapped_column(Float)


class LessonMarker(Base):
    """A moment a teacher marked in a lesson ("group work starts", "quiz"), live or afterwards."""

    __tablename__ = "lesson_markers"
    __table_args__ = (Index("ix_lesson_markers_session_at", "session_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonStats(Base):
    """Whole-lesson figures of an ended session, computed once from its rollups (store/lesson_stats.py).

    A cache: the sessions list and the trends read a term of lessons from here instead of millions of
    per-second rows. ``ended_at`` is the session's end when it was computed; a different end means stale.
    """

    __tablename__ = "lesson_stats"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seconds: Mapped[int] = mapped_column(Integer, default=0)  # rollup seconds with frames
    frames: Mapped[int] = mapped_column(Integer, default=0)
    faces: Mapped[int] = mapped_column(Integer, default=0)
    attention_sum: Mapped[float] = mapped_column(Float, default=0.0)
    engagement_sum: Mapped[float] = mapped_column(Float, default=0.0)
    heads_up_sum: Mapped[float] = mapped_column(Float, default=0.0)
    up_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    down_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    away_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unknown_heads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    people_typical: Mapped[float | None] = mapped_column(Float)
    people_peak: Mapped[float | None] = mapped_column(Float)
    sparkline: Mapped[str | None] = mapped_column(Text)  # JSON: heads-up ratios (or null), in time order


class ModelVersion(Base):
    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(100), unique=True)
    path: Mapped[str] = mapped_column(String(1000))
    arch: Mapped[str | None] = mapped_column(String(50))
    accuracy: Mapped[float | None] = mapped_column(Float)
    macro_f1: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerStatus(Base):
    """Heartbeat of the worker process serving a camera."""

    __tablename__ = "worker_status"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    pid: Mapped[int | None] = mapped_column(Integer)
    hostname: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="starting")  # starting|running|stopped|failed
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_id: Mapped[int | None] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    faces_in_view: Mapped[int] = mapped_column(Integer, default=0)
    fps: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(String(500))
    # The camera's lease: the token of the one worker allowed to write for it, valid while its heartbeat
    # is fresh (see monitor/store/sessions.py).
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    # Written by the supervisor (`serve`): how often it restarted this camera's worker, and why last.
    restarts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Written with the heartbeat: frames a live source delivered while the worker was busy (skipped, never
    # queued up), and capture-to-stored-row latency over the last minute.
    frames_dropped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    latency_p50_ms: Mapped[float | None] = mapped_column(Float)
    latency_p95_ms: Mapped[float | None] = mapped_column(Float)
    # The camera as the worker sees it (online | reconnecting | offline), why, and since when (the first
    # failure of an outage); and frames that were processed but never stored (the database refused them).
    capture_state: Mapped[str | None] = mapped_column(String(20))
    capture_detail: Mapped[str | None] = mapped_column(String(500))
    capture_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frames_lost: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    store_error: Mapped[str | None] = mapped_column(String(500))
    # Written with the heartbeat: what reading the camera costs, the capture thread's CPU per frame read
    # (decoding and colour conversion), and the frames sample_fps left out (read, never made an image).
    decode_ms_per_frame: Mapped[float | None] = mapped_column(Float)
    frames_skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


def username_key(name: str) -> str:
    """The case-free form of a user name: ``Alice`` and ``ALICE`` are one account."""
    return name.strip().casefold()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    # username_key(username), kept by the validator below: the database refuses names that differ in case only
    username_key: Mapped[str] = mapped_column(String(300), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)  # False: disabled, cannot log in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The user's own language (monitor.locales.LOCALES); None follows the browser, then the site default.
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)
    # Where alerts (admins) and the weekly digest (teachers) go; None: no mail (monitor/serve/alerts.py)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, default=None)

    @validates("username")
    def _keep_key(self, _attr: str, value: str) -> str:
        self.username_key = username_key(value)
        return value


class UserSession(Base):
    """A logged-in browser. The cookie holds a random token; this row (keyed by its SHA-256) makes it valid.

    Deleting the row ends the session at once: logout, a password change and disabling the account do so.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CameraAssignment(Base):
    """Which teacher may see which camera (admins see all)."""

    __tablename__ = "camera_assignments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)


class Setting(Base):
    """Site-wide settings editable by admins (privacy mode, retention...). Values are JSON text."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RetentionRun(Base):
    """One run of the retention purge (``serve``'s schedule or the ``purge`` command): what it deleted."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(20))  # serve | cli
    hostname: Mapped[str | None] = mapped_column(String(200))
    days: Mapped[int] = mapped_column(Integer)  # the retention period it applied; 0: kept everything
    cutoff: Mapped[datetime | None] = mapped_column(UTCDateTime)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    rollups: Mapped[int] = mapped_column(Integer, default=0)
    track_summaries: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)  # lessons that lost observations
    error: Mapped[str | None] = mapped_column(String(500))


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)


class CameraTimetable(Base):
    """The database holds this camera's timetable (issue 24): its periods and changes below are the truth,
    even when there are none; ``origin`` says where it first came from (toml | browser | cli)."""

    __tablename__ = "camera_timetables"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimetablePeriod(Base):
    """One weekly period of a camera (``Tue 09:00-09:50 Maths 7B``), in the school's wall-clock time."""

    __tablename__ = "timetable_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 is Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    label: Mapped[str] = mapped_column(String(150))  # the class: "Maths 7B"


class TimetableChange(Base):
    """A one-off change of a camera's day: ``cancel`` (the period starting at ``start``), ``period`` (one of
    that day's own periods, replacing the weekly ones) or ``clear`` (the weekly periods do not run)."""

    __tablename__ = "timetable_changes"
    __table_args__ = (Index("ix_timetable_changes_camera_day", "camera_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    start: Mapped[time | None] = mapped_column(Time)
    end: Mapped[time | None] = mapped_column(Time)
    label: Mapped[str | None] = mapped_column(String(150))


class TimetableHoliday(Base):
    """School-wide days without lessons, ``first`` to ``last`` inclusive."""

    __tablename__ = "timetable_holidays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first: Mapped[date] = mapped_column(Date, index=True)
    last: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(150))


class AlertSent(Base):
    """One alert episode (monitor/serve/alerts.py): a camera down during a period, or a class far below its
    usual heads-up share. One row per episode, so that each is mailed once; ``ended_at`` None: still on."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_kind_camera", "kind", "camera_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # camera_down | low_heads_up
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the episode began
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(String(500))


class DigestSent(Base):
    """One teacher's weekly digest for one ISO week (``2026-W49``): recorded so that it is mailed once."""

    __tablename__ = "digests"
    __table_args__ = (Index("ix_digests_week_user", "week", "user_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trigger: Mapped[str] = mapped_column(String(20))  # serve | cli


class SourceProbe(Base):
    """One "Test connection" asked on the admin page (monitor/store/source_probes.py): a serve host that may
    serve the camera opens the source and writes what it found here. Only metadata, never a frame."""

    __tablename__ = "source_probes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    requested_by: Mapped[str] = mapped_column(String(150))
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # the serve host that took it
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    reachable: Mapped[bool | None] = mapped_column(Boolean)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(500))  # credentials masked
    tested_source: Mapped[str | None] = mapped_column(String(1000))  # the source opened, masked
    tested_from_file: Mapped[bool | None] = mapped_column(Boolean)  # it was the serve config file's
