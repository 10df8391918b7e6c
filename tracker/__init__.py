"""vtrack's tracking core: detections in, tracks with stable IDs out.

ROS-free, GUI-free and file-free: importing ``tracker`` loads only NumPy, SciPy and
filterpy. Time is given as timestamps in seconds.

>>> import tracker
>>> t = tracker.create("default")
>>> tracks = t.update(tracker.Detections(xyxy, scores, class_ids), timestamp=0.1)

Modules: :mod:`tracker.types` (containers), :mod:`tracker.boxes` (geometry, IoU),
:mod:`tracker.motion` (the motion-model seam, Kalman filter), :mod:`tracker.pipeline`
(the association pipeline), :mod:`tracker.registry` (named backends),
:mod:`tracker.app` (the ``vtrack`` command line; not imported here).
"""

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
