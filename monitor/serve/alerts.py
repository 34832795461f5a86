"""``Notifier``: the mail ``serve`` sends, from a thread of its own so that a slow mail server never delays
the watchdog.

- **Camera down** (to the admins): a camera whose worker died, keeps failing, or cannot read its camera,
  while the camera should be recording (a period of its timetable is running, or it is always on), for more
  than ``alert_after_min`` minutes (site setting; 0: at once). A worker death is seen from the
  supervisor's restart count, so a restart quicker than one poll still counts.
- **Low heads-up** (to the camera's teachers; site setting ``alert_low_heads_up``, off by default): a
  running lesson whose heads-up share over the last ``LOW_WINDOW_MIN`` minutes is ``FAR_BELOW`` or more
  under its class's usual share (the digest's: the mean of its weekly figures over the weeks before).
- **Weekly digest** (to each teacher; site setting ``weekly_digest``): the week before, once it is Monday
  ``DIGEST_AT`` in the school's time zone (``monitor.reports.digest``).

Each alert episode is recorded (``monitor.store.notifications``) before its mail goes out and mailed once;
it ends when the problem is over, and only a new episode mails again. Nothing is sent while no mail server
is set (``smtp_host``); episodes are still recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.heads import HEAD_COUNT_COLUMNS, HeadCount
from monitor.mail import Mail, MailError, MailSettings, send_all
from monitor.reports import notices
from monitor.serve.config import ServeConfig, ServeConfigError
from monitor.serve.polling import PollingThread
from monitor.serve.state import HOSTNAME
from monitor.store import lesson_stats, notifications
from monitor.store.schema import AlertSent, ClassSession, SessionRollup, WorkerStatus, utcnow
from monitor.store.site_settings import all_settings, school_zone
from monitor.store.timetables import timetable_for
from monitor.store.worker_health import UNREACHABLE
from monitor.timetable import Timetable
from monitor.views.audience import Audience

log = logging.getLogger(__name__)

POLL_S = 1.0
TIMETABLE_REFRESH_S = 30.0
LOW_EVERY_S = 30.0
DIGEST_EVERY_S = 60.0
DIGEST_AT = time(7, 0)  # Monday, school time
LOW_WINDOW_MIN = 10
FAR_BELOW = 0.25  # heads-up share points under the class's usual share
CAMERA_DOWN = "camera_down"
LOW_HEADS_UP = "low_heads_up"


@dataclass(frozen=True)
class CameraView:
    """One camera as the supervisor sees it, read from the supervisor's thread at one moment."""

    name: str
    state: str  # monitor.serve.process.WorkerState value
    restarts: int
    always_on: bool
    last_error: str | None = None


def camera_views(cameras: dict[str, Any]) -> list[CameraView]:
    """The supervisor's ``CameraProcess`` records (name -> record) as ``CameraView``s."""
    return [
        CameraView(c.name, str(c.state), c.restarts, c.spec.always_on, c.last_error)
        for c in list(cameras.values())
    ]


@dataclass
class _Episode:
    since: datetime
    why: str
    period: str | None
    sent: bool = False


class Notifier(PollingThread):
    """Watches the supervisor's cameras and the lessons, and mails alerts and digests (see module doc)."""

    def __init__(
        self,
        factory: sessionmaker,
        config: ServeConfig,
        cameras: Callable[[], list[CameraView]],
        smtp_password: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        host: str = HOSTNAME,
    ) -> None:
        super().__init__("notifier", POLL_S)
        self.factory, self.config, self.cameras = factory, config, cameras
        self.reads = notifications.reads_of(factory)
        self.smtp_password, self.clock, self.host = smtp_password, clock, host
        self.episodes: dict[str, _Episode] = {}
        self._restarts: dict[str, int] = {}
        self._watched: set[int] = set()  # the camera ids in the last pass's views
        self._timetables: dict[str, tuple[datetime, Timetable | None]] = {}
        self._next_low: datetime | None = None
        self._next_digest: datetime | None = None

    def poll(self) -> None:
        self.check_once()

    def check_once(self) -> None:
        """One pass: camera alerts every poll; low heads-up and the digest schedule less often."""
        now = self.clock()
        self.check_cameras(now)
        if self._next_low is None or now >= self._next_low:
            self._next_low = now + timedelta(seconds=LOW_EVERY_S)
            self.check_low_heads_up(now)
        if self._next_digest is None or now >= self._next_digest:
            self._next_digest = now + timedelta(seconds=DIGEST_EVERY_S)
            self.check_digest(now)

    # --- camera down ----------------------------------------------------------------------------------

    def _timetable(self, db: Session, name: str, now: datetime) -> Timetable | None:
        cached = self._timetables.get(name)
        if cached is not None and now < cached[0]:
            return cached[1]
        timetable = timetable_for(db, name)  # the database's timetable (the TOML's was imported into it)
        if timetable is None:
            try:
                timetable = self.config.timetable(name, school_zone(db))
            except ServeConfigError:  # a database camera without a timetable: never on duty
                timetable = None
        self._timetables[name] = (now + timedelta(seconds=TIMETABLE_REFRESH_S), timetable)
        return timetable

    def _duty(self, db: Session, cam: CameraView, now: datetime) -> tuple[bool, str | None]:
        """(should it be recording now, the period's label)."""
        if cam.always_on:
            return True, None
        timetable = self._timetable(db, cam.name, now)
        period = None if timetable is None else timetable.period_at(now)
        return period is not None, None if period is None else period.label

    def _down(self, cam: CameraView, capture: str | None) -> str | None:
        """Why the camera is down (None: it is not), from the supervisor's state and the worker's row."""
        died = cam.restarts > self._restarts.get(cam.name, cam.restarts)
        self._restarts[cam.name] = cam.restarts
        if cam.state == "backoff" or died:
            return cam.last_error or "worker stopped"
        if cam.state == "starting" and cam.name in self.episodes:
            return self.episodes[cam.name].why  # restarted, not beating yet: the same episode goes on
        if cam.state == "running" and capture in UNREACHABLE:
            return f"camera {capture}"
        return None

    def check_cameras(self, now: datetime) -> None:
        views = self.cameras()
        ending: list[int] = []
        starting: list[tuple[int, str, _Episode]] = []
        with self.reads() as db:  # read without the write lock: the workers write all the time
            site = all_settings(db)
            ids = notifications.camera_ids(db, [c.name for c in views])
            capture = notifications.capture_states(db, [c.name for c in views])
            still_on = notifications.cameras_with_open_alerts(db, CAMERA_DOWN)
            # a camera this serve no longer serves (deleted, moved to another host): its episode is over;
            # so is one no serve runs any more (this serve was restarted without it: nobody else would end it)
            running = set(ids.values())
            gone = (self._watched - running) & still_on
            gone |= notifications.orphaned_alerts(db, CAMERA_DOWN, running, self.host)
            self._watched = running
            for name in set(self.episodes) - {c.name for c in views}:
                del self.episodes[name]
            after = timedelta(minutes=site["alert_after_min"])
            for cam in views:
                why = self._down(cam, capture.get(cam.name))
                on_duty, period = self._duty(db, cam, now) if why else (False, None)
                camera_id = ids.get(cam.name)
                if camera_id is None:
                    continue
                if why is None or not on_duty:
                    self.episodes.pop(cam.name, None)
                    if camera_id in still_on:
                        ending.append(camera_id)
                        log.info("camera %s: back (or off duty); its alert episode ended", cam.name)
                    continue
                episode = self.episodes.setdefault(cam.name, _Episode(now, why, period))
                if episode.sent or now - episode.since < after:
                    continue
                episode.sent = True
                if camera_id not in still_on:  # else mailed before this serve started, and not over since
                    starting.append((camera_id, cam.name, episode))
        if not (ending or starting or gone):
            return
        due: list[tuple[int, str, _Episode]] = []
        with self.factory.begin() as db:
            for camera_id in ending:
                notifications.end_alerts(db, CAMERA_DOWN, camera_id, now)
            if notifications.end_alerts_of(db, CAMERA_DOWN, gone, now):
                log.info("cameras %s: no longer served here; their alert episodes closed", sorted(gone))
            for camera_id, name, episode in starting:
                if notifications.open_alert(db, CAMERA_DOWN, camera_id) is None:
                    row = notifications.start_alert(
                        db, CAMERA_DOWN, camera_id, episode.since, f"{name}: {episode.why}"
                    )
                    due.append((row.id, name, episode))
        for alert_id, name, episode in due:
            self._mail_camera_down(alert_id, name, episode)

    def _mail_camera_down(self, alert_id: int, name: str, episode: _Episode) -> None:
        with self.reads() as db:
            site = all_settings(db)
            zone = school_zone(db)
            mails = []
            for admin in notifications.admins(db):
                subject, text = notices.camera_down(
                    admin.locale or site["locale"],
                    camera=name,
                    period=episode.period,
                    since=episode.since,
                    why=episode.why,
                    zone=zone,
                    base_url=site["base_url"],
                )
                mails.append(Mail(admin.email, subject, text))
        self._deliver(alert_id, site, mails, "no admin has an e-mail address")
        log.warning("camera %s: down since %s (%s); alert %d", name, episode.since, episode.why, alert_id)

    def _deliver(self, alert_id: int, site: dict[str, Any], mails: list[Mail], nobody: str) -> None:
        """Send an episode's mails and note on its row who got them, or why nobody did."""
        settings = MailSettings.from_site(site, self.smtp_password)
        error, sent = None, []
        if not mails:
            error = nobody
        elif settings is None:
            error = "no mail server set (smtp_host, smtp_sender)"
        else:
            try:
                results = send_all(settings, mails)
                sent = [to for to, why in results.items() if why is None]
                error = "; ".join(f"{to}: {why}" for to, why in results.items() if why) or None
            except MailError as exc:
                error = str(exc)
        if error:
            log.warning("alert %d: %s", alert_id, error)
        with self.factory.begin() as db:
            row = db.get(AlertSent, alert_id)
            if row is not None:
                row.recipients = ", ".join(sent) or None
                row.sent_at = utcnow() if sent else None
                row.error = error[:500] if error else None

    # --- low heads-up ---------------------------------------------------------------------------------

    def check_low_heads_up(self, now: datetime) -> None:
        """Mail a running lesson's teachers once when it is far below its class's usual share (one episode
        per lesson: it ends when the lesson does, or comes back up, or the alert is turned off)."""
        with self.reads() as db:
            site = all_settings(db)
            # turned off: no new episode, and those still open end (nothing else would end them)
            running = (
                db.scalars(
                    select(ClassSession)
                    .join(WorkerStatus, WorkerStatus.session_id == ClassSession.id)
                    .where(ClassSession.ended_at.is_(None), ClassSession.attention_basis.is_not(None))
                ).all()
                if site["alert_low_heads_up"]
                else []
            )
            low = {cs.id: (cs, figures) for cs in running if (figures := self._lesson_low(db, cs, now))}
            still_on = notifications.lessons_with_alerts(db, LOW_HEADS_UP, open_only=True)
            alerted = notifications.lessons_with_alerts(db, LOW_HEADS_UP, among=list(low))
            ending = still_on - set(low)
            starting = [low[sid] for sid in low if sid not in alerted]
            names = {cs.id: cs.camera.name for cs, _ in starting}
        if not (ending or starting):
            return
        due = []
        with self.factory.begin() as db:
            notifications.end_lesson_alerts(db, LOW_HEADS_UP, ending, now)
            for cs, (share, usual) in starting:
                since = now - timedelta(minutes=LOW_WINDOW_MIN)
                row = notifications.start_alert(db, LOW_HEADS_UP, cs.camera_id, since, cs.label, cs.id)
                due.append((row.id, cs, names[cs.id], share, usual))
        for alert_id, cs, camera, share, usual in due:
            with self.reads() as db:
                mails = [
                    Mail(
                        t.email,
                        *notices.low_heads_up(
                            t.locale or site["locale"],
                            camera=camera,
                            lesson=cs.label,
                            share=share,
                            usual=usual,
                            minutes=LOW_WINDOW_MIN,
                            session_id=cs.id,
                            base_url=site["base_url"],
                        ),
                    )
                    for t in notifications.teachers_of(db, cs.camera_id)
                ]
            self._deliver(alert_id, site, mails, "no teacher of this camera has an e-mail address")

    def _lesson_low(self, db: Session, cs: ClassSession, now: datetime) -> tuple[float, float] | None:
        """(share over the window, the class's usual share) when the lesson is far below; else None."""
        since = now - timedelta(minutes=LOW_WINDOW_MIN)
        if cs.started_at > since:
            return None  # not 10 minutes of lesson yet
        frames, faces, up, *counts = db.execute(
            select(
                func.sum(SessionRollup.frames),
                func.sum(SessionRollup.faces),
                func.sum(SessionRollup.heads_up_sum),
                *(func.sum(getattr(SessionRollup, c)) for c in HEAD_COUNT_COLUMNS),
            ).where(SessionRollup.session_id == cs.id, SessionRollup.bucket_start >= since)
        ).one()
        # summed as monitor.store.lesson_stats sums a lesson, so the window and the usual figure compare
        share = HeadCount.from_sums(frames, faces, tuple(counts), (up, 0.0, 0.0)).heads_up
        if share is None:
            return None
        usual = usual_share(db, cs, now)
        if usual is None or share > usual - FAR_BELOW:
            return None
        return share, usual

    # --- the weekly digest ----------------------------------------------------------------------------

    def check_digest(self, now: datetime) -> None:
        """Send last week's digest once it is Monday ``DIGEST_AT`` or later in the school's zone."""
        from monitor.reports.digest import iso_week, send_digests

        with self.reads() as db:
            site = all_settings(db)
            zone = school_zone(db)
        if not site["weekly_digest"] or MailSettings.from_site(site, self.smtp_password) is None:
            return
        local = now.astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday())
        if local.time() < DIGEST_AT and local.date() == monday:
            return
        week = iso_week(monday - timedelta(days=7))
        try:
            outcome = send_digests(self.factory, week, trigger="serve", smtp_password=self.smtp_password)
        except MailError as exc:  # tried again at the next check
            log.warning("weekly digest %s not sent: %s", week, exc)
            return
        if outcome.sent or outcome.errors:
            log.info("weekly digest %s: %d sent, %d failed", week, len(outcome.sent), len(outcome.errors))


def usual_share(db: Session, cs: ClassSession, now: datetime) -> float | None:
    """The class's usual heads-up share, as the weekly digest states it (``monitor.reports.digest``): the
    mean of its weekly figures over the weeks before this one, read by the trends API for the whole school."""
    from monitor.reports.digest import class_trend, usual_figure

    audience = Audience.load(db)
    local = now.astimezone(audience.zone).date()
    monday = local - timedelta(days=local.weekday())
    label = lesson_stats.class_of(cs.label or "") or cs.label
    return usual_figure(class_trend(db, audience, label, monday)["weekly"], monday)
