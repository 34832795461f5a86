"""Every export, from the dashboard, the CLI and bulk zips, shows only what the site's settings allow now."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from pypdf import PdfReader

from tests.conftest import run_cli
from tests.reports.helpers import emotion_words

STRICT = {"mode": "attention", "class_only": True}


def strict(world) -> None:
    for key, value in STRICT.items():
        world.setting(key, value)


def test_csv_under_attention_and_class_only_has_no_emotion_and_no_track(world, school, login) -> None:
    teacher = login("alice")
    before = teacher.get(f"/sessions/{school['lesson_a']}/export.csv").data.decode()
    assert "p_happy" in before.splitlines()[0] and "track_id" in before.splitlines()[0]
    strict(world)
    text = teacher.get(f"/sessions/{school['lesson_a']}/export.csv").data.decode()
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header == [
        "second",
        "school_time",
        "frames",
        "people_per_frame",
        "heads_up",
        "readable_heads_per_frame",
        "unknown_heads_per_frame",
        "engagement",
    ]
    assert rows, "the class timeline is still exported"
    assert emotion_words(text) == []


def test_attention_only_keeps_tracks_but_drops_emotion_columns(world, school, login) -> None:
    world.setting("mode", "attention")
    text = login("alice").get(f"/sessions/{school['lesson_a']}/export.csv").data.decode()
    assert text.splitlines()[0] == "timestamp,school_time,frame_index,track_id,attention,posture"
    assert emotion_words(text) == []


@pytest.mark.parametrize("fmt", ["json", "html", "pdf"])
def test_documents_under_strict_settings_carry_no_emotion_and_no_tracks(world, school, login, fmt) -> None:
    strict(world)
    resp = login("alice").get(f"/sessions/{school['lesson_a']}/export.{fmt}")
    assert resp.status_code == 200
    if fmt == "pdf":
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    else:
        text = resp.data.decode()
    if fmt == "json":
        report = json.loads(text)
        assert "emotion_shares" not in report["summary"] and report["tracks"] == []
        assert report["class_only"] is True
        # Keys and values alike: the JSON must not name an emotion anywhere.
    assert emotion_words(text) == [], emotion_words(text)[:5]


def test_cli_export_and_bulk_zip_follow_the_site_settings(world, school, tmp_path) -> None:
    strict(world)
    out = tmp_path / "all.zip"
    proc = run_cli(
        "--db",
        world.url,
        "export",
        "--camera",
        "room-a",
        "--format",
        "csv",
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert len(names) == 2
        for name in names:
            assert emotion_words(zf.read(name).decode()) == [], name
    one = run_cli("--db", world.url, "export", str(school["lesson_a"]), "--format", "csv", "--out", "-")
    assert one.returncode == 0 and one.stdout.splitlines()[0].startswith("second,")


def test_attention_only_withholds_the_engagement_index_of_lessons_recorded_with_emotions(
    world, school, login
) -> None:
    """That index blends in an expression term, so attention-only mode hides it on every surface."""
    teacher = login("alice")
    lesson = school["lesson_a"]
    assert teacher.get(f"/api/sessions/{lesson}").get_json()["summary"]["engagement"] is not None
    room = school["room_a"]
    running = world.lesson(room, "Live", running=True)
    plain = world.lesson(room, "Recorded attention-only", mode="attention")
    world.setting("mode", "attention")

    summary = teacher.get(f"/api/sessions/{lesson}").get_json()["summary"]
    assert summary["engagement"] is None and summary["engagement_withheld"] is True
    assert any("hidden in attention-only mode" in line for line in summary["lines"])
    buckets = teacher.get(f"/api/sessions/{lesson}/timeline").get_json()["buckets"]
    assert buckets and all(b["engagement"] is None for b in buckets)
    live = teacher.get(f"/api/cameras/{room}/live").get_json()
    assert live["session"]["id"] == running and all(b["engagement"] is None for b in live["timeline"])
    assert live["frame"] is None or live["frame"]["engagement"] is None
    report = teacher.get(f"/sessions/{lesson}/export.json").get_json()
    assert report["summary"]["mean_engagement"] is None
    world.setting("class_only", True)
    header, *rows = list(csv.reader(io.StringIO(teacher.get(f"/sessions/{lesson}/export.csv").data.decode())))
    assert rows and all(row[header.index("engagement")] == "" for row in rows)

    # A lesson recorded without emotions keeps its index: nothing of an expression went into it.
    kept = teacher.get(f"/api/sessions/{plain}").get_json()["summary"]
    assert kept["engagement"] is not None and kept["engagement_withheld"] is False
