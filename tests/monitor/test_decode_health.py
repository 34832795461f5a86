"""What reading a camera costs reaches health: the real worker on a real clip with ``sample_fps`` writes CPU
ms per frame read and the frames it skipped; ``status`` and the health read model show them."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from monitor.config import Settings
from monitor.serve.status import format_table
from monitor.views.health import worker_rows
from tests.conftest import GROUP, requires_videos
from tests.monitor.test_worker import rows

pytestmark = requires_videos


def test_the_worker_reports_decode_cpu_per_frame_and_frames_skipped(db_url: str) -> None:
    from monitor.worker import CaptureWorker

    settings = Settings(db_url=db_url, mode="attention", sample_fps=5.0)
    worker = CaptureWorker(settings, "hall", str(GROUP), session_label="Assembly", realtime=True)
    summary = worker.run()
    assert summary.frames > 5
    ((decode_ms, skipped),) = rows(db_url, "SELECT decode_ms_per_frame, frames_skipped FROM worker_status")
    assert decode_ms > 0
    assert skipped >= 3 * summary.frames  # a 25-30 fps clip sampled at 5 fps: 4-5 of every 5-6 skipped

    engine = create_engine(db_url)
    with Session(engine) as db:
        (row,) = worker_rows(db)
    engine.dispose()
    assert row["decode_ms_per_frame"] == round(decode_ms, 2) and row["frames_skipped"] == skipped
    header, line = format_table([row]).splitlines()
    assert "skipped" in header and "decode ms" in header
    assert f"{decode_ms:.1f}" in line and str(skipped) in line
