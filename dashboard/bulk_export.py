"""Bulk export from the browser: a class's or a camera's lessons over a date range, in one zip, with progress.

The same code as ``classroom-monitor export --camera/--class/--from/--to`` (``monitor.reports.bulk``:
``find_sessions`` chooses the lessons, ``write_bulk_zip`` renders each with the reports' own privacy rules),
run in a background thread that reports each finished lesson. The page polls the job and then downloads the
zip, which lives in a private temporary folder (mode 0700) for ``JOB_TTL_S``, then is deleted.

Access: a teacher exports only the classes and cameras they can see (any other answers 403, whether it exists
or not, so names cannot be probed); admins export everything.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashboard import access
from dashboard.db import audit, database, get_db
from monitor import timefmt
from monitor.reports import FORMATS, ReportError
from monitor.reports.bulk import bulk_name, find_sessions, write_bulk_zip
from monitor.store.schema import Camera
from monitor.views import trends as views

log = logging.getLogger(__name__)
bp = Blueprint("bulk_export", __name__)

JOB_TTL_S = 1800.0
"""A finished zip is kept this long for its download, then deleted."""
MAX_RUNNING = 1
"""Exports rendering at once in this process (each one renders PDFs and charts): more wait their turn."""
MAX_LABEL = 200


@dataclass
class ExportJob:
    """One zip being made for one user; read by the progress poll."""

    id: str
    user_id: int
    filename: str
    total: int
    done: int = 0
    state: str = "running"  # running | done | failed
    message: str = ""
    path: Path | None = None
    size: int = 0
    started: float = field(default_factory=time.monotonic)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "filename": self.filename,
            "size": self.size,
            "download": url_for("bulk_export.download", job_id=self.id) if self.state == "done" else None,
        }


class ExportJobs:
    """The jobs of this web process (the dashboard runs as one process: ``dashboard.server``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}

    def running(self) -> int:
        with self._lock:
            return sum(j.state == "running" for j in self._jobs.values())

    def get(self, job_id: str, user_id: int) -> ExportJob | None:
        """The job, only for the user who started it."""
        self.sweep()
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.user_id == user_id else None

    def sweep(self) -> None:
        """Forget jobs older than ``JOB_TTL_S`` and delete their zips."""
        now = time.monotonic()
        with self._lock:
            old = [j for j in self._jobs.values() if j.state != "running" and now - j.started > JOB_TTL_S]
            for job in old:
                del self._jobs[job.id]
        for job in old:
            if job.path is not None:
                shutil.rmtree(job.path.parent, ignore_errors=True)

    def start(
        self,
        user_id: int,
        session_ids: list[int],
        fmts: list[str],
        filename: str,
        reader: sessionmaker[Session],
        models_dir: Path | None,
        locale: str | None,
    ) -> ExportJob:
        job = ExportJob(secrets.token_urlsafe(16), user_id, filename, total=len(session_ids))
        with self._lock:
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=_make_zip,
            args=(job, reader, session_ids, fmts, models_dir, locale),
            name=f"bulk-export-{job.id[:6]}",
            daemon=True,
        )
        thread.start()
        return job

    def close(self) -> None:
        """Delete every zip (the app is shutting down)."""
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            if job.path is not None:
                shutil.rmtree(job.path.parent, ignore_errors=True)


def _make_zip(
    job: ExportJob,
    reader: sessionmaker[Session],
    session_ids: list[int],
    fmts: list[str],
    models_dir: Path | None,
    locale: str | None,
) -> None:
    """The thread: ``write_bulk_zip`` into a private folder, counting each finished lesson."""
    folder = Path(tempfile.mkdtemp(prefix="classroom-export-"))  # mode 0700: this process's user only

    def progress(done: int, total: int) -> None:
        job.done = done

    try:
        with reader() as db:
            path = write_bulk_zip(
                db,
                session_ids,
                fmts,
                folder / job.filename,
                models_dir=models_dir,
                locale=locale,
                progress=progress,
            )
        job.path, job.size, job.state = path, path.stat().st_size, "done"
    except (ReportError, SQLAlchemyError, OSError) as exc:
        job.message, job.state = str(exc), "failed"
        shutil.rmtree(folder, ignore_errors=True)
    except Exception:  # noqa: BLE001 - the poll says it failed; the log has the trace
        log.exception("bulk export %s failed", job.id)
        job.message, job.state = "the export failed on the server; it has been logged", "failed"
        shutil.rmtree(folder, ignore_errors=True)


def init_app(app) -> None:
    app.extensions["bulk_exports"] = ExportJobs()
    app.register_blueprint(bp)


def _jobs() -> ExportJobs:
    return current_app.extensions["bulk_exports"]


# ---- parameters ----------------------------------------------------------------------------------------


def _forbidden() -> None:
    abort(403, description=gettext("you can export only your own classes and cameras"))


def _date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        abort(400, description=gettext("%(name)s must be a date like 2026-11-30", name=name))


def _label(value: Any) -> str | None:
    if value in (None, ""):
        return None
    label = " ".join(str(value).split())
    if not label or len(label) > MAX_LABEL or any(ord(ch) < 32 for ch in label):
        abort(
            400, description=gettext("class must be a class label of at most %(n)s characters", n=MAX_LABEL)
        )
    return label


def _camera_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        camera_id = int(str(value))
    except ValueError:
        camera_id = 0
    if not 0 < camera_id <= access.MAX_ID:
        abort(400, description=gettext("camera_id must be a camera's number"))
    return camera_id


def _formats(value: Any) -> list[str]:
    fmts = value if isinstance(value, list) else [value] if value else ["csv"]
    out = [str(f).strip().lower() for f in fmts]
    if not out or any(f not in FORMATS for f in out):
        abort(400, description=gettext("formats must be some of %(formats)s", formats=", ".join(FORMATS)))
    return list(dict.fromkeys(out))


# ---- routes --------------------------------------------------------------------------------------------


@bp.get("/exports")
def page() -> Any:
    """The form: a class or a camera, a date range and the formats; the progress and the download."""
    db = get_db()
    who = access.audience(db)
    return render_template(
        "bulk_export.html",
        cameras=views.cameras(db, who),
        labels=views.class_labels(db, who),
        formats=FORMATS,
        chosen={k: request.args.get(k, "") for k in ("camera_id", "label", "from", "to")},
        zone=timefmt.zone_name(who.zone),
    )


@bp.post("/api/exports")
def start() -> Any:
    """Start a zip of the lessons chosen; answers 202 with the job to poll."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description=gettext("send a JSON object"))
    camera_id, label = _camera_id(body.get("camera_id")), _label(body.get("label"))
    date_from, date_to = _date(body.get("from"), "from"), _date(body.get("to"), "to")
    fmts = _formats(body.get("formats"))
    if date_from and date_to and date_to < date_from:
        abort(400, description=gettext("the end date is before the start date"))
    db = get_db()
    who = access.audience(db)
    visible = who.camera_ids  # None: an admin
    if visible is not None:
        if camera_id is not None and camera_id not in visible:
            _forbidden()
        if label is not None and label not in views.class_labels(db, who):
            _forbidden()
    camera = db.get(Camera, camera_id) if camera_id is not None else None
    if camera_id is not None and camera is None:
        abort(404, description=gettext("no camera %(id)s", id=camera_id))
    only = [camera_id] if camera_id is not None else (list(visible) if visible is not None else None)
    try:
        ids = find_sessions(db, None, date_from, date_to, label=label, camera_ids=only)
    except ReportError as exc:
        abort(404, description=str(exc))
    jobs = _jobs()
    if jobs.running() >= MAX_RUNNING:
        abort(429, description=gettext("another export is being made; try again when it has finished"))
    job = jobs.start(
        g.user.id,
        ids,
        fmts,
        bulk_name(camera.name if camera else None, label, date_from, date_to),
        database().reader,
        current_app.extensions["monitor_settings"].models_dir,
        who.locale,
    )
    detail = f"bulk camera={camera_id or ''} class={label or ''} from={date_from or ''} to={date_to or ''}"
    audit(g.user.username, "export", f"{detail} formats={','.join(fmts)} sessions={len(ids)}")
    resp = jsonify(job.as_json())
    resp.status_code = 202
    return resp


@bp.get("/api/exports/<job_id>")
def progress(job_id: str) -> Any:
    job = _jobs().get(job_id, g.user.id)
    if job is None:
        abort(404, description=gettext("no export %(id)s", id=job_id[:40]))
    return jsonify(job.as_json())


@bp.get("/api/exports/<job_id>/download")
def download(job_id: str) -> Any:
    job = _jobs().get(job_id, g.user.id)
    if job is None:
        abort(404, description=gettext("no export %(id)s", id=job_id[:40]))
    if job.state != "done" or job.path is None:
        abort(409, description=gettext("the export is not ready yet"))
    resp = send_file(job.path, mimetype="application/zip", as_attachment=True, download_name=job.filename)
    resp.headers["Cache-Control"] = "no-store"
    return resp
