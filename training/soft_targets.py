"""FER+ crowd votes as soft training targets for the original 7 FER2013 classes.

FER+ asked 10 people per FER2013 face which emotion it shows. Their vote share says how ambiguous a face
is; mixed into the one-hot FER2013 label it tells the network which labels to trust. Contempt (an 8th FER+
class) is left out and the rest renormalised; faces without votes on the 7 classes keep their one-hot label.
PublicTest keeps its original labels, so the model is still scored on FER2013's own answers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.data import FERPLUS_LABELS, DatasetError, FaceDataset, load_ferplus_votes


def ferplus_distributions(dataset: FaceDataset, ferplus_csv: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(votes (N, 7) rows summing to 1, has_votes (N,))`` for the rows of a FER2013 ``dataset``.

    FER+ row k is FER2013 row k, so the FER2013 file must be complete (no skipped rows). The vote file may
    stop early (e.g. Training and PublicTest only): later rows get no votes.
    """
    if dataset.skipped:
        raise DatasetError(
            f"{dataset.source}: FER+ alignment needs a clean FER2013 file, but {dataset.skipped}"
        )
    votes, usage = load_ferplus_votes(ferplus_csv)
    n = min(len(votes), len(dataset))
    if len(votes) > len(dataset) or not np.array_equal(usage[:n], dataset.usage[:n]):
        raise DatasetError(
            f"{ferplus_csv}: rows do not line up with {dataset.source} "
            f"({len(votes)} vs {len(dataset)} rows or different Usage)"
        )
    keep = [FERPLUS_LABELS.index(name) for name in dataset.label_names]
    seven = np.zeros((len(dataset), len(keep)), dtype=np.float32)
    seven[:n] = votes[:, keep]
    total = seven.sum(axis=1)
    has_votes = total > 0
    seven[has_votes] /= total[has_votes, None]
    return seven, has_votes


def with_ferplus_targets(dataset: FaceDataset, ferplus_csv: str | Path, weight: float) -> FaceDataset:
    """``dataset`` whose Training rows carry ``(1 - weight) * one-hot + weight * FER+ votes`` as labels.

    Other rows (PublicTest) get their one-hot label, so their arg-max is the FER2013 label. ``weight`` must
    stay below 0.5 so that a Training row's arg-max is its FER2013 label too.
    """
    if not 0.0 <= weight < 0.5:
        raise ValueError(f"FER+ target weight {weight} must be in [0, 0.5)")
    if dataset.soft:
        raise DatasetError(
            "FER+ targets are mixed into hard FER2013 labels, but these labels are already soft"
        )
    onehot = np.eye(len(dataset.label_names), dtype=np.float32)[dataset.labels]
    votes, has_votes = ferplus_distributions(dataset, ferplus_csv)
    mix = (dataset.usage == "Training") & has_votes
    labels = onehot.copy()
    labels[mix] = (1 - weight) * onehot[mix] + weight * votes[mix]
    skipped = dict(dataset.skipped)
    return FaceDataset(
        dataset.images,
        labels,
        dataset.usage,
        dataset.label_names,
        skipped,
        f"{dataset.source} + {ferplus_csv} (weight {weight:g})",
    )
