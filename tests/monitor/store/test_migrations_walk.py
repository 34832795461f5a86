"""Every migration, down and up, on a populated database keeps the rows of every table it does not drop.

SQLite rebuilds a table in batch mode with ``DROP TABLE``; with foreign keys on, that drop cascaded into
every child table (sessions, observations, teacher-camera assignments). The walk runs on SQLite and on a
real PostgreSQL, with every table filled, and compares row counts after each step.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, func, select

from monitor.store import DatabaseError, make_engine
from monitor.store.migrate import MIGRATIONS_DIR, alembic_config

ROWS_PER_TABLE = 3
LESSON_TABLES = (
    "cameras",
    "users",
    "camera_assignments",
    "class_sessions",
    "observations",
    "session_rollups",
)


def revisions_base_to_head(url: str) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the database (Alembic's own table left out)."""
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        return {
            name: conn.scalar(select(func.count()).select_from(table))
            for name, table in meta.tables.items()
            if name != "alembic_version"
        }


def _value(column, i: int):
    """A value for row ``i`` of a reflected column; a foreign key points at row ``i`` of the parent."""
    if column.foreign_keys:
        return i
    kind = column.type.python_type
    if kind is bool:
        return True
    if kind is int:
        return i
    if kind is float:
        return 0.5
    if kind is datetime:
        return datetime(2026, 11, 20, 9, tzinfo=UTC) + timedelta(minutes=i)
    if kind is date:
        return date(2026, 11, 20) + timedelta(days=i)
    if kind is time:
        return time(9, i)
    if kind is str:
        text = f"{column.name}-{i}"
        length = getattr(column.type, "length", None)
        return text[-length:] if length else text
    raise AssertionError(f"no test value for {column.table.name}.{column.name} ({column.type})")


def fill_empty_tables(engine: Engine) -> None:
    """Put ``ROWS_PER_TABLE`` rows in every empty table, parents first, every column set."""
    meta = MetaData()
    with engine.begin() as conn:
        meta.reflect(conn)
        for table in meta.sorted_tables:
            if table.name == "alembic_version" or conn.scalar(select(func.count()).select_from(table)):
                continue
            rows = [{c.name: _value(c, i) for c in table.columns} for i in range(1, ROWS_PER_TABLE + 1)]
            conn.execute(table.insert(), rows)


def assert_kept(before: dict[str, int], after: dict[str, int], step: str) -> None:
    common = before.keys() & after.keys()
    lost = {name: (before[name], after[name]) for name in sorted(common) if before[name] != after[name]}
    assert not lost, f"{step}: row counts changed (before, after): {lost}"


def walk(url: str) -> None:
    """0001 filled, up one step at a time to head, fill the new tables, down to 0001 and up to head again."""
    cfg = alembic_config(url)
    revisions = revisions_base_to_head(url)
    engine = make_engine(url)
    try:
        command.upgrade(cfg, revisions[0])
        fill_empty_tables(engine)
        counts = row_counts(engine)
        assert all(counts[name] == ROWS_PER_TABLE for name in LESSON_TABLES), counts
        for previous, rev in zip(revisions, revisions[1:], strict=False):
            command.upgrade(cfg, rev)
            now = row_counts(engine)
            assert_kept(counts, now, f"upgrade {previous} -> {rev}")
            counts = now
        fill_empty_tables(engine)
        at_head = counts = row_counts(engine)
        assert min(at_head.values()) == ROWS_PER_TABLE, at_head
        everywhere = set(at_head)  # the tables no step drops
        for rev, previous in zip(revisions[::-1], revisions[::-1][1:], strict=False):
            command.downgrade(cfg, previous)
            now = row_counts(engine)
            assert_kept(counts, now, f"downgrade {rev} -> {previous}")
            counts = now
            everywhere &= set(now)
        for previous, rev in zip(revisions, revisions[1:], strict=False):
            command.upgrade(cfg, rev)
            now = row_counts(engine)
            assert_kept(counts, now, f"upgrade again {previous} -> {rev}")
            counts = now
        # The tables of the first revision went down and up again with all their rows.
        assert {"cameras", "observations"} <= everywhere
        assert_kept({name: at_head[name] for name in everywhere}, counts, "down to the first and up again")
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    finally:
        engine.dispose()


def test_every_migration_down_and_up_keeps_the_rows_on_sqlite(tmp_path: Path) -> None:
    walk(f"sqlite:///{tmp_path / 'walk.db'}")


def test_every_migration_down_and_up_keeps_the_rows_on_postgresql(postgres) -> None:
    walk(postgres.new_database())


def test_a_lesson_survives_a_downgrade_to_0003_and_an_upgrade_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lessons.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = make_engine(url)
    try:
        fill_empty_tables(engine)
        before = row_counts(engine)
        command.downgrade(cfg, "0003")
        command.upgrade(cfg, "head")
        after = row_counts(engine)
    finally:
        engine.dispose()
    for name in (
        "class_sessions",
        "observations",
        "session_rollups",
        "track_summaries",
        "camera_assignments",
    ):
        assert after[name] == before[name] == ROWS_PER_TABLE, name


def test_upgrading_a_0001_database_keeps_the_teachers_cameras(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "0001")
    engine = make_engine(url)
    try:
        fill_empty_tables(engine)
        command.upgrade(cfg, "0002")
        assert row_counts(engine)["camera_assignments"] == ROWS_PER_TABLE
    finally:
        engine.dispose()


def test_a_migration_that_leaves_rows_without_parents_is_rolled_back(tmp_path: Path) -> None:
    """A (deliberately bad) migration after head deletes every camera: foreign_key_check catches the
    orphaned sessions before the commit, and the database stays as it was, revision included."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = revisions_base_to_head(f"sqlite:///{tmp_path / 'x.db'}")[-1]
    (scripts / "versions" / "9999_bad.py").write_text(
        f'revision = "9999"\ndown_revision = "{head}"\nbranch_labels = None\ndepends_on = None\n\n'
        "from alembic import op\n\n\ndef upgrade():\n    op.execute('DELETE FROM cameras')\n"
    )
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    try:
        fill_empty_tables(engine)
        before = row_counts(engine)
        cfg = alembic_config(url)
        cfg.set_main_option("script_location", str(scripts))
        with pytest.raises(DatabaseError, match="rows pointing at missing parents"):
            command.upgrade(cfg, "9999")
        assert row_counts(engine) == before
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head
    finally:
        engine.dispose()
