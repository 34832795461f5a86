"""The school config that ``classroom-monitor serve`` runs: cameras, their timetables, the dashboard.

Read once, validated whole: every unknown key, missing source or bad time is refused with one line that
names it (``ServeConfigError``). The documented example is ``deploy/school.toml``. Tables:

- ``[serve]``: ``log_dir``, ``stall_after_s``, ``start_grace_s``, ``max_starting`` (workers loading at
  once), ``backoff_max_s``, ``stop_timeout_s``,
  ``database_cameras`` (also run cameras registered in the database with a stored source),
  ``warm_standby`` (cameras another host serves get a loaded worker waiting for the lease),
  ``retention_every_s`` (the site's retention purge runs at start and then this often; default 6 h,
  0 turns it off, e.g. where ``deploy/classroom-monitor-purge.timer`` runs it instead).
- ``[dashboard]``: ``host``, ``port``, ``threads``; without this table ``serve`` runs no dashboard.
- ``[[holidays]]``: ``from``, ``to`` (inclusive), ``label``: school-wide days without lessons.
- ``[defaults]``: any camera option below, for every camera (a camera's own value wins).
- ``[[cameras]]``: ``name``, ``source`` and the options in ``CAMERA_OPTIONS``.

The database URL and the other per-process settings come from the usual place (``monitor.config``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.cameras import CameraConfigError, camera_name_key, clean_camera_name, validate_changes
from monitor.config import MODEL_PRECISIONS, MODES
from monitor.store.db import SQLITE_BUSY_TIMEOUT_S
from monitor.timetable import (
    Holiday,
    Timetable,
    TimetableError,
    build_timetable,
    parse_holidays,
)


class ServeConfigError(Exception):
    """A school config that cannot be used; the message (one line) is meant for the user."""


def _str(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1e9


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


# option -> (check, what a good value looks like, worker flag or None when serve applies it itself)
CAMERA_OPTIONS: dict[str, tuple[Any, str, str | None]] = {
    "source": (_str, "a webcam index, video file or RTSP/HTTP URL", "--source"),
    "loop": (_bool, "true or false", "--loop"),
    "realtime": (_bool, "true or false", "--realtime"),
    "always_on": (_bool, "true or false", None),
    "label": (_str, "a session label (always-on cameras; default: the camera name)", None),
    "class_size": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number", None),
    "mounting": (_str, "front or back", None),
    "detector": (_str, "a detector name (see `classroom-monitor worker --help`)", "--detector"),
    "sample_fps": (_number, "a number of 0 or more", "--sample-fps"),
    "stream_fps": (
        lambda v: _number(v) and v > 0,
        "the frames a second the camera sends, above 0 (capacity planning; default 30)",
        None,
    ),
    "detect_every": (_count, "a whole number of 1 or more", "--detect-every"),
    "mode": (lambda v: v in MODES, " or ".join(MODES), "--mode"),
    "model": (_str, "a model directory", "--model"),
    "model_precision": (lambda v: v in MODEL_PRECISIONS, ", ".join(MODEL_PRECISIONS), "--model-precision"),
    "timetable": (lambda v: isinstance(v, list), "a list of {day, start, end, label} tables", None),
    "changes": (lambda v: isinstance(v, list), "a list of {date, periods | cancel} tables", None),
}
SERVE_OPTIONS: dict[str, tuple[Any, str]] = {
    "log_dir": (_str, "a folder"),
    "stall_after_s": (lambda v: _number(v) and v >= 2, "seconds, 2 or more"),
    "start_grace_s": (lambda v: _number(v) and v >= 2, "seconds, 2 or more"),
    "max_starting": (_count, "a whole number of 1 or more"),
    "backoff_max_s": (lambda v: _number(v) and v >= 1, "seconds, 1 or more"),
    "stop_timeout_s": (lambda v: _number(v) and v >= 1, "seconds, 1 or more"),
    "database_cameras": (_bool, "true or false"),
    "warm_standby": (_bool, "true or false"),
    "retention_every_s": (lambda v: _number(v) and (v == 0 or v >= 1), "seconds, 1 or more (0: off)"),
}
DASHBOARD_OPTIONS: dict[str, tuple[Any, str]] = {
    "host": (_str, "an address such as 0.0.0.0 or 127.0.0.1"),
    "port": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536, "a port, 1-65535"),
    "threads": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 4, "a whole number >= 4"),
}
TOP_LEVEL = ("serve", "dashboard", "holidays", "defaults", "cameras")


@dataclass(frozen=True)
class CameraSpec:
    name: str
    options: Mapping[str, Any]

    @property
    def source(self) -> str:
        return str(self.options["source"])

    @property
    def always_on(self) -> bool:
        return bool(self.options.get("always_on", False))

    def worker_flags(self) -> list[str]:
        """The ``classroom-monitor worker`` options for this camera (``--camera`` included)."""
        flags = ["--camera", self.name]
        for key, value in self.options.items():
            flag = CAMERA_OPTIONS[key][2]
            if flag is None or value is False:
                continue
            flags += [flag] if value is True else [flag, str(value)]
        return flags

    def camera_changes(self) -> dict:
        """Set-up stored on the camera row (class size, mounting), checked like ``camera set``."""
        return validate_changes(
            class_size=self.options.get("class_size"), mounting=self.options.get("mounting")
        )


@dataclass(frozen=True)
class ServeConfig:
    path: Path
    cameras: tuple[CameraSpec, ...]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    holidays: tuple[Holiday, ...] = ()
    dashboard: Mapping[str, Any] | None = None
    log_dir: Path = Path("var/logs")
    # Longer than a batch may wait for SQLite's write lock (its busy timeout) before it fails and is logged:
    # a worker waiting out a busy database is slow, not hung.
    stall_after_s: float = SQLITE_BUSY_TIMEOUT_S + 15.0
    start_grace_s: float = 90.0
    max_starting: int = 2  # workers loading at once; the others start as these send their first heartbeat
    backoff_max_s: float = 60.0
    stop_timeout_s: float = 30.0
    database_cameras: bool = False
    warm_standby: bool = True  # a standby camera's worker is started, loaded, and waits for the lease
    retention_every_s: float = 6 * 3600.0  # the retention purge: at start, then this often; 0: never

    def camera(self, name: str) -> CameraSpec | None:
        return next((c for c in self.cameras if c.name == name), None)

    def with_defaults(self, name: str, source: str) -> CameraSpec:
        """A camera registered in the database only: the ``[defaults]`` options and its stored source."""
        spec = CameraSpec(name, {**self.defaults, "source": source})
        check_camera(spec, f"database camera {name!r}", self.holidays)
        return spec

    def timetable(self, name: str, zone: ZoneInfo) -> Timetable | None:
        """The camera's timetable in ``zone`` (None: always on)."""
        spec = self.camera(name) or CameraSpec(name, dict(self.defaults))
        if spec.always_on:
            return None
        if "timetable" not in spec.options:
            raise ServeConfigError(f"camera {name!r} has no timetable in {self.path}")
        return build_timetable(
            spec.options["timetable"],
            zone=zone,
            holidays=self.holidays,
            changes=spec.options.get("changes", []),
            what=f"camera {name!r} timetable",
        )


def _check_table(raw: Any, what: str, options: Mapping[str, tuple]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ServeConfigError(f"{what} must be a table")
    for key, value in raw.items():
        if key not in options:
            raise ServeConfigError(f"{what}: unknown key {key!r} (allowed: {', '.join(options)})")
        check, good = options[key][0], options[key][1]
        if not check(value):
            raise ServeConfigError(f"{what}: {key} = {value!r} is not {good}")
    return dict(raw)


def check_camera(spec: CameraSpec, what: str, holidays: tuple[Holiday, ...]) -> None:
    """Refuse a camera that cannot run: no source, no timetable and not always on, a bad period."""
    if "source" not in spec.options:
        raise ServeConfigError(f"{what}: missing 'source'")
    try:
        spec.camera_changes()
    except CameraConfigError as exc:
        raise ServeConfigError(f"{what}: {exc}") from exc
    if spec.always_on:
        return
    if "timetable" not in spec.options:
        raise ServeConfigError(
            f"{what}: no timetable; give one, or set always_on = true to record at all hours"
        )
    try:
        build_timetable(
            spec.options["timetable"], holidays=holidays, changes=spec.options.get("changes", []), what=what
        )
    except TimetableError as exc:
        raise ServeConfigError(str(exc)) from exc


def parse_config(raw: Mapping[str, Any], path: Path) -> ServeConfig:
    for key in raw:
        if key not in TOP_LEVEL:
            raise ServeConfigError(f"{path}: unknown key {key!r} (allowed: {', '.join(TOP_LEVEL)})")
    serve = _check_table(raw.get("serve", {}), "[serve]", SERVE_OPTIONS)
    dashboard = None
    if "dashboard" in raw:
        dashboard = _check_table(raw["dashboard"], "[dashboard]", DASHBOARD_OPTIONS)
    defaults = _check_table(raw.get("defaults", {}), "[defaults]", CAMERA_OPTIONS)
    try:
        holidays = parse_holidays(raw.get("holidays", []), "[[holidays]]")
    except TimetableError as exc:
        raise ServeConfigError(str(exc)) from exc
    cameras_raw = raw.get("cameras", [])
    if not isinstance(cameras_raw, list):
        raise ServeConfigError("cameras must be [[cameras]] tables")
    cameras: list[CameraSpec] = []
    for i, table in enumerate(cameras_raw, start=1):
        if not isinstance(table, Mapping):
            raise ServeConfigError(f"camera {i}: must be a [[cameras]] table")
        name = table.get("name")
        what = f"camera {name!r}" if _str(name) else f"camera {i}"
        try:  # the one camera-name rule (monitor.cameras), as for worker --camera and the admin page
            name = clean_camera_name(name if isinstance(name, str) else None)
        except CameraConfigError as exc:
            raise ServeConfigError(f"{what}: missing or bad 'name' ({exc})") from exc
        if any(camera_name_key(c.name) == camera_name_key(name) for c in cameras):
            raise ServeConfigError(f"{what}: listed twice (names ignore case and spacing)")
        options = _check_table({k: v for k, v in table.items() if k != "name"}, what, CAMERA_OPTIONS)
        spec = CameraSpec(name, {**defaults, **options})
        check_camera(spec, what, holidays)
        cameras.append(spec)
    if not cameras and not serve.get("database_cameras", False):
        raise ServeConfigError(f"{path}: no [[cameras]] (and database_cameras is not true)")
    return ServeConfig(
        path=path,
        cameras=tuple(cameras),
        defaults=defaults,
        holidays=holidays,
        dashboard=dashboard,
        **{k: (Path(v) if k == "log_dir" else v) for k, v in serve.items()},
    )


def load_config(path: str | Path) -> ServeConfig:
    """Read and check the school config at ``path``; raises ``ServeConfigError``."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ServeConfigError(f"config file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ServeConfigError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ServeConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    return parse_config(raw, path)
