"""A worker settles its garbage collector once started: what start-up loaded is frozen out of full
collections, and no full collection runs while its frames flow.

The real worker runs in its own process (a frozen heap is process-wide), on the real clip into a real
database, with ``gc.callbacks`` counting the collections that start once the first frame is processed.
"""

from __future__ import annotations

import json
import subprocess
import sys

from monitor.gc_tuning import THRESHOLDS
from tests.conftest import REPO, VIDEOS, cli_env, requires_videos

pytestmark = requires_videos

CHILD = """
import gc, json, sys
from monitor.config import Settings
from monitor.worker import CaptureWorker

worker = CaptureWorker(Settings(db_url=sys.argv[1], mode="attention"), "room-3", sys.argv[2], max_frames=90)
full_collections = []
gc.callbacks.append(
    lambda phase, info: phase == "start" and info["generation"] == 2 and worker.frames >= 1
    and full_collections.append(worker.frames)
)
summary = worker.run()
print(json.dumps({"frames": summary.frames, "frozen": gc.get_freeze_count(),
                  "thresholds": gc.get_threshold(), "full_collections": full_collections}))
"""


def test_a_running_worker_has_frozen_its_start_up_heap_and_no_full_collection_pauses_frames(db_url) -> None:
    clip = VIDEOS / "classroom_front_720p.mp4"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(clip)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=cli_env(),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["frames"] == 90
    assert result["frozen"] > 50_000  # models, detector, SQLAlchemy, numpy: all of start-up
    assert tuple(result["thresholds"]) == THRESHOLDS
    assert result["full_collections"] == []
