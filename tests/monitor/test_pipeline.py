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


class CountingClassifier:
    """The real classifier, counting the faces of each call."""

    def __init__(self) -> None:
        self.real = EmotionClassifier(active_model_dir())
        self.calls: list[int] = []

    def predict(self, crops):
        self.calls.append(len(crops))
        return self.real.predict(crops)


def test_a_per_frame_budget_refreshes_every_face_in_turn() -> None:
    classifier = CountingClassifier()
    pipeline = FramePipeline(
        make_detector(),
        classifier,
        EngagementIndex(EngagementWeights()),
        detect_every=3,
        classify_per_frame=2,
    )
    records = run(pipeline, 20)
    faces = len(records[-1].track_ids)
    assert faces > 2
    # New faces are classified at once; after that, at most two faces a frame.
    assert max(classifier.calls[5:]) <= 2 < faces
    assert all(r.probs is not None and r.probs.shape == (len(r.track_ids), 7) for r in records)
    # Oldest first: in any run of ceil(faces / 2) frames every face was refreshed.
    newest = {t.track_id: t.classified_at for t in pipeline.tracker.tracks_of(pipeline.tracker.coast())}
    assert pipeline.frames - min(newest.values()) <= -(-faces // 2) + 1, newest
