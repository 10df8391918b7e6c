"""``boxmot-occluboost``: ``boxmot.OccluBoost`` (BoxMOT's BoostTrack hybrid) on motion only.

BoostTrack (Stanojević & Todorović 2024) with BoxMOT's confirmation states: library
defaults with ``use_embeddings`` and ``use_cmc`` off, since the benchmarks replay
detections without images and both need them. It has no frame-rate setting: its
ages count frames whatever the rate.
"""

from __future__ import annotations

from benchmarks.peers.adapters import BoxmotTracker
from benchmarks.peers.configs import MotionOnlyConfig

__all__ = ["MotionOnlyConfig", "build"]


def build(config: MotionOnlyConfig) -> BoxmotTracker:
    """A ``boxmot-occluboost`` tracker; needs ``boxmot``."""
    import boxmot

    arguments = {"use_embeddings": config.use_embeddings, "use_cmc": config.use_cmc}
    return BoxmotTracker("boxmot-occluboost", boxmot.OccluBoost, arguments)
