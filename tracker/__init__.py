"""vtrack's tracking core: detections in, tracks with stable IDs out.

ROS-free, GUI-free and file-free: importing ``tracker`` loads only NumPy, SciPy and
filterpy. Time is given as timestamps in seconds.

>>> import tracker
>>> t = tracker.create("default")
>>> tracks = t.update(tracker.Detections(xyxy, scores, class_ids), timestamp=0.1)

Modules: :mod:`tracker.types` (containers), :mod:`tracker.boxes` (geometry, IoU),
:mod:`tracker.motion` (the motion-model seam: Kalman filter, LSTM), :mod:`tracker.pipeline`
(the association pipeline), :mod:`tracker.mechanisms` (its parts), :mod:`tracker.table`
(per-track data), :mod:`tracker.registry` (named backends). Loaded on first use, not by
``import tracker``: :mod:`tracker.camera_motion` (needs OpenCV), :mod:`tracker.formats`
(file readers), :mod:`tracker.frames` (frame sources), :mod:`tracker.app` (the ``vtrack``
command line), :mod:`tracker.ros2` (ROS 2 messages and bags).
"""

import importlib
from types import ModuleType

from tracker.base import BaseTracker, TimestampError, Tracker
from tracker.config import ConfigError
from tracker.registry import available, create
from tracker.types import Detections, Tracks, TrackState

__all__ = [
    "BaseTracker",
    "ConfigError",
    "Detections",
    "TimestampError",
    "TrackState",
    "Tracker",
    "Tracks",
    "available",
    "create",
]

#: Submodules loaded on first attribute access (``tracker.camera_motion.CameraMotionEstimator``).
_LAZY = frozenset({"app", "camera_motion", "formats", "frames", "ros2"})


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY:
        return importlib.import_module(f"tracker.{name}")
    raise AttributeError(f"module 'tracker' has no attribute '{name}'")
