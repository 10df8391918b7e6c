"""``boxmot-botsort``: ``boxmot.BotSort`` (Aharon et al. 2022) without ReID and without camera-motion compensation.

Library defaults plus the frame rate, with ``use_embeddings`` and ``use_cmc`` off: the
benchmarks replay detections without images, and both need the images.
"""

from __future__ import annotations

from benchmarks.peers.adapters import BoxmotTracker
from benchmarks.peers.configs import BotSortConfig

__all__ = ["BotSortConfig", "build"]


def build(config: BotSortConfig) -> BoxmotTracker:
    """A ``boxmot-botsort`` tracker; needs ``boxmot``."""
    import boxmot

    arguments = {
        "frame_rate": round(config.frame_rate),
        "use_embeddings": config.use_embeddings,
        "use_cmc": config.use_cmc,
    }
    return BoxmotTracker("boxmot-botsort", boxmot.BotSort, arguments)
