"""The LSTM motion model over long coasts and with hostile inputs, and its weights files checked when loaded.

Issue 13, defects 4 (boxes blew up over long coasts) and 5 (weights files not validated).
These tests need NumPy only: no torch.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import tracker
from tracker import Detections
from tracker.motion.lstm import (
    DEFAULT_WEIGHTS,
    FORECAST_LIMIT,
    MAX_WINDOW,
    LstmMotion,
    LstmMotionConfig,
    LstmWeights,
    LstmWeightsError,
    LstmWeightsNotFoundError,
    to_cxcywh,
)

SPEED = 50.0  # px/s, to the right
RATE = 10.0  # Hz


def car(time_s: float) -> list[float]:
    """A 50 x 40 px car moving right at SPEED."""
    left = 100.0 + SPEED * time_s
    return [left, 100.0, left + 50.0, 140.0]


def seen_for_two_seconds(config: dict | None = None) -> tracker.Tracker:
    """An ``lstm`` tracker that saw the car for 2 s at 10 Hz (last observation at 1.9 s)."""
    t = tracker.create("lstm", {"max_age_s": 1e6, **(config or {})})
    for k in range(20):
        t.update(Detections(np.array([car(k / RATE)]), [0.9], [2]), k / RATE)
    return t


@pytest.mark.parametrize("gap_s", [10.0, 100.0, 1e5])
def test_after_a_long_coast_the_box_is_the_one_forecast_at_the_horizon(gap_s: float) -> None:
    reference = seen_for_two_seconds()
    reference.update(Detections.empty(), 1.9 + 1.0)  # exactly max_horizon_s (1 s) after the last observation
    expected = reference.tracks.xyxy
    t = seen_for_two_seconds()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning (overflow) either
        t.update(Detections.empty(), 1.9 + gap_s)
        coasted = t.tracks
    assert len(coasted) == 1 and np.isfinite(coasted.xyxy).all()
    np.testing.assert_allclose(coasted.xyxy, expected, rtol=1e-5)
    centre, size = to_cxcywh(coasted.xyxy[0]), to_cxcywh(np.array(car(1.9)))
    assert abs(centre[0] - (size[0] + SPEED * 1.0)) < 25.0 and abs(centre[1] - size[1]) < 10.0  # 1 s of motion
    assert np.all(np.abs(np.log(centre[2:] / size[2:])) < np.log(1.5))  # about the size it was
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = t.update(Detections(coasted.xyxy.copy(), [0.9], [2]), 1.9 + gap_s + 0.1)
    assert back.ids.tolist() == coasted.ids.tolist(), "found again where it was held"


@pytest.mark.parametrize("gap_s", [10.0, 60.0, 100.0, 1e6])
def test_the_motion_model_alone_stays_finite_after_any_gap(gap_s: float) -> None:
    model = LstmMotion()
    state = model.initiate(np.array([car(0.0)]))
    for k in range(1, 12):
        state = model.update(model.predict(state, 1 / RATE), np.array([car(k / RATE)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        held = model.boxes(model.predict(state, gap_s))
        at_horizon = model.boxes(model.predict(state, model.config.max_horizon_s))
    np.testing.assert_array_equal(held, at_horizon)


def test_a_near_zero_time_between_observations_keeps_the_forecast_finite() -> None:
    model = LstmMotion()
    state = model.initiate(np.array([car(0.0)]))
    state = model.update(model.predict(state, 1e-300), np.array([car(0.1)]))  # a rate of 1e301 box sizes/s
    state = model.update(model.predict(state, 0.1), np.array([car(0.2)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        box = model.boxes(model.predict(state, 0.1))
    assert np.isfinite(box).all()


def test_any_weights_move_and_scale_a_box_by_at_most_the_forecast_limit() -> None:
    shipped = LstmWeights.load(DEFAULT_WEIGHTS)
    weight, bias = shipped.head[-1]
    wild = dataclasses.replace(shipped, head=(*shipped.head[:-1], (weight, bias + np.float32(1e30))))
    model = LstmMotion(weights=wild)
    state = model.initiate(np.array([car(0.0)]))
    state = model.update(model.predict(state, 0.1), np.array([car(0.1)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        box = to_cxcywh(model.boxes(model.predict(state, 0.5))[0])
    anchor = to_cxcywh(np.array(car(0.1)))
    np.testing.assert_allclose(box[:2], anchor[:2] + FORECAST_LIMIT * anchor[2:])
    np.testing.assert_allclose(box[2:], anchor[2:] * FORECAST_LIMIT)


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_max_horizon_must_be_a_positive_number_of_seconds(value: float) -> None:
    with pytest.raises(ValueError, match="max_horizon_s must be a finite number > 0 seconds"):
        LstmMotionConfig(max_horizon_s=value)
    with pytest.raises(ValueError, match=r"max_horizon_s'? must be a (finite )?number"):
        tracker.create("lstm", {"lstm": {"max_horizon_s": value}})


# Weights files ----------------------------------------------------------------------------------


def _shipped_arrays() -> dict[str, np.ndarray]:
    with np.load(DEFAULT_WEIGHTS, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _npz(folder: Path, change) -> Path:
    arrays = _shipped_arrays()
    change(arrays)
    path = folder / "weights.npz"
    np.savez(path, **arrays)
    return path


def _bytes(folder: Path, data: bytes, name: str = "weights.npz") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _npy(folder: Path) -> Path:
    path = folder / "weights.npz"
    with path.open("wb") as handle:
        np.save(handle, np.zeros(4))
    return path


def _pop(name: str):
    return lambda a: a.pop(name)


def _set(name: str, value):
    return lambda a: a.__setitem__(name, np.asarray(value))


def _edit(name: str, edit):
    return lambda a: a.__setitem__(name, edit(a[name].copy()))


def _nan_at_first(array: np.ndarray) -> np.ndarray:
    array.flat[0] = np.nan
    return array


BAD_FILES = [
    pytest.param(lambda d: _bytes(d, b""), r"empty file \(0 bytes\), not an \.npz archive", id="zero-bytes"),
    pytest.param(
        lambda d: _bytes(d, Path(DEFAULT_WEIGHTS).read_bytes()[:5000]), r"not an \.npz archive", id="truncated"
    ),
    pytest.param(lambda d: _bytes(d, b"\x00" * 64), r"not an \.npz archive", id="garbage"),
    pytest.param(_npy, r"a single \.npy array, not the \.npz archive", id="npy"),
    pytest.param(lambda d: _npz(d, _pop("head_layers")), r"missing array 'head_layers'", id="no-head_layers"),
    pytest.param(lambda d: _npz(d, _pop("head_1_weight")), r"missing array 'head_1_weight'", id="no-head-layer"),
    pytest.param(lambda d: _npz(d, _pop("format")), r"missing array 'format'", id="no-format"),
    pytest.param(lambda d: _npz(d, _set("format", 2)), r"format 2 is not the supported 1", id="format"),
    pytest.param(
        lambda d: _npz(d, _edit("weight_ih", lambda w: w[:, :-1])),
        r"'weight_ih' must have shape \(128, 10\) \(10 features, hidden 32\), got \(128, 9\)",
        id="weight_ih-shape",
    ),
    pytest.param(
        lambda d: _npz(d, _edit("weight_hh", lambda w: w[:, :-1])),
        r"'weight_hh' must have shape \(4H, H\), got \(128, 31\)",
        id="weight_hh-shape",
    ),
    pytest.param(
        lambda d: _npz(d, _edit("head_0_weight", lambda w: w[:, :-1])),
        r"head layer 0 must map 33 inputs to its outputs: weight \(64, 32\)",
        id="head-inputs",
    ),
    pytest.param(
        lambda d: _npz(d, _edit("head_1_bias", lambda b: np.append(b, 0))),
        r"head layer 1 must map 64 inputs to 4 outputs: weight \(4, 64\), bias \(5,\)",
        id="head-outputs",
    ),
    pytest.param(
        lambda d: _npz(d, _edit("target_std", lambda s: s[:3])), r"'target_std' must have shape \(4,\)", id="target"
    ),
    pytest.param(
        lambda d: _npz(d, _edit("weight_hh", _nan_at_first)),
        r"'weight_hh' holds NaN or infinite values",
        id="nan-weights",
    ),
    pytest.param(
        lambda d: _npz(d, _edit("head_0_bias", lambda b: b.astype(np.float64) * 1e300)),
        r"'head_0_bias' holds NaN or infinite values \(in float32\)",
        id="beyond-float32",
    ),
    pytest.param(
        lambda d: _npz(d, _edit("feature_std", lambda s: np.where(np.arange(len(s)) == 3, 0, s))),
        r"'feature_std' must be > 0 everywhere",
        id="feature_std-zero",
    ),
    pytest.param(lambda d: _npz(d, _set("horizon_scale", -0.2)), r"'horizon_scale' must be > 0", id="horizon"),
    pytest.param(
        lambda d: _npz(d, _set("window", 10**9)),
        rf"window must be 2\.\.{MAX_WINDOW} observations, got 1000000000",
        id="w",
    ),
    pytest.param(lambda d: _npz(d, _set("window", 1)), rf"window must be 2\.\.{MAX_WINDOW} observations", id="w1"),
    pytest.param(lambda d: _npz(d, _set("window", 2.5)), r"'window' must be a single whole number", id="w-frac"),
    pytest.param(lambda d: _npz(d, _set("window", "ten")), r"'window' must be a single whole number", id="w-text"),
    pytest.param(lambda d: _npz(d, _set("head_layers", 0)), r"head_layers must be >= 1, got 0", id="no-layers"),
    pytest.param(
        lambda d: _npz(d, _set("bias", ["a"] * 128)), r"'bias' must hold real numbers, got dtype <U1", id="text"
    ),
    pytest.param(lambda d: _npz(d, _set("metadata", "{not json")), r"'metadata' is not JSON", id="metadata"),
    pytest.param(lambda d: _npz(d, _set("metadata", "[1, 2]")), r"'metadata' must be a JSON object", id="meta-list"),
]


@pytest.mark.parametrize(("make", "rule"), BAD_FILES)
def test_a_bad_weights_file_is_one_error_naming_file_and_rule(tmp_path: Path, make, rule: str) -> None:
    path = make(tmp_path)
    with pytest.raises(LstmWeightsError, match=rule) as caught:
        tracker.create("lstm", {"lstm": {"weights": str(path)}})
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    assert isinstance(caught.value, ValueError) and caught.value.path == path


def test_a_missing_weights_file_is_also_a_file_not_found_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.npz"
    with pytest.raises(LstmWeightsNotFoundError, match=f"^{re.escape(str(path))}: LSTM motion weights not found$"):
        tracker.create("lstm", {"lstm": {"weights": str(path)}})
    with pytest.raises(FileNotFoundError):
        LstmWeights.load(path)
    with pytest.raises(ValueError):
        LstmWeights.load(path)


def test_the_shipped_weights_pass_every_rule_and_save_load_round_trips(tmp_path: Path) -> None:
    shipped = LstmWeights.load(DEFAULT_WEIGHTS)
    shipped.save(tmp_path / "copy.npz")
    again = LstmWeights.load(tmp_path / "copy.npz")
    assert again.window == shipped.window == 10 and again.metadata == shipped.metadata
    for (w1, b1), (w2, b2) in zip(again.head, shipped.head, strict=True):
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(again.weight_ih, shipped.weight_ih)


@pytest.mark.needs_yolo
def test_the_cli_rejects_bad_weights_in_one_line_before_any_output(
    tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    from tracker.app.cli import main

    weights = _npz(tmp_path, _edit("feature_std", lambda s: s * 0))
    config = tmp_path / "lstm.yaml"
    config.write_text(f"lstm:\n  weights: {weights}\n")
    out = tmp_path / "out"
    status = main(
        ["track", str(videos_dir / "test_small2.mp4"), "--tracker", "lstm", "--config", str(config)]
        + ["--out", str(out)]
    )
    errors = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and not out.exists()
    assert errors == [f"vtrack track: error: {weights}: 'feature_std' must be > 0 everywhere, got {[0.0] * 10}"]
