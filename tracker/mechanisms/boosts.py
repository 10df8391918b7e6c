"""Detection-score boosts: BoostTrack's DLO and DUO (Stanojević & Todorović, MVA 2024).

They run before the detections are split by score, so a boosted detection enters the
first association (and can start a track) although the detector scored it low. The
maths is in :mod:`tracker.similarity` (:func:`~tracker.similarity.dlo_boost`,
:func:`~tracker.similarity.duo_boost`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.config import check_range
from tracker.mechanisms.base import Frame, Pipeline, ScoreBoost
from tracker.similarity import dlo_boost, duo_boost

__all__ = ["DloBoost", "DloConfig", "DuoBoost", "DuoConfig"]


@dataclass(frozen=True)
class DloConfig:
    """BoostTrack's DLO ("detecting likely objects") boost.

    Attributes:
        coef: in ``(0, 1]``: every detection's score becomes at least ``coef`` times its
            largest IoU with a track's predicted box (BoostTrack: 0.65).
    """

    coef: float = 0.65

    def __post_init__(self) -> None:
        check_range("dlo.coef", self.coef, 0.0, 1.0, low_open=True)


class DloBoost(ScoreBoost):
    """Raises each detection's score to at least ``coef`` times its best IoU with a track."""

    def __init__(self, config: DloConfig) -> None:
        self.config = config

    def boost(self, p: Pipeline, frame: Frame) -> None:
        if frame.large:
            _, cols, iou = frame.pairs()
            best = np.zeros(len(frame.boxes))
            np.maximum.at(best, cols, iou)
            frame.scores = np.maximum(frame.scores, self.config.coef * best)
        else:
            frame.scores = dlo_boost(frame.scores, frame.iou(), self.config.coef)


@dataclass(frozen=True)
class DuoConfig:
    """BoostTrack's DUO ("detecting unlikely objects") boost.

    Attributes:
        measurement_noise: the Mahalanobis gate uses ``P + R`` (true) or ``P`` alone (false).
    """

    measurement_noise: bool = True


class DuoBoost(ScoreBoost):
    """Raises a low-score detection that no track explains to ``min_score``.

    A detection below ``min_score`` outside every track's Mahalanobis gate (chi-squared
    99 %, 4 degrees of freedom) and not overlapped (IoU > 0.3) by a better such
    detection is raised to ``min_score``.

    Raises (at :meth:`bind`):
        ValueError: the motion model has no Mahalanobis distance.
    """

    # The gate is on every (track, detection) distance: no pairwise form.
    supports_large_frames = False

    def __init__(self, config: DuoConfig, min_score: float) -> None:
        self.config = config
        self.min_score = min_score

    def bind(self, p: Pipeline) -> None:
        if not p.motion.supports_mahalanobis:
            raise ValueError(f"duo needs Mahalanobis distances, which {p.motion_name} cannot provide")

    def boost(self, p: Pipeline, frame: Frame) -> None:
        d2 = frame.mahalanobis(self.config.measurement_noise)
        frame.scores = duo_boost(frame.scores, frame.boxes, d2, self.min_score)
