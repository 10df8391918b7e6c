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

__all__ = ["MAX_CAMERA_SCALE", "MAX_CAMERA_SHIFT_PX", "BaseTracker", "TimestampError", "Tracker", "check_camera_motion"]

#: Largest frame-to-frame zoom (and ``1 /`` the smallest) a camera-motion affine may imply.
MAX_CAMERA_SCALE = 10.0
#: Largest frame-to-frame translation, pixels, of a camera-motion affine (far beyond any image).
MAX_CAMERA_SHIFT_PX = 1e5


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


def check_camera_motion(camera_motion: object) -> np.ndarray:
    """``camera_motion`` as a ``(2, 3)`` float64 affine, checked to be a plausible frame-to-frame motion.

    Raises:
        ValueError: not a ``(2, 3)`` matrix of finite numbers, a linear part whose
            determinant is not positive (a mirror or a collapse) or that scales areas
            beyond :data:`MAX_CAMERA_SCALE` squared either way, or a translation
            beyond :data:`MAX_CAMERA_SHIFT_PX`.
    """
    affine = np.asarray(camera_motion, dtype=np.float64)
    if affine.shape != (2, 3):
        raise ValueError(f"camera_motion must be a finite (2, 3) affine, got shape {affine.shape}")
    (a, b, tx), (c, d, ty) = values = affine.tolist()
    if not math.isfinite(a + b + tx + c + d + ty):  # a NaN or an infinity makes the sum one
        raise ValueError(f"camera_motion must be a finite (2, 3) affine, got {values}")
    det = a * d - b * c
    if not MAX_CAMERA_SCALE**-2 <= det <= MAX_CAMERA_SCALE**2:
        raise ValueError(
            f"camera_motion's linear part has determinant {det:.6g}; a frame-to-frame camera motion "
            f"scales areas by {MAX_CAMERA_SCALE**-2:g} to {MAX_CAMERA_SCALE**2:g}"
        )
    if abs(tx) > MAX_CAMERA_SHIFT_PX or abs(ty) > MAX_CAMERA_SHIFT_PX:
        raise ValueError(f"camera_motion translates by ({tx:.6g}, {ty:.6g}) px, beyond {MAX_CAMERA_SHIFT_PX:g} px")
    return affine


class BaseTracker(ABC):
    """Checks the inputs of :meth:`update` once, for every backend.

    Subclasses implement :meth:`_update` and :meth:`_reset`.
    """

    name: str = "base"
    #: Whether :meth:`update` accepts ``camera_motion`` (the backend overrides :meth:`_compensate`).
    supports_camera_motion: bool = False
    #: Whether :meth:`predict` is implemented (the backend overrides :meth:`_predict`).
    supports_predict: bool = False

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
            ValueError: ``camera_motion`` is not a plausible frame-to-frame affine (see
                :func:`check_camera_motion`).
            TimestampError: ``timestamp`` is NaN/infinite or not strictly greater than
                the previous call's.
        """
        if not isinstance(detections, Detections):
            raise TypeError(f"detections must be a tracker.Detections, got {type(detections).__name__}")
        return self._update(detections, *self._step(timestamp, camera_motion))

    def predict(self, timestamp: float, camera_motion: np.ndarray | None = None) -> Tracks:
        """Advance every track to ``timestamp`` without detections (the detector skipped this frame).

        The tracks :meth:`update` reported last (confirmed and matched then) are
        returned at the boxes their motion model predicts now, with ``det_index`` -1.
        Nothing counts as a missed detection: the next :meth:`update` goes on from
        the predicted state. For a real-time mode that runs the detector on every
        K-th frame only.

        Args:
            timestamp: the frame's capture time in seconds, strictly increasing.
            camera_motion: as for :meth:`update`.

        Raises:
            NotImplementedError: the backend cannot predict (``supports_predict`` is False).
            ValueError, TimestampError: as for :meth:`update`.
        """
        if not self.supports_predict:
            raise NotImplementedError(f"tracker '{self.name}' cannot predict tracks without detections")
        return self._predict(*self._step(timestamp, camera_motion))

    def _step(self, timestamp: float, camera_motion: np.ndarray | None) -> tuple[float, float]:
        """Check a call's timestamp and camera motion, apply the motion; ``(timestamp, dt)``."""
        timestamp = float(timestamp)
        if not math.isfinite(timestamp):
            raise TimestampError(f"timestamp must be finite seconds, got {timestamp}")
        if self._last_timestamp is not None and timestamp <= self._last_timestamp:
            raise TimestampError(
                f"timestamps must strictly increase: got {timestamp:.6f} s after {self._last_timestamp:.6f} s"
            )
        if camera_motion is not None:
            self._compensate(check_camera_motion(camera_motion))
        dt = 0.0 if self._last_timestamp is None else timestamp - self._last_timestamp
        self._last_timestamp = timestamp
        return timestamp, dt

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

    def _predict(self, timestamp: float, dt: float) -> Tracks:
        """Backend work of :meth:`predict`; ``dt`` is seconds since the previous call."""
        raise NotImplementedError(f"tracker '{self.name}' cannot predict tracks without detections")

    @abstractmethod
    def _reset(self) -> None:
        """Backend part of :meth:`reset`."""
