"""The one association pipeline that every backend composes.

Per frame, at timestamp ``t`` (seconds), ``dt`` seconds after the previous frame:

0. **Camera motion** (optional): when ``update()`` is given the frame-to-frame
   affine, every track's motion state and stored observations are moved into the
   new frame's pixel coordinates (BoT-SORT, Aharon et al. 2022).
1. **Predict** every track ``dt`` seconds ahead with the backend's motion model.
2. **First association**: detections scoring at least ``min_score`` against all
   tracks, cost ``1 - IoU`` (plus, with ``ocm_weight > 0``, OC-SORT's
   velocity-direction consistency term), solved with the Hungarian algorithm;
   pairs with IoU below ``iou_threshold`` are never matched.
3. **BYTE** (optional, ``byte_low_score``): the low-score detections
   (``byte_low_score <= score < min_score``) against the confirmed tracks still
   unmatched that were matched in the previous frame, IoU at least
   ``byte_iou_threshold`` (ByteTrack, Zhang et al. 2022).
4. **Observation-centric recovery** (optional, ``ocr``): remaining tracks, by the
   box of their *last observation* instead of the prediction, against the
   remaining high-score detections (OC-SORT, Cao et al. 2023).
5. **Update** matched tracks. With ``oru``, a track matched again after missed
   frames first has its motion state rolled back to its last observation and
   re-run along a virtual trajectory interpolated linearly to the new detection
   (OC-SORT's observation-centric re-update).
6. **Birth**: unmatched detections scoring at least ``birth_score`` start
   *tentative* tracks.
7. **Confirmation**: a track with ``min_hits`` hits becomes *confirmed*.
8. **Coasting and deletion**: an unmatched tentative track is deleted at once; an
   unmatched confirmed track is *lost* and coasts on its predictions until it has
   gone ``max_age_s`` seconds without a match, then it is deleted.

With every option off this is SORT's loop (Bewley et al., 2016) with DeepSORT's
tentative/confirmed life cycle (Wojke et al., 2017) and lifetimes in seconds.

**What ``update()`` returns** (what a user should draw): the confirmed tracks
matched to a detection in this frame, each with ``det_index`` pointing at its
detection and, by default (``output_box="detection"``), that detection's box;
``output_box="filtered"`` reports the motion model's corrected box instead (as
SORT does). The detection's box scores better on KITTI: a filter that assumes
constant velocity lags the boxes of a braking or turning car. Lost and tentative tracks stay inside
and are listed by :attr:`AssociationTracker.tracks`.

Per-track bookkeeping is a table of NumPy arrays (one row per track), so a frame
costs a fixed number of vectorised operations and one assignment call per stage.
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

_TENTATIVE, _CONFIRMED, _LOST = int(TrackState.TENTATIVE), int(TrackState.CONFIRMED), int(TrackState.LOST)


@dataclass(frozen=True)
class AssociationConfig:
    """Settings of the association pipeline (units in the names; see the module doc).

    Attributes:
        iou_threshold: smallest IoU between a track's predicted box and a detection
            for the two to be matched (first association and OCR).
        min_hits: matched detections (the first included) before a track is confirmed.
        max_age_s: seconds a confirmed track may go unmatched before it is deleted.
        min_score: detections scoring below this are left out of the first association.
        birth_score: smallest score of a detection that starts a track; ``None``
            means ``min_score``.
        confirm_score: a track born from a detection scoring at least this is
            confirmed at once, before ``min_hits`` (``None``: never).
        byte_low_score: BYTE's second association takes detections scoring in
            ``[byte_low_score, min_score)``; ``None`` turns BYTE off.
        byte_iou_threshold: smallest IoU for BYTE's second association.
        ocm_weight: weight of OC-SORT's velocity-direction consistency term in the
            first association's cost (0 turns it off).
        ocm_history: how many observations back the track's direction is measured.
        fuse_score: first association cost ``1 - IoU * score`` instead of ``1 - IoU``,
            so a confident detection wins a contested track (ByteTrack's MOT17 setting).
        oru: OC-SORT's observation-centric re-update after missed frames.
        ocr: OC-SORT's observation-centric recovery (a last-observation IoU pass).
        camera_motion: use the ``camera_motion`` given to ``update()`` (False ignores it).
        output_box: box reported for a matched track: ``"detection"`` (its detection's)
            or ``"filtered"`` (the motion model's corrected box).
    """

    iou_threshold: float = 0.3
    min_hits: int = 3
    max_age_s: float = 1.0
    min_score: float = 0.0
    birth_score: float | None = None
    confirm_score: float | None = None
    byte_low_score: float | None = None
    byte_iou_threshold: float = 0.5
    ocm_weight: float = 0.0
    ocm_history: int = 3
    fuse_score: bool = False
    oru: bool = False
    ocr: bool = False
    camera_motion: bool = True
    output_box: str = "detection"

    def __post_init__(self) -> None:
        if self.output_box not in ("detection", "filtered"):
            raise ValueError(f"output_box must be 'detection' or 'filtered', got {self.output_box!r}")
        for name in ("iou_threshold", "byte_iou_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {self.min_hits}")
        if self.max_age_s < 0:
            raise ValueError(f"max_age_s must be >= 0 seconds, got {self.max_age_s}")
        if self.byte_low_score is not None and self.byte_low_score > self.min_score:
            raise ValueError(f"byte_low_score ({self.byte_low_score}) must not exceed min_score ({self.min_score})")
        if self.ocm_weight < 0 or self.ocm_history < 1:
            raise ValueError("ocm_weight must be >= 0 and ocm_history >= 1")


class AssociationTracker(BaseTracker):
    """Tracking-by-detection with a pluggable :class:`~tracker.motion.base.MotionModel`.

    Args:
        motion: the motion model (e.g. :class:`~tracker.motion.kalman.KalmanMotion`).
        config: association settings.

    Each instance numbers its own tracks from 1; two instances never share IDs or
    state, and an ID is never reused within an instance, even after :meth:`reset`.
    Supports ``camera_motion`` in :meth:`update`.
    """

    name = "association"
    supports_camera_motion = True

    def __init__(self, motion: MotionModel, config: AssociationConfig | None = None) -> None:
        super().__init__()
        self.motion = motion
        self.config = config or AssociationConfig()
        self._next_id = 1
        self._classes = np.zeros(0, dtype=np.int64)  # sorted class ids: the columns of "votes"
        self._clear()

    def _clear(self) -> None:
        h = self.config.ocm_history + 1
        self._state = MotionState()
        self._snapshot = MotionState()  # motion state right after each track's last observation (ORU)
        self._t: dict[str, np.ndarray] = {
            "ids": np.zeros(0, dtype=np.int64),
            "boxes": np.zeros((0, 4)),  # current box: prediction, or corrected box if matched
            "obs": np.zeros((0, 4)),  # last observed (detection) box
            "obs_centres": np.zeros((0, h, 2)),  # last h observed centres, newest last
            "obs_count": np.zeros(0, dtype=np.int64),
            "hits": np.zeros(0, dtype=np.int64),
            "misses": np.zeros(0, dtype=np.int64),  # frames since the last match
            "born": np.zeros(0),
            "last_matched": np.zeros(0),
            "scores": np.zeros(0, dtype=np.float32),
            "confirmed": np.zeros(0, dtype=bool),
            "votes": np.zeros((0, len(self._classes))),
            "det_index": np.zeros(0, dtype=np.int64),
        }
        self._now = 0.0

    def _reset(self) -> None:
        self._clear()

    def __len__(self) -> int:
        return len(self._t["ids"])

    def _class_columns(self, class_ids: np.ndarray) -> np.ndarray:
        if len(self._classes) == 1 and (class_ids == self._classes[0]).all():
            return np.zeros(len(class_ids), dtype=np.int64)
        columns = np.searchsorted(self._classes, class_ids)
        if (columns < len(self._classes)).all() and (self._classes[columns] == class_ids).all():
            return columns
        merged = np.union1d(self._classes, class_ids)
        votes = np.zeros((len(self), len(merged)))
        votes[:, np.searchsorted(merged, self._classes)] = self._t["votes"]
        self._t["votes"], self._classes = votes, merged
        return np.searchsorted(merged, class_ids)

    def _compensate(self, affine: np.ndarray) -> None:
        # The predicted boxes are recomputed by the predict step that always follows
        # (timestamps strictly increase); stored observations are moved corner by corner.
        if not len(self) or not self.config.camera_motion:
            return
        self._state = self.motion.warp(self._state, affine)
        if len(self._snapshot):
            self._snapshot = self.motion.warp(self._snapshot, affine)
        L, shift = affine[:, :2], affine[:, 2]
        self._t["obs"] = (self._t["obs"].reshape(-1, 2, 2) @ L.T + shift).reshape(-1, 4)
        if self.config.ocm_weight > 0:
            self._t["obs_centres"] = self._t["obs_centres"] @ L.T + shift

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        cfg, t = self.config, self._t
        previous, self._now = self._now, timestamp
        if len(self) and dt > 0:
            self._state = self.motion.predict(self._state, dt)
            t["boxes"] = self.motion.boxes(self._state)

        scores = detections.scores
        high = np.flatnonzero(scores >= cfg.min_score)
        det_boxes = detections.xyxy.astype(np.float64)

        # First association: all tracks against the high-score detections.
        iou = iou_matrix(t["boxes"], det_boxes[high])
        feasible = iou >= cfg.iou_threshold
        cost = 1.0 - (iou * scores[high] if cfg.fuse_score else iou)
        if cfg.ocm_weight > 0 and iou.size:
            cost -= cfg.ocm_weight * self._direction_consistency(det_boxes[high]) * scores[high]
        matches, free_tracks, free_high = linear_assignment(cost, feasible)
        pairs = [np.stack([matches[:, 0], high[matches[:, 1]]], axis=1)]

        # BYTE: still-unmatched tracks that were tracked last frame, against low-score detections.
        if cfg.byte_low_score is not None and len(free_tracks):
            low = np.flatnonzero((scores >= cfg.byte_low_score) & (scores < cfg.min_score))
            rows = free_tracks[t["confirmed"][free_tracks] & (t["last_matched"][free_tracks] >= previous)]
            if len(low) and len(rows):
                iou = iou_matrix(t["boxes"][rows], det_boxes[low])
                second, _, _ = linear_assignment(1.0 - iou, iou >= cfg.byte_iou_threshold)
                pairs.append(np.stack([rows[second[:, 0]], low[second[:, 1]]], axis=1))
                free_tracks = np.setdiff1d(free_tracks, rows[second[:, 0]])

        # OCR: remaining tracks by their last observation, against remaining high-score detections.
        if cfg.ocr and len(free_tracks) and len(free_high):
            iou = iou_matrix(t["obs"][free_tracks], det_boxes[high[free_high]])
            third, _, unused = linear_assignment(1.0 - iou, iou >= cfg.iou_threshold)
            pairs.append(np.stack([free_tracks[third[:, 0]], high[free_high[third[:, 1]]]], axis=1))
            free_tracks = np.setdiff1d(free_tracks, free_tracks[third[:, 0]])
            free_high = free_high[unused]

        pairs = np.concatenate(pairs)
        t["det_index"] = np.full(len(self), -1, dtype=np.int64)
        if len(pairs):
            self._apply_matches(pairs[:, 0], pairs[:, 1], detections, timestamp)

        t["misses"][free_tracks] += 1
        t["confirmed"] |= t["hits"] >= cfg.min_hits
        unmatched = np.zeros(len(self), dtype=bool)
        unmatched[free_tracks] = True
        expired = unmatched & (~t["confirmed"] | (timestamp - t["last_matched"] > cfg.max_age_s))
        if expired.any():
            self._keep(~expired)

        birth_score = cfg.min_score if cfg.birth_score is None else cfg.birth_score
        newborn = high[free_high]
        newborn = newborn[scores[newborn] >= birth_score]
        if len(newborn):
            self._birth(detections, newborn, timestamp)
        return self._report(t["confirmed"] & (t["det_index"] >= 0))

    def _direction_consistency(self, det_boxes: np.ndarray) -> np.ndarray:
        """OC-SORT's velocity-direction consistency, ``(M, N)`` in ``[-0.5, 0.5]``.

        ``(pi/2 - angle) / pi`` between each track's direction of travel (from its
        observation ``ocm_history`` observations back to its last one) and the
        direction from its last observation to each detection; 0 for tracks with a
        single observation.
        """
        t = self._t
        centres = t["obs_centres"]
        back = np.minimum(t["obs_count"] - 1, self.config.ocm_history)
        last = centres[:, -1]
        start = centres[np.arange(len(self)), centres.shape[1] - 1 - back]
        tx, ty = last[:, 0] - start[:, 0], last[:, 1] - start[:, 1]
        dx = 0.5 * (det_boxes[:, 0] + det_boxes[:, 2]) - last[:, 0, None]
        dy = 0.5 * (det_boxes[:, 1] + det_boxes[:, 3]) - last[:, 1, None]
        norms = np.sqrt((dx * dx + dy * dy) * (tx * tx + ty * ty)[:, None])
        cos = (dx * tx[:, None] + dy * ty[:, None]) / np.maximum(norms, 1e-9)
        # (pi/2 - arccos(cos)) / pi == arcsin(cos) / pi
        consistency = np.arcsin(np.clip(cos, -1.0, 1.0)) / np.pi
        consistency[back == 0] = 0.0
        return consistency

    def _apply_matches(self, rows: np.ndarray, det_index: np.ndarray, detections: Detections, now: float) -> None:
        t = self._t
        boxes = detections.xyxy[det_index].astype(np.float64)
        state = self._state.take(rows)
        if self.config.oru:
            state = self._reupdate(state, rows, boxes, now)
        state = self.motion.update(state, boxes)
        self._state.put(rows, state)
        if self.config.oru:
            self._snapshot.put(rows, state)
        t["boxes"][rows] = boxes if self.config.output_box == "detection" else self.motion.boxes(state)
        t["obs"][rows] = boxes
        if self.config.ocm_weight > 0:
            centres = t["obs_centres"]
            centres[rows, :-1] = centres[rows, 1:]
            centres[rows, -1] = 0.5 * (boxes[:, :2] + boxes[:, 2:])
            t["obs_count"][rows] += 1
        t["hits"][rows] += 1
        t["misses"][rows] = 0
        t["last_matched"][rows] = now
        t["scores"][rows] = detections.scores[det_index]
        t["det_index"][rows] = det_index
        columns = self._class_columns(detections.class_ids[det_index])
        t["votes"][rows, columns] += detections.scores[det_index]  # rows are unique: one match per track

    def _reupdate(self, state: MotionState, rows: np.ndarray, boxes: np.ndarray, now: float) -> MotionState:
        """OC-SORT's ORU: replay tracks that missed frames along a virtual trajectory.

        For a track last observed ``k`` frames ago at ``t0`` with box ``b0``, restart
        from its motion state at ``t0`` and alternate predict/update over ``k``
        equal steps towards ``now``, updating with boxes interpolated linearly
        from ``b0`` to the new detection; the last step (the real detection) is left
        to the caller. Returns the state ready for that last update.
        """
        t = self._t
        misses = t["misses"][rows]
        for k in np.unique(misses[misses > 0]).tolist():
            sel = np.flatnonzero(misses == k)
            replay = self._snapshot.take(rows[sel])
            start, end = t["obs"][rows[sel]], boxes[sel]
            step = (now - t["last_matched"][rows[sel]]) / (k + 1)
            for dt in np.unique(step).tolist():
                same = np.flatnonzero(step == dt)
                sub = replay.take(same)
                for j in range(1, k + 1):
                    sub = self.motion.predict(sub, dt)
                    virtual = start[same] + (end[same] - start[same]) * (j / (k + 1))
                    sub = self.motion.update(sub, virtual)
                replay.put(same, self.motion.predict(sub, dt))
            state.put(sel, replay)
        return state

    def _keep(self, mask: np.ndarray) -> None:
        self._state = self.motion.select(self._state, mask)
        if self.config.oru:
            self._snapshot = self.motion.select(self._snapshot, mask)
        for name, array in self._t.items():
            self._t[name] = array[mask]

    def _birth(self, detections: Detections, det_index: np.ndarray, now: float) -> None:
        k = len(det_index)
        boxes = detections.xyxy[det_index].astype(np.float64)
        columns = self._class_columns(detections.class_ids[det_index])
        votes = np.zeros((k, len(self._classes)))
        votes[np.arange(k), columns] = detections.scores[det_index]
        state = self.motion.initiate(boxes)
        centres = np.zeros((k, self.config.ocm_history + 1, 2))
        centres[:, -1] = 0.5 * (boxes[:, :2] + boxes[:, 2:])
        new = {
            "ids": np.arange(self._next_id, self._next_id + k, dtype=np.int64),
            "boxes": self.motion.boxes(state),
            "obs": boxes,
            "obs_centres": centres,
            "obs_count": np.ones(k, dtype=np.int64),
            "hits": np.ones(k, dtype=np.int64),
            "misses": np.zeros(k, dtype=np.int64),
            "born": np.full(k, now),
            "last_matched": np.full(k, now),
            "scores": detections.scores[det_index],
            "confirmed": self._confirmed_at_birth(detections.scores[det_index]),
            "votes": votes,
            "det_index": det_index,
        }
        self._next_id += k
        self._state = self._state.concat(state)
        if self.config.oru:
            self._snapshot = self._snapshot.concat(state)
        for name, array in new.items():
            self._t[name] = np.concatenate([self._t[name], array])

    def _confirmed_at_birth(self, scores: np.ndarray) -> np.ndarray:
        cfg = self.config
        if cfg.min_hits <= 1:
            return np.ones(len(scores), dtype=bool)
        if cfg.confirm_score is None:
            return np.zeros(len(scores), dtype=bool)
        return scores >= cfg.confirm_score

    def _report(self, mask: np.ndarray) -> Tracks:
        t = self._t
        confirmed = t["confirmed"][mask]
        state = np.where(confirmed, _CONFIRMED, _TENTATIVE).astype(np.int8)
        state[confirmed & (t["det_index"][mask] < 0)] = _LOST
        votes = t["votes"][mask]
        class_ids = self._classes[votes.argmax(axis=1)] if votes.shape[1] else np.zeros(len(votes), dtype=np.int64)
        return Tracks.trusted(
            ids=t["ids"][mask],
            xyxy=t["boxes"][mask].astype(np.float32),
            scores=t["scores"][mask],
            class_ids=class_ids,
            det_index=t["det_index"][mask],
            state=state,
            age=self._now - t["born"][mask],
            hits=t["hits"][mask],
        )

    @property
    def tracks(self) -> Tracks:
        """Every live track after the latest update: tentative, confirmed and lost."""
        return self._report(np.ones(len(self), dtype=bool))
