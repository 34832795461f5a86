"""Whole-lesson figures from the per-second rollups, alike on SQLite and PostgreSQL, and kept once ended."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from monitor.store import make_engine, session_factory
from monitor.store.lesson_stats import (
    SPARK_POINTS,
    class_labels,
    compute,
    figures_for,
    find_lessons,
    save_rows,
)
from monitor.store.queries import people_in_view
from monitor.store.schema import Camera, ClassSession, LessonStats, SessionRollup

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def seed(url: str) -> tuple[int, int, int]:
    """A 240 s lesson whose people in view and heads-up ratio change each minute; an empty and a live one."""
    engine = make_engine(url, writer=True)
    with session_factory(engine).begin() as db:
        cam = Camera(name="room")
        db.add(cam)
        db.flush()
        lessons = [
            ClassSession(
                camera_id=cam.id,
                label="Maths 7B · Mon period 1",
                started_at=START,
                ended_at=START + timedelta(seconds=240),
                attention_basis="in_view",
            ),
            ClassSession(
                camera_id=cam.id,
                label="Maths 7B",
                started_at=START + timedelta(days=1),
                ended_at=START + timedelta(days=1, seconds=60),
                attention_basis="in_view",
            ),
            ClassSession(
                camera_id=cam.id,
                label="Art",
                started_at=datetime.now(UTC) - timedelta(seconds=100),
                attention_basis=None,
            ),
        ]
        db.add_all(lessons)
        db.flush()
        ids = [cs.id for cs in lessons]
        rows = []
        for k in range(240):
            people = (2, 3, 3, 5)[k // 60]
            up = (0.9, 0.6, 0.3, 0.8)[k // 60]
            rows.append(
                dict(
                    session_id=ids[0],
                    bucket_start=START + timedelta(seconds=k),
                    frames=4,
                    faces=4 * people,
                    attention_sum=0.5 * 4 * people,
                    engagement_sum=4 * 0.5,
                    heads_up_sum=4 * up,
                )
            )
        for k in range(60):  # frames but nobody in view
            rows.append(
                dict(
                    session_id=ids[1],
                    bucket_start=START + timedelta(days=1, seconds=k),
                    frames=4,
                    faces=0,
                    attention_sum=0.0,
                    engagement_sum=0.0,
                    heads_up_sum=0.0,
                )
            )
        db.execute(insert(SessionRollup), rows)
    engine.dispose()
    return ids[0], ids[1], ids[2]


def test_figures_match_the_per_second_definitions(any_db_url: str) -> None:
    full, empty, running = seed(any_db_url)
    engine = make_engine(any_db_url)
    with session_factory(engine)() as db:
        lessons = find_lessons(db, None)
        figs = compute(db, lessons)
        f = figs[full]
        assert (f.seconds, f.frames, f.faces) == (240, 960, 4 * 60 * (2 + 3 + 3 + 5))
        assert f.attention("in_view") == pytest.approx(statistics.fmean([0.9, 0.6, 0.3, 0.8]))
        assert f.engagement() == pytest.approx(0.5)
        expected = people_in_view(db, full)
        assert (f.people_typical, f.people_peak) == (expected.typical, expected.peak) == (3.0, 5.0)
        assert len(f.sparkline) == SPARK_POINTS
        assert f.sparkline[0] == pytest.approx(0.9) and f.sparkline[-1] == pytest.approx(0.8)
        assert f.sparkline[9] == pytest.approx(0.6) and f.sparkline[15] == pytest.approx(0.3)
        assert figs[empty].empty_reason() == "no faces detected" and figs[empty].attention("in_view") is None
        assert figs[running].empty_reason() == "no video stored" and figs[running].sparkline == []
        # label filters: the class and its timetable periods, not another class
        assert [r.id for r in find_lessons(db, None, label="Maths 7B")] == [empty, full]
        assert [r.id for r in find_lessons(db, None, label="Maths 7")] == []
        assert class_labels(db, None) == ["Art", "Maths 7B"]
    engine.dispose()


def test_ended_lessons_are_kept_and_recomputed_when_their_end_moves(any_db_url: str) -> None:
    full, empty, running = seed(any_db_url)
    engine = make_engine(any_db_url, writer=True)
    Session = session_factory(engine)
    saved: list[dict] = []
    with Session() as db:
        figs = figures_for(db, find_lessons(db, None), save=saved.extend)
    assert sorted(r["session_id"] for r in saved) == [full, empty]
    with Session.begin() as db:
        save_rows(db, saved)
    with Session() as db:
        again: list[dict] = []
        kept = figures_for(db, find_lessons(db, None), save=again.extend)
        assert again == []  # nothing recomputed
        assert kept[full].line() == figs[full].sparkline
        assert kept[full].attention("in_view") == pytest.approx(figs[full].attention("in_view"))
    with Session.begin() as db:
        db.get(ClassSession, full).ended_at = START + timedelta(seconds=300)
    with Session() as db:
        again = []
        figures_for(db, find_lessons(db, None), save=again.extend)
        assert [r["session_id"] for r in again] == [full]
        assert db.scalar(
            select(LessonStats.ended_at).where(LessonStats.session_id == full)
        ) == START + timedelta(seconds=240)
    engine.dispose()


def test_a_worker_keeps_its_lessons_figures_when_the_lesson_ends(db_url: str) -> None:
    """The sessions list and trends then read one row per lesson, even the first time after a term."""
    from tests.conftest import run_cli

    proc = run_cli("--db", db_url, "worker", "--camera", "lab", "--source", "sample", "--max-frames", "40")
    assert proc.returncode == 0, proc.stderr
    engine = make_engine(db_url)
    with session_factory(engine)() as db:
        cs = db.scalars(select(ClassSession)).one()
        kept = db.get(LessonStats, cs.id)
        assert kept is not None and kept.ended_at == cs.ended_at
        assert kept.frames == sum(db.scalars(select(SessionRollup.frames))) > 0
    engine.dispose()
