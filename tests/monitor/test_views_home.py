"""``monitor/views`` is the read side's one home: it needs no web code, and the emotion rule and the live
filter are written out nowhere else."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO

READERS = ("monitor", "dashboard", "training", "benchmarks")


def test_views_import_neither_flask_nor_the_dashboard() -> None:
    code = (
        "import sys, monitor.views.audience, monitor.views.lesson, monitor.views.privacy;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'dashboard', 'training')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def _emotion_rule_copies(tree: ast.AST) -> list[int]:
    """Lines that test ``privacy.emotions`` and a lesson's ``mode == "emotion"`` in one boolean expression."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp):
            text = ast.unparse(node)
            if ".emotions" in text and ".mode == 'emotion'" in text:
                found.append(node.lineno)
    return found


def _live_filter_calls(tree: ast.AST) -> list[int]:
    """Lines that call ``.live_frame(...)`` on a ``Privacy`` (attribute call with one argument)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "live_frame"
        and len(node.args) == 1
    ]


def test_the_emotion_rule_and_the_live_filter_live_in_monitor_views() -> None:
    copies = []
    for top in READERS:
        for path in sorted((REPO / top).rglob("*.py")):
            if path.is_relative_to(REPO / "monitor" / "views"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            rel = path.relative_to(REPO)
            copies += [f"{rel}:{n} emotion rule" for n in _emotion_rule_copies(tree)]
            copies += [f"{rel}:{n} Privacy.live_frame" for n in _live_filter_calls(tree)]
    assert copies == [], "use Privacy.shows_emotions / monitor.views.lesson.live_frame:\n" + "\n".join(copies)
