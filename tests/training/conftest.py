"""Fixtures for the training tests: tiny synthetic datasets written into tmp_path, and the real FER2013."""

from __future__ import annotations

import csv
import gzip
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
