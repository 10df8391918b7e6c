"""What a ROS 2 tracking node does with its messages, without ROS: :class:`TrackingHandler`.

The node (``examples/ros2/vtrack_node.py``) subscribes to ``vision_msgs/Detection2DArray``
detections (and optionally the images they were computed from), passes each message to
:meth:`TrackingHandler.handle` and publishes what it returns: a ``Detection2DArray`` of tracks
with the detections' header (see :mod:`tracker.ros2.convert` for the fields). Everything here
is plain Python, so it is tested without rclpy.

Cameras: one tracker per ``header.frame_id`` (``per_frame_id=True``, the default: a node can
serve several cameras), or a single tracker for every message. Track IDs are unique per
camera (each tracker counts its own), never reused.

Time: the tracker gets ``header.stamp`` as seconds since that camera's first message (integer
nanoseconds subtracted, then divided, so epoch stamps lose no precision). A message whose
stamp is not strictly after the previous one of its camera (out of order or duplicate) is
**dropped** with a warning and counted in :attr:`HandlerStats.dropped`; it returns None and
nothing is published for it. :meth:`TrackingHandler.reset` starts afresh (e.g. when a bag loops).

Camera motion compensation (``camera_motion=True``): images are given to
:meth:`TrackingHandler.add_image` as they arrive and kept (at most ``image_buffer_size``) until
the detections with the same ``frame_id`` and stamp arrive; the image then feeds a
:class:`~tracker.camera_motion.CameraMotionEstimator` (OpenCV) for that camera. Detections
without a matching image are tracked without compensation and counted in
:attr:`HandlerStats.without_image`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tracker
from tracker.camera_motion import CameraMotionEstimator
from tracker.ros2.convert import NS_PER_S, MessageClasses, detections_from_msg, time_to_ns, tracks_to_msg
from tracker.ros2.images import image_to_bgr

__all__ = ["IMAGE_BUFFER_SIZE", "HandlerStats", "TrackingHandler"]

logger = logging.getLogger(__name__)

#: Images kept while waiting for their detections (about 1 s of a 30 Hz camera).
IMAGE_BUFFER_SIZE = 30


@dataclass
class HandlerStats:
    """Counters of a :class:`TrackingHandler`.

    Attributes:
        handled: detection messages tracked (a tracks message was returned).
        dropped: detection messages dropped for an out-of-order or duplicate stamp.
        without_image: with camera motion on, messages tracked without a matching image.
    """

    handled: int = 0
    dropped: int = 0
    without_image: int = 0


@dataclass
class _Camera:
    """The state of one camera: its tracker, estimator and the first and last stamps (ns)."""

    tracker: tracker.Tracker
    cmc: CameraMotionEstimator | None
    first_ns: int | None = None
    last_ns: int | None = None
    last_s: float = field(default=float("-inf"))


class TrackingHandler:
    """Turns detection messages into track messages, one tracker per camera; see the module doc.

    Args:
        classes: the message classes to build the output with (rclpy's in a node).
        tracker_name: a name of :func:`tracker.available`, or ``"default"``.
        tracker_config: overrides of the backend's config (e.g. a YAML file's mapping).
        per_frame_id: one tracker per ``header.frame_id`` (True) or one for all messages.
        camera_motion: estimate camera motion from the images given to :meth:`add_image`.
        class_names: class id -> name. Input ``class_id`` strings that are names are looked
            up in it; with ``write_names`` the output carries names instead of decimal ids.
        write_names: write class names (from ``class_names``) rather than decimal ids.
        image_buffer_size: images kept while waiting for their detections.

    Raises:
        ValueError: unknown ``tracker_name``; ``image_buffer_size`` < 1.
        tracker.ConfigError: a bad ``tracker_config`` (checked by creating a first tracker).
        ImportError: ``camera_motion`` and OpenCV is not installed.
    """

    def __init__(
        self,
        classes: MessageClasses,
        tracker_name: str = "default",
        tracker_config: Mapping[str, Any] | None = None,
        *,
        per_frame_id: bool = True,
        camera_motion: bool = False,
        class_names: Mapping[int, str] | None = None,
        write_names: bool = False,
        image_buffer_size: int = IMAGE_BUFFER_SIZE,
    ) -> None:
        if image_buffer_size < 1:
            raise ValueError(f"image_buffer_size must be at least 1, got {image_buffer_size}")
        self.classes = classes
        self.tracker_name = tracker_name
        self.tracker_config = dict(tracker_config or {})
        self.per_frame_id = per_frame_id
        self.camera_motion = camera_motion
        self.stats = HandlerStats()
        self._class_ids = {name: class_id for class_id, name in (class_names or {}).items()}
        self._output_names = dict(class_names or {}) if write_names else None
        self._buffer_size = image_buffer_size
        self._images: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._cameras: dict[str, _Camera] = {}
        self._spare = self._new_camera()

    def _new_camera(self) -> _Camera:
        cmc = CameraMotionEstimator() if self.camera_motion else None
        return _Camera(tracker.create(self.tracker_name, self.tracker_config), cmc)

    def _key(self, header: Any) -> str:
        return str(header.frame_id) if self.per_frame_id else ""

    def _camera(self, key: str) -> _Camera:
        camera = self._cameras.get(key)
        if camera is None:
            camera, self._spare = self._spare, self._new_camera()
            self._cameras[key] = camera
            logger.info("tracking camera %r with a new %s tracker", key, camera.tracker.name)
        return camera

    @property
    def cameras(self) -> list[str]:
        """The camera keys seen so far (frame_ids, or ``""`` with ``per_frame_id=False``)."""
        return list(self._cameras)

    @property
    def pending_images(self) -> int:
        """Images kept for camera motion that no detections have used yet."""
        return len(self._images)

    def add_image(self, msg: Any) -> None:
        """Keep a ``sensor_msgs/Image`` or ``CompressedImage`` for the detections with its stamp.

        Ignored without ``camera_motion``. The oldest image is forgotten beyond ``image_buffer_size``.

        Raises:
            tracker.ros2.convert.MessageError: a bad stamp (``nanosec`` out of range).
        """
        if not self.camera_motion:
            return
        self._images[(self._key(msg.header), time_to_ns(msg.header.stamp))] = msg
        while len(self._images) > self._buffer_size:
            self._images.popitem(last=False)

    def handle(self, msg: Any) -> Any | None:
        """Track one ``vision_msgs/Detection2DArray``; return the tracks message, or None if dropped.

        Returns:
            A ``Detection2DArray`` built with ``classes``: one ``Detection2D`` per track
            (``id`` = track ID), with ``msg.header`` as its header; None for an out-of-order or
            duplicate stamp (logged, counted in ``stats.dropped``).

        Raises:
            tracker.ros2.convert.MessageError: a detection the tracker cannot take (no results,
                a non-finite box or score, an unknown class name); the message names it. The
                tracker's state is unchanged.
            tracker.ros2.images.ImageError: the matching image cannot be decoded.
        """
        key = self._key(msg.header)
        ns = time_to_ns(msg.header.stamp)
        camera = self._camera(key)
        first = ns if camera.first_ns is None else camera.first_ns
        seconds = (ns - first) / NS_PER_S
        if camera.last_ns is not None and (ns <= camera.last_ns or seconds <= camera.last_s):
            self.stats.dropped += 1
            logger.warning(
                "camera %r: dropped detections stamped %d ns, not after the previous %d ns (%d dropped so far)",
                key,
                ns,
                camera.last_ns,
                self.stats.dropped,
            )
            return None
        detections = detections_from_msg(msg, self._class_ids)
        affine = None
        if camera.cmc is not None:
            image = self._images.pop((key, ns), None)
            if image is None:
                self.stats.without_image += 1
                logger.debug("camera %r: no image stamped %d ns; tracking without camera motion", key, ns)
            else:
                affine = camera.cmc(image_to_bgr(image), detections.xyxy)
        tracks = camera.tracker.update(detections, seconds, camera_motion=affine)
        camera.first_ns, camera.last_ns, camera.last_s = first, ns, seconds
        self.stats.handled += 1
        return tracks_to_msg(tracks, msg.header, self.classes, self._output_names)

    def reset(self) -> None:
        """Forget every camera's tracks, stamps and images (track IDs start again from 1)."""
        self._cameras.clear()
        self._images.clear()
        self._spare = self._new_camera()
