"""Adapters that put peer tracking libraries behind vtrack's :class:`tracker.Tracker` protocol.

- :class:`RoboflowTracker` wraps a tracker of roboflow's ``trackers`` package
  (``SORTTracker``, ``ByteTrackTracker``, ``OCSORTTracker``; Apache-2.0). Its public
  ``update(sv.Detections, timestamp=...)`` returns the input detections with a
  ``tracker_id`` (-1: not a confirmed track). The adapter attaches each detection's
  index as ``sv.Detections.data["det_index"]``, which supervision carries through
  the tracker's indexing, so every reported track keeps its ``det_index``.
- :class:`BoxmotTracker` wraps a ``boxmot`` tracker (``ByteTrack``, ``OcSort``,
  ``BotSort``; AGPL-3.0). Its public ``update(dets, img)`` takes an ``(N, 6)`` array
  ``x1, y1, x2, y2, conf, cls`` and returns ``(M, 8)`` rows
  ``x1, y1, x2, y2, id, conf, cls, det_ind``; ``det_ind`` is the detection's row.

Both libraries are used through their public APIs only, with their own defaults;
the adapters pass the constructor arguments they are given (the frame rate, and
for BoT-SORT the switches that turn off ReID and camera-motion compensation) and
record every effective constructor argument in :attr:`PeerTracker.settings`.

``age`` and ``hits`` of the reported :class:`tracker.Tracks` are the adapter's own
bookkeeping: seconds since the library first reported the ID, and the number of
frames in which it reported it (the libraries do not expose them uniformly). The
libraries restart their ID counters on ``reset()``; the adapters add an offset to the
IDs after a reset, so that, as the :class:`tracker.Tracker` protocol requires, an
instance never reports an ID twice for different tracks.

**Timing.** Every adapter accumulates in :attr:`PeerTracker.library_seconds` the
wall-clock seconds spent inside the library's own ``update`` call alone; building
its input (``sv.Detections``, the ``(N, 6)`` array) and turning its output into
:class:`tracker.Tracks` happen outside that timer. The benchmark harness reports
these seconds as the peer's ``update fps`` (:class:`LibraryTimed`), so that peers and
vtrack's own backends are timed on the tracking work alone.
"""

from __future__ import annotations

import inspect
import logging
import time
from importlib.metadata import version
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tracker.base import BaseTracker
from tracker.types import Detections, Tracks, TrackState

__all__ = ["BoxmotTracker", "LibraryTimed", "PeerTracker", "RoboflowTracker", "constructor_settings"]

#: boxmot prints an INFO banner with its settings for every new tracker; the benchmark
#: records those settings itself, so that logger is kept at WARNING.
_BOXMOT_LOGGER = "boxmot"
#: How a library's "argument not given" sentinel is recorded.
_UNSET = "<unset>"


def constructor_settings(cls: type, arguments: dict[str, Any]) -> dict[str, Any]:
    """Every keyword argument of ``cls``'s constructor chain with its effective value.

    Walks the ``__init__`` of ``cls`` and of its bases (libraries forward ``**kwargs``
    to a base class) and takes each parameter's default, overridden by ``arguments``.
    Values that are not JSON scalars are recorded as text: a class by its dotted name, a
    bare ``object()`` sentinel (a library's "not given") as ``<unset>``, anything else by ``repr``.
    """
    settings: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if name != "self" and parameter.default is not inspect.Parameter.empty:
                settings[name] = parameter.default
    settings.update(arguments)
    return {name: _plain(value) for name, value in settings.items()}


def _plain(value: Any) -> Any:
    """``value`` if it is a JSON scalar, else a stable text (a class by its dotted name, a sentinel as ``<unset>``)."""
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if type(value) is object:
        return _UNSET
    return repr(value)


@runtime_checkable
class LibraryTimed(Protocol):
    """A backend that wraps another tracking library and times that library's own update call.

    Attributes:
        library_seconds: wall-clock seconds (``time.perf_counter``) spent inside the
            wrapped library's ``update`` since the backend was built, summed over calls;
            the backend's conversions to and from the library's types are not included.
    """

    library_seconds: float


class PeerTracker(BaseTracker):
    """Common part of the adapters: timestamp checks (from BaseTracker), the Tracks bookkeeping and the timer.

    Attributes:
        name: the registered backend name (e.g. ``rf-bytetrack``).
        settings: ``{"library", "version", "class", "arguments"}``: the peer library's
            distribution name and version, the wrapped class and every effective
            constructor argument (see :func:`constructor_settings`).
        library_seconds: seconds spent inside the library's own ``update`` call (see
            :class:`LibraryTimed`); :meth:`reset` does not clear it.
    """

    def __init__(self, name: str, library: str, tracker_class: type, arguments: dict[str, Any]) -> None:
        super().__init__()
        self.name = name
        self._tracker = tracker_class(**arguments)
        self.settings = {
            "library": library,
            "version": version(library),
            "class": f"{tracker_class.__module__}.{tracker_class.__qualname__}",
            "arguments": constructor_settings(tracker_class, arguments),
        }
        self._first_seen: dict[int, float] = {}
        self._hits: dict[int, int] = {}
        self._id_offset = 0
        self._last_id = -1
        self.library_seconds = 0.0

    def _library_update(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapped tracker's ``update(*args, **kwargs)``, its wall-clock time added to :attr:`library_seconds`."""
        start = time.perf_counter()
        result = self._tracker.update(*args, **kwargs)
        self.library_seconds += time.perf_counter() - start
        return result

    def _tracks(
        self,
        ids: np.ndarray,
        xyxy: np.ndarray,
        scores: np.ndarray,
        class_ids: np.ndarray,
        det_index: np.ndarray,
        timestamp: float,
    ) -> Tracks:
        ids = np.asarray(ids, dtype=np.int64) + self._id_offset
        if len(ids):
            self._last_id = max(self._last_id, int(ids.max()))
        for track_id in ids.tolist():
            self._first_seen.setdefault(track_id, timestamp)
            self._hits[track_id] = self._hits.get(track_id, 0) + 1
        return Tracks(
            ids=ids,
            xyxy=np.asarray(xyxy, dtype=np.float64).reshape(-1, 4),
            scores=scores,
            class_ids=class_ids,
            det_index=det_index,
            state=np.full(len(ids), TrackState.CONFIRMED, dtype=np.int8),
            age=np.array([timestamp - self._first_seen[i] for i in ids.tolist()], dtype=np.float64),
            hits=np.array([self._hits[i] for i in ids.tolist()], dtype=np.int64),
        )

    def _reset(self) -> None:
        self._tracker.reset()
        self._first_seen.clear()
        self._hits.clear()
        self._id_offset = self._last_id + 1


class RoboflowTracker(PeerTracker):
    """A roboflow ``trackers`` tracker (``trackers.SORTTracker`` etc.) as a vtrack Tracker.

    Args:
        name: backend name.
        tracker_class: the library class, e.g. ``trackers.ByteTrackTracker``.
        arguments: constructor arguments (e.g. ``{"frame_rate": 10.0}``).

    ``update`` passes the timestamp (seconds) to the library's ``update(timestamp=...)``.
    Reported tracks are the detections the library returned with ``tracker_id >= 0``;
    their boxes are those detections' boxes and ``det_index`` points at them.
    """

    def __init__(self, name: str, tracker_class: type, arguments: dict[str, Any]) -> None:
        super().__init__(name, "trackers", tracker_class, arguments)

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        import supervision as sv

        count = len(detections)
        inputs = sv.Detections(
            xyxy=detections.xyxy.astype(np.float64),
            confidence=detections.scores.astype(np.float64),
            class_id=detections.class_ids.astype(int),
            data={"det_index": np.arange(count)},
        )
        result = self._library_update(inputs, timestamp=timestamp)
        keep = np.asarray(result.tracker_id) >= 0
        if not keep.any():
            return self._tracks(np.zeros(0), np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(0), timestamp)
        det_index = np.asarray(result.data["det_index"])[keep]
        return self._tracks(
            ids=np.asarray(result.tracker_id)[keep],
            xyxy=result.xyxy[keep],
            scores=detections.scores[det_index],
            class_ids=detections.class_ids[det_index],
            det_index=det_index,
            timestamp=timestamp,
        )


class BoxmotTracker(PeerTracker):
    """A ``boxmot`` tracker (``boxmot.ByteTrack`` etc.) as a vtrack Tracker.

    Args:
        name: backend name.
        tracker_class: the library class, e.g. ``boxmot.ByteTrack``.
        arguments: constructor arguments (e.g. ``{"frame_rate": 10}``).

    No image is passed (``img=None``): the benchmarks replay detections without
    frames, so appearance (ReID) and camera-motion compensation must be off.
    boxmot counts time in frames (its ``variable_dt`` default is off), so the
    timestamps only serve the adapter's checks and ``age``. Reported boxes are the
    library's; ``det_index`` is its ``det_ind`` column, and the score is that
    detection's (as vtrack's backends report it; BoostTrack-style trackers return a
    boosted confidence instead).

    boxmot refuses a frame holding a box without width or height ("AABB detection rows
    must satisfy x2 > x1 and y2 > y1"), which public detections contain (KITTI PointRCNN,
    sequence 0000 frame 115); the adapter leaves such boxes out of what it passes and
    maps ``det_ind`` back to the frame's own detection indices. It is recorded in
    :attr:`PeerTracker.settings` (``adapter``), so results from before are not reused.
    """

    def __init__(self, name: str, tracker_class: type, arguments: dict[str, Any]) -> None:
        logging.getLogger(_BOXMOT_LOGGER).setLevel(logging.WARNING)
        super().__init__(name, "boxmot", tracker_class, arguments)
        self.settings["adapter"] = "degenerate boxes left out"

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        xyxy = detections.xyxy
        proper = np.flatnonzero((xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1]))
        rows = np.column_stack([xyxy, detections.scores, detections.class_ids]).astype(np.float32)
        rows = rows.reshape(-1, 6)[proper]
        out = np.asarray(self._library_update(rows, None)).reshape(-1, 8)
        det_index = out[:, 7].astype(np.int64)
        det_index[det_index >= 0] = proper[det_index[det_index >= 0]]
        scores = out[:, 5].astype(np.float32)
        matched = det_index >= 0
        scores[matched] = detections.scores[det_index[matched]]
        return self._tracks(
            ids=out[:, 4],
            xyxy=out[:, :4],
            scores=scores,
            class_ids=np.rint(out[:, 6]),
            det_index=det_index,
            timestamp=timestamp,
        )
