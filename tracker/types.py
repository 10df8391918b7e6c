"""Containers passed into and out of a tracker: :class:`Detections` and :class:`Tracks`.

Both are frozen dataclasses of parallel NumPy arrays (the layout of supervision's
``Detections``). They copy their inputs, validate them once on construction and
make the stored arrays read-only, so a tracker can never mutate a caller's data and
a caller can never mutate a tracker's output behind its back.

Boxes are ``xyxy``: ``(x1, y1, x2, y2)`` in pixels, origin at the image's top-left
corner, x to the right, y down, with ``x1 <= x2`` and ``y1 <= y2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from tracker.boxes import tlwh_to_xyxy

__all__ = ["Detections", "TrackState", "Tracks"]


def _as_array(name: str, value: object, dtype: type, ndim: int) -> np.ndarray:
    try:
        array: np.ndarray = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be convertible to a {np.dtype(dtype)} array: {error}") from None
    if array.ndim != ndim:
        expected = "(N, 4)" if ndim == 2 else "(N,)"
        raise ValueError(f"{name} must have shape {expected}, got shape {array.shape}")
    return array


def _check_boxes(owner: str, xyxy: np.ndarray) -> None:
    if xyxy.shape[1:] != (4,):
        raise ValueError(f"{owner}.xyxy must have shape (N, 4), got shape {xyxy.shape}")
    bad = ~np.isfinite(xyxy).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{owner}.xyxy row {row} is not finite: {xyxy[row].tolist()}")
    inverted = (xyxy[:, 2] < xyxy[:, 0]) | (xyxy[:, 3] < xyxy[:, 1])
    if inverted.any():
        row = int(np.flatnonzero(inverted)[0])
        raise ValueError(f"{owner}.xyxy row {row} is inverted (need x1 <= x2 and y1 <= y2): {xyxy[row].tolist()}")


def _check_lengths(owner: str, **arrays: np.ndarray) -> None:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shapes = ", ".join(f"{name} {arrays[name].shape}" for name in arrays)
        raise ValueError(f"{owner} fields must have equal lengths, got {shapes}")


def _freeze(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


@dataclass(frozen=True, eq=False)
class Detections:
    """The detections of one frame.

    Attributes:
        xyxy: ``(N, 4)`` float32 boxes ``(x1, y1, x2, y2)`` in pixels (a tracker associates a
            box narrower or lower than one pixel as one pixel wide or high, and reports it as given).
        scores: ``(N,)`` float32 detector confidences (any finite value; usually 0..1).
        class_ids: ``(N,)`` int64 class indices (COCO ids for the YOLO detector).

    Raises:
        ValueError: a field has the wrong shape, the lengths differ, a box or score is
            NaN or infinite, or a box is inverted (``x2 < x1`` or ``y2 < y1``). The
            message names the field, the expected and the actual shape or the row.
        TypeError: a field cannot be converted to a numeric array.

    The inputs are copied; the stored arrays are read-only.
    """

    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray

    def __post_init__(self) -> None:
        xyxy = _as_array("Detections.xyxy", self.xyxy, np.float32, 2)
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        scores = _as_array("Detections.scores", self.scores, np.float32, 1)
        class_ids = _as_array("Detections.class_ids", self.class_ids, np.float64, 1)
        _check_boxes("Detections", xyxy)
        _check_lengths("Detections", xyxy=xyxy, scores=scores, class_ids=class_ids)
        if not np.isfinite(scores).all():
            row = int(np.flatnonzero(~np.isfinite(scores))[0])
            raise ValueError(f"Detections.scores row {row} is not finite: {scores[row]}")
        if not (np.isfinite(class_ids).all() and (class_ids == np.round(class_ids)).all()):
            raise ValueError("Detections.class_ids must hold whole numbers")
        class_ids = class_ids.astype(np.int64)
        _freeze(xyxy, scores, class_ids)
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "class_ids", class_ids)

    @classmethod
    def empty(cls) -> Detections:
        """No detections: arrays of length 0."""
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64))

    @classmethod
    def from_tlwh(cls, tlwh: np.ndarray, scores: np.ndarray, class_ids: np.ndarray) -> Detections:
        """Build from ``(N, 4)`` ``(left, top, width, height)`` pixel boxes (MOTChallenge)."""
        return cls(tlwh_to_xyxy(tlwh), scores, class_ids)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        """Select detections with an integer index array, a boolean mask or a slice."""
        return Detections(self.xyxy[index], self.scores[index], self.class_ids[index])


class TrackState(IntEnum):
    """Life-cycle state of a track.

    ``TENTATIVE``: born from an unmatched detection, not yet ``min_hits`` hits.
    ``CONFIRMED``: enough hits and matched to a detection in the latest frame.
    ``LOST``: confirmed earlier, not matched in the latest frame (coasting on its
    motion model until ``max_age_s`` seconds without a match, then deleted).
    """

    TENTATIVE = 0
    CONFIRMED = 1
    LOST = 2


@dataclass(frozen=True, eq=False)
class Tracks:
    """Tracks reported by a tracker for one frame.

    Attributes:
        ids: ``(M,)`` int64 track IDs, unique within a tracker instance, never reused.
        xyxy: ``(M, 4)`` float32 boxes in pixels: for a track matched this frame
            (``det_index >= 0``) its detection's box or, with ``output_box="filtered"``,
            the motion model's corrected box; else the motion model's prediction.
        scores: ``(M,)`` float32 score of the latest matched detection.
        class_ids: ``(M,)`` int64 class of the track (a score-weighted vote over its
            detections).
        det_index: ``(M,)`` int64 index into the ``Detections`` passed to this
            ``update()`` call of the detection matched to the track, or -1.
        state: ``(M,)`` int8 :class:`TrackState` values.
        age: ``(M,)`` float64 seconds since the track's first detection.
        hits: ``(M,)`` int64 number of detections matched to the track so far.

    Raises:
        ValueError: fields of unequal length, or invalid boxes (as for Detections).
    """

    ids: np.ndarray
    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    det_index: np.ndarray
    state: np.ndarray
    age: np.ndarray
    hits: np.ndarray

    def __post_init__(self) -> None:
        fields = {
            "ids": np.int64,
            "scores": np.float32,
            "class_ids": np.int64,
            "det_index": np.int64,
            "state": np.int8,
            "age": np.float64,
            "hits": np.int64,
        }
        xyxy = _as_array("Tracks.xyxy", self.xyxy, np.float32, 2)
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        _check_boxes("Tracks", xyxy)
        arrays = {name: _as_array(f"Tracks.{name}", getattr(self, name), dt, 1) for name, dt in fields.items()}
        _check_lengths("Tracks", xyxy=xyxy, **arrays)
        _freeze(xyxy, *arrays.values())
        object.__setattr__(self, "xyxy", xyxy)
        for name, array in arrays.items():
            object.__setattr__(self, name, array)

    @classmethod
    def trusted(cls, **fields: np.ndarray) -> Tracks:
        """Build without validation from arrays a tracker produced itself.

        For tracker backends on their hot path: every field must already have its
        documented dtype and shape; the arrays are not copied, only made read-only.
        """
        tracks = object.__new__(cls)
        for array in fields.values():
            if array.flags.writeable:  # views of a read-only array are read-only already
                array.flags.writeable = False
        tracks.__dict__.update(fields)
        return tracks

    @classmethod
    def empty(cls) -> Tracks:
        """No tracks: arrays of length 0."""
        zeros = np.zeros(0)
        return cls(zeros, np.zeros((0, 4)), zeros, zeros, zeros, zeros, zeros, zeros)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Tracks:
        """Select tracks with an integer index array, a boolean mask or a slice."""
        return Tracks(
            self.ids[index],
            self.xyxy[index],
            self.scores[index],
            self.class_ids[index],
            self.det_index[index],
            self.state[index],
            self.age[index],
            self.hits[index],
        )
