"""The association pipeline on synthetic scenes with known answers."""

import numpy as np
import pytest
from scenes import box, dets

import tracker
from tracker import Detections, TimestampError, TrackState
from tracker.association import linear_assignment


def ids_by_det(tracks: tracker.Tracks) -> dict[int, int]:
    return dict(zip(tracks.det_index.tolist(), tracks.ids.tolist(), strict=True))


def test_linear_assignment_never_takes_an_infeasible_pair():
    def pairs(result):
        return np.stack([result.rows, result.cols], axis=1).tolist()

    cost = np.array([[0.1, 0.9], [0.2, 0.95]])
    result = linear_assignment(cost, cost <= 0.7)
    assert pairs(result) == [[0, 0]] or pairs(result) == [[1, 0]]
    assert len(result.free_rows) == 1 and result.free_cols.tolist() == [1]
    # Solved freely, (0, 1) + (1, 0) = 0.5 beats (0, 0) + (1, 1) = 1.0; gating forbids (1, 0).
    cost = np.array([[0.1, 0.2], [0.3, 0.9]])
    assert pairs(linear_assignment(cost, np.array([[True, True], [False, True]]))) == [[0, 0], [1, 1]]
    assert pairs(linear_assignment(cost, cost < 1)) == [[0, 1], [1, 0]]
    # Gated, the most matches win: (0, 1) + (1, 0); SORT's global objective keeps (0, 0) and drops (1, 1).
    iou = np.array([[1.0, 0.33], [0.33, 0.0]])
    assert pairs(linear_assignment(1 - iou, iou >= 0.3)) == [[0, 1], [1, 0]]
    assert pairs(linear_assignment(1 - iou, iou >= 0.3, gate_after=True)) == [[0, 0]]
    result = linear_assignment(np.zeros((0, 3)), np.zeros((0, 3), dtype=bool))
    assert len(result.rows) == 0 and result.free_cols.tolist() == [0, 1, 2]
    # No conflicts: the feasible pairs themselves, without the solver.
    result = linear_assignment(np.zeros((3, 2)), np.array([[False, True], [False, False], [True, False]]))
    assert pairs(result) == [[0, 1], [2, 0]] and result.free_rows.tolist() == [1] and len(result.free_cols) == 0


@pytest.mark.parametrize("fps", [10.0, 30.0])
def test_two_crossing_cars_keep_their_ids(fps):
    """Car A drives right, car B drives left, 15 px lower; their boxes overlap as they cross."""
    t = tracker.create("sort")
    speed = 100.0  # px/s
    first: dict[str, int] = {}
    n = int(6 * fps)
    for k in range(n):
        x = speed * k / fps
        a, b = box(100 + x, 120), box(100 + speed * 6 - x, 135)
        order = [b, a] if k % 2 else [a, b]  # detection order must not matter
        tracks = t.update(dets(*order), timestamp=k / fps)
        by_det = ids_by_det(tracks)
        if len(by_det) == 2:
            ids = {"a": by_det[order.index(a)], "b": by_det[order.index(b)]}
            first = first or ids
            assert ids == first, f"ID switch at frame {k}"
    assert first and first["a"] != first["b"]


@pytest.mark.parametrize("fps", [10.0, 30.0])
def test_car_hidden_for_five_frames_keeps_its_id(fps):
    t = tracker.create("sort")
    speed = 80.0  # px/s
    seen = []
    for k in range(30):
        if 10 <= k < 15:
            tracks = t.update(Detections.empty(), timestamp=k / fps)
            assert len(tracks) == 0  # only tracks matched in this frame are reported
            lost = t.tracks
            assert lost.state.tolist() == [TrackState.LOST]
            assert lost.det_index.tolist() == [-1]
            continue
        tracks = t.update(dets(box(50 + speed * k / fps, 100)), timestamp=k / fps)
        seen.extend(tracks.ids.tolist())
    assert set(seen) == {1}


def test_track_is_deleted_after_max_age_seconds_and_id_not_reused():
    t = tracker.create("sort", max_age_s=1.0, min_hits=1)
    for k in range(5):
        assert t.update(dets(box(100, 100)), timestamp=0.1 * k).ids.tolist() == [1]
    t.update(Detections.empty(), timestamp=1.0)
    assert len(t.tracks) == 1  # coasting, 0.6 s without a match
    t.update(Detections.empty(), timestamp=1.45)
    assert len(t.tracks) == 0  # 1.05 s without a match: deleted
    assert t.update(dets(box(100, 100)), timestamp=1.5).ids.tolist() == [2]


def test_confirmation_after_min_hits_and_tentative_dropped_on_miss():
    t = tracker.create("sort", min_hits=3)
    assert len(t.update(dets(box(100, 100)), 0.0)) == 0
    assert t.tracks.state.tolist() == [TrackState.TENTATIVE]
    assert len(t.update(dets(box(101, 100)), 0.1)) == 0
    confirmed = t.update(dets(box(102, 100)), 0.2)
    assert confirmed.state.tolist() == [TrackState.CONFIRMED] and confirmed.hits.tolist() == [3]
    np.testing.assert_allclose(confirmed.age, [0.2])
    t.update(dets(box(300, 300)), 0.3)  # the car is missed; a tentative track is born elsewhere
    t.update(Detections.empty(), 0.4)  # the tentative track misses once: deleted
    assert t.tracks.ids.tolist() == [1]


def test_det_index_points_into_the_input_and_low_scores_are_ignored():
    t = tracker.create("sort", min_hits=1, min_score=0.5)
    frame = dets(box(100, 100), box(300, 100), box(500, 100), scores=[0.9, 0.2, 0.8])
    tracks = t.update(frame, 0.0)
    assert sorted(tracks.det_index.tolist()) == [0, 2]
    np.testing.assert_allclose(tracks.xyxy, frame.xyxy[tracks.det_index], atol=1e-4)
    shuffled = dets(box(501, 100), box(101, 100), scores=[0.8, 0.9])
    tracks = t.update(shuffled, 0.1)
    assert ids_by_det(tracks) == {1: 1, 0: 2}


def test_class_is_a_score_weighted_vote():
    t = tracker.create("sort", min_hits=1)
    classes = [2, 2, 7, 2, 7]
    reported = [t.update(dets(box(100, 100), class_ids=[c]), 0.1 * k).class_ids[0] for k, c in enumerate(classes)]
    assert reported == [2, 2, 2, 2, 2]
    assert t.update(dets(box(100, 100), scores=[5.0], class_ids=[7]), 0.6).class_ids.tolist() == [7]


def test_update_does_not_modify_the_detections():
    d = dets(box(100, 100), box(200, 100))
    before = (d.xyxy.copy(), d.scores.copy(), d.class_ids.copy())
    t = tracker.create("sort")
    for k in range(4):
        t.update(d, 0.1 * k)
    for a, b in zip(before, (d.xyxy, d.scores, d.class_ids), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [0.1, 0.05, float("nan"), float("inf")])
def test_timestamps_must_strictly_increase(bad):
    t = tracker.create("sort")
    t.update(dets(box(100, 100)), 0.1)
    with pytest.raises(TimestampError):
        t.update(dets(box(100, 100)), bad)


def test_reset_forgets_tracks_and_time_but_never_reuses_ids():
    t = tracker.create("sort", min_hits=1)
    t.update(dets(box(100, 100)), 5.0)
    t.reset()
    assert len(t.tracks) == 0
    assert t.update(dets(box(100, 100)), 0.0).ids.tolist() == [2]


def test_two_trackers_in_one_process_are_independent():
    scene = [dets(box(100 + 5 * k, 100), box(300, 200 + 3 * k)) for k in range(10)]
    alone = tracker.create("sort")
    expected = [alone.update(d, 0.1 * k).ids.tolist() for k, d in enumerate(scene)]
    a, b = tracker.create("sort"), tracker.create("sort")
    for k, d in enumerate(scene):
        b.update(dets(box(600, 50)), 0.1 * k)
        assert a.update(d, 0.1 * k).ids.tolist() == expected[k]
    assert b.tracks.ids.tolist() == [1]


def test_confident_births_are_confirmed_at_once():
    t = tracker.create("sort", min_hits=3, confirm_score=0.8)
    tracks = t.update(dets(box(100, 100), box(300, 100), scores=[0.9, 0.5]), 0.0)
    assert tracks.det_index.tolist() == [0] and tracks.state.tolist() == [TrackState.CONFIRMED]
    assert t.tracks.state.tolist() == [TrackState.CONFIRMED, TrackState.TENTATIVE]
