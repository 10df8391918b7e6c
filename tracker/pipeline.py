"""The one association pipeline that every backend composes.

Per frame, at timestamp ``t`` (seconds), ``dt`` seconds after the previous frame:

0. **Camera motion** (optional): when ``update()`` is given the frame-to-frame
   affine, every track's motion state and stored observations are moved into the
   new frame's pixel coordinates (BoT-SORT, Aharon et al. 2022).
1. **Predict** every track ``dt`` seconds ahead with the backend's motion model.
1b. **Confidence boosting** (optional, ``dlo_coef``, ``duo``): detection scores are
   raised before the split by score, BoostTrack's DLO (a detection overlapping a
   track scores at least ``dlo_coef`` times its best IoU) and DUO (a low-score
   detection outside every track's Mahalanobis gate, and not overlapped by a
   better one, is raised to ``min_score``); the boosted scores decide the stages
   below and birth (Stanojević & Todorović, BoostTrack, MVA 2024; the maths is in
   :mod:`tracker.similarity`).
2. **First association**: detections scoring at least ``min_score`` against all
   tracks, cost ``1 - IoU`` (plus, with ``ocm_weight > 0``, OC-SORT's
   velocity-direction consistency term; with ``boost_iou_weight``, ``mhd_weight``
   or ``shape_weight`` above 0, BoostTrack's confidence-weighted IoU, Mahalanobis
   and shape similarities are subtracted), solved with the Hungarian algorithm;
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
   (OC-SORT's observation-centric re-update). With ``ams`` (abnormal motion
   suppression, OccluTrack: Gao et al., "Rethinking Awareness of Occlusion for
   Enhancing Multiple Pedestrian Tracking", arXiv 2309.10360), a detection that
   implies a speed spike against the track's running mean speed while its box has
   shrunk against the running mean area (a partial occlusion) corrects the motion
   model with a reduced gain (see :meth:`AssociationTracker._ams_gain`).
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

Per-track bookkeeping is two tables (a float and an int array, one row per track), so
a frame costs a fixed number of vectorised operations and one assignment call per stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.association import Assignment, linear_assignment
from tracker.base import BaseTracker
from tracker.boxes import XYXY_TO_CXCYWH, iou_matrix
from tracker.motion.base import MotionModel, MotionState
from tracker.similarity import boost_similarity, dlo_boost, duo_boost, shape_similarity, track_confidence
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
        boost_iou_weight: BoostTrack's ``lambda_iou``: weight of the IoU weighted by the
            pair's confidence (detection score times tracklet confidence) added to the
            first association's similarity (0 turns it off).
        mhd_weight: BoostTrack's ``lambda_mhd``: weight of the Mahalanobis similarity
            (a per-track softmax of gated squared Mahalanobis distances) in the first
            association (0: off). Needs a motion model with ``supports_mahalanobis``.
        shape_weight: BoostTrack's ``lambda_shape``: weight of the confidence-weighted
            width/height similarity in the first association (0: off).
        tracklet_decay: BoostTrack's ``beta`` in ``(0, 1]``: the tracklet confidence is
            ``beta ** misses`` (``beta ** (7 - hits)`` for tracks with fewer than 7 hits).
        dlo_coef: BoostTrack's DLO boost: every detection's score becomes at least
            ``dlo_coef`` times its largest IoU with a track's predicted box (``None``: off).
        duo: BoostTrack's DUO boost: a detection below ``min_score`` outside every
            track's Mahalanobis gate (chi-squared 99%, 4 dof), not overlapped (IoU
            > 0.3) by a better such detection, is raised to ``min_score``. Needs a
            motion model with ``supports_mahalanobis``.
        assignment: ``"gated"`` (pairs failing the IoU gate are excluded before the
            Hungarian algorithm: the most matches, then the least cost) or
            ``"global"`` (the Hungarian algorithm on the whole cost matrix, failing
            pairs rejected afterwards: SORT's, Bewley et al. 2016), in every stage.
        mhd_measurement_noise: the Mahalanobis distances use the innovation covariance
            ``P + R`` (True) or the predicted state's covariance ``P`` alone (False,
            as BoostTrack's published code does: a tighter gate).
        ams: OccluTrack's abnormal motion suppression (Gao et al., arXiv 2309.10360):
            a matched detection whose implied speed, of the box centre or of its
            width/height, exceeds ``1 + ams_threshold`` times the track's running mean
            speed (of the same pair), while its area is below ``ams_shrink`` times the
            running mean area, corrects the motion model's components of that pair
            (centre; size) with their gain scaled by ``ams_alpha``. Needs a motion
            model with ``supports_gain_scale`` (the Kalman filter). Off by default.
        ams_alpha: gain factor in ``(0, 1]`` of an abnormal pair (OccluTrack's ``alpha_0``).
        ams_threshold: relative speed spike (``>= 0``) above which a pair is abnormal.
        ams_shrink: the area gate in ``(0, 1]``: suppress only when the box area is
            below this fraction of the running mean area; ``None``: no area gate
            (the speed test alone).
        ams_window_s: time constant (seconds, ``> 0``) of the exponential running means
            of velocity and area over a track's observations (weight
            ``1 - exp(-gap / ams_window_s)`` for an observation ``gap`` seconds after
            the previous one), so the window does not depend on the frame rate.
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
    boost_iou_weight: float = 0.0
    mhd_weight: float = 0.0
    shape_weight: float = 0.0
    tracklet_decay: float = 0.9
    dlo_coef: float | None = None
    duo: bool = False
    mhd_measurement_noise: bool = True
    assignment: str = "gated"
    ams: bool = False
    ams_alpha: float = 0.4
    ams_threshold: float = 0.5
    ams_shrink: float | None = 0.75
    ams_window_s: float = 1.0

    @property
    def needs_mahalanobis(self) -> bool:
        """Whether these settings need the motion model's Mahalanobis distances."""
        return self.mhd_weight > 0 or self.duo

    def __post_init__(self) -> None:
        if self.assignment not in ("gated", "global"):
            raise ValueError(f"assignment must be 'gated' or 'global', got {self.assignment!r}")
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
        for name in ("boost_iou_weight", "mhd_weight", "shape_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.tracklet_decay <= 1.0:
            raise ValueError(f"tracklet_decay must be in (0, 1], got {self.tracklet_decay}")
        if self.dlo_coef is not None and not 0.0 < self.dlo_coef <= 1.0:
            raise ValueError(f"dlo_coef must be in (0, 1] or null, got {self.dlo_coef}")
        if not 0.0 < self.ams_alpha <= 1.0:
            raise ValueError(f"ams_alpha must be in (0, 1], got {self.ams_alpha}")
        if self.ams_threshold < 0:
            raise ValueError(f"ams_threshold must be >= 0, got {self.ams_threshold}")
        if self.ams_shrink is not None and not 0.0 < self.ams_shrink <= 1.0:
            raise ValueError(f"ams_shrink must be in (0, 1] or null, got {self.ams_shrink}")
        if not self.ams_window_s > 0:
            raise ValueError(f"ams_window_s must be > 0 seconds, got {self.ams_window_s}")


# Columns of the per-track tables (one row per track).
# Float table: the current box (the prediction, or the reported box once matched), the last
# observed box (kept up to date for OCR and ORU only), the last ``ocm_history + 1`` observed
# centres (only with OCM; newest last), birth and last-match times (s), the last detection's
# score, with AMS only the running means of the observed velocity (cx, cy, w, h per second)
# and box area (px²), then one class-vote column per known class.
_BOX, _OBS, _CENTRES = slice(0, 4), slice(4, 8), 8
_BORN, _LAST, _SCORE = 0, 1, 2  # offsets after the centres
# Int table: track ID, hits, frames since the last match (for ORU and BoostTrack's tracklet
# confidence only), observations stored for OCM, this frame's detection index (-1: unmatched)
# and whether the track is confirmed (0/1).
_ID, _HITS, _MISSES, _NOBS, _DET, _CONF = range(6)
_INT_COLUMNS = 6
_PAIR_OF_COMPONENT = [0, 0, 1, 1]  # AMS: measurement components (cx, cy, size, size) -> centre / size pair
_NONE = np.zeros(0, dtype=np.int64)
_NO_TRACKS = Tracks.empty()  # immutable: shared by every frame that reports nothing


class AssociationTracker(BaseTracker):
    """Tracking-by-detection with a pluggable :class:`~tracker.motion.base.MotionModel`.

    Args:
        motion: the motion model (e.g. :class:`~tracker.motion.kalman.KalmanMotion`).
        config: association settings.

    Each instance numbers its own tracks from 1; two instances never share IDs or
    state, and an ID is never reused within an instance, even after :meth:`reset`.
    Supports ``camera_motion`` in :meth:`update`.

    Raises:
        ValueError: ``config`` uses Mahalanobis distances (``mhd_weight > 0`` or
            ``duo``) and ``motion`` cannot provide them, or ``ams`` and ``motion``
            has no gain to scale.

    Per-track bookkeeping lives in two tables, a float and an int array with one row
    per track (columns above), next to the motion state, so that selecting, appending
    or reporting tracks is one operation per table.
    """

    name = "association"
    supports_camera_motion = True

    def __init__(self, motion: MotionModel, config: AssociationConfig | None = None) -> None:
        super().__init__()
        self.motion = motion
        self.config = cfg = config or AssociationConfig()
        if cfg.needs_mahalanobis and not motion.supports_mahalanobis:
            raise ValueError(
                f"mhd_weight > 0 and duo need Mahalanobis distances, which {type(motion).__name__} cannot provide"
            )
        if cfg.ams and not motion.supports_gain_scale:
            raise ValueError(f"ams scales the motion model's gain, which {type(motion).__name__} does not have")
        self._similarity = cfg.boost_iou_weight > 0 or cfg.mhd_weight > 0 or cfg.shape_weight > 0
        self._boosting = cfg.dlo_coef is not None or cfg.needs_mahalanobis
        self._count_misses = cfg.oru or self._similarity  # the tracklet confidence needs them
        self._next_id = 1
        points = cfg.ocm_history + 1 if cfg.ocm_weight > 0 else 0
        self._centres = slice(_CENTRES, _CENTRES + 2 * points)
        self._born, self._last, self._score = (self._centres.stop + k for k in (_BORN, _LAST, _SCORE))
        # AMS's running means: velocity (4 columns) and area; none without AMS.
        self._ams_velocity = slice(self._score + 1, self._score + (5 if cfg.ams else 1))
        self._ams_area = self._ams_velocity.stop
        self._votes = self._ams_area + (1 if cfg.ams else 0)  # first class-vote column
        # Last observed boxes are kept only for OCR, ORU and AMS; the columns moved by camera motion (x, y pairs).
        self._keep_obs = cfg.ocr or cfg.oru or cfg.ams
        self._points = slice(_OBS.start if self._keep_obs else _CENTRES, self._centres.stop)
        self._classes = np.zeros(0, dtype=np.int64)  # sorted class ids of the vote columns
        self._birth_score = cfg.min_score if cfg.birth_score is None else cfg.birth_score
        self._gate_after = cfg.assignment == "global"
        self._clear()

    def _clear(self) -> None:
        self._state = MotionState()
        self._snapshot = MotionState()  # motion state right after each track's last observation (ORU)
        self._f = np.zeros((0, self._votes + len(self._classes)))
        self._i = np.zeros((0, _INT_COLUMNS), dtype=np.int64)
        self._now = 0.0

    def _reset(self) -> None:
        self._clear()

    def __len__(self) -> int:
        return len(self._i)

    def _class_columns(self, class_ids: np.ndarray) -> np.ndarray | int:
        """Vote columns (table column indices) of ``class_ids``, adding columns for new classes.

        One int when there is a single known class and ``class_ids`` are all of it.
        """
        if len(self._classes) == 1 and (class_ids == self._classes[0]).all():
            return self._votes
        columns = np.searchsorted(self._classes, class_ids)
        if not ((columns < len(self._classes)).all() and (self._classes[columns] == class_ids).all()):
            merged = np.union1d(self._classes, class_ids)
            votes = np.zeros((len(self), len(merged)))
            votes[:, np.searchsorted(merged, self._classes)] = self._f[:, self._votes :]
            self._f = np.concatenate([self._f[:, : self._votes], votes], axis=1)
            self._classes = merged
            columns = np.searchsorted(merged, class_ids)
        return columns + self._votes

    def _compensate(self, affine: np.ndarray) -> None:
        # The predicted boxes are recomputed by the predict step that always follows
        # (timestamps strictly increase); stored observations are moved point by point.
        if not len(self) or not self.config.camera_motion:
            return
        self._state = self.motion.warp(self._state, affine)
        if self.config.oru:
            self._snapshot = self.motion.warp(self._snapshot, affine)
        if self._points.stop > self._points.start:
            points = self._f[:, self._points].reshape(len(self), -1, 2) @ affine[:, :2].T + affine[:, 2]
            self._f[:, self._points] = points.reshape(len(self), -1)

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        cfg, f, i = self.config, self._f, self._i
        previous, self._now = self._now, timestamp
        if len(self) and dt > 0:
            self._state = self.motion.predict(self._state, dt)
            f[:, _BOX] = self.motion.boxes(self._state)
        i[:, _DET] = -1

        scores = detections.scores
        det_boxes = detections.xyxy.astype(np.float64)
        iou_all = d2_all = None
        if self._boosting and len(self) and len(scores):
            scores, iou_all, d2_all = self._boost(scores, det_boxes)
        high = (scores >= cfg.min_score).nonzero()[0]
        high_boxes = det_boxes[high]

        # First association: all tracks against the high-score detections.
        if len(self) and len(high):
            iou = iou_matrix(f[:, _BOX], high_boxes) if iou_all is None else iou_all[:, high]
            cost = 1.0 - (iou * scores[high] if cfg.fuse_score else iou)
            if cfg.ocm_weight > 0:
                cost -= cfg.ocm_weight * self._direction_consistency(high_boxes) * scores[high]
            if self._similarity:
                d2 = None if d2_all is None else d2_all[:, high]
                cost -= self._similarity_boost(iou, high_boxes, scores[high], d2)
            first = linear_assignment(cost, iou >= cfg.iou_threshold, self._gate_after)
        else:
            first = Assignment(_NONE, _NONE, np.arange(len(self)), np.arange(len(high)))
        rows, cols, free_tracks, free_high = [first.rows], [high[first.cols]], first.free_rows, first.free_cols

        # BYTE: still-unmatched confirmed tracks matched last frame, against low-score detections.
        if cfg.byte_low_score is not None and len(free_tracks):
            low = ((scores >= cfg.byte_low_score) & (scores < cfg.min_score)).nonzero()[0]
            if len(low):
                # Positions (in free_tracks) of the tracks matched in the previous frame.
                recent = ((i[free_tracks, _CONF] > 0) & (f[free_tracks, self._last] >= previous)).nonzero()[0]
                iou = iou_matrix(f[free_tracks[recent], _BOX], det_boxes[low])
                second = linear_assignment(1.0 - iou, iou >= cfg.byte_iou_threshold, self._gate_after)
                if len(second.rows):
                    rows.append(free_tracks[recent[second.rows]])
                    cols.append(low[second.cols])
                    unmatched = np.ones(len(free_tracks), dtype=bool)
                    unmatched[recent[second.rows]] = False
                    free_tracks = free_tracks[unmatched]

        # OCR: remaining tracks by their last observation, against remaining high-score detections.
        if cfg.ocr and len(free_tracks) and len(free_high):
            iou = iou_matrix(f[free_tracks, _OBS], high_boxes[free_high])
            third = linear_assignment(1.0 - iou, iou >= cfg.iou_threshold, self._gate_after)
            rows.append(free_tracks[third.rows])
            cols.append(high[free_high[third.cols]])
            free_tracks, free_high = free_tracks[third.free_rows], free_high[third.free_cols]

        rows, cols = (rows[0], cols[0]) if len(rows) == 1 else (np.concatenate(rows), np.concatenate(cols))
        if len(rows):
            self._apply_matches(rows, cols, det_boxes[cols], detections, timestamp)
            f = self._f  # new vote columns replace the table

        if len(free_tracks):
            if self._count_misses:
                i[free_tracks, _MISSES] += 1
            # An unmatched tentative track is deleted; a confirmed one once it is max_age_s unmatched.
            expired = timestamp - f[free_tracks, self._last] > cfg.max_age_s
            if cfg.min_hits > 1:  # else every track is confirmed
                expired |= i[free_tracks, _CONF] == 0
            if expired.any():
                keep = np.ones(len(self), dtype=bool)
                keep[free_tracks[expired]] = False
                self._keep(keep)

        newborn = high[free_high]
        if self._birth_score > cfg.min_score:
            newborn = newborn[scores[newborn] >= self._birth_score]
        if len(newborn):
            self._birth(detections, newborn, det_boxes[newborn], timestamp)
        if not (len(rows) or len(newborn)):
            return _NO_TRACKS
        i = self._i
        return self._report((i[:, _CONF] > 0) & (i[:, _DET] >= 0), matched=True)

    def _boost(self, scores: np.ndarray, det_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """BoostTrack's DLO and DUO boosts of the ``(N,)`` detection scores (tracks and detections exist).

        Returns the boosted scores and, for reuse, the ``(M, N)`` IoU and (where
        computed) squared Mahalanobis distances of all tracks to all detections.
        """
        cfg = self.config
        iou = iou_matrix(self._f[:, _BOX], det_boxes)
        d2 = (
            self.motion.mahalanobis(self._state, det_boxes, cfg.mhd_measurement_noise)
            if cfg.needs_mahalanobis
            else None
        )
        if cfg.dlo_coef is not None:
            scores = dlo_boost(scores, iou, cfg.dlo_coef)
        if cfg.duo:
            scores = duo_boost(scores, det_boxes, d2, cfg.min_score)
        return scores, iou, d2

    def _similarity_boost(
        self, iou: np.ndarray, det_boxes: np.ndarray, scores: np.ndarray, d2: np.ndarray | None
    ) -> np.ndarray:
        """BoostTrack's ``(M, N)`` similarity additions for all tracks against ``det_boxes`` (see the module doc)."""
        cfg, f, i = self.config, self._f, self._i
        confidence = track_confidence(i[:, _HITS], i[:, _MISSES], cfg.tracklet_decay)[:, None] * scores
        shape = shape_similarity(f[:, _BOX], det_boxes) if cfg.shape_weight > 0 else None
        if cfg.mhd_weight > 0 and d2 is None:
            d2 = self.motion.mahalanobis(self._state, det_boxes, cfg.mhd_measurement_noise)
        return boost_similarity(iou, confidence, cfg.boost_iou_weight, cfg.mhd_weight, d2, cfg.shape_weight, shape)

    def _direction_consistency(self, det_boxes: np.ndarray) -> np.ndarray:
        """OC-SORT's velocity-direction consistency, ``(M, N)`` in ``[-0.5, 0.5]``.

        ``(pi/2 - angle) / pi`` between each track's direction of travel (from its
        observation ``ocm_history`` observations back to its last one) and the
        direction from its last observation to each detection; 0 for tracks with a
        single observation.
        """
        centres = self._f[:, self._centres].reshape(len(self), -1, 2)
        back = np.minimum(self._i[:, _NOBS] - 1, self.config.ocm_history)
        last = centres[:, -1]
        travel = last - centres[np.arange(len(self)), centres.shape[1] - 1 - back]
        tx, ty = travel[:, 0:1], travel[:, 1:2]
        dx = 0.5 * (det_boxes[:, 0] + det_boxes[:, 2]) - last[:, 0:1]
        dy = 0.5 * (det_boxes[:, 1] + det_boxes[:, 3]) - last[:, 1:2]
        norms = np.sqrt((dx * dx + dy * dy) * (tx * tx + ty * ty))
        cos = (dx * tx + dy * ty) / np.maximum(norms, 1e-9)
        # (pi/2 - arccos(cos)) / pi == arcsin(cos) / pi
        consistency = np.arcsin(np.clip(cos, -1.0, 1.0)) / np.pi
        consistency[back == 0] = 0.0
        return consistency

    def _apply_matches(
        self, rows: np.ndarray, det_index: np.ndarray, boxes: np.ndarray, detections: Detections, now: float
    ) -> None:
        """Update tracks ``rows`` with detections ``det_index`` (``boxes``: their float64 ``xyxy``)."""
        cfg = self.config
        votes = self._class_columns(detections.class_ids[det_index])  # may add columns: before taking rows
        f, i = self._f[rows], self._i[rows]
        state = self._state.take(rows)
        if cfg.oru:
            state = self._reupdate(state, rows, boxes, now)
        if cfg.ams:
            state = self.motion.update(state, boxes, self._ams_gain(f, i, boxes, now))
        else:
            state = self.motion.update(state, boxes)
        self._state.put(rows, state)
        if cfg.oru:
            self._snapshot.put(rows, state)
        f[:, _BOX] = boxes if cfg.output_box == "detection" else self.motion.boxes(state)
        if self._keep_obs:
            f[:, _OBS] = boxes
        if cfg.ocm_weight > 0:
            c = self._centres
            f[:, c.start : c.stop - 2] = f[:, c.start + 2 : c.stop]
            f[:, c.stop - 2 : c.stop] = 0.5 * (boxes[:, :2] + boxes[:, 2:])
            i[:, _NOBS] += 1
        scores = detections.scores[det_index]
        f[:, self._last] = now
        f[:, self._score] = scores
        # One match per track: each row gets its detection's score as a vote for its class.
        if isinstance(votes, int):
            f[:, votes] += scores
        else:
            f[np.arange(len(rows)), votes] += scores
        i[:, _HITS] += 1
        if self._count_misses:
            i[:, _MISSES] = 0
        i[:, _DET] = det_index
        if cfg.min_hits > 1:  # else every track is confirmed at birth
            i[:, _CONF] |= i[:, _HITS] >= cfg.min_hits
        self._f[rows] = f
        self._i[rows] = i

    def _ams_gain(self, f: np.ndarray, i: np.ndarray, boxes: np.ndarray, now: float) -> np.ndarray:
        """OccluTrack's abnormal motion suppression: the ``(K,)`` gain factors of matched rows.

        ``f``, ``i``: the rows' tables, whose AMS running means are advanced in place;
        ``boxes``: their detections (``xyxy``), observed at ``now``. Returns ``(4, K)``
        factors, one per component of the motion model's measurement. A row's velocity
        ``v = (dcx, dcy, dw, dh) / gap`` is measured from its previous observation
        ``gap`` seconds earlier. Its centre pair and its size pair are each abnormal
        when ``|v| > (1 + ams_threshold) |v_mean|`` (a relative speed spike; with
        ``v_mean`` the pair's running mean velocity) and the box area is below
        ``ams_shrink`` times the running mean area (partial occlusion hides part of
        the body and shrinks the box). The components of an abnormal pair (centre:
        the first two; size: the last two, ``s, r`` or ``a, h``) get ``ams_alpha``,
        the others 1: OccluTrack's per-component ``alpha_x, alpha_y, alpha_w,
        alpha_h``. A track needs a mean velocity first:
        its first two observations are never suppressed. Then the running means take
        the new observation (suppressed or not) with weight ``1 - exp(-gap /
        ams_window_s)``; the first velocity is taken whole, the mean area starts at
        the first box's.
        """
        cfg = self.config
        gap = now - f[:, self._last]
        velocity = (boxes - f[:, _OBS]) @ XYXY_TO_CXCYWH.T / gap[:, None]  # (dcx, dcy, dw, dh) per second
        mean = f[:, self._ams_velocity]
        speeds = np.concatenate([velocity, mean], axis=1)
        speeds *= speeds
        speeds = np.sqrt(speeds.reshape(-1, 4, 2).sum(axis=2))  # |v_centre|, |v_size|, then the means'
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        has_mean = i[:, _HITS] >= 2  # a running mean velocity exists
        gate = has_mean if cfg.ams_shrink is None else has_mean & (area < cfg.ams_shrink * f[:, self._ams_area])
        abnormal = (speeds[:, :2] > (1.0 + cfg.ams_threshold) * speeds[:, 2:]) & gate[:, None]
        gain = np.where(abnormal.T[_PAIR_OF_COMPONENT], cfg.ams_alpha, 1.0)  # (4, K)
        weight = -np.expm1(-gap / cfg.ams_window_s)
        f[:, self._ams_area] += weight * (area - f[:, self._ams_area])
        f[:, self._ams_velocity] += np.where(has_mean, weight, 1.0)[:, None] * (velocity - mean)
        return gain

    def _reupdate(self, state: MotionState, rows: np.ndarray, boxes: np.ndarray, now: float) -> MotionState:
        """OC-SORT's ORU: replay tracks that missed frames along a virtual trajectory.

        For a track last observed ``k`` frames ago at ``t0`` with box ``b0``, restart
        from its motion state at ``t0`` and alternate predict/update over ``k``
        equal steps towards ``now``, updating with boxes interpolated linearly
        from ``b0`` to the new detection; the last step (the real detection) is left
        to the caller. Returns the state ready for that last update.
        """
        misses = self._i[rows, _MISSES]
        for k in np.unique(misses[misses > 0]).tolist():
            sel = (misses == k).nonzero()[0]
            replay = self._snapshot.take(rows[sel])
            start, end = self._f[rows[sel], _OBS], boxes[sel]
            step = (now - self._f[rows[sel], self._last]) / (k + 1)
            for dt in np.unique(step).tolist():
                same = (step == dt).nonzero()[0]
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
        self._f, self._i = self._f[mask], self._i[mask]

    def _birth(self, detections: Detections, det_index: np.ndarray, boxes: np.ndarray, now: float) -> None:
        k = len(det_index)
        scores = detections.scores[det_index]
        columns = self._class_columns(detections.class_ids[det_index])
        state = self.motion.initiate(boxes)
        f = np.zeros((k, self._f.shape[1]))
        f[:, _BOX] = self.motion.boxes(state)
        f[:, _OBS] = boxes
        if self.config.ams:
            f[:, self._ams_area] = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        if self.config.ocm_weight > 0:
            f[:, self._centres.stop - 2 : self._centres.stop] = 0.5 * (boxes[:, :2] + boxes[:, 2:])
        f[:, self._born] = f[:, self._last] = now
        f[:, self._score] = scores
        f[np.arange(k), columns] = scores
        i = np.zeros((k, _INT_COLUMNS), dtype=np.int64)
        i[:, _ID] = np.arange(self._next_id, self._next_id + k)
        i[:, _HITS] = i[:, _NOBS] = 1
        i[:, _DET] = det_index
        i[:, _CONF] = self._confirmed_at_birth(scores)
        self._next_id += k
        self._state = self._state.concat(state)
        if self.config.oru:
            self._snapshot = self._snapshot.concat(state)
        self._f = np.concatenate([self._f, f])
        self._i = np.concatenate([self._i, i])

    def _confirmed_at_birth(self, scores: np.ndarray) -> np.ndarray:
        cfg = self.config
        if cfg.min_hits <= 1:
            return np.ones(len(scores), dtype=bool)
        if cfg.confirm_score is None:
            return np.zeros(len(scores), dtype=bool)
        return scores >= cfg.confirm_score

    def _report(self, mask: np.ndarray, matched: bool = False) -> Tracks:
        """The tracks selected by ``mask``; ``matched``: all of them are confirmed and matched."""
        f, i = self._f[mask], self._i[mask]
        if matched:
            state = np.empty(len(i), dtype=np.int8)
            state.fill(_CONFIRMED)
        else:
            state = np.where(i[:, _DET] >= 0, _CONFIRMED, _LOST).astype(np.int8)
            state[i[:, _CONF] == 0] = _TENTATIVE
        if len(self._classes) == 1:
            class_ids = np.empty(len(f), dtype=np.int64)
            class_ids.fill(self._classes[0])
        elif len(self._classes):
            class_ids = self._classes[f[:, self._votes :].argmax(axis=1)]
        else:
            class_ids = np.zeros(len(f), dtype=np.int64)
        return Tracks.trusted(
            ids=i[:, _ID],
            xyxy=f[:, _BOX].astype(np.float32),
            scores=f[:, self._score].astype(np.float32),
            class_ids=class_ids,
            det_index=i[:, _DET],
            state=state,
            age=self._now - f[:, self._born],
            hits=i[:, _HITS],
        )

    @property
    def tracks(self) -> Tracks:
        """Every live track after the latest update: tentative, confirmed and lost."""
        return self._report(np.ones(len(self), dtype=bool))
