"""A real dashboard process over real HTTP: wait for it to come up, and log in as a browser would."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
import requests


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    """Wait until ``url`` answers 200; fail at once if ``proc`` (the server) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the dashboard exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker is still importing
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not come up")


def log_in(base: str, user: str, password: str) -> requests.Session:
    """A logged-in HTTP session; ``.csrf`` holds the token that writes must send."""
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = http.post(
        f"{base}/login",
        data={"username": user, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302, resp.text
    http.csrf = re.search(r'name="csrf-token" content="([^"]+)"', http.get(f"{base}/cameras").text).group(1)
    return http
