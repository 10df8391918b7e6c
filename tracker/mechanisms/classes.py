"""A track's class: a score-weighted vote over its matched detections, in bounded memory.

Each track keeps up to :data:`CLASS_SLOTS` classes, each with the sum of the scores of
the track's detections of that class; the reported class is the one with the largest
sum (on a tie, the one the track saw first). A track that meets yet another class
gives it the slot of its weakest one, so memory and time per track stay fixed
however many class ids a stream holds. A track's first class is its first
detection's, whatever that detection's score (a score of 0 still names a class).
"""

from __future__ import annotations

import numpy as np

from tracker.arrays import FloatArray, IntArray
from tracker.mechanisms.base import Frame, Part, Pipeline
from tracker.motion.base import MotionState
from tracker.table import FieldSpec

__all__ = ["CLASS_SLOTS", "ClassVote"]

#: Classes a track remembers; real tracks flicker between two or three (car, truck, bus).
CLASS_SLOTS = 4


class ClassVote(Part):
    """The class vote (module doc); one per pipeline, always on.

    While every detection the pipeline has seen has one class, the vote is skipped
    (each track's class is that class).
    """

    fields = (FieldSpec("class_ids", CLASS_SLOTS, integer=True), FieldSpec("class_votes", CLASS_SLOTS))

    def bind(self, p: Pipeline) -> None:
        ids, votes = p.table.column("class_ids"), p.table.column("class_votes")
        assert isinstance(ids, slice) and isinstance(votes, slice)  # CLASS_SLOTS columns each
        self._ids, self._votes = ids, votes
        self._only: int | None = None  # the one class seen so far, None before any or once there are several
        self._mixed = False
        self._checked: Frame | None = None  # the last frame whose classes were noted

    def _seen(self, frame: Frame) -> bool:
        """Note the classes of ``frame``'s detections; whether every class seen so far is one and the same."""
        if self._mixed or frame is self._checked:
            return not self._mixed
        self._checked = frame
        classes = set(frame.class_ids.tolist())  # cheaper than a NumPy reduction on a frame's few detections
        if self._only is None:
            self._only = classes.pop()
        if classes <= {self._only}:
            return True
        self._mixed = True
        return False

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
        class_ids = frame.class_ids.take(cols)
        self._seen(frame)
        ids = i[:, self._ids]  # a view: writes go to i
        ids[:, 0] = class_ids
        ids[:, 1:] = -1
        votes = np.empty((len(cols), CLASS_SLOTS))
        votes.fill(-np.inf)
        votes[:, 0] = frame.detector_scores.take(cols)
        f[:, self._votes] = votes

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
        scores = frame.detector_scores.take(cols)
        if self._seen(frame):
            f[:, self._votes.start] += scores
            return
        class_ids = frame.class_ids.take(cols)
        ids, votes = i[:, self._ids], f[:, self._votes]  # views: writes go to i and f
        same = ids == class_ids[:, None]
        known = same.any(axis=1)
        slot = np.where(known, same.argmax(axis=1), votes.argmin(axis=1))
        k = np.arange(len(cols))
        new = ~known
        ids[k[new], slot[new]] = class_ids[new]
        votes[k[new], slot[new]] = 0.0
        votes[k, slot] += scores

    def on_clear(self, p: Pipeline) -> None:
        self._only, self._mixed, self._checked = None, False, None

    def classes(self, f: FloatArray, i: IntArray) -> IntArray:
        """``(K,)`` int64 class of each of the table rows ``f``, ``i`` (a view of ``i`` while one class is seen)."""
        if not self._mixed:
            return i[:, self._ids.start]
        best = f[:, self._votes].argmax(axis=1)
        result: IntArray = i[:, self._ids][np.arange(len(i)), best]
        return result
