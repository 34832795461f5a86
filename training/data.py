"""Face-expression datasets: FER2013 CSV (plain or .gz), image folders, and FER+ vote files.

Every loader returns a :class:`FaceDataset`: uint8 ``(N, 48, 48)`` images, the FER2013 ``Usage`` of each
row, and either hard labels (indices into :data:`monitor.labels.EMOTIONS`) or soft labels (vote
distributions). Rows that cannot be used are counted per reason in ``skipped`` rather than raised, so one
bad line never costs a whole run; a file that is not a dataset at all raises :class:`DatasetError`.
"""

from __future__ import annotations

import csv
import glob
import gzip
import hashlib
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from monitor.labels import EMOTIONS
from monitor.preprocess import FACE_SIZE, to_gray

N_PIXELS = FACE_SIZE * FACE_SIZE
USAGES = ("Training", "PublicTest", "PrivateTest")
CACHE_VERSION = 1
FERPLUS_LABELS: tuple[str, ...] = (*EMOTIONS, "contempt")
"""The 8 FER+ emotion classes in this project's order: the 7 FER2013 ones, then contempt."""

# FER+ vote columns, in the file's own order, mapped onto FERPLUS_LABELS.
_FERPLUS_COLUMNS = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "neutral": "neutral",
    "contempt": "contempt",
}

FOLDER_LABELS: dict[str, str | None] = {
    **{name: name for name in EMOTIONS},
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgusted": "disgust",
    "disgust": "disgust",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happiness": "happy",
    "joy": "happy",
    "smile": "happy",
    "sadness": "sad",
    "unhappy": "sad",
    "surprised": "surprise",
    "surprise": "surprise",
    "neutrality": "neutral",
    "calm": "neutral",
    # CK+ has contempt, which FER2013's 7 classes lack: it is dropped (counted) rather than guessed.
    "contempt": None,
}
"""Folder name (lower case) → emotion label; ``None`` means the class is known but deliberately dropped."""

_SPLIT_FOLDERS = {
    "train": "Training",
    "training": "Training",
    "test": "PublicTest",
    "val": "PublicTest",
    "valid": "PublicTest",
    "validation": "PublicTest",
    "publictest": "PublicTest",
    "privatetest": "PrivateTest",
}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}


class DatasetError(ValueError):
    """The path is not a usable face-expression dataset."""


@dataclass
class FaceDataset:
    """Faces with labels: ``images`` (N, 48, 48) uint8, ``labels`` (N,) int or (N, C) float soft labels."""

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    label_names: tuple[str, ...] = EMOTIONS
    skipped: dict[str, int] = field(default_factory=dict)
    source: str = ""
    dropped_classes: dict[str, int] = field(default_factory=dict)
    """Image-folder classes with no FER2013 counterpart (e.g. CK+ contempt) → images left out."""

    def __len__(self) -> int:
        return len(self.images)

    @property
    def soft(self) -> bool:
        """Whether ``labels`` are per-class probabilities rather than class indices."""
        return self.labels.ndim == 2

    @property
    def hard_labels(self) -> np.ndarray:
        """Class indices (the vote majority for soft labels)."""
        return self.labels.argmax(axis=1) if self.soft else self.labels

    def split(self, usage: str) -> FaceDataset:
        """The rows of one Usage (``"all"`` keeps every row)."""
        if usage == "all":
            return self
        return self.rows(self.usage == usage)

    def head(self, n: int | None) -> FaceDataset:
        """The first ``n`` rows of each Usage (for quick runs and tests); all rows when ``n`` is None."""
        if n is None:
            return self
        keep = np.zeros(len(self), dtype=bool)
        for u in np.unique(self.usage):
            keep[np.flatnonzero(self.usage == u)[:n]] = True
        return self.rows(keep)

    def rows(self, keep: np.ndarray) -> FaceDataset:
        """The rows selected by the boolean mask ``keep``, with everything else unchanged."""
        return replace(self, images=self.images[keep], labels=self.labels[keep], usage=self.usage[keep])

    @property
    def is_folder(self) -> bool:
        """Whether the faces came from an image-folder dataset (not a FER2013 CSV)."""
        return Path(self.source).is_dir()

    def dropped_line(self) -> str:
        """One line naming the classes left out for lack of a FER2013 counterpart ("" when none)."""
        if not self.dropped_classes:
            return ""
        parts = ", ".join(f"{name} ({n} images)" for name, n in sorted(self.dropped_classes.items()))
        return f"skipped classes with no FER2013 counterpart: {parts}"

    def summary(self) -> str:
        """One line: rows per Usage and skipped rows per reason."""
        counts = ", ".join(f"{u}={int((self.usage == u).sum())}" for u in np.unique(self.usage))
        bad = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "none"
        return f"{len(self)} faces ({counts}); skipped: {bad}"


def load_dataset(path: str | Path, *, progress: bool = True, cache: bool = True) -> FaceDataset:
    """Load a FER2013 CSV (plain or .gz) or an image-folder dataset, whichever ``path`` is."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or directory")
    if path.is_dir():
        return load_image_folders(path, progress=progress)
    return load_fer2013_csv(path, progress=progress, cache=cache)


# --- FER2013 CSV -------------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def cache_dir() -> Path:
    """Where decoded datasets are cached: ``$XDG_CACHE_HOME/classroom-monitor`` (``~/.cache/...``).

    Read at each call, so a changed ``XDG_CACHE_HOME`` applies at once; a relative or empty value is
    ignored, as the XDG base directory specification asks.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "classroom-monitor"


def _cache_path(path: Path) -> Path:
    """Where the decoded ``.npz`` of ``path`` lives: always in :func:`cache_dir`, never beside the data.

    A dataset folder may be shared or read-only (``../shared`` is), so nothing is written there. Keyed by
    the file's content (SHA-1, about 0.3 s for FER2013's 84 MB) rather than its path or modification time,
    so a dataset mounted afresh each session, or copied, reuses its cache instead of adding another 76 MB.
    """
    digest = hashlib.sha1(f"v{CACHE_VERSION}|".encode())
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return cache_dir() / f"{path.name}.{digest.hexdigest()[:12]}.npz"


def _parse_pixel_rows(rows: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Decode space-separated grey values of many rows at once.

    Returns ``(images, ok)``: ``images`` (N, 2304) uint8, and ``ok`` marking rows with exactly 2304 values,
    all of them integers in 0..255. Digits are combined with numpy, not one Python int per pixel.
    """
    n = len(rows)
    images = np.zeros((n, N_PIXELS), dtype=np.uint8)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return images, ok
    # A separator after every row so that tokens never run from one row into the next.
    buf = np.frombuffer(" ".join(rows).encode("ascii", "replace") + b" ", dtype=np.uint8)
    lengths = np.fromiter((len(r) + 1 for r in rows), dtype=np.int64, count=n)
    row_of_byte = np.repeat(np.arange(n), lengths)
    is_digit = (buf >= 48) & (buf <= 57)
    is_space = (buf == 32) | (buf == 9) | (buf == 13) | (buf == 10)
    bad_char = ~(is_digit | is_space)
    row_bad = np.bincount(row_of_byte[bad_char], minlength=n) > 0

    starts = is_digit & ~np.concatenate(([False], is_digit[:-1]))
    token = np.cumsum(starts) - 1
    digit_pos = np.flatnonzero(is_digit)
    tok = token[digit_pos]
    n_tok = int(starts.sum())
    tok_len = np.bincount(tok, minlength=n_tok)
    start_idx = np.flatnonzero(starts)
    power = tok_len[tok] - 1 - (digit_pos - start_idx[tok])
    values = np.bincount(tok, weights=(buf[digit_pos] - 48) * 10.0 ** np.minimum(power, 6), minlength=n_tok)
    tok_row = row_of_byte[start_idx]
    per_row = np.bincount(tok_row, minlength=n)
    too_big = np.bincount(tok_row[values > 255], minlength=n) > 0
    ok = (per_row == N_PIXELS) & ~row_bad & ~too_big
    first_tok = np.concatenate(([0], np.cumsum(per_row)[:-1]))
    good = np.flatnonzero(ok)
    if len(good):
        idx = first_tok[good][:, None] + np.arange(N_PIXELS)[None, :]
        images[good] = values[idx].astype(np.uint8)
    return images, ok


def load_fer2013_csv(
    path: str | Path, *, progress: bool = True, cache: bool = True, chunk_rows: int = 2000
) -> FaceDataset:
    """Read a FER2013 ``emotion,pixels,Usage`` CSV (plain or gzip), caching the decoded arrays as ``.npz``."""
    path = Path(path)
    cache_file = _cache_path(path) if cache else None
    if cache_file is not None and cache_file.exists():
        try:
            with np.load(cache_file, allow_pickle=False) as z:
                skipped = dict(zip(z["skip_keys"].tolist(), z["skip_vals"].tolist(), strict=True))
                return FaceDataset(z["images"], z["labels"], z["usage"], EMOTIONS, skipped, str(path))
        except (OSError, ValueError, KeyError):
            pass  # A stale or torn cache is rebuilt below.

    try:
        fh = _open_text(path)
        reader = csv.reader(fh)
        header = next(reader, None)
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: not a FER2013 CSV ({exc})") from None
    columns = [c.strip().lower() for c in header or []]
    if "emotion" not in columns or "pixels" not in columns:
        fh.close()
        raise DatasetError(
            f"{path}: not a FER2013 dataset: expected a CSV with header 'emotion,pixels,Usage' "
            "(or a folder with one sub-folder per emotion)"
        )
    i_emo, i_pix = columns.index("emotion"), columns.index("pixels")
    i_use = columns.index("usage") if "usage" in columns else None

    skipped: Counter[str] = Counter()
    images_parts, label_parts, usage_parts = [], [], []
    total = path.stat().st_size
    bar = tqdm(total=total, unit="B", unit_scale=True, desc=f"reading {path.name}", disable=not progress)
    raw = fh.buffer if isinstance(fh, io.TextIOWrapper) else None
    last_pos = 0

    def flush(emotions: list[str], pixels: list[str], usages: list[str]) -> None:
        imgs, ok = _parse_pixel_rows(pixels)
        labels = np.full(len(emotions), -1, dtype=np.int64)
        for k, e in enumerate(emotions):
            e = e.strip()
            if e.isdigit() and int(e) < len(EMOTIONS):
                labels[k] = int(e)
        bad_label = labels < 0
        skipped["unknown label"] += int(bad_label.sum())
        skipped["wrong pixel count or value"] += int((~ok & ~bad_label).sum())
        keep = ok & ~bad_label
        images_parts.append(imgs[keep].reshape(-1, FACE_SIZE, FACE_SIZE))
        label_parts.append(labels[keep])
        usage_parts.append(np.array(usages, dtype="<U11")[keep])

    try:
        emotions: list[str] = []
        pixels: list[str] = []
        usages: list[str] = []
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= max(i_emo, i_pix):
                skipped["malformed row"] += 1
                continue
            emotions.append(row[i_emo])
            pixels.append(row[i_pix])
            usage = row[i_use].strip() if i_use is not None and len(row) > i_use else "Training"
            usages.append(usage if usage in USAGES else "Training")
            if len(pixels) >= chunk_rows:
                flush(emotions, pixels, usages)
                emotions, pixels, usages = [], [], []
                pos = _raw_position(fh, raw)
                if pos is not None:
                    bar.update(max(pos - last_pos, 0))
                    last_pos = pos
        if pixels:
            flush(emotions, pixels, usages)
    except (OSError, EOFError, gzip.BadGzipFile, csv.Error) as exc:
        raise DatasetError(f"{path}: unreadable FER2013 CSV ({exc})") from None
    finally:
        bar.update(max(total - last_pos, 0))
        bar.close()
        fh.close()

    images = np.concatenate(images_parts) if images_parts else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    labels = np.concatenate(label_parts) if label_parts else np.zeros(0, np.int64)
    usage_arr = np.concatenate(usage_parts) if usage_parts else np.zeros(0, "<U11")
    if len(images) == 0:
        raise DatasetError(f"{path}: no usable rows ({dict(skipped) or 'the file is empty'})")
    skipped_clean = {k: v for k, v in skipped.items() if v}
    if cache_file is not None:
        _write_cache(cache_file, images, labels, usage_arr, skipped_clean)
    return FaceDataset(images, labels, usage_arr, EMOTIONS, skipped_clean, str(path))


def _raw_position(fh: io.TextIOBase, raw: object) -> int | None:
    """Bytes of the (compressed) file consumed so far, for the progress bar."""
    try:
        inner = getattr(raw, "fileobj", None)  # gzip: position in the compressed file
        if inner is not None:
            return inner.tell()
        return fh.buffer.tell() if hasattr(fh, "buffer") else None
    except (OSError, ValueError):
        return None


def _write_cache(
    cache_file: Path, images: np.ndarray, labels: np.ndarray, usage: np.ndarray, skipped: dict[str, int]
) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(cache_file.name + f".{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            images=images,
            labels=labels,
            usage=usage,
            skip_keys=np.array(list(skipped), dtype="<U64"),
            skip_vals=np.array(list(skipped.values()), dtype=np.int64),
        )
        os.replace(tmp, cache_file)
        # One cache per file name: drop those of the file's earlier contents (or older keys).
        stem = cache_file.name.rsplit(".", 2)[0]
        same_file = re.compile(r"\.?" + re.escape(stem) + r"\.[0-9a-f]{12}\.npz")  # "." : older hidden names
        for old in cache_file.parent.glob(f"*{glob.escape(stem)}.*.npz"):
            if old != cache_file and same_file.fullmatch(old.name):
                old.unlink(missing_ok=True)
    except OSError:
        pass  # A cache is an optimisation; failing to write one is not an error.


# --- Image folders -------------------------------------------------------------------------------------


def _class_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.strip().lower() in FOLDER_LABELS)


def load_image_folders(
    root: str | Path, *, progress: bool = True, val_fraction: float = 0.1, seed: int = 0
) -> FaceDataset:
    """Load ``root/<split>/<class>/*.png`` (Kaggle FER2013) or ``root/<class>/*.png`` (CK+48).

    Split folders map to Usage (train → Training, test/val → PublicTest). A flat layout has no split, so a
    stratified ``val_fraction`` of it becomes PublicTest (fixed ``seed``), which keeps ``--usage`` meaningful.
    """
    root = Path(root)
    split_dirs = {
        p: _SPLIT_FOLDERS[p.name.lower()]
        for p in sorted(root.iterdir())
        if p.is_dir() and p.name.lower() in _SPLIT_FOLDERS
    }
    skipped: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    files: list[tuple[Path, int, str]] = []
    sources = split_dirs.items() if split_dirs else [(root, "")]
    for split_dir, usage in sources:
        for d in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            key = d.name.strip().lower()
            if key not in FOLDER_LABELS:
                n_files = sum(1 for f in d.iterdir() if f.suffix.lower() in _IMAGE_SUFFIXES)
                skipped[f"unknown class folder '{d.name}'"] += n_files
                dropped[d.name] += n_files
                continue
            label = FOLDER_LABELS[key]
            for f in sorted(d.iterdir()):
                if f.suffix.lower() not in _IMAGE_SUFFIXES:
                    continue
                if label is None:
                    skipped[f"dropped class '{d.name}'"] += 1
                    dropped[d.name] += 1
                    continue
                files.append((f, EMOTIONS.index(label), usage))
    if not files:
        raise DatasetError(
            f"{root}: not an image-folder dataset: expected one sub-folder per emotion "
            f"(e.g. happy/, sad/, or train/happy/, test/happy/) holding images"
        )

    images = np.zeros((len(files), FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    keep = np.zeros(len(files), dtype=bool)
    for i, (f, _, _) in enumerate(tqdm(files, desc=f"reading {root.name}", disable=not progress)):
        img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        if img is None or img.size == 0:
            skipped["unreadable image"] += 1
            continue
        if img.dtype != np.uint8:
            img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        gray = to_gray(img)
        interp = cv2.INTER_AREA if min(gray.shape[:2]) >= FACE_SIZE else cv2.INTER_LINEAR
        images[i] = cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=interp)
        keep[i] = True
    labels = np.array([lab for _, lab, _ in files], dtype=np.int64)[keep]
    usage = np.array([u for _, _, u in files], dtype="<U11")[keep]
    images = images[keep]
    if len(images) == 0:
        raise DatasetError(f"{root}: no readable images ({dict(skipped)})")
    if not split_dirs:
        usage = _stratified_usage(labels, val_fraction, seed)
    return FaceDataset(
        images, labels, usage, EMOTIONS, {k: v for k, v in skipped.items() if v}, str(root), dict(dropped)
    )


def _stratified_usage(labels: np.ndarray, val_fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    usage = np.full(len(labels), "Training", dtype="<U11")
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        usage[idx[: int(round(len(idx) * val_fraction))]] = "PublicTest"
    return usage


# --- FER+ -------------------------------------------------------------------------------------------------


def load_ferplus_votes(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read FER+ ``fer2013new.csv`` votes: ``(votes (N, 8) float32 in FERPLUS_LABELS order, usage (N,))``."""
    path = Path(path)
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh)
            header = [c.strip().lower() for c in next(reader, [])]
            missing = [c for c in _FERPLUS_COLUMNS if c not in header]
            if missing or "usage" not in header:
                raise DatasetError(f"{path}: not a FER+ vote file (missing columns {missing or ['Usage']})")
            cols = [header.index(c) for c in _FERPLUS_COLUMNS]
            order = [FERPLUS_LABELS.index(v) for v in _FERPLUS_COLUMNS.values()]
            i_use = header.index("usage")
            votes, usage = [], []
            for row in reader:
                if not row:
                    continue
                v = np.zeros(len(FERPLUS_LABELS), dtype=np.float32)
                try:
                    v[order] = [float(row[c]) for c in cols]
                except (ValueError, IndexError):
                    v[:] = 0  # counted as "no emotion votes" by the caller
                votes.append(v)
                usage.append(row[i_use].strip() if len(row) > i_use else "")
    except (OSError, EOFError, gzip.BadGzipFile, csv.Error, UnicodeError) as exc:
        raise DatasetError(f"{path}: unreadable FER+ file ({exc})") from None
    return np.stack(votes) if votes else np.zeros((0, 8), np.float32), np.array(usage, dtype="<U11")


def with_ferplus_labels(
    fer_csv: str | Path, ferplus_csv: str | Path, *, progress: bool = True
) -> FaceDataset:
    """FER2013 images with FER+ vote distributions as soft labels over 8 classes (incl. contempt).

    Row k of the FER+ file is row k of FER2013, so rows are matched by position in the *raw* CSV; the
    FER2013 CSV must therefore have no skipped rows. Faces with no emotion votes (FER+ "not a face" /
    "unknown") are dropped and counted.
    """
    fer = load_fer2013_csv(fer_csv, progress=progress)
    if fer.skipped:
        raise DatasetError(f"{fer_csv}: FER+ alignment needs a clean FER2013 file, but {fer.skipped}")
    votes, usage = load_ferplus_votes(ferplus_csv)
    if len(votes) != len(fer) or not np.array_equal(usage, fer.usage):
        raise DatasetError(
            f"{ferplus_csv}: rows do not line up with {fer_csv} "
            f"({len(votes)} vs {len(fer)} rows or different Usage)"
        )
    total = votes.sum(axis=1)
    keep = total > 0
    soft = votes[keep] / total[keep, None]
    skipped = {"no emotion votes (FER+)": int((~keep).sum())} if (~keep).any() else {}
    return FaceDataset(
        fer.images[keep],
        soft.astype(np.float32),
        fer.usage[keep],
        FERPLUS_LABELS,
        skipped,
        f"{fer_csv} + {ferplus_csv}",
    )
