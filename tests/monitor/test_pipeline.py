"""FramePipeline turns frames into records: the same faces keep their ids, attention-only infers nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from monitor.classify import EmotionClassifier
from monitor.config import EngagementWeights
from monitor.detect import make_detector
from monitor.engagement import EngagementIndex
from monitor.pipeline import FramePipeline
from monitor.registry import active_model_dir
from monitor.sample import SEATS, SyntheticClassroom

T0 = datetime(2026, 11, 21, 9, tzinfo=UTC)


def run(pipeline: FramePipeline, frames: int = 12):
    room = SyntheticClassroom()
    return [pipeline.process(room.render(i / 10), T0 + timedelta(seconds=i / 10), i) for i in range(frames)]


def test_sample_classroom_faces_are_followed_and_classified() -> None:
    pipeline = FramePipeline(
        make_detector(),
        EmotionClassifier(active_model_dir()),
        EngagementIndex(EngagementWeights()),
        detect_every=3,
    )
    records = run(pipeline)
    last = records[-1]
    assert len(SEATS) - 2 <= len(last.track_ids) <= len(SEATS)
    assert last.probs.shape == (len(last.track_ids), 7)
    np.testing.assert_allclose(last.probs.sum(axis=1), 1.0, atol=1e-4)
    assert 0.0 < last.engagement <= 1.0
    # The faces of frame 6 are the faces of frame 11, under the same ids.
    assert set(records[6].track_ids) == set(last.track_ids)


def test_attention_only_pipeline_produces_no_probabilities() -> None:
    pipeline = FramePipeline(make_detector(), None, EngagementIndex(EngagementWeights(), emotions=False))
    records = run(pipeline, 6)
    assert all(r.probs is None for r in records)
    assert len(records[-1].track_ids) > 0
    assert ((records[-1].attention >= 0) & (records[-1].attention <= 1)).all()
