"""Motion models behind one batched seam (:class:`MotionModel`).

The Kalman filter is exported here (its compiled kernels, used when Numba is installed, are in
:mod:`tracker.motion.compiled`); the LSTM lives in :mod:`tracker.motion.lstm`, imported on demand.
"""

from tracker.motion.base import MotionModel, MotionState
from tracker.motion.kalman import KalmanConfig, KalmanMotion

__all__ = ["KalmanConfig", "KalmanMotion", "MotionModel", "MotionState"]
