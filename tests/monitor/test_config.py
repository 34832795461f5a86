"""Settings come from defaults, then a file, then the environment, then flags."""

from __future__ import annotations

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
