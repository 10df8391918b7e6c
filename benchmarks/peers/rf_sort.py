"""``rf-sort``: roboflow ``trackers.SORTTracker`` (SORT, Bewley et al. 2016), defaults plus frame rate."""

from __future__ import annotations

from benchmarks.peers.adapters import RoboflowTracker
from benchmarks.peers.configs import FrameRateConfig

__all__ = ["FrameRateConfig", "build"]


def build(config: FrameRateConfig) -> RoboflowTracker:
    """A ``rf-sort`` tracker; raises ModuleNotFoundError when ``trackers`` is not installed."""
    import trackers

    return RoboflowTracker("rf-sort", trackers.SORTTracker, {"frame_rate": config.frame_rate})
