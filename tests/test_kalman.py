"""The batched Kalman motion model against filterpy's KalmanFilter on a real KITTI sequence.

Each filter test runs three ways: NumPy's path (as without ``numba``), the compiled kernels'
plain Python source (:mod:`tracker.motion.compiled`, run by the interpreter) and the kernels
compiled by Numba (skipped without the ``fast`` extra).
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter

import tracker
from detectors.files import FileDetections
from tracker.boxes import xyxy_to_rows
from tracker.formats import read_kitti_labels
from tracker.motion import KalmanConfig, KalmanMotion, MotionState, compiled

KITTI_TRAINING = Path(__file__).resolve().parents[2] / "shared" / "data" / "kitti_tracking" / "training"
KITTI = KITTI_TRAINING / "label_02"
NUMBA_INSTALL = "the compiled kernels need numba: pip install -e '.[fast]'"
VEHICLES = {"Car", "Van", "Truck"}
DT = 0.1  # KITTI tracking is captured at 10 Hz


def kitti_vehicle_boxes(sequence: str) -> dict[int, dict[int, np.ndarray]]:
    """{frame: {track_id: xyxy}} for the vehicle rows of a KITTI label file."""
    labels = read_kitti_labels(KITTI / f"{sequence}.txt")
    frames: dict[int, dict[int, np.ndarray]] = {}
    for row in np.flatnonzero(np.isin(labels.types, list(VEHICLES))):
        frames.setdefault(int(labels.frames[row]), {})[int(labels.track_ids[row])] = labels.xyxy[row]
    return frames


def height(z: np.ndarray, representation: str) -> float:
    return float(z[3]) if representation == "cxcyah" else float(np.sqrt(max(z[2], 0.0) / z[3]))


def filterpy_filter(model: KalmanMotion, box: np.ndarray, dim: int) -> KalmanFilter:
    z = xyxy_to_rows(box[None], model.config.representation)[:, 0]
    kf = KalmanFilter(dim_x=dim, dim_z=4)
    kf.F = model.transition(DT)[:dim, :dim]
    kf.H = np.eye(4, dim)
    kf.P = model.initial_covariance(height(z, model.config.representation))[:dim, :dim]
    kf.x[:4, 0] = z
    return kf


@pytest.fixture(params=["numpy", "python", "compiled"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which implementation the KalmanMotion built in the test uses."""
    if request.param == "numpy":
        monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    elif request.param == "python":
        plain = compiled.Kernels(compiled.predict, compiled.correct, compiled.boxes)
        monkeypatch.setattr(compiled, "load", lambda: plain)
    else:
        pytest.importorskip("numba", reason=NUMBA_INSTALL)
    return str(request.param)


SORT = KalmanConfig()
SORT_NOISY = KalmanConfig(measurement_std=(4.0, 4.0, 40.0, 0.1))
# ByteTrack's model: (cx, cy, a, h) with noise proportional to the box height.
BYTETRACK = KalmanConfig(
    representation="cxcyah",
    measurement_std=(0.0, 0.0, 0.1, 0.0),
    measurement_std_per_height=(0.05, 0.05, 0.0, 0.05),
    process_std=(0.0, 0.0, 0.05, 0.0),
    process_std_per_height=(0.27, 0.27, 0.0, 0.27),
    process_velocity_std=(0.0, 0.0, 1e-4, 0.0),
    process_velocity_std_per_height=(1.0, 1.0, 0.0, 1.0),
    initial_std=(0.0, 0.0, 0.01, 0.0),
    initial_std_per_height=(0.1, 0.1, 0.0, 0.1),
    initial_velocity_std=(0.0, 0.0, 1e-4, 0.0),
    initial_velocity_std_per_height=(1.9, 1.9, 0.0, 1.9),
)


@pytest.mark.parametrize(("config", "dim"), [(SORT, 7), (SORT_NOISY, 7), (BYTETRACK, 8)])
def test_batched_kalman_matches_filterpy_on_kitti_0000(config, dim, path):
    """Every track of KITTI 0000, predicted every frame and updated when labelled, as filterpy does it.

    SORT's 7-state filter is the 8-state one whose ratio velocity has no noise; with
    height-relative noise, filterpy gets Q and R for the track's current height.
    """
    model = KalmanMotion(config)
    assert (model._kernels is None) == (path == "numpy")
    rep = config.representation
    frames = kitti_vehicle_boxes("0000")
    ids: list[int] = []
    state = MotionState()
    reference: dict[int, KalmanFilter] = {}
    checked = 0
    for frame in range(max(frames) + 1):
        boxes = frames.get(frame, {})
        if ids:
            state = model.predict(state, DT)
            for kf in reference.values():
                kf.Q = model.process_noise(DT, height(kf.x[:4, 0], rep))[:dim, :dim]
                kf.predict()
        seen = [i for i, track_id in enumerate(ids) if track_id in boxes]
        if seen:
            rows = np.array(seen)
            observed = np.stack([boxes[ids[i]] for i in seen])
            state.put(rows, model.update(state.take(rows), observed))
            for i in seen:
                kf = reference[ids[i]]
                kf.R = model.measurement_noise(height(kf.x[:4, 0], rep))
                kf.update(xyxy_to_rows(boxes[ids[i]][None], model.config.representation)[:, 0])
        new = [track_id for track_id in boxes if track_id not in reference]
        if new:
            state = state.concat(model.initiate(np.stack([boxes[t] for t in new])))
            ids.extend(new)
            reference.update({t: filterpy_filter(model, boxes[t], dim) for t in new})
        covariance = model.covariance(state)
        for i, track_id in enumerate(ids):
            kf = reference[track_id]
            np.testing.assert_allclose(model.mean(state)[i, :dim], kf.x[:, 0], rtol=1e-7, atol=1e-6)
            np.testing.assert_allclose(covariance[i, :dim, :dim], kf.P, rtol=1e-7, atol=1e-6)
            checked += 1
    assert len(ids) >= 8 and checked > 500


def test_transition_and_noise_scale_with_dt(path):
    model = KalmanMotion()
    state = model.initiate(np.array([[100.0, 100.0, 140.0, 120.0]]))
    model.mean(state)[0, 4] = 50.0  # px/s to the right
    moved = model.predict(state, 0.5)
    np.testing.assert_allclose(model.mean(moved)[0, 0], 120.0 + 25.0)
    np.testing.assert_allclose(model.process_noise(0.2), 2 * model.process_noise(0.1))
    two_steps = model.predict(model.predict(state, 0.25), 0.25)
    np.testing.assert_allclose(model.mean(two_steps), model.mean(moved))


def test_warp_moves_boxes_with_the_camera(path):
    model = KalmanMotion()
    state = model.initiate(np.array([[100.0, 100.0, 140.0, 120.0]]))
    shift = np.array([[1.0, 0.0, -30.0], [0.0, 1.0, 5.0]])
    np.testing.assert_allclose(model.boxes(model.warp(state, shift)), [[70.0, 105.0, 110.0, 125.0]])
    zoom = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    np.testing.assert_allclose(model.boxes(model.warp(state, zoom)), [[200.0, 200.0, 280.0, 240.0]])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        model.warp(state, np.eye(3))


@pytest.mark.parametrize("config", [KalmanConfig(), KalmanConfig(representation="cxcyah")])
def test_a_model_keeps_no_scratch_state_between_calls(config, path):
    """Stateless as the seam promises: no call writes into the model, so one may serve trackers in several threads."""
    model = KalmanMotion(config)
    before = {name: value.copy() for name, value in vars(model).items() if isinstance(value, np.ndarray)}
    state = model.initiate(np.array([[100.0, 100.0, 140.0, 120.0], [10.0, 20.0, 30.0, 60.0]]))
    state = model.warp(state, np.array([[1.01, 0.02, -3.0], [-0.02, 1.01, 2.0]]))
    state = model.predict(state, 0.1)
    model.update(state, np.array([[101.0, 99.0, 141.0, 121.0], [12.0, 20.0, 31.0, 61.0]]))
    after = {name: value for name, value in vars(model).items() if isinstance(value, np.ndarray)}
    assert after.keys() == before.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(after[name], value, err_msg=name)


def test_boxes_are_degenerate_not_nan_when_a_prediction_overshoots(path):
    """A size or ratio predicted below zero counts as 0 (a box of no width at the centre), on every path."""
    for representation in ("cxcysr", "cxcyah"):
        model = KalmanMotion(KalmanConfig(representation=representation))
        state = model.initiate(np.array([[100.0, 100.0, 140.0, 120.0]]))
        model.mean(state)[0, 4:8] = (0.0, 0.0, -1e6, -1e6)  # shrinking fast
        box = model.boxes(model.predict(state, 1.0))
        assert np.isfinite(box).all(), representation
        np.testing.assert_allclose(box, [[120.0, 110.0, 120.0, 110.0]], err_msg=representation)


@pytest.mark.parametrize("name", ["default", "sort"])
def test_the_compiled_filter_gives_the_same_tracks(name, monkeypatch):
    """Numba's kernels and NumPy's path track KITTI 0011's RRC detections alike: same IDs, same boxes."""
    pytest.importorskip("numba", reason=NUMBA_INSTALL)
    detections = FileDetections.from_kitti_csv(KITTI_TRAINING / "det_02_rrc" / "0011.txt")
    stream = [(frame / 10.0, detections[frame]) for frame in range(200)]

    def run() -> list[tracker.Tracks]:
        trk = tracker.create(name, output_box="filtered")
        return [trk.update(frame_detections, timestamp) for timestamp, frame_detections in stream]

    fast = run()
    monkeypatch.setitem(sys.modules, "numba", None)
    slow = run()
    assert sum(len(tracks) for tracks in fast) > 1000
    for frame, (a, b) in enumerate(zip(fast, slow, strict=True)):
        np.testing.assert_array_equal(a.ids, b.ids, err_msg=f"frame {frame}")
        np.testing.assert_array_equal(a.det_index, b.det_index, err_msg=f"frame {frame}")
        np.testing.assert_allclose(a.xyxy, b.xyxy, rtol=0, atol=1e-3, err_msg=f"frame {frame}")


def test_numba_is_imported_by_the_first_filter_not_by_import_tracker():
    code = "import sys, tracker; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_correction_needs_one_box_per_track(path):
    """Too many or too few boxes: a ValueError on every path, never a broadcast or a read past the boxes."""
    model = KalmanMotion()
    state = model.initiate(np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 20.0, 25.0]]))
    for boxes in (3, 1):
        with pytest.raises(ValueError, match=f"one box per track: 2 tracks, {boxes} boxes"):
            model.update(state, np.zeros((boxes, 4)))
