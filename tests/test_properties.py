"""Property-based tests (hypothesis) of every backend in :func:`tracker.available`.

Random detection streams, with what real ones hold at their worst: empty frames, duplicate
boxes, zero-width and zero-height boxes, boxes off the image and huge ones, scores of
exactly 0 and 1, timestamps near the Unix epoch's present (1.7e9 s) stepping 33 ms,
gaps of up to minutes, and random plausible camera motion. For each stream and backend:
no exception; IDs unique within a frame and never given to a second track; a valid
``det_index`` whose detection has the reported score; finite outputs; the caller's
``Detections`` untouched; the same output twice (determinism); and after ``reset()`` the
output of a new instance (up to the IDs, which are not reused).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracker
from tracker import Detections, Tracks

pytestmark = pytest.mark.needs_dev

BACKENDS = tracker.available()
#: Enough examples to meet each kind of oddity several times, few enough for CI (about 10 s per backend).
EXAMPLES = 40

Frame = tuple[float, Detections, np.ndarray | None]


@st.composite
def boxes(draw: st.DrawFn) -> list[float]:
    """One ``xyxy`` box: usually a car-sized box on a 1280x720 image, sometimes degenerate, off-image or huge."""
    kind = draw(st.sampled_from(["car", "car", "car", "zero_width", "zero_height", "off_image", "huge"]))
    x = draw(st.floats(-50, 1300, allow_nan=False))
    y = draw(st.floats(-50, 750, allow_nan=False))
    w = draw(st.floats(5, 300, allow_nan=False))
    h = draw(st.floats(5, 200, allow_nan=False))
    if kind == "zero_width":
        w = 0.0
    elif kind == "zero_height":
        h = 0.0
    elif kind == "off_image":
        x, y = x - 5000.0, y + 5000.0
    elif kind == "huge":
        w, h = w * 1e3, h * 1e3
    return [x, y, x + w, y + h]


@st.composite
def streams(draw: st.DrawFn) -> list[Frame]:
    """A stream of up to 15 frames, each with up to 12 detections (a box repeated now and then)."""
    start = draw(st.sampled_from([0.0, 1.7e9]))
    frames: list[Frame] = []
    now = start
    previous: list[list[float]] = []
    for _ in range(draw(st.integers(1, 15))):
        now += draw(st.sampled_from([0.033, 0.033, 0.033, 0.1, 2.0, 120.0]))
        n = draw(st.integers(0, 12))
        drawn = [draw(boxes()) for _ in range(n)]
        if previous and n and draw(st.booleans()):  # objects that stay put, and duplicates
            drawn[0] = previous[0]
            drawn.append(drawn[0])
        scores = [draw(st.sampled_from([0.0, 1.0, 0.05, 0.3, 0.55, 0.9])) for _ in drawn]
        classes = [draw(st.sampled_from([2, 2, 2, 7, 5])) for _ in drawn]
        motion = None
        if draw(st.booleans()):
            angle = draw(st.floats(-0.05, 0.05))
            scale = draw(st.floats(0.9, 1.1))
            tx, ty = draw(st.floats(-40, 40)), draw(st.floats(-40, 40))
            c, s = scale * np.cos(angle), scale * np.sin(angle)
            motion = np.array([[c, -s, tx], [s, c, ty]])
        frames.append((now, Detections(np.array(drawn).reshape(-1, 4), scores, classes), motion))
        previous = drawn
    return frames


def _run(t: tracker.Tracker, stream: list[Frame]) -> list[Tracks]:
    return [t.update(dets, now, camera_motion=motion) for now, dets, motion in stream]


def _canonical(run: list[Tracks]) -> list[list[int]]:
    """Each frame's track IDs renamed 0, 1, ... in the order they first appear in the run."""
    names: dict[int, int] = {}
    return [[names.setdefault(i, len(names)) for i in tracks.ids.tolist()] for tracks in run]


def _same(a: list[Tracks], b: list[Tracks]) -> None:
    assert _canonical(a) == _canonical(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.xyxy, y.xyxy)
        np.testing.assert_array_equal(x.det_index, y.det_index)
        np.testing.assert_array_equal(x.class_ids, y.class_ids)
        np.testing.assert_array_equal(x.state, y.state)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.filterwarnings("error::RuntimeWarning")  # an overflow or an invalid value is a defect
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams())
def test_every_backend_keeps_the_contract_on_random_streams(name: str, stream: list[Frame]) -> None:
    copies = [(d.xyxy.copy(), d.scores.copy(), d.class_ids.copy()) for _, d, _ in stream]
    t = tracker.create(name)
    first = _run(t, stream)
    for (_, dets, _), tracks in zip(stream, first, strict=True):
        assert len(set(tracks.ids.tolist())) == len(tracks)
        assert np.isfinite(tracks.xyxy).all() and np.isfinite(tracks.scores).all() and np.isfinite(tracks.age).all()
        assert ((tracks.det_index >= 0) & (tracks.det_index < len(dets))).all()
        assert len(set(tracks.det_index.tolist())) == len(tracks)
        np.testing.assert_array_equal(tracks.scores, dets.scores[tracks.det_index])
    assert np.isfinite(t.tracks.xyxy).all()
    for (_, dets, _), (xyxy, scores, class_ids) in zip(stream, copies, strict=True):
        np.testing.assert_array_equal(dets.xyxy, xyxy)
        np.testing.assert_array_equal(dets.scores, scores)
        np.testing.assert_array_equal(dets.class_ids, class_ids)
    _same(first, _run(tracker.create(name), stream))  # deterministic
    t.reset()
    after_reset = _run(t, stream)
    _same(first, after_reset)  # a new instance's output, up to the IDs
    before = {i for tracks in first for i in tracks.ids.tolist()}
    assert not before & {i for tracks in after_reset for i in tracks.ids.tolist()}  # never reused
