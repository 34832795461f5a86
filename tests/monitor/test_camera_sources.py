"""Camera sources in the store: credentials stored apart and encrypted, the openable URL for internal use."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from monitor.config import Settings
from monitor.store import camera_sources as cs
from monitor.store import make_engine, session_factory
from monitor.store.cameras import get_or_create_camera

KEY = "a-test-camera-key-of-enough-length"


@pytest.fixture
def key():
    cs.use_settings(Settings(camera_key=KEY))
    yield KEY
    cs.use_settings(Settings(camera_key=None))


@pytest.fixture
def db(db_url: str):
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_credentials_are_stored_encrypted_and_come_back_for_internal_use(db, key) -> None:
    cam = get_or_create_camera(db, "Room 101")
    cs.set_camera_source(
        db, cam, "rtsp://admin:S3cr3t!pw@cam-101.lan:554/stream2", "host-a, host-b", keep_password=True
    )
    db.commit()
    raw = db.execute(text("SELECT * FROM cameras WHERE id = :id"), {"id": cam.id}).one()
    assert "S3cr3t!pw" not in " ".join(str(v) for v in raw)
    assert "admin" not in " ".join(str(v) for v in raw if v != "Room 101")
    assert cam.configured_source == "rtsp://cam-101.lan:554/stream2"
    assert cs.camera_source_url(db, cam.id) == "rtsp://admin:S3cr3t!pw@cam-101.lan:554/stream2"
    assert cs.source_view(cam) == {
        "source": "rtsp://cam-101.lan:554/stream2",
        "password_set": True,
        "hosts": ["host-a", "host-b"],
    }
    # Saving the shown URL unchanged keeps the password; typing other credentials replaces it.
    cs.set_camera_source(db, cam, "rtsp://cam-101.lan:554/stream2", "", keep_password=True)
    assert cs.camera_source_url(db, cam.id) == "rtsp://admin:S3cr3t!pw@cam-101.lan:554/stream2"
    cs.set_camera_source(db, cam, "rtsp://cam-101.lan:554/stream2", "", keep_password=False)
    assert cs.camera_source_url(db, cam.id) == "rtsp://cam-101.lan:554/stream2"


def test_credentials_without_a_key_are_refused_plain_sources_work(db) -> None:
    cs.use_settings(Settings(camera_key=None))
    cam = get_or_create_camera(db, "Room 102")
    with pytest.raises(cs.CameraSourceError, match="camera_key"):
        cs.set_camera_source(db, cam, "rtsp://u:p@cam/s", None, keep_password=True)
    assert cam.configured_source is None and cam.source_credentials is None
    cs.set_camera_source(db, cam, "/videos/room.mp4", None, keep_password=True)
    cs.set_camera_source(db, cam, "0", None, keep_password=True)
    assert cs.camera_source_url(db, cam.id) == "0"


def test_a_different_key_cannot_read_the_password(db, key) -> None:
    cam = get_or_create_camera(db, "Room 103")
    cs.set_camera_source(db, cam, "rtsp://u:pw@cam/s", None, keep_password=True)
    cs.use_settings(Settings(camera_key="another-key-entirely-0123"))
    with pytest.raises(cs.CameraSourceError, match="cannot be decrypted"):
        cs.camera_source_url(db, cam.id)


@pytest.mark.parametrize(
    "source, message",
    [
        ("", "empty"),
        ("ftp://cam/x", "scheme"),
        ("rtsp://", "no host"),
        ("relative/clip.mp4", "absolute"),
        ("rtsp://cam:99999/s", "valid URL"),
    ],
)
def test_bad_sources_get_one_clear_message(source: str, message: str) -> None:
    with pytest.raises(cs.CameraSourceError, match=message):
        cs.split_source(source)


def test_masking_and_hosts() -> None:
    assert cs.mask_source("rtsp://u:pw@cam/s") == "rtsp://***@cam/s"
    assert cs.mask_text("cannot open rtsp://u:pw@cam/s (pw rejected)", "rtsp://u:pw@cam/s") == (
        "cannot open rtsp://***@cam/s (*** rejected)"
    )
    assert cs.host_may_serve(None, "anything")
    assert cs.host_may_serve("cam-host", "cam-host.school.lan")
    assert not cs.host_may_serve("cam-host", "other")
    with pytest.raises(cs.CameraSourceError, match="host name"):
        cs.parse_hosts("good, bad/host")
