"""``vtrack``: the recommended backend, the one association pipeline with the field's proven additions.

A constant-velocity Kalman filter on ``(cx, cy, a, h)`` whose noise scales with the
box height (DeepSORT, Wojke et al. 2017), camera-motion compensation when the
caller passes ``camera_motion`` (BoT-SORT, Aharon et al. 2022), BYTE's second
association of low-score detections (Zhang et al. 2022), SORT's global assignment
objective (the IoU gate applied after the Hungarian algorithm), a first-association
cost ``1 - IoU * score`` (ByteTrack's score fusion) plus BoostTrack's
confidence-weighted IoU and shape similarities (Stanojevic and Todorovic 2024), and
tracks confirmed by a second hit or by one detection scoring at least 0.8. OC-SORT's
velocity-direction consistency, re-update and recovery (Cao et al. 2023) are
available but off. Every mechanism is a switch of :class:`tracker.pipeline.PipelineConfig`;
the defaults were chosen with ``vtrack tune --suite`` by their worst margin over the
best peer across six benchmarks (two detectors on KITTI, four on MOT17): see
``configs/vtrack.yaml`` for the command and the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.backends import common
from tracker.backends.common import BackendConfig
from tracker.mechanisms.costs import BoostConfig
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

    iou_threshold: float = 0.2
    min_hits: int = 2
    max_age_s: float = 2.0
    min_score: float = 0.55
    birth_score: float | None = 0.55
    confirm_score: float | None = 0.8
    fuse_score: bool = True
    byte: ByteConfig | None = field(default_factory=lambda: ByteConfig(low_score=0.1, iou_threshold=0.5))
    boost: BoostConfig | None = field(
        default_factory=lambda: BoostConfig(iou_weight=0.5, mhd_weight=0.0, shape_weight=0.25)
    )
    assignment: str = "global"
    kalman: KalmanConfig = field(default_factory=_kalman)


def build(config: VtrackConfig) -> AssociationTracker:
    """A ``vtrack`` tracker from ``config``."""
    return common.build(config, "vtrack")
