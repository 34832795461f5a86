"""``classroom-monitor explain``: Grad-CAM grids of dataset faces, refusing anything else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.conftest import REPO, SHARED_DATASETS
from tests.training.conftest import FER2013, requires_fer2013
from training.commands import explain

V1 = REPO / "models" / "fer2013-default-v1"
pytestmark = pytest.mark.skipif(not (V1 / "model.keras").is_file(), reason=f"no {V1}/model.keras")


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 140 PublicTest rows of FER2013 as a CSV of their own (every class present)."""
    if not FER2013.is_file():
        pytest.skip(f"FER2013 not found at {FER2013}")
    from tests.training.conftest import write_fer_csv
    from training.data import load_dataset

    ds = load_dataset(FER2013, progress=False).split("PublicTest").head(140)
    rows = [
        (str(int(lab)), " ".join(map(str, img.ravel())), "PublicTest")
        for img, lab in zip(ds.images, ds.labels, strict=True)
    ]
    return write_fer_csv(tmp_path_factory.mktemp("data") / "slice.csv", rows)


@requires_fer2013
def test_explain_writes_a_grid_png_of_dataset_faces(small_csv: Path, tmp_path: Path) -> None:
    from training.explain import grad_cam

    out = tmp_path / "cams"
    result = CliRunner().invoke(
        explain, ["--model", str(V1), "--data", str(small_csv), "--out", str(out), "--per-class", "2"]
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    grid = out / "gradcam_grid.png"
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and grid.stat().st_size < 200_000
    assert "14 faces" in result.output or "faces" in result.output
    means = out / "gradcam_class_means.png"  # the one picture a model card may carry: averages only
    assert means.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    import keras

    from training.data import load_dataset

    faces = load_dataset(small_csv, progress=False).images[:4]
    ex = grad_cam(keras.models.load_model(V1 / "model.keras"), faces)
    assert ex.cams.shape == (4, 48, 48) and ex.cams.min() >= 0 and ex.cams.max() <= 1
    # Each map is scaled to peak at 1, or is empty where no region raised the predicted logit (ReLU).
    peaks = ex.cams.reshape(4, -1).max(axis=1)
    assert np.all((peaks > 0.5) | (peaks == 0)) and (peaks > 0.5).sum() >= 2


def test_explain_needs_the_keras_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        explain, ["--model", str(tmp_path), "--data", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code != 0 and "has no model.keras" in result.output
    assert "models/fer2013-default-v1" in result.output


@pytest.mark.skipif(not (SHARED_DATASETS / "images").is_dir(), reason="no ../shared/datasets/images")
def test_explain_refuses_a_camera_image(tmp_path: Path) -> None:
    frame = next((SHARED_DATASETS / "images").glob("*.jpg"))
    result = CliRunner().invoke(
        explain, ["--model", str(V1), "--data", str(frame), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code != 0 and "dataset faces only" in result.output
    assert not (tmp_path / "o").exists() and result.exception is not None and "Traceback" not in result.output
