"""Per-camera set-up: class size, mounting, where the front of the room is, and the region of interest.

One validation for every way in (``classroom-monitor camera set``, the admin page): each ``parse_*`` turns
what a person typed into a value or raises ``CameraConfigError`` with one line meant for that person.

- **class size**: how many students the room holds; when set, it is the denominator of the heads-up ratio.
- **mounting**: ``front`` (the camera hangs on the board's wall and sees faces) or ``back`` (it sees backs).
- **board**: the head pose, in degrees relative to the lens, of a student who faces the front of the room.
  It only orients ``calibrate``'s drawing: posture (``monitor/posture.py``) reads each head on its own and
  does not use it. ``auto``: ``calibrate --save`` stores the median pose it saw; ``"yaw,pitch"`` sets it.
- **ROI**: rectangles in 0..1 frame coordinates. People whose box centre lies in an *ignored* rectangle
  (corridor, windows, the teacher's desk) are dropped; when *include* rectangles are set, only people whose
  centre lies in one of them are kept.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from monitor.stages import Detections

MOUNTINGS = ("front", "back")
MAX_CLASS_SIZE = 500
CLEAR_WORDS = ("", "none", "-")


class CameraConfigError(ValueError):
    """A camera setting that cannot be used; the message is meant for the user."""


MAX_CAMERA_NAME = 100


def clean_camera_name(name: str | None) -> str:
    """A camera's name as stored and looked up, the one rule for every way in (``worker --camera``,
    ``camera set``, the admin page, the worker's lease): spaces around it trimmed and runs inside made one
    space. ``CameraConfigError`` for an empty, over-long or non-printable name."""
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_CAMERA_NAME or not name.isprintable():
        raise CameraConfigError(f"camera names are 1 to {MAX_CAMERA_NAME} printable characters")
    return name


def camera_name_key(name: str) -> str:
    """What two names share when they name the same camera: ``Room 3``, ``room 3``, `` Room  3`` and
    ``Ｒｏｏｍ 3`` (full width) are one camera, so a typo cannot create a look-alike beside it."""
    return unicodedata.normalize("NFKC", " ".join(name.split())).casefold()


@dataclass(frozen=True)
class Rect:
    """A rectangle in normalised frame coordinates (0..1): x, y of the top-left corner, width, height."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return (px >= self.x) & (px <= self.x + self.w) & (py >= self.y) & (py <= self.y + self.h)

    def text(self) -> str:
        return ",".join(f"{v:g}" for v in (self.x, self.y, self.w, self.h))


@dataclass(frozen=True)
class CameraConfig:
    """What the worker needs to know about one camera (read at start)."""

    class_size: int | None = None
    mounting: str = "front"
    board_mode: str = "auto"  # auto: as measured by `calibrate --save` (or none); fixed: set by an admin
    board: tuple[float, float] | None = None  # (yaw, pitch) of a student facing the front; None: not yet
    ignore: tuple[Rect, ...] = ()
    include: tuple[Rect, ...] = ()

    def roi_mask(self, boxes: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
        """True for each xywh pixel box whose centre is inside the region of interest."""
        keep = np.ones(len(boxes), bool)
        if not len(boxes) or not (self.ignore or self.include):
            return keep
        h, w = frame_shape[:2]
        cx = (boxes[:, 0] + boxes[:, 2] / 2) / w
        cy = (boxes[:, 1] + boxes[:, 3] / 2) / h
        for r in self.ignore:
            keep &= ~r.contains(cx, cy)
        if self.include:
            inside = np.zeros(len(boxes), bool)
            for r in self.include:
                inside |= r.contains(cx, cy)
            keep &= inside
        return keep

    def filter(self, dets: Detections, frame_shape: tuple[int, ...]) -> Detections:
        """The detections inside the region of interest (all of them when no ROI is set)."""
        if not (self.ignore or self.include) or not len(dets):
            return dets
        keep = self.roi_mask(dets.boxes, frame_shape)
        if keep.all():
            return dets
        return dets[keep]

    def describe(self) -> list[str]:
        """Lines for ``camera show`` and the calibrate command."""
        if self.board is not None:
            board = f"yaw {self.board[0]:.1f}°, pitch {self.board[1]:.1f}°"
            board += " (set by admin)" if self.board_mode == "fixed" else " (learned)"
            board += "; orients calibrate's drawing only, posture does not use it"
        else:
            board = "not set (it only orients calibrate's drawing; posture does not use it)"
        return [
            f"class size: {self.class_size if self.class_size else 'not set (people in view are counted)'}",
            f"mounting:   {self.mounting} wall",
            f"board:      {board}",
            f"ignore:     {rects_text(self.ignore) or '-'}",
            f"include:    {rects_text(self.include) or 'whole frame'}",
        ]


def parse_class_size(value: str | int | None) -> int | None:
    """1..500 students, or None (``""``/``none``: not set)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in CLEAR_WORDS):
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        raise CameraConfigError(f"class size must be a whole number of students, not {value!r}") from None
    if not 1 <= n <= MAX_CLASS_SIZE:
        raise CameraConfigError(f"class size must be between 1 and {MAX_CLASS_SIZE}, not {n}")
    return n


def parse_mounting(value: str) -> str:
    v = str(value).strip().lower()
    if v not in MOUNTINGS:
        raise CameraConfigError(
            f"mounting must be 'front' or 'back' (the wall the camera hangs on), not {value!r}"
        )
    return v


def _floats(text: str, n: int, what: str) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        vals = []
    if len(vals) != n or not all(math.isfinite(v) for v in vals):
        raise CameraConfigError(f"{what}: expected {n} numbers separated by commas, got {text.strip()!r}")
    return vals


def parse_rects(value: str | None) -> tuple[Rect, ...]:
    """``"x,y,w,h;x,y,w,h"`` in 0..1 frame coordinates (``""``/``none``: no rectangles)."""
    if value is None or value.strip().lower() in CLEAR_WORDS:
        return ()
    rects = []
    for part in value.split(";"):
        if not part.strip():
            continue
        x, y, w, h = _floats(part, 4, "region")
        eps = 1e-6
        if not (0 <= x <= 1 and 0 <= y <= 1 and w > 0 and h > 0 and x + w <= 1 + eps and y + h <= 1 + eps):
            raise CameraConfigError(
                f"region {part.strip()!r}: x,y,w,h must lie in 0..1 (fractions of the frame), w and h above 0"
            )
        rects.append(Rect(x, y, w, h))
    return tuple(rects)


def parse_board(value: str) -> tuple[str, tuple[float, float] | None]:
    """``auto`` → ("auto", None); ``"yaw,pitch"`` in degrees → ("fixed", (yaw, pitch))."""
    v = str(value).strip().lower()
    if v == "auto":
        return "auto", None
    yaw, pitch = _floats(v, 2, "board")
    if not (-180 <= yaw <= 180 and -90 <= pitch <= 90):
        raise CameraConfigError(
            f"board: yaw must be in -180..180 and pitch in -90..90 degrees, got {value!r}"
        )
    return "fixed", (yaw, pitch)


def rects_text(rects: tuple[Rect, ...]) -> str:
    return ";".join(r.text() for r in rects)


def roi_json(ignore: tuple[Rect, ...], include: tuple[Rect, ...]) -> str | None:
    """How the ROI is stored in ``cameras.roi`` (None when there is none)."""
    if not ignore and not include:
        return None
    as_lists = lambda rs: [[r.x, r.y, r.w, r.h] for r in rs]  # noqa: E731
    return json.dumps({"ignore": as_lists(ignore), "include": as_lists(include)})


def roi_from_json(text: str | None) -> tuple[tuple[Rect, ...], tuple[Rect, ...]]:
    if not text:
        return (), ()
    data = json.loads(text)
    return (
        tuple(Rect(*map(float, r)) for r in data.get("ignore", ())),
        tuple(Rect(*map(float, r)) for r in data.get("include", ())),
    )


def validate_changes(
    class_size: str | int | None = None,
    mounting: str | None = None,
    board: str | None = None,
    ignore: str | None = None,
    include: str | None = None,
) -> dict:
    """Column values of ``cameras`` for the settings given (None: leave as is); raises CameraConfigError."""
    out: dict = {}
    if class_size is not None:
        out["class_size"] = parse_class_size(class_size)
    if mounting is not None:
        out["mounting"] = parse_mounting(mounting)
    if board is not None:
        mode, pose = parse_board(board)
        out["board_mode"] = mode
        out["board_yaw"], out["board_pitch"] = pose if pose else (None, None)
    if ignore is not None:
        out["roi_ignore"] = parse_rects(ignore)
    if include is not None:
        out["roi_include"] = parse_rects(include)
    return out
