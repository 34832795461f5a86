"""The dashboard in Chinese: the locale comes from the user's setting, then Accept-Language, then the site."""

from __future__ import annotations

import re

from tests.dashboard.helpers import log_in

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found, html[:200]
    return found.group(1)


def test_login_page_follows_accept_language(app) -> None:
    client = app.test_client()
    english = client.get("/login").get_data(as_text=True)
    assert _lang(english) == "en"
    assert "Log in" in english
    chinese = client.get("/login", headers=ZH).get_data(as_text=True)
    assert _lang(chinese) == "zh-Hans-CN"
    assert "登录" in chinese and "Log in" not in chinese
    assert "用户名" in chinese and "密码" in chinese
    resp = client.get("/login", headers=ZH)
    assert resp.headers["Content-Language"] == "zh-Hans-CN" and "Accept-Language" in resp.headers["Vary"]


def test_site_default_when_the_browser_asks_for_neither(app, world) -> None:
    world.setting("locale", "zh_Hans_CN")
    client = app.test_client()
    assert (
        _lang(client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)) == "zh-Hans-CN"
    )
    # The browser's own choice comes before the site default.
    assert _lang(client.get("/login", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)) == "en"


def test_user_setting_overrides_the_header(app, school) -> None:
    client = app.test_client()
    assert log_in(client, "alice").status_code == 302
    page = client.get("/cameras", headers=ZH).get_data(as_text=True)
    assert _lang(page) == "zh-Hans-CN" and "摄像头" in page
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    resp = client.post(
        "/language", data={"locale": "en", "csrf_token": token, "next": "/cameras"}, headers=ZH
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/cameras")
    page = client.get("/cameras", headers=ZH).get_data(as_text=True)
    assert _lang(page) == "en" and "Cameras" in page
    # Back to following the browser.
    client.post("/language", data={"locale": "", "csrf_token": token}, headers=ZH)
    assert _lang(client.get("/cameras", headers=ZH).get_data(as_text=True)) == "zh-Hans-CN"
    bad = client.post("/language", data={"locale": "xx", "csrf_token": token})
    assert bad.status_code == 400


def test_pages_write_dates_and_lengths_the_chinese_way(app, school, world) -> None:
    world.setting("timezone", "Asia/Shanghai")
    client = app.test_client()
    assert log_in(client, "admin").status_code == 302
    page = client.get("/sessions", headers=ZH).get_data(as_text=True)
    # Lesson A started 09:00 UTC on Monday 3 March 2025: 17:00 in Shanghai; it lasted 60 s.
    assert "2025年3月3日 周一 17:00" in page and "1分钟" in page
    assert "通常 3 人，峰值 3 人" in page  # the list's own words too
    assert "Mon 03 Mar 2025" not in page
    english = client.get("/sessions", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mon 03 Mar 2025 17:00" in english and "1 min" in english


def test_flash_messages_errors_and_json_messages_follow_the_locale(app, school) -> None:
    client = app.test_client()
    client.get("/login", headers=ZH)
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    wrong = {"username": "alice", "password": "not her password", "csrf_token": token}
    page = client.post("/login", data=wrong, headers=ZH).get_data(as_text=True)
    assert "用户名或密码错误。" in page
    assert log_in(client, "alice").status_code == 302
    missing = client.get("/api/sessions/999999", headers=ZH)
    assert missing.status_code == 404
    assert missing.get_json()["message"] == "没有编号为 999999 的课堂记录"
    english = client.get("/api/sessions/999999", headers={"Accept-Language": "en"}).get_json()
    assert english["message"] == "no session 999999"
    error_page = client.get("/sessions/999999", headers=ZH).get_data(as_text=True)
    assert "找不到页面" in error_page and "没有编号为 999999 的课堂记录" in error_page


def test_the_lesson_summary_reads_in_chinese(app, school) -> None:
    client = app.test_client()
    assert log_in(client, "alice").status_code == 302
    page = client.get(f"/sessions/{school['lesson_a']}", headers=ZH).get_data(as_text=True)
    assert "整节课的参与度指数平均为" in page and "画面中人数：通常 3 人" in page
    english = client.get(f"/sessions/{school['lesson_a']}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Engagement index averaged" in english


def test_a_garbled_accept_language_header_falls_back_quietly(app) -> None:
    client = app.test_client()
    for header in ("zh;q=abc, ,,;;=", "*", "x" * 5000, "en;q=0, zh-CN;q=0.1"):
        resp = client.get("/login", headers={"Accept-Language": header})
        assert resp.status_code == 200, header
    assert _lang(client.get("/login", headers={"Accept-Language": "*"}).get_data(as_text=True)) == "en"


def test_worker_states_on_the_health_page_in_chinese(app, school) -> None:
    client = app.test_client()
    assert log_in(client, "admin").status_code == 302
    page = client.get("/health", headers=ZH).get_data(as_text=True)
    assert "采集进程运行状态" in page and ">从未启动<" in page and ">never started<" not in page
