"""Retention: delete what is older than N days (observations, per-second rollups, track summaries).

Sessions themselves (label, times, counts, the kept lesson figures) stay, so the list of past lessons stays
readable; a lesson that lost observations is marked (``ClassSession.observations_purged_at``) so its page
and reports say "observations deleted by the retention policy" instead of "no faces were detected".

``run_retention`` is what runs on a schedule (``serve``, every ``retention_every_s``) and behind the
``purge`` command (and its systemd timer, ``deploy/classroom-monitor-purge.timer``): it applies the site's
``retention_days`` and records each run in ``retention_runs``, which the health page shows.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import Engine, delete, exists, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from monitor import locales, timefmt
from monitor.store.db import session_factory
from monitor.store.schema import (
    AuditLog,
    ClassSession,
    Observation,
    RetentionRun,
    SessionRollup,
    TrackSummary,
    utcnow,
)
from monitor.store.site_settings import get_setting

START_SKEW = timedelta(days=1)
"""A lesson's frames may carry times a little before its recorded start (a camera's clock): lessons that
started up to this long after the cutoff are looked at too."""
RUNS_KEPT = 500
"""``retention_runs`` rows kept; older ones are deleted with each run."""
OVERDUE_AFTER_S = 2 * 86_400
"""With a retention period set, health flags a purge that has not run for this long (serve runs it every
6 h by default, the systemd timer daily)."""
PURGED_TEXT = "Observations deleted by the retention policy"
PURGE_CHUNK = timedelta(minutes=10)
"""A lesson's rows are deleted this much of its time per transaction (some 90,000 rows for 30 faces at 5
frames a second)."""
YIELD_MAX_S = 0.1
"""Longest pause between two lessons' deletes, for the workers' writes (SQLite's busy handler sleeps up to
100 ms between tries)."""


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime | None
    observations: int = 0
    rollups: int = 0
    track_summaries: int = 0
    sessions: int = 0  # lessons that lost rows

    def as_dict(self) -> dict:
        return {
            "cutoff": None if self.cutoff is None else self.cutoff.isoformat(timespec="seconds"),
            "observations": self.observations,
            "rollups": self.rollups,
            "track_summaries": self.track_summaries,
            "sessions": self.sessions,
        }


def _sessions_with_old_rows(engine: Engine, cutoff: datetime) -> list[int]:
    """Ids of lessons holding any row older than ``cutoff`` (each test is an index lookup)."""
    old_obs = exists().where(Observation.session_id == ClassSession.id, Observation.ts < cutoff)
    old_rollup = exists().where(
        SessionRollup.session_id == ClassSession.id, SessionRollup.bucket_start < cutoff
    )
    old_track = exists().where(TrackSummary.session_id == ClassSession.id, TrackSummary.last_seen < cutoff)
    stmt = (
        select(ClassSession.id)
        .where(ClassSession.started_at < cutoff + START_SKEW, old_obs | old_rollup | old_track)
        .order_by(ClassSession.id)
    )
    with engine.connect() as conn:
        return list(conn.scalars(stmt))


def _oldest_left(engine: Engine, session_id: int, cutoff: datetime) -> datetime | None:
    """The oldest observation or rollup time of a lesson still before ``cutoff`` (index lookups)."""
    with engine.connect() as conn:
        times = (
            conn.scalar(
                select(func.min(Observation.ts)).where(
                    Observation.session_id == session_id, Observation.ts < cutoff
                )
            ),
            conn.scalar(
                select(func.min(SessionRollup.bucket_start)).where(
                    SessionRollup.session_id == session_id, SessionRollup.bucket_start < cutoff
                )
            ),
        )
    return min((t for t in times if t is not None), default=None)


def _purge_lesson(engine: Engine, session_id: int, cutoff: datetime, now: datetime) -> tuple[int, int, int]:
    """Delete one lesson's rows before ``cutoff``, ``PURGE_CHUNK`` of its time per transaction (an always-on
    camera's lesson may span weeks), and mark it purged with the first rows that go."""
    obs = rollups = tracks = 0
    while True:
        oldest = _oldest_left(engine, session_id, cutoff)
        upper = cutoff if oldest is None else min(cutoff, oldest + PURGE_CHUNK)
        began = time.monotonic()
        with engine.begin() as conn:
            o = conn.execute(
                delete(Observation).where(Observation.session_id == session_id, Observation.ts < upper)
            ).rowcount
            r = conn.execute(
                delete(SessionRollup).where(
                    SessionRollup.session_id == session_id, SessionRollup.bucket_start < upper
                )
            ).rowcount
            t = conn.execute(
                delete(TrackSummary).where(
                    TrackSummary.session_id == session_id, TrackSummary.last_seen < upper
                )
            ).rowcount
            if (o or r or t) and not (obs or rollups or tracks):
                conn.execute(
                    update(ClassSession)
                    .where(ClassSession.id == session_id)
                    .values(observations_purged_at=now)
                )
        obs, rollups, tracks = obs + o, rollups + r, tracks + t
        # Step aside as long as the lock was held (SQLite's busy handler polls; it would rarely catch a
        # purger that takes the lock again at once): writers waiting meanwhile get their turn.
        time.sleep(min(time.monotonic() - began, YIELD_MAX_S))
        if upper >= cutoff:
            return obs, rollups, tracks


def purge_older_than(engine: Engine, days: int, now: datetime | None = None) -> PurgeResult:
    """Delete rows older than ``days`` days before ``now``; ``days=0`` keeps all.

    Lesson by lesson, at most ``PURGE_CHUNK`` of a lesson per transaction, so workers writing to a SQLite
    file wait for one small delete at a time, never for the whole purge; a purge stopped half way keeps
    what it did. Pass a writer engine (``make_engine(url, writer=True)``) so SQLite takes the write lock
    up front.
    """
    if days < 0:
        raise ValueError("days must be 0 (keep everything) or more")
    if days == 0:
        return PurgeResult(cutoff=None)
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    obs = rollups = tracks = sessions = 0
    for session_id in _sessions_with_old_rows(engine, cutoff):
        o, r, t = _purge_lesson(engine, session_id, cutoff, now)
        obs, rollups, tracks, sessions = obs + o, rollups + r, tracks + t, sessions + bool(o or r or t)
    return PurgeResult(
        cutoff=cutoff, observations=obs, rollups=rollups, track_summaries=tracks, sessions=sessions
    )


def _record(engine: Engine, run: RetentionRun, audit: str | None) -> None:
    with session_factory(engine).begin() as db:
        db.add(run)
        if audit is not None:
            db.add(AuditLog(actor=run.trigger, action="purge", detail=audit))
        newest = db.scalar(select(func.max(RetentionRun.id)))
        if newest is not None and newest > RUNS_KEPT:
            db.execute(delete(RetentionRun).where(RetentionRun.id <= newest - RUNS_KEPT))


def run_retention(
    engine: Engine, trigger: str, days: int | None = None, now: datetime | None = None
) -> PurgeResult:
    """Apply the site's ``retention_days`` (or ``days``) and record the run in ``retention_runs`` (and the
    audit log when rows went, or when a person ran it). A failing purge is recorded with its error as
    far as the database allows, then raised."""
    started = now or utcnow()
    run = RetentionRun(started_at=started, trigger=trigger, hostname=socket.gethostname()[:200])
    try:
        if days is None:
            with session_factory(engine)() as db:
                days = int(get_setting(db, "retention_days") or 0)
        run.days = days
        result = purge_older_than(engine, days, now=started)
    except SQLAlchemyError as exc:
        run.days = days or 0
        run.finished_at, run.error = utcnow(), str(exc).splitlines()[0][:500]
        run.observations = run.rollups = run.track_summaries = run.sessions = 0
        with contextlib.suppress(SQLAlchemyError):  # the database may be the very thing that failed
            _record(engine, run, None)
        raise
    run.finished_at, run.cutoff = utcnow(), result.cutoff
    run.observations, run.rollups = result.observations, result.rollups
    run.track_summaries, run.sessions = result.track_summaries, result.sessions
    deleted = result.observations or result.rollups or result.track_summaries
    audit = str(result.as_dict()) if days and (deleted or trigger == "cli") else None
    _record(engine, run, audit)
    return result


def last_run(db: Session) -> RetentionRun | None:
    return db.scalars(select(RetentionRun).order_by(RetentionRun.started_at.desc()).limit(1)).first()


def retention_status(
    db: Session,
    now: datetime | None = None,
    zone: tzinfo | None = None,
    locale: str = "en",
    gettext: Callable[[str], str] | None = None,
) -> dict:
    """What health shows: the period, the last run (when, where, what it deleted) and whether it is
    overdue, with one sentence saying so (``text``, in ``locale`` through ``gettext``; English by default)."""
    _ = gettext or (lambda text: text)
    now = now or utcnow()
    days = int(get_setting(db, "retention_days") or 0)
    run = last_run(db)
    age = None if run is None else round((now - run.started_at).total_seconds(), 1)
    overdue = bool(days) and (age is None or age > OVERDUE_AFTER_S)
    if not days:
        period = _("keep forever")
    else:
        period = _("keep 1 day") if days == 1 else _("keep %(n)s days") % {"n": days}
    if run is None:
        text = _("Retention (%(period)s): never run.") % {"period": period}
        if days:
            text += " " + _(
                "Nothing purges: run classroom-monitor serve, or enable classroom-monitor-purge.timer."
            )
    else:
        ago = locales.relative(run.started_at, zone, locale, now)
        when = _("last ran %(when)s (%(trigger)s on %(host)s)") % {
            "when": ago,
            "trigger": run.trigger,
            "host": run.hostname,
        }
        if run.error:
            what = _("failed: %(error)s") % {"error": run.error}
        elif not run.days:
            what = _("nothing to delete (keep forever)")
        else:
            deleted = (
                _("deleted %(n)s observations from 1 lesson")
                if run.sessions == 1
                else _("deleted %(n)s observations from %(lessons)s lessons")
            )
            what = deleted % {"n": run.observations, "lessons": run.sessions}
        text = _("Retention (%(period)s): %(when)s, %(what)s.") % {
            "period": period,
            "when": when,
            "what": what,
        }
        if overdue:
            text += " " + _("Overdue: no run for over two days.")
    return {
        "retention_days": days,
        "last_run_at": None if run is None else run.started_at.isoformat(timespec="milliseconds"),
        "last_run_age_s": age,
        "last_run": None
        if run is None
        else {
            "trigger": run.trigger,
            "hostname": run.hostname,
            "days": run.days,
            "cutoff": None if run.cutoff is None else run.cutoff.isoformat(timespec="seconds"),
            "finished_at": None
            if run.finished_at is None
            else run.finished_at.isoformat(timespec="milliseconds"),
            "observations": run.observations,
            "rollups": run.rollups,
            "track_summaries": run.track_summaries,
            "sessions": run.sessions,
            "error": run.error,
        },
        "overdue": overdue,
        "text": text,
    }


def purged_note(purged_at: datetime | str | None, zone: tzinfo | None, *, all_gone: bool) -> str | None:
    """The sentence a purged lesson shows (page, reports); None for a lesson that lost nothing."""
    if purged_at is None:
        return None
    if isinstance(purged_at, str):
        purged_at = datetime.fromisoformat(purged_at)
    on = timefmt.day(purged_at, zone)
    if all_gone:
        return f"{PURGED_TEXT} on {on}: this lesson's figures are no longer stored."
    return f"{PURGED_TEXT} on {on}: part of this lesson's observations (its start) are no longer stored."
