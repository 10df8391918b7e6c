"""``lstm``: the association pipeline with the learned LSTM motion model instead of the Kalman filter.

The motion model (:mod:`tracker.motion.lstm`) predicts each track's next box from its
last observed boxes with a small LSTM (in NumPy: this backend never imports torch);
tracks with too little history fall back to constant velocity. Everything else is
SORT's loop in :mod:`tracker.pipeline`. The shipped weights and how they were
trained and scored: ``tracker/motion/weights/MODEL_CARD.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.motion.lstm import LstmMotion, LstmMotionConfig
from tracker.pipeline import AssociationConfig, AssociationTracker

__all__ = ["LstmConfig", "build"]


@dataclass(frozen=True)
class LstmConfig(AssociationConfig):
    """Association settings plus the LSTM motion model's (``lstm``: weights path, fallback rule)."""

    lstm: LstmMotionConfig = field(default_factory=LstmMotionConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.needs_mahalanobis:
            raise ValueError("the LSTM motion model has no innovation covariance: mhd_weight must be 0 and duo false")
        if self.ams:
            raise ValueError("the LSTM motion model keeps raw observations, no gain to suppress: ams must be false")


def build(config: LstmConfig) -> AssociationTracker:
    """An LSTM-motion tracker from ``config``.

    Raises:
        tracker.motion.lstm.LstmWeightsError: ``config.lstm.weights`` is missing
            (:class:`~tracker.motion.lstm.LstmWeightsNotFoundError`, also a ``FileNotFoundError``)
            or is not a valid motion-LSTM weights file; the message names the file and the rule.
    """
    tracker = AssociationTracker(LstmMotion(config.lstm), config)
    tracker.name = "lstm"
    return tracker
