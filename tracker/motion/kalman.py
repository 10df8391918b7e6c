"""Batched constant-velocity Kalman filter on ``(cx, cy, s, r)``, as in SORT.

The state of each track is ``x = (cx, cy, s, r, vcx, vcy, vs)``: box centre (px),
area ``s`` (px²), aspect ratio ``r = w / h`` (assumed constant) and the velocities
of the first three (px/s, px/s, px²/s). The measurement is ``(cx, cy, s, r)``. This
is the model of SORT (Bewley et al., "Simple Online and Realtime Tracking", ICIP
2016), with the transition ``F`` and the process noise ``Q`` built from the time
step ``dt`` in seconds instead of assuming one frame per step:

- ``F = I + dt * D`` where ``D`` moves each velocity into its position;
- ``Q = dt * diag(q)``: each state component takes a random walk whose variance
  grows linearly with time (``q`` in units² per second).

Because ``F`` couples each position only with its own velocity and ``Q``, ``R``
and the initial covariance are diagonal, the covariance stays block-diagonal:
the 7-state filter factorises exactly into independent filters, one per axis
(``(cx, vcx)``, ``(cy, vcy)``, ``(s, vs)`` and ``r``), each with a scalar
measurement (the decoupled form of Bar-Shalom, Li and Kirubarajan, *Estimation
with Applications to Tracking and Navigation*, 2001, ch. 6). The filter therefore
stores per track only the variances and position-velocity covariances and
updates them with element-wise arithmetic over all tracks at once, with no
matrix products or inverses. ``tests/test_kalman.py`` checks that it gives the
same states and covariances as ``filterpy.kalman.KalmanFilter`` (Labbe) run
with the full matrices, step by step on a real KITTI sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.boxes import cxcysr_to_xyxy, xyxy_to_cxcysr
from tracker.motion.base import MotionModel, MotionState

__all__ = ["KalmanConfig", "KalmanMotion"]

_DIM_X = 7
_DIM_Z = 4
_DIAG = np.arange(_DIM_X)
_POS = slice(0, 3)  # cx, cy, s: the components with a velocity
_VEL = slice(4, 7)  # vcx, vcy, vs


@dataclass(frozen=True)
class KalmanConfig:
    """Noise settings of :class:`KalmanMotion` (standard deviations, not variances).

    The defaults are SORT's per-frame settings expressed per second for a 10 Hz
    camera (KITTI's rate): SORT's unit variances per frame become ``1 / 0.1 = 10``
    per second, and its velocity variances are rescaled from px/frame to px/s.

    Attributes:
        measurement_std: std of the measured ``(cx, cy, s, r)``; px, px, px², 1.
        process_std: std per sqrt(second) of the random walk on ``(cx, cy, s, r)``.
        process_velocity_std: std per sqrt(second) of the random walk on
            ``(vcx, vcy, vs)``, in px/s, px/s, px²/s.
        initial_std: std of the first state's ``(cx, cy, s, r)`` around the detection.
        initial_velocity_std: std of the first state's velocities (unknown: large).
    """

    measurement_std: tuple[float, float, float, float] = (1.0, 1.0, 3.1623, 3.1623)
    process_std: tuple[float, float, float, float] = (3.1623, 3.1623, 3.1623, 3.1623)
    process_velocity_std: tuple[float, float, float] = (3.1623, 3.1623, 0.31623)
    initial_std: tuple[float, float, float, float] = (3.1623, 3.1623, 3.1623, 3.1623)
    initial_velocity_std: tuple[float, float, float] = (1000.0, 1000.0, 1000.0)


class KalmanMotion(MotionModel):
    """SORT's constant-velocity Kalman filter, batched over tracks; see the module doc.

    State arrays for ``M`` tracks (float64):

    - ``mean`` ``(M, 7)``: ``(cx, cy, s, r, vcx, vcy, vs)``;
    - ``var`` ``(M, 7)``: the diagonal of the covariance;
    - ``cov_pv`` ``(M, 3)``: the covariance of ``(cx, cy, s)`` with ``(vcx, vcy, vs)``.

    :meth:`covariance` assembles the full ``(M, 7, 7)`` matrices.
    """

    def __init__(self, config: KalmanConfig | None = None) -> None:
        self.config = config or KalmanConfig()
        c = self.config
        self._r = np.square(np.asarray(c.measurement_std, dtype=np.float64))
        self._q = np.square(np.concatenate([c.process_std, c.process_velocity_std])).astype(np.float64)
        self._var0 = np.square(np.concatenate([c.initial_std, c.initial_velocity_std])).astype(np.float64)

    def transition(self, dt: float) -> np.ndarray:
        """The ``(7, 7)`` transition matrix ``F`` for a step of ``dt`` seconds."""
        F = np.eye(_DIM_X)
        F[0, 4] = F[1, 5] = F[2, 6] = dt
        return F

    def process_noise(self, dt: float) -> np.ndarray:
        """The ``(7, 7)`` process noise covariance ``Q`` for a step of ``dt`` seconds."""
        return np.diag(self._q * dt)

    @property
    def measurement_noise(self) -> np.ndarray:
        """The ``(4, 4)`` measurement noise covariance ``R``."""
        return np.diag(self._r)

    @property
    def initial_covariance(self) -> np.ndarray:
        """The ``(7, 7)`` covariance ``P`` of a newly initiated track."""
        return np.diag(self._var0)

    def covariance(self, state: MotionState) -> np.ndarray:
        """The full ``(M, 7, 7)`` covariance matrices of ``state``."""
        P = np.zeros((len(state), _DIM_X, _DIM_X))
        P[:, _DIAG, _DIAG] = state["var"]
        pos, vel = np.arange(3), np.arange(4, 7)
        P[:, pos, vel] = P[:, vel, pos] = state["cov_pv"]
        return P

    def initiate(self, xyxy: np.ndarray) -> MotionState:
        z = xyxy_to_cxcysr(xyxy)
        mean = np.zeros((len(z), _DIM_X))
        mean[:, :_DIM_Z] = z
        var = np.repeat(self._var0[None], len(z), axis=0)
        return MotionState({"mean": mean, "var": var, "cov_pv": np.zeros((len(z), 3))})

    def predict(self, state: MotionState, dt: float) -> MotionState:
        mean, var, cov = state["mean"].copy(), state["var"].copy(), state["cov_pv"]
        # Per axis, F = [[1, dt], [0, 1]]: P' = F P F^T + Q.
        mean[:, _POS] += dt * mean[:, _VEL]
        var[:, _POS] += dt * (2.0 * cov + dt * var[:, _VEL])
        var += dt * self._q
        return MotionState({"mean": mean, "var": var, "cov_pv": cov + dt * state["var"][:, _VEL]})

    def update(self, state: MotionState, xyxy: np.ndarray) -> MotionState:
        mean, var, cov = state["mean"].copy(), state["var"].copy(), state["cov_pv"]
        innovation = xyxy_to_cxcysr(xyxy) - mean[:, :_DIM_Z]
        s = var[:, :_DIM_Z] + self._r  # innovation variance per axis
        gain_p = var[:, :_DIM_Z] / s
        gain_v = cov / s[:, :3]
        mean[:, :_DIM_Z] += gain_p * innovation
        mean[:, _VEL] += gain_v * innovation[:, :3]
        var[:, _VEL] -= gain_v * cov
        var[:, :_DIM_Z] *= self._r / s
        return MotionState({"mean": mean, "var": var, "cov_pv": cov * (self._r[:3] / s[:, :3])})

    def warp(self, state: MotionState, affine: np.ndarray) -> MotionState:
        """Apply a camera-motion affine to centres, velocities and areas.

        The ``(2, 2)`` linear part ``L`` of ``affine`` maps ``(cx, cy)`` (plus the
        translation) and ``(vcx, vcy)``; area ``s`` and its rate ``vs`` scale by
        ``|det L|``; ``r`` is kept. Variances are mapped with ``L`` too; a rotation
        would correlate x with y, and that cross term is dropped to keep the
        per-axis form (exact for translation and scaling, the usual dashcam case).

        Raises:
            ValueError: ``affine`` is not ``(2, 3)``.
        """
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (2, 3):
            raise ValueError(f"affine must have shape (2, 3), got {affine.shape}")
        L, t = affine[:, :2], affine[:, 2]
        det = abs(L[0, 0] * L[1, 1] - L[0, 1] * L[1, 0])
        mean, var, cov = state["mean"].copy(), state["var"].copy(), state["cov_pv"].copy()
        mean[:, 0:2] = mean[:, 0:2] @ L.T + t
        mean[:, 4:6] = mean[:, 4:6] @ L.T
        mean[:, [2, 6]] *= det
        L2 = np.square(L)
        var[:, 0:2] = var[:, 0:2] @ L2.T
        var[:, 4:6] = var[:, 4:6] @ L2.T
        var[:, [2, 6]] *= det**2
        cov[:, 0:2] = cov[:, 0:2] @ L2.T
        cov[:, 2] *= det**2
        return MotionState({"mean": mean, "var": var, "cov_pv": cov})

    def boxes(self, state: MotionState) -> np.ndarray:
        return cxcysr_to_xyxy(state["mean"])
