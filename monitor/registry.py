"""Model versions: the directories under ``models/`` and which one the workers use.

A version is a directory ``models/<version>/`` with ``model.tflite`` and/or ``model_int8.tflite`` (and
``metrics.json`` from training).
The database records versions and marks one active; running workers poll it and switch without a restart.
With no active version recorded, workers use the version named in ``models/DEFAULT`` (so a fresh clone is
deterministic and a newly trained experiment never replaces the shipped model by itself), else the newest.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.classify import ModelError, has_runtime, model_file
from monitor.config import REPO_ROOT
from monitor.store.schema import ModelVersion, utcnow

DEFAULT_MODELS_DIR = REPO_ROOT / "models"
DEFAULT_FILE = "DEFAULT"
"""A one-line file in the models directory naming the version to use when none is activated."""


def shipped_models(models_dir: Path | None = None) -> list[Path]:
    """Model directories under ``models_dir``: the one named in DEFAULT first, then newest first."""
    root = models_dir or DEFAULT_MODELS_DIR
    dirs = sorted((d for d in root.glob("*/") if has_runtime(d)),
                  key=lambda d: model_file(d).stat().st_mtime, reverse=True)
    try:
        default = (root / DEFAULT_FILE).read_text().strip()
    except OSError:
        return dirs
    return sorted(dirs, key=lambda d: d.name != default)  # stable: the rest keep their order


def read_metrics(model_dir: Path) -> dict:
    try:
        return json.loads((model_dir / "metrics.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def register(db: Session, model_dir: Path, activate: bool = False) -> ModelVersion:
    """Record (or refresh) the version in ``model_dir``; the caller commits."""
    model_dir = model_dir.resolve()
    if not has_runtime(model_dir):
        raise ModelError(f"no model.tflite or model_int8.tflite in {model_dir}")
    metrics = read_metrics(model_dir)
    row = db.scalar(select(ModelVersion).where(ModelVersion.version == model_dir.name))
    if row is None:
        row = ModelVersion(version=model_dir.name, path=str(model_dir), created_at=utcnow())
        db.add(row)
    row.path = str(model_dir)
    row.arch = metrics.get("arch")
    row.accuracy = metrics.get("accuracy")
    row.macro_f1 = metrics.get("macro_f1")
    db.flush()
    if activate:
        set_active(db, row.version)
    return row


def sync_shipped(db: Session, models_dir: Path | None = None) -> list[ModelVersion]:
    """Register every shipped model directory; returns all recorded versions."""
    for d in shipped_models(models_dir):
        register(db, d)
    return list(db.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc())))


def set_active(db: Session, version: str) -> ModelVersion:
    row = db.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None:
        raise ModelError(f"unknown model version {version!r} (see: classroom-monitor models list)")
    if not has_runtime(Path(row.path)):
        raise ModelError(f"model files of {version!r} are missing at {row.path}")
    db.execute(update(ModelVersion).values(active=False))
    row.active = True
    row.activated_at = utcnow()
    return row


def active_version(db: Session) -> tuple[str, Path, datetime | None] | None:
    row = db.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)))
    return None if row is None else (row.version, Path(row.path), row.activated_at)


def active_model_dir(db: Session | None = None, models_dir: Path | None = None) -> Path:
    """The directory of the model workers should use now."""
    if db is not None:
        active = active_version(db)
        if active is not None and has_runtime(active[1]):
            return active[1]
    shipped = shipped_models(models_dir)
    if not shipped:
        raise ModelError(
            f"no model found: {models_dir or DEFAULT_MODELS_DIR} has no */model.tflite "
            "(train one with: classroom-monitor train, or run attention-only with --mode attention)"
        )
    return shipped[0]
