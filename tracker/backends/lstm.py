"""``lstm``: the association pipeline with the learned LSTM motion model instead of the Kalman filter.

The motion model (:mod:`tracker.motion.lstm`) predicts each track's next box from its
last observed boxes with a small LSTM (in NumPy: this backend never imports torch);
tracks with too little history fall back to constant velocity. Everything else is
SORT's loop in :mod:`tracker.pipeline`. The shipped weights and how they were
trained and scored: ``tracker/motion/weights/MODEL_CARD.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.backends import common
from tracker.backends.common import BackendConfig
from tracker.pipeline import AssociationTracker

__all__ = ["LstmConfig", "build"]


@dataclass(frozen=True)
class LstmConfig(BackendConfig):
    """SORT's association settings with ``motion: lstm`` (the LSTM's settings under ``lstm``)."""

    motion: str = "lstm"


def build(config: LstmConfig) -> AssociationTracker:
    """An LSTM-motion tracker from ``config``.

    Raises:
        tracker.motion.lstm.LstmWeightsError: ``config.lstm.weights`` is missing
            (:class:`~tracker.motion.lstm.LstmWeightsNotFoundError`, also a ``FileNotFoundError``)
            or is not a valid motion-LSTM weights file; the message names the file and the rule.
    """
    return common.build(config, "lstm")
