"""Mechanisms that make the score thresholds independent of a detector's score calibration.

Every threshold of the pipeline (``min_score``, ``birth_score``, ``byte.low_score``,
``confirm_score``) compares detection scores with fixed numbers, tuned for one detector:
a detector whose scores are a sigmoid of logits, or one that never scores below 0.6,
sees them cut elsewhere in its distribution. Two remedies:

- :class:`ScoreQuantiles` replaces each score by its quantile among the scores the
  stream has shown lately, so a threshold becomes a fraction of the detector's own
  distribution (any monotone recalibration of the scores gives the same quantiles);
- :class:`TrackQuality` reports a track only while the mean score of its detections is
  high enough, so a track born on one confident false positive and kept alive by weak
  boxes (BYTE's) is not drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.arrays import BoolArray, FloatArray, IntArray
from tracker.config import check_range
from tracker.mechanisms.base import Frame, Part, Pipeline, ScoreBoost
from tracker.motion.base import MotionState
from tracker.table import FieldSpec

__all__ = ["QualityConfig", "QuantileConfig", "ScoreQuantiles", "TrackQuality"]

#: Largest ``quantiles.window``.
MAX_WINDOW = 1_000_000


@dataclass(frozen=True)
class QuantileConfig:
    """Scores as quantiles of the recent score distribution (:class:`ScoreQuantiles`).

    Attributes:
        window: how many of the latest detection scores (this update's included) the
            quantiles are taken among, 10 to 1,000,000.
    """

    window: int = 2000

    def __post_init__(self) -> None:
        check_range("quantiles.window", self.window, 10, MAX_WINDOW)


class ScoreQuantiles(ScoreBoost):
    """Each detection's score becomes the fraction of the last ``window`` scores at or below it.

    The scores the association and birth compare with their thresholds are then in
    ``(0, 1]`` and spread evenly over the detector's distribution: a score at the stream's
    median becomes 0.5 whether the detector gives probabilities or a sigmoid of logits.
    The first updates rank among the few scores seen so far. Reported scores stay the
    detector's. Runs before the other score boosts, with or without tracks.
    """

    needs_tracks = False

    def __init__(self, config: QuantileConfig) -> None:
        self.window = config.window

    def bind(self, p: Pipeline) -> None:
        self.on_clear(p)

    def on_clear(self, p: Pipeline) -> None:
        self._recent = np.zeros(0)  # the latest scores, oldest first
        self._sorted = np.zeros(0)  # the same, sorted

    def boost(self, p: Pipeline, frame: Frame) -> None:
        new = np.asarray(frame.scores, dtype=np.float64)
        recent = np.concatenate([self._recent, new])
        if len(recent) > self.window:
            recent = recent[-self.window :]
            ranked = np.sort(recent)
        else:
            ranked = np.sort(np.concatenate([self._sorted, new]))
        self._recent, self._sorted = recent, ranked
        frame.scores = np.searchsorted(ranked, new, side="right") / len(ranked)


@dataclass(frozen=True)
class QualityConfig:
    """Report only tracks of high enough quality (:class:`TrackQuality`).

    Attributes:
        min_mean_score: smallest mean score (as the association sees scores) of a
            track's matched detections, its first included, for it to be reported.
    """

    min_mean_score: float = 0.5

    def __post_init__(self) -> None:
        check_range("quality.min_mean_score", self.min_mean_score)


class TrackQuality(Part):
    """A track is reported only while the mean score of its detections reaches ``min_mean_score``.

    Declares the sum of those scores per track. The track lives on as usual (its
    detections are still matched to it); it is only not drawn.
    """

    fields = (FieldSpec("quality_score_sum"),)

    def __init__(self, config: QualityConfig) -> None:
        self.min_mean_score = config.min_mean_score

    def bind(self, p: Pipeline) -> None:
        self._sum = p.table.column("quality_score_sum")

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
        f[:, self._sum] = frame.scores.take(cols)

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
        f[:, self._sum] += frame.scores.take(cols)

    def reportable(self, p: Pipeline, f: FloatArray, i: IntArray) -> BoolArray:
        return f[:, self._sum] >= self.min_mean_score * i[:, p.table.HITS]
