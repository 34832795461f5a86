"""``classroom-monitor status`` and ``GET /api/health`` read one health model (``monitor.views.health``): the
same state, the same staleness rule and the same wording for the same database."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update

from monitor.store.schema import WorkerStatus, utcnow
from monitor.store.sessions import STALE_AFTER_S, claim_camera, new_lease_token
from tests.conftest import run_cli
from tests.dashboard.helpers import World


def _worker(world: World, camera_id: int, heartbeat_age_s: float) -> None:
    """A worker row as a real worker writes it: a claimed lease, ``running``, a heartbeat this old."""
    with world.Session.begin() as db:
        ws = claim_camera(db, camera_id, new_lease_token(), utcnow())
        ws.pid, ws.hostname, ws.state = 4242, "cam-host", "running"
    with world.Session.begin() as db:
        db.execute(
            update(WorkerStatus)
            .where(WorkerStatus.camera_id == camera_id)
            .values(last_heartbeat=utcnow() - timedelta(seconds=heartbeat_age_s))
        )


def _beat(world: World, camera_id: int) -> None:
    with world.Session.begin() as db:
        beat = update(WorkerStatus).where(WorkerStatus.camera_id == camera_id)
        db.execute(beat.values(last_heartbeat=utcnow()))


def test_status_json_and_api_health_agree_on_state_and_staleness(school, login, world):
    fresh = world.camera("room-c")
    _worker(world, school["room_a"], heartbeat_age_s=STALE_AFTER_S + 50)  # went silent
    _worker(world, fresh, heartbeat_age_s=0)  # running now
    # room-b: no worker ever served it

    api = {w["camera"]: w for w in login("admin").get("/api/health").get_json()["workers"]}
    _beat(world, fresh)  # the CLI starts in a few seconds, well inside STALE_AFTER_S
    proc = run_cli("--db", world.url, "status", "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    cli = {row["camera"]: row for row in map(json.loads, proc.stdout.splitlines())}

    expected = {
        "room-a": ("running", True),
        "room-b": ("never started", False),
        "room-c": ("running", False),
    }
    assert {name: (w["state"], w["stale"]) for name, w in api.items()} == expected
    assert {name: (w["state"], w["stale"]) for name, w in cli.items()} == expected
    assert api["room-b"]["heartbeat_age_s"] is None and cli["room-b"]["heartbeat_age_s"] is None
    assert min(api["room-a"]["heartbeat_age_s"], cli["room-a"]["heartbeat_age_s"]) > STALE_AFTER_S
    for row in (api["room-c"], cli["room-c"]):
        assert row["heartbeat_age_s"] < STALE_AFTER_S and (row["pid"], row["host"]) == (4242, "cam-host")

    # the table says it in the health page's words
    _beat(world, fresh)
    table = run_cli("--db", world.url, "status", timeout=60).stdout
    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert "running · stale" in lines["room-a"] and "never started" in lines["room-b"]
    assert "stale" not in lines["room-c"] and "cam-host pid 4242" in lines["room-c"]
