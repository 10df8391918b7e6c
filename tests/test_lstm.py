"""The LSTM motion model: NumPy inference against torch, batching, gaps, camera motion, training, tracking."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import tracker
from benchmarks.motion.evaluate import Observations, detection_boxes, detection_observations, evaluate_sequence
from benchmarks.motion.train import load_config, load_kitti, load_trajectories, main
from tracker import Detections
from tracker.app.cli import main as vtrack
from tracker.config import ConfigError
from tracker.formats import read_mot_detections
from tracker.motion.kalman import KalmanMotion
from tracker.motion.lstm import (
    DEFAULT_WEIGHTS,
    ConstantVelocityMotion,
    LstmMotion,
    LstmMotionConfig,
    LstmWeights,
    WindowMotion,
    lstm_forward,
    window_features,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
KITTI_LABELS = SHARED / "kitti_tracking" / "training" / "label_02"


@pytest.fixture(scope="module")
def model() -> LstmMotion:
    return LstmMotion()


@pytest.fixture(scope="module")
def lstm_backend() -> str:
    if "lstm" not in tracker.available():
        tracker.registry.register("lstm", "tracker.backends.lstm")
    return "lstm"


def box(cx: float, cy: float, w: float = 40.0, h: float = 30.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def kitti_states(model: LstmMotion, n_frames: int):
    """Tracks of KITTI 0000 (a sequence the shipped model never trained on) replayed at 10 Hz."""
    tracks = load_kitti(KITTI_LABELS, "0000", ("Car", "Van", "Truck"), 10.0)[:6]
    state, dt = model.initiate(np.stack([t.boxes[0] for t in tracks])), 0.1
    for k in range(1, n_frames):
        state = model.predict(state, dt)
        seen = np.array([i for i, t in enumerate(tracks) if len(t.boxes) > k and i % 3 != k % 3])
        state.put(seen, model.update(state.take(seen), np.stack([tracks[i].boxes[k] for i in seen])))
    return state


@pytest.mark.needs_torch
def test_numpy_inference_matches_torch():
    import torch

    from benchmarks.motion.train import _build_network, _export, _left_aligned, _network_forward

    config = load_config(None, {"window": 6, "hidden": 16, "head_hidden": 8})
    torch.manual_seed(3)
    network = _build_network(config)
    rng = np.random.default_rng(1)
    n, w = 40, config.window
    norms = {
        "feature_mean": rng.normal(size=10).astype(np.float32),
        "feature_std": rng.uniform(0.5, 2, 10).astype(np.float32),
        "horizon_scale": np.float32(0.2),
        "target_std": rng.uniform(0.5, 2, 4).astype(np.float32),
    }
    weights = _export(network, norms, config, {})
    corners = rng.uniform(100, 400, (n, w, 2))
    window = np.concatenate([corners, corners + rng.uniform(20, 80, (n, w, 2))], axis=2)
    times = np.cumsum(rng.uniform(0.05, 0.2, (n, w)), axis=1)
    times -= times[:, -1:]
    valid = np.arange(w)[None, :] >= (w - rng.integers(1, w + 1, n))[:, None]
    horizon = rng.uniform(0.03, 1.0, n)
    features = window_features(window, times, valid, 1.0)
    ours = lstm_forward(weights, features, valid, horizon)
    left, length = _left_aligned(features, valid)
    t = {k: torch.as_tensor(v) for k, v in norms.items()}
    with torch.no_grad():
        theirs = _network_forward(
            network,
            t,
            torch.from_numpy(left),
            torch.from_numpy(length - 1),
            torch.from_numpy(horizon.astype(np.float32)),
        )
    assert np.abs(ours).max() > 1e-3
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-4, atol=1e-6)


def test_batched_prediction_equals_per_track(model):
    state = kitti_states(model, 14)
    assert len(np.unique(state["count"])) > 1  # tracks with different history lengths in one batch
    batched = model.boxes(model.predict(state, 0.1))
    for i in range(len(state)):
        single = model.boxes(model.predict(state.take(np.array([i])), 0.1))
        np.testing.assert_allclose(single[0], batched[i], rtol=1e-5, atol=1e-3)


def test_gap_prediction_uses_the_accumulated_time(model):
    state = kitti_states(model, 10)
    stepwise = model.predict(model.predict(model.predict(state, 0.1), 0.1), 0.1)
    np.testing.assert_allclose(model.boxes(stepwise), model.boxes(model.predict(state, 0.3)), atol=1e-6)
    np.testing.assert_allclose(stepwise["window"], state["window"])  # predictions never enter the history
    one = model.boxes(model.predict(state, 0.1))
    assert np.abs(model.boxes(stepwise) - one).max() > 0.5  # and the horizon matters


def test_fallback_rule():
    model = LstmMotion(LstmMotionConfig(min_observations=4))
    cv = ConstantVelocityMotion(model.window)
    state = model.initiate(np.array([box(100, 100), box(300, 100)]))
    np.testing.assert_allclose(model.boxes(model.predict(state, 0.1)), model.boxes(state))  # one observation: stays
    state = model.update(model.predict(state, 0.1), np.array([box(104, 101), box(310, 100)]))
    expected = np.array([box(108, 102), box(320, 100)])
    np.testing.assert_allclose(model.boxes(model.predict(state, 0.1)), expected, atol=1e-9)
    np.testing.assert_allclose(cv.boxes(cv.predict(state, 0.1)), expected, atol=1e-9)
    with pytest.raises(ValueError, match="min_observations must be >= 2"):
        LstmMotionConfig(min_observations=1)


def test_warp_moves_the_history(model):
    """Inputs are box-relative, so the forecast of a warped state is the warped forecast."""
    state = kitti_states(model, 12)
    forecast = model.boxes(model.predict(state, 0.2))
    shift = np.array([[1.0, 0.0, 35.0], [0.0, 1.0, -12.0]])
    moved = model.boxes(model.predict(model.warp(state, shift), 0.2))
    np.testing.assert_allclose(moved, forecast + [35.0, -12.0, 35.0, -12.0], atol=1e-3)
    zoom = np.array([[1.5, 0.0, 0.0], [0.0, 1.5, 0.0]])
    np.testing.assert_allclose(model.boxes(model.predict(model.warp(state, zoom), 0.2)), forecast * 1.5, rtol=1e-4)
    with pytest.raises(ValueError, match=r"affine must have shape \(2, 3\)"):
        model.warp(state, np.eye(3))


def test_shipped_weights_beat_constant_velocity_on_a_held_out_sequence(model):
    """MOT17-09 (30 Hz, static camera) was held out of the shipped model's training."""
    record = model.weights.metadata
    assert "mot17/09" in record["validation_sequences"] and "mot17/09" not in record["train_sequences"]
    tracks = load_trajectories(load_config(None, {"data_root": str(SHARED)}), (), ("09",))
    obs = detection_observations(
        tracks, detection_boxes(read_mot_detections(SHARED / "MOT17/train/MOT17-09-FRCNN/det/det.txt")), 0.5
    )
    lstm = evaluate_sequence(model, obs, max_gap=1)
    cv = evaluate_sequence(ConstantVelocityMotion(model.window), obs, max_gap=1)
    assert len(lstm["gap"]) == len(cv["gap"]) > 1000
    assert lstm["center_error"].mean() < cv["center_error"].mean()
    assert lstm["iou"].mean() > cv["iou"].mean()


@pytest.mark.needs_torch
def test_training_runs_end_to_end_deterministically_and_lowers_the_loss(tmp_path):
    (tmp_path / "train.yaml").write_text(
        json.dumps(
            {
                "data_root": str(SHARED),
                "kitti_sequences": ["0000", "0003"],
                "mot17_sequences": ["09"],
                "folds": [{"kitti": ["0003"], "mot17": []}],
                "window": 5,
                "hidden": 16,
                "head_hidden": 16,
                "samples_per_epoch": 2048,
                "validation_samples": 512,
                "epochs": 4,
                "batch_size": 128,
            }
        )
    )
    # the same training through ``python -m benchmarks.motion.train`` and through ``vtrack train-motion``
    assert main(["--config", str(tmp_path / "train.yaml"), "--out", str(tmp_path / "a")]) == 0
    assert vtrack(["train-motion", "--config", str(tmp_path / "train.yaml"), "--out", str(tmp_path / "b")]) == 0
    log = json.loads((tmp_path / "a" / "train_log.json").read_text())["epochs"]
    assert log[-1]["train_loss"] < 0.8 * log[0]["train_loss"]
    assert log[-1]["validation_loss"] < log[0]["validation_loss"]
    a, b = (LstmWeights.load(tmp_path / run / "lstm_motion.npz") for run in ("a", "b"))
    np.testing.assert_array_equal(a.weight_hh, b.weight_hh)
    np.testing.assert_array_equal(a.head[-1][0], b.head[-1][0])
    assert a.metadata["validation_sequences"] == ["kitti/0003"]
    assert "kitti/0003" not in a.metadata["train_sequences"]
    assert b.metadata["command"].startswith("vtrack train-motion --config ")


@pytest.mark.parametrize("fps", [10.0, 30.0])
def test_lstm_tracker_keeps_ids_at_any_frame_rate(lstm_backend, fps):
    """Two crossing cars, then car A hidden for 0.4 s: IDs survive at 10 and 30 Hz."""
    t = tracker.create(lstm_backend)
    speed = 100.0  # px/s
    first: dict[str, int] = {}
    for k in range(int(6 * fps)):
        time_s = k / fps
        a, b = box(100 + speed * time_s, 120), box(700 - speed * time_s, 135)
        hidden = 4.5 <= time_s < 4.9
        frame = [b] if hidden else [a, b]
        tracks = t.update(Detections(np.array(frame), [0.9] * len(frame), [2] * len(frame)), timestamp=time_s)
        by_det = dict(zip(tracks.det_index.tolist(), tracks.ids.tolist(), strict=True))
        if len(by_det) == 2:
            ids = {"a": by_det[0], "b": by_det[1]}
            first = first or ids
            assert ids == first, f"ID switch at frame {k}"
        elif hidden and first:
            assert by_det == {0: first["b"]}
    assert first and first["a"] != first["b"]


def test_backend_config(lstm_backend):
    t = tracker.create(lstm_backend, lstm={"min_observations": 3}, max_age_s=2)
    assert t.name == "lstm" and t.config.lstm.min_observations == 3 and t.config.max_age_s == 2.0
    assert t.config.lstm.weights == DEFAULT_WEIGHTS
    with pytest.raises(ConfigError, match="min_observations must be >= 2"):
        tracker.create(lstm_backend, lstm={"min_observations": 1})
    with pytest.raises(FileNotFoundError, match="LSTM motion weights not found"):
        tracker.create(lstm_backend, lstm={"weights": "/nonexistent/weights.npz"})


def test_tracking_with_lstm_never_imports_torch():
    code = (
        "import sys, numpy as np, tracker, tracker.motion; "
        "tracker.registry.register('lstm', 'tracker.backends.lstm') if 'lstm' not in tracker.available() else None; "
        "t = tracker.create('lstm'); "
        "[t.update(tracker.Detections(np.array([[10.0 + k, 10, 50 + k, 40]]), [0.9], [2]), k / 10) for k in range(5)]; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


class Stationary(WindowMotion):
    """Forecasts the newest observation (zero velocity): a wrong model with a known error."""

    def forecast(self, state):
        return state["window"][:, -1].copy()


def test_evaluation_scores_a_linear_trajectory_exactly_for_constant_velocity():
    """Two cars at constant pixel velocities: constant velocity is exact at every gap, the Kalman filter is not."""
    frames = range(30)
    truth = {(i, f): np.array(box(100 + v * f, 100 + i * 80)) for i, v in ((1, 4.0), (2, -6.0)) for f in frames}
    observed = {f: (np.array([1, 2]), np.stack([truth[(1, f)], truth[(2, f)]])) for f in frames if f % 7 != 3}
    obs = Observations(0.1, observed, truth)
    cv = evaluate_sequence(ConstantVelocityMotion(10), obs, max_gap=5)
    assert sorted(np.unique(cv["gap"]).tolist()) == [1, 2, 3, 4, 5]
    assert (cv["history"] >= 2).all() and len(cv["gap"]) > 150
    np.testing.assert_allclose(cv["center_error"], 0.0, atol=1e-9)
    np.testing.assert_allclose(cv["iou"], 1.0)
    still = evaluate_sequence(Stationary(10), obs, max_gap=5)  # off by speed x gap: the gaps are counted right
    speeds = np.where(np.arange(len(still["gap"])) % 2 == 0, 4.0, 6.0)
    np.testing.assert_allclose(still["center_error"], speeds * still["gap"])
    assert evaluate_sequence(KalmanMotion(), obs, max_gap=5)["center_error"].max() > 0.0


def test_shipped_configs_load(lstm_backend):
    tuned = tracker.create(lstm_backend, yaml.safe_load((REPO / "configs" / "lstm.yaml").read_text()))
    assert tuned.config.lstm.min_observations == 2
    training = load_config(REPO / "configs" / "train_motion.yaml")
    assert training.hidden <= 128 and training.seed == 0
    record = LstmWeights.load(DEFAULT_WEIGHTS).metadata["config"]
    assert {k: record[k] for k in ("window", "hidden", "clean_probability", "epochs")} == {
        "window": training.window,
        "hidden": training.hidden,
        "clean_probability": training.clean_probability,
        "epochs": training.epochs,
    }  # the shipped weights come from the shipped training config
