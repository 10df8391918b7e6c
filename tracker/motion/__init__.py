"""Motion models behind one batched seam (:class:`MotionModel`).

The Kalman filter is exported here; the LSTM lives in :mod:`tracker.motion.lstm`, imported on demand.
"""

from tracker.motion.base import MotionModel, MotionState
from tracker.motion.kalman import KalmanConfig, KalmanMotion

__all__ = ["KalmanConfig", "KalmanMotion", "MotionModel", "MotionState"]
