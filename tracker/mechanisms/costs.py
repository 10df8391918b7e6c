"""Cost terms of the first association: OC-SORT's direction consistency, BoostTrack's similarities.

Each term is a similarity (higher: a likelier pair) that the first association
subtracts from its cost ``1 - IoU`` (:class:`tracker.mechanisms.stages.FirstAssociation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.arrays import FloatArray, IntArray
from tracker.config import check_range
from tracker.mechanisms.base import CostTerm, Frame, Pipeline
from tracker.motion.base import MotionState
from tracker.similarity import boost_similarity, shape_similarity, shape_similarity_of_pairs, track_confidence
from tracker.table import FieldSpec

__all__ = ["BoostConfig", "BoostSimilarity", "DirectionConsistency", "OcmConfig"]

#: Largest ``ocm.history``: the direction is measured over at most this many observations back.
MAX_OCM_HISTORY = 100


@dataclass(frozen=True)
class OcmConfig:
    """OC-SORT's observation-centric momentum: velocity-direction consistency (Cao et al., CVPR 2023).

    Attributes:
        weight: weight (``>= 0``) of the term, times the detection's score, in the cost.
        history: how many observations back (1 to 100) a track's direction of travel is measured.
    """

    weight: float = 0.2
    history: int = 3

    def __post_init__(self) -> None:
        check_range("ocm.weight", self.weight, 0.0)
        check_range("ocm.history", self.history, 1, MAX_OCM_HISTORY)


class DirectionConsistency(CostTerm):
    """OC-SORT's velocity-direction consistency, weighted by the detection's score.

    ``(pi/2 - angle) / pi`` in ``[-0.5, 0.5]``, the angle between each track's direction
    of travel (from its observation ``history`` observations back to its last one) and
    the direction from its last observation to each detection; 0 for tracks with a
    single observation. Declares the last ``history + 1`` observed centres (pixels,
    newest last, moved by camera motion) and the count of observations.
    """

    def __init__(self, config: OcmConfig) -> None:
        self.config = config
        self.points = config.history + 1
        self.fields = (
            FieldSpec("ocm_centres", 2 * self.points, points=True),
            FieldSpec("ocm_observations", integer=True),
        )

    def bind(self, p: Pipeline) -> None:
        centres = p.table.column("ocm_centres")
        assert isinstance(centres, slice)
        self._centres, self._last = centres, slice(centres.stop - 2, centres.stop)
        self._count = p.table.column("ocm_observations")

    def _directions(self, p: Pipeline) -> tuple[FloatArray, FloatArray, IntArray]:
        """Each track's last observed centre ``(M, 2)``, direction of travel ``(M, 2)``, observations back ``(M,)``."""
        t = p.table
        m = len(t)
        centres = t.f[:, self._centres].reshape(m, -1, 2)
        back = np.minimum(t.i[:, self._count] - 1, self.config.history)
        last = centres[:, -1]
        return last, last - centres[np.arange(m), centres.shape[1] - 1 - back], back

    def similarity(self, p: Pipeline, frame: Frame, cols: IntArray, iou: FloatArray) -> FloatArray:
        last, travel, back = self._directions(p)
        tx, ty = travel[:, 0:1], travel[:, 1:2]
        boxes = frame.boxes.take(cols, axis=0)
        dx = 0.5 * (boxes[:, 0] + boxes[:, 2]) - last[:, 0:1]
        dy = 0.5 * (boxes[:, 1] + boxes[:, 3]) - last[:, 1:2]
        norms = np.sqrt((dx * dx + dy * dy) * (tx * tx + ty * ty))
        cos = (dx * tx + dy * ty) / np.maximum(norms, 1e-9)
        # (pi/2 - arccos(cos)) / pi == arcsin(cos) / pi
        consistency = np.arcsin(np.clip(cos, -1.0, 1.0)) / np.pi
        consistency[back == 0] = 0.0
        result: FloatArray = self.config.weight * consistency * frame.scores.take(cols)
        return result

    def pair_similarity(self, p: Pipeline, frame: Frame, rows: IntArray, cols: IntArray, iou: FloatArray) -> FloatArray:
        last, travel, back = self._directions(p)
        last, travel = last.take(rows, axis=0), travel.take(rows, axis=0)
        boxes = frame.boxes.take(cols, axis=0)
        dx = 0.5 * (boxes[:, 0] + boxes[:, 2]) - last[:, 0]
        dy = 0.5 * (boxes[:, 1] + boxes[:, 3]) - last[:, 1]
        tx, ty = travel[:, 0], travel[:, 1]
        norms = np.sqrt((dx * dx + dy * dy) * (tx * tx + ty * ty))
        cos = (dx * tx + dy * ty) / np.maximum(norms, 1e-9)
        consistency = np.arcsin(np.clip(cos, -1.0, 1.0)) / np.pi
        consistency[back.take(rows) == 0] = 0.0
        result: FloatArray = self.config.weight * consistency * frame.scores.take(cols)
        return result

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
        f[:, self._last] = 0.5 * (boxes[:, :2] + boxes[:, 2:])
        i[:, self._count] = 1

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
        c = self._centres
        f[:, c.start : c.stop - 2] = f[:, c.start + 2 : c.stop]
        f[:, self._last] = 0.5 * (boxes[:, :2] + boxes[:, 2:])
        i[:, self._count] += 1


@dataclass(frozen=True)
class BoostConfig:
    """BoostTrack's similarity terms (Stanojević & Todorović, MVA 2024); the maths is in :mod:`tracker.similarity`.

    Attributes:
        iou_weight: ``lambda_iou`` (``>= 0``): the IoU weighted by the pair's confidence
            (detection score times tracklet confidence).
        mhd_weight: ``lambda_mhd`` (``>= 0``): the Mahalanobis similarity (a per-track
            softmax of gated squared Mahalanobis distances). Needs a motion model with
            ``supports_mahalanobis`` when above 0.
        shape_weight: ``lambda_shape`` (``>= 0``): the confidence-weighted width/height similarity.
        tracklet_decay: ``beta`` in ``(0, 1]``: the tracklet confidence is
            ``beta ** misses`` (``beta ** (7 - hits)`` for tracks with fewer than 7 hits).
        mhd_measurement_noise: the Mahalanobis distances use the innovation covariance
            ``P + R`` (true) or the predicted state's covariance ``P`` alone (false, as
            BoostTrack's published code does: a tighter gate).
    """

    iou_weight: float = 0.5
    mhd_weight: float = 0.25
    shape_weight: float = 0.25
    tracklet_decay: float = 0.9
    mhd_measurement_noise: bool = True

    def __post_init__(self) -> None:
        for name in ("iou_weight", "mhd_weight", "shape_weight"):
            check_range(f"boost.{name}", getattr(self, name), 0.0)
        check_range("boost.tracklet_decay", self.tracklet_decay, 0.0, 1.0, low_open=True)


class BoostSimilarity(CostTerm):
    """BoostTrack's confidence-weighted IoU, Mahalanobis and shape similarities.

    Raises (at :meth:`bind`):
        ValueError: ``mhd_weight > 0`` with a motion model that has no Mahalanobis distance.
    """

    def __init__(self, config: BoostConfig) -> None:
        self.config = config
        # The Mahalanobis similarity is a softmax over every detection: no pairwise form.
        self.supports_large_frames = config.mhd_weight == 0

    def bind(self, p: Pipeline) -> None:
        if self.config.mhd_weight > 0 and not p.motion.supports_mahalanobis:
            raise ValueError(f"boost.mhd_weight > 0 needs Mahalanobis distances, which {p.motion_name} cannot provide")

    def similarity(self, p: Pipeline, frame: Frame, cols: IntArray, iou: FloatArray) -> FloatArray:
        c, t = self.config, p.table
        scores = frame.scores.take(cols)
        misses = t.misses(p.updates)
        confidence = track_confidence(t.i[:, t.HITS], misses, c.tracklet_decay)[:, None] * scores
        shape = shape_similarity(t.f[:, t.BOX], frame.boxes.take(cols, axis=0)) if c.shape_weight > 0 else None
        d2 = frame.mahalanobis(c.mhd_measurement_noise).take(cols, axis=1) if c.mhd_weight > 0 else None
        return boost_similarity(iou, confidence, c.iou_weight, c.mhd_weight, d2, c.shape_weight, shape)

    def pair_similarity(self, p: Pipeline, frame: Frame, rows: IntArray, cols: IntArray, iou: FloatArray) -> FloatArray:
        c, t = self.config, p.table
        hits, misses = t.i[:, t.HITS].take(rows), t.misses(p.updates).take(rows)
        confidence = track_confidence(hits, misses, c.tracklet_decay) * frame.scores.take(cols)
        boost = (c.iou_weight * confidence) * iou
        if c.shape_weight > 0:
            tracks, dets = t.f[:, t.BOX].take(rows, axis=0), frame.boxes.take(cols, axis=0)
            boost += (c.shape_weight * confidence) * shape_similarity_of_pairs(tracks, dets)
        result: FloatArray = boost
        return result
