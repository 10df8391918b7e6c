"""Frame sources: a video file, a folder of frames, a camera or a rosbag2, read as timestamped BGR frames.

:func:`open_source` picks the source from a string (as given on the command line)
and opens it at once, decoding the first frame, so that a missing, unreadable or
corrupt source fails before anything else happens. The interface (:class:`Frame`,
:class:`FrameSource`, :class:`SourceConfig`, :class:`SourceError`) is defined in
:mod:`tracker.frames`, which the rosbag2 reader shares, and re-exported here. Iterating
a source yields :class:`Frame` tuples ``(index, timestamp, image, info)``:

- ``index``: 0-based position in the stream (frame ``index + 1`` in MOTChallenge files).
- ``timestamp``: capture time in seconds, strictly increasing.
- ``image``: ``(H, W, 3)`` uint8 BGR array; every frame of a source has the size of the first.
- ``info``: source-specific data, None except for a rosbag2 (the image's header, see below).

Timestamps:

- **video file**: the container's presentation time of each frame
  (``cv2.CAP_PROP_POS_MSEC``) when it is valid and strictly increasing, else
  ``index / fps`` (or one frame period after the previous timestamp when that
  would not increase).
- **frame folder**: ``index / fps``, with ``fps`` from ``SourceConfig.fps`` (``--fps``),
  else ``frameRate`` of the folder's ``seqinfo.ini``, else ``SourceConfig.fallback_fps``
  with a warning.
- **camera**: wall-clock time (``time.monotonic``) since the first frame.
- **rosbag2** (a folder with ``metadata.yaml``, or a ``.db3`` / ``.mcap`` file; needs
  ``pip install vtrack[ros]``): the ``header.stamp`` of each ``sensor_msgs/Image`` or
  ``sensor_msgs/CompressedImage`` of ``SourceConfig.image_topic`` (``--image-topic``; may be
  left out when the bag has a single image topic). Images whose stamp is not strictly after the
  previous one (out of order, duplicates) are dropped with a warning and counted in
  :attr:`FrameSource.dropped`; see :class:`tracker.ros2.bag.BagSource`.

Folder layouts: a folder of images sorted by name with numbers compared as numbers
(KITTI ``image_02/0000/000000.png ...``), or a MOTChallenge sequence folder holding
``seqinfo.ini`` and ``img1/`` (the image folder is ``imDir`` of ``seqinfo.ini``).

Bad input raises :class:`SourceError` with one line naming the file: a missing or
unreadable source, a video of which no frame decodes, an empty folder, an image
that cannot be read, a frame whose size differs from the first frame's. A video
that stops decoding before ``SourceConfig.truncation_warn_fraction`` of the frame
count announced in its header is only *warned* about (logging): the frames that
decoded are valid, and many containers announce an approximate count.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from tracker.formats import FormatError, SeqInfo, read_seqinfo
from tracker.frames import Frame, FrameSource, SourceConfig, SourceError

__all__ = [
    "BAG_SUFFIXES",
    "IMAGE_EXTENSIONS",
    "CameraSource",
    "FolderSource",
    "Frame",
    "FrameSource",
    "SourceConfig",
    "VIDEO_EXTENSIONS",
    "SourceError",
    "VideoSource",
    "is_frame_folder",
    "is_rosbag2",
    "open_source",
]

logger = logging.getLogger(__name__)

#: File name extensions (lower case) of the images a frame folder is read from.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

#: File name extensions (lower case) taken for videos when a folder of videos is expanded into sources
#: (any file OpenCV decodes can be given by name).
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".ts", ".mts", ".wmv", ".flv")

#: File name extensions (lower case) of single-file rosbag2 bags (SQLite 3 and MCAP storage).
BAG_SUFFIXES = (".db3", ".mcap")

_SEQINFO = "seqinfo.ini"
_BAG_METADATA = "metadata.yaml"
_MOT_IMAGE_DIR = "img1"


def _rate(value: float, name: str, config: SourceConfig) -> float:
    if math.isfinite(value) and value > 0:
        return float(value)
    logger.warning("%s: reports no frame rate; assuming %g Hz", name, config.fallback_fps)
    return config.fallback_fps


class VideoSource(FrameSource):
    """A video file read with OpenCV; see the module doc for timestamps and truncation.

    Raises:
        SourceError: the file cannot be opened as a video, or no frame decodes.
    """

    _length_label = "frames in its header"

    def __init__(self, path: Path, config: SourceConfig | None = None) -> None:
        config = config or SourceConfig()
        self.name = str(path)
        self._config = config
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise SourceError(f"{path}: cannot open as a video (not a video file, or truncated, or an unknown codec)")
        announced = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.length = announced if announced > 0 else None
        self.fps = _rate(self._cap.get(cv2.CAP_PROP_FPS), self.name, config)
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            announced_text = f" (its header announces {announced} frames)" if announced > 0 else ""
            raise SourceError(f"{path}: no frame could be decoded{announced_text}; the file is truncated or corrupt")
        self._first_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        super().__init__(first)

    def _frames(self) -> Iterator[tuple[float, np.ndarray, str]]:
        last: float | None = None
        image, ms, index = self._take_first(), self._first_ms, 0
        while True:
            timestamp = ms / 1000.0
            if not (math.isfinite(timestamp) and timestamp >= 0 and (last is None or timestamp > last)):
                nominal = index / self.fps
                timestamp = nominal if last is None or nominal > last else last + 1.0 / self.fps
                logger.debug("%s: frame %d has no usable time (%.3f ms); using %.6f s", self.name, index, ms, timestamp)
            last = timestamp
            yield timestamp, image, f"{self.name}: frame {index}"
            ok, image = self._cap.read()
            if not ok or image is None:
                break
            ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
            index += 1
        self._check_complete(index + 1)

    def _check_complete(self, decoded: int) -> None:
        if self.length is None or decoded >= self.length:
            return
        if decoded < self._config.truncation_warn_fraction * self.length:
            logger.warning(
                "%s: decoding stopped after %d of the %d frames announced by the header; "
                "the file may be truncated or corrupt",
                self.name,
                decoded,
                self.length,
            )
        else:
            logger.debug("%s: decoded %d frames, the header announced %d", self.name, decoded, self.length)

    def close(self) -> None:
        """Release the video file."""
        self._cap.release()


def _natural_key(path: Path) -> list[str | int]:
    """Sort key comparing digit runs as numbers: ``2.png`` before ``10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _read_seqinfo(path: Path) -> SeqInfo:
    try:
        return read_seqinfo(path)
    except (FormatError, OSError) as error:
        raise SourceError(str(error)) from None


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"{path}: cannot read image (corrupt, or a format OpenCV cannot decode)")
    return image


class FolderSource(FrameSource):
    """A folder of frames (images sorted by name, numbers compared as numbers), or a MOTChallenge sequence.

    Attributes:
        files: the image files in reading order.

    Raises:
        SourceError: the folder holds no image, ``seqinfo.ini`` is malformed, or the
            first image cannot be read.
    """

    def __init__(self, path: Path, config: SourceConfig | None = None) -> None:
        config = config or SourceConfig()
        self.name = str(path)
        image_dir, seqinfo_fps = path, None
        seqinfo = path / _SEQINFO
        if seqinfo.is_file():
            info = _read_seqinfo(seqinfo)
            image_dir, seqinfo_fps = path / info.image_dir, info.frame_rate
            if not image_dir.is_dir():
                raise SourceError(f"{seqinfo}: imDir '{info.image_dir}' is not a folder next to it")
        elif (path / _MOT_IMAGE_DIR).is_dir():
            image_dir = path / _MOT_IMAGE_DIR
        self.files = sorted(
            (p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()),
            key=_natural_key,
        )
        if not self.files:
            raise SourceError(f"{image_dir}: no image files in this folder (looked for {', '.join(IMAGE_EXTENSIONS)})")
        self.length = len(self.files)
        if config.fps is not None:
            self.fps = config.fps
            if seqinfo_fps is not None and seqinfo_fps != config.fps:
                logger.info("%s: using --fps %g instead of its frameRate %g", self.name, config.fps, seqinfo_fps)
        elif seqinfo_fps is not None:
            self.fps = seqinfo_fps
        else:
            self.fps = config.fallback_fps
            lacking = f"{seqinfo} has no frameRate" if seqinfo.is_file() else f"no {_SEQINFO}"
            logger.warning(
                "%s: no frame rate given (--fps) and %s; assuming %g Hz", self.name, lacking, config.fallback_fps
            )
        super().__init__(_read_image(self.files[0]))

    def _frames(self) -> Iterator[tuple[float, np.ndarray, str]]:
        yield 0.0, self._take_first(), str(self.files[0])
        for index, path in enumerate(self.files[1:], start=1):
            yield index / self.fps, _read_image(path), str(path)

    def close(self) -> None:
        """Nothing to release: each image is read and closed in turn."""


class CameraSource(FrameSource):
    """A live camera (``cv2.VideoCapture(index)``), time-stamped with ``time.monotonic`` from the first frame.

    The stream ends when the camera stops delivering frames (a warning is logged)
    or when the reader stops iterating (e.g. on Ctrl-C).

    Raises:
        SourceError: the camera cannot be opened or delivers no first frame.
    """

    def __init__(self, index: int, config: SourceConfig | None = None) -> None:
        config = config or SourceConfig()
        self.name = f"camera {index}"
        self.length = None
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            raise SourceError(f"{self.name}: cannot open (no such camera, or it is in use)")
        self.fps = _rate(self._cap.get(cv2.CAP_PROP_FPS), self.name, config)
        ok, first = self._cap.read()
        self._start = time.monotonic()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"{self.name}: opened, but it delivered no frame")
        super().__init__(first)

    def _frames(self) -> Iterator[tuple[float, np.ndarray, str]]:
        last = 0.0
        yield last, self._take_first(), f"{self.name}: frame 0"
        index = 1
        while True:
            ok, image = self._cap.read()
            if not ok or image is None:
                logger.warning("%s: stopped delivering frames after %d frames", self.name, index)
                return
            timestamp = time.monotonic() - self._start
            last = timestamp if timestamp > last else math.nextafter(last, math.inf)
            yield last, image, f"{self.name}: frame {index}"
            index += 1

    def close(self) -> None:
        """Release the camera."""
        self._cap.release()


def _open_bag(path: Path, config: SourceConfig) -> FrameSource:
    try:
        from tracker.ros2.bag import BagSource
    except ImportError as error:
        raise SourceError(f"{path}: reading a rosbag2 needs rosbags (pip install vtrack[ros]): {error}") from None
    return BagSource(path, config.image_topic, config)


def is_rosbag2(path: str | Path) -> bool:
    """Whether ``path`` is a rosbag2: a folder holding ``metadata.yaml``, or a ``.db3`` / ``.mcap`` file."""
    path = Path(path)
    if path.is_dir():
        return (path / _BAG_METADATA).is_file()
    return path.is_file() and path.suffix.lower() in BAG_SUFFIXES


def is_frame_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder :class:`FolderSource` reads: one holding ``seqinfo.ini``, ``img1/`` or images."""
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / _SEQINFO).is_file() or (path / _MOT_IMAGE_DIR).is_dir():
        return True
    return any(entry.suffix.lower() in IMAGE_EXTENSIONS and entry.is_file() for entry in path.iterdir())


def open_source(source: str | Path, config: SourceConfig | None = None) -> FrameSource:
    """Open a frame source and decode its first frame.

    Args:
        source: a video file path, a frame folder path, a rosbag2 (folder or ``.db3`` /
            ``.mcap`` file), or a camera index given as a string of digits (``"0"``) that is
            not also an existing path.
        config: rates, checks and the rosbag2 image topic; defaults to :class:`SourceConfig`'s defaults.

    Returns:
        A :class:`VideoSource`, :class:`FolderSource`, :class:`CameraSource` or
        :class:`tracker.ros2.bag.BagSource`.

    Raises:
        SourceError: the path does not exist or cannot be read, the source cannot be
            opened or yields no frame (see the classes), or ``config.image_topic`` is given
            for a source that is not a rosbag2; the message is one line naming it.
    """
    config = config or SourceConfig()
    text = str(source)
    path = Path(source)
    camera = text.isdigit() and not path.exists()
    if not camera and not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if not camera and is_rosbag2(path):
        return _open_bag(path, config)
    if config.image_topic is not None:
        raise SourceError(f"{text}: --image-topic is only for rosbag2 sources, and this is not one")
    if camera:
        return CameraSource(int(text), config)
    try:
        if path.is_dir():
            return FolderSource(path, config)
        with path.open("rb"):
            pass
    except PermissionError:
        raise SourceError(f"{path}: permission denied") from None
    return VideoSource(path, config)
