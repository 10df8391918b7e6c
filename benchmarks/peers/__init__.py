"""Peer tracking libraries as optional vtrack backends (pip extra ``peers``).

Each backend is a small module with a frozen config dataclass (first in its
``__all__``) and ``build(config)``, registered with :func:`tracker.registry.register`
by :func:`register_peers`; the library itself is imported only when a backend is built.

================== ======================================= ==========================================
name               wraps                                   settings (library defaults, plus ...)
================== ======================================= ==========================================
``rf-sort``        ``trackers.SORTTracker``                ``frame_rate``
``rf-bytetrack``   ``trackers.ByteTrackTracker``           ``frame_rate``
``rf-ocsort``      ``trackers.OCSORTTracker``              ``frame_rate``
``boxmot-bytetrack`` ``boxmot.ByteTrack``                  ``frame_rate``
``boxmot-ocsort``  ``boxmot.OcSort``                       nothing (it has no frame-rate setting)
``boxmot-botsort`` ``boxmot.BotSort``                      ``frame_rate``, ReID and CMC off
``boxmot-occluboost`` ``boxmot.OccluBoost``                ReID and CMC off (no frame-rate setting)
================== ======================================= ==========================================

References: SORT (Bewley et al. 2016), ByteTrack (Zhang et al. 2022), OC-SORT (Cao et
al. 2023), BoT-SORT (Aharon et al. 2022), BoostTrack (Stanojević & Todorović 2024); roboflow ``trackers``
(https://github.com/roboflow/trackers), BoxMOT (https://github.com/mikel-brostrom/boxmot).
"""

from __future__ import annotations

from tracker.registry import available, register

__all__ = ["PEERS", "register_peers"]

#: Backend name -> module path.
PEERS = {
    "rf-sort": "benchmarks.peers.rf_sort",
    "rf-bytetrack": "benchmarks.peers.rf_bytetrack",
    "rf-ocsort": "benchmarks.peers.rf_ocsort",
    "boxmot-bytetrack": "benchmarks.peers.boxmot_bytetrack",
    "boxmot-ocsort": "benchmarks.peers.boxmot_ocsort",
    "boxmot-botsort": "benchmarks.peers.boxmot_botsort",
    "boxmot-occluboost": "benchmarks.peers.boxmot_occluboost",
}


def register_peers() -> list[str]:
    """Register every peer backend not registered yet with :mod:`tracker.registry`; return :data:`PEERS`' names.

    Safe to call repeatedly. Registration does not import the peer libraries; building a
    backend whose library is missing raises ``ModuleNotFoundError`` naming it.
    """
    registered = set(available())
    for name, module in PEERS.items():
        if name not in registered:
            register(name, module)
    return list(PEERS)
