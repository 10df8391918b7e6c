"""Motion models behind one batched seam (:class:`MotionModel`): the Kalman filter here, the LSTM later."""

from tracker.motion.base import MotionModel, MotionState
from tracker.motion.kalman import KalmanConfig, KalmanMotion

__all__ = ["KalmanConfig", "KalmanMotion", "MotionModel", "MotionState"]
