"""Benchmark the CSV export: a 1,000,000-row session in a temporary SQLite file, streamed to CSV.

The database is built in a child process, so the peak RSS printed is that of the export alone (plus the
interpreter and its imports). Prints one JSON object. Usage: ``python benchmarks/export.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FACES_PER_FRAME = 30
FPS = 10
CHUNK_ROWS = 50_000


def build(url: str, rows: int) -> int:
    """Create the schema and bulk-insert ``rows`` observations of one ended session; returns its id."""
    import numpy as np
    from sqlalchemy import insert

    from monitor.labels import EMOTIONS
    from monitor.store import make_engine, session_factory
    from monitor.store.schema import PROB_COLUMNS, Base, Camera, ClassSession, Observation

    engine = make_engine(url, writer=True)
    Base.metadata.create_all(engine)
    start = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    frames = -(-rows // FACES_PER_FRAME)
    with session_factory(engine)() as db:
        cam = Camera(name="bench", source="synthetic")
        db.add(cam)
        db.flush()
        cs = ClassSession(
            camera_id=cam.id,
            label="Benchmark",
            started_at=start,
            mode="emotion",
            ended_at=start + timedelta(seconds=frames / FPS),
            frames=frames,
            faces=rows,
        )
        db.add(cs)
        db.commit()
        session_id = cs.id
    rng = np.random.default_rng(0)
    done = 0
    with engine.begin() as conn:
        while done < rows:
            n = min(CHUNK_ROWS, rows - done)
            idx = np.arange(done, done + n)
            probs = rng.dirichlet(np.ones(len(EMOTIONS)), n)
            top = probs.argmax(axis=1)
            attention = rng.random(n)
            batch = []
            for k in range(n):
                frame = int(idx[k] // FACES_PER_FRAME)
                row = {
                    "session_id": session_id,
                    "ts": start + timedelta(milliseconds=frame * 1000 // FPS),
                    "frame_index": frame,
                    "track_id": int(idx[k] % FACES_PER_FRAME) + 1,
                    "x": 10,
                    "y": 20,
                    "w": 48,
                    "h": 48,
                    "top_label": EMOTIONS[top[k]],
                    "confidence": float(probs[k, top[k]]),
                    "attention": float(attention[k]),
                }
                row.update(zip(PROB_COLUMNS, probs[k].tolist(), strict=True))
                batch.append(row)
            conn.execute(insert(Observation), batch)
            done += n
    engine.dispose()
    return session_id


def _build_child(url: str, rows: int, out: multiprocessing.Queue) -> None:
    out.put(build(url, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        t0 = time.perf_counter()
        child = ctx.Process(target=_build_child, args=(url, args.rows, queue))
        child.start()
        session_id = queue.get()
        child.join()
        build_s = time.perf_counter() - t0

        from monitor.reports import write_report
        from monitor.store import make_engine, session_factory

        engine = make_engine(url)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, cpu0 = time.perf_counter(), time.process_time()
        with session_factory(engine)() as db:
            path = write_report(db, session_id, "csv", Path(tmp) / "out.csv")
        seconds = time.perf_counter() - t0
        cpu_seconds = time.process_time() - cpu0  # less sensitive than wall time to a busy machine
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        csv_mb = path.stat().st_size / 1e6
        with path.open("rb") as fh:
            lines = sum(1 for _ in fh)
        engine.dispose()
    print(
        json.dumps(
            {
                "rows": lines - 1,
                "seconds": round(seconds, 2),
                "rows_per_s": round((lines - 1) / seconds),
                "cpu_seconds": round(cpu_seconds, 2),
                "csv_mb": round(csv_mb, 1),
                "peak_rss_mb": round(peak / 1024, 1),
                "rss_before_export_mb": round(rss_before / 1024, 1),
                "build_seconds": round(build_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
