"""The one association pipeline that every backend composes.

Per frame, for timestamp ``t`` (seconds) and ``dt`` since the previous frame:

1. **Predict** every track ``dt`` seconds ahead with the backend's motion model.
2. **Cost**: ``1 - IoU`` between the predicted boxes and this frame's detections
   (detections below ``min_score`` are ignored).
3. **Assign** with the Hungarian algorithm; pairs with IoU below ``iou_threshold``
   are never matched.
4. **Update** matched tracks' motion state with their detection; count the hit.
5. **Birth**: every unmatched detection starts a *tentative* track.
6. **Confirmation**: a track with ``min_hits`` hits becomes *confirmed*.
7. **Coasting and deletion**: an unmatched tentative track is deleted at once;
   an unmatched confirmed track is *lost* and coasts on its predictions until it
   has gone ``max_age_s`` seconds without a match, then it is deleted.

This is SORT's loop (Bewley et al., 2016) with DeepSORT's tentative/confirmed
life cycle (Wojke et al., 2017) and lifetimes measured in seconds.

**What ``update()`` returns** (what a user should draw): the confirmed tracks
matched to a detection in this frame, each with the motion model's corrected box
and ``det_index`` pointing at its detection. Lost and tentative tracks are kept
inside and available from :attr:`AssociationTracker.tracks`.

All per-track bookkeeping lives in NumPy arrays (one row per track), so the cost
per frame is a fixed number of vectorised operations plus one assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.association import linear_assignment
from tracker.base import BaseTracker
from tracker.boxes import iou_matrix
from tracker.motion.base import MotionModel, MotionState
from tracker.types import Detections, Tracks, TrackState

__all__ = ["AssociationConfig", "AssociationTracker"]


@dataclass(frozen=True)
class AssociationConfig:
    """Settings of the association pipeline (units in the names).

    Attributes:
        iou_threshold: smallest IoU between a track's predicted box and a detection
            for the two to be matched.
        min_hits: matched detections (including the first) before a track is confirmed.
        max_age_s: seconds a confirmed track may go unmatched before it is deleted.
        min_score: detections scoring below this are ignored.
    """

    iou_threshold: float = 0.3
    min_hits: int = 3
    max_age_s: float = 1.0
    min_score: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in [0, 1], got {self.iou_threshold}")
        if self.min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {self.min_hits}")
        if self.max_age_s < 0:
            raise ValueError(f"max_age_s must be >= 0 seconds, got {self.max_age_s}")


class AssociationTracker(BaseTracker):
    """Tracking-by-detection with a pluggable :class:`~tracker.motion.base.MotionModel`.

    Args:
        motion: the motion model (e.g. :class:`~tracker.motion.kalman.KalmanMotion`).
        config: association settings.

    Each instance numbers its own tracks from 1; two instances never share IDs or
    state, and an ID is never reused within an instance, even after :meth:`reset`.
    """

    name = "association"

    def __init__(self, motion: MotionModel, config: AssociationConfig | None = None) -> None:
        super().__init__()
        self.motion = motion
        self.config = config or AssociationConfig()
        self._next_id = 1
        self._class_columns: dict[int, int] = {}
        self._clear()

    def _clear(self) -> None:
        self._motion_state = MotionState()
        self._ids = np.zeros(0, dtype=np.int64)
        self._hits = np.zeros(0, dtype=np.int64)
        self._born = np.zeros(0, dtype=np.float64)
        self._last_matched = np.zeros(0, dtype=np.float64)
        self._scores = np.zeros(0, dtype=np.float32)
        self._confirmed = np.zeros(0, dtype=bool)
        self._votes = np.zeros((0, len(self._class_columns)), dtype=np.float64)
        self._det_index = np.zeros(0, dtype=np.int64)
        self._now = 0.0

    def _reset(self) -> None:
        self._clear()

    def _class_column(self, class_ids: np.ndarray) -> np.ndarray:
        for class_id in np.unique(class_ids).tolist():
            if class_id not in self._class_columns:
                self._class_columns[class_id] = len(self._class_columns)
                self._votes = np.pad(self._votes, ((0, 0), (0, 1)))
        return np.array([self._class_columns[c] for c in class_ids.tolist()], dtype=np.int64)

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        cfg = self.config
        self._now = timestamp
        if len(self._ids) and dt > 0:
            self._motion_state = self.motion.predict(self._motion_state, dt)

        candidates = np.flatnonzero(detections.scores >= cfg.min_score)
        boxes = detections.xyxy[candidates].astype(np.float64)
        iou = iou_matrix(self.motion.boxes(self._motion_state), boxes) if len(self._ids) else np.zeros((0, len(boxes)))
        matches, unmatched_tracks, unmatched_dets = linear_assignment(1.0 - iou, 1.0 - cfg.iou_threshold)

        track_rows, det_rows = matches[:, 0], matches[:, 1]
        self._det_index = np.full(len(self._ids), -1, dtype=np.int64)
        if len(matches):
            matched = self.motion.update(self._motion_state.take(track_rows), boxes[det_rows])
            self._motion_state.put(track_rows, matched)
            self._hits[track_rows] += 1
            self._last_matched[track_rows] = timestamp
            self._scores[track_rows] = detections.scores[candidates[det_rows]]
            self._det_index[track_rows] = candidates[det_rows]
            columns = self._class_column(detections.class_ids[candidates[det_rows]])
            np.add.at(self._votes, (track_rows, columns), detections.scores[candidates[det_rows]])

        self._confirmed |= self._hits >= cfg.min_hits
        unmatched = np.zeros(len(self._ids), dtype=bool)
        unmatched[unmatched_tracks] = True
        expired = unmatched & (~self._confirmed | (timestamp - self._last_matched > cfg.max_age_s))
        if expired.any():
            self._keep(~expired)

        if len(unmatched_dets):
            self._birth(detections, candidates[unmatched_dets], timestamp)
        return self._report(self._confirmed & (self._det_index >= 0))

    def _keep(self, mask: np.ndarray) -> None:
        self._motion_state = self.motion.select(self._motion_state, mask)
        for name in ("_ids", "_hits", "_born", "_last_matched", "_scores", "_confirmed", "_votes", "_det_index"):
            setattr(self, name, getattr(self, name)[mask])

    def _birth(self, detections: Detections, det_index: np.ndarray, timestamp: float) -> None:
        k = len(det_index)
        new_ids = np.arange(self._next_id, self._next_id + k, dtype=np.int64)
        self._next_id += k
        columns = self._class_column(detections.class_ids[det_index])
        votes = np.zeros((k, self._votes.shape[1]))
        votes[np.arange(k), columns] = detections.scores[det_index]
        state = self.motion.initiate(detections.xyxy[det_index].astype(np.float64))
        self._motion_state = self._motion_state.concat(state)
        self._ids = np.concatenate([self._ids, new_ids])
        self._hits = np.concatenate([self._hits, np.ones(k, dtype=np.int64)])
        self._born = np.concatenate([self._born, np.full(k, timestamp)])
        self._last_matched = np.concatenate([self._last_matched, np.full(k, timestamp)])
        self._scores = np.concatenate([self._scores, detections.scores[det_index]])
        self._confirmed = np.concatenate([self._confirmed, np.full(k, self.config.min_hits <= 1)])
        self._votes = np.concatenate([self._votes, votes])
        self._det_index = np.concatenate([self._det_index, det_index])

    def _states(self) -> np.ndarray:
        state = np.full(len(self._ids), TrackState.TENTATIVE, dtype=np.int8)
        state[self._confirmed] = TrackState.CONFIRMED
        state[self._confirmed & (self._det_index < 0)] = TrackState.LOST
        return state

    def _report(self, mask: np.ndarray) -> Tracks:
        inverse = np.array(sorted(self._class_columns, key=self._class_columns.get), dtype=np.int64)
        class_ids = inverse[self._votes[mask].argmax(axis=1)] if len(inverse) else np.zeros(int(mask.sum()))
        return Tracks(
            ids=self._ids[mask],
            xyxy=self.motion.boxes(self._motion_state.take(mask)) if mask.any() else np.zeros((0, 4)),
            scores=self._scores[mask],
            class_ids=class_ids,
            det_index=self._det_index[mask],
            state=self._states()[mask],
            age=self._now - self._born[mask],
            hits=self._hits[mask],
        )

    @property
    def tracks(self) -> Tracks:
        """Every live track after the latest update: tentative, confirmed and lost."""
        return self._report(np.ones(len(self._ids), dtype=bool))
