"""The expression model against face size: real FER2013 faces read worse as they shrink, and the readable
size the worker gates on comes from that curve (``training/size_curve.py``,
``benchmarks/expression_size.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monitor.classify import MIN_FACE_PX, EmotionClassifier, ModelError, read_min_face_px
from monitor.registry import active_model_dir
from tests.training.conftest import FER2013, requires_fer2013
from training.card import model_card
from training.size_curve import min_readable_side, shrink, size_curve

REPO = Path(__file__).resolve().parents[2]
SLICE = 240


@pytest.fixture(scope="module")
def public_test_slice():
    from training.data import load_dataset

    part = load_dataset(FER2013, progress=False).split("PublicTest").head(SLICE)
    return part.images, part.hard_labels


@requires_fer2013
def test_real_faces_read_worse_as_they_shrink(public_test_slice) -> None:
    images, labels = public_test_slice
    curve = {
        row["side"]: row
        for row in size_curve(EmotionClassifier(active_model_dir()), images, labels, (8, 16, 24, 48))
    }
    # Measured on all 3,589 faces: accuracy 0.27 / 0.50 / 0.65 / 0.68, macro-F1 0.18 / 0.44 / 0.63 / 0.64.
    # The margins are a multiple of what one CPU's int8 rounding or this slice's sampling can move.
    assert curve[48]["accuracy"] - curve[8]["accuracy"] >= 0.25, curve
    assert curve[48]["macro_f1"] - curve[8]["macro_f1"] >= 0.25, curve
    assert curve[8]["accuracy"] + 0.08 < curve[16]["accuracy"] < curve[24]["accuracy"] - 0.05, curve
    assert curve[24]["macro_f1"] >= 0.8 * curve[48]["macro_f1"], curve


def test_shrink_uses_area_averaging_and_keeps_the_native_size() -> None:
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    small = shrink(faces, 12)
    assert [s.shape for s in small] == [(12, 12)] * 3
    np.testing.assert_allclose(small[0].astype(float).mean(), faces[0].astype(float).mean(), atol=1.0)
    assert np.array_equal(shrink(faces, 48)[1], faces[1])
    with pytest.raises(ValueError, match="positive"):
        shrink(faces, 0)


def test_the_readable_side_is_where_macro_f1_stays_near_its_full_size_value() -> None:
    def curve(f1s: dict[int, float]) -> list[dict]:
        return [{"side": s, "accuracy": f, "macro_f1": f} for s, f in f1s.items()]

    assert min_readable_side(curve({8: 0.18, 16: 0.44, 20: 0.55, 24: 0.63, 32: 0.66, 48: 0.64})) == 24
    # A dip above a good small size: readable only from above the dip.
    assert min_readable_side(curve({12: 0.62, 16: 0.40, 24: 0.63, 48: 0.64})) == 24
    assert min_readable_side(curve({8: 0.1, 48: 0.6})) == 48
    assert min_readable_side([]) is None


def test_shipped_models_carry_their_curve_and_threshold() -> None:
    # Expression models: a labels.json beside the metrics (a posture model has its own kind of card).
    expression_models = [p.parent / "metrics.json" for p in (REPO / "models").glob("*/labels.json")]
    assert len(expression_models) >= 2
    for metrics_file in sorted(expression_models):
        metrics = json.loads(metrics_file.read_text())
        sides = [row["side"] for row in metrics["size_curve"]]
        assert sides == [8, 12, 16, 20, 24, 32, 48], metrics_file
        assert metrics["min_face_px"] == min_readable_side(metrics["size_curve"]), metrics_file
        card = model_card(metrics)
        assert "## Face size" in card and f"**`min_face_px` = {metrics['min_face_px']}**" in card
        assert "## Face size" in (metrics_file.parent / "MODEL_CARD.md").read_text()
    assert EmotionClassifier(active_model_dir()).min_face_px == 24


def test_min_face_px_is_read_from_metrics_json(tmp_path: Path) -> None:
    assert read_min_face_px(tmp_path) == MIN_FACE_PX  # no metrics.json
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.6}))
    assert read_min_face_px(tmp_path) == MIN_FACE_PX
    (tmp_path / "metrics.json").write_text(json.dumps({"min_face_px": 20}))
    assert read_min_face_px(tmp_path) == 20
    for bad in ('{"min_face_px": "big"}', '{"min_face_px": -3}', "not json"):
        (tmp_path / "metrics.json").write_text(bad)
        with pytest.raises(ModelError, match="metrics"):
            read_min_face_px(tmp_path)


def _benchmark(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "expression_size.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )


@requires_fer2013
def test_the_benchmark_prints_the_curve_as_json() -> None:
    proc = _benchmark("--limit", "40")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["faces"] == 40 and [r["side"] for r in out["size_curve"]] == [8, 12, 16, 20, 24, 32, 48]
    assert out["min_face_px"] in [8, 12, 16, 20, 24, 32, 48]


def test_the_benchmark_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    proc = _benchmark("--data", str(tmp_path / "missing.csv"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    proc = _benchmark("--model", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
