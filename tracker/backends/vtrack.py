"""``vtrack``: the recommended backend, the one association pipeline with the field's proven additions.

A constant-velocity Kalman filter on ``(cx, cy, a, h)`` whose noise scales with the
box height (DeepSORT, Wojke et al. 2017), camera-motion compensation when the
caller passes ``camera_motion`` (BoT-SORT, Aharon et al. 2022), BYTE's second
association of low-score detections (Zhang et al. 2022) and SORT's global
assignment objective (the IoU gate applied after the Hungarian algorithm). OC-SORT's
velocity-direction consistency, re-update and recovery (Cao et al. 2023) are
available but off: with camera motion on they did not pay on KITTI. Every mechanism is a switch of
:class:`tracker.pipeline.PipelineConfig`; the defaults here were tuned with
``vtrack tune`` on the KITTI tracking training sequences (see ``configs/vtrack.yaml``
for the command and the cross-validated figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.backends import common
from tracker.backends.common import BackendConfig
from tracker.mechanisms.stages import ByteConfig
from tracker.motion.kalman import KalmanConfig
from tracker.pipeline import AssociationTracker

__all__ = ["VtrackConfig", "build"]


def _kalman() -> KalmanConfig:
    return KalmanConfig(
        representation="cxcyah",
        measurement_std=(0.0, 0.0, 0.1, 0.0),
        measurement_std_per_height=(0.05, 0.05, 0.0, 0.05),
        process_std=(0.0, 0.0, 0.03, 0.0),
        process_std_per_height=(0.16, 0.16, 0.0, 0.16),
        process_velocity_std=(0.0, 0.0, 0.0, 0.0),
        process_velocity_std_per_height=(0.5, 0.5, 0.0, 0.5),
        initial_std=(0.0, 0.0, 0.01, 0.0),
        initial_std_per_height=(0.1, 0.1, 0.0, 0.1),
        initial_velocity_std=(0.0, 0.0, 0.0, 0.0),
        initial_velocity_std_per_height=(0.6, 0.6, 0.0, 0.6),
    )


@dataclass(frozen=True)
class VtrackConfig(BackendConfig):
    """The pipeline with vtrack's tuned defaults (see the module doc)."""

    iou_threshold: float = 0.3
    min_hits: int = 1
    max_age_s: float = 3.0
    min_score: float = 0.5
    birth_score: float | None = 0.5
    byte: ByteConfig | None = field(default_factory=lambda: ByteConfig(low_score=0.1, iou_threshold=0.5))
    assignment: str = "global"
    kalman: KalmanConfig = field(default_factory=_kalman)


def build(config: VtrackConfig) -> AssociationTracker:
    """A ``vtrack`` tracker from ``config``."""
    return common.build(config, "vtrack")
