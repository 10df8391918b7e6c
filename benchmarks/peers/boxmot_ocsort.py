"""``boxmot-ocsort``: ``boxmot.OcSort`` (Cao et al. 2023) with its defaults.

``OcSort`` has no frame-rate setting: its ``max_age`` (30) counts frames whatever the rate.
"""

from __future__ import annotations

from benchmarks.peers.adapters import BoxmotTracker
from benchmarks.peers.configs import LibraryDefaultsConfig

__all__ = ["LibraryDefaultsConfig", "build"]


def build(config: LibraryDefaultsConfig) -> BoxmotTracker:
    """A ``boxmot-ocsort`` tracker; needs ``boxmot``."""
    import boxmot

    return BoxmotTracker("boxmot-ocsort", boxmot.OcSort, {})
