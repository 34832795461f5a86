"""The privacy matrix: every view of a lesson, from one table of expectations.

Site mode (emotion, attention) x class_only (off, on) x the mode the lesson was recorded in (emotion,
attention) x each view: the live frame as the dashboard's poller emits it, the live frame as the worker
publishes it to Redis (the real ``Lesson`` and ``ModePolicy`` of the worker, after a mid-lesson switch),
the live page's snapshot (its timeline and newest frame), the camera card's class mood, the session
summary, the timeline, the tracks, one track's timeline, the lesson's markers, the CSV header (and,
class-only, its engagement column), the JSON, HTML and PDF reports, and the trends' per-lesson point. Each
view answers four questions: are emotions shown, is the engagement index shown, are per-track rows shown,
is the teacher's marker shown (None where the view carries no such thing; "mixed" where parts of one view
disagree). All mismatches are reported at once.

Markers are the teacher's own words about the class, so every setting shows them: the column is all True,
and a privacy filter that dropped them (or a view that lost them) fails here.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from itertools import product

import numpy as np
from pypdf import PdfReader

from dashboard.live import LivePoller
from monitor.config import Settings
from monitor.lesson import Lesson
from monitor.mode_policy import ModePolicy
from monitor.stages import FrameRecord
from monitor.store.markers import add_marker
from monitor.store.sessions import OpenedSession
from tests.reports.helpers import emotion_words

Answer = bool | str | None  # shown, not shown, "mixed" (parts of one view disagree), None: not carried
Shown = tuple[Answer, Answer, Answer, Answer]  # emotions, engagement, tracks, marker

# (site mode, class_only, recorded in) -> (emotions, engagement, tracks, marker shown).
# Emotions: only a lesson recorded with emotions, while the site allows them. Engagement: withheld only
# for a lesson recorded with emotions (its index blends in expressions) once the site is attention-only.
EXPECTED: dict[tuple[str, bool, str], Shown] = {
    ("emotion", False, "emotion"): (True, True, True, True),
    ("emotion", False, "attention"): (False, True, True, True),
    ("emotion", True, "emotion"): (True, True, False, True),
    ("emotion", True, "attention"): (False, True, False, True),
    ("attention", False, "emotion"): (False, False, True, True),
    ("attention", False, "attention"): (False, True, True, True),
    ("attention", True, "emotion"): (False, False, False, True),
    ("attention", True, "attention"): (False, True, False, True),
}
QUESTIONS = ("emotions", "engagement", "tracks", "marker")
VIEWS = (
    "poller",
    "worker_publish",
    "live_snapshot",
    "camera_card",
    "summary",
    "timeline",
    "tracks",
    "track_timeline",
    "markers",
    "csv",
    "json_report",
    "html_report",
    "pdf_report",
    "trends_point",
)
CELLS = 8 * 35 + 4
"""Questions answered in all: 35 per row of the table (views x emotions/engagement/tracks/marker, less those
a view does not carry: the marker is in the markers route and the four reports), and one more in the 4 rows
that show per-track rows (the emotions of both track routes' rows, less the class engagement column that
only the class-only CSV has)."""
MARKER = "Quiz starts"
"""The teacher's marker in each lesson (no emotion word: the reports are read for those)."""
ENGAGEMENT_LINE = re.compile(r"Engagement\s+index\s+averaged")


def _agree(*parts: bool) -> Answer:
    """One answer for a view made of parts: theirs when they agree, else "mixed" (always a mismatch)."""
    return parts[0] if len(set(parts)) == 1 else "mixed"


def _live(frame: dict) -> Shown:
    return frame["distribution"] is not None, frame["engagement"] is not None, bool(frame["tracks"]), None


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


def _keys(data: object) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(data, dict):
        return set(data).union(*(_keys(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(_keys(v) for v in data))
    return set()


def _document(text: str, tracks_table: bool) -> Shown:
    """An HTML or PDF report, by what it says: emotion words, the engagement sentence, the track table."""
    return bool(emotion_words(text)), bool(ENGAGEMENT_LINE.search(text)), tracks_table, MARKER in text


def _views(
    client, poller_frames: dict[int, dict], world, camera_id: int, sid: int, recorded: str
) -> dict[str, Shown]:
    snapshot = client.get(f"/api/cameras/{camera_id}/live").get_json()
    mood = client.get(f"/api/cameras/{camera_id}").get_json()["mood"]
    track = client.get(f"/api/sessions/{sid}/tracks/1/timeline")
    assert track.status_code in (200, 404)
    track_buckets = track.get_json()["buckets"] if track.status_code == 200 else []
    html = client.get(f"/sessions/{sid}/export.html").data.decode()
    pdf = PdfReader(io.BytesIO(client.get(f"/sessions/{sid}/export.pdf").data))
    pdf_text = "\n".join(page.extract_text() for page in pdf.pages)
    points = client.get(f"/api/trends?camera={camera_id}").get_json()["points"]
    assert [p["session_id"] for p in points] == [sid]
    summary = client.get(f"/api/sessions/{sid}").get_json()["summary"]
    buckets = client.get(f"/api/sessions/{sid}/timeline").get_json()["buckets"]
    tracks = client.get(f"/api/sessions/{sid}/tracks")
    track_rows = tracks.get_json()["tracks"] if tracks.status_code == 200 else []
    assert tracks.status_code in (200, 404)
    header, *rows = list(csv.reader(io.StringIO(client.get(f"/sessions/{sid}/export.csv").data.decode())))
    report = client.get(f"/sessions/{sid}/export.json").get_json()
    markers = client.get(f"/api/sessions/{sid}/markers").get_json()["markers"]
    emotion_cols = any(c.startswith(("p_", "share_")) or c == "top_label" for c in header)
    class_engagement = any(r[header.index("engagement")] for r in rows) if "engagement" in header else None
    return {
        "poller": _live(poller_frames[sid]),
        "worker_publish": _worker_publish(world, camera_id, sid, recorded),
        "live_snapshot": (
            _agree(
                snapshot["frame"]["distribution"] is not None,
                any(b["emotions"] is not None for b in snapshot["timeline"]),
            ),
            _agree(
                snapshot["frame"]["engagement"] is not None,
                any(b["engagement"] is not None for b in snapshot["timeline"]),
            ),
            bool(snapshot["frame"]["tracks"]),
            None,
        ),
        "camera_card": (mood["emotions"] is not None, mood["engagement"] is not None, None, None),
        "summary": (summary["emotions"] is not None, summary["engagement"] is not None, None, None),
        "timeline": (
            any(b["emotions"] is not None for b in buckets),
            any(b["engagement"] is not None for b in buckets),
            None,
            None,
        ),
        "tracks": (
            any(t.get("emotions") is not None for t in track_rows) if track_rows else None,
            None,
            tracks.status_code == 200 and bool(track_rows),
            None,
        ),
        "track_timeline": (
            any(b["emotions"] is not None for b in track_buckets) if track_buckets else None,
            None,
            track.status_code == 200 and bool(track_buckets),
            None,
        ),
        "markers": (None, None, None, [m["text"] for m in markers] == [MARKER]),
        "csv": (
            emotion_cols,
            class_engagement,
            "track_id" in header,
            "marker" in header and any(r[header.index("marker")] == MARKER for r in rows),
        ),
        "json_report": (
            "emotion_shares" in report["summary"],
            report["summary"]["mean_engagement"] is not None,
            bool(report["tracks"]),
            [m["text"] for m in report["markers"]] == [MARKER],
        ),
        "html_report": _document(html, '<table id="tracks">' in html),
        "pdf_report": _document(pdf_text, "Time in view" in pdf_text),
        # trends never carry an emotion field at all (asserted below), nor per-track rows
        "trends_point": (None, points[0]["engagement"] is not None, None, None),
    }


def test_privacy_matrix(app, world, login) -> None:
    start = datetime.now(UTC) - timedelta(seconds=40)
    lessons = {}  # recorded mode -> (camera, session), both running, with stored frames
    for n, recorded in enumerate(("emotion", "attention"), start=1):
        cam = world.camera(f"room-{n}")  # names and labels with no emotion word: the reports are read
        lessons[recorded] = (
            cam,
            world.lesson(cam, f"Maths 7{n}", start=start, seconds=20, running=True, mode=recorded),
        )
    head = world.user("head", admin=True)
    with world.Session.begin() as db:
        for _, sid in lessons.values():
            add_marker(db, sid, start + timedelta(seconds=5), MARKER, head)
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
            trend_keys = _keys(client.get(f"/api/trends?camera={cam}").get_json())
            assert not [k for k in trend_keys if "emotion" in k or k == "dominant"], trend_keys
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
    assert cells == CELLS  # none skipped
