"""What every backend shares: :class:`BackendConfig` (pipeline settings plus the motion model) and :func:`build`."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.motion.base import MotionModel
from tracker.motion.kalman import KalmanConfig, KalmanMotion
from tracker.motion.lstm import LstmMotion, LstmMotionConfig
from tracker.pipeline import AssociationTracker, PipelineConfig

__all__ = ["MOTION_MODELS", "BackendConfig", "build", "motion_model"]

#: Values of :attr:`BackendConfig.motion`.
MOTION_MODELS = ("kalman", "lstm")


@dataclass(frozen=True)
class BackendConfig(PipelineConfig):
    """Pipeline settings plus the motion model: ``motion`` picks it, ``kalman`` / ``lstm`` hold its settings.

    Attributes:
        motion: ``"kalman"`` (:class:`~tracker.motion.kalman.KalmanMotion`, settings in
            ``kalman``) or ``"lstm"`` (:class:`~tracker.motion.lstm.LstmMotion`,
            settings in ``lstm``; no Mahalanobis distance and no gain, so it refuses
            ``boost.mhd_weight > 0``, ``duo`` and ``ams``).
        kalman: the Kalman filter's settings (used when ``motion`` is ``"kalman"``).
        lstm: the LSTM's settings (used when ``motion`` is ``"lstm"``).
    """

    motion: str = "kalman"
    kalman: KalmanConfig = field(default_factory=KalmanConfig)
    lstm: LstmMotionConfig = field(default_factory=LstmMotionConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.motion not in MOTION_MODELS:
            raise ValueError(f"motion must be one of {', '.join(MOTION_MODELS)}, got {self.motion!r}")
        if self.motion == "lstm":
            if (self.boost is not None and self.boost.mhd_weight > 0) or self.duo is not None:
                raise ValueError("the LSTM motion model has no covariance: boost.mhd_weight must be 0 and duo off")
            if self.ams is not None:
                raise ValueError("the LSTM motion model keeps raw observations, no gain to suppress: ams must be off")


def motion_model(config: BackendConfig) -> MotionModel:
    """The motion model ``config`` selects.

    Raises:
        FileNotFoundError, ValueError: the LSTM's weights file is missing or invalid.
    """
    if config.motion == "lstm":
        return LstmMotion(config.lstm)
    return KalmanMotion(config.kalman)


def build(config: BackendConfig, name: str) -> AssociationTracker:
    """A pipeline tracker named ``name`` with the motion model and settings of ``config``."""
    return AssociationTracker(motion_model(config), config, name)
