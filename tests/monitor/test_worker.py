"""The real worker on the real clips: what it stores, and how it fails."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import GROUP, TALKING_HEAD, cli_env, requires_videos, run_cli, start_cli


def rows(url: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = [tuple(r) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return out


def per_frame_ids(url: str) -> dict[int, list[int]]:
    frames: dict[int, list[int]] = {}
    for frame, track in rows(
        url, "SELECT frame_index, track_id FROM observations ORDER BY frame_index, track_id"
    ):
        frames.setdefault(frame, []).append(track)
    return frames


@requires_videos
def test_talking_head_clip_gives_one_stable_track(recorded_session) -> None:
    url, session_id = recorded_session
    frames = per_frame_ids(url)
    # 115 frames; the first few pass before a new track is confirmed.
    assert len(frames) >= 105
    assert sum(len(ids) == 1 for ids in frames.values()) / len(frames) >= 0.95
    counts = rows(url, "SELECT track_id, COUNT(*) FROM observations GROUP BY track_id ORDER BY 2 DESC")
    assert counts[0][1] / sum(c for _, c in counts) >= 0.95, counts

    ts = [r[0] for r in rows(url, "SELECT ts FROM observations ORDER BY frame_index, track_id")]
    assert ts == sorted(ts), "timestamps must grow with the frame index"
    (label, started, ended, frames_n, faces_n, mode, model) = rows(
        url,
        "SELECT label, started_at, ended_at, frames, faces, mode, model_version "
        "FROM class_sessions WHERE id=:i",
        i=session_id,
    )[0]
    assert label == "Maths 7B" and mode == "emotion" and model
    assert ended is not None and ended > started
    assert frames_n == 115
    assert faces_n == len(rows(url, "SELECT id FROM observations"))


@requires_videos
def test_probabilities_are_distributions_and_labels_match(recorded_session) -> None:
    url, _ = recorded_session
    data = rows(
        url,
        "SELECT p_angry, p_disgust, p_fear, p_happy, p_sad, p_surprise, p_neutral, top_label, confidence, "
        "attention FROM observations",
    )
    probs = np.array([r[:7] for r in data], dtype=float)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    labels = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert [r[7] for r in data] == [labels[i] for i in probs.argmax(axis=1)]
    np.testing.assert_allclose([r[8] for r in data], probs.max(axis=1), atol=1e-6)
    attention = np.array([r[9] for r in data])
    assert ((attention >= 0) & (attention <= 1)).all()


@requires_videos
def test_group_clip_has_two_to_four_faces_with_stable_ids(db_url: str) -> None:
    proc = run_cli("--db", db_url, "worker", "--camera", "lab", "--source", str(GROUP), "--detect-every", "1")
    assert proc.returncode == 0, proc.stderr
    assert "322 frames" in proc.stdout
    frames = per_frame_ids(db_url)
    sizes = np.array([len(v) for v in frames.values()])
    assert ((sizes >= 2) & (sizes <= 4)).mean() >= 0.9, np.bincount(sizes)
    # Consecutive frames keep their ids: most faces of a frame were already there, under the same id.
    keys = sorted(frames)
    kept = [
        len(set(frames[a]) & set(frames[b])) / len(frames[b])
        for a, b in zip(keys, keys[1:], strict=False)
        if b == a + 1
    ]
    assert np.mean(kept) >= 0.95
    assert len({t for ids in frames.values() for t in ids}) <= 8


@requires_videos
def test_attention_only_mode_infers_no_emotion(db_url: str, tmp_path: Path) -> None:
    # A model path that does not exist proves the classifier is never loaded in this mode.
    proc = run_cli(
        "--db",
        db_url,
        "worker",
        "--camera",
        "c",
        "--source",
        str(TALKING_HEAD),
        "--mode",
        "attention",
        "--model",
        str(tmp_path / "none"),
    )
    assert proc.returncode == 0, proc.stderr
    ((n, with_probs, with_label),) = rows(
        db_url, "SELECT COUNT(*), COUNT(p_happy), COUNT(top_label) FROM observations"
    )
    assert n > 100 and with_probs == 0 and with_label == 0
    assert rows(db_url, "SELECT mode, model_version FROM class_sessions") == [("attention", None)]
    assert rows(db_url, "SELECT COUNT(p_happy) FROM session_rollups") == [(0,)]


@requires_videos
def test_site_wide_attention_setting_overrides_worker_flag(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO settings (key, value, updated_at) VALUES ('mode', '\"attention\"', '2026-01-01')"
            )
        )
    engine.dispose()
    proc = run_cli(
        "--db",
        db_url,
        "worker",
        "--camera",
        "c",
        "--source",
        str(TALKING_HEAD),
        "--mode",
        "emotion",
        "--max-frames",
        "20",
    )
    assert proc.returncode == 0, proc.stderr
    assert rows(db_url, "SELECT COUNT(p_happy) FROM observations") == [(0,)]


@requires_videos
def test_rollups_and_track_summaries_agree_with_observations(recorded_session) -> None:
    url, sid = recorded_session
    (obs,) = rows(url, "SELECT COUNT(*) FROM observations WHERE session_id=:s", s=sid)[0]
    (faces, frames) = rows(
        url, "SELECT SUM(faces), SUM(frames) FROM session_rollups WHERE session_id=:s", s=sid
    )[0]
    (tracked,) = rows(url, "SELECT SUM(observations) FROM track_summaries WHERE session_id=:s", s=sid)[0]
    assert faces == obs == tracked
    assert frames == 115
    (happy_obs,) = rows(url, "SELECT SUM(p_happy) FROM observations WHERE session_id=:s", s=sid)[0]
    (happy_roll,) = rows(url, "SELECT SUM(p_happy) FROM session_rollups WHERE session_id=:s", s=sid)[0]
    assert happy_roll == pytest.approx(happy_obs, rel=1e-6)


def test_sigterm_writes_every_processed_frame(db_url: str) -> None:
    proc = start_cli("--db", db_url, "worker", "--camera", "demo", "--source", "sample", env=cli_env())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not rows(db_url, "SELECT id FROM observations LIMIT 1"):
        time.sleep(0.3)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    reported = int(out.split(" frames")[0].rsplit(" ", 1)[-1])
    (stored_frames, ended) = rows(db_url, "SELECT frames, ended_at FROM class_sessions")[0]
    assert reported > 0 and stored_frames == reported and ended is not None
    (distinct_frames,) = rows(db_url, "SELECT SUM(frames) FROM session_rollups")[0]
    assert distinct_frames == reported
    assert rows(db_url, "SELECT status FROM cameras") == [("offline",)]


@requires_videos
def test_several_workers_share_one_sqlite_file(db_url: str) -> None:
    procs = [
        start_cli(
            "--db",
            db_url,
            "worker",
            "--camera",
            f"cam-{i}",
            "--source",
            str(GROUP if i % 2 else TALKING_HEAD),
        )
        for i in range(3)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err
    stored = dict(
        rows(db_url, "SELECT c.name, s.frames FROM class_sessions s JOIN cameras c ON c.id = s.camera_id")
    )
    assert stored == {"cam-0": 115, "cam-1": 322, "cam-2": 115}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "no/such/video.mp4"], "video file not found"),
        (["--source", "{garbage}"], "cannot open file source"),
        (["--source", "{talking}", "--model", "{badmodel}"], "not a usable TFLite model"),
        (["--source", "{talking}", "--model", "{nomodel}"], "model file not found"),
        (["--source", "{talking}", "--detector", "yolo"], "Invalid value for '--detector'"),
    ],
)
def test_bad_input_gives_one_clear_error(db_url: str, tmp_path: Path, args: list[str], message: str) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video" * 500)
    bad_model = tmp_path / "bad"
    bad_model.mkdir()
    (bad_model / "model.tflite").write_bytes(b"truncated model bytes")
    subs = {
        "{garbage}": str(garbage),
        "{talking}": str(TALKING_HEAD),
        "{badmodel}": str(bad_model),
        "{nomodel}": str(tmp_path / "missing"),
    }
    if "{talking}" in args and not TALKING_HEAD.is_file():
        pytest.skip("real clips not found")
    proc = run_cli("--db", db_url, "worker", "--camera", "c", *[subs.get(a, a) for a in args])
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert rows(db_url, "SELECT COUNT(*) FROM class_sessions") == [(0,)]


@pytest.mark.parametrize(
    ("db", "message"),
    [("nosuchdriver://x/y", "database"), ("/no/such/folder/x.db", "folder for the database does not exist")],
)
def test_bad_database_url_gives_one_clear_error(db: str, message: str) -> None:
    proc = run_cli("--db", db, "worker", "--camera", "c", "--source", "sample", "--max-frames", "1")
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unmigrated_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    proc = run_cli("--db", str(db), "worker", "--camera", "c", "--source", "sample", "--max-frames", "1")
    assert proc.returncode != 0
    assert "db upgrade" in proc.stderr
