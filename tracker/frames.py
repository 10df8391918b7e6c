"""The frame-source interface shared by every reader of frames: :class:`Frame`, :class:`FrameSource`.

A frame source is a single-pass stream of timestamped BGR images of one size. The
readers live where their dependencies do: video files, frame folders and cameras in
:mod:`tracker.app.sources` (OpenCV), rosbag2 images in :mod:`tracker.ros2.bag`
(``rosbags``); both import this module, which needs NumPy only, and neither imports
the other at module level. ``import tracker`` does not import this module.

Iterating a source yields :class:`Frame` tuples ``(index, timestamp, image, info)``:

- ``index``: 0-based position in the stream (frame ``index + 1`` in MOTChallenge files).
- ``timestamp``: capture time in seconds, strictly increasing.
- ``image``: ``(H, W, 3)`` uint8 BGR array; every frame of a source has the size of the first.
- ``info``: source-specific data, None except for a rosbag2 (the image's header).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Frame", "FrameSource", "SourceConfig", "SourceError"]


class SourceError(Exception):
    """A frame source cannot be opened or read; the one-line message names the file or camera."""


class Frame(NamedTuple):
    """One frame of a source.

    Attributes:
        index: 0-based position in the stream.
        timestamp: capture time in seconds (strictly increasing along the stream).
        image: ``(H, W, 3)`` uint8 BGR array.
        info: source-specific data: a :class:`tracker.ros2.bag.BagImageInfo` (the image
            message's header and receive time) for a rosbag2; None for other sources.
    """

    index: int  # type: ignore[assignment]  # the stream position; shadows tuple.index, as it always has
    timestamp: float
    image: np.ndarray
    info: Any = None


@dataclass(frozen=True)
class SourceConfig:
    """How sources are read.

    Attributes:
        fps: frame rate of a frame folder in Hz (frames per second); None: the
            folder's ``seqinfo.ini`` ``frameRate``, else ``fallback_fps``. Ignored
            for videos and cameras, which carry their own times.
        fallback_fps: rate in Hz assumed where nothing gives one (a folder without
            ``seqinfo.ini`` and no ``fps``; a video or camera reporting none).
            10 Hz is KITTI's camera rate.
        truncation_warn_fraction: warn when a video stops decoding before this
            fraction of the frame count announced by its header.
        image_topic: the image topic of a rosbag2 source; None: the bag's only image
            topic. Giving it for another kind of source is an error.
    """

    fps: float | None = None
    fallback_fps: float = 10.0
    truncation_warn_fraction: float = 0.8
    image_topic: str | None = None

    def __post_init__(self) -> None:
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"fps must be a positive number of frames per second, got {self.fps}")
        if not (math.isfinite(self.fallback_fps) and self.fallback_fps > 0):
            raise ValueError(f"fallback_fps must be a positive number of frames per second, got {self.fallback_fps}")
        if not 0.0 <= self.truncation_warn_fraction <= 1.0:
            raise ValueError(f"truncation_warn_fraction must be in [0, 1], got {self.truncation_warn_fraction}")


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


class FrameSource(ABC):
    """A single-pass stream of :class:`Frame` with a known frame size.

    Attributes:
        name: the source as a user names it: the file or folder path, or ``"camera N"``.
        fps: nominal frame rate in Hz (used for the annotated video's rate).
        length: number of frames announced (video header, images in the folder), or
            None where unknown (camera).
        width, height: frame size in pixels, from the first frame.
        dropped: frames the source skipped so far (a rosbag2's out-of-order or duplicate
            stamps); 0 for the other sources.

    Use as a context manager, or call :meth:`close`, to release the device or file.

    Raises (while iterating):
        SourceError: a frame's size differs from the first frame's (the message names
            the frame or file and both sizes), or an image of a folder cannot be read.
    """

    name: str
    fps: float
    length: int | None
    dropped: int = 0

    def __init__(self, first: np.ndarray) -> None:
        self._first: np.ndarray | None = first
        self.height, self.width = first.shape[:2]
        self._started = False

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError(f"{self.name}: a frame source can be iterated only once")
        self._started = True
        for index, (timestamp, image, where, *info) in enumerate(self._frames()):
            if image.shape[:2] != (self.height, self.width):
                raise SourceError(
                    f"{where}: frame size changed mid-stream from {self.width}x{self.height} to {_size(image)}"
                )
            yield Frame(index, timestamp, image, *info)

    def _take_first(self) -> np.ndarray:
        """The frame decoded when the source was opened (once)."""
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError(f"{self.name}: the first frame was already taken")
        return first

    @abstractmethod
    def _frames(self) -> Iterator[tuple[Any, ...]]:
        """Yield ``(timestamp_s, image, where)`` or ``(timestamp_s, image, where, info)`` per frame.

        ``where`` names the frame in errors; ``info`` becomes :attr:`Frame.info` (None if left out).
        """

    @abstractmethod
    def close(self) -> None:
        """Release the underlying file or device (idempotent)."""

    _length_label = "frames"

    def describe(self) -> str:
        """One line for the user: name, size, rate and length."""
        length = f", {self.length} {self._length_label}" if self.length is not None else ""
        return f"{self.name} ({self.width}x{self.height}, {self.fps:g} fps{length})"

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
