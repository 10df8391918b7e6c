"""``rf-bytetrack``: roboflow ``trackers.ByteTrackTracker`` (ByteTrack, Zhang et al. 2022), defaults plus frame rate."""

from __future__ import annotations

from benchmarks.peers.adapters import RoboflowTracker
from benchmarks.peers.configs import FrameRateConfig

__all__ = ["FrameRateConfig", "build"]


def build(config: FrameRateConfig) -> RoboflowTracker:
    """A ``rf-bytetrack`` tracker; raises ModuleNotFoundError when ``trackers`` is not installed."""
    import trackers

    return RoboflowTracker("rf-bytetrack", trackers.ByteTrackTracker, {"frame_rate": config.frame_rate})
