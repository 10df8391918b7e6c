"""The tracker interface: :class:`Tracker` (a protocol) and :class:`BaseTracker`.

Shaped like roboflow trackers' ``BaseTracker`` (``update``, ``reset``, a registry
name), with two differences that matter on robots: time is a timestamp in seconds
(so lifetimes and motion do not assume a frame rate), and the output carries
``det_index`` (boxmot's idea) so nobody re-matches tracks to detections by IoU.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np

from tracker.types import Detections, Tracks

__all__ = ["BaseTracker", "TimestampError", "Tracker"]


class TimestampError(ValueError):
    """A timestamp is not finite or not strictly after the previous one."""


@runtime_checkable
class Tracker(Protocol):
    """What every tracker backend offers."""

    name: str

    def update(self, detections: Detections, timestamp: float, camera_motion: np.ndarray | None = None) -> Tracks:
        """Associate one frame's detections; return the tracks to report for it.

        Args:
            detections: this frame's detections (never modified).
            timestamp: capture time of the frame in seconds, strictly increasing.
            camera_motion: optional ``(2, 3)`` affine mapping pixels of the previous
                frame to this one (ego-motion), for backends that compensate it.
        """
        ...

    def reset(self) -> None:
        """Forget every track and the last timestamp (IDs keep increasing)."""
        ...


class BaseTracker(ABC):
    """Checks the inputs of :meth:`update` once, for every backend.

    Subclasses implement :meth:`_update` and :meth:`_reset`.
    """

    name: str = "base"
    #: Whether :meth:`update` accepts ``camera_motion`` (the backend overrides :meth:`_compensate`).
    supports_camera_motion: bool = False

    def __init__(self) -> None:
        self._last_timestamp: float | None = None

    def update(self, detections: Detections, timestamp: float, camera_motion: np.ndarray | None = None) -> Tracks:
        """Associate ``detections`` at ``timestamp`` seconds and return the tracks to draw.

        Args:
            detections: this frame's detections; never modified.
            timestamp: the frame's capture time in seconds, strictly increasing.
            camera_motion: optional ``(2, 3)`` float affine mapping a pixel ``(x, y)``
                of the previous frame to ``A @ (x, y, 1)`` in this one (camera motion
                compensation, see :mod:`tracker.camera_motion`).

        Raises:
            TypeError: ``detections`` is not a :class:`~tracker.types.Detections`, or
                ``camera_motion`` is given to a backend that cannot use it.
            ValueError: ``camera_motion`` is not a finite ``(2, 3)`` matrix.
            TimestampError: ``timestamp`` is NaN/infinite or not strictly greater than
                the previous call's.
        """
        if not isinstance(detections, Detections):
            raise TypeError(f"detections must be a tracker.Detections, got {type(detections).__name__}")
        timestamp = float(timestamp)
        if not math.isfinite(timestamp):
            raise TimestampError(f"timestamp must be finite seconds, got {timestamp}")
        if self._last_timestamp is not None and timestamp <= self._last_timestamp:
            raise TimestampError(
                f"timestamps must strictly increase: got {timestamp:.6f} s after {self._last_timestamp:.6f} s"
            )
        if camera_motion is not None:
            camera_motion = np.asarray(camera_motion, dtype=np.float64)
            if camera_motion.shape != (2, 3) or not np.isfinite(camera_motion).all():
                raise ValueError(f"camera_motion must be a finite (2, 3) affine, got shape {camera_motion.shape}")
            self._compensate(camera_motion)
        dt = 0.0 if self._last_timestamp is None else timestamp - self._last_timestamp
        self._last_timestamp = timestamp
        return self._update(detections, timestamp, dt)

    def _compensate(self, affine: np.ndarray) -> None:
        """Move every track by the camera motion ``affine`` before this frame's update.

        Backends that support camera motion compensation override this.
        """
        raise TypeError(f"tracker '{self.name}' does not support camera_motion")

    def reset(self) -> None:
        """Forget all tracks and the last timestamp; track IDs are not reused afterwards."""
        self._last_timestamp = None
        self._reset()

    @abstractmethod
    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        """Backend work for one frame; ``dt`` is seconds since the previous frame (0 first)."""

    @abstractmethod
    def _reset(self) -> None:
        """Backend part of :meth:`reset`."""
