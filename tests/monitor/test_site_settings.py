"""One resolver: which keys are site-wide, how each is validated, and the admins' CLI for them."""

from __future__ import annotations

import json

import pytest

from monitor.config import ConfigError, load_settings
from monitor.store.site_settings import SITE_KEYS, SettingError, validate
from tests.conftest import run_cli


def test_json_values_must_have_the_right_type() -> None:
    assert validate({"mode": "attention", "class_only": True, "retention_days": 30}) == {
        "mode": "attention",
        "class_only": True,
        "retention_days": 30,
    }
    for bad in ({"mode": "spy"}, {"class_only": "yes"}, {"retention_days": -1}, {"retention_days": True}):
        with pytest.raises(SettingError):
            validate(bad)


def test_text_from_the_cli_or_a_form_is_read_as_the_keys_type() -> None:
    assert validate({"class_only": "on", "retention_days": "14"}, from_text=True) == {
        "class_only": True,
        "retention_days": 14,
    }
    for bad in ({"retention_days": "²"}, {"retention_days": "36501"}, {"class_only": "maybe"}):
        with pytest.raises(SettingError):
            validate(bad, from_text=True)


def test_unknown_keys_are_refused_and_named() -> None:
    with pytest.raises(SettingError, match="unknown setting 'colour'"):
        validate({"colour": 1})


@pytest.mark.parametrize("key", ["class_only", "retention_days"])
def test_a_site_wide_key_in_a_config_file_points_to_the_database(tmp_path, key) -> None:
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(f"{key} = 1\n")
    with pytest.raises(ConfigError, match="site-wide setting kept in the database"):
        load_settings(cfg, env={})


def test_settings_cli_shows_sets_and_refuses_with_one_line(db_url) -> None:
    shown = run_cli("--db", db_url, "settings", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["site"] == {k.name: k.default for k in SITE_KEYS.values()}
    assert data["process"]["secret_key"] is None and "db_url" in data["process"]

    assert run_cli("--db", db_url, "settings", "set", "class_only", "true").returncode == 0
    assert (
        json.loads(run_cli("--db", db_url, "settings", "show", "--json").stdout)["site"]["class_only"] is True
    )

    for args, message in (
        (("mode", "spy"), "mode must be 'emotion' or 'attention'"),
        (("retention_days", "1000000000"), "retention_days must be a whole number"),
        (("detector", "haar"), "detector is a per-process setting"),
        (("colour", "red"), "unknown setting 'colour'"),
    ):
        proc = run_cli("--db", db_url, "settings", "set", *args)
        assert proc.returncode != 0
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("raw", ["nan", "inf", "-1"])
def test_a_number_setting_from_the_environment_must_be_finite_and_not_negative(raw) -> None:
    with pytest.raises(ConfigError, match="sample_fps"):
        load_settings(env={"CLASSROOM_MONITOR_SAMPLE_FPS": raw})
