"""The kinds of parts the association pipeline composes, and what one update shares between them.

One update of :class:`tracker.pipeline.Pipeline` runs, in order, its
:class:`ScoreBoost` parts (change detection scores), its :class:`Stage` parts (match
tracks to detections; the first association sums :class:`CostTerm` parts), its
:class:`UpdatePolicy` parts (shape the motion model's correction of matched tracks),
then the life cycle. Every part may declare per-track fields
(:class:`tracker.table.FieldSpec`) and react to the events of a track's life through
the hooks of :class:`Part`; a hook a part does not override is never called.

:class:`Frame` holds one update's inputs and caches what several parts need (the IoU
and Mahalanobis distances of every track to every detection); :class:`Matches`
collects the stages' pairs and what is still unmatched.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

import numpy as np

from tracker.arrays import BoolArray, FloatArray, IntArray, indices
from tracker.boxes import iou_of_pairs, iou_xyxy, overlapping_pairs
from tracker.motion.base import MotionModel, MotionState
from tracker.table import FieldSpec, TrackTable
from tracker.types import Detections

__all__ = [
    "LARGE_FRAME_PAIRS",
    "MIN_EXTENT",
    "CostTerm",
    "Frame",
    "Matches",
    "Part",
    "Pipeline",
    "ScoreBoost",
    "Stage",
    "UpdatePolicy",
]


class Pipeline(Protocol):
    """What a part sees of the pipeline (:class:`tracker.pipeline.AssociationTracker`)."""

    #: Per-track data, one row per live track.
    table: TrackTable
    #: The motion state of the same rows.
    state: MotionState
    #: The motion model.
    motion: MotionModel
    #: The motion model's class name, for messages.
    motion_name: str
    #: Updates since the last reset (the clock of ``table``'s ``matched_at``).
    updates: int


#: Frames with more track-detection pairs than this (about 120 tracks and 120 detections)
#: are associated through the pairs of boxes that overlap (:func:`tracker.boxes.overlapping_pairs`,
#: :func:`tracker.association.sparse_assignment`) instead of ``(M, N)`` matrices, so that time
#: and memory grow with the number of boxes, not its square. Smaller frames, the usual ones,
#: keep the matrices: fewer NumPy calls (the two cost the same at 110 to 125 boxes each on
#: ``benchmarks/scale.py``'s scene).
LARGE_FRAME_PAIRS = 15_000

#: Smallest width and height, in pixels, of a detection as association and motion see it: a
#: degenerate (e.g. zero-width) detection is widened to one pixel from its ``x1``/``y1``, so that
#: it can overlap (IoU > 0) the same object's box in the next frame despite sub-pixel motion,
#: and its aspect ratio is finite. It is reported as given.
MIN_EXTENT = 1.0


class Frame:
    """One update's detections as the parts see them, its times, and distances cached for the parts.

    Attributes:
        now: this update's timestamp, seconds.
        previous: the previous update's timestamp, seconds (0 before the first).
        xyxy: ``(N, 4)`` float32 ``xyxy`` detection boxes as given (reported for matched tracks).
        boxes: ``(N, 4)`` float64 ``xyxy`` boxes for association and motion: ``xyxy``
            with every width and height at least :data:`MIN_EXTENT` pixels.
        scores: ``(N,)`` detection scores as the association sees them: score boosts
            replace this array.
        detector_scores: ``(N,)`` float32 scores as the detector gave them (reported, voted with).
        class_ids: ``(N,)`` int64 detection classes.
        large: associate through overlapping pairs (see :data:`LARGE_FRAME_PAIRS`), not matrices.
    """

    __slots__ = (
        "_d2",
        "_iou",
        "_pairs",
        "_tracker",
        "boxes",
        "class_ids",
        "detector_scores",
        "large",
        "now",
        "previous",
        "scores",
        "xyxy",
    )

    def __init__(
        self, tracker: Pipeline, detections: Detections, now: float, previous: float, large: bool = False
    ) -> None:
        self._tracker = tracker
        self.xyxy = detections.xyxy
        boxes = detections.xyxy.astype(np.float64)
        corners = boxes[:, 2:]  # a view: (x2, y2) raised to (x1, y1) + MIN_EXTENT where smaller
        np.maximum(corners, boxes[:, :2] + MIN_EXTENT, out=corners)
        self.boxes = boxes
        self.scores = self.detector_scores = detections.scores
        self.class_ids = detections.class_ids
        self.now = now
        self.previous = previous
        self.large = large
        self._iou: FloatArray | None = None
        self._pairs: tuple[IntArray, IntArray, FloatArray] | None = None
        self._d2: dict[bool, FloatArray] = {}

    def iou(self) -> FloatArray:
        """``(M, N)`` IoU of every track's predicted box with every detection (computed once per update)."""
        if self._iou is None:
            table = self._tracker.table
            self._iou = iou_xyxy(table.f[:, table.BOX], self.boxes)
        return self._iou

    def pairs(self) -> tuple[IntArray, IntArray, FloatArray]:
        """The overlapping (track, detection) pairs: ``(K,)`` track rows, detection indices and their IoU.

        Every pair not listed has IoU 0 (computed once per update; for large frames).
        """
        if self._pairs is None:
            table = self._tracker.table
            tracks = table.f[:, table.BOX]
            rows, cols = overlapping_pairs(tracks, self.boxes)
            self._pairs = rows, cols, iou_of_pairs(tracks, self.boxes, rows, cols)
        return self._pairs

    def mahalanobis(self, measurement_noise: bool) -> FloatArray:
        """``(M, N)`` squared Mahalanobis distances of every detection to every track (computed once per kind).

        See :meth:`tracker.motion.base.MotionModel.mahalanobis`.
        """
        d2 = self._d2.get(measurement_noise)
        if d2 is None:
            t = self._tracker
            d2 = self._d2[measurement_noise] = t.motion.mahalanobis(t.state, self.boxes, measurement_noise)
        return d2


class Matches:
    """The stages' results so far: matched pairs and what is still free.

    Attributes:
        rows: per stage that matched, the ``(K,)`` int64 track rows (table rows).
        cols: per stage, the ``(K,)`` int64 detection indices matched to ``rows``.
        free_tracks: ``(T,)`` int64 rows of the tracks still unmatched.
        high: ``(H,)`` int64 indices of the detections scoring at least ``min_score``.
        free_high: ``(F,)`` int64 positions in ``high`` of the high-score detections still unmatched.
    """

    __slots__ = ("cols", "free_high", "free_tracks", "high", "rows")

    def __init__(self, free_tracks: IntArray, high: IntArray) -> None:
        self.rows: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.free_tracks = free_tracks
        self.high = high
        self.free_high = indices(len(high))

    def add(self, rows: IntArray, cols: IntArray) -> None:
        """Record matched pairs (track rows, detection indices); the caller updates the free sets."""
        if len(rows):
            self.rows.append(rows)
            self.cols.append(cols)

    def pairs(self) -> tuple[IntArray, IntArray]:
        """All matched ``(rows, cols)`` so far, each ``(K,)`` int64."""
        if len(self.rows) == 1:
            return self.rows[0], self.cols[0]
        if not self.rows:
            return _NONE, _NONE
        return np.concatenate(self.rows), np.concatenate(self.cols)


_NONE = np.zeros(0, dtype=np.int64)


class Part:
    """A mechanism of the pipeline: the per-track fields it declares and its hooks (all optional).

    Hooks receive the pipeline ``p`` (its ``table``, ``state`` and ``motion``). ``f`` and
    ``i`` are gathered float and int table rows of the tracks concerned, which the
    pipeline writes back (or appends) after every part has run.
    """

    #: Per-track fields this part needs, added to the table after the core fields.
    fields: tuple[FieldSpec, ...] = ()
    #: Whether this part reads the core field ``obs`` (the last matched box), which the
    #: pipeline keeps up to date only when some part does.
    needs_observations: bool = False
    #: Whether this part works on large frames through overlapping pairs (``frame.large``);
    #: a pipeline with a part that does not keeps ``(M, N)`` matrices at every size.
    supports_large_frames: bool = True

    def bind(self, p: Pipeline) -> None:
        """Called once when the pipeline is built: resolve table columns, check the motion model.

        Raises:
            ValueError: the motion model lacks a capability this part needs.
        """

    def on_birth(
        self,
        p: Pipeline,
        frame: Frame,
        cols: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
    ) -> None:
        """Initialise the rows ``f``, ``i`` of new tracks born from detections ``cols``.

        ``boxes``: those detections' ``(K, 4)`` float64 ``xyxy``; ``state``: the new tracks' motion state.
        """

    def on_match(
        self,
        p: Pipeline,
        frame: Frame,
        rows: IntArray,
        cols: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
    ) -> None:
        """After the motion model's correction of tracks ``rows`` with detections ``cols``.

        ``boxes``: those detections' ``(K, 4)`` float64 ``xyxy``; ``state``: the corrected motion state.
        """

    def on_keep(self, p: Pipeline, mask: np.ndarray) -> None:
        """Tracks are dropped: only those where the ``(M,)`` bool ``mask`` holds remain."""

    def on_warp(self, p: Pipeline, affine: FloatArray) -> None:
        """Camera motion: move what this part keeps outside the table by the ``(2, 3)`` ``affine``."""

    def on_clear(self, p: Pipeline) -> None:
        """Every track is forgotten (``reset()``)."""

    def reportable(self, p: Pipeline, f: FloatArray, i: IntArray) -> BoolArray:
        """``(K,)`` bool: which of the confirmed, matched tracks with rows ``f``, ``i`` ``update()`` reports."""
        return np.ones(len(i), dtype=bool)


class ScoreBoost(Part):
    """Changes detection scores before the detections are split by score."""

    #: Whether the boost needs tracks (then it is skipped on an update without any).
    needs_tracks: bool = True

    @abstractmethod
    def boost(self, p: Pipeline, frame: Frame) -> None:
        """Replace ``frame.scores`` (called when there are detections, and tracks if ``needs_tracks``)."""


class CostTerm(Part):
    """A similarity subtracted from the first association's cost ``1 - IoU``."""

    @abstractmethod
    def similarity(self, p: Pipeline, frame: Frame, cols: IntArray, iou: FloatArray) -> FloatArray:
        """``(M, K)`` float64 similarity of every track with detections ``cols`` (``iou``: their ``(M, K)`` IoU)."""

    def pair_similarity(self, p: Pipeline, frame: Frame, rows: IntArray, cols: IntArray, iou: FloatArray) -> FloatArray:
        """``(K,)`` float64 similarity of the pairs (track ``rows[k]``, detection ``cols[k]``) of IoU ``iou``.

        For large frames; a term that sets ``supports_large_frames`` implements it.
        """
        raise NotImplementedError(f"{type(self).__name__} has no pairwise form")


class Stage(Part, ABC):
    """One matching pass: takes free tracks and free detections, records pairs in :class:`Matches`."""

    @abstractmethod
    def match(self, p: Pipeline, frame: Frame, matches: Matches) -> None:
        """Match what is still free in ``matches`` and update it (called only when tracks exist)."""


class UpdatePolicy(Part):
    """Shapes the motion model's correction of matched tracks."""

    @abstractmethod
    def before_update(
        self,
        p: Pipeline,
        rows: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
        now: float,
    ) -> tuple[MotionState, FloatArray | None]:
        """Before the correction of tracks ``rows`` (gathered ``f``, ``i``, ``state``) with ``(K, 4)`` ``boxes``.

        Returns the state to correct and, optionally, gain factors for
        :meth:`tracker.motion.base.MotionModel.update`'s ``gain_scale``.
        """
