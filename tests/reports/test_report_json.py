"""JSON: metadata, timeline, tracks and engagement, in the shape report.schema.json documents."""

from __future__ import annotations

import json

import jsonschema
import pytest

from monitor.reports import render
from monitor.reports.json_export import SCHEMA_PATH
from monitor.store import make_engine, session_factory

from .conftest import MODEL_ACCURACY, MODEL_VERSION
from .helpers import emotion_words


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _report(db, session_id: int, **kwargs) -> dict:
    return json.loads(b"".join(render(db, session_id, "json", **kwargs)))


def test_ended_emotion_session_validates_and_carries_metadata(db, seeded, validator):
    report = _report(db, seeded.ended)
    validator.validate(report)
    s = report["session"]
    assert (s["label"], s["camera"]["name"], s["mode"], s["in_progress"]) == (
        "Maths 7B",
        "Room 101",
        "emotion",
        False,
    )
    assert s["started_at"] == "2026-11-20T09:00:00.000+00:00"
    assert s["ended_at"] == "2026-11-20T09:20:00.000+00:00"
    assert s["model"] == {"version": MODEL_VERSION, "accuracy": MODEL_ACCURACY, "macro_f1": 0.581}
    assert report["timeline"]["bucket_seconds"] == 10
    assert len(report["timeline"]["buckets"]) == 120
    assert len(report["engagement"]) == 120
    assert [t["track_id"] for t in report["tracks"]] == [1, 2, 3, 4]
    assert report["summary"]["dominant_emotions"][0]["label"] == "neutral"
    # the seeded attention dip (45%..60% of the session) is the one low period named
    [low] = report["summary"]["lowest_attention_periods"]
    assert low["start"][11:16] >= "09:08"
    assert low["end"][11:16] <= "09:13"


def test_attention_only_json_has_no_emotion_at_all(db, seeded, validator):
    report = _report(db, seeded.attention)
    validator.validate(report)
    assert report["session"]["model"] is None
    assert not emotion_words(json.dumps(report))


def test_running_session_is_marked_in_progress(db, seeded, validator):
    report = _report(db, seeded.running)
    validator.validate(report)
    assert report["session"]["in_progress"] is True
    assert report["session"]["status"] == "in progress"
    assert report["session"]["ended_at"] is None
    assert report["timeline"]["buckets"]


def test_schema_rejects_emotion_keys_in_attention_only_reports(db, seeded, validator):
    report = _report(db, seeded.attention)
    report["timeline"]["buckets"][0]["emotions"] = None
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(report)


def test_accuracy_falls_back_to_the_model_folder_metrics(db, seeded):
    from monitor.views.lesson import model_info

    assert model_info(db, "other-cnn", seeded.models_dir) == {
        "version": "other-cnn",
        "accuracy": 0.5,
        "macro_f1": 0.4,
    }
    assert model_info(db, "../escape", seeded.models_dir)["accuracy"] is None


def test_class_only_site_hides_tracks(db, seeded, validator):
    from monitor.store.site_settings import set_setting

    set_setting(db, "class_only", True)
    db.commit()
    try:
        report = _report(db, seeded.ended)
    finally:
        set_setting(db, "class_only", False)
        db.commit()
    validator.validate(report)
    assert report["class_only"] is True and report["tracks"] == []


@pytest.mark.slow
def test_json_of_a_real_worker_session_validates(recorded_session, validator):
    db_url, session_id = recorded_session
    with session_factory(make_engine(db_url))() as db:
        report = _report(db, session_id)
    validator.validate(report)
    assert report["session"]["label"] == "Maths 7B"
    assert report["session"]["frames"] > 0 and report["timeline"]["buckets"]
    assert report["tracks"], "the talking-head clip has a face"
