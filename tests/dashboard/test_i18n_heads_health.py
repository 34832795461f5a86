"""The words left English on a Chinese page: the heads-up share's base ("3 of 18 readable heads up; 5 not
readable") on the live view, the lesson page, the camera cards and trends; the camera-problem banner and
the retention line on health; and the summary sentences of the JSON report. Real database, real app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
from sqlalchemy import text

from monitor.reports.json_export import SCHEMA_PATH
from monitor.store.schema import Camera, User, WorkerStatus, utcnow
from tests.dashboard.helpers import PASSWORD
from tests.support.browser import DASHBOARD_BROWSER, start_chromium, wait_for

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}
LABEL = "数学 初二(3)班"


def _lesson_with_an_unreadable_head(world, *, running: bool = False) -> tuple[int, int]:
    """A Shanghai lesson of 4 faces a frame whose heads-up share is measured (the rollups count heads up and
    down); its stored observations then say face 1 up, face 2 not readable, the others down (live view)."""
    world.setting("timezone", "Asia/Shanghai")
    room = world.camera("教学楼301")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    lesson = world.lesson(room, LABEL, start=start, seconds=55, tracks=4, running=running)
    with world.Session.begin() as db:
        db.execute(text("UPDATE class_sessions SET attention_basis = 'in_view' WHERE id = :s"), {"s": lesson})
        db.execute(
            text(
                "UPDATE observations SET posture = CASE track_id WHEN 1 THEN 'up' WHEN 2 THEN 'unknown' "
                "ELSE 'down' END WHERE session_id = :s"
            ),
            {"s": lesson},
        )
    world.user("admin", admin=True)
    return room, lesson


def test_the_heads_up_base_reads_in_chinese_on_the_lesson_page_cards_and_trends(app, world, login) -> None:
    room, lesson = _lesson_with_an_unreadable_head(world, running=True)
    client = login("admin")
    summary = client.get(f"/api/sessions/{lesson}", headers=ZH).get_json()["summary"]["heads_up"]
    assert summary is not None, "the lesson has posture counts"
    assert "个头部中有" in summary["of"] and "个抬头" in summary["of"], summary
    assert "readable" not in summary["text"] and "个头部中有" in summary["text"]
    # the numbers a script needs to word it itself (added, nothing removed)
    assert {"readable_per_frame", "unknown_per_frame", "up_per_frame", "text"} <= summary.keys()
    english = client.get(f"/api/sessions/{lesson}", headers=EN).get_json()["summary"]["heads_up"]
    assert "readable heads up" in english["of"] and "readable heads up" in english["text"]

    (card,) = client.get("/api/cameras", headers=ZH).get_json()["cameras"]
    mood = card["mood"]["heads_up"]
    assert "个头部中有" in mood["text"], mood
    assert "个头部中有" in client.get("/cameras", headers=ZH).get_data(as_text=True)

    (point,) = client.get(f"/api/trends?camera={room}", headers=ZH).get_json()["points"]
    assert "个头部中有" in point["heads_up_base"], point
    (point,) = client.get(f"/api/trends?camera={room}", headers=EN).get_json()["points"]
    assert "readable heads up" in point["heads_up_base"]


def test_the_json_report_speaks_the_requesters_language(app, world, login) -> None:
    _room, lesson = _lesson_with_an_unreadable_head(world)
    client = login("admin")
    schema = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    chinese = json.loads(client.get(f"/sessions/{lesson}/export.json", headers=ZH).get_data())
    schema.validate(chinese)
    lines = chinese["summary"]["lines"]
    assert lines and any("抬头" in line for line in lines), lines
    assert "个头部中有" in chinese["summary"]["heads_up"]["text"]
    english = json.loads(client.get(f"/sessions/{lesson}/export.json", headers=EN).get_data())
    schema.validate(english)
    assert any("readable heads" in line for line in english["summary"]["lines"]), english["summary"]["lines"]
    assert english["summary"]["heads_up"]["text"].endswith("readable heads up")


def _camera_unreachable_since(world, name: str, since: datetime) -> int:
    """What a live worker writes when its camera refuses it (as in test_camera_truth, without the wait)."""
    with world.Session.begin() as db:
        cam = Camera(name=name, status="offline", status_detail="cannot open source", last_heartbeat=utcnow())
        db.add(cam)
        db.flush()
        db.add(
            WorkerStatus(
                camera_id=cam.id,
                pid=4242,
                hostname="classroom-host",
                state="running",
                started_at=since,
                last_heartbeat=utcnow(),
                capture_state="offline",
                capture_detail="cannot open source",
                capture_since=since,
            )
        )
        return cam.id


def test_the_camera_banner_and_the_retention_line_on_health_in_chinese(app, world, login) -> None:
    world.setting("timezone", "Asia/Shanghai")
    world.setting("retention_days", 30)
    camera = _camera_unreachable_since(world, "教学楼302", datetime(2026, 12, 6, 21, 29, tzinfo=UTC))
    world.user("admin", admin=True)
    client = login("admin")

    health = client.get("/api/health", headers=ZH).get_json()
    (worker,) = health["workers"]
    assert worker["last_error"] == "摄像头自 05:29 起连不上（cannot open source）"
    assert health["retention"]["text"].startswith("数据保留（保留 30 天）：从未运行。")
    page = client.get("/health", headers=ZH).get_data(as_text=True)
    assert "摄像头自 05:29 起连不上" in page and "数据保留（保留 30 天）" in page
    assert "camera unreachable" not in page and "Retention (" not in page

    (card,) = client.get("/api/cameras", headers=ZH).get_json()["cameras"]
    assert card["problem"] == "摄像头自 05:29 起连不上（cannot open source）"
    assert card["problem"] in client.get("/cameras", headers=ZH).get_data(as_text=True)
    live = client.get(f"/api/cameras/{camera}/live", headers=ZH).get_json()
    assert live["camera"]["problem"] == card["problem"]

    # English readers (and the CLI, which passes no gettext) keep the English words
    english = client.get("/api/health", headers=EN).get_json()
    assert english["workers"][0]["last_error"] == "camera unreachable since 05:29 (cannot open source)"
    assert english["retention"]["text"].startswith("Retention (keep 30 days): never run.")
    (card,) = client.get("/api/cameras", headers=EN).get_json()["cameras"]
    assert card["problem"] == "Camera unreachable since 05:29 (cannot open source)"


def browser_test(test):
    """The marks of the other browser tests (headless Chromium; skipped where it is missing)."""
    for mark in DASHBOARD_BROWSER:
        test = mark(test)
    return test


@browser_test
def test_the_live_view_draws_the_heads_up_base_in_chinese(server, world, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    room, _lesson = _lesson_with_an_unreadable_head(world, running=True)
    teacher = world.user("li", cameras=(room,))
    with world.Session.begin() as db:
        db.get(User, teacher).locale = "zh_Hans_CN"
    browser = start_chromium(tmp_path / "profile")
    try:
        browser.get(f"{server}/cameras/{room}/live")
        browser.find_element(By.NAME, "username").send_keys("li")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        base = lambda: browser.find_element(By.ID, "heads-base").text  # noqa: E731
        wait_for(lambda: base() != "", what="the heads-up base of the first frame")
        assert base() == "能看清的 3 个头部中有 1 个抬头；1 个看不清", base()
    finally:
        browser.quit()
