"""Loading FER2013 CSVs, image folders and FER+ votes: every bad row is counted, never fatal."""

from __future__ import annotations

import csv
import gzip
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from monitor.labels import EMOTIONS
from monitor.preprocess import preprocess_faces
from tests.training.conftest import FER2013, FERPLUS, pixels, requires_fer2013, write_fer_csv
from training.data import (
    FERPLUS_LABELS,
    DatasetError,
    _parse_pixel_rows,
    load_dataset,
    load_fer2013_csv,
    with_ferplus_labels,
)


def test_vectorised_pixel_parser_matches_a_naive_parse(rng: np.random.Generator) -> None:
    rows = [" ".join(str(v) for v in rng.integers(0, 256, 2304)) for _ in range(5)]
    images, ok = _parse_pixel_rows(rows)
    assert ok.all()
    for row, image in zip(rows, images, strict=True):
        assert np.array_equal(image, np.array(row.split(), dtype=np.uint8))


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``$XDG_CACHE_HOME``; returns the folder the decoded datasets go to."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "classroom-monitor"


def _caches(folder: Path, name: str) -> list[Path]:
    pattern = re.escape(f"{name}.") + "[0-9a-f]{12}.npz"
    return sorted(p for p in folder.iterdir() if re.fullmatch(pattern, p.name)) if folder.is_dir() else []


@pytest.mark.parametrize("gz", [False, True])
def test_good_csv_loads_plain_or_gzip_and_is_cached_in_the_users_cache_not_beside_the_data(
    tmp_path: Path, rng: np.random.Generator, gz: bool, cache_home: Path
) -> None:
    rows = [(str(i % 7), pixels(rng), "Training" if i < 8 else "PublicTest") for i in range(10)]
    (tmp_path / "data").mkdir()
    path = write_fer_csv(tmp_path / "data" / ("fer.csv.gz" if gz else "fer.csv"), rows, gz=gz)
    data = load_dataset(path, progress=False)
    assert data.images.shape == (10, 48, 48) and data.images.dtype == np.uint8
    assert data.labels.tolist() == [i % 7 for i in range(10)]
    assert (data.usage == "PublicTest").sum() == 2 and not data.skipped
    assert np.array_equal(data.images[3].ravel(), np.array(rows[3][1].split(), dtype=np.uint8))
    # The data folder is writable here, and still nothing is written beside the data (../shared is shared).
    assert [p.name for p in (tmp_path / "data").iterdir()] == [path.name]
    assert len(_caches(cache_home, path.name)) == 1, "the decoded arrays are cached in $XDG_CACHE_HOME"
    again = load_dataset(path, progress=False)
    assert np.array_equal(again.images, data.images) and np.array_equal(again.labels, data.labels)


def test_the_cache_defaults_to_dot_cache_and_ignores_a_relative_xdg_cache_home(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from training.data import cache_dir

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write_fer_csv(tmp_path / "fer.csv", [(str(i % 7), pixels(rng), "Training") for i in range(3)])
    default = tmp_path / "home" / ".cache" / "classroom-monitor"
    for xdg in (None, "", "relative/cache"):  # unset, empty or relative: the XDG default, ~/.cache
        if xdg is None:
            monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_CACHE_HOME", xdg)
        assert cache_dir() == default
    assert len(load_dataset(path, progress=False)) == 3
    assert len(_caches(default, "fer.csv")) == 1 and not (tmp_path / "relative").exists()


def test_a_dataset_in_a_read_only_folder_loads_and_caches_in_the_users_cache(
    tmp_path: Path, rng: np.random.Generator, cache_home: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    path = write_fer_csv(shared / "fer.csv", [(str(i % 7), pixels(rng), "Training") for i in range(4)])
    shared.chmod(0o555)  # like ../shared/datasets: dr-xr-xr-x
    try:
        assert len(load_dataset(path, progress=False)) == 4
        assert len(load_dataset(path, progress=False)) == 4
    finally:
        shared.chmod(0o755)
    assert [p.name for p in shared.iterdir()] == ["fer.csv"]
    assert len(_caches(cache_home, "fer.csv")) == 1


def test_the_cache_follows_the_content_and_keeps_one_file_per_dataset(
    tmp_path: Path, rng: np.random.Generator, cache_home: Path
) -> None:
    rows = [(str(i % 7), pixels(rng), "Training") for i in range(6)]
    path = write_fer_csv(tmp_path / "fer.csv", rows)
    other = write_fer_csv(tmp_path / "fer.csv.gz", rows[:2], gz=True)  # a neighbour whose cache must stay
    load_dataset(other, progress=False)
    first = load_dataset(path, progress=False)

    [cache] = _caches(cache_home, "fer.csv")
    # Touched (a folder mounted afresh): same content, same cache, nothing added.
    os.utime(path, ns=(1, 1))
    assert np.array_equal(load_dataset(path, progress=False).images, first.images)
    assert _caches(cache_home, "fer.csv") == [cache]
    # New content: read again, and the cache of the old content is gone.
    write_fer_csv(path, rows[:3])
    assert len(load_dataset(path, progress=False)) == 3
    [newer] = _caches(cache_home, "fer.csv")
    assert newer != cache and len(_caches(cache_home, "fer.csv.gz")) == 1


def test_bad_rows_are_counted_per_reason(tmp_path: Path, rng: np.random.Generator) -> None:
    good = pixels(rng)
    rows = [
        ("3", good, "Training"),
        ("3", " ".join(good.split()[:-1]), "Training"),  # 2303 values
        ("3", good + " 7", "Training"),  # 2305 values
        ("3", good.replace(" ", " x", 1), "Training"),  # not a number
        ("3", " ".join(["300"] + good.split()[1:]), "Training"),  # out of range
        ("9", good, "Training"),  # no such class
        ("happy", good, "Training"),  # not a class index
        ("0", good, "PublicTest"),
    ]
    data = load_fer2013_csv(write_fer_csv(tmp_path / "bad.csv", rows), progress=False, cache=False)
    assert len(data) == 2
    assert data.skipped == {"wrong pixel count or value": 4, "unknown label": 2}
    assert "skipped" in data.summary() and "unknown label=2" in data.summary()


@pytest.mark.parametrize("content", [b"hello,world\n1,2\n", b"\x89PNG\r\n\x1a\n\x00\x00binary", b""])
def test_a_file_that_is_not_a_dataset_raises_one_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="not a FER2013"):
        load_dataset(path, progress=False, cache=False)


def test_a_broken_gzip_raises_dataset_error(tmp_path: Path) -> None:
    path = tmp_path / "fer.csv.gz"
    path.write_bytes(gzip.compress(b"emotion,pixels,Usage\n0,1 2 3,Training\n")[:20])
    with pytest.raises(DatasetError):
        load_dataset(path, progress=False, cache=False)


def _write_png(path: Path, value: int, size: int = 64, color: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((size, size, 3) if color else (size, size), value, dtype=np.uint8)
    cv2.imwrite(str(path), img)


def test_kaggle_image_folders_map_folder_names_and_splits(tmp_path: Path) -> None:
    root = tmp_path / "kaggle"
    _write_png(root / "train" / "happiness" / "a.png", 10)
    _write_png(root / "train" / "anger" / "b.png", 20, color=True)
    _write_png(root / "train" / "sad" / "c.jpg", 30, size=48)
    _write_png(root / "test" / "happy" / "d.png", 40)
    _write_png(root / "test" / "contempt" / "e.png", 50)  # CK+ class FER2013 lacks: dropped
    (root / "test" / "happy" / "broken.png").write_bytes(b"not an image")
    (root / "train" / "happiness" / "notes.txt").write_text("ignored: not an image suffix")
    data = load_dataset(root, progress=False)
    got = sorted(
        zip(
            data.usage.tolist(),
            [EMOTIONS[i] for i in data.labels],
            data.images[:, 0, 0].tolist(),
            strict=True,
        )
    )
    assert got == [
        ("PublicTest", "happy", 40),
        ("Training", "angry", 20),
        ("Training", "happy", 10),
        ("Training", "sad", 30),
    ]
    assert data.skipped == {"unreadable image": 1, "dropped class 'contempt'": 1}
    assert data.images.shape[1:] == (48, 48)


def test_ck_plus_flat_layout_gets_a_stratified_validation_split(tmp_path: Path) -> None:
    for cls in ("happy", "surprise", "fear"):
        for i in range(10):
            _write_png(tmp_path / "CK+48" / cls / f"{i}.png", i * 10, size=48)
    data = load_dataset(tmp_path / "CK+48", progress=False)
    assert len(data) == 30
    assert sorted(data.usage.tolist()).count("PublicTest") == 3  # 10% of each class


def test_an_empty_folder_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "photos" / "holiday").mkdir(parents=True)
    with pytest.raises(DatasetError, match="one sub-folder per emotion"):
        load_dataset(tmp_path / "photos", progress=False)


def test_image_folder_faces_are_preprocessed_like_worker_crops(tmp_path: Path) -> None:
    img = np.random.default_rng(1).integers(0, 256, (96, 80, 3), dtype=np.uint8)
    (tmp_path / "ds" / "neutral").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "ds" / "neutral" / "x.png"), img)
    data = load_dataset(tmp_path / "ds", progress=False)
    assert np.array_equal(preprocess_faces(data.images), preprocess_faces([img]))


def test_ferplus_votes_become_soft_labels_over_8_classes(
    tmp_path: Path, rng: np.random.Generator, cache_home: Path
) -> None:
    fer = write_fer_csv(
        tmp_path / "fer.csv",
        [("3", pixels(rng), "Training"), ("0", pixels(rng), "Training"), ("6", pixels(rng), "PublicTest")],
    )
    header = [
        "Usage",
        "Image name",
        "neutral",
        "happiness",
        "surprise",
        "sadness",
        "anger",
        "disgust",
        "fear",
        "contempt",
        "unknown",
        "NF",
    ]
    with open(tmp_path / "ferplus.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(["Training", "a.png", 0, 8, 0, 0, 0, 0, 0, 2, 0, 0])
        w.writerow(["Training", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 10])  # not a face: dropped
        w.writerow(["PublicTest", "c.png", 10, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    data = with_ferplus_labels(fer, tmp_path / "ferplus.csv", progress=False)
    assert data.label_names == FERPLUS_LABELS and data.labels.shape == (2, 8)
    assert data.labels[0, EMOTIONS.index("happy")] == pytest.approx(0.8)
    assert data.labels[0, FERPLUS_LABELS.index("contempt")] == pytest.approx(0.2)
    assert data.hard_labels.tolist() == [EMOTIONS.index("happy"), EMOTIONS.index("neutral")]
    assert data.skipped == {"no emotion votes (FER+)": 1}


@requires_fer2013
def test_the_shared_fer2013_file_has_the_published_counts() -> None:
    data = load_dataset(FER2013, progress=False)
    assert not data.skipped
    assert np.bincount(data.split("Training").labels).tolist() == [3995, 436, 4097, 7215, 4830, 3171, 4965]
    assert np.bincount(data.split("PublicTest").labels).tolist() == [467, 56, 496, 895, 653, 415, 607]


@requires_fer2013
@pytest.mark.skipif(not FERPLUS.is_file(), reason=f"FER+ votes not found at {FERPLUS}")
def test_the_shared_ferplus_file_lines_up_with_fer2013() -> None:
    data = with_ferplus_labels(FER2013, FERPLUS, progress=False)
    assert data.labels.shape[1] == 8 and np.allclose(data.labels.sum(axis=1), 1.0)
    assert 30000 < len(data) < 32298
