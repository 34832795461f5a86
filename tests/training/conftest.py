"""Fixtures for the training tests: tiny datasets in tmp_path, the real FER2013, tiny trained models.

Training is what makes these tests slow, so the tiny models are trained once per session
(:func:`tiny_model`) and shared; a test that changes one works on a copy.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

SHARED_DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
FER2013 = SHARED_DATASETS / "fer2013" / "fer2013.csv.gz"
FERPLUS = SHARED_DATASETS / "fer2013" / "ferplus_train_publictest.csv.gz"

requires_fer2013 = pytest.mark.skipif(
    not FER2013.is_file(), reason=f"FER2013 not found at {FER2013} (../shared is not beside the repo)"
)


def pixels(rng: np.random.Generator) -> str:
    return " ".join(str(v) for v in rng.integers(0, 256, 48 * 48))


def write_fer_csv(path: Path, rows: list[tuple[str, str, str]], gz: bool = False) -> Path:
    """Write ``emotion,pixels,Usage`` rows (as given, so bad rows stay bad)."""
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["emotion", "pixels", "Usage"])
        writer.writerows(rows)
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def fer_or_synthetic(tmp_dir: Path, rows_per_usage: int, seed: int = 0) -> Path:
    """The real FER2013 when ../shared is there, else a synthetic CSV of the same format in ``tmp_dir``."""
    if FER2013.is_file():
        return FER2013
    rng = np.random.default_rng(seed)
    rows = [
        (str(i % 7), pixels(rng), "Training" if i < 2 * rows_per_usage else "PublicTest")
        for i in range(3 * rows_per_usage)
    ]
    return write_fer_csv(tmp_dir / "fer.csv", rows)


TINY_ROWS = 96
"""Rows per Usage of the tiny dataset the shared models are trained and evaluated on."""


def fer_slice(tmp_dir: Path, rows_per_usage: int, seed: int = 0) -> Path:
    """The first ``rows_per_usage`` rows of each FER2013 Usage as a CSV of their own (real faces), or a
    synthetic CSV of that shape without ../shared: commands that read every row (ensemble, evaluate)
    then score a slice instead of all 3,589 PublicTest faces."""
    if not FER2013.is_file():
        return fer_or_synthetic(tmp_dir, rows_per_usage, seed)
    from training.data import load_dataset

    full = load_dataset(FER2013, progress=False)
    rows = []
    for usage in ("Training", "PublicTest", "PrivateTest"):
        part = full.split(usage).head(rows_per_usage)
        rows += [
            (str(int(label)), " ".join(map(str, image.ravel())), usage)
            for image, label in zip(part.images, part.labels, strict=True)
        ]
    return write_fer_csv(tmp_dir / f"fer2013-first-{rows_per_usage}.csv", rows)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`fer_slice` of TINY_ROWS rows per Usage, written once per session."""
    return fer_slice(tmp_path_factory.mktemp("tiny-data"), TINY_ROWS)


@pytest.fixture(scope="session")
def tiny_model(
    tmp_path_factory: pytest.TempPathFactory, tiny_data: Path
) -> Callable[[int], tuple[Path, Path]]:
    """``tiny_model(seed)``: ``(model_dir, run_dir)`` of a default model trained one epoch on ``tiny_data``
    by the real ``train`` command, once per seed and session. Read-only: copy it before changing it.

    Its ``model_int8.tflite`` is always kept (``--int8-max-drop 1``): whether a tiny model's int8 file
    stays within 1 point of float32 on 96 faces is chance, and depends on the CPU's int8 kernels.
    """
    from click.testing import CliRunner

    from training.commands import train

    trained: dict[int, tuple[Path, Path]] = {}

    def get(seed: int) -> tuple[Path, Path]:
        if seed not in trained:
            root = tmp_path_factory.mktemp(f"tiny-s{seed}")
            model_dir, run_dir = root / "models" / f"tiny-s{seed}", root / "runs" / f"tiny-s{seed}"
            args = ["--data", str(tiny_data), "--arch", "default", "--epochs", "1", "--seed", str(seed)]
            args += ["--limit", str(TINY_ROWS), "--out", str(model_dir), "--work-dir", str(run_dir)]
            result = CliRunner().invoke(train, [*args, "--int8-max-drop", "1"])
            assert result.exit_code == 0, result.output + repr(result.exception)
            assert (model_dir / "model_int8.tflite").is_file(), result.output
            trained[seed] = model_dir, run_dir
        return trained[seed]

    return get
