"""Train and score the head-posture model (``monitor/posture.py``) on by-eye labels.

Labels are in the format of ``shared/datasets/labels/classroom_posture.json`` (``monitor/posture_labels.py``;
``classroom-monitor label`` writes it for a school's own camera). The detector runs on each labelled frame,
its faces are matched to the labelled heads, and only ``up``/``down``/``away`` faces are used (``unsure`` is
left out). Scores are held out BY PERSON: each person (a video's stable id, or one person of a still) is one
group, and every face of a group is predicted by a model fitted without that group.

    classroom-monitor train-posture --labels ../shared/datasets/labels/classroom_posture.json \
        --out models/posture-v1
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.posture import (
    FEATURE_NAMES,
    POSTURE_CLASSES,
    LandmarkRefiner,
    PostureModel,
    posture_features,
)
from monitor.posture_labels import load_labels, match_boxes, read_item_images

DEFAULT_L2 = 3.0
# The smallest face in the labels is 10.6 px wide, and faces of 10-16 px scored as well as larger ones: below
# 10 px nothing was measured, so the product says "unknown" there.
DEFAULT_MIN_FACE_PX = 10.0
DEFAULT_MIN_PROBABILITY = 0.5  # below it a head is "unknown" (held out: ~12% of faces, accuracy 73% -> 76%)


@dataclass
class PostureSamples:
    """Detected faces matched to labelled heads (one row each), with their frames' crops kept out."""

    boxes: np.ndarray  # (n, 4)
    keypoints: np.ndarray  # (n, 6, 2)
    scores: np.ndarray  # (n,)
    labels: list[str]  # up | down | away | unsure
    groups: list[str]  # person: file:id
    items: list[str]  # item key: file#frame
    teacher: np.ndarray  # (n,) bool
    features: np.ndarray  # (n, d) posture features from landmarks found again at close range (the product's)
    # per item: students labelled up/down/away (by eye, teachers left out, all heads, found or not)
    by_eye: dict[str, dict[str, int]] = field(default_factory=dict)
    faces_found: dict[str, int] = field(default_factory=dict)  # per item: detector boxes
    crops: list[np.ndarray] | None = None  # enlarged head crops, only when asked (never written)

    def __len__(self) -> int:
        return len(self.labels)

    def labelled(self) -> np.ndarray:
        """Mask of the rows with a posture class (``unsure`` left out)."""
        return np.array([lab in POSTURE_CLASSES for lab in self.labels], bool)

    def target(self) -> np.ndarray:
        return np.array([POSTURE_CLASSES.index(lab) if lab in POSTURE_CLASSES else -1 for lab in self.labels])


def head_crop(image: np.ndarray, box: np.ndarray, size: int = 32, grow: float = 1.0) -> np.ndarray:
    """Grey ``size`` x ``size`` crop of a face box grown by ``grow`` of its size (hair and shoulders in),
    standardised to zero mean and unit variance; edges are replicated."""
    import cv2

    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * (1 + grow)
    cx, cy = x + w / 2, y + h / 2 + 0.15 * h * grow
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    pad = int(side) + 2
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    patch = padded[y0 + pad : y0 + pad + int(side), x0 + pad : x0 + pad + int(side)]
    g = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (g - g.mean()) / (g.std() + 1e-6)


def collect(
    labels_path: str | Path, detector=None, root: str | Path | None = None, crops: bool = False
) -> PostureSamples:
    """Run the detector on every labelled item and keep its faces that match a labelled head."""
    from monitor.detect import make_detector

    labels = load_labels(labels_path, root)
    detector = detector or make_detector()
    refiner = LandmarkRefiner()
    feats: list[np.ndarray] = []
    boxes, kps, scores, labs, groups, items, teacher, crop_list = [], [], [], [], [], [], [], []
    by_eye: dict[str, dict[str, int]] = {}
    found: dict[str, int] = {}
    for item, image in read_item_images(labels):
        by_eye[item.key] = {
            c: sum(p.posture == c and not p.teacher for p in item.people) for c in POSTURE_CLASSES
        }
        det = detector.detect(image)
        found[item.key] = len(det)
        if not item.people or not len(det):
            continue
        lab_boxes = np.array([p.box for p in item.people], np.float64)
        pairs = match_boxes(det.boxes, lab_boxes)
        fine_boxes, fine_kps, _ = refiner.refine(image, det.boxes[[d for d, _ in pairs]])
        feats.append(posture_features(np.nan_to_num(fine_boxes, nan=1.0), fine_kps))
        for d, m in pairs:
            person = item.people[m]
            boxes.append(det.boxes[d])
            kps.append(det.keypoints[d] if det.keypoints is not None else np.full((6, 2), np.nan, np.float32))
            scores.append(float(det.scores[d]))
            labs.append(person.posture)
            groups.append(item.group_of(person))
            items.append(item.key)
            teacher.append(person.teacher)
            if crops:
                crop_list.append(head_crop(image, det.boxes[d]))
    return PostureSamples(
        np.array(boxes, np.float64).reshape(-1, 4),
        np.array(kps, np.float64).reshape(-1, 6, 2),
        np.array(scores, np.float64),
        labs,
        groups,
        items,
        np.array(teacher, bool),
        np.concatenate(feats) if feats else np.empty((0, len(FEATURE_NAMES))),
        by_eye,
        found,
        crop_list if crops else None,
    )


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = DEFAULT_L2, balanced: bool = True, iters: int = 2000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multinomial logistic regression by full-batch gradient descent on standardised features.

    Returns (mean, scale, weights (d + 1, k)); ``balanced`` weighs each class by n / (k * its count).
    Deterministic: no random start, no shuffling.
    """
    k = len(POSTURE_CLASSES)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = np.c_[(x - mean) / scale, np.ones(len(x))]
    n, d = z.shape
    onehot = np.eye(k)[y]
    counts = np.bincount(y, minlength=k).clip(1)
    sample_w = (n / (k * counts))[y][:, None] if balanced else np.ones((n, 1))
    reg = np.full((d, 1), l2 / n)
    reg[-1] = 0.0
    step = 1.0 / (np.linalg.norm(z, 2) ** 2 / n * float(sample_w.max()) + l2 / n)
    w = np.zeros((d, k))
    for _ in range(iters):
        logits = z @ w
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        w -= step * (z.T @ ((p - onehot) * sample_w) / n + reg * w)
    return mean, scale, w


def geometry_model(
    x: np.ndarray,
    y: np.ndarray,
    l2: float = DEFAULT_L2,
    min_face_px: float = 0.0,
    min_probability: float = 0.0,
) -> PostureModel:
    """The shipped model's fit: classes unweighted (weighting them doubled "up" and the heads-up share)."""
    mean, scale, w = fit_logistic(x, y, l2, balanced=False)
    return PostureModel(mean, scale, w, min_face_px, min_probability)


def decide(probs: np.ndarray, widths: np.ndarray, min_face_px: float, min_probability: float) -> np.ndarray:
    """Class index per row, or -1 (unknown) where the face is too small or the top probability too low."""
    top = np.nan_to_num(probs, nan=0.0)
    out = top.argmax(axis=1)
    out[(widths < min_face_px) | (top.max(axis=1) < min_probability) | ~np.isfinite(probs).all(axis=1)] = -1
    return out


def confusion(y: np.ndarray, pred: np.ndarray) -> list[list[int]]:
    """Rows: by-eye up, down, away; columns: predicted up, down, away, unknown."""
    k = len(POSTURE_CLASSES)
    m = np.zeros((k, k + 1), int)
    for t, p in zip(y, pred, strict=True):
        m[t, p if p >= 0 else k] += 1
    return m.tolist()


def score(samples: PostureSamples, pred_all: np.ndarray) -> dict:
    """Accuracy over labelled faces (answered ones), coverage, confusion, and the per-frame heads-up shares.

    ``pred_all``: class index or -1 (unknown) for every sample row (``unsure`` rows included: they are faces
    the product sees too). The predicted share is over all detected heads a model calls readable, as the
    product would count them (it cannot tell a teacher from a student); the by-eye share is over students.
    """
    mask = samples.labelled()
    y = samples.target()[mask]
    pred = pred_all[mask]
    answered = pred >= 0
    frames = {}
    items = np.asarray(samples.items)
    for key, counts in samples.by_eye.items():
        total = sum(counts.values())
        here = pred_all[items == key]
        readable = int((here >= 0).sum())
        up = int((here == 0).sum())
        frames[key] = {
            "by_eye_share": round(counts["up"] / total, 4) if total else None,
            "predicted_share": round(up / readable, 4) if readable else None,
            "heads_up": up,
            "readable": readable,
            "faces": int(len(here)),
        }
        if total and readable:
            frames[key]["error_points"] = round(100 * (up / readable - counts["up"] / total), 1)
    return {
        "faces": int(mask.sum()),
        "answered": int(answered.sum()),
        "coverage": round(float(answered.mean()), 4) if len(y) else 0.0,
        "accuracy": round(float((pred[answered] == y[answered]).mean()), 4) if answered.any() else None,
        "accuracy_unknown_as_wrong": round(float((pred == y).mean()), 4) if len(y) else None,
        "confusion": confusion(y, pred),
        "confusion_rows": "by eye: up, down, away",
        "confusion_columns": "predicted: up, down, away, unknown",
        "frames": frames,
    }


def train_posture(
    labels_path: str | Path,
    out_dir: str | Path,
    l2: float = DEFAULT_L2,
    min_face_px: float = DEFAULT_MIN_FACE_PX,
    min_probability: float = DEFAULT_MIN_PROBABILITY,
    root: str | Path | None = None,
    command: str = "",
) -> dict:
    """Score held out by person, fit on every labelled face, write ``posture.json`` and ``metrics.json``."""
    samples = collect(labels_path, root=root)
    mask = samples.labelled()
    if mask.sum() < 10 or len(set(np.asarray(samples.labels)[mask])) < len(POSTURE_CLASSES):
        raise ValueError(
            f"{labels_path}: {int(mask.sum())} detected faces labelled up/down/away; need at least 10 with "
            "every class present"
        )
    probs = held_out_probabilities(samples.features, samples.target(), samples.groups, l2)
    widths = samples.boxes[:, 2]
    metrics = score(samples, decide(probs, widths, min_face_px, min_probability))
    metrics["by_width"] = by_width(samples, probs)
    usable = mask & np.isfinite(samples.features).all(axis=1)
    model = geometry_model(
        samples.features[usable], samples.target()[usable], l2, min_face_px, min_probability
    )
    out = Path(out_dir)
    model.save(out)
    metrics.update(
        {
            "model": "posture-v1: multinomial logistic regression on YuNet landmark geometry",
            "features": list(FEATURE_NAMES),
            "l2": l2,
            "min_face_px": min_face_px,
            "min_probability": min_probability,
            "held_out": "by person (leave-one-person-out; each still's people are their own groups)",
            "labels": str(labels_path),
            "class_counts": {
                c: int(sum(lab == c for lab in np.asarray(samples.labels)[mask])) for c in POSTURE_CLASSES
            },
            "command": command,
            "trained_at": time.strftime("%Y-%m-%d", time.gmtime()),
        }
    )
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def held_out_probabilities(
    feats: np.ndarray, target: np.ndarray, groups: list[str], l2: float = DEFAULT_L2
) -> np.ndarray:
    """(n, 3) probabilities for every row from a model fitted without that row's person.

    Rows with a class (``target`` >= 0) and finite features train; ``unsure`` rows are predicted too (the
    product sees those faces) by a fit on everyone but their person; rows without features stay NaN.
    """
    finite = np.isfinite(feats).all(axis=1)
    train_rows = np.flatnonzero((target >= 0) & finite)
    g = np.asarray(groups)
    out = np.full((len(target), len(POSTURE_CLASSES)), np.nan)
    for person in np.unique(g[finite]):
        test = np.flatnonzero((g == person) & finite)
        train = train_rows[g[train_rows] != person]
        out[test] = geometry_model(feats[train], target[train], l2).probabilities(feats[test])
    return out


def by_width(
    samples: PostureSamples, probs: np.ndarray, edges: tuple[int, ...] = (0, 16, 20, 25, 35, 10_000)
) -> list[dict]:
    """Held-out accuracy (every labelled face answered) per band of face width in pixels."""
    mask = samples.labelled()
    y, w, pred = samples.target()[mask], samples.boxes[mask, 2], np.nan_to_num(probs[mask]).argmax(axis=1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (w >= lo) & (w < hi)
        rows.append(
            {
                "width_px": f"{lo}-{hi if hi < 10_000 else ''}",
                "faces": int(m.sum()),
                "accuracy": round(float((pred[m] == y[m]).mean()), 3) if m.any() else None,
            }
        )
    return rows


@dataclass
class _TrackReading:
    frame: int
    features: np.ndarray  # (d,) NaN where no face was found at close range
    width: float


def pipeline_readings(video: str | Path, detect_every: int = 5, refresh_per_frame: int = 1) -> tuple:
    """Run the real ``FramePipeline`` (YuNet, tracker, posture refresh budget) over ``video`` and keep, per
    track, the features of every posture reading it made, and per frame the tracks in view.

    Returns (readings {track id: [_TrackReading]}, frames [(track ids, boxes)] one per video frame). The
    features let a caller decide each reading with a model fitted without that track's person.
    """
    from datetime import datetime, timedelta

    import cv2

    from monitor.config import EngagementWeights
    from monitor.detect import make_detector
    from monitor.engagement import EngagementIndex, RoomAttention
    from monitor.pipeline import FramePipeline

    log: list[tuple[np.ndarray, np.ndarray]] = []

    class RecordingRoom(RoomAttention):
        def read(self, image: np.ndarray, boxes: np.ndarray) -> list:
            est = self.estimator
            boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
            feats = est.features(image, boxes)
            log.append((boxes, feats))
            return est.decide(boxes, feats)

    engagement = EngagementIndex(EngagementWeights(), emotions=False)
    pipeline = FramePipeline(make_detector(), None, engagement, detect_every=detect_every)
    pipeline.room = RecordingRoom(refresh_per_frame=refresh_per_frame)
    readings: dict[int, list[_TrackReading]] = {}
    frames: list[tuple[np.ndarray, np.ndarray]] = []
    cap = cv2.VideoCapture(str(video))
    start, index = datetime(2026, 1, 5, 9), 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        seen = len(log)
        record = pipeline.process(image, start + timedelta(seconds=index / 30), index)
        track_boxes = record.boxes.astype(np.float64)
        for boxes, feats in log[seen:]:
            for row in range(len(boxes)):
                j = int(np.argmin(np.abs(track_boxes - np.round(boxes[row])).sum(axis=1)))
                readings.setdefault(int(record.track_ids[j]), []).append(
                    _TrackReading(index, feats[row], float(boxes[row, 2]))
                )
        frames.append((record.track_ids.copy(), track_boxes))
        index += 1
    cap.release()
    return readings, frames


def pipeline_heads_up_held_out(
    labels_path: str | Path,
    windows: tuple[int, ...] = (1,),
    refresh_per_frame: int = 1,
    l2: float = DEFAULT_L2,
    min_face_px: float = DEFAULT_MIN_FACE_PX,
    min_probability: float = DEFAULT_MIN_PROBABILITY,
) -> dict:
    """The pipeline's heads-up share on each labelled video frame, held out by person, per temporal window.

    The real pipeline runs over each labelled video (every frame, not only the labelled ones). On a labelled
    frame, each track in view is matched to a labelled head; its readings so far are decided by a model fitted
    without that person (a track matched to nobody: the model fitted on everyone). With window k a track's
    posture is the mean probability of its last k readings (1: the latest reading, as the product reports).
    The share is up / readable tracks, against the by-eye share of the students.
    """
    labels = load_labels(labels_path)
    samples = collect(labels_path)
    feats, target, groups = samples.features, samples.target(), np.asarray(samples.groups)
    train_rows = np.flatnonzero((target >= 0) & np.isfinite(feats).all(axis=1))
    models: dict[str | None, PostureModel] = {}

    def model_without(person: str | None) -> PostureModel:
        if person not in models:
            rows = train_rows[groups[train_rows] != person]
            models[person] = geometry_model(feats[rows], target[rows], l2)
        return models[person]

    out: dict[str, dict] = {f"window_{k}": {} for k in windows}
    videos = sorted({item.file for item in labels.items if item.frame is not None})
    for video in videos:
        items = {item.frame: item for item in labels.items if item.file == video and item.frame is not None}
        readings, frames = pipeline_readings(labels.path_of(next(iter(items.values()))), 5, refresh_per_frame)
        for frame, item in sorted(items.items()):
            if frame >= len(frames):
                continue
            track_ids, boxes = frames[frame]
            people = np.array([p.box for p in item.people], np.float64).reshape(-1, 4)
            who = {d: item.group_of(item.people[m]) for d, m in match_boxes(boxes, people)}
            counts = {c: sum(p.posture == c and not p.teacher for p in item.people) for c in POSTURE_CLASSES}
            by_eye = counts["up"] / max(sum(counts.values()), 1)
            for k in windows:
                up = readable = 0
                for d, track in enumerate(track_ids):
                    model = model_without(who.get(d))
                    recent = [r for r in readings.get(int(track), []) if r.frame <= frame][-k:]
                    probs = [
                        model.probabilities(r.features[None])[0]
                        for r in recent
                        if np.isfinite(r.features).all() and r.width >= min_face_px
                    ]
                    if not recent or recent[-1].width < min_face_px or not probs:
                        continue
                    mean = np.mean(probs, axis=0)
                    if mean.max() < min_probability:
                        continue
                    readable += 1
                    up += int(mean.argmax() == 0)
                out[f"window_{k}"][item.key] = {
                    "by_eye_share": round(by_eye, 4),
                    "predicted_share": round(up / readable, 4) if readable else None,
                    "heads_up": up,
                    "readable": readable,
                    "tracks": len(track_ids),
                    "error_points": round(100 * (up / readable - by_eye), 1) if readable else None,
                }
    return out
