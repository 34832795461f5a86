"""How long the retention purge takes, and how long a worker writing meanwhile waits for the SQLite lock.

Seeds a SQLite file with ``--lessons`` old lessons of ``--rows`` observations each (plus one rollup row a
second), then purges them twice over identical copies: 10 minutes of a lesson per transaction
(``purge_older_than``, what ``serve`` runs) and, for comparison, in one transaction (the previous code).
A thread inserts one observation every 50 ms throughout, as a worker does, and records how long each
insert waited.

    python benchmarks/retention_purge.py --lessons 40 --rows 25000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert

from monitor.store import make_engine, upgrade
from monitor.store.retention import purge_older_than
from monitor.store.schema import Camera, ClassSession, Observation, SessionRollup, TrackSummary

FPS_ROWS = 6  # observations a second: 2 frames of 3 faces, as tests/dashboard/helpers.write_frames


def seed(url: str, lessons: int, rows: int) -> int:
    """Old lessons (40 days ago) and one live lesson the writer thread appends to; returns its id."""
    engine = make_engine(url, writer=True)
    start = datetime.now(UTC) - timedelta(days=40)
    with engine.begin() as conn:
        cam = conn.execute(insert(Camera).values(name="room-a", status="online")).inserted_primary_key[0]
        for i in range(lessons + 1):
            t0 = start + timedelta(hours=i) if i < lessons else datetime.now(UTC)
            sid = conn.execute(
                insert(ClassSession).values(camera_id=cam, label=f"L{i}", started_at=t0, mode="attention")
            ).inserted_primary_key[0]
            if i == lessons:
                live = sid
                break
            conn.execute(
                insert(Observation),
                [
                    {
                        "session_id": sid,
                        "ts": t0 + timedelta(seconds=k / FPS_ROWS),
                        "frame_index": k // 3,
                        "track_id": k % 3,
                        "x": 1,
                        "y": 1,
                        "w": 40,
                        "h": 40,
                        "attention": 0.5,
                    }
                    for k in range(rows)
                ],
            )
            conn.execute(
                insert(SessionRollup),
                [
                    {"session_id": sid, "bucket_start": t0 + timedelta(seconds=s), "frames": 2, "faces": 6}
                    for s in range(rows // FPS_ROWS)
                ],
            )
    engine.dispose()
    return live


def one_transaction(engine, days: int) -> None:
    """The previous purge: every table's old rows in a single transaction."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    with engine.begin() as conn:
        conn.execute(delete(Observation).where(Observation.ts < cutoff))
        conn.execute(delete(SessionRollup).where(SessionRollup.bucket_start < cutoff))
        conn.execute(delete(TrackSummary).where(TrackSummary.last_seen < cutoff))


def measure(url: str, live: int, purge) -> tuple[float, list[float]]:
    """(purge seconds, each concurrent insert's wait in ms)."""
    writer = make_engine(url, writer=True)
    purger = make_engine(url, writer=True)
    waits: list[float] = []
    done = threading.Event()

    def write() -> None:
        k = 0
        while not done.is_set():
            t = time.perf_counter()
            with writer.begin() as conn:
                conn.execute(
                    insert(Observation).values(
                        session_id=live,
                        ts=datetime.now(UTC),
                        frame_index=k,
                        track_id=1,
                        x=1,
                        y=1,
                        w=40,
                        h=40,
                        attention=0.5,
                    )
                )
            waits.append((time.perf_counter() - t) * 1000)
            k += 1
            time.sleep(0.05)

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.5)
    t = time.perf_counter()
    purge(purger, 30)
    took = time.perf_counter() - t
    time.sleep(0.5)
    done.set()
    thread.join()
    writer.dispose()
    purger.dispose()
    return took, waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=40)
    parser.add_argument("--rows", type=int, default=25_000, help="observations per lesson")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        upgrade(f"sqlite:///{base}")
        t = time.perf_counter()
        live = seed(f"sqlite:///{base}", args.lessons, args.rows)
        print(f"seeded {args.lessons} lessons x {args.rows} observations in {time.perf_counter() - t:.1f} s")
        for name, purge in (("10 min chunks", purge_older_than), ("one transaction", one_transaction)):
            copy = Path(tmp) / f"{name.replace(' ', '_')}.db"
            shutil.copy(base, copy)
            took, waits = measure(f"sqlite:///{copy}", live, purge)
            waits.sort()
            print(
                f"{name:17s}: purge {took:5.1f} s; concurrent inserts: {len(waits)}, "
                f"median wait {statistics.median(waits):6.1f} ms, "
                f"p95 {waits[int(0.95 * (len(waits) - 1))]:7.1f} ms, max {waits[-1]:7.1f} ms"
            )


if __name__ == "__main__":
    main()
