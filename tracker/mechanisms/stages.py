"""Matching stages: the first association, BYTE's second pass and OC-SORT's recovery.

Each stage matches what the stages before it left free, with the Hungarian algorithm
(:func:`tracker.association.linear_assignment`) under the pipeline's assignment
objective (``gated`` or ``global``, see :mod:`tracker.association`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.arrays import FloatArray, IntArray
from tracker.association import Assignment, linear_assignment, sparse_assignment
from tracker.boxes import iou_of_pairs, iou_xyxy, overlapping_pairs
from tracker.config import check_range
from tracker.mechanisms.base import CostTerm, Frame, Matches, Pipeline, Stage

__all__ = ["ByteAssociation", "ByteConfig", "FirstAssociation", "Recovery"]


class FirstAssociation(Stage):
    """All tracks against the detections scoring at least ``min_score`` (SORT's association).

    The cost of a pair is ``1 - IoU`` (``1 - IoU * score`` with ``fuse_score``, ByteTrack's
    MOT17 setting: a confident detection wins a contested track) minus the similarity of
    each :class:`~tracker.mechanisms.base.CostTerm`; a pair whose IoU is below
    ``iou_threshold`` is never matched.

    Args:
        iou_threshold: smallest IoU of a match, in ``[0, 1]``.
        fuse_score: weight the IoU by the detection's score in the cost.
        terms: the cost terms, subtracted in order.
        gate_after: SORT's global objective (gate applied after solving).
    """

    def __init__(self, iou_threshold: float, fuse_score: bool, terms: list[CostTerm], gate_after: bool) -> None:
        self.iou_threshold = iou_threshold
        self.fuse_score = fuse_score
        self.terms = terms
        self.gate_after = gate_after

    def match(self, p: Pipeline, frame: Frame, matches: Matches) -> None:
        high = matches.high
        if not len(high):
            return
        if frame.large:
            first = self._match_pairs(p, frame, high)
        else:
            every = len(high) == len(frame.scores)  # then high is 0..N-1
            iou = frame.iou() if every else frame.iou().take(high, axis=1)

            def cost() -> FloatArray:  # needed only where feasible pairs compete
                matrix = 1.0 - (iou * (frame.scores if every else frame.scores.take(high)) if self.fuse_score else iou)
                for term in self.terms:
                    matrix -= term.similarity(p, frame, high, iou)
                return matrix

            first = linear_assignment(cost, iou >= self.iou_threshold, self.gate_after)
        matches.add(first.rows, high.take(first.cols))
        matches.free_tracks, matches.free_high = first.free_rows, first.free_cols

    def _match_pairs(self, p: Pipeline, frame: Frame, high: IntArray) -> Assignment:
        """The assignment of a large frame, through the overlapping pairs (columns: positions in ``high``)."""
        rows, cols, iou = frame.pairs()
        position = _positions(high, len(frame.boxes))
        keep = position.take(cols) >= 0
        rows, cols, iou = rows.compress(keep), cols.compress(keep), iou.compress(keep)
        cost = 1.0 - (iou * frame.scores.take(cols) if self.fuse_score else iou)
        for term in self.terms:
            cost -= term.pair_similarity(p, frame, rows, cols, iou)
        return sparse_assignment(
            len(p.table), len(high), rows, position.take(cols), cost, iou >= self.iou_threshold, self.gate_after
        )


@dataclass(frozen=True)
class ByteConfig:
    """BYTE's second association (ByteTrack, Zhang et al., ECCV 2022).

    Attributes:
        low_score: the second pass takes the detections scoring in ``[low_score, min_score)``.
        iou_threshold: smallest IoU of a match in the second pass, in ``[0, 1]``.
    """

    low_score: float = 0.1
    iou_threshold: float = 0.5

    def __post_init__(self) -> None:
        check_range("byte.iou_threshold", self.iou_threshold, 0.0, 1.0)
        check_range("byte.low_score", self.low_score)


class ByteAssociation(Stage):
    """BYTE: the low-score detections against the confirmed tracks matched in the previous update and still free.

    Cost ``1 - IoU`` against the tracks' predicted boxes, gated at ``config.iou_threshold``.

    Args:
        config: the BYTE settings.
        min_score: the first association's score threshold (the top of the low band).
        gate_after: SORT's global objective.

    Raises:
        ValueError: ``config.low_score`` exceeds ``min_score``.
    """

    def __init__(self, config: ByteConfig, min_score: float, gate_after: bool) -> None:
        if config.low_score > min_score:
            raise ValueError(f"byte.low_score ({config.low_score}) must not exceed min_score ({min_score})")
        self.config = config
        self.min_score = min_score
        self.gate_after = gate_after

    def match(self, p: Pipeline, frame: Frame, matches: Matches) -> None:
        free = matches.free_tracks
        if not len(free):
            return
        scores = frame.scores
        low = ((scores >= self.config.low_score) & (scores < self.min_score)).nonzero()[0]
        if not len(low):
            return
        t = p.table
        # Positions (in free) of the confirmed tracks matched in the previous update.
        recent = ((t.i[:, t.CONFIRMED].take(free) > 0) & (t.f[:, t.LAST].take(free) >= frame.previous)).nonzero()[0]
        if frame.large:
            rows, cols, iou = frame.pairs()
            row_position = _positions(free.take(recent), len(t))
            col_position = _positions(low, len(frame.boxes))
            keep = (row_position.take(rows) >= 0) & (col_position.take(cols) >= 0)
            rows, cols, iou = rows.compress(keep), cols.compress(keep), iou.compress(keep)
            second = sparse_assignment(
                len(recent),
                len(low),
                row_position.take(rows),
                col_position.take(cols),
                1.0 - iou,
                iou >= self.config.iou_threshold,
                self.gate_after,
            )
        else:
            iou = frame.iou().take(free.take(recent), axis=0).take(low, axis=1)
            second = linear_assignment(lambda: 1.0 - iou, iou >= self.config.iou_threshold, self.gate_after)
        if len(second.rows):
            taken = recent.take(second.rows)
            matches.add(free.take(taken), low.take(second.cols))
            unmatched = np.ones(len(free), dtype=bool)
            unmatched[taken] = False
            matches.free_tracks = free.compress(unmatched)


class Recovery(Stage):
    """OC-SORT's observation-centric recovery (Cao et al., CVPR 2023).

    The tracks still free, by the box of their *last observation* instead of their
    prediction, against the high-score detections still free; cost ``1 - IoU``, gated
    at the first association's ``iou_threshold``.
    """

    needs_observations = True

    def __init__(self, iou_threshold: float, gate_after: bool) -> None:
        self.iou_threshold = iou_threshold
        self.gate_after = gate_after

    def match(self, p: Pipeline, frame: Frame, matches: Matches) -> None:
        free, free_high = matches.free_tracks, matches.free_high
        if not (len(free) and len(free_high)):
            return
        t = p.table
        cols = matches.high.take(free_high)
        observed, boxes = t.f.take(free, axis=0)[:, t.OBS], frame.boxes.take(cols, axis=0)
        if frame.large:
            r, c = overlapping_pairs(observed, boxes)
            iou = iou_of_pairs(observed, boxes, r, c)
            third = sparse_assignment(len(free), len(cols), r, c, 1.0 - iou, iou >= self.iou_threshold, self.gate_after)
        else:
            iou = iou_xyxy(observed, boxes)
            third = linear_assignment(lambda: 1.0 - iou, iou >= self.iou_threshold, self.gate_after)
        matches.add(free.take(third.rows), cols.take(third.cols))
        matches.free_tracks, matches.free_high = free.take(third.free_rows), free_high.take(third.free_cols)


def _positions(index: IntArray, size: int) -> IntArray:
    """``(size,)`` int64: the position of each value in ``index``, -1 where it is absent."""
    position = -np.ones(size, dtype=np.int64)
    position[index] = np.arange(len(index))
    return position
