"""The :class:`tracker.Tracker` contract, checked on every backend with its defaults.

Every name in :func:`tracker.available` plus ``"default"``, and the peer backends of
:mod:`benchmarks.peers` (marked ``needs_peers``), are run on two kinds of stream:

- the public RRC detections of KITTI tracking sequence 0011 (frames 0-199, 10 Hz;
  7.7 car detections per frame on average), read with :class:`detectors.files.FileDetections`;
- small synthetic streams with known contents: objects moving at constant velocity in
  pixels per second, sampled at non-uniform time steps, with missed detections, clutter,
  low scores (for BYTE-style second passes) and runs of empty frames.

What every backend must do (the protocol's docstrings in :mod:`tracker.base` and
:mod:`tracker.types`): accept empty frames; leave the input :class:`~tracker.types.Detections`
untouched; keep instances independent (no state shared between them); give after
``reset()`` the output of a new instance (up to the track IDs, which are not reused);
report IDs unique within a frame and never given to a second track, also across
``reset()``; report a valid ``det_index`` (in range, unique) whose detection matches the
reported score and box (the detection's box itself, or, for backends that report their
motion model's estimate, a box overlapping it); count ``age`` in seconds of the given
timestamps, whatever the steps between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

import tracker
from benchmarks.peers import PEERS, register_peers
from detectors.files import FileDetections
from tracker.boxes import iou_matrix
from tracker.types import Detections, Tracks, TrackState

SHARED = Path(__file__).resolve().parents[2] / "shared"
KITTI_RRC = SHARED / "data" / "kitti_tracking" / "training" / "det_02_rrc" / "0011.txt"
KITTI_FRAMES = 200
KITTI_RATE = 10.0
#: Peer backends whose reported box is the library's motion estimate, not the matched detection's box.
ESTIMATED_BOXES = {name for name in PEERS if name.startswith("boxmot-")}
#: Least IoU between such an estimate and its matched detection (the loosest association gate of these
#: trackers is IoU 0.2, so a matched pair overlaps at least that much).
MIN_ESTIMATE_IOU = 0.2
#: Peer backends whose motion model counts frames, not seconds (boxmot's ``variable_dt`` is off by default).
FRAME_CLOCKS = {name for name in PEERS if name.startswith("boxmot-")}
#: Float tolerance for times in seconds.
TIME_TOLERANCE = 1e-9

Stream = list[tuple[float, Detections]]


def _backends(frame_clocks_fail: bool = False) -> list[object]:
    """vtrack's backends and ``default``, then the peers (``needs_peers``); optionally FRAME_CLOCKS as xfail."""
    params = [pytest.param(name) for name in sorted({*tracker.available(), "default"} - set(PEERS))]
    for name in PEERS:
        marks = [pytest.mark.needs_peers("trackers" if name.startswith("rf-") else "boxmot")]
        if frame_clocks_fail and name in FRAME_CLOCKS:
            marks.append(pytest.mark.xfail(strict=True, reason="boxmot counts time in frames (variable_dt off)"))
        params.append(pytest.param(name, marks=marks))
    return params


BACKENDS = _backends()


def _create(name: str) -> tracker.Tracker:
    if name in PEERS:
        register_peers()
    return tracker.create(name)


# Streams ----------------------------------------------------------------------------------------


def _kitti_stream() -> Stream:
    """KITTI 0011's RRC detections, frames 0-199 at 10 Hz."""
    detections = FileDetections.from_kitti_csv(KITTI_RRC)
    return [(frame / KITTI_RATE, detections[frame]) for frame in range(KITTI_FRAMES)]


def _synthetic_stream(seed: int, frames: int = 120, objects: int = 8) -> Stream:
    """Boxes moving at constant velocity (px/s), sampled at random steps of 0.02-0.3 s.

    About 85 % of the objects are detected in a frame (1 px jitter, scores 0.05-1), with up
    to two clutter boxes; frames 10-12 and 60-61 are empty.
    """
    rng = np.random.default_rng(seed)
    start = rng.uniform([50, 50], [1000, 300], size=(objects, 2))
    velocity = rng.uniform(-60, 60, size=(objects, 2))
    size = rng.uniform([30, 25], [120, 90], size=(objects, 2))
    times = np.cumsum(rng.uniform(0.02, 0.3, size=frames))
    stream: Stream = []
    for k, t in enumerate(times):
        if k in (10, 11, 12, 60, 61):
            stream.append((float(t), Detections.empty()))
            continue
        seen = rng.random(objects) < 0.85
        corner = start[seen] + velocity[seen] * t + rng.normal(0, 1, size=(int(seen.sum()), 2))
        clutter_corner = rng.uniform([0, 0], [1100, 350], size=(int(rng.integers(0, 3)), 2))
        clutter_size = rng.uniform(20, 80, size=(len(clutter_corner), 2))
        corners = np.vstack([corner, clutter_corner])
        sizes = np.vstack([size[seen], clutter_size])
        xyxy = np.hstack([corners, corners + sizes])
        order = rng.permutation(len(xyxy))
        scores = rng.uniform(0.05, 1.0, size=len(xyxy))
        stream.append((float(t), Detections(xyxy[order], scores, np.full(len(xyxy), 2))))
    return stream


@pytest.fixture(scope="module")
def kitti() -> Stream:
    return _kitti_stream()


@pytest.fixture(scope="module")
def synthetic() -> Stream:
    return _synthetic_stream(seed=7)


# Running and checking ---------------------------------------------------------------------------


def _run(instance: tracker.Tracker, stream: Stream) -> list[Tracks]:
    """Every frame's tracks; fails if ``update`` changes its input."""
    outputs = []
    for t, dets in stream:
        before = (dets.xyxy.copy(), dets.scores.copy(), dets.class_ids.copy())
        outputs.append(instance.update(dets, t))
        after = (dets.xyxy, dets.scores, dets.class_ids)
        for field, old, new in zip(("xyxy", "scores", "class_ids"), before, after, strict=True):
            assert not new.flags.writeable, f"Detections.{field} made writeable at t={t}"
            np.testing.assert_array_equal(new, old, err_msg=f"Detections.{field} changed at t={t}")
            assert new.dtype == old.dtype and new.shape == old.shape
    return outputs


def _check_frame(name: str, t: float, dets: Detections, tracks: Tracks) -> None:
    """The per-frame contract of ``tracks`` reported for ``dets``."""
    assert isinstance(tracks, Tracks)
    m = len(tracks)
    assert tracks.xyxy.shape == (m, 4) and tracks.xyxy.dtype == np.float32
    for field, dtype in (("ids", np.int64), ("det_index", np.int64), ("hits", np.int64), ("age", np.float64)):
        array = getattr(tracks, field)
        assert array.shape == (m,) and array.dtype == dtype, f"Tracks.{field}: {array.shape} {array.dtype}"
    assert len(np.unique(tracks.ids)) == m, f"duplicate IDs at t={t}: {tracks.ids}"
    assert set(tracks.state.tolist()) <= {int(s) for s in TrackState}
    assert (tracks.hits >= 1).all() and (tracks.age >= -TIME_TOLERANCE).all()
    index = tracks.det_index
    assert ((index >= -1) & (index < len(dets))).all(), f"det_index out of range at t={t}: {index}, {len(dets)} dets"
    matched = index >= 0
    assert len(np.unique(index[matched])) == int(matched.sum()), f"a detection given to two tracks at t={t}"
    if not matched.any():
        return
    rows = index[matched]
    np.testing.assert_allclose(tracks.scores[matched], dets.scores[rows], rtol=1e-6, err_msg=f"scores at t={t}")
    if name in ESTIMATED_BOXES:
        overlap = iou_matrix(tracks.xyxy[matched], dets.xyxy[rows])[np.arange(len(rows)), np.arange(len(rows))]
        assert (overlap >= MIN_ESTIMATE_IOU).all(), f"estimate far from its detection at t={t}: IoU {overlap}"
    else:
        np.testing.assert_allclose(tracks.xyxy[matched], dets.xyxy[rows], atol=1e-3, err_msg=f"boxes at t={t}")


def _check_run(name: str, stream: Stream, outputs: list[Tracks]) -> None:
    """Every frame's contract, and per ID: one birth time among the timestamps, hits never decreasing."""
    times = np.array([t for t, _ in stream])
    birth: dict[int, float] = {}
    hits: dict[int, int] = {}
    for (t, dets), tracks in zip(stream, outputs, strict=True):
        _check_frame(name, t, dets, tracks)
        for track_id, age, count in zip(tracks.ids.tolist(), tracks.age.tolist(), tracks.hits.tolist(), strict=True):
            born = t - age
            assert abs(birth.setdefault(track_id, born) - born) < 1e-6, f"ID {track_id} born twice (t={t})"
            assert np.isclose(times, born, atol=1e-6, rtol=0).any(), f"age of ID {track_id} is not in seconds"
            assert count >= hits.get(track_id, 0), f"hits of ID {track_id} decreased at t={t}"
            hits[track_id] = count


def _same(a: list[Tracks], b: list[Tracks], relabel: Callable[[int], int] = int) -> None:
    """Frame by frame equal, IDs of ``a`` mapped by ``relabel``."""
    assert len(a) == len(b)
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        assert [relabel(i) for i in x.ids.tolist()] == y.ids.tolist(), f"IDs differ in frame {k}"
        for field in ("xyxy", "scores", "class_ids", "det_index", "state", "age", "hits"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field), err_msg=f"{field} in frame {k}")


def _ids(outputs: Iterable[Tracks]) -> set[int]:
    return {i for tracks in outputs for i in tracks.ids.tolist()}


# The contract -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_real_and_synthetic_streams_keep_the_per_frame_contract(name: str, kitti: Stream, synthetic: Stream) -> None:
    for stream in (kitti, synthetic, _synthetic_stream(seed=11, objects=25)):
        outputs = _run(_create(name), stream)
        _check_run(name, stream, outputs)
        # The checks saw tracks: on the real sequence about one car per frame at least.
        assert sum(len(t) for t in outputs) >= (KITTI_FRAMES if stream is kitti else 1)


@pytest.mark.parametrize("name", BACKENDS)
def test_empty_frames(name: str, synthetic: Stream) -> None:
    instance = _create(name)
    for t in (0.0, 0.1, 0.35):
        tracks = instance.update(Detections.empty(), t)
        assert len(tracks) == 0 and tracks.xyxy.shape == (0, 4)
    # Empty frames between detections: nothing can be matched in them.
    stream = [(t + 1.0, dets) for t, dets in synthetic]
    outputs = _run(instance, stream)
    _check_run(name, stream, outputs)
    assert any(len(tracks) for tracks in outputs)
    for (_, dets), tracks in zip(stream, outputs, strict=True):
        if len(dets) == 0:
            assert (tracks.det_index == -1).all()


@pytest.mark.parametrize("name", BACKENDS)
def test_instances_are_independent(name: str, kitti: Stream, synthetic: Stream) -> None:
    alone_kitti, alone_synthetic = _run(_create(name), kitti), _run(_create(name), synthetic)
    first, second = _create(name), _create(name)
    together_kitti, together_synthetic = [], []
    for (t1, d1), (t2, d2) in zip(kitti, synthetic, strict=False):
        together_kitti.append(first.update(d1, t1))
        together_synthetic.append(second.update(d2, t2))
    _same(alone_kitti[: len(together_kitti)], together_kitti)
    _same(alone_synthetic[: len(together_synthetic)], together_synthetic)


@pytest.mark.parametrize("name", BACKENDS)
def test_reset_then_replay_equals_a_new_instance_with_new_ids(name: str, kitti: Stream, synthetic: Stream) -> None:
    instance = _create(name)
    before = _ids(_run(instance, kitti))
    instance.reset()
    replay = _run(instance, synthetic)
    fresh = _run(_create(name), synthetic)
    after = _ids(replay)
    assert before and after and not before & after, "IDs reused after reset()"
    # The same tracks under other IDs: a one-to-one relabelling, kept over the whole replay.
    mapping: dict[int, int] = {}
    for x, y in zip(replay, fresh, strict=True):
        assert len(x) == len(y)
        for old, new in zip(x.ids.tolist(), y.ids.tolist(), strict=True):
            assert mapping.setdefault(old, new) == new
    assert len(set(mapping.values())) == len(mapping)
    _same(replay, fresh, relabel=mapping.__getitem__)


SPEED = 100.0  # px/s, 2.5 box heights per second
GAP = 0.8  # s without any frame


@pytest.mark.parametrize("name", _backends(frame_clocks_fail=True))
def test_time_is_in_seconds(name: str) -> None:
    """A car moving at 100 px/s, seen at 10 Hz for 2 s, then after a 0.8 s gap without frames.

    A motion model that counts time in seconds predicts the 80 px the car moved in the gap
    and keeps its ID; one that counts frames predicts 10 px, which misses the 60 px wide box.
    A parked car beside it keeps its ID too.
    """
    instance = _create(name)
    times = [k * 0.1 for k in range(20)] + [1.9 + GAP + k * 0.1 for k in range(1, 4)]
    moving, parked = [], []
    for t in times:
        x = 100.0 + SPEED * t
        dets = Detections(np.array([[x, 100, x + 60, 140], [700, 100, 760, 140]]), np.ones(2), np.full(2, 2))
        tracks = instance.update(dets, t)
        moving.append(tracks.ids[tracks.det_index == 0].tolist())
        parked.append(tracks.ids[tracks.det_index == 1].tolist())
    for ids in (moving, parked):
        assert all(ids[-3:]) and len(_ids_of(ids)) == 1, f"one ID over the gap, got {ids}"


def _ids_of(frames: list[list[int]]) -> set[int]:
    return {i for ids in frames for i in ids}


@pytest.mark.parametrize("name", BACKENDS)
def test_timestamps_must_increase(name: str) -> None:
    instance = _create(name)
    instance.update(Detections.empty(), 5.0)
    for bad in (5.0, 4.9, float("nan"), float("inf")):
        with pytest.raises(tracker.TimestampError):
            instance.update(Detections.empty(), bad)
    instance.reset()
    assert len(instance.update(Detections.empty(), 0.0)) == 0, "reset() forgets the last timestamp"
