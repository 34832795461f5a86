"""``classroom-monitor dashboard`` as a real process: gunicorn with threads serves pages, headers, logins
that end at logout, and the Socket.IO WebSocket; ``--dev`` keeps Werkzeug's development server."""

from __future__ import annotations

import re
import signal
import time

import pytest
import requests
import socketio

from tests.conftest import add_user, process_output, start_cli
from tests.support.http import log_in, wait_http
from tests.support.mjpeg_server import free_port

PASSWORD = "gunicorn-test-pass"


@pytest.fixture
def served(world, tmp_path):
    """(base URL, process) of ``classroom-monitor dashboard`` on a free loopback port."""

    def _start(*flags: str):
        port = free_port()
        proc = start_cli("--db", world.url, "dashboard", "--port", str(port), *flags, logs=tmp_path / "logs")
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/login", proc)
        return base, proc

    procs: list = []
    yield _start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def stop(proc) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = process_output(proc, timeout=20)
    assert proc.returncode == 0, err
    return err


def test_gunicorn_serves_logins_headers_and_the_live_socket(world, served):
    room = world.camera("room-a")
    add_user(world.url, "teach", PASSWORD)
    add_user(world.url, "head", PASSWORD, admin=True)
    base, proc = served()

    login_page = requests.get(f"{base}/login", timeout=5)
    assert login_page.headers["Server"].startswith("gunicorn")
    csp = login_page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp and "unsafe" not in csp
    assert login_page.headers["X-Content-Type-Options"] == "nosniff"
    assert login_page.headers["Referrer-Policy"] == "same-origin"
    cookie = login_page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP

    head = log_in(base, "head", PASSWORD)
    assert head.get(f"{base}/api/me", timeout=5).json()["username"] == "head"
    copied = head.cookies.get("session")

    client = socketio.Client()
    client.connect(base, headers={"Cookie": f"session={copied}"}, transports=["websocket"], wait_timeout=10)
    try:
        assert client.transport() == "websocket"
        assert client.call("watch", {"camera_id": room}, timeout=5) == {"ok": True, "camera_id": room}
        # Logging out ends the session for the copied cookie and for the open socket.
        assert head.post(f"{base}/logout", data={"csrf_token": head.csrf}, timeout=5).status_code == 200
        again = client.call("watch", {"camera_id": room}, timeout=5)
        assert again == {"ok": False, "error": "log in first"}
    finally:
        client.disconnect()
    thief = requests.get(f"{base}/api/me", cookies={"session": copied}, timeout=5)
    assert thief.status_code == 401
    assert requests.get(f"{base}/api/cameras", cookies={"session": copied}, timeout=5).status_code == 401

    teach = log_in(base, "teach", PASSWORD)
    assert teach.get(f"{base}/api/cameras", timeout=5).status_code == 200

    err = stop(proc)
    # gunicorn's threaded worker that reads headers in its event loop (dashboard.server.HeadersFirstWorker)
    assert "Starting gunicorn" in err and "HeadersFirstWorker" in err
    assert "development server" not in err


def test_dev_flag_keeps_the_werkzeug_server(world, served):
    base, proc = served("--dev")
    resp = requests.get(f"{base}/login", timeout=5)
    assert resp.status_code == 200 and resp.headers["Server"].startswith("Werkzeug")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    proc.send_signal(signal.SIGTERM)
    process_output(proc, timeout=20)


def test_bad_login_settings_are_one_clear_line(world):
    from tests.conftest import cli_env, run_cli

    proc = run_cli(
        "--db", world.url, "dashboard", env=cli_env(CLASSROOM_MONITOR_COOKIE_SECURE="sometimes"), timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: cookie_secure must be one of auto, always, never, not 'sometimes'"
    )


@pytest.mark.browser
def test_pages_run_in_chromium_under_the_csp_without_violations(world, served, tmp_path):
    """Real Chromium against the gunicorn server: the pages work and the console shows no CSP violation."""
    from datetime import UTC, datetime, timedelta

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from dashboard.vendor import missing_files
    from tests.support.browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_ARGS, skip_without_chromium

    skip_without_chromium()
    if missing_files():
        pytest.skip("front-end files missing: run npm ci && python -m dashboard.vendor")
    room = world.camera("room-a")
    lesson = world.lesson(room, "Maths", start=datetime.now(UTC) - timedelta(seconds=30), running=True)
    add_user(world.url, "head", PASSWORD, admin=True)
    base, proc = served()

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    logs: list[dict] = []

    def wait(predicate, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except Exception:  # the page is still loading
                pass
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}; console: {logs + driver.get_log('browser')}")

    try:
        driver.get(f"{base}/login")
        driver.find_element(By.NAME, "username").send_keys("head")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait(lambda: "/cameras" in driver.current_url, "the login")
        logs += driver.get_log("browser")
        driver.get(f"{base}/cameras/{room}/live")
        wait(lambda: driver.find_element(By.ID, "live").get_attribute("data-watching") == "yes", "the socket")
        wait(lambda: driver.find_element(By.ID, "faces").text == "3", "a live frame")
        logs += driver.get_log("browser")
        driver.get(f"{base}/sessions/{lesson}")
        wait(lambda: driver.execute_script("return !!window.timelineChart"), "the timeline chart")
        logs += driver.get_log("browser")
        for page in ("/sessions", "/settings"):
            driver.get(base + page)
            logs += driver.get_log("browser")
    finally:
        driver.quit()
    violations = [e for e in logs if re.search("Content Security Policy|Refused to", e["message"])]
    assert violations == []
    assert [e for e in logs if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]] == []
    stop(proc)
