"""The one association pipeline that every backend composes: SORT's loop over mechanism parts.

Per update, at timestamp ``t`` (seconds), ``dt`` seconds after the previous one:

0. **Camera motion** (optional): given the frame-to-frame affine, every track's
   motion state and stored points are moved into the new frame's pixel coordinates
   (BoT-SORT, Aharon et al. 2022).
1. **Predict** every track ``dt`` seconds ahead with the backend's motion model.
2. **Score boosts** (:mod:`tracker.mechanisms.boosts`; BoostTrack's DLO, DUO) change
   detection scores before the split by score.
3. **Matching stages** (:mod:`tracker.mechanisms.stages`), each on what the previous
   left free: the first association of every track with the detections scoring at
   least ``min_score`` (cost ``1 - IoU`` minus the similarities of the
   :mod:`cost terms <tracker.mechanisms.costs>`: OC-SORT's direction consistency,
   BoostTrack's similarities), then BYTE's second pass on the low-score detections
   (ByteTrack, Zhang et al. 2022), then OC-SORT's recovery by last observation
   (Cao et al. 2023).
4. **Update** the matched tracks with the motion model, shaped by the
   :mod:`update policies <tracker.mechanisms.updates>` (OC-SORT's re-update,
   OccluTrack's abnormal motion suppression).
5. **Life cycle** (:mod:`tracker.mechanisms.lifecycle`): coasting and deletion of the
   unmatched tracks, birth of tracks from the unmatched high-score detections,
   confirmation after ``min_hits`` hits.

With every mechanism off this is SORT's loop (Bewley et al., 2016) with DeepSORT's
tentative/confirmed life cycle (Wojke et al., 2017) and lifetimes in seconds. A
mechanism is a part (:class:`tracker.mechanisms.base.Part`) plus a config entry of
:class:`PipelineConfig`; :func:`build_parts` maps one to the other.

**What ``update()`` returns** (what a user should draw): the confirmed tracks matched
to a detection in this update, each with ``det_index`` pointing at its detection and,
by default (``output_box="detection"``), that detection's box; ``output_box="filtered"``
reports the motion model's corrected box instead (as SORT does). The detection's box
scores better on KITTI: a filter that assumes constant velocity lags the boxes of a
braking or turning car. Lost and tentative tracks stay inside and are listed by
:attr:`AssociationTracker.tracks`. :meth:`AssociationTracker.predict` advances the
tracks to a frame the detector skipped and reports where the motion model puts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.arrays import FloatArray, IntArray, indices
from tracker.base import BaseTracker
from tracker.config import check_range
from tracker.mechanisms.base import LARGE_FRAME_PAIRS, CostTerm, Frame, Matches, Part, ScoreBoost, Stage, UpdatePolicy
from tracker.mechanisms.boosts import DloBoost, DloConfig, DuoBoost, DuoConfig
from tracker.mechanisms.classes import ClassVote
from tracker.mechanisms.costs import BoostConfig, BoostSimilarity, DirectionConsistency, OcmConfig
from tracker.mechanisms.lifecycle import Lifecycle
from tracker.mechanisms.scores import QualityConfig, QuantileConfig, ScoreQuantiles, TrackQuality
from tracker.mechanisms.stages import ByteAssociation, ByteConfig, FirstAssociation, Recovery
from tracker.mechanisms.updates import AmsConfig, MotionSuppression, Reupdate
from tracker.motion.base import MotionModel, MotionState
from tracker.table import TrackTable
from tracker.types import Detections, Tracks, TrackState

__all__ = ["AssociationTracker", "PipelineConfig", "build_parts"]

_TENTATIVE, _CONFIRMED, _LOST = int(TrackState.TENTATIVE), int(TrackState.CONFIRMED), int(TrackState.LOST)
_NO_TRACKS = Tracks.empty()  # immutable: shared by every update that reports nothing
_STATES: dict[int, np.ndarray] = {}  # per track state, a read-only int8 array of it (see _constant_states)


def _constant_states(state: int, m: int) -> np.ndarray:
    """A read-only ``(m,)`` int8 array of ``state``: a view of one shared array, grown as needed."""
    shared = _STATES.get(state)
    if shared is None or len(shared) < m:
        shared = np.full(max(m, 2 * len(shared) if shared is not None else 64), state, dtype=np.int8)
        shared.flags.writeable = False
        _STATES[state] = shared
    return shared[:m]


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of the association pipeline (units in the names; see the module doc).

    A mechanism with settings is a nested config that is ``None`` when the mechanism is
    off (``null`` or ``false`` in YAML; ``true`` turns it on with its defaults).

    Attributes:
        iou_threshold: smallest IoU, in ``[0, 1]``, between a track's predicted box and a
            detection for the two to be matched (first association and OCR).
        min_score: detections scoring below this are left out of the first association.
        assignment: ``"gated"`` (pairs failing an IoU gate are excluded before the
            Hungarian algorithm: the most matches, then the least cost) or ``"global"``
            (the Hungarian algorithm on the whole cost matrix, failing pairs rejected
            afterwards: SORT's), in every stage; see :mod:`tracker.association`.
        fuse_score: first association cost ``1 - IoU * score`` instead of ``1 - IoU``.
        output_box: box reported for a matched track: ``"detection"`` (its detection's)
            or ``"filtered"`` (the motion model's corrected box).
        camera_motion: use the ``camera_motion`` given to ``update()`` (False ignores it).
        min_hits: matched detections (the first included) before a track is confirmed.
        max_age_s: seconds a confirmed track may go unmatched before it is deleted.
        birth_score: smallest score of a detection that starts a track; ``None``: ``min_score``.
        confirm_score: a track born from a detection scoring at least this is confirmed
            at once, before ``min_hits``; ``None``: never. Like ``birth_score``, it applies
            to the scores the association sees (after ``quantiles``, ``dlo`` or ``duo``).
        byte: BYTE's second association of low-score detections (:class:`ByteConfig`).
        ocm: OC-SORT's velocity-direction consistency cost term (:class:`OcmConfig`).
        oru: OC-SORT's observation-centric re-update after missed updates.
        ocr: OC-SORT's observation-centric recovery (a last-observation IoU pass).
        boost: BoostTrack's similarity terms (:class:`BoostConfig`).
        dlo: BoostTrack's DLO score boost (:class:`DloConfig`).
        duo: BoostTrack's DUO score boost (:class:`DuoConfig`).
        ams: OccluTrack's abnormal motion suppression (:class:`AmsConfig`).
        quantiles: detection scores replaced by their quantiles among the recent scores,
            so thresholds are fractions of the detector's distribution (:class:`QuantileConfig`).
        quality: report only tracks whose detections' mean score is high enough
            (:class:`QualityConfig`).
    """

    iou_threshold: float = 0.3
    min_score: float = 0.0
    assignment: str = "gated"
    fuse_score: bool = False
    output_box: str = "detection"
    camera_motion: bool = True
    min_hits: int = 3
    max_age_s: float = 1.0
    birth_score: float | None = None
    confirm_score: float | None = None
    byte: ByteConfig | None = None
    ocm: OcmConfig | None = None
    oru: bool = False
    ocr: bool = False
    boost: BoostConfig | None = None
    dlo: DloConfig | None = None
    duo: DuoConfig | None = None
    ams: AmsConfig | None = None
    quantiles: QuantileConfig | None = None
    quality: QualityConfig | None = None

    def __post_init__(self) -> None:
        if self.assignment not in ("gated", "global"):
            raise ValueError(f"assignment must be 'gated' or 'global', got {self.assignment!r}")
        if self.output_box not in ("detection", "filtered"):
            raise ValueError(f"output_box must be 'detection' or 'filtered', got {self.output_box!r}")
        check_range("iou_threshold", self.iou_threshold, 0.0, 1.0)
        check_range("min_score", self.min_score)
        check_range("min_hits", self.min_hits, 1)
        check_range("max_age_s", self.max_age_s, 0.0, allow_inf=True)
        for name in ("birth_score", "confirm_score"):
            if getattr(self, name) is not None:
                check_range(name, getattr(self, name))
        if self.byte is not None and self.byte.low_score > self.min_score:
            raise ValueError(f"byte.low_score ({self.byte.low_score}) must not exceed min_score ({self.min_score})")


def build_parts(config: PipelineConfig) -> tuple[list[ScoreBoost], list[Stage], list[UpdatePolicy], list[Part]]:
    """The mechanism parts ``config`` switches on: score boosts, stages, update policies, others.

    The first stage is the first association with its cost terms; the last list holds
    the parts that only keep per-track data (the class vote).
    """
    gate_after = config.assignment == "global"
    boosts: list[ScoreBoost] = []
    if config.quantiles is not None:
        boosts.append(ScoreQuantiles(config.quantiles))
    if config.dlo is not None:
        boosts.append(DloBoost(config.dlo))
    if config.duo is not None:
        boosts.append(DuoBoost(config.duo, config.min_score))
    terms: list[CostTerm] = []
    if config.ocm is not None:
        terms.append(DirectionConsistency(config.ocm))
    if config.boost is not None:
        terms.append(BoostSimilarity(config.boost))
    stages: list[Stage] = [FirstAssociation(config.iou_threshold, config.fuse_score, terms, gate_after)]
    if config.byte is not None:
        stages.append(ByteAssociation(config.byte, config.min_score, gate_after))
    if config.ocr:
        stages.append(Recovery(config.iou_threshold, gate_after))
    policies: list[UpdatePolicy] = []
    if config.oru:
        policies.append(Reupdate())
    if config.ams is not None:
        policies.append(MotionSuppression(config.ams))
    others: list[Part] = [*terms, ClassVote()]
    if config.quality is not None:
        others.append(TrackQuality(config.quality))
    return boosts, stages, policies, others


def _overrides(part: Part, hook: str) -> bool:
    return getattr(type(part), hook) is not getattr(Part, hook)


class AssociationTracker(BaseTracker):
    """Tracking-by-detection with a pluggable :class:`~tracker.motion.base.MotionModel`.

    Args:
        motion: the motion model (e.g. :class:`~tracker.motion.kalman.KalmanMotion`).
        config: association settings.
        name: the backend name reported by :attr:`name`.

    Each instance numbers its own tracks from 1; two instances never share IDs or
    state, and an ID is never reused within an instance, even after :meth:`reset`.
    Supports ``camera_motion`` in :meth:`update` and :meth:`predict`.

    Raises:
        ValueError: a mechanism in ``config`` needs a capability ``motion`` lacks
            (Mahalanobis distances for ``boost.mhd_weight`` and ``duo``, a gain to scale
            for ``ams``).

    Attributes:
        table: per-track data, one row per live track (:class:`tracker.table.TrackTable`).
        state: the motion state of the same rows.
    """

    name = "association"
    supports_camera_motion = True
    supports_predict = True

    def __init__(self, motion: MotionModel, config: PipelineConfig | None = None, name: str | None = None) -> None:
        super().__init__()
        if name is not None:
            self.name = name
        self.motion = motion
        self.motion_name = type(motion).__name__
        self.config = cfg = config or PipelineConfig()
        self._boosts, self._stages, policies, others = build_parts(cfg)
        self._policies = policies
        parts: list[Part] = [*self._boosts, *self._stages, *policies, *others]
        self._votes = next(part for part in others if isinstance(part, ClassVote))
        self.table = TrackTable(tuple(spec for part in parts for spec in part.fields))
        for part in parts:
            part.bind(self)
        self._on_birth = [part for part in parts if _overrides(part, "on_birth")]
        self._on_match = [part for part in parts if _overrides(part, "on_match")]
        self._on_keep = [part for part in parts if _overrides(part, "on_keep")]
        self._on_warp = [part for part in parts if _overrides(part, "on_warp")]
        self._on_clear = [part for part in parts if _overrides(part, "on_clear")]
        self._on_report = [part for part in parts if _overrides(part, "reportable")]
        birth_score = cfg.min_score if cfg.birth_score is None else cfg.birth_score
        self.lifecycle = Lifecycle(cfg.min_hits, cfg.max_age_s, birth_score, cfg.confirm_score)
        self._filtered = cfg.output_box == "filtered"
        self._keep_obs = any(part.needs_observations for part in parts)
        self._large_frames = all(part.supports_large_frames for part in parts)
        points = self.table.points
        self._points = points if self._keep_obs else slice(self.table.OBS.stop, points.stop)
        self._next_id = 1
        self._clear()

    def _clear(self) -> None:
        self.state = MotionState()
        self.table.clear()
        self._now = 0.0
        self._previous_update = 0.0
        #: Calls of :meth:`update` since the last reset: the clock of the table's ``matched_at``.
        self.updates = 0
        for part in self._on_clear:
            part.on_clear(self)

    def _reset(self) -> None:
        self._clear()

    def __len__(self) -> int:
        return len(self.table.i)

    def _compensate(self, affine: FloatArray) -> None:
        # The predicted boxes are recomputed by the prediction that always follows
        # (timestamps strictly increase); stored points are moved here.
        if not len(self.table.i) or not self.config.camera_motion:
            return
        self.state = self.motion.warp(self.state, affine)
        for part in self._on_warp:
            part.on_warp(self, affine)
        points = self._points
        if points.stop > points.start:
            f, m = self.table.f, len(self.table.i)
            f[:, points] = (f[:, points].reshape(m, -1, 2) @ affine[:, :2].T + affine[:, 2]).reshape(m, -1)

    def _advance(self, timestamp: float, dt: float) -> None:
        """Move the clock to ``timestamp`` and every track ``dt`` seconds ahead (its box: the prediction)."""
        self._now = timestamp
        if len(self.table.i) and dt > 0:
            self.state = self.motion.predict(self.state, dt)
            self.table.f[:, self.table.BOX] = self.motion.boxes(self.state)

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        table = self.table
        self.updates += 1
        self._advance(timestamp, dt)
        previous, self._previous_update = self._previous_update, timestamp
        table.i[:, table.DET] = -1
        large = self._large_frames and len(table.i) * len(detections) > LARGE_FRAME_PAIRS
        frame = Frame(self, detections, timestamp, previous, large)
        tracked = len(table.i) > 0
        if len(frame.scores):
            for boost in self._boosts:
                if tracked or not boost.needs_tracks:
                    boost.boost(self, frame)
        matches = Matches(indices(len(table.i)), (frame.scores >= self.config.min_score).nonzero()[0])
        if tracked:
            for stage in self._stages:
                stage.match(self, frame, matches)
        rows, cols = matches.pairs()
        if len(rows):
            matched = self._apply_matches(frame, rows, cols, len(matches.rows) > 1)
        if len(matches.free_tracks):
            self._coast(matches.free_tracks, timestamp)
        newborn = self.lifecycle.newborn(frame, matches, self.config.min_score)
        if len(newborn):
            born = self._birth(frame, newborn)
            if len(rows):
                matched = np.concatenate([matched[0], born[0]]), np.concatenate([matched[1], born[1]])
            else:
                matched = born
        elif not len(rows):
            return _NO_TRACKS
        f, i = matched
        if self.lifecycle.min_hits > 1:
            confirmed = i[:, self.table.CONFIRMED] > 0
            f, i = f.compress(confirmed, axis=0), i.compress(confirmed, axis=0)
        for part in self._on_report:
            shown = part.reportable(self, f, i)
            f, i = f.compress(shown, axis=0), i.compress(shown, axis=0)
        return self._tracks(f, i, _CONFIRMED)

    def _apply_matches(
        self, frame: Frame, rows: IntArray, cols: IntArray, unsorted: bool
    ) -> tuple[FloatArray, IntArray]:
        """Correct tracks ``rows`` with detections ``cols``; their updated float and int table rows.

        ``unsorted``: ``rows`` come from several stages; the result is put in table order.
        """
        if unsorted:
            order = rows.argsort()
            rows, cols = rows.take(order), cols.take(order)
        table, now = self.table, frame.now
        everything = len(rows) == len(table.i)  # then rows == 0..M-1: work on the table itself
        boxes = frame.boxes.take(cols, axis=0)
        if everything:
            f, i, state = table.f, table.i, self.state
        else:
            f, i, state = table.f.take(rows, axis=0), table.i.take(rows, axis=0), self.state.take(rows)
        gain: FloatArray | None = None
        for policy in self._policies:
            state, scale = policy.before_update(self, rows, boxes, f, i, state, now)
            if scale is not None:
                gain = scale if gain is None else gain * scale
        state = self.motion.update(state, boxes) if gain is None else self.motion.update(state, boxes, gain)
        f[:, table.BOX] = self.motion.boxes(state) if self._filtered else frame.xyxy.take(cols, axis=0)
        if self._keep_obs:
            f[:, table.OBS] = boxes
        f[:, table.LAST] = now
        f[:, table.SCORE] = frame.detector_scores.take(cols)
        i[:, table.HITS] += 1
        i[:, table.MATCHED_AT] = self.updates
        i[:, table.DET] = cols
        self.lifecycle.confirm(table, i)
        for part in self._on_match:
            part.on_match(self, frame, rows, cols, boxes, f, i, state)
        if everything:
            self.state = state
            return f, i.copy()
        self.state.put(rows, state)
        table.f[rows] = f
        table.i[rows] = i
        return f, i

    def _coast(self, free: IntArray, now: float) -> None:
        """The unmatched tracks ``free`` miss an update; the expired ones are deleted."""
        table = self.table
        expired = free.compress(self.lifecycle.expired(table, free, now))
        if len(expired):
            keep = np.ones(len(table.i), dtype=bool)
            keep[expired] = False
            self.state = self.motion.select(self.state, keep)
            for part in self._on_keep:
                part.on_keep(self, keep)
            table.keep(keep)

    def _birth(self, frame: Frame, cols: IntArray) -> tuple[FloatArray, IntArray]:
        """Start a tentative (or confirmed) track from each detection ``cols``; their float and int table rows."""
        table, k = self.table, len(cols)
        boxes = frame.boxes.take(cols, axis=0)
        scores = frame.detector_scores.take(cols)
        state = self.motion.initiate(boxes)
        f, i = table.new_rows(k)
        f[:, table.BOX] = self.motion.boxes(state) if self._filtered else frame.xyxy.take(cols, axis=0)
        f[:, table.OBS] = boxes
        f[:, table.BORN] = f[:, table.LAST] = frame.now
        f[:, table.SCORE] = scores
        i[:, table.ID] = np.arange(self._next_id, self._next_id + k)
        i[:, table.HITS] = 1
        i[:, table.MATCHED_AT] = self.updates
        i[:, table.DET] = cols
        i[:, table.CONFIRMED] = self.lifecycle.confirmed_at_birth(frame.scores.take(cols))  # as birth_score
        self._next_id += k
        for part in self._on_birth:
            part.on_birth(self, frame, cols, boxes, f, i, state)
        self.state = self.state.concat(state)
        table.append(f, i)
        return f, i

    def _predict(self, timestamp: float, dt: float) -> Tracks:
        table = self.table
        self._advance(timestamp, dt)
        i = table.i
        mask = (i[:, table.CONFIRMED] > 0) & (i[:, table.DET] >= 0)
        f, i = table.f.compress(mask, axis=0), i.compress(mask, axis=0)
        for part in self._on_report:  # the tracks the last update reported
            shown = part.reportable(self, f, i)
            f, i = f.compress(shown, axis=0), i.compress(shown, axis=0)
        predicted = i.copy()
        predicted[:, table.DET] = -1
        return self._tracks(f, predicted, _CONFIRMED)

    def _tracks(self, f: FloatArray, i: IntArray, state: int | None = None) -> Tracks:
        """The :class:`Tracks` of table rows ``f``, ``i`` (copies, made read-only here).

        ``state``: the :class:`TrackState` of every row, or None to derive it per row
        (matched: confirmed, unmatched: lost, unconfirmed: tentative).
        """
        table = self.table
        if state is None:
            states = np.where(i[:, table.DET] >= 0, _CONFIRMED, _LOST).astype(np.int8)
            states[i[:, table.CONFIRMED] == 0] = _TENTATIVE
        else:
            states = _constant_states(state, len(i))
        i.flags.writeable = False  # the int fields below are views of it
        # One float32 conversion for the box and the score (their columns are adjacent but for born and last).
        reported = f[:, : table.SCORE + 1].astype(np.float32)
        reported.flags.writeable = False
        return Tracks.trusted(
            ids=i[:, table.ID],
            xyxy=reported[:, table.BOX],
            scores=reported[:, table.SCORE],
            class_ids=self._votes.classes(f, i),
            det_index=i[:, table.DET],
            state=states,
            age=self._now - f[:, table.BORN],
            hits=i[:, table.HITS],
        )

    @property
    def tracks(self) -> Tracks:
        """Every live track after the latest update: tentative, confirmed and lost."""
        return self._tracks(self.table.f.copy(), self.table.i.copy())
