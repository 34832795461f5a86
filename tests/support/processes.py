"""Child processes the tests start (a ``serve``, a worker): stopped the way an init system stops them."""

from __future__ import annotations

import signal
import subprocess


def terminate(proc: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM, wait up to ``timeout`` seconds for a clean stop, then SIGKILL."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
