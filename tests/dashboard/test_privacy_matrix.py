"""The privacy matrix: every view of a lesson, from one table of expectations.

Site mode (emotion, attention) x class_only (off, on) x the mode the lesson was recorded in (emotion,
attention) x each view: the live frame as the dashboard's poller emits it, the live frame as the worker
publishes it to Redis (the real ``Lesson`` and ``ModePolicy`` of the worker, after a mid-lesson switch),
the session summary, the timeline, the tracks, the CSV header (and, class-only, its engagement column) and
the JSON report. Each view answers three questions: are emotions shown, is the engagement index shown, are
per-track rows shown (None where the view carries no such thing). All mismatches are reported at once.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from itertools import product

import numpy as np

from dashboard.live import LivePoller
from monitor.config import Settings
from monitor.lesson import Lesson
from monitor.mode_policy import ModePolicy
from monitor.stages import FrameRecord
from monitor.store.sessions import OpenedSession

Shown = tuple[bool | None, bool | None, bool | None]  # emotions, engagement, tracks

# (site mode, class_only, recorded in) -> (emotions shown, engagement shown, tracks shown).
# Emotions: only a lesson recorded with emotions, while the site allows them. Engagement: withheld only
# for a lesson recorded with emotions (its index blends in expressions) once the site is attention-only.
EXPECTED: dict[tuple[str, bool, str], Shown] = {
    ("emotion", False, "emotion"): (True, True, True),
    ("emotion", False, "attention"): (False, True, True),
    ("emotion", True, "emotion"): (True, True, False),
    ("emotion", True, "attention"): (False, True, False),
    ("attention", False, "emotion"): (False, False, True),
    ("attention", False, "attention"): (False, True, True),
    ("attention", True, "emotion"): (False, False, False),
    ("attention", True, "attention"): (False, True, False),
}
QUESTIONS = ("emotions", "engagement", "tracks")
VIEWS = ("poller", "worker_publish", "summary", "timeline", "tracks", "csv", "json_report")


def _live(frame: dict) -> Shown:
    return frame["distribution"] is not None, frame["engagement"] is not None, bool(frame["tracks"])


def _worker_publish(world, camera_id: int, session_id: int, recorded: str) -> Shown:
    """The frame the worker publishes: the worker that recorded the lesson (``--mode recorded``) with its
    mode policy re-read (the site may have switched mid-lesson) and the lesson's real ``published_frame``
    on a processed frame (no probabilities once no classifier runs)."""
    policy = ModePolicy(world.Session, recorded)
    opened = OpenedSession(camera_id, session_id, datetime.now(UTC), [])
    lesson = Lesson.begin(world.Session, opened, "matrix", Settings(db_url=world.url), None, None)
    ids = np.arange(1, 4)
    record = FrameRecord(
        ts=datetime.now(UTC),
        frame_index=1000,
        track_ids=ids,
        boxes=np.tile([10, 20, 40, 40], (3, 1)) + ids[:, None] * 50,
        attention=np.array([0.2, 0.6, 0.9]),
        probs=np.full((3, 7), 1 / 7) if policy.mode == "emotion" else None,
        engagement=0.5,
        postures=["up", "down", "up"],
    )
    return _live(lesson.published_frame(camera_id, record, policy.mode, policy.audience))


def _views(
    client, poller_frames: dict[int, dict], world, camera_id: int, sid: int, recorded: str
) -> dict[str, Shown]:
    summary = client.get(f"/api/sessions/{sid}").get_json()["summary"]
    buckets = client.get(f"/api/sessions/{sid}/timeline").get_json()["buckets"]
    tracks = client.get(f"/api/sessions/{sid}/tracks")
    track_rows = tracks.get_json()["tracks"] if tracks.status_code == 200 else []
    assert tracks.status_code in (200, 404)
    header, *rows = list(csv.reader(io.StringIO(client.get(f"/sessions/{sid}/export.csv").data.decode())))
    report = client.get(f"/sessions/{sid}/export.json").get_json()
    emotion_cols = any(c.startswith(("p_", "share_")) or c == "top_label" for c in header)
    class_engagement = any(r[header.index("engagement")] for r in rows) if "engagement" in header else None
    return {
        "poller": _live(poller_frames[sid]),
        "worker_publish": _worker_publish(world, camera_id, sid, recorded),
        "summary": (summary["emotions"] is not None, summary["engagement"] is not None, None),
        "timeline": (
            any(b["emotions"] is not None for b in buckets),
            any(b["engagement"] is not None for b in buckets),
            None,
        ),
        "tracks": (
            any(t.get("emotions") is not None for t in track_rows) if track_rows else None,
            None,
            tracks.status_code == 200 and bool(track_rows),
        ),
        "csv": (emotion_cols, class_engagement, "track_id" in header),
        "json_report": (
            "emotion_shares" in report["summary"],
            report["summary"]["mean_engagement"] is not None,
            bool(report["tracks"]),
        ),
    }


def test_privacy_matrix(app, world, login) -> None:
    start = datetime.now(UTC) - timedelta(seconds=40)
    lessons = {}  # recorded mode -> (camera, session), both running, with stored frames
    for recorded in ("emotion", "attention"):
        cam = world.camera(f"room-{recorded}")
        lessons[recorded] = (
            cam,
            world.lesson(cam, recorded, start=start, seconds=20, running=True, mode=recorded),
        )
    world.user("head", admin=True)
    client = login("head")
    live = app.extensions["live_poller"]
    mismatches, cells = [], 0
    for site_mode, class_only in product(("emotion", "attention"), (False, True)):
        world.setting("mode", site_mode)
        world.setting("class_only", class_only)
        # the poller as the dashboard runs it, fresh so that it emits every running lesson's newest frame
        polled = {f["session_id"]: f for f in LivePoller(live.socketio, live.database).poll_once()}
        for recorded, (cam, sid) in lessons.items():
            want = EXPECTED[site_mode, class_only, recorded]
            got = _views(client, polled, world, cam, sid, recorded)
            for view in VIEWS:
                for what, expected, seen in zip(QUESTIONS, want, got[view], strict=True):
                    if seen is None:  # the view carries no such thing
                        continue
                    cells += 1
                    if seen != expected:
                        mismatches.append(
                            f"site={site_mode} class_only={class_only} recorded={recorded} {view}: "
                            f"{what} shown={seen}, expected {expected}"
                        )
    assert not mismatches, "\n".join(mismatches)
    assert cells == 8 * 17  # 17 answered questions per row (views x emotions/engagement/tracks): none skipped
