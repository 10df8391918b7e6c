"""Detections / Tracks containers: validation, copying, read-only arrays."""

import numpy as np
import pytest

from tracker import Detections, Tracks, TrackState


def test_detections_copies_and_freezes_input():
    xyxy = np.array([[0, 0, 10, 20], [5, 5, 6, 7]], dtype=np.float64)
    scores = np.array([0.9, 0.5])
    dets = Detections(xyxy, scores, [2, 7])
    xyxy[0, 0] = 99
    assert dets.xyxy[0, 0] == 0
    assert dets.xyxy.dtype == np.float32 and dets.scores.dtype == np.float32
    assert dets.class_ids.dtype == np.int64
    with pytest.raises(ValueError):
        dets.xyxy[0, 0] = 1


def test_detections_empty_and_indexing():
    empty = Detections.empty()
    assert len(empty) == 0 and empty.xyxy.shape == (0, 4)
    dets = Detections([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]], [0.1, 0.2, 0.3], [2, 2, 7])
    sub = dets[dets.scores > 0.15]
    assert len(sub) == 2 and sub.class_ids.tolist() == [2, 7]


def test_detections_from_tlwh():
    dets = Detections.from_tlwh([[10, 20, 30, 40]], [1.0], [2])
    assert dets.xyxy.tolist() == [[10, 20, 40, 60]]


@pytest.mark.parametrize(
    ("xyxy", "scores", "class_ids", "message"),
    [
        ([[0, 0, 1]], [1.0], [2], r"Detections.xyxy must have shape \(N, 4\), got shape \(1, 3\)"),
        ([[0, 0, 1, np.nan]], [1.0], [2], "xyxy row 0 is not finite"),
        ([[0, 0, 1, 1], [5, 0, 1, 1]], [1.0, 1.0], [2, 2], "xyxy row 1 is inverted"),
        ([[0, 0, 1, 1]], [1.0, 0.5], [2], r"equal lengths, got xyxy \(1, 4\), scores \(2,\)"),
        ([[0, 0, 1, 1]], [np.inf], [2], "scores row 0 is not finite"),
        ([[0, 0, 1, 1]], [1.0], [2.5], "whole numbers"),
        ([[0, 0, 1, 1]], [[1.0]], [2], r"Detections.scores must have shape \(N,\)"),
    ],
)
def test_detections_rejects_bad_input(xyxy, scores, class_ids, message):
    with pytest.raises(ValueError, match=message):
        Detections(np.array(xyxy, dtype=np.float64), scores, class_ids)


def test_tracks_validates_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        Tracks([1, 2], [[0, 0, 1, 1]], [1.0], [2], [0], [1], [0.0], [1])
    tracks = Tracks([1], [[0, 0, 1, 1]], [1.0], [2], [0], [TrackState.CONFIRMED], [0.5], [3])
    assert tracks[[0]].ids.tolist() == [1]
    assert len(Tracks.empty()) == 0
