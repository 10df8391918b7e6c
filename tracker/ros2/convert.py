"""``vision_msgs/Detection2DArray`` <-> :class:`~tracker.Detections` / :class:`~tracker.Tracks`, and ROS time.

Imports neither rclpy nor rosbags nor OpenCV: messages are read by attribute (duck typing) and
built with the classes in a :class:`MessageClasses`, which a node fills from rclpy
(``MessageClasses.from_lookup(rosidl_runtime_py.utilities.get_message)``) and
:mod:`tracker.ros2.bag` from a rosbags typestore. Message classes are called with every field as
a keyword argument, which both rclpy's and rosbags' classes accept.

Field mapping (``vision_msgs`` 4.x, the ROS 2 layout), one ``Detection2D`` per detection or track:

- ``bbox.center.position.x/y``: box centre in pixels (x right, y down, origin top-left);
  ``bbox.size_x/size_y``: full width and height in pixels; ``bbox.center.theta``: rotation in
  radians. vtrack writes ``theta = 0``; on input a rotated box is replaced by the axis-aligned
  box enclosing it.
- ``results[0].hypothesis.class_id``: the class as a string. vtrack writes the class id in
  decimal (COCO ids for the YOLO detector, e.g. ``"2"`` for car), or the class name where a
  ``class_names`` mapping is given. On input, a decimal string is an id, any other non-empty
  string a name looked up in ``class_ids`` (name -> id), and the empty string is -1 (unknown).
  Of several hypotheses, the one with the highest score is used.
- ``results[0].hypothesis.score``: detection confidence (for a track: its latest detection's).
- ``results[0].pose``: not used (written as zeros with an identity orientation).
- ``id``: the track ID in decimal for tracks; empty for detections.
- ``header`` (of the array and of every detection): the header of the image the boxes belong to.

Time: ``builtin_interfaces/Time`` is ``sec`` (int32) + ``nanosec`` (uint32, ``0 <= nanosec < 1e9``).
:func:`time_to_ns` / :func:`time_from_ns` convert exactly through integer nanoseconds. Seconds as a
float64 are exact to the nanosecond only below 2**53 ns (about 104 days); an epoch stamp in
seconds is accurate to about 0.2 microseconds. So messages are stamped by copying headers or
through integer nanoseconds, never through float seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import numpy as np

from tracker.types import Detections, Tracks

__all__ = [
    "NS_PER_S",
    "TYPE_NAMES",
    "MessageClasses",
    "MessageError",
    "UNKNOWN_CLASS",
    "TrackedBoxes",
    "detections_from_msg",
    "detections_to_msg",
    "parse_class_id",
    "seconds_to_time",
    "time_from_ns",
    "time_to_ns",
    "time_to_seconds",
    "tracks_from_msg",
    "tracks_to_msg",
]

#: Nanoseconds per second.
NS_PER_S = 1_000_000_000

#: Range of ``builtin_interfaces/Time.sec`` (int32).
_SEC_MIN, _SEC_MAX = -(2**31), 2**31 - 1

#: ``geometry_msgs/PoseWithCovariance.covariance`` has 6 x 6 entries.
_POSE_COVARIANCE_SIZE = 36

#: Class id written and read for an unknown class (the empty ``class_id`` string).
UNKNOWN_CLASS = -1

#: ROS type name of each field of :class:`MessageClasses`.
TYPE_NAMES: Mapping[str, str] = {
    "detection_array": "vision_msgs/msg/Detection2DArray",
    "detection": "vision_msgs/msg/Detection2D",
    "hypothesis_with_pose": "vision_msgs/msg/ObjectHypothesisWithPose",
    "hypothesis": "vision_msgs/msg/ObjectHypothesis",
    "bounding_box": "vision_msgs/msg/BoundingBox2D",
    "pose_2d": "vision_msgs/msg/Pose2D",
    "point_2d": "vision_msgs/msg/Point2D",
    "pose_with_covariance": "geometry_msgs/msg/PoseWithCovariance",
    "pose": "geometry_msgs/msg/Pose",
    "point": "geometry_msgs/msg/Point",
    "quaternion": "geometry_msgs/msg/Quaternion",
    "header": "std_msgs/msg/Header",
    "time": "builtin_interfaces/msg/Time",
}


class MessageError(ValueError):
    """A message cannot be converted; the one-line message names the field (e.g. ``detections[3].id``)."""


@dataclass(frozen=True)
class MessageClasses:
    """The message classes conversions build messages with; each is called with keyword arguments.

    Attributes:
        detection_array: ``vision_msgs/msg/Detection2DArray``.
        detection: ``vision_msgs/msg/Detection2D``.
        hypothesis_with_pose: ``vision_msgs/msg/ObjectHypothesisWithPose``.
        hypothesis: ``vision_msgs/msg/ObjectHypothesis``.
        bounding_box: ``vision_msgs/msg/BoundingBox2D``.
        pose_2d: ``vision_msgs/msg/Pose2D``.
        point_2d: ``vision_msgs/msg/Point2D``.
        pose_with_covariance: ``geometry_msgs/msg/PoseWithCovariance``.
        pose: ``geometry_msgs/msg/Pose``.
        point: ``geometry_msgs/msg/Point``.
        quaternion: ``geometry_msgs/msg/Quaternion``.
        header: ``std_msgs/msg/Header``.
        time: ``builtin_interfaces/msg/Time``.
    """

    detection_array: Callable[..., Any]
    detection: Callable[..., Any]
    hypothesis_with_pose: Callable[..., Any]
    hypothesis: Callable[..., Any]
    bounding_box: Callable[..., Any]
    pose_2d: Callable[..., Any]
    point_2d: Callable[..., Any]
    pose_with_covariance: Callable[..., Any]
    pose: Callable[..., Any]
    point: Callable[..., Any]
    quaternion: Callable[..., Any]
    header: Callable[..., Any]
    time: Callable[..., Any]

    @classmethod
    def from_lookup(cls, lookup: Callable[[str], Any]) -> MessageClasses:
        """Fill every field with ``lookup(type name)``, the names being :data:`TYPE_NAMES`.

        Args:
            lookup: type name (``"vision_msgs/msg/Detection2D"``) -> class, e.g.
                ``rosidl_runtime_py.utilities.get_message`` or ``typestore.types.__getitem__``.

        Raises:
            Whatever ``lookup`` raises for an unknown type (e.g. ``KeyError``, ``ModuleNotFoundError``).
        """
        return cls(**{field.name: lookup(TYPE_NAMES[field.name]) for field in fields(cls)})


def time_to_ns(stamp: Any) -> int:
    """``builtin_interfaces/Time`` -> integer nanoseconds (``sec * 1e9 + nanosec``), exact.

    Raises:
        MessageError: ``nanosec`` is outside ``[0, 1e9)``.
    """
    sec, nanosec = int(stamp.sec), int(stamp.nanosec)
    if not 0 <= nanosec < NS_PER_S:
        raise MessageError(f"stamp.nanosec must be in [0, {NS_PER_S}), got {nanosec}")
    return sec * NS_PER_S + nanosec


def time_from_ns(ns: int, classes: MessageClasses) -> Any:
    """Integer nanoseconds -> ``builtin_interfaces/Time`` (``nanosec`` in ``[0, 1e9)``, also for negative times).

    Raises:
        MessageError: ``sec`` would not fit ``int32``.
    """
    sec, nanosec = divmod(int(ns), NS_PER_S)
    if not _SEC_MIN <= sec <= _SEC_MAX:
        raise MessageError(f"time {ns} ns is outside the int32 seconds of builtin_interfaces/Time")
    return classes.time(sec=sec, nanosec=nanosec)


def time_to_seconds(stamp: Any) -> float:
    """``builtin_interfaces/Time`` -> float seconds (exact below 2**53 ns; see the module doc)."""
    return time_to_ns(stamp) / NS_PER_S


def seconds_to_time(seconds: float, classes: MessageClasses) -> Any:
    """Float seconds -> ``builtin_interfaces/Time``, rounded to the nearest nanosecond.

    Raises:
        MessageError: ``seconds`` is not finite or out of the int32 seconds range.
    """
    if not math.isfinite(seconds):
        raise MessageError(f"time must be finite seconds, got {seconds}")
    whole = math.floor(seconds)
    return time_from_ns(whole * NS_PER_S + round((seconds - whole) * NS_PER_S), classes)


def parse_class_id(text: str, class_ids: Mapping[str, int] | None = None, where: str = "class_id") -> int:
    """A ``hypothesis.class_id`` string -> class id: decimal -> its value, ``""`` -> -1, else a name.

    Args:
        text: the string from the message.
        class_ids: class name -> id, for names (e.g. ``{"car": 2}``).
        where: the field, named in errors.

    Raises:
        MessageError: a name not in ``class_ids`` (the message lists the known names).
    """
    text = text.strip()
    if not text:
        return UNKNOWN_CLASS
    if text.lstrip("-").isdigit():
        return int(text)
    if class_ids is not None and text in class_ids:
        return int(class_ids[text])
    known = ", ".join(sorted(class_ids)) if class_ids else "none given"
    raise MessageError(f"{where}: unknown class name {text!r} (expected a decimal id or a known name: {known})")


def _aligned_box(bbox: Any, where: str) -> tuple[float, float, float, float]:
    """``(x1, y1, x2, y2)`` of a ``BoundingBox2D``: the axis-aligned box enclosing it if rotated."""
    cx, cy = float(bbox.center.position.x), float(bbox.center.position.y)
    width, height, theta = float(bbox.size_x), float(bbox.size_y), float(bbox.center.theta)
    values = (cx, cy, width, height, theta)
    if not all(math.isfinite(v) for v in values):
        raise MessageError(f"{where}.bbox is not finite: centre ({cx}, {cy}), size ({width}, {height}), theta {theta}")
    if width < 0 or height < 0:
        raise MessageError(f"{where}.bbox has a negative size: size_x {width}, size_y {height}")
    if theta:
        cos, sin = abs(math.cos(theta)), abs(math.sin(theta))
        width, height = cos * width + sin * height, sin * width + cos * height
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _best_hypothesis(detection: Any, where: str) -> Any:
    results: Sequence[Any] = detection.results
    if not results:
        raise MessageError(f"{where}.results is empty: a class hypothesis with a score is required")
    return max((result.hypothesis for result in results), key=lambda h: float(h.score))


def _read(msg: Any, class_ids: Mapping[str, int] | None) -> tuple[Detections, list[str]]:
    """The boxes, scores and classes of a ``Detection2DArray``, and the ``id`` strings."""
    boxes, scores, classes, ids = [], [], [], []
    for index, detection in enumerate(msg.detections):
        where = f"detections[{index}]"
        hypothesis = _best_hypothesis(detection, where)
        score = float(hypothesis.score)
        if not math.isfinite(score):
            raise MessageError(f"{where}.results: score is not finite: {score}")
        boxes.append(_aligned_box(detection.bbox, where))
        scores.append(score)
        classes.append(parse_class_id(str(hypothesis.class_id), class_ids, f"{where}.results class_id"))
        ids.append(str(detection.id))
    detections = Detections(np.array(boxes, dtype=np.float64).reshape(-1, 4), np.array(scores), np.array(classes))
    return detections, ids


def detections_from_msg(msg: Any, class_ids: Mapping[str, int] | None = None) -> Detections:
    """A ``vision_msgs/Detection2DArray`` -> :class:`~tracker.Detections` (boxes in pixels, see the module doc).

    Args:
        msg: the message (rclpy's or rosbags' class, or anything with the same fields).
        class_ids: class name -> id, for ``class_id`` strings that are names.

    Raises:
        MessageError: a detection without results, a non-finite box or score, a negative size,
            or an unknown class name; the message names the detection, e.g. ``detections[2]``.
    """
    return _read(msg, class_ids)[0]


class TrackedBoxes(NamedTuple):
    """The tracks of a ``Detection2DArray`` written by :func:`tracks_to_msg`.

    Attributes:
        ids: ``(M,)`` int64 track IDs.
        boxes: their boxes (pixels), scores and classes.
    """

    ids: np.ndarray
    boxes: Detections


def tracks_from_msg(msg: Any, class_ids: Mapping[str, int] | None = None) -> TrackedBoxes:
    """A track ``vision_msgs/Detection2DArray`` -> track IDs and boxes.

    Raises:
        MessageError: as :func:`detections_from_msg`, or an ``id`` that is not a decimal integer.
    """
    boxes, id_texts = _read(msg, class_ids)
    ids = []
    for index, text in enumerate(id_texts):
        try:
            ids.append(int(text))
        except ValueError:
            raise MessageError(f"detections[{index}].id must be a decimal track ID, got {text!r}") from None
    return TrackedBoxes(np.array(ids, dtype=np.int64), boxes)


def _class_text(class_id: int, class_names: Mapping[int, str] | None) -> str:
    if class_id == UNKNOWN_CLASS:
        return ""
    if class_names is not None and class_id in class_names:
        return class_names[class_id]
    return str(class_id)


def _build(
    xyxy: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    ids: list[str],
    header: Any,
    classes: MessageClasses,
    class_names: Mapping[int, str] | None,
) -> Any:
    boxes = np.asarray(xyxy, dtype=np.float64)
    centres = ((boxes[:, :2] + boxes[:, 2:]) / 2).tolist()
    sizes = (boxes[:, 2:] - boxes[:, :2]).tolist()
    detections = []
    for (cx, cy), (width, height), score, class_id, identity in zip(
        centres, sizes, scores.tolist(), class_ids.tolist(), ids, strict=True
    ):
        pose = classes.pose_with_covariance(
            pose=classes.pose(
                position=classes.point(x=0.0, y=0.0, z=0.0),
                orientation=classes.quaternion(x=0.0, y=0.0, z=0.0, w=1.0),
            ),
            covariance=np.zeros(_POSE_COVARIANCE_SIZE),
        )
        hypothesis = classes.hypothesis(class_id=_class_text(int(class_id), class_names), score=float(score))
        bbox = classes.bounding_box(
            center=classes.pose_2d(position=classes.point_2d(x=cx, y=cy), theta=0.0), size_x=width, size_y=height
        )
        detections.append(
            classes.detection(
                header=header,
                results=[classes.hypothesis_with_pose(hypothesis=hypothesis, pose=pose)],
                bbox=bbox,
                id=identity,
            )
        )
    return classes.detection_array(header=header, detections=detections)


def detections_to_msg(
    detections: Detections, header: Any, classes: MessageClasses, class_names: Mapping[int, str] | None = None
) -> Any:
    """:class:`~tracker.Detections` -> ``vision_msgs/Detection2DArray`` with empty ``id`` strings.

    Args:
        detections: the boxes (pixels), scores and class ids.
        header: the ``std_msgs/Header`` of the image (stamp, frame_id), copied into every detection.
        classes: the message classes to build with.
        class_names: class id -> name, to write names instead of decimal ids (ids not in it stay decimal).
    """
    ids = [""] * len(detections)
    return _build(detections.xyxy, detections.scores, detections.class_ids, ids, header, classes, class_names)


def tracks_to_msg(
    tracks: Tracks, header: Any, classes: MessageClasses, class_names: Mapping[int, str] | None = None
) -> Any:
    """:class:`~tracker.Tracks` -> ``vision_msgs/Detection2DArray``, ``id`` = the track ID in decimal.

    Args:
        tracks: the tracks of one image (boxes in pixels; score and class of each track).
        header: the ``std_msgs/Header`` of the image the tracks belong to, copied as is.
        classes: the message classes to build with.
        class_names: class id -> name, to write names instead of decimal ids.
    """
    ids = [str(track_id) for track_id in tracks.ids.tolist()]
    return _build(tracks.xyxy, tracks.scores, tracks.class_ids, ids, header, classes, class_names)
