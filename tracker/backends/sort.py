"""``sort``: SORT (Bewley et al., 2016), a constant-velocity Kalman filter and IoU Hungarian matching."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.backends import common
from tracker.backends.common import BackendConfig
from tracker.pipeline import AssociationTracker

__all__ = ["SortConfig", "build"]


@dataclass(frozen=True)
class SortConfig(BackendConfig):
    """SORT's settings: the pipeline's and the Kalman filter's defaults (SORT's noise, per second at 10 Hz)."""


def build(config: SortConfig) -> AssociationTracker:
    """A SORT tracker from ``config``."""
    return common.build(config, "sort")
