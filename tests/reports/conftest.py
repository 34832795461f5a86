"""Fixtures of the report tests: small seeded sessions for fast checks, and the real worker's recording.

The seeded database is written with the worker's own ``ObservationWriter``, so rollups and track
summaries are exactly what a worker would store. Tests of a real recording use the shared
``recorded_session`` fixture of ``tests/conftest.py`` (the real worker on a real clip).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from monitor.labels import EMOTIONS
from monitor.store import make_engine, session_factory, upgrade
from monitor.store.schema import Camera, ClassSession, ModelVersion, utcnow
from monitor.store.writer import FrameRecord, ObservationWriter

MODEL_VERSION = "test-cnn-1"
MODEL_ACCURACY = 0.6432


@dataclass
class SeededDB:
    """A migrated SQLite file: ended (emotion), attention-only, running, and a just-started empty session."""

    url: str
    models_dir: Path
    ended: int
    attention: int
    running: int
    empty: int

    def open(self) -> Session:
        return session_factory(make_engine(self.url))()


def _frames(
    start: datetime, seconds: int, fps: float, n_tracks: int, emotion: bool, seed: int
) -> Iterator[FrameRecord]:
    """Synthetic but plausible frames: mostly neutral faces, attention dipping in the middle third."""
    rng = np.random.default_rng(seed)
    n_frames = int(seconds * fps)
    for i in range(n_frames):
        t = i / fps
        phase = t / seconds
        visible = [k for k in range(n_tracks) if not (k == n_tracks - 1 and 0.4 < phase < 0.6)]
        ids = np.array([k + 1 for k in visible], dtype=int)
        boxes = np.array([[40 + 90 * k, 60, 48, 48] for k in visible], dtype=int)
        dip = 0.45 if 0.45 < phase < 0.6 else 0.0
        attention = np.clip(0.85 - dip + rng.normal(0, 0.05, len(visible)), 0, 1)
        probs = None
        if emotion:
            logits = rng.normal(0, 0.3, (len(visible), len(EMOTIONS)))
            logits[:, EMOTIONS.index("neutral")] += 2.0
            logits[:, EMOTIONS.index("happy")] += 1.5 * math.sin(math.pi * phase) ** 2
            probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        engagement = float(attention.mean()) * 0.9 if len(visible) else 0.0
        yield FrameRecord(
            ts=start + timedelta(seconds=t),
            frame_index=i,
            track_ids=ids,
            boxes=boxes,
            attention=attention,
            probs=probs,
            engagement=engagement,
            postures=["up" if a >= 0.5 else "down" for a in attention],
        )


def seed_session(
    url: str,
    *,
    camera: str,
    label: str,
    mode: str,
    start: datetime,
    seconds: int,
    fps: float = 2.0,
    n_tracks: int = 3,
    ended: bool = True,
    seed: int = 0,
) -> int:
    """Store one session through the worker's writer and return its id."""
    engine = make_engine(url, writer=True)
    with session_factory(engine)() as db:
        cam = db.query(Camera).filter_by(name=camera).one_or_none()
        if cam is None:
            cam = Camera(name=camera, source="test")
            db.add(cam)
            db.flush()
        cs = ClassSession(
            camera_id=cam.id,
            label=label,
            started_at=start,
            mode=mode,
            model_version=MODEL_VERSION if mode == "emotion" else None,
            detector="haar",
        )
        db.add(cs)
        db.commit()
        session_id, camera_id = cs.id, cam.id
    writer = ObservationWriter(engine, session_id, camera_id, interval_s=60)
    for frame in _frames(start, seconds, fps, n_tracks, mode == "emotion", seed):
        writer.add(frame)
    writer.close()
    if ended:
        with session_factory(engine)() as db:
            db.get(ClassSession, session_id).ended_at = start + timedelta(seconds=seconds)
            db.commit()
    engine.dispose()
    return session_id


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeededDB:
    root = tmp_path_factory.mktemp("reports-db")
    url = f"sqlite:///{root / 'monitor.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as db:
        db.add(
            ModelVersion(
                version=MODEL_VERSION, path="models/test-cnn-1", accuracy=MODEL_ACCURACY, macro_f1=0.581
            )
        )
        db.commit()
    engine.dispose()
    models_dir = root / "models"
    (models_dir / "other-cnn").mkdir(parents=True)
    (models_dir / "other-cnn" / "metrics.json").write_text(json.dumps({"accuracy": 0.5, "macro_f1": 0.4}))
    day = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    return SeededDB(
        url=url,
        models_dir=models_dir,
        ended=seed_session(
            url,
            camera="Room 101",
            label="Maths 7B",
            mode="emotion",
            start=day,
            seconds=20 * 60,
            n_tracks=4,
            seed=1,
        ),
        attention=seed_session(
            url,
            camera="Room 101",
            label="History 8A",
            mode="attention",
            start=day + timedelta(hours=2),
            seconds=10 * 60,
            seed=2,
        ),
        running=seed_session(
            url,
            camera="Lab 2",
            label="Physics (live)",
            mode="emotion",
            start=utcnow() - timedelta(minutes=3),
            seconds=150,
            ended=False,
            seed=3,
        ),
        empty=seed_session(
            url, camera="Lab 2", label="", mode="emotion", start=utcnow(), seconds=0, ended=False
        ),
    )


@pytest.fixture
def db(seeded: SeededDB) -> Iterator[Session]:
    with seeded.open() as session:
        yield session
