"""Score-calibration mechanisms (tracker/mechanisms/scores.py): each solves a synthetic scene."""

import numpy as np
import pytest
from scenes import box

import tracker
from tracker import Detections
from tracker.config import ConfigError


def _stream(transform) -> list[Detections]:
    """Three cars and clutter over 30 frames, scores passed through ``transform``."""
    rng = np.random.default_rng(4)
    frames = []
    for k in range(30):
        boxes = [box(100 + 6 * k, 100), box(400 - 4 * k, 200), box(300, 300 + 3 * k), box(*rng.uniform(50, 600, 2))]
        scores = np.array([0.9 - 0.02 * (k % 7), 0.35 + 0.3 * (k % 2), 0.6, rng.uniform(0.05, 0.4)])
        frames.append(Detections(boxes, transform(scores), [2, 2, 2, 2]))
    return frames


@pytest.mark.parametrize(
    "transform",
    [
        lambda p: np.log(p / (1 - p)),  # the logits a LiDAR detector reports
        lambda p: p**3,  # an over-cautious detector
        lambda p: 0.6 + 0.4 * p,  # a detector that never reports below 0.6
    ],
)
def test_quantiles_make_tracking_independent_of_the_score_calibration(transform):
    """Any increasing recalibration of the scores gives the same tracks: thresholds apply to ranks."""

    def outputs(quantiles, scores):
        t = tracker.create("vtrack", quantiles=quantiles)
        return [(r.ids.tolist(), r.det_index.tolist()) for r in (t.update(d, k / 10) for k, d in enumerate(scores))]

    assert outputs({"window": 50}, _stream(lambda p: p)) == outputs({"window": 50}, _stream(transform))
    assert outputs(None, _stream(lambda p: p)) != outputs(None, _stream(transform))  # raw thresholds differ


def test_quantiles_are_ranks_among_the_recent_scores():
    t = tracker.create("sort", quantiles={"window": 10})
    part = t._boosts[0]
    from tracker.mechanisms.base import Frame

    frame = Frame(t, Detections([box(10, 10)] * 4, [0.1, 0.5, 0.2, 0.9], [2] * 4), 0.0, 0.0)
    part.boost(t, frame)
    np.testing.assert_allclose(frame.scores, [0.25, 0.75, 0.5, 1.0])
    frame = Frame(t, Detections([box(10, 10)] * 8, [0.3] * 8, [2] * 8), 0.1, 0.0)
    part.boost(t, frame)  # the window keeps the last 10: 0.2, 0.9 and the eight 0.3s
    np.testing.assert_allclose(frame.scores, 0.9)


def test_quality_hides_a_track_born_on_a_false_positive_and_kept_alive_by_weak_boxes():
    """A phantom box scores 0.9 once, then 0.15 (BYTE keeps it); a real car scores 0.8 throughout."""
    reported = {}
    for quality in (None, {"min_mean_score": 0.5}):
        t = tracker.create("vtrack", quality=quality)
        ids = []
        for k in range(12):
            dets = Detections([box(100 + 5 * k, 100), box(500, 300)], [0.8, 0.9 if k == 0 else 0.15], [2, 2])
            ids.append(sorted(t.update(dets, k / 10).ids.tolist()))
        reported[quality is not None] = ids
    assert reported[False][-1] == [1, 2]  # without the gate the phantom is drawn to the end
    assert reported[True][0] == [1, 2] and reported[True][-1] == [1]  # its mean score falls below 0.5


@pytest.mark.parametrize("bad", [{"quantiles": {"window": 5}}, {"quality": {"min_mean_score": float("nan")}}])
def test_invalid_score_settings_are_refused(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        tracker.create("vtrack", bad)
