"""``models activate`` switches running workers to the new model without a restart."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from monitor.registry import active_model_dir
from tests.conftest import cli_env, run_cli, start_cli


def heartbeat_model(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT model_version FROM worker_status")).first()
    engine.dispose()
    return row[0] if row else None


def test_activated_model_reaches_a_running_worker(db_url: str, tmp_path: Path) -> None:
    models = tmp_path / "models"
    for version in ("fer-a", "fer-b"):
        shutil.copytree(active_model_dir(), models / version)
    env = cli_env(CLASSROOM_MONITOR_MODELS_DIR=str(models))
    listed = run_cli("--db", db_url, "models", "list", env=env)
    assert listed.returncode == 0 and "fer-a" in listed.stdout and "fer-b" in listed.stdout
    assert run_cli("--db", db_url, "models", "activate", "fer-a", env=env).returncode == 0

    proc = start_cli("--db", db_url, "worker", "--camera", "c", "--source", "sample", env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and heartbeat_model(db_url) != "fer-a":
            time.sleep(0.3)
        assert heartbeat_model(db_url) == "fer-a"
        assert run_cli("--db", db_url, "models", "activate", "fer-b", env=env).returncode == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and heartbeat_model(db_url) != "fer-b":
            time.sleep(0.3)
        assert heartbeat_model(db_url) == "fer-b"
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert "switched to model fer-b" in err


def test_activating_an_unknown_version_is_a_clear_error(db_url: str) -> None:
    proc = run_cli("--db", db_url, "models", "activate", "no-such-model")
    assert proc.returncode != 0
    assert "unknown model version" in proc.stderr and "Traceback" not in proc.stderr


def test_without_an_activated_version_the_models_default_file_decides(tmp_path: Path) -> None:
    import os

    from monitor.registry import shipped_models

    models = tmp_path / "models"
    for i, version in enumerate(("older", "newer")):
        (models / version).mkdir(parents=True)
        (models / version / "model.tflite").write_bytes(b"x")
        os.utime(models / version / "model.tflite", (1_000_000 + i, 1_000_000 + i))
    assert [d.name for d in shipped_models(models)] == ["newer", "older"]  # no DEFAULT: newest first
    (models / "DEFAULT").write_text("older\n")
    assert [d.name for d in shipped_models(models)] == ["older", "newer"]
    assert active_model_dir(None, models).name == "older"
    (models / "DEFAULT").write_text("gone-version\n")
    assert active_model_dir(None, models).name == "newer"


def test_the_repository_names_a_shipped_default_model() -> None:
    from monitor.classify import has_runtime
    from monitor.registry import DEFAULT_FILE, DEFAULT_MODELS_DIR

    default = (DEFAULT_MODELS_DIR / DEFAULT_FILE).read_text().strip()
    assert has_runtime(DEFAULT_MODELS_DIR / default)
    assert active_model_dir(None).name == default
