"""The detector interface: :class:`Detector` (a protocol) and :func:`check_frame`.

A detector turns one image into :class:`tracker.Detections`. Frames follow OpenCV's
convention: ``(H, W, 3)`` uint8 arrays in BGR channel order, row 0 at the top, so
the boxes they yield are ``xyxy`` pixels with the origin at the top-left corner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from tracker.types import Detections

__all__ = ["Detector", "FrameError", "check_frame"]

_CHANNELS = 3


class FrameError(ValueError):
    """A frame is not a non-empty ``(H, W, 3)`` uint8 array."""


@runtime_checkable
class Detector(Protocol):
    """What every detector offers: one frame or a batch of frames in, detections out."""

    def __call__(self, frame: np.ndarray) -> Detections:
        """Detect objects in one frame.

        Args:
            frame: ``(H, W, 3)`` uint8 BGR image.

        Returns:
            The frame's detections, boxes ``xyxy`` in pixels of ``frame``.

        Raises:
            FrameError: ``frame`` is not a non-empty ``(H, W, 3)`` uint8 array.
        """
        ...

    def batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """Detect objects in several frames, in one backend call where the backend batches.

        Args:
            frames: ``(H_i, W_i, 3)`` uint8 BGR images (sizes may differ).

        Returns:
            One :class:`~tracker.types.Detections` per frame, in order.

        Raises:
            FrameError: a frame is invalid; the message gives its index.
        """
        ...


def check_frame(frame: object, name: str = "frame") -> np.ndarray:
    """Check that ``frame`` is a non-empty ``(H, W, 3)`` uint8 image and return it.

    Args:
        frame: the candidate image (BGR by convention; channel order is not checkable).
        name: how to call the frame in the error message, e.g. ``"frames[3]"``.

    Returns:
        ``frame`` itself, unchanged (no copy).

    Raises:
        FrameError: ``frame`` is not a NumPy array, its dtype is not uint8, its shape
            is not ``(H, W, 3)``, or ``H`` or ``W`` is 0. The message names ``name``
            and the offending dtype or shape.
    """
    if not isinstance(frame, np.ndarray):
        raise FrameError(f"{name} must be a numpy array of shape (H, W, 3), got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise FrameError(f"{name} must have dtype uint8 (0-255 BGR), got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != _CHANNELS:
        raise FrameError(f"{name} must have shape (H, W, 3) (BGR), got shape {frame.shape}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise FrameError(f"{name} is empty: shape {frame.shape}")
    return frame
