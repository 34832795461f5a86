"""Posture labels by eye: the JSON format of ``shared/datasets/labels/classroom_posture.json``.

One file lists ``items`` (a video frame or a still image), each with its ``people``: ``id`` (stable across
an item's frames, so accuracy can be held out by person), ``box`` ``[x, y, w, h]`` of the head in pixels,
``posture`` (``up``, ``down``, ``away`` or ``unsure``), ``face_visible``, ``detector_found`` and ``teacher``.
File paths are relative to the JSON file's ``root`` (default: the folder above the JSON's folder, as in
``shared/datasets/labels/``), or absolute.

``classroom-monitor label`` writes this format; ``training/posture.py`` and ``benchmarks/posture.py`` read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

LABEL_VALUES = ("up", "down", "away", "unsure")
CLASSES = ("up", "down", "away")  # what a model learns; "unsure" is left out of training and scoring


class LabelsError(ValueError):
    """A labels file that cannot be read or does not follow the format."""


@dataclass(frozen=True)
class LabelledPerson:
    id: str
    box: tuple[int, int, int, int]
    posture: str
    teacher: bool = False
    face_visible: bool = True


@dataclass
class LabelledItem:
    """One labelled frame of a video (``frame`` >= 0) or one still image (``frame`` is None)."""

    file: str
    frame: int | None
    people: list[LabelledPerson] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.file if self.frame is None else f"{self.file}#{self.frame}"

    def group_of(self, person: LabelledPerson) -> str:
        """Who a person is across items: one id per video file; each still's people are their own."""
        return f"{self.file}:{person.id}"


@dataclass
class LabelSet:
    root: Path
    items: list[LabelledItem]

    def path_of(self, item: LabelledItem) -> Path:
        p = Path(item.file)
        return p if p.is_absolute() else self.root / p


def load_labels(path: str | Path, root: str | Path | None = None) -> LabelSet:
    """Read a labels JSON; ``LabelsError`` with one clear line when it is missing or malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise LabelsError(f"cannot read labels file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise LabelsError(f"labels file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise LabelsError(f"labels file {path} has no 'items' list")
    base = Path(root) if root is not None else Path(data.get("root") or path.resolve().parent.parent)
    if not base.is_absolute():
        base = path.resolve().parent / base
    items = []
    for n, raw in enumerate(data["items"]):
        try:
            people = [
                LabelledPerson(
                    id=str(p["id"]),
                    box=tuple(int(round(v)) for v in p["box"]),  # type: ignore[arg-type]
                    posture=str(p.get("posture") or "unsure"),
                    teacher=bool(p.get("teacher", False)),
                    face_visible=bool(p.get("face_visible", True)),
                )
                for p in raw.get("people", [])
            ]
            frame = raw.get("frame")
            item = LabelledItem(str(raw["file"]), None if frame is None else int(frame), people)
        except (KeyError, TypeError, ValueError) as exc:
            raise LabelsError(f"labels file {path}: item {n} is malformed ({exc!r})") from exc
        for p in people:
            if p.posture not in LABEL_VALUES:
                raise LabelsError(
                    f"labels file {path}: {item.key} {p.id} has posture {p.posture!r}; "
                    f"use one of {', '.join(LABEL_VALUES)}"
                )
            if len(p.box) != 4 or p.box[2] <= 0 or p.box[3] <= 0:
                raise LabelsError(f"labels file {path}: {item.key} {p.id} needs a box [x, y, w, h]")
        items.append(item)
    return LabelSet(base, items)


def read_item_images(labels: LabelSet) -> Iterator[tuple[LabelledItem, np.ndarray]]:
    """Each item with its BGR image: video frames are read one after another with ``cv2.VideoCapture``
    (frames are 0-based), as the labels were made."""
    videos: dict[Path, list[LabelledItem]] = {}
    for item in labels.items:
        if item.frame is None:
            image = cv2.imread(str(labels.path_of(item)), cv2.IMREAD_COLOR)
            if image is None:
                raise LabelsError(f"cannot read image {labels.path_of(item)}")
            yield item, image
        else:
            videos.setdefault(labels.path_of(item), []).append(item)
    for path, items in videos.items():
        wanted = {i.frame: i for i in items}
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            raise LabelsError(f"cannot open video {path}")
        try:
            last = max(wanted)
            for index in range(last + 1):
                ok, frame = cap.read()
                if not ok:
                    raise LabelsError(f"video {path} ends before frame {index} (labels ask for {last})")
                if index in wanted:
                    yield wanted[index], frame
        finally:
            cap.release()


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) against every box in ``b`` (m, 4), boxes as x, y, w, h."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y2 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def match_boxes(detected: np.ndarray, labelled: np.ndarray, min_iou: float = 0.2) -> list[tuple[int, int]]:
    """Pairs (detection index, label index), greedy by IoU; a detection whose centre lies inside a labelled
    box also matches it (hand boxes take in the hair, so they are larger than face boxes)."""
    overlap = iou(detected, labelled)
    det = np.asarray(detected, np.float64).reshape(-1, 4)
    lab = np.asarray(labelled, np.float64).reshape(-1, 4)
    cx, cy = det[:, 0] + det[:, 2] / 2, det[:, 1] + det[:, 3] / 2
    inside = (
        (cx[:, None] >= lab[None, :, 0])
        & (cx[:, None] <= lab[None, :, 0] + lab[None, :, 2])
        & (cy[:, None] >= lab[None, :, 1])
        & (cy[:, None] <= lab[None, :, 1] + lab[None, :, 3])
    )
    score = np.where(overlap >= min_iou, overlap + 1.0, np.where(inside, overlap, -1.0))
    pairs: list[tuple[int, int]] = []
    used_d, used_l = set(), set()
    for flat in np.argsort(-score, axis=None):
        d, m = np.unravel_index(flat, score.shape)
        if score[d, m] < 0:
            break
        if d in used_d or m in used_l:
            continue
        pairs.append((int(d), int(m)))
        used_d.add(d)
        used_l.add(m)
    return pairs
