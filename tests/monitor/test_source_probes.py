"""serve's side of "Test connection" (monitor/serve/probes.py) on a real database and the real probe child:
only a host the camera's ``serve_hosts`` allow takes a request, the host whose worker holds the camera goes
first, and the answer is metadata only."""

from __future__ import annotations

import time
from datetime import timedelta

from monitor.serve.probes import SERVING_HOST_FIRST_S, ProbeResponder
from monitor.store import camera_sources, make_engine, session_factory
from monitor.store.cameras import get_or_create_camera
from monitor.store.schema import SourceProbe, WorkerStatus, utcnow
from monitor.store.source_probes import probe_row, request_probe
from tests.conftest import GROUP, requires_videos


def _camera(factory, hosts: str) -> int:
    with factory.begin() as db:
        cam = get_or_create_camera(db, "room-9")
        camera_sources.set_camera_source(db, cam, str(GROUP), hosts, keep_password=True)
        return cam.id


def _ask(factory, camera_id: int) -> int:
    with factory.begin() as db:
        return request_probe(db, camera_id, "admin")


@requires_videos
def test_the_serving_host_goes_first_and_answers_with_metadata(db_url) -> None:
    engine = make_engine(db_url, writer=True)
    factory = session_factory(engine)
    camera_id = _camera(factory, "")
    with factory.begin() as db:  # host-a's worker holds the camera now
        db.add(
            WorkerStatus(
                camera_id=camera_id,
                hostname="host-a",
                pid=1,
                state="running",
                last_heartbeat=utcnow(),
                lease_owner="host-a:1:x",
            )
        )
    probe_id = _ask(factory, camera_id)
    other, serving = ProbeResponder(engine, lambda: "host-b"), ProbeResponder(engine, lambda: "host-a")
    assert other.answer_one() is None  # waits SERVING_HOST_FIRST_S for host-a
    assert serving.answer_one() == probe_id
    with factory() as db:
        row = probe_row(db, probe_id)
    assert (row.answered_by, row.reachable, row.width, row.height, row.error) == (
        "host-a",
        True,
        640,
        360,
        None,
    )
    assert row.fps == 30.0

    # host-a says nothing: after SERVING_HOST_FIRST_S another allowed host takes the request.
    probe_id = _ask(factory, camera_id)
    time.sleep(SERVING_HOST_FIRST_S + 0.1)
    assert other.answer_one() == probe_id
    engine.dispose()


def test_a_host_the_camera_does_not_allow_never_takes_it_nor_an_old_request(db_url) -> None:
    engine = make_engine(db_url, writer=True)
    factory = session_factory(engine)
    camera_id = _camera(factory, "host-c")
    probe_id = _ask(factory, camera_id)
    assert ProbeResponder(engine, lambda: "host-b").answer_one() is None
    with factory.begin() as db:  # the page stopped waiting long ago
        db.get(SourceProbe, probe_id).requested_at = utcnow() - timedelta(seconds=30)
    assert ProbeResponder(engine, lambda: "host-c").answer_one() is None
    with factory() as db:
        assert probe_row(db, probe_id).claimed_by is None
    engine.dispose()
