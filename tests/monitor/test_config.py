"""Settings come from defaults, then a file, then the environment, then flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings
from tests.conftest import cli_env, run_cli


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "cm.toml"
    cfg.write_text('db_url = "sqlite:///from-file.db"\ndetect_every = 5\n[engagement]\nattention = 0.9\n')
    s = load_settings(cfg, env={"CLASSROOM_MONITOR_DETECT_EVERY": "2"})
    assert s.db_url == "sqlite:///from-file.db"
    assert s.detect_every == 2
    assert s.engagement.attention == 0.9
    assert s.replace(detect_every=7, db_url=None).detect_every == 7
    assert load_settings(env={"CLASSROOM_MONITOR_DB": "x.db"}).db_url == "x.db"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("nonsense = 1", {}, "unknown setting"),
        ("detect_every = 'many'", {}, "expected a number"),
        ("", {"CLASSROOM_MONITOR_MODE": "spy"}, "mode must be"),
        ("this is not toml", {}, "not valid TOML"),
    ],
)
def test_bad_settings_are_refused_with_a_message(tmp_path: Path, text: str, env: dict, message: str) -> None:
    cfg = tmp_path / "cm.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg, env=env)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 4, "is not UTF-8 text"),  # a binary file (an image, a database) by mistake
        (b"\xff\xfed\x00b\x00", "is not UTF-8 text"),  # UTF-16 with a byte-order mark
        (None, "cannot read config file"),  # a folder
    ],
)
def test_an_unreadable_config_file_is_one_clear_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    cfg = tmp_path / "cm.toml"
    if content is None:
        cfg.mkdir()
    else:
        cfg.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg, env={})
    for args, env in (
        (["--config", str(cfg), "status"], cli_env()),
        (["status"], {**cli_env(), "CLASSROOM_MONITOR_CONFIG": str(cfg)}),
    ):
        proc = run_cli(*args, env=env)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr, proc.stderr
        assert message in proc.stderr or "is a directory" in proc.stderr, proc.stderr  # click checks --config


PROCESS_BAD = {
    "mode": ("spy", "mode must be 'emotion' or 'attention', not 'spy'"),
    "tracker": ("sort", "tracker must be one of bytetrack, iou, not 'sort'"),
    "model_precision": ("int4", "model_precision must be one of auto, float32, int8, not 'int4'"),
    "session_idle_hours": ("0", "session_idle_hours must be above 0 (hours, at most 8784), not 0.0"),
    "cookie_secure": ("sometimes", "cookie_secure must be one of auto, always, never, not 'sometimes'"),
    "proxy_hops": ("11", "proxy_hops must be 0 to 10, not 11"),
    "live_connections_per_user": ("0", "live_connections_per_user must be 1 to 1000, not 0"),
    # 0 used to mean "full passes only" by accident and detect_every 0 was silently raised to 1
    "detect_every": ("0", "detect_every must be 1 to 300 (detect on every Nth frame), not 0"),
    "full_detect_every": ("0", "full_detect_every must be 1 (full-frame passes only) to 100, not 0"),
}


def test_every_per_process_rule_is_one_row_of_one_table() -> None:
    from monitor.config import PROCESS_KEYS, Settings, check_settings

    assert set(PROCESS_KEYS) == set(PROCESS_BAD)
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(PROCESS_KEYS) <= fields
    check_settings(Settings())  # the defaults pass


@pytest.mark.parametrize("name", sorted(PROCESS_BAD))
def test_a_bad_per_process_value_is_refused_at_load_by_every_command(name: str, db_url: str) -> None:
    raw, message = PROCESS_BAD[name]
    env_name = f"CLASSROOM_MONITOR_{name.upper()}"
    with pytest.raises(ConfigError) as err:
        load_settings(env={env_name: raw})
    assert str(err.value) == message
    # not only the dashboard: a worker-side command refuses it too, with one line and exit 1
    proc = run_cli("--db", db_url, "settings", "show", env={**cli_env(), env_name: raw})
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"Error: {message}"], proc.stderr


def test_the_dashboard_checks_settings_built_in_code_by_the_same_table() -> None:
    from dashboard.live import check_live_settings
    from dashboard.usersessions import check_settings as check_login_settings
    from monitor.config import Settings

    with pytest.raises(ValueError, match=r"^proxy_hops must be 0 to 10, not 11$"):
        check_login_settings(Settings(proxy_hops=11))
    with pytest.raises(ValueError, match=r"^live_connections_per_user must be 1 to 1000, not True$"):
        check_live_settings(Settings(live_connections_per_user=True))
