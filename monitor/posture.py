"""Head posture per face: ``up``, ``down``, ``away`` or ``unknown``, from the detector's box and landmarks.

**Landmarks at close range.** YuNet returns whole-pixel landmarks; on a 15 px face (a 20 px face after the
detector's 960-wide resize) one pixel is a large share of the eye spacing, so the geometry of the frame's own
landmarks carries almost no posture signal (held out by person: ~55% over up/down/away, barely above always
saying "down"). So each face is cut out with its surroundings (a square ``CONTEXT`` times the face's size),
enlarged until the face is ``FACE_PX`` pixels, and YuNet runs again on it. All of a frame's faces go into one
mosaic and one YuNet call (``LandmarkRefiner``), so the cost grows with the number of faces, not calls.

**Model** (``models/posture-v1/``, trained by ``training/posture.py`` on by-eye labels): a multinomial
logistic regression over a few geometric features of those landmarks inside the face box: eye spacing over
box width, eye-to-mouth height over eye spacing (a bowed or turned face shortens one of them), where the nose
sits between the eyes and the mouth, the mouth's height in the box, and the face size in the frame. It
replaces ``solvePnP`` and needs no "front = median pose of the first minutes" (which learns "down" as the
front when most students write). It has seen one front-of-room clip and one lab still: on another camera it
is unmeasured until that school labels its own frames (``classroom-monitor label``).

A head is ``unknown`` when it cannot be read: no face found at close range, a face narrower than the model's
``min_face_px`` (below the smallest labelled face nothing was measured), or a top probability under
``min_probability``. Unknown never counts as up: shares are over readable heads, and the base goes with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

POSTURE_CLASSES = ("up", "down", "away")
UNKNOWN = "unknown"
POSTURE_VALUES = (*POSTURE_CLASSES, UNKNOWN)
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "models" / "posture-v1"
FEATURE_NAMES = ("eye_spacing_w", "log_eye_mouth_over_spacing", "nose_y", "eye_mouth_h", "mouth_y", "log_w")
FACE_PX = 64  # a face is enlarged to this size (its longer side) before its landmarks are found again
CONTEXT = 2.5  # the cut-out around a face, as a multiple of its longer side


class PostureModelError(RuntimeError):
    """A posture model directory that cannot be read."""


def posture_features(boxes: np.ndarray, keypoints: np.ndarray | None) -> np.ndarray:
    """Features ``(n, len(FEATURE_NAMES))`` of n faces; a row is NaN where the face has no usable landmarks.

    ``boxes`` (n, 4) x, y, w, h; ``keypoints`` (n, 6, 2) in BlazeFace's layout (right eye, left eye, nose,
    mouth centre, ears), as every model-based detector here returns them.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    n = len(boxes)
    out = np.full((n, len(FEATURE_NAMES)), np.nan)
    if keypoints is None or n == 0:
        return out
    kp = np.asarray(keypoints, np.float64).reshape(n, -1, 2)[:, :4]
    ok = np.isfinite(kp).all(axis=(1, 2)) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    w, h = boxes[:, 2], boxes[:, 3]
    right_eye, left_eye, nose, mouth = kp[:, 0], kp[:, 1], kp[:, 2], kp[:, 3]
    eyes = (right_eye + left_eye) / 2
    spacing = np.maximum(np.linalg.norm(left_eye - right_eye, axis=1), 0.05 * w)
    eye_mouth = np.maximum(np.linalg.norm(mouth - eyes, axis=1), 0.05 * h)
    axis = (left_eye - right_eye) / spacing[:, None]
    perpendicular = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
    nose_y = np.einsum("ij,ij->i", nose - eyes, perpendicular) / eye_mouth
    feats = np.stack(
        [
            spacing / w,
            np.log(eye_mouth / spacing),
            nose_y,
            eye_mouth / h,
            (mouth[:, 1] - boxes[:, 1]) / h,
            np.log(np.maximum(w, 1.0)),
        ],
        axis=1,
    )
    out[ok] = feats[ok]
    return out


@dataclass(frozen=True)
class HeadPosture:
    """One head's posture and the model's probabilities (NaN when it could not be read)."""

    posture: str  # up | down | away | unknown
    p_up: float
    p_down: float
    p_away: float
    reason: str = ""  # why unknown: "no landmarks", "face too small", "low confidence"

    @property
    def readable(self) -> bool:
        return self.posture != UNKNOWN


@dataclass(frozen=True)
class PostureModel:
    """Standardisation and weights of the logistic regression, and the rules for "unknown"."""

    mean: np.ndarray  # (d,)
    scale: np.ndarray  # (d,)
    weights: np.ndarray  # (d + 1, 3): last row is the bias
    min_face_px: float
    min_probability: float
    features: tuple[str, ...] = FEATURE_NAMES

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities of up, down, away; NaN rows stay NaN."""
        z = (np.asarray(features, np.float64) - self.mean) / self.scale
        logits = np.c_[z, np.ones(len(z))] @ self.weights
        logits -= np.nanmax(logits, axis=1, keepdims=True) if len(z) else 0.0
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> dict:
        return {
            "kind": "multinomial-logistic-regression",
            "classes": list(POSTURE_CLASSES),
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "min_face_px": self.min_face_px,
            "min_probability": self.min_probability,
        }

    @classmethod
    def from_json(cls, data: dict) -> PostureModel:
        features = tuple(data["features"])
        if features != FEATURE_NAMES or tuple(data["classes"]) != POSTURE_CLASSES:
            raise PostureModelError(
                f"posture model has features {features}; this code computes {FEATURE_NAMES}"
            )
        d = len(features)
        mean, scale = np.asarray(data["mean"], np.float64), np.asarray(data["scale"], np.float64)
        weights = np.asarray(data["weights"], np.float64)
        if mean.shape != (d,) or scale.shape != (d,) or weights.shape != (d + 1, len(POSTURE_CLASSES)):
            raise PostureModelError("posture model arrays have the wrong shapes")
        return cls(mean, scale, weights, float(data["min_face_px"]), float(data["min_probability"]), features)

    def save(self, directory: str | Path) -> Path:
        path = Path(directory) / "posture.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path = DEFAULT_MODEL_DIR) -> PostureModel:
        path = Path(directory) / "posture.json"
        try:
            return cls.from_json(json.loads(path.read_text()))
        except OSError as exc:
            raise PostureModelError(f"cannot read posture model {path}: {exc.strerror or exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise PostureModelError(f"posture model {path} is malformed: {exc}") from exc


class LandmarkRefiner:
    """YuNet again on every face of a frame, enlarged: landmarks precise enough for posture, in one call.

    Each face's surroundings (``context`` times its longer side, edges replicated) are enlarged until the face
    is ``face_px`` pixels and laid out as one cell of a mosaic ``columns`` cells wide; YuNet runs once on the
    mosaic, and in each cell the face nearest the centre is taken back to frame coordinates.
    """

    def __init__(self, face_px: int = FACE_PX, context: float = CONTEXT, columns: int = 5) -> None:
        from monitor.detectors.yunet import _load_yuface

        self._detect = _load_yuface()
        self.face_px, self.context, self.columns = face_px, context, max(columns, 1)
        self.cell = int(round(face_px * context))

    def refine(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(boxes (n, 4), keypoints (n, 6, 2), scores (n,)) found again near each box; NaN where none."""
        import cv2

        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        n = len(boxes)
        out_boxes = np.full((n, 4), np.nan)
        out_kps = np.full((n, 6, 2), np.nan)
        out_scores = np.zeros(n)
        if n == 0:
            return out_boxes, out_kps, out_scores
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        cell, cols = self.cell, min(self.columns, n)
        rows = -(-n // cols)
        mosaic = np.zeros((rows * cell, cols * cell, 3), np.uint8)
        side = np.maximum(boxes[:, 2:4].max(axis=1), 1.0)
        scale = self.face_px / side
        origin = (
            boxes[:, 0:2] + boxes[:, 2:4] / 2 - (cell / 2) / scale[:, None]
        )  # frame point at a cell's corner
        for i in range(n):
            m = np.array([[scale[i], 0, -scale[i] * origin[i, 0]], [0, scale[i], -scale[i] * origin[i, 1]]])
            r, c = divmod(i, cols)
            mosaic[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = cv2.warpAffine(
                image, m, (cell, cell), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
            )
        found = np.asarray(self._detect(np.ascontiguousarray(mosaic)), np.float64).reshape(-1, 16)
        if len(found) == 0:
            return out_boxes, out_kps, out_scores
        centres = found[:, 1:3] + found[:, 3:5] / 2
        col, row = (centres[:, 0] // cell).astype(int), (centres[:, 1] // cell).astype(int)
        index = row * cols + col
        offset = np.hypot(centres[:, 0] - (col + 0.5) * cell, centres[:, 1] - (row + 0.5) * cell)
        best = np.full(n, np.inf)
        for j in np.argsort(offset):
            i = index[j]
            if not 0 <= i < n or offset[j] >= best[i] or offset[j] > 0.5 * self.face_px:
                continue
            best[i] = offset[j]
            r, c = divmod(i, cols)
            local = np.array([c * cell, r * cell], np.float64)
            out_boxes[i, :2] = origin[i] + (found[j, 1:3] - local) / scale[i]
            out_boxes[i, 2:] = found[j, 3:5] / scale[i]
            marks = origin[i] + (found[j, 5:15].reshape(5, 2) - local) / scale[i]
            out_kps[i, :3] = marks[:3]
            out_kps[i, 3] = marks[3:5].mean(axis=0)
            out_scores[i] = found[j, 0] / 100.0
        return out_boxes, out_kps, out_scores


class PostureEstimator:
    """Posture of every head of one frame in one batched call (see the module docstring)."""

    def __init__(self, model: PostureModel | None = None, refiner: LandmarkRefiner | None = None) -> None:
        self.model = model or PostureModel.load()
        self.refiner = refiner or LandmarkRefiner()

    def features(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Posture features of each face (NaN rows where no face was found at close range)."""
        fine_boxes, fine_kps, _ = self.refiner.refine(image, boxes)
        return posture_features(np.nan_to_num(fine_boxes, nan=1.0), fine_kps)

    def estimate(self, image: np.ndarray, boxes: np.ndarray) -> list[HeadPosture]:
        """One ``HeadPosture`` per box (x, y, w, h in frame pixels) of ``image``."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            return []
        return self.decide(boxes, self.features(image, boxes))

    def decide(self, boxes: np.ndarray, feats: np.ndarray) -> list[HeadPosture]:
        """Postures from features: unknown where unreadable, too small or not confident enough.

        Decided for all faces at once (numpy); only the ``HeadPosture`` records are built one by one.
        """
        n = len(boxes)
        readable = np.isfinite(feats).all(axis=1)
        probs = np.full((n, len(POSTURE_CLASSES)), np.nan)
        if readable.any():
            probs[readable] = self.model.probabilities(feats[readable])
        answered = np.where(readable[:, None], probs, -1.0)
        verdict = np.select(
            [
                ~readable,
                np.asarray(boxes, np.float64)[:, 2] < self.model.min_face_px,
                answered.max(axis=1) < self.model.min_probability,
            ],
            [0, 1, 2],
            default=3 + answered.argmax(axis=1),
        )
        return [_POSTURE_OF_VERDICT[v](p) for v, p in zip(verdict.tolist(), probs.tolist(), strict=True)]


def _unknown(reason: str):
    return lambda p: HeadPosture(UNKNOWN, *p, reason=reason)


def _known(posture: str):
    return lambda p: HeadPosture(posture, *p)


# decide()'s verdict codes: 0-2 unknown for a reason, 3 + the index of the most probable class
_POSTURE_OF_VERDICT = (
    _unknown("no face found at close range"),
    _unknown("face too small"),
    _unknown("low confidence"),
    *(_known(c) for c in POSTURE_CLASSES),
)
