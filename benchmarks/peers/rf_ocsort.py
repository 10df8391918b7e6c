"""``rf-ocsort``: roboflow ``trackers.OCSORTTracker`` (OC-SORT, Cao et al. 2023), defaults plus frame rate."""

from __future__ import annotations

from benchmarks.peers.adapters import RoboflowTracker
from benchmarks.peers.configs import FrameRateConfig

__all__ = ["FrameRateConfig", "build"]


def build(config: FrameRateConfig) -> RoboflowTracker:
    """A ``rf-ocsort`` tracker; raises ModuleNotFoundError when ``trackers`` is not installed."""
    import trackers

    return RoboflowTracker("rf-ocsort", trackers.OCSORTTracker, {"frame_rate": config.frame_rate})
