"""Lesson markers in every report format: CSV (a phase column), JSON (listed, schema-valid), HTML and PDF."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from pypdf import PdfReader

from monitor.reports import render
from monitor.reports.json_export import SCHEMA_PATH
from monitor.store import make_engine, session_factory, upgrade
from monitor.store.markers import MarkerError, add_marker
from monitor.store.schema import User
from monitor.store.site_settings import set_setting

from .conftest import seed_session

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, int]:
    """(url, session with two markers, session without) in a database of this module's own."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('markers')) / 'monitor.db'}"
    upgrade(url)
    marked_id = seed_session(url, camera="Room 9", label="Maths 7B", mode="emotion", start=START, seconds=600)
    plain_id = seed_session(
        url, camera="Room 9", label="Maths 7B", mode="emotion", start=START + timedelta(days=1), seconds=120
    )
    engine = make_engine(url, writer=True)
    with session_factory(engine).begin() as db:
        user = User(username="alice", password_hash="x")
        db.add(user)
        db.flush()
        add_marker(db, marked_id, START + timedelta(minutes=5), "Quiz <b>starts</b>", user.id)
        add_marker(db, marked_id, START + timedelta(seconds=90), "group work", None)
    engine.dispose()
    return url, marked_id, plain_id


@pytest.fixture
def db(marked):
    engine = make_engine(marked[0])
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_csv_rows_carry_the_phase_the_teacher_marked(db, marked) -> None:
    rows = list(csv.DictReader(io.StringIO(b"".join(render(db, marked[1], "csv")).decode())))
    assert list(rows[0])[-1] == "marker"
    phases = {}
    for r in rows:
        phases.setdefault(r["marker"], []).append(r["timestamp"])
    assert set(phases) == {"", "group work", "Quiz <b>starts</b>"}
    assert max(phases[""]) < "2026-11-20T09:01:30" <= min(phases["group work"])
    assert max(phases["group work"]) < "2026-11-20T09:05:00" <= min(phases["Quiz <b>starts</b>"])


def test_csv_without_markers_keeps_its_columns(db, marked) -> None:
    header = b"".join(render(db, marked[2], "csv")).decode().splitlines()[0]
    assert "marker" not in header


def test_class_only_csv_carries_the_phase_too(marked) -> None:
    engine = make_engine(marked[0], writer=True)
    with session_factory(engine).begin() as wdb:
        set_setting(wdb, "class_only", True)
    try:
        with session_factory(engine)() as db:
            rows = list(csv.DictReader(io.StringIO(b"".join(render(db, marked[1], "csv")).decode())))
        assert "track_id" not in rows[0] and rows[0]["marker"] == ""
        assert next(r for r in rows if r["second"].startswith("2026-11-20T09:05:00"))["marker"] == (
            "Quiz <b>starts</b>"
        )
    finally:
        with session_factory(engine).begin() as wdb:
            set_setting(wdb, "class_only", False)
        engine.dispose()


def test_json_lists_the_markers_and_validates(db, marked) -> None:
    report = json.loads(b"".join(render(db, marked[1], "json")))
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text())).validate(report)
    assert report["markers"] == [
        {
            "id": report["markers"][0]["id"],
            "at": "2026-11-20T09:01:30.000Z",
            "text": "group work",
            "author": None,
        },
        {
            "id": report["markers"][1]["id"],
            "at": "2026-11-20T09:05:00.000Z",
            "text": "Quiz <b>starts</b>",
            "author": "alice",
        },
    ]
    plain = json.loads(b"".join(render(db, marked[2], "json")))
    assert plain["markers"] == []


def test_html_lists_the_markers_escaped(db, marked) -> None:
    page = b"".join(render(db, marked[1], "html")).decode()
    assert '<ul class="summary" id="markers">' in page
    assert "<li>09:01 · group work</li>" in page
    assert "Quiz &lt;b&gt;starts&lt;/b&gt;" in page and "<b>starts</b>" not in page
    assert 'id="markers"' not in b"".join(render(db, marked[2], "html")).decode()


def test_pdf_lists_the_markers(db, marked) -> None:
    reader = PdfReader(io.BytesIO(b"".join(render(db, marked[1], "pdf"))))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Markers" in text and "09:01 · group work" in text and "Quiz <b>starts</b>" in text


def test_a_marker_must_fall_within_its_lesson(db, marked) -> None:
    with pytest.raises(MarkerError, match="before the lesson started"):
        add_marker(db, marked[1], START - timedelta(seconds=1), "early", None)
    with pytest.raises(MarkerError, match="after the lesson ended"):
        add_marker(db, marked[1], START + timedelta(minutes=11), "late", None)
    with pytest.raises(MarkerError, match="the lesson has ended"):
        add_marker(db, marked[1], None, "now", None)
    db.rollback()
