"""Compiled kernels of the Kalman filter's prediction, correction and boxes (Numba, optional).

:class:`tracker.motion.KalmanMotion` computes on the ``(20, M)`` rows of its state
with NumPy: about twenty array operations per prediction and per correction, each
costing a microsecond or so of NumPy's dispatch for the few tracks of a frame. The
kernels below do the same arithmetic, element by element, in one compiled call each
(Numba's ``njit``; Lam, Pitrou and Seibert, "Numba: a LLVM-based Python JIT compiler",
LLVM-HPC 2015). They are the plain loops of the decoupled filter in
:mod:`tracker.motion.kalman`'s module doc, component by component, so they are also
its most direct statement.

Used when ``numba`` is installed (the ``fast`` extra; ``bench`` and ``all`` bring it),
for the states and boxes they cover (float64 boxes, no per-row gain scale); NumPy's
path does everything else, and everything when ``numba`` is missing. The two give
the same tracks: ``tests/test_kalman.py`` compares them on a real KITTI sequence and
the golden scores hold with either. Compiling takes about 1.5 s the first time;
Numba caches the machine code beside this file (or in its user cache folder when that
is read-only), so later processes load it in 0.3-0.5 s. Numba's compiler (LLVM) adds
about 100 MiB to the process's resident memory. Nothing is compiled or imported until
the first :class:`KalmanMotion` is built.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Kernels", "load"]


class Kernels(NamedTuple):
    """The compiled functions (arguments as in the plain functions of this module)."""

    predict: Callable[..., np.ndarray]
    correct: Callable[..., np.ndarray]
    boxes: Callable[..., np.ndarray]


def predict(x: np.ndarray, dt: float, absolute: np.ndarray, relative: np.ndarray, cxcyah: bool) -> np.ndarray:
    """The ``(20, M)`` rows of ``x`` predicted ``dt`` seconds ahead (new array).

    ``absolute`` and ``relative``: ``(8,)`` process noise stds of the components and their
    velocities (``relative`` per px of height, zeros for none).
    """
    m = x.shape[1]
    out = np.empty((20, m))
    for j in range(m):
        # The box height (px) scales the per-height noise: h, or sqrt(s / r).
        height = max(x[3, j], 0.0) if cxcyah else math.sqrt(max(x[2, j], 0.0) / max(x[3, j], 1e-12))
        for k in range(4):
            z, v, pzv, pzz, pvv = x[k, j], x[4 + k, j], x[8 + k, j], x[12 + k, j], x[16 + k, j]
            q_z = relative[k] * height + absolute[k] if relative[k] != 0.0 else absolute[k]
            q_v = relative[4 + k] * height + absolute[4 + k] if relative[4 + k] != 0.0 else absolute[4 + k]
            out[k, j] = z + dt * v
            out[4 + k, j] = v
            out[8 + k, j] = pzv + dt * pvv
            out[12 + k, j] = pzz + 2.0 * dt * pzv + dt * dt * pvv + q_z * q_z * dt
            out[16 + k, j] = pvv + q_v * q_v * dt
    return out


def correct(x: np.ndarray, xyxy: np.ndarray, absolute: np.ndarray, relative: np.ndarray, cxcyah: bool) -> np.ndarray:
    """The ``(20, M)`` rows of ``x`` corrected by the ``(M, 4)`` float64 ``xyxy`` boxes (new array).

    ``absolute`` and ``relative``: ``(4,)`` measurement noise stds (``relative`` per px of
    the state's height, zeros for none). Boxes become measurements as in
    :func:`tracker.boxes.boxes_to_rows` (a ratio is 0 where its denominator is not positive).
    """
    m = x.shape[1]
    out = np.empty((20, m))
    z = np.empty(4)
    for j in range(m):
        x1, y1, x2, y2 = xyxy[j, 0], xyxy[j, 1], xyxy[j, 2], xyxy[j, 3]
        w, h = x2 - x1, y2 - y1
        z[0], z[1] = 0.5 * x1 + 0.5 * x2, 0.5 * y1 + 0.5 * y2
        if cxcyah:
            z[2], z[3] = w / (h if h > 0.0 else np.inf), h
        else:
            z[2], z[3] = w * h, w / (h if h > 0.0 else np.inf)
        height = max(x[3, j], 0.0) if cxcyah else math.sqrt(max(x[2, j], 0.0) / max(x[3, j], 1e-12))
        for k in range(4):
            std = relative[k] * height + absolute[k] if relative[k] != 0.0 else absolute[k]
            r = std * std
            pzv, pzz = x[8 + k, j], x[12 + k, j]
            s = pzz + r
            gain_v, gain_z = pzv / s, pzz / s
            innovation = z[k] - x[k, j]
            shrink = r / s
            out[k, j] = x[k, j] + gain_z * innovation
            out[4 + k, j] = x[4 + k, j] + gain_v * innovation
            out[8 + k, j] = pzv * shrink
            out[12 + k, j] = pzz * shrink
            out[16 + k, j] = x[16 + k, j] - gain_v * pzv
    return out


def boxes(x: np.ndarray, cxcyah: bool) -> np.ndarray:
    """``(M, 4)`` float64 ``xyxy`` boxes of the state rows ``x``, as :func:`tracker.boxes.rows_to_xyxy`."""
    m = x.shape[1]
    out = np.empty((m, 4))
    for j in range(m):
        cx, cy = x[0, j], x[1, j]
        a, b = max(x[2, j], 0.0), max(x[3, j], 0.0)
        if cxcyah:
            w, h = a * b, b
        else:
            w = math.sqrt(a * b)
            h = a / (w if w > 0.0 else np.inf)
        out[j, 0], out[j, 1], out[j, 2], out[j, 3] = cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h
    return out


_compiled: Kernels | None = None
_lock = threading.Lock()


def load() -> Kernels | None:
    """The compiled kernels, compiled (or loaded from Numba's cache) on the first call; None without ``numba``.

    Compiled ahead of the first use, for any memory layout of the arrays, so that no
    call of the tracker's ``update()`` waits for the compiler.
    """
    global _compiled
    try:
        import numba
    except ImportError:
        return None
    with _lock:
        if _compiled is None:
            f8, flag = numba.types.float64, numba.types.boolean
            matrix = numba.types.Array(f8, 2, "A", readonly=True)  # accepts C, Fortran and strided arrays
            vector = numba.types.Array(f8, 1, "A", readonly=True)
            result = numba.types.Array(f8, 2, "C")
            _compiled = Kernels(
                predict=_jit(numba, predict, result(matrix, f8, vector, vector, flag)),
                correct=_jit(numba, correct, result(matrix, matrix, vector, vector, flag)),
                boxes=_jit(numba, boxes, result(matrix, flag)),
            )
        return _compiled


def _jit(numba: Any, function: Callable[..., np.ndarray], signature: Any) -> Callable[..., np.ndarray]:
    try:
        compiled: Callable[..., np.ndarray] = numba.njit(signature, cache=True)(function)
    except RuntimeError:  # no writable cache folder: compile in memory only
        compiled = numba.njit(signature)(function)
    return compiled
