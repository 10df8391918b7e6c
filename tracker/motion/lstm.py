"""A learned motion model: an LSTM over each track's recent boxes predicts its next box.

The model follows the recipe of learned single-object motion predictors for MOT
(Sadeghian et al., "Tracking the Untrackable", ICCV 2017; Milan et al., "Online
Multi-Target Tracking Using Recurrent Neural Networks", AAAI 2017): an LSTM reads
the track's last observed boxes and a small head regresses the displacement of the
box. It plugs into :class:`tracker.pipeline.AssociationTracker` through the batched
:class:`~tracker.motion.base.MotionModel` seam, exactly where the Kalman filter does.

**State.** Each track keeps a window of its last ``W`` *observed* boxes (not
predictions) and their times, right-aligned (the newest observation last):

- ``window`` ``(M, W, 4)`` float64 ``xyxy`` pixels;
- ``times`` ``(M, W)`` float64 seconds relative to the newest observation (0 last,
  earlier ones negative);
- ``count`` ``(M,)`` int64 observations so far (not capped at ``W``; the window's
  valid entries are its last ``min(count, W)`` columns);
- ``since`` ``(M,)`` float64 seconds since the newest observation;
- ``box`` ``(M, 4)`` float64 the box :meth:`boxes` reports.

**Gaps.** :meth:`LstmMotion.predict` adds ``dt`` to ``since`` and forecasts the box
``since`` seconds after the newest observation in one step; predictions are never
fed back into the window. A track that misses detections for several frames is
therefore predicted over the whole accumulated horizon from real observations, the
situation the model is trained for (horizons of 1 to ``max_gap_frames`` frames).

**Normalisation: by box size, not image size.** The seam carries no image size, and
box-relative units make the inputs independent of the resolution and of where the
object is in the image. With the newest observed box ``(cx_a, cy_a, w_a, h_a)`` as
the anchor, an observed box ``j`` becomes ``((cx_j - cx_a) / w_a, (cy_j - cy_a) / h_a,
log(w_j / w_a), log(h_j / h_a))``; the time is an input in seconds, so any frame rate
works. Box-relative offsets are also the quantity IoU depends on.

**Inputs** (per valid window entry, :func:`window_features`, ``F = 10``): the four
anchor-relative coordinates above, their rates since the previous valid entry
(units per second; 0 for the first), the time gap to the previous entry (s) and the
entry's time relative to the anchor (s). **Output**: the head reads the LSTM's last
hidden state and the horizon ``tau`` (s) and returns a rate ``u``; the predicted
anchor-relative displacement is ``tau * u`` (a delta target, zero at ``tau = 0``).

**Fallback rule** (:class:`LstmMotionConfig.min_observations`): a track with one
observation keeps its box (no velocity is known); a track with at least two but
fewer than ``min_observations`` observations moves at constant velocity estimated
from its last two observations in ``(cx, cy, w, h)``; every other track uses the LSTM.

**Inference** is plain NumPy (float32), so tracking never imports torch: one
batched LSTM pass over all ``M`` tracks per :meth:`predict`. Invalid (leading)
window entries leave the recurrent state untouched, which equals starting the LSTM
at each track's first valid entry; ``tests/test_lstm.py`` checks this against
``torch.nn.LSTM`` and batched against per-track prediction. Weights come from an
``.npz`` written by :mod:`benchmarks.motion.train`.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tracker.motion.base import MotionModel, MotionState

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURE_NAMES",
    "ConstantVelocityMotion",
    "LstmMotion",
    "LstmMotionConfig",
    "LstmWeights",
    "WindowMotion",
    "constant_velocity_forecast",
    "decode_deltas",
    "lstm_forward",
    "to_cxcywh",
    "window_features",
]

#: The shipped weights (see ``weights/MODEL_CARD.md`` beside this file).
DEFAULT_WEIGHTS = str(Path(__file__).resolve().with_name("weights") / "lstm_motion.npz")

#: Names of the ``F`` per-entry input features of :func:`window_features`, in order.
FEATURE_NAMES = (
    "rel_cx",
    "rel_cy",
    "rel_log_w",
    "rel_log_h",
    "rate_cx",
    "rate_cy",
    "rate_log_w",
    "rate_log_h",
    "gap_s",
    "age_s",
)

#: Format version written into and required from the weights file.
WEIGHTS_FORMAT = 1


@dataclass(frozen=True)
class LstmMotionConfig:
    """Settings of :class:`LstmMotion` at tracking time.

    Attributes:
        weights: path of the ``.npz`` weights; the default is the shipped model.
        min_observations: tracks with fewer observations than this use the
            constant-velocity fallback (see the module doc); must be >= 2, since the
            LSTM needs at least one displacement.
        min_box_size_px: widths and heights are floored at this many pixels before
            normalising by them (a degenerate detection must not divide by zero).
    """

    weights: str = DEFAULT_WEIGHTS
    min_observations: int = 2
    min_box_size_px: float = 1.0

    def __post_init__(self) -> None:
        if self.min_observations < 2:
            raise ValueError(f"min_observations must be >= 2, got {self.min_observations}")
        if self.min_box_size_px <= 0:
            raise ValueError(f"min_box_size_px must be > 0 pixels, got {self.min_box_size_px}")


def to_cxcywh(xyxy: np.ndarray) -> np.ndarray:
    """``(..., 4)`` ``xyxy`` boxes to float64 ``(cx, cy, w, h)`` pixels (same leading shape)."""
    xyxy = np.asarray(xyxy, dtype=np.float64)
    wh = xyxy[..., 2:] - xyxy[..., :2]
    return np.concatenate([xyxy[..., :2] + wh / 2, wh], axis=-1)


def _to_xyxy(cxcywh: np.ndarray) -> np.ndarray:
    half = cxcywh[..., 2:] / 2
    return np.concatenate([cxcywh[..., :2] - half, cxcywh[..., :2] + half], axis=-1)


def window_features(window: np.ndarray, times: np.ndarray, valid: np.ndarray, min_size: float) -> np.ndarray:
    """The LSTM's input sequence for a batch of windows (see the module doc).

    Args:
        window: ``(N, W, 4)`` ``xyxy`` observed boxes in pixels, newest last.
        times: ``(N, W)`` observation times in seconds relative to the newest (last) entry.
        valid: ``(N, W)`` bool; each row's valid entries are a suffix that includes the
            last column (right-aligned windows).
        min_size: floor in pixels for widths and heights.

    Returns:
        ``(N, W, F)`` float32 features (:data:`FEATURE_NAMES`), zero at invalid entries.
    """
    cxcywh = to_cxcywh(window)
    cxcywh[..., 2:] = np.maximum(cxcywh[..., 2:], min_size)
    anchor = cxcywh[:, -1:, :]
    rel = np.concatenate(
        [(cxcywh[..., :2] - anchor[..., :2]) / anchor[..., 2:], np.log(cxcywh[..., 2:] / anchor[..., 2:])], axis=-1
    )
    gap = np.zeros_like(times)
    gap[:, 1:] = times[:, 1:] - times[:, :-1]
    has_previous = np.zeros_like(valid)
    has_previous[:, 1:] = valid[:, :-1] & valid[:, 1:]
    gap = np.where(has_previous, gap, 0.0)
    rate = np.zeros_like(rel)
    rate[:, 1:] = rel[:, 1:] - rel[:, :-1]
    usable = has_previous[..., None] & (gap[..., None] > 0)
    rate = np.divide(rate, gap[..., None], out=np.zeros_like(rate), where=usable)
    features = np.concatenate([rel, rate, gap[..., None], times[..., None]], axis=-1)
    return np.where(valid[..., None], features, 0.0).astype(np.float32)


def decode_deltas(anchor_xyxy: np.ndarray, deltas: np.ndarray, min_size: float) -> np.ndarray:
    """Boxes from anchor-relative displacements.

    Args:
        anchor_xyxy: ``(N, 4)`` anchor (newest observed) boxes, pixels.
        deltas: ``(N, 4)`` ``(dcx / w_a, dcy / h_a, log(w / w_a), log(h / h_a))``.
        min_size: floor in pixels for the anchor's width and height (as in the features).

    Returns:
        ``(N, 4)`` float64 ``xyxy`` pixels.
    """
    anchor = to_cxcywh(anchor_xyxy)
    anchor[:, 2:] = np.maximum(anchor[:, 2:], min_size)
    deltas = np.asarray(deltas, dtype=np.float64)
    cxcywh = np.concatenate([anchor[:, :2] + deltas[:, :2] * anchor[:, 2:], anchor[:, 2:] * np.exp(deltas[:, 2:])], 1)
    return _to_xyxy(cxcywh)


def constant_velocity_forecast(
    last: np.ndarray, previous: np.ndarray, gap: np.ndarray, horizon: np.ndarray
) -> np.ndarray:
    """Constant-velocity extrapolation in ``(cx, cy, w, h)`` from two observations.

    Args:
        last: ``(N, 4)`` newest observed ``xyxy`` boxes, pixels.
        previous: ``(N, 4)`` the observations before them, pixels.
        gap: ``(N,)`` seconds between ``previous`` and ``last``; rows with ``gap <= 0``
            get zero velocity (the box is kept).
        horizon: ``(N,)`` seconds after ``last`` to predict.

    Returns:
        ``(N, 4)`` float64 ``xyxy``; widths and heights are clipped at 0 (a shrinking
        box extrapolated far becomes a degenerate box at its centre, never inverted).
    """
    a, b = to_cxcywh(last), to_cxcywh(previous)
    gap = np.asarray(gap, dtype=np.float64)
    velocity = np.divide(a - b, gap[:, None], out=np.zeros_like(a), where=gap[:, None] > 0)
    cxcywh = a + velocity * np.asarray(horizon, dtype=np.float64)[:, None]
    cxcywh[:, 2:] = np.clip(cxcywh[:, 2:], 0.0, None)
    return _to_xyxy(cxcywh)


@dataclass(frozen=True)
class LstmWeights:
    """The learned parameters of the motion LSTM, as written by :mod:`benchmarks.motion.train`.

    Attributes:
        window: ``W``, observed boxes kept per track.
        weight_ih: ``(4H, F)`` float32 LSTM input weights, gate order ``i, f, g, o``
            (``torch.nn.LSTM``'s ``weight_ih_l0``).
        weight_hh: ``(4H, H)`` float32 recurrent weights (``weight_hh_l0``).
        bias: ``(4H,)`` float32, ``bias_ih_l0 + bias_hh_l0``.
        head: ``[(weight (out, in), bias (out,)), ...]`` float32 layers of the head MLP,
            ReLU between layers; its input is ``[h, tau / horizon_scale]``.
        feature_mean, feature_std: ``(F,)`` float32 input standardisation.
        horizon_scale: seconds; the horizon input is ``tau / horizon_scale``.
        target_std: ``(4,)`` float32; the head's output times this is the rate ``u``.
        metadata: training record (data, split, command, metrics) from the file.
    """

    window: int
    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias: np.ndarray
    head: tuple[tuple[np.ndarray, np.ndarray], ...]
    feature_mean: np.ndarray
    feature_std: np.ndarray
    horizon_scale: float
    target_std: np.ndarray
    metadata: dict[str, Any]

    @property
    def hidden(self) -> int:
        """``H``, the LSTM's hidden size."""
        return int(self.weight_hh.shape[1])

    @cached_property
    def cell(self) -> np.ndarray:
        """``[W_ih, bias, W_hh]^T`` ``(F + 1 + H, 4H)`` float32, pre-scaled for :func:`lstm_forward`.

        The cell multiplies it with ``[x_t, 1, h_{t-1}]``: input, bias and recurrence in one product.

        Columns of the sigmoid gates ``i, f, o`` are multiplied by -1 and those of the
        cell input ``g`` by -2, so that ``1 / (1 + exp(z))`` of the scaled pre-activation
        ``z`` is ``sigmoid(i)``, ``sigmoid(f)``, ``sigmoid(o)`` and ``(tanh(g) + 1) / 2``.
        """
        hidden = self.hidden
        scale = np.full(4 * hidden, -1.0, dtype=np.float32)
        scale[2 * hidden : 3 * hidden] = -2.0
        stacked = np.concatenate([self.weight_ih, self.bias[:, None], self.weight_hh], axis=1) * scale[:, None]
        return np.ascontiguousarray(stacked.T)

    @classmethod
    def load(cls, path: str | Path) -> LstmWeights:
        """Read an ``.npz`` weights file.

        Raises:
            FileNotFoundError: no file at ``path``.
            ValueError: the file is not a motion-LSTM weights file of format
                :data:`WEIGHTS_FORMAT`, or its shapes do not fit together.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"LSTM motion weights not found: {path}")
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        if int(arrays.get("format", -1)) != WEIGHTS_FORMAT:
            raise ValueError(f"{path}: not a motion-LSTM weights file of format {WEIGHTS_FORMAT}")
        layers = int(arrays["head_layers"])
        weights = cls(
            window=int(arrays["window"]),
            weight_ih=arrays["weight_ih"].astype(np.float32),
            weight_hh=arrays["weight_hh"].astype(np.float32),
            bias=arrays["bias"].astype(np.float32),
            head=tuple(
                (arrays[f"head_{i}_weight"].astype(np.float32), arrays[f"head_{i}_bias"].astype(np.float32))
                for i in range(layers)
            ),
            feature_mean=arrays["feature_mean"].astype(np.float32),
            feature_std=arrays["feature_std"].astype(np.float32),
            horizon_scale=float(arrays["horizon_scale"]),
            target_std=arrays["target_std"].astype(np.float32),
            metadata=json.loads(str(arrays["metadata"])),
        )
        hidden, features = weights.hidden, len(FEATURE_NAMES)
        if weights.weight_ih.shape != (4 * hidden, features) or weights.bias.shape != (4 * hidden,):
            raise ValueError(f"{path}: LSTM weights do not fit {features} features and hidden size {hidden}")
        if weights.head[0][0].shape[1] != hidden + 1 or weights.head[-1][0].shape[0] != 4:
            raise ValueError(f"{path}: head must map {hidden + 1} inputs to 4 outputs")
        return weights

    def save(self, path: str | Path) -> None:
        """Write the weights as an ``.npz`` that :meth:`load` reads (no pickles)."""
        arrays: dict[str, np.ndarray] = {
            "format": np.array(WEIGHTS_FORMAT),
            "window": np.array(self.window),
            "weight_ih": self.weight_ih,
            "weight_hh": self.weight_hh,
            "bias": self.bias,
            "head_layers": np.array(len(self.head)),
            "feature_mean": self.feature_mean,
            "feature_std": self.feature_std,
            "horizon_scale": np.array(self.horizon_scale),
            "target_std": self.target_std,
            "metadata": np.array(json.dumps(self.metadata, sort_keys=True)),
        }
        for i, (weight, bias) in enumerate(self.head):
            arrays[f"head_{i}_weight"] = weight
            arrays[f"head_{i}_bias"] = bias
        np.savez_compressed(Path(path), **arrays)


def lstm_forward(weights: LstmWeights, features: np.ndarray, valid: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """The network in NumPy: predicted anchor-relative displacements for a batch.

    Args:
        weights: the model.
        features: ``(N, W, F)`` float32 from :func:`window_features` (unstandardised).
        valid: ``(N, W)`` bool, right-aligned valid entries (each row has at least one).
        horizon: ``(N,)`` seconds after the newest observation.

    Returns:
        ``(N, 4)`` float64 displacements ``tau * u`` in the units of :func:`decode_deltas`.

    The cell is ``torch.nn.LSTM``'s, evaluated with one matrix product and one ``exp``
    per step: the gate weights are stacked and pre-scaled (:attr:`LstmWeights.cell`)
    so that ``1 / (1 + exp(z))`` gives the sigmoid gates and, with
    ``tanh(x) = 2 sigmoid(2x) - 1``, the cell input. Temporaries are per step and small
    (a few tens of kB for 30 tracks), which keeps allocation cheap.
    """
    n, steps, _ = features.shape
    hidden = weights.hidden
    w_xh = weights.cell
    inputs = features.shape[2] + 1
    x = (features - weights.feature_mean) / weights.feature_std
    xh = np.ones((n, inputs + hidden), dtype=np.float32)
    h = xh[:, inputs:]
    h[:] = 0.0
    c = np.zeros((n, hidden), dtype=np.float32)
    first = int(np.argmax(valid.any(axis=0))) if n else steps
    full = bool(valid[:, first:].all())
    with np.errstate(over="ignore"):
        for t in range(first, steps):
            xh[:, : inputs - 1] = x[:, t]
            gates = xh @ w_xh
            np.exp(gates, out=gates)
            gates += 1.0
            np.reciprocal(gates, out=gates)
            c_new = gates[:, hidden : 2 * hidden] * c + gates[:, :hidden] * (
                2.0 * gates[:, 2 * hidden : 3 * hidden] - 1.0
            )
            h_new = gates[:, 3 * hidden :] * np.tanh(c_new)
            if full:
                h[:], c = h_new, c_new
            else:
                active = valid[:, t]
                h[active], c[active] = h_new[active], c_new[active]
    tau = np.asarray(horizon, dtype=np.float32)
    out = np.concatenate([h, (tau / np.float32(weights.horizon_scale))[:, None]], axis=1)
    for i, (weight, bias_i) in enumerate(weights.head):
        out = out @ weight.T + bias_i
        if i < len(weights.head) - 1:
            np.maximum(out, 0.0, out=out)
    return (out * weights.target_std).astype(np.float64) * tau.astype(np.float64)[:, None]


class WindowMotion(MotionModel):
    """Shared bookkeeping of window-based motion models: the state arrays of the module doc.

    Subclasses implement :meth:`forecast`. Boxes are ``xyxy`` float64 pixels, times seconds.

    Args:
        window: ``W``, observed boxes kept per track (>= 2).
    """

    def __init__(self, window: int) -> None:
        if window < 2:
            raise ValueError(f"window must be >= 2 observations, got {window}")
        self.window = window

    @abstractmethod
    def forecast(self, state: MotionState) -> np.ndarray:
        """The ``(M, 4)`` ``xyxy`` box of each track ``state['since']`` seconds after its newest observation."""

    def initiate(self, xyxy: np.ndarray) -> MotionState:
        xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        k = len(xyxy)
        window = np.zeros((k, self.window, 4))
        window[:, -1] = xyxy
        return MotionState(
            {
                "window": window,
                "times": np.zeros((k, self.window)),
                "count": np.ones(k, dtype=np.int64),
                "since": np.zeros(k),
                "box": xyxy.copy(),
            }
        )

    def predict(self, state: MotionState, dt: float) -> MotionState:
        """Every track ``dt`` seconds later, forecast from its observations (see the module doc).

        Raises:
            ValueError: ``dt`` is not a positive number of seconds.
        """
        if not dt > 0:
            raise ValueError(f"dt must be > 0 seconds, got {dt}")
        if not len(state):
            return state
        moved = MotionState({**state.arrays, "since": state["since"] + dt})
        return MotionState({**moved.arrays, "box": self.forecast(moved)})

    def update(self, state: MotionState, xyxy: np.ndarray, gain_scale: np.ndarray | None = None) -> MotionState:
        """Append each track's observation ``xyxy`` (``(K, 4)`` pixels) to its window.

        The reported box becomes the observation itself (no smoothing). An observation
        ``since == 0`` seconds after the newest one (no predict in between) replaces it
        instead of being appended.

        Raises:
            NotImplementedError: ``gain_scale`` is given: a window of observations has
                no gain to scale (``supports_gain_scale`` is False).
        """
        if gain_scale is not None:
            raise NotImplementedError(f"{type(self).__name__} keeps raw observations: no gain to scale")
        xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        since = state["since"]
        append = since > 0
        old_window, old_times = state["window"], state["times"] - since[:, None]
        window, times = np.empty_like(old_window), np.empty_like(old_times)
        window[:, :-1] = np.where(append[:, None, None], old_window[:, 1:], old_window[:, :-1])
        times[:, :-1] = np.where(append[:, None], old_times[:, 1:], old_times[:, :-1])
        window[:, -1] = xyxy
        times[:, -1] = 0.0
        return MotionState(
            {
                "window": window,
                "times": times,
                "count": state["count"] + append,
                "since": np.zeros(len(xyxy)),
                "box": xyxy.copy(),
            }
        )

    def warp(self, state: MotionState, affine: np.ndarray) -> MotionState:
        """Move every stored box (window and current) by a camera-motion affine.

        Centres map through ``affine``; widths and heights scale by ``sqrt(|det L|)`` of
        its linear part ``L`` (the area scales by ``|det L|``, the aspect ratio is
        kept), as :meth:`tracker.motion.kalman.KalmanMotion.warp` does for its state.

        Raises:
            ValueError: ``affine`` is not ``(2, 3)``.
        """
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (2, 3):
            raise ValueError(f"affine must have shape (2, 3), got {affine.shape}")
        scale = np.sqrt(abs(np.linalg.det(affine[:, :2])))

        def move(xyxy: np.ndarray) -> np.ndarray:
            cxcywh = to_cxcywh(xyxy)
            cxcywh[..., :2] = cxcywh[..., :2] @ affine[:, :2].T + affine[:, 2]
            cxcywh[..., 2:] *= scale
            return _to_xyxy(cxcywh)

        arrays = dict(state.arrays)
        arrays["window"] = move(state["window"])
        arrays["box"] = move(state["box"])
        return MotionState(arrays)

    def boxes(self, state: MotionState) -> np.ndarray:
        return state["box"].copy() if len(state) else np.zeros((0, 4))

    def valid(self, state: MotionState) -> np.ndarray:
        """``(M, W)`` bool: which window entries hold observations (the last ``min(count, W)``)."""
        filled = np.minimum(state["count"], self.window)
        return np.arange(self.window)[None, :] >= (self.window - filled)[:, None]

    def constant_velocity(self, state: MotionState) -> np.ndarray:
        """``(M, 4)`` constant-velocity forecasts from the last two observations (kept box if only one)."""
        two = state["count"] >= 2
        gap = np.where(two, state["times"][:, -1] - state["times"][:, -2], 0.0)
        return constant_velocity_forecast(state["window"][:, -1], state["window"][:, -2], gap, state["since"])


class ConstantVelocityMotion(WindowMotion):
    """Constant velocity from the last two observations: the LSTM's fallback and a baseline.

    A track with a single observation keeps its box. Args as :class:`WindowMotion`.
    """

    def forecast(self, state: MotionState) -> np.ndarray:
        return self.constant_velocity(state)


class LstmMotion(WindowMotion):
    """The LSTM motion model, batched over tracks; see the module doc for state, inputs and fallback.

    Args:
        config: settings (weights path, fallback rule).
        weights: already loaded weights; if given, ``config.weights`` is not read.

    Raises:
        FileNotFoundError, ValueError: from :meth:`LstmWeights.load`.
    """

    def __init__(self, config: LstmMotionConfig | None = None, weights: LstmWeights | None = None) -> None:
        self.config = config or LstmMotionConfig()
        self.weights = weights or LstmWeights.load(self.config.weights)
        super().__init__(self.weights.window)

    def forecast(self, state: MotionState) -> np.ndarray:
        learned = state["count"] >= self.config.min_observations
        if learned.all():
            return self.forecast_learned(state)
        boxes = self.constant_velocity(state)
        if learned.any():
            boxes[learned] = self.forecast_learned(state.take(learned))
        return boxes

    def forecast_learned(self, state: MotionState) -> np.ndarray:
        """``(M, 4)`` LSTM forecasts for every row of ``state``, ignoring the fallback rule."""
        min_size = self.config.min_box_size_px
        valid = self.valid(state)
        features = window_features(state["window"], state["times"], valid, min_size)
        deltas = lstm_forward(self.weights, features, valid, state["since"])
        return decode_deltas(state["window"][:, -1], deltas, min_size)
