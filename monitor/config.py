"""Configuration, read once at start: defaults → TOML file → environment → command-line flags.

Every setting has one name. In the file it is a top-level key (``db_url = "..."``); in the environment it is
``CLASSROOM_MONITOR_<NAME>`` upper-cased (``CLASSROOM_MONITOR_DB_URL``; ``CLASSROOM_MONITOR_DB`` is accepted
as a short alias); flags override both.

These are the **per-process** settings. The **site-wide** ones (privacy mode, class-only, retention) live in
the database, where every process reads them while it runs: see :mod:`monitor.store.site_settings`
(``classroom-monitor settings show|set``). A site-wide key in a file or the environment is refused with a
pointer there. The one overlap is ``mode``: a process may be started stricter than the site (attention-only),
never looser.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "CLASSROOM_MONITOR_"
REPO_ROOT = Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """Where the default SQLite file lives: ``$XDG_DATA_HOME/classroom-monitor`` (``~/.local/share/...``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "classroom-monitor"


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message is meant for the user."""


MODES = ("emotion", "attention")
SITE_WIDE_KEYS = ("class_only", "retention_days")
"""Keys that only the database holds (see monitor.store.site_settings); refused here with a pointer there."""

TRACKERS = ("bytetrack", "iou")
"""Tracker names (see monitor.track): ByteTrack-style by default, the earlier greedy IoU matcher."""

MODEL_PRECISIONS = ("auto", "float32", "int8")
"""Which exported file the worker runs; see monitor.classify.model_file."""

COOKIE_SECURE_MODES = ("auto", "always", "never")
"""Whether the dashboard's cookies are ``Secure``: auto (when the request came over HTTPS), always, never."""

MAX_LIVE_PER_USER = 1_000
"""The most live-feed connections one account may be allowed (``live_connections_per_user``)."""

MAX_IDLE_HOURS = 24 * 366
"""The longest ``session_idle_hours`` (a year)."""


@dataclass
class EngagementWeights:
    """Weights of the class engagement index (see monitor/engagement.py); they are renormalised to sum 1."""

    presence: float = 0.3
    attention: float = 0.5
    expression: float = 0.2


@dataclass
class Settings:
    db_url: str = field(default_factory=lambda: f"sqlite:///{default_data_dir() / 'classroom-monitor.db'}")
    models_dir: Path = REPO_ROOT / "models"
    redis_url: str | None = None
    # emotion | attention: this process's floor; the site-wide mode (database) applies on top, stricter wins
    mode: str = "emotion"
    detector: str = "yunet"  # one of monitor.detect.DETECTORS
    # auto: model_int8.tflite when the model directory ships one (kept only within 1 point), else float32
    model_precision: str = "auto"
    detect_every: int = 5  # students sit still: 6 detections a second at 30 fps; the tracker coasts between
    # yunet: a full detector pass every this many detections, between them only the region around the
    # tracked faces (monitor/detectors/regions.py; same recall on the labelled clip, 40% less detector CPU);
    # 1: always the whole frame
    full_detect_every: int = 5
    # emotion estimates per frame: new faces always, then the faces with the oldest estimate (0: all faces)
    classify_per_frame: int = 2
    tracker: str = "bytetrack"  # one of TRACKERS
    sample_fps: float = 0.0  # 0: process every frame the source gives
    batch_interval_s: float = 0.5
    smoothing: float = 0.6  # weight of a track's history in its exponential moving average
    expected_faces: int = 0  # class size for the presence term; 0: the most faces seen so far
    engagement: EngagementWeights = field(default_factory=EngagementWeights)
    read_timeout_s: float = 5.0
    reconnect_max_s: float = 30.0
    secret_key: str | None = None
    # encrypts camera passwords stored from the admin page (monitor/store/camera_sources.py); never in the DB
    camera_key: str | None = None
    # the mail server login's password (site setting smtp_username; monitor/mail.py); never in the DB
    smtp_password: str | None = None
    # dashboard: log out after this many idle hours (a school day); see dashboard/usersessions.py
    session_idle_hours: float = 10.0
    cookie_secure: str = "auto"  # auto: Secure cookies when the request came over HTTPS | always | never
    proxy_hops: int = 0  # reverse proxies in front of the dashboard whose X-Forwarded-* headers are trusted
    # dashboard: live-feed connections (WebSockets) one account may hold open at once; see dashboard/live.py
    live_connections_per_user: int = 8
    log_level: str = "INFO"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; ``None`` values are ignored (flags that were not given)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _coerce(name: str, raw: Any, current: Any) -> Any:
    if isinstance(current, bool):
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "yes", "on")
    try:
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            value = float(raw)
            if not math.isfinite(value) or value < 0:
                raise ValueError(value)
            return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: expected a number of 0 or more, got {raw!r}") from exc
    if isinstance(current, Path):
        return Path(str(raw)).expanduser()
    return raw


def load_settings(config_file: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from defaults, an optional TOML file and the environment."""
    env = dict(os.environ) if env is None else env
    settings = Settings()
    values: dict[str, Any] = {}
    path = config_file or env.get(f"{ENV_PREFIX}CONFIG")
    if path:
        try:
            values.update(tomllib.loads(Path(path).read_text()))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not UTF-8 text (a TOML file): {exc}") from exc
        except (OSError, ValueError) as exc:  # a folder, no permission, a NUL in the name
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    if f"{ENV_PREFIX}DB" in env:
        values["db_url"] = env[f"{ENV_PREFIX}DB"]
    for f in dataclasses.fields(Settings):
        key = f"{ENV_PREFIX}{f.name.upper()}"
        if key in env:
            values[f.name] = env[key]
    for name, raw in values.items():
        if name == "engagement":
            if not isinstance(raw, dict):
                raise ConfigError("engagement must be a table of weights (presence, attention, expression)")
            try:
                settings.engagement = EngagementWeights(**{k: float(v) for k, v in raw.items()})
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"engagement weights: {exc}") from exc
            continue
        if name in SITE_WIDE_KEYS:
            raise ConfigError(
                f"{name} is a site-wide setting kept in the database: "
                f"use `classroom-monitor settings set {name} VALUE`"
            )
        if not hasattr(settings, name):
            raise ConfigError(f"unknown setting {name!r}")
        setattr(settings, name, _coerce(name, raw, getattr(settings, name)))
    check_settings(settings)
    return settings


@dataclass(frozen=True)
class ProcessKey:
    """How one per-process setting is checked: ``valid(value)``, and what a good value is, for the message."""

    name: str
    valid: Callable[[Any], bool]
    expected: str  # the text after "<name> must be"


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], bool]:
    return lambda v: v in choices


def _whole(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


PROCESS_KEYS: dict[str, ProcessKey] = {
    k.name: k
    for k in (
        ProcessKey("mode", _one_of(MODES), "'emotion' or 'attention'"),
        ProcessKey("tracker", _one_of(TRACKERS), f"one of {', '.join(TRACKERS)}"),
        ProcessKey("model_precision", _one_of(MODEL_PRECISIONS), f"one of {', '.join(MODEL_PRECISIONS)}"),
        ProcessKey(
            "session_idle_hours",
            lambda v: isinstance(v, int | float) and 0 < v <= MAX_IDLE_HOURS,
            f"above 0 (hours, at most {MAX_IDLE_HOURS})",
        ),
        ProcessKey("cookie_secure", _one_of(COOKIE_SECURE_MODES), f"one of {', '.join(COOKIE_SECURE_MODES)}"),
        ProcessKey("proxy_hops", _whole(0, 10), "0 to 10"),
        ProcessKey("live_connections_per_user", _whole(1, MAX_LIVE_PER_USER), f"1 to {MAX_LIVE_PER_USER}"),
        ProcessKey("detect_every", _whole(1, 300), "1 to 300 (detect on every Nth frame)"),
        ProcessKey("full_detect_every", _whole(1, 100), "1 (full-frame passes only) to 100"),
    )
}
"""The per-process settings that have rules beyond their type, checked in one place (like the site's
``SITE_KEYS``): at load for every command, and again by the dashboard for settings built in code."""


def check_settings(settings: Settings, names: Iterable[str] | None = None) -> None:
    """Raise ``ConfigError`` (one line) for the first of ``names`` (default: every ``PROCESS_KEYS`` entry)
    whose value ``settings`` cannot use."""
    for name in PROCESS_KEYS if names is None else names:
        key, value = PROCESS_KEYS[name], getattr(settings, name)
        if not key.valid(value):
            raise ConfigError(f"{name} must be {key.expected}, not {value!r}")
