"""An export never destroys data: not the database it reads, not a model file, not an existing file."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.reports import write_report
from monitor.reports.core import ReportError
from monitor.safe_paths import UnsafePathError, check_output_dir, check_output_path
from monitor.store import make_engine, session_factory
from monitor.store.schema import ClassSession


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def victim(seeded, tmp_path, monkeypatch) -> Path:
    """A private copy of the seeded database (a test that fails must not destroy the shared one)."""
    monkeypatch.chdir(tmp_path)
    for key in ("CLASSROOM_MONITOR_DB", "CLASSROOM_MONITOR_DB_URL", "CLASSROOM_MONITOR_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    src = Path(seeded.url.removeprefix("sqlite:///"))
    engine = make_engine(seeded.url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    path = tmp_path / "victim.db"
    shutil.copyfile(src, path)
    return path


def export(db: Path, *args: str, models_dir: Path | None = None):
    env = {"CLASSROOM_MONITOR_MODELS_DIR": str(models_dir)} if models_dir else {}
    return CliRunner().invoke(cli, ["--db", str(db), "export", *args], env=env, catch_exceptions=False)


def _session_count(db: Path) -> int:
    engine = make_engine(db)
    try:
        with session_factory(engine)() as s:
            return s.query(ClassSession).count()
    finally:
        engine.dispose()


@pytest.mark.parametrize("force", [False, True])
def test_export_over_the_database_it_reads_is_refused(victim, seeded, force):
    before = _digest(victim)
    result = export(
        victim, str(seeded.ended), "--format", "csv", "--out", "victim.db", *(["--force"] * force)
    )
    assert result.exit_code == 1, result.output
    assert "is the database" in result.output and "Traceback" not in result.output
    assert "wrote" not in result.output
    assert _digest(victim) == before
    assert _session_count(victim) >= 4


@pytest.mark.parametrize("name", ["victim.db-wal", "victim.db-shm", "victim.db-journal"])
def test_export_over_the_sqlite_side_files_is_refused(victim, seeded, name):
    result = export(victim, str(seeded.ended), "--out", name, "--force")
    assert result.exit_code == 1 and "is the database" in result.output


def test_export_through_a_link_to_the_database_is_refused(victim, seeded, tmp_path):
    (tmp_path / "soft.db").symlink_to(victim)
    (tmp_path / "hard.db").hardlink_to(victim)
    before = _digest(victim)
    for name in ("soft.db", "hard.db", "./sub/../victim.db"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        result = export(victim, str(seeded.ended), "--out", name, "--force")
        assert result.exit_code == 1 and "is the database" in result.output, (name, result.output)
    assert _digest(victim) == before


def test_bulk_zip_over_the_database_is_refused(victim, seeded):
    result = export(
        victim, "--camera", "Room 101", "-f", "csv", "-f", "json", "--out", "victim.db", "--force"
    )
    assert result.exit_code == 1 and "is the database" in result.output
    assert _session_count(victim) >= 4


def test_export_into_the_models_folder_is_refused(victim, seeded, tmp_path):
    models = tmp_path / "models"
    (models / "cnn-v1").mkdir(parents=True)
    model_file = models / "cnn-v1" / "model.tflite"
    model_file.write_bytes(b"TFL3 weights")
    for out in (str(model_file), str(models), str(models / "cnn-v1" / "new.csv")):
        result = export(victim, str(seeded.ended), "--out", out, "--force", models_dir=models)
        assert result.exit_code == 1 and "inside the models folder" in result.output, (out, result.output)
    assert model_file.read_bytes() == b"TFL3 weights"
    assert sorted(p.name for p in models.rglob("*")) == ["cnn-v1", "model.tflite"]


def test_an_existing_file_is_kept_unless_force(victim, seeded, tmp_path):
    keep = tmp_path / "report.csv"
    keep.write_text("my notes\n")
    result = export(victim, str(seeded.ended), "--out", "report.csv")
    assert result.exit_code == 1 and "exists already; pass --force" in result.output
    assert keep.read_text() == "my notes\n"
    assert not list(tmp_path.glob(".*.part"))
    result = export(victim, str(seeded.ended), "--out", "report.csv", "--force")
    assert result.exit_code == 0, result.output
    assert keep.read_text().startswith("timestamp,")


def test_default_file_name_is_not_overwritten_either(victim, seeded, tmp_path):
    assert export(victim, str(seeded.ended)).exit_code == 0
    [first] = tmp_path.glob("session-*.csv")
    first.write_text("edited\n")
    result = export(victim, str(seeded.ended))
    assert result.exit_code == 1 and "exists already" in result.output
    assert first.read_text() == "edited\n"


def test_library_write_report_protects_the_database_it_reads(victim, seeded):
    engine = make_engine(victim)
    try:
        with session_factory(engine)() as db, pytest.raises(ReportError, match="is the database"):
            write_report(db, seeded.ended, "csv", victim, force=True)
    finally:
        engine.dispose()
    assert _session_count(victim) >= 4


def test_out_of_range_session_id_is_a_usage_error(victim):
    result = export(victim, "99999999999999999999999")
    assert result.exit_code == 2
    assert "99999999999999999999999 is not in the range" in result.output
    assert "Traceback" not in result.output and "OverflowError" not in result.output


def test_check_output_path_and_dir(tmp_path):
    db = tmp_path / "m.db"
    db.write_bytes(b"x")
    models = tmp_path / "models"
    (models / "active").mkdir(parents=True)
    with pytest.raises(UnsafePathError, match="is the database"):
        check_output_path(tmp_path / "m.db-wal", db_url=str(db), force=True)
    with pytest.raises(UnsafePathError, match="models folder"):
        check_output_path(models / "x", db_url=str(db), models_dir=models, force=True)
    with pytest.raises(UnsafePathError, match="is a folder"):
        check_output_path(tmp_path, db_url=str(db))
    assert check_output_path(tmp_path / "new.csv", db_url=str(db)) == (tmp_path / "new.csv").resolve()
    # Training output folders: a new model folder under models/ is fine, the folder in use is not.
    assert check_output_dir(models / "new-v2", db_url=str(db), models_dir=models, protected_dirs=[])
    for bad in (models, tmp_path, models / "active", db):
        with pytest.raises(UnsafePathError):
            check_output_dir(bad, db_url=str(db), models_dir=models, protected_dirs=[models / "active"])


def test_training_never_writes_over_the_database_or_the_model_in_use(victim, tmp_path):
    models = tmp_path / "models"
    (models / "shipped-v1").mkdir(parents=True)
    (models / "shipped-v1" / "model.tflite").write_bytes(b"TFL3 weights")
    (models / "DEFAULT").write_text("shipped-v1\n")
    env = {"CLASSROOM_MONITOR_MODELS_DIR": str(models)}
    data = tmp_path / "faces.csv"
    db = "is the database"
    cases = [
        (["train", "--data", str(data), "--out", str(models / "shipped-v1")], "model directory in use"),
        (["train", "--data", str(data), "--out", str(models)], "is the models folder"),
        (["train", "--data", str(data), "--out", "new-v2", "--work-dir", "victim.db-wal"], db),
        (["ensemble", "--member", "a", "--member", "b", "--data", str(data), "--out", "victim.db"], db),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, ["--db", str(victim), *args], env=env, catch_exceptions=False)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert (models / "shipped-v1" / "model.tflite").read_bytes() == b"TFL3 weights"
    assert sorted(p.name for p in models.iterdir()) == ["DEFAULT", "shipped-v1"]
