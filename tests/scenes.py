"""Helpers for the synthetic scenes of the association tests: boxes by centre, Detections by boxes."""

import numpy as np

from tracker import Detections


def box(cx: float, cy: float, w: float = 40.0, h: float = 30.0) -> list[float]:
    """An ``xyxy`` box of ``w`` x ``h`` pixels centred on ``(cx, cy)``."""
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def dets(*boxes: list[float], scores: list[float] | None = None, class_ids: list[int] | None = None) -> Detections:
    """Detections of ``boxes``; scores 0.9 and class 2 (COCO car) unless given."""
    n = len(boxes)
    return Detections(
        np.array(boxes, dtype=np.float64).reshape(n, 4),
        [0.9] * n if scores is None else scores,
        [2] * n if class_ids is None else class_ids,
    )
