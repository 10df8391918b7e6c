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

**Long coasts.** The network is never asked for a horizon beyond
:attr:`LstmMotionConfig.max_horizon_s` (the longest it was trained on): a track coasting
longer keeps the box forecast at that horizon, however long the gap. Asked for longer
horizons, the head extrapolates its rate far outside its training data and boxes grow
without bound (1e8 px wide after a 10 s gap, infinite after 100 s). The model card
compares holding the box with the unbounded network at gaps beyond the horizon. As a
guard against any weights, a forecast never moves the centre by more than
:data:`FORECAST_LIMIT` box sizes nor scales the box by more than that factor, and input
features are clipped to ``±FEATURE_LIMIT`` before the network sees them.

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
import math
import zipfile
import zlib
from abc import abstractmethod
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tracker.motion.base import MotionModel, MotionState

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURE_LIMIT",
    "FEATURE_NAMES",
    "FORECAST_LIMIT",
    "MAX_WINDOW",
    "ConstantVelocityMotion",
    "LstmMotion",
    "LstmMotionConfig",
    "LstmWeights",
    "LstmWeightsError",
    "LstmWeightsNotFoundError",
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

#: Largest ``window`` a weights file may ask for (observations kept per track).
MAX_WINDOW = 1000

#: A forecast moves the centre by at most this many box sizes and scales the box by at most this factor.
FORECAST_LIMIT = 1000.0

#: Input features are clipped to this magnitude (box sizes, box sizes per second, seconds) before
#: standardisation: a rate over a near-zero gap stays finite in float32.
FEATURE_LIMIT = 1e6


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
        max_horizon_s: seconds; the longest horizon the network is asked for. A track
            coasting longer keeps the box forecast at this horizon (see "Long coasts" in
            the module doc). The default, 1 s, is the longest horizon the shipped weights
            were trained on (10 frames at KITTI's 10 Hz); set it to that of other weights.
    """

    weights: str = DEFAULT_WEIGHTS
    min_observations: int = 2
    min_box_size_px: float = 1.0
    max_horizon_s: float = 1.0

    def __post_init__(self) -> None:
        if self.min_observations < 2:
            raise ValueError(f"min_observations must be >= 2, got {self.min_observations}")
        if not (math.isfinite(self.min_box_size_px) and self.min_box_size_px > 0):
            raise ValueError(f"min_box_size_px must be a finite number > 0 pixels, got {self.min_box_size_px}")
        if not (math.isfinite(self.max_horizon_s) and self.max_horizon_s > 0):
            raise ValueError(f"max_horizon_s must be a finite number > 0 seconds, got {self.max_horizon_s}")


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
        ``(N, W, F)`` float32 features (:data:`FEATURE_NAMES`), zero at invalid entries,
        clipped to ``±FEATURE_LIMIT``.
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
    features = np.clip(
        np.concatenate([rel, rate, gap[..., None], times[..., None]], axis=-1), -FEATURE_LIMIT, FEATURE_LIMIT
    )
    return np.where(valid[..., None], features, 0.0).astype(np.float32)


def decode_deltas(anchor_xyxy: np.ndarray, deltas: np.ndarray, min_size: float) -> np.ndarray:
    """Boxes from anchor-relative displacements.

    Args:
        anchor_xyxy: ``(N, 4)`` anchor (newest observed) boxes, pixels.
        deltas: ``(N, 4)`` ``(dcx / w_a, dcy / h_a, log(w / w_a), log(h / h_a))``; clipped so
            that the centre moves at most :data:`FORECAST_LIMIT` box sizes and the size
            changes at most by that factor.
        min_size: floor in pixels for the anchor's width and height (as in the features).

    Returns:
        ``(N, 4)`` float64 ``xyxy`` pixels.
    """
    anchor = to_cxcywh(anchor_xyxy)
    anchor[:, 2:] = np.maximum(anchor[:, 2:], min_size)
    limit = np.array([FORECAST_LIMIT, FORECAST_LIMIT, math.log(FORECAST_LIMIT), math.log(FORECAST_LIMIT)])
    deltas = np.clip(np.asarray(deltas, dtype=np.float64), -limit, limit)
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


class LstmWeightsError(ValueError):
    """A motion-LSTM weights file cannot be used; the one-line message is ``path: rule broken``.

    Attributes:
        path: the file.
        reason: the message without the path.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class LstmWeightsNotFoundError(LstmWeightsError, FileNotFoundError):
    """No weights file at the path (both a :class:`LstmWeightsError` and a :class:`FileNotFoundError`)."""


class _Failing:
    """Makes the :class:`LstmWeightsError` of one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, reason: str) -> LstmWeightsError:
        return LstmWeightsError(self.path, reason)


#: Arrays every weights file holds besides the head's ``head_{i}_weight`` / ``head_{i}_bias``.
_REQUIRED = (
    "format",
    "window",
    "head_layers",
    "weight_ih",
    "weight_hh",
    "bias",
    "feature_mean",
    "feature_std",
    "horizon_scale",
    "target_std",
    "metadata",
)
_FLOAT_ARRAYS = ("weight_ih", "weight_hh", "bias", "feature_mean", "feature_std", "horizon_scale", "target_std")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``; :class:`LstmWeightsError` when it is not a readable archive."""
    if path.stat().st_size == 0:
        raise LstmWeightsError(path, "empty file (0 bytes), not an .npz archive")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise LstmWeightsError(path, f"not an .npz archive ({error})") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise LstmWeightsError(path, "a single .npy array, not the .npz archive of named arrays the weights are")
    with loaded:
        try:
            return {name: loaded[name] for name in loaded.files}
        except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
            raise LstmWeightsError(path, f"damaged .npz archive ({error})") from None


def _integer(arrays: dict[str, np.ndarray], name: str, fail: _Failing) -> int:
    value = arrays[name]
    if value.shape != () or not np.issubdtype(value.dtype, np.number) or not np.isfinite(value) or value != int(value):
        raise fail(f"'{name}' must be a single whole number, got {value!r}")
    return int(value)


def _float32(arrays: dict[str, np.ndarray], name: str, fail: _Failing) -> np.ndarray:
    value = arrays[name]
    if not np.issubdtype(value.dtype, np.number) or np.issubdtype(value.dtype, np.complexfloating):
        raise fail(f"'{name}' must hold real numbers, got dtype {value.dtype}")
    with np.errstate(over="ignore"):
        value = value.astype(np.float32)
    if not np.isfinite(value).all():
        raise fail(f"'{name}' holds NaN or infinite values (in float32)")
    return value


def _check_shapes(floats: dict[str, np.ndarray], layers: int, fail: _Failing) -> None:
    features = len(FEATURE_NAMES)
    weight_hh = floats["weight_hh"]
    if weight_hh.ndim != 2 or weight_hh.shape[1] < 1 or weight_hh.shape[0] != 4 * weight_hh.shape[1]:
        raise fail(f"'weight_hh' must have shape (4H, H), got {weight_hh.shape}")
    hidden = weight_hh.shape[1]
    expected = {
        "weight_ih": (4 * hidden, features),
        "bias": (4 * hidden,),
        "feature_mean": (features,),
        "feature_std": (features,),
        "horizon_scale": (),
        "target_std": (4,),
    }
    for name, shape in expected.items():
        if floats[name].shape != shape:
            raise fail(
                f"'{name}' must have shape {shape} ({features} features, hidden {hidden}), got {floats[name].shape}"
            )
    inputs = hidden + 1
    for i in range(layers):
        weight, bias = floats[f"head_{i}_weight"], floats[f"head_{i}_bias"]
        outputs = 4 if i == layers - 1 else (weight.shape[0] if weight.ndim == 2 else -1)
        if outputs < 1 or weight.shape != (outputs, inputs) or bias.shape != (outputs,):
            raise fail(
                f"head layer {i} must map {inputs} inputs to {'4 outputs' if i == layers - 1 else 'its outputs'}: "
                f"weight {weight.shape}, bias {bias.shape}"
            )
        inputs = outputs


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
        """Read and check an ``.npz`` weights file (as :meth:`save` and :mod:`benchmarks.motion.train` write it).

        Every rule is checked before any array is used, so a bad file fails when the
        tracker is created, never at its first update.

        Raises:
            LstmWeightsNotFoundError: no file at ``path`` (also a :class:`FileNotFoundError`).
            LstmWeightsError: one line naming the file and the rule broken: not an ``.npz``
                archive (empty, truncated, a single ``.npy`` array, a damaged member), the
                wrong format version, a missing array, an array that is not numeric, a
                shape that does not fit (:data:`FEATURE_NAMES` inputs, hidden size ``H``,
                a head from ``H + 1`` inputs to 4 outputs), a NaN or infinite value, a
                ``feature_std``, ``target_std`` or ``horizon_scale`` that is not > 0, a
                ``window`` outside ``2..MAX_WINDOW``, or metadata that is not a JSON object.
        """
        path = Path(path)
        if not path.is_file():
            raise LstmWeightsNotFoundError(path, "LSTM motion weights not found")
        arrays = _read_npz(path)
        fail = _Failing(path)
        for name in _REQUIRED:
            if name not in arrays:
                raise fail(f"missing array '{name}' (not a motion-LSTM weights file?)")
        if _integer(arrays, "format", fail) != WEIGHTS_FORMAT:
            raise fail(f"format {arrays['format']} is not the supported {WEIGHTS_FORMAT}")
        window = _integer(arrays, "window", fail)
        if not 2 <= window <= MAX_WINDOW:
            raise fail(f"window must be 2..{MAX_WINDOW} observations, got {window}")
        layers = _integer(arrays, "head_layers", fail)
        if layers < 1:
            raise fail(f"head_layers must be >= 1, got {layers}")
        head_names = [f"head_{i}_{part}" for i in range(layers) for part in ("weight", "bias")]
        for name in head_names:
            if name not in arrays:
                raise fail(f"missing array '{name}' (head_layers is {layers})")
        floats = {name: _float32(arrays, name, fail) for name in (*_FLOAT_ARRAYS, *head_names)}
        _check_shapes(floats, layers, fail)
        for name in ("feature_std", "target_std", "horizon_scale"):
            if not (floats[name] > 0).all():
                raise fail(f"'{name}' must be > 0 everywhere, got {floats[name].tolist()}")
        try:
            metadata = json.loads(str(arrays["metadata"]))
        except json.JSONDecodeError as error:
            raise fail(f"'metadata' is not JSON: {error}") from None
        if not isinstance(metadata, dict):
            raise fail(f"'metadata' must be a JSON object, got a {type(metadata).__name__}")
        return cls(
            window=window,
            weight_ih=floats["weight_ih"],
            weight_hh=floats["weight_hh"],
            bias=floats["bias"],
            head=tuple((floats[f"head_{i}_weight"], floats[f"head_{i}_bias"]) for i in range(layers)),
            feature_mean=floats["feature_mean"],
            feature_std=floats["feature_std"],
            horizon_scale=float(floats["horizon_scale"]),
            target_std=floats["target_std"],
            metadata=metadata,
        )

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
        np.savez_compressed(Path(path), allow_pickle=False, **arrays)


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
    result: np.ndarray = (out * weights.target_std).astype(np.float64) * tau.astype(np.float64)[:, None]
    return result


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
        result: np.ndarray = np.arange(self.window)[None, :] >= (self.window - filled)[:, None]
        return result

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
        LstmWeightsError: from :meth:`LstmWeights.load` (:class:`LstmWeightsNotFoundError`
            for a missing file), before any tracking.
    """

    def __init__(self, config: LstmMotionConfig | None = None, weights: LstmWeights | None = None) -> None:
        self.config = config or LstmMotionConfig()
        self.weights = weights or LstmWeights.load(self.config.weights)
        super().__init__(self.weights.window)

    def forecast(self, state: MotionState) -> np.ndarray:
        """The box ``min(since, max_horizon_s)`` seconds after each track's newest observation (see the module doc)."""
        state = MotionState({**state.arrays, "since": np.minimum(state["since"], self.config.max_horizon_s)})
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
