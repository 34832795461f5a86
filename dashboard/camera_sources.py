"""The admin page's camera sources: set a camera's source and serving hosts, and test the connection.

Storage and the credential rules live in ``monitor.store.camera_sources``: a URL's ``user:password@`` is
stored apart, encrypted with the process setting ``camera_key``, and never comes back to a page: the form
shows the URL without it and "password set". A ``serve`` with ``database_cameras = true`` picks a change up
within seconds (``monitor.serve.db_cameras``). "Test connection" asks the camera's serve host to open the
source (a ``source_probes`` row, answered by ``monitor.serve.probes``); when no serve host takes the request
within :data:`CLAIM_WAIT_S` the dashboard opens it from its own host (``monitor.source_probe``). Either way
the answer says which host tested, within 10 s.

A camera a serve runs from its config file (``[[cameras]] source = ...``, recorded by that serve:
``monitor.store.config_file_cameras``) runs the FILE's source. The page says so (the file's source masked,
its host); saving a source here is accepted with that warning (an admin may stage the move from the file to
this page: save here, then take the camera out of the file and restart serve, with no gap); and "Test
connection" is answered by that serve only, with the file's source. Every answer names the source tested.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, abort, flash, g, redirect, request, url_for
from flask_babel import gettext

from dashboard import access
from dashboard.auth import admin_required
from dashboard.camera_source_write import camera_or_404, file_source_warning, save_source
from dashboard.db import database, get_db, write_db
from monitor.config import Settings
from monitor.source_probe import run_in_child
from monitor.store.camera_sources import (
    CameraSourceError,
    file_source_of,
    file_source_view,
    key_configured,
    openable_source,
    source_view,
    use_settings,
)
from monitor.store.schema import Camera, utcnow
from monitor.store.source_probes import ProbeRow, claim, probe_row, request_probe
from monitor.store.source_probes import answer as record_answer

bp = Blueprint("camera_sources", __name__)
_probes = threading.BoundedSemaphore(2)  # each test is a child process that may wait 10 s
PROBE_TIMEOUT_S = 10.0
CLAIM_WAIT_S = 2.5
"""How long a serve host has to take a request before the dashboard tests from its own host."""
FALLBACK_TIMEOUT_S = 6.5
"""The dashboard's own test after no serve host took the request: 2.5 + 6.5 s stays within the 10 s."""


@dataclass(frozen=True)
class ProbeResult:
    """What a connection test found, and on which host it ran."""

    ok: bool
    host: str
    seconds: float
    width: int = 0
    height: int = 0
    fps: float = 0.0
    error: str = ""


def probe_source(source: str, timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """Open ``source`` here in a child (``monitor.source_probe``, as serve does), within ``timeout_s``."""
    host = socket.gethostname()
    started = time.monotonic()
    found = run_in_child(source, timeout_s)
    seconds = time.monotonic() - started
    if "error" in found:
        return ProbeResult(False, host, seconds, error=found["error"])
    return ProbeResult(True, host, seconds, found["width"], found["height"], found["fps"])


@bp.app_template_global()
def camera_source_of(camera_id: int) -> dict:
    """The source form's values for a camera: never its credentials."""
    cam = get_db().get(Camera, camera_id)
    if cam is None:
        return {"key_configured": key_configured()}
    in_file = file_source_of(cam)
    return {
        **source_view(cam),
        "key_configured": key_configured(),
        "file": file_source_view(cam),
        "file_warning": file_source_warning(in_file) if in_file else None,
    }


@bp.post("/admin/cameras/<int:camera_id>/source")
@admin_required
def source_post(camera_id: int) -> Any:
    f = request.form
    try:
        message = save_source(
            camera_id, f.get("source", ""), f.get("hosts", ""), bool(f.get("clear_password"))
        )
    except CameraSourceError as exc:
        flash(gettext("Source not saved: %(why)s.", why=exc), "error")
    else:
        in_file = file_source_of(camera_or_404(get_db(), camera_id))
        flash(message, "error warning" if in_file else "info")
    return redirect(url_for("admin.cameras") + f"#camera-{camera_id}")


def _tested(name: str, row: ProbeRow) -> str:
    """The camera's name and the source the test opened (masked): the config file's or the saved one."""
    if not row.tested_source:
        return name
    if row.tested_from_file:
        return gettext(
            "%(name)s (source %(source)s, set in the serve config file)", name=name, source=row.tested_source
        )
    return gettext("%(name)s (source %(source)s, saved on this page)", name=name, source=row.tested_source)


def _result_line(name: str, row: ProbeRow) -> str:
    """The sentence for the admin: what the test found, which source it opened and from which host."""
    name = _tested(name, row)
    where = row.answered_by or ""
    if (row.claimed_by or "").startswith(_FALLBACK_MARK):
        where = gettext("%(host)s (the dashboard's host; no serve host answered)", host=where)
    if row.reachable:
        rate = f"{row.fps or 0:g}"
        fps = gettext("%(fps)s fps", fps=rate) if (row.fps or 0) > 0 else gettext("fps not reported")
        return gettext(
            "Test of %(name)s, tested from host %(where)s: reachable, %(w)sx%(h)s, %(fps)s.",
            name=name,
            where=where,
            w=row.width,
            h=row.height,
            fps=fps,
        )
    return gettext(
        "Test of %(name)s, tested from host %(where)s: not reachable: %(why)s.",
        name=name,
        where=where,
        why=row.error or "",
    )


_FALLBACK_MARK = "dashboard:"
"""``claimed_by`` of a request the dashboard took over: ``dashboard:<host>``."""


def _read(probe_id: int) -> ProbeRow | None:
    with database().reader() as db:  # a fresh session: each read sees what serve wrote since
        return probe_row(db, probe_id)


def _fallback(cam_name: str, source: str | None, probe_id: int, shown: str | None) -> None:
    """Take the request for the dashboard's host (if no serve host took it) and test from here."""
    host = socket.gethostname()
    with write_db() as db:
        if not claim(db, probe_id, _FALLBACK_MARK + host):
            return  # a serve host took it in the meantime
    if source is None:
        found: dict = {"error": gettext("no source set yet")}
    elif not _probes.acquire(blocking=False):
        found = {"error": gettext("two connection tests are running already; try again in a few seconds")}
    else:
        try:
            result = probe_source(source, FALLBACK_TIMEOUT_S)
        finally:
            _probes.release()
        found = (
            {"width": result.width, "height": result.height, "fps": result.fps}
            if result.ok
            else {"error": result.error}
        )
    with write_db() as db:
        record_answer(db, probe_id, host, found, tested=shown)


def _file_serve_silent(cam: Camera, probe_id: int) -> None:
    """No serve took the test of a camera run from a serve config file: the dashboard cannot open that
    source (it holds only the masked one) and must not test the saved one, which is not used. Say so."""
    host = socket.gethostname()
    in_file = file_source_of(cam)
    if in_file is None:
        return
    why = gettext(
        "the serve on host %(host)s runs this camera from its config file and did not take the test within "
        "%(s)s s; is serve running there?",
        host=in_file.host,
        s=f"{CLAIM_WAIT_S:g}",
    )
    with write_db() as db:
        if claim(db, probe_id, _FALLBACK_MARK + host):
            record_answer(db, probe_id, host, {"error": why}, tested=in_file.source, from_file=True)


def advance_probe(camera_id: int, probe_id: int) -> ProbeRow | None:
    """The request as it stands; past :data:`CLAIM_WAIT_S` unclaimed, the dashboard tests it itself."""
    row = _read(probe_id)
    if row is None or row.camera_id != camera_id or row.answered:
        return row
    waited = (utcnow() - row.requested_at).total_seconds()
    if row.claimed_by is None and waited >= CLAIM_WAIT_S:
        cam = camera_or_404(get_db(), camera_id)
        try:
            source = None if file_source_of(cam) else openable_source(cam)
        except CameraSourceError as exc:
            with write_db() as db:
                if claim(db, probe_id, _FALLBACK_MARK + socket.gethostname()):
                    record_answer(
                        db, probe_id, socket.gethostname(), {"error": str(exc)}, tested=cam.configured_source
                    )
        else:
            if file_source_of(cam):
                _file_serve_silent(cam, probe_id)
            else:
                _fallback(cam.name, source, probe_id, cam.configured_source)
        row = _read(probe_id)
    elif row.claimed_by is not None and waited >= PROBE_TIMEOUT_S + 2:
        with write_db() as db:  # the serve host took it and went silent (it died mid-test)
            record_answer(
                db,
                probe_id,
                row.claimed_by.removeprefix(_FALLBACK_MARK),
                {"error": gettext("no answer within %(s)s s", s=f"{PROBE_TIMEOUT_S:g}")},
            )
        row = _read(probe_id)
    return row


def _start_probe(cam: Camera) -> int:
    with write_db() as db:
        return request_probe(db, cam.id, g.user.username)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/admin/cameras/<int:camera_id>/test")
@admin_required
def test_post(camera_id: int) -> Any:
    """Ask the camera's serve host to test its source (the dashboard's host if none answers), within 10 s.

    From the page's script (``Accept: application/json``): 202 and the URL to poll. Without a script: the
    request waits for the answer and flashes it."""
    cam = camera_or_404(get_db(), camera_id)
    back = redirect(url_for("admin.cameras") + f"#camera-{camera_id}")
    if not cam.configured_source and file_source_of(cam) is None:
        if _wants_json():
            return {"error": gettext("Test of %(name)s: no source set yet.", name=cam.name)}, 400
        flash(gettext("Test of %(name)s: no source set yet.", name=cam.name), "error")
        return back
    probe_id = _start_probe(cam)
    if _wants_json():
        poll = url_for("camera_sources.test_get", camera_id=camera_id, probe_id=probe_id)
        return {"probe": probe_id, "poll": poll}, 202
    deadline = time.monotonic() + PROBE_TIMEOUT_S + 3
    row = advance_probe(camera_id, probe_id)
    while row is not None and not row.answered and time.monotonic() < deadline:
        time.sleep(0.25)
        row = advance_probe(camera_id, probe_id)
    if row is None or not row.answered:
        flash(gettext("Test of %(name)s: no answer within 10 s.", name=cam.name), "error")
        return back
    flash(_result_line(cam.name, row), "info" if row.reachable else "error")
    return back


@bp.get("/admin/cameras/<int:camera_id>/test/<int:probe_id>")
@admin_required
def test_get(camera_id: int, probe_id: int) -> Any:
    """The page polls this: ``{"done": false}`` until the answer, then ``{"done", "ok", "host",
    "tested_source", "from_file", "line"}`` (the source tested masked; from_file: the serve config file's)."""
    cam = camera_or_404(get_db(), camera_id)
    row = advance_probe(camera_id, probe_id) if 0 < probe_id <= access.MAX_ID else None
    if row is None or row.camera_id != camera_id:
        abort(404, description=gettext("no connection test %(id)s", id=probe_id))
    if not row.answered:
        return {"done": False, "claimed_by": (row.claimed_by or "").removeprefix(_FALLBACK_MARK) or None}
    return {
        "done": True,
        "ok": bool(row.reachable),
        "host": row.answered_by,
        "tested_source": row.tested_source,
        "from_file": row.tested_from_file,
        "line": _result_line(cam.name, row),
    }


def init_app(app: Flask, settings: Settings) -> None:
    """Register the routes; take ``camera_key`` from the dashboard's process settings."""
    use_settings(settings)
    app.register_blueprint(bp)
