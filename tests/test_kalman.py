"""The batched Kalman motion model against filterpy's KalmanFilter on a real KITTI sequence."""

from pathlib import Path

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter

from tracker.boxes import xyxy_to_cxcysr
from tracker.motion import KalmanConfig, KalmanMotion, MotionState

KITTI = Path(__file__).resolve().parents[2] / "shared" / "data" / "kitti_tracking" / "training" / "label_02"
VEHICLES = {"Car", "Van", "Truck"}
DT = 0.1  # KITTI tracking is captured at 10 Hz


def kitti_vehicle_boxes(sequence: str) -> dict[int, dict[int, np.ndarray]]:
    """{frame: {track_id: xyxy}} for the vehicle rows of a KITTI label file."""
    frames: dict[int, dict[int, np.ndarray]] = {}
    for line in (KITTI / f"{sequence}.txt").read_text().splitlines():
        cols = line.split()
        if cols[2] in VEHICLES:
            frames.setdefault(int(cols[0]), {})[int(cols[1])] = np.array(cols[6:10], dtype=np.float64)
    return frames


def filterpy_filter(model: KalmanMotion, box: np.ndarray) -> KalmanFilter:
    kf = KalmanFilter(dim_x=7, dim_z=4)
    kf.F = model.transition(DT)
    kf.Q = model.process_noise(DT)
    kf.H = np.eye(4, 7)
    kf.R = model.measurement_noise.copy()
    kf.P = model.initial_covariance.copy()
    kf.x[:4, 0] = xyxy_to_cxcysr(box[None])[0]
    return kf


@pytest.mark.parametrize("config", [KalmanConfig(), KalmanConfig(measurement_std=(4.0, 4.0, 40.0, 0.1))])
def test_batched_kalman_matches_filterpy_on_kitti_0000(config):
    """Every track of KITTI 0000, predicted every frame and updated when labelled, as filterpy does it."""
    model = KalmanMotion(config)
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
                kf.predict()
        seen = [i for i, track_id in enumerate(ids) if track_id in boxes]
        if seen:
            rows = np.array(seen)
            observed = np.stack([boxes[ids[i]] for i in seen])
            state.put(rows, model.update(state.take(rows), observed))
            for i in seen:
                reference[ids[i]].update(xyxy_to_cxcysr(boxes[ids[i]][None])[0])
        new = [track_id for track_id in boxes if track_id not in reference]
        if new:
            state = state.concat(model.initiate(np.stack([boxes[t] for t in new])))
            ids.extend(new)
            reference.update({t: filterpy_filter(model, boxes[t]) for t in new})
        covariance = model.covariance(state)
        for i, track_id in enumerate(ids):
            np.testing.assert_allclose(state["mean"][i], reference[track_id].x[:, 0], rtol=1e-7, atol=1e-6)
            np.testing.assert_allclose(covariance[i], reference[track_id].P, rtol=1e-7, atol=1e-6)
            checked += 1
    assert len(ids) >= 8 and checked > 500


def test_transition_and_noise_scale_with_dt():
    model = KalmanMotion()
    state = model.initiate(np.array([[100.0, 100.0, 140.0, 120.0]]))
    state.arrays["mean"][0, 4] = 50.0  # px/s to the right
    moved = model.predict(state, 0.5)
    np.testing.assert_allclose(moved["mean"][0, 0], 120.0 + 25.0)
    np.testing.assert_allclose(model.process_noise(0.2), 2 * model.process_noise(0.1))
    two_steps = model.predict(model.predict(state, 0.25), 0.25)
    np.testing.assert_allclose(two_steps["mean"], moved["mean"])


def test_warp_moves_boxes_with_the_camera():
    model = KalmanMotion()
    state = model.initiate(np.array([[100.0, 100.0, 140.0, 120.0]]))
    shift = np.array([[1.0, 0.0, -30.0], [0.0, 1.0, 5.0]])
    np.testing.assert_allclose(model.boxes(model.warp(state, shift)), [[70.0, 105.0, 110.0, 125.0]])
    zoom = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    np.testing.assert_allclose(model.boxes(model.warp(state, zoom)), [[200.0, 200.0, 280.0, 240.0]])
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        model.warp(state, np.eye(3))
