"""``serve`` and the timetable in the database (issue 24).

- At start, ``import_config_timetables`` copies each camera's TOML timetable into the database when the
  database holds none for that camera (and the TOML holidays when it holds no holidays and no timetable
  yet). From then on the database is the truth: the browser's edits survive a restart; to load the TOML
  again on purpose, run ``classroom-monitor timetable import school.toml``.
- ``schedule_for`` is what a timetabled worker records by: the database's timetable, read again every
  ``monitor.store.timetables.POLL_S`` (an edit reaches it without a restart), else the TOML's.
- ``upcoming_periods`` is ``serve --check``'s list of each camera's next three periods.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from monitor.serve.config import CameraSpec, ServeConfig, ServeConfigError, load_config
from monitor.store.schema import utcnow
from monitor.store.timetables import StoredSchedule, import_parsed, timetable_for
from monitor.timetable import TimetableError, hm, parse_changes, parse_weekly
from monitor.timetable_week import upcoming

log = logging.getLogger(__name__)


def _timetabled(config: ServeConfig) -> list[CameraSpec]:
    return [c for c in config.cameras if not c.always_on and "timetable" in c.options]


def import_config_timetables(factory: sessionmaker, config: ServeConfig) -> list[str]:
    """Store the TOML timetables the database does not hold yet; returns what was imported (logged)."""
    cameras = {
        spec.name: (
            parse_weekly(spec.options["timetable"], f"camera {spec.name!r} timetable"),
            parse_changes(list(spec.options.get("changes", [])), f"camera {spec.name!r} changes"),
        )
        for spec in _timetabled(config)
    }
    try:
        with factory.begin() as db:
            differs = [
                name
                for name, (weekly, changes) in cameras.items()
                if (tt := timetable_for(db, name)) is not None
                and (tt.weekly, tt.changes) != (weekly, changes)
            ]
            done = import_parsed(
                db, config.holidays or None, cameras, actor="serve", origin="toml", only_missing=True
            )
    except (SQLAlchemyError, TimetableError) as exc:
        log.warning("timetables not imported into the database: %s", str(exc).splitlines()[0])
        return []
    for line in done:
        log.info("timetable imported from %s: %s", config.path, line)
    for name in differs:  # an admin changed it in the browser, or the TOML was edited after the first import
        log.warning(
            "camera %s: the timetable in %s differs from the database's, which is used "
            "(to load the file's: classroom-monitor timetable import %s)",
            name,
            config.path,
            config.path,
        )
    return done


def schedule_for(path: str | Path, camera: str, db_url: str) -> StoredSchedule | None:
    """The schedule ``camera`` records by (``worker --timetable-from``): the database's timetable when it
    holds one, else the TOML's; None for an always-on camera. Raises ``ServeConfigError`` (no timetable
    anywhere), or ``DatabaseError`` for a database without the schema."""
    from monitor.store import migrated_engine, session_factory

    config = load_config(path)
    spec = config.camera(camera) or CameraSpec(camera, dict(config.defaults))
    if spec.always_on:
        return None
    factory = session_factory(migrated_engine(db_url))
    fallback = None
    if "timetable" in spec.options:
        fallback = config.timetable(camera, ZoneInfo("UTC"))  # zone and language: the site's, read below
    else:
        with factory() as db:
            if timetable_for(db, camera) is None:
                raise ServeConfigError(
                    f"camera {camera!r} has no timetable in {config.path} nor in the database"
                )
    schedule = StoredSchedule(factory, camera, fallback)
    schedule.refresh()
    return schedule


def upcoming_periods(config: ServeConfig, db_url: str | None, count: int = 3) -> dict[str, list[str]]:
    """``serve --check``: each timetabled camera's next ``count`` periods, one line each
    (``2026-12-07 Mon period 1 09:00-09:50 Maths 7B (database)``), read from the database's timetable when
    it holds one, else the TOML's (a first ``--check`` runs before any import, or without a database)."""
    from monitor.store import DatabaseError, make_engine, session_factory
    from monitor.store.site_settings import get_setting, school_zone

    zone, locale, stored = ZoneInfo("UTC"), "en", {}
    if db_url:
        try:
            engine = make_engine(db_url, read_only=True)
            try:
                with session_factory(engine)() as db:
                    zone, locale = school_zone(db), get_setting(db, "locale")
                    for spec in config.cameras:
                        if (tt := timetable_for(db, spec.name)) is not None:
                            stored[spec.name] = tt
            finally:
                engine.dispose()
        except (SQLAlchemyError, DatabaseError) as exc:  # no database (yet): the TOML's periods
            log.debug("serve --check: timetables from the config only (%s)", str(exc).splitlines()[0])
    now, out = utcnow(), {}
    for spec in config.cameras:
        if spec.always_on:
            continue
        tt, where = stored.get(spec.name), "database"
        if tt is None:
            tt, where = config.timetable(spec.name, zone), "config"
        if tt is None:
            continue
        tt.zone, tt.locale = zone, locale
        items = upcoming(tt, now, count)
        out[spec.name] = [
            f"{p.day.isoformat()} {p.text(locale)}-{hm(p.slot.end)} {p.slot.label} ({where})" for p in items
        ] or [f"no period in the next 14 days ({where})"]
    return out
