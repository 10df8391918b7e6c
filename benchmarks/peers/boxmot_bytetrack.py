"""``boxmot-bytetrack``: ``boxmot.ByteTrack`` (Zhang et al. 2022) with its defaults plus the frame rate."""

from __future__ import annotations

from benchmarks.peers.adapters import BoxmotTracker
from benchmarks.peers.configs import FrameRateConfig

__all__ = ["FrameRateConfig", "build"]


def build(config: FrameRateConfig) -> BoxmotTracker:
    """A ``boxmot-bytetrack`` tracker (boxmot takes whole frames per second); needs ``boxmot``."""
    import boxmot

    return BoxmotTracker("boxmot-bytetrack", boxmot.ByteTrack, {"frame_rate": round(config.frame_rate)})
