"""Model versions: the directories under ``models/`` and which one the workers use.

A version is a directory ``models/<version>/`` with ``model.tflite`` and/or ``model_int8.tflite`` (and
``metrics.json`` from training).
The database records versions and marks one active; running workers poll it and switch without a restart.
With no active version recorded, workers use the version named in ``models/DEFAULT`` (so a fresh clone is
deterministic and a newly trained experiment never replaces the shipped model by itself), else the newest.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from monitor.classify import FLOAT32_FILE, INT8_FILE, EmotionClassifier, ModelError, has_runtime, model_file
from monitor.config import REPO_ROOT
from monitor.store.schema import ModelVersion, utcnow

DEFAULT_MODELS_DIR = REPO_ROOT / "models"
DEFAULT_FILE = "DEFAULT"
"""A one-line file in the models directory naming the version to use when none is activated."""


def shipped_models(models_dir: Path | None = None) -> list[Path]:
    """Model directories under ``models_dir``: the one named in DEFAULT first, then newest first."""
    root = models_dir or DEFAULT_MODELS_DIR
    dirs = sorted(
        (d for d in root.glob("*/") if has_runtime(d)),
        key=lambda d: model_file(d).stat().st_mtime,
        reverse=True,
    )
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


@dataclass(frozen=True)
class Listing:
    """One line of ``models list``: a recorded version, or a shipped directory not recorded yet."""

    version: str
    path: str
    arch: str | None
    accuracy: float | None
    macro_f1: float | None
    active: bool
    recorded: bool


def list_versions(db: Session | None, models_dir: Path | None = None) -> list[Listing]:
    """Recorded versions (newest first) and shipped directories not recorded yet; reads only, so
    listing works on a read-only database and never changes it. ``db`` None: the directories alone."""
    rows = list(db.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc()))) if db else []
    out = [Listing(r.version, r.path, r.arch, r.accuracy, r.macro_f1, bool(r.active), True) for r in rows]
    known = {r.version for r in rows}
    for d in shipped_models(models_dir):
        if d.name not in known:
            m = read_metrics(d)
            out.append(
                Listing(
                    d.name,
                    str(d.resolve()),
                    m.get("arch"),
                    m.get("accuracy"),
                    m.get("macro_f1"),
                    False,
                    False,
                )
            )
    return out


PROBE_FACES = 16
"""Real faces every model must tell apart before it may be activated (and the batch it must answer)."""

MIN_OUTPUT_SPREAD = 0.05
"""A model must move some class's probability by at least this much across the probe faces. The shipped
models move it by about 0.8 (float32 and int8 alike); a model whose outputs are constant (a calibration
temperature of 1e308 makes every face read 1/7 of each emotion, and "angry" on top) moves it by 0. The gap
is wide enough that no CPU's float or int8 kernels can move a model across it."""


def probe_faces() -> np.ndarray:
    """``(PROBE_FACES, 48, 48, 1)``: real, varied faces that every install has, through the worker's own
    preprocessing. They are the first (face) half of scikit-image's bundled LFW subset, which ships as a
    file inside the package; without it, a fixed set of smooth generated images stands in."""
    from monitor.preprocess import preprocess_faces

    try:
        from skimage.data import lfw_subset

        faces = lfw_subset()[:100]  # 100 faces, then 100 non-faces
        picked = faces[:: len(faces) // PROBE_FACES][:PROBE_FACES]
        crops = [np.round(np.clip(f, 0, 1) * 255).astype(np.uint8) for f in picked]
    except (ImportError, OSError, ValueError):
        rng = np.random.default_rng(20261206)  # PCG64: the same numbers on every machine
        coarse = rng.integers(0, 256, (PROBE_FACES, 6, 6), dtype=np.uint8)
        crops = [np.kron(c, np.ones((8, 8), np.uint8)) for c in coarse]  # 48x48 blocks, no resampling
    return preprocess_faces(crops)


def output_spread(probs: np.ndarray) -> float:
    """How far any one class's probability moves across a batch of faces (0: the same answer for all)."""
    return float((probs.max(axis=0) - probs.min(axis=0)).max()) if len(probs) else 0.0


def validate_model(model_dir: Path) -> None:
    """Raise ``ModelError`` unless every runtime file in ``model_dir`` loads under LiteRT (the workers'
    runtime), takes ``(N, 48, 48, 1)``, gives ``(N, K)`` for its labels, turns the probe faces into finite
    probabilities, and tells those faces apart (``MIN_OUTPUT_SPREAD``; with its ``calibration.json``
    applied): a corrupt or constant model is refused at activation instead of failing in every worker."""
    from monitor.classify import EmotionClassifier
    from monitor.labels import EMOTIONS

    files = [name for name in (FLOAT32_FILE, INT8_FILE) if (model_dir / name).is_file()]
    if not files:
        raise ModelError(f"no {FLOAT32_FILE} or {INT8_FILE} in {model_dir}")
    batch = probe_faces()
    n = len(batch)
    for name in files:
        precision = "int8" if name == INT8_FILE else "float32"
        where = model_dir / name
        clf = EmotionClassifier(model_dir, num_threads=1, precision=precision)
        out_shape = tuple(clf._interp.get_output_details()[0]["shape"])
        if len(out_shape) != 2:
            raise ModelError(f"model output must be (N, classes), got {out_shape}: {where}")
        try:
            with np.errstate(all="ignore"):  # a NaN or an absurd temperature is reported below, not warned
                probs = clf.predict_batch(batch)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model failed on a test batch: {where} ({exc})") from exc
        if probs.shape != (n, len(EMOTIONS)):
            raise ModelError(f"model answered {probs.shape} for a batch of {n}: {where}")
        if not np.isfinite(probs).all() or (probs < -1e-6).any() or (probs > 1 + 1e-6).any():
            raise ModelError(
                f"model gives no probabilities (NaN, negative or above 1) on a test batch: {where}"
            )
        spread = output_spread(probs)
        if spread < MIN_OUTPUT_SPREAD:
            temperature = "" if clf.temperature is None else f", calibration temperature {clf.temperature:g}"
            raise ModelError(
                f"model gives (nearly) the same answer for {n} different faces (no class probability moves "
                f"by {MIN_OUTPUT_SPREAD:g}; largest move {spread:.2g}{temperature}): {where}"
            )


def version_dir(db: Session, version: str) -> Path:
    """The directory of a recorded ``version``; ``ModelError`` when it is unknown or its files are gone."""
    row = db.scalar(select(ModelVersion).where(ModelVersion.version == version))
    if row is None:
        raise ModelError(f"unknown model version {version!r} (see: classroom-monitor models list)")
    if not has_runtime(Path(row.path)):
        raise ModelError(f"model files of {version!r} are missing at {row.path}")
    return Path(row.path)


def check_activatable(version: str, model_dir: Path) -> None:
    """``validate_model`` with the version named in the message."""
    try:
        validate_model(model_dir)
    except ModelError as exc:
        raise ModelError(f"refusing to activate {version!r}: {exc}") from exc


def set_active(db: Session, version: str, *, validate: bool = True) -> ModelVersion:
    """Mark ``version`` the one workers use, after checking that it loads and answers (``validate_model``;
    ``validate=False`` when the caller checked it already, outside its write transaction)."""
    model_dir = version_dir(db, version)
    if validate:
        check_activatable(version, model_dir)
    row = db.scalar(select(ModelVersion).where(ModelVersion.version == version))
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


MODEL_POLL_S = 5.0
"""How often a running worker checks which model version is active."""


class ModelWatcher:
    """The model a worker runs: the directory it was given, else the active version (or the shipped default).

    ``changed()`` answers, at most every ``poll_s``, with the newly activated model loaded, so a worker
    switches without a restart. A model given explicitly never changes.
    """

    def __init__(
        self,
        db_factory: sessionmaker,
        *,
        models_dir: Path | None = None,
        precision: str = "auto",
        explicit: Path | None = None,
        poll_s: float = MODEL_POLL_S,
    ) -> None:
        self._db = db_factory
        self.models_dir = models_dir
        self.precision = precision
        self.explicit = explicit
        self.poll_s = poll_s
        self._next_poll = time.monotonic() + poll_s

    def load(self) -> EmotionClassifier:
        """The model to run now; ``ModelError`` when there is none or it does not load."""
        model = self.explicit
        if model is None:
            with self._db() as db:
                model = active_model_dir(db, self.models_dir)
        return EmotionClassifier(model, precision=self.precision)

    def changed(
        self, current: EmotionClassifier | None, now: float | None = None
    ) -> EmotionClassifier | None:
        """The newly activated model, loaded, when it differs from ``current``; None otherwise. A model
        that fails to load raises ``ModelError`` (the caller keeps ``current``) and is tried again later."""
        now = time.monotonic() if now is None else now
        if current is None or self.explicit is not None or now < self._next_poll:
            return None
        self._next_poll = now + self.poll_s
        with self._db() as db:
            active = active_version(db)
        if active is None or active[0] == current.version:
            return None
        return EmotionClassifier(active[1], precision=self.precision)
