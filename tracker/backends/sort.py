"""``sort``: SORT (Bewley et al., 2016), a constant-velocity Kalman filter and IoU Hungarian matching."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.motion.kalman import KalmanConfig, KalmanMotion
from tracker.pipeline import AssociationConfig, AssociationTracker

__all__ = ["SortConfig", "build"]


@dataclass(frozen=True)
class SortConfig(AssociationConfig):
    """Association settings plus the Kalman filter's noise (``kalman``)."""

    kalman: KalmanConfig = field(default_factory=KalmanConfig)


def build(config: SortConfig) -> AssociationTracker:
    """A SORT tracker from ``config``."""
    tracker = AssociationTracker(KalmanMotion(config.kalman), config)
    tracker.name = "sort"
    return tracker
