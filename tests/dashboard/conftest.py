"""Fixtures for the dashboard tests: a migrated SQLite file, seeded lessons, users and logged-in clients."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from dashboard import create_app
from monitor.store.migrate import upgrade
from tests.dashboard.helpers import World, log_in


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run the migrations once; each test copies the file (much faster than migrating every time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, _template_db: Path) -> str:
    path = tmp_path / "monitor.db"
    path.write_bytes(_template_db.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture
def world(db_url: str) -> World:
    w = World(db_url)
    yield w
    w.engine.dispose()


@pytest.fixture
def school(world: World) -> dict:
    """Two classrooms with a finished lesson each, a teacher for each, and an admin."""
    room_a = world.camera("room-a")
    room_b = world.camera("room-b", status="offline")
    return {
        "room_a": room_a,
        "room_b": room_b,
        "lesson_a": world.lesson(room_a, "Maths 7A"),
        "lesson_b": world.lesson(room_b, "History 8B", start=datetime(2025, 3, 10, 11, 0, tzinfo=UTC)),
        "alice": world.user("alice", cameras=(room_a,)),
        "bob": world.user("bob", cameras=(room_b,)),
        "admin": world.user("admin", admin=True),
    }


@contextmanager
def running_app(world: World, **config) -> Iterator[Flask]:
    """The dashboard on the world's database; its background threads and engine end with the block."""
    app = create_app({"db_url": world.url, "secret_key": "test-secret", "TESTING": True, **config})
    try:
        yield app
    finally:
        poller = app.extensions["live_poller"]
        if poller is not None:
            poller.stop()
        app.extensions["watch_guard"].stop()
        app.extensions["monitor_db"].dispose()


@pytest.fixture
def app(world: World):
    with running_app(world) as app:
        yield app


@pytest.fixture
def login(app):
    """``login("alice")`` → a test client logged in as alice."""

    def _login(name: str):
        client = app.test_client()
        resp = log_in(client, name)
        assert resp.status_code == 302, resp.data
        return client

    return _login


@pytest.fixture
def server(app) -> Iterator[str]:
    """The app (Socket.IO included) served on a free loopback port in a thread, for browser tests."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)
