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

The equations are the textbook ones used by ``filterpy.kalman.KalmanFilter``
(Labbe, *Kalman and Bayesian Filters in Python*), including the Joseph-form
covariance update; they are vectorised here over all tracks at once, and
``tests/test_kalman.py`` checks them against filterpy step by step on a real KITTI
sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.boxes import cxcysr_to_xyxy, xyxy_to_cxcysr
from tracker.motion.base import MotionModel, MotionState

__all__ = ["KalmanConfig", "KalmanMotion"]

_DIM_X = 7
_DIM_Z = 4


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

    State arrays: ``mean`` ``(M, 7)`` float64 and ``covariance`` ``(M, 7, 7)`` float64.
    """

    def __init__(self, config: KalmanConfig | None = None) -> None:
        self.config = config or KalmanConfig()
        c = self.config
        self._R = np.diag(np.square(c.measurement_std)).astype(np.float64)
        self._q = np.square(np.concatenate([c.process_std, c.process_velocity_std])).astype(np.float64)
        self._P0 = np.diag(np.square(np.concatenate([c.initial_std, c.initial_velocity_std])))

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
        return self._R

    @property
    def initial_covariance(self) -> np.ndarray:
        """The ``(7, 7)`` covariance ``P`` of a newly initiated track."""
        return self._P0

    def initiate(self, xyxy: np.ndarray) -> MotionState:
        z = xyxy_to_cxcysr(xyxy)
        mean = np.zeros((len(z), _DIM_X))
        mean[:, :_DIM_Z] = z
        covariance = np.repeat(self._P0[None], len(z), axis=0)
        return MotionState({"mean": mean, "covariance": covariance})

    def predict(self, state: MotionState, dt: float) -> MotionState:
        mean, covariance = state["mean"], state["covariance"]
        F = self.transition(dt)
        mean = mean @ F.T
        covariance = F @ covariance @ F.T + self.process_noise(dt)
        return MotionState({"mean": mean, "covariance": covariance})

    def update(self, state: MotionState, xyxy: np.ndarray) -> MotionState:
        mean, P = state["mean"], state["covariance"]
        z = xyxy_to_cxcysr(xyxy)
        PHT = P[:, :, :_DIM_Z]
        S = P[:, :_DIM_Z, :_DIM_Z] + self._R
        K = PHT @ np.linalg.inv(S)
        mean = mean + np.einsum("mij,mj->mi", K, z - mean[:, :_DIM_Z])
        I_KH = np.repeat(np.eye(_DIM_X)[None], len(mean), axis=0)
        I_KH[:, :, :_DIM_Z] -= K
        P = I_KH @ P @ I_KH.transpose(0, 2, 1) + K @ self._R @ K.transpose(0, 2, 1)
        return MotionState({"mean": mean, "covariance": P})

    def warp(self, state: MotionState, affine: np.ndarray) -> MotionState:
        """Apply a camera-motion affine to centres, velocities and areas (with their covariance).

        The ``(2, 2)`` linear part ``L`` of ``affine`` maps ``(cx, cy)`` (plus the
        translation) and ``(vcx, vcy)``; area ``s`` and its rate ``vs`` scale by
        ``|det L|``; ``r`` is kept. The covariance is mapped with the same linear map.
        """
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (2, 3):
            raise ValueError(f"affine must have shape (2, 3), got {affine.shape}")
        L, t = affine[:, :2], affine[:, 2]
        J = np.eye(_DIM_X)
        J[0:2, 0:2] = L
        J[4:6, 4:6] = L
        J[2, 2] = J[6, 6] = abs(np.linalg.det(L))
        mean = state["mean"] @ J.T
        mean[:, :2] += t
        covariance = J @ state["covariance"] @ J.T
        return MotionState({"mean": mean, "covariance": covariance})

    def boxes(self, state: MotionState) -> np.ndarray:
        return cxcysr_to_xyxy(state["mean"])
