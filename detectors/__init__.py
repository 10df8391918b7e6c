"""Detectors: turn frames (``(H, W, 3)`` uint8 BGR arrays) into :class:`tracker.Detections`.

- :class:`~detectors.base.Detector`: the protocol every detector follows.
- :class:`~detectors.yolo.YOLODetector`: Ultralytics YOLO, COCO vehicle classes by default.
- :class:`~detectors.files.FileDetections`: replays precomputed detections
  (MOTChallenge ``det.txt``, KITTI-style CSV), e.g. public benchmark detections.

Names are loaded lazily, so ``import detectors`` does not import Ultralytics or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["COCO_VEHICLES", "Detector", "FileDetections", "YOLODetector"]

_LAZY = {
    "Detector": "detectors.base",
    "COCO_VEHICLES": "detectors.yolo",
    "YOLODetector": "detectors.yolo",
    "FileDetections": "detectors.files",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'detectors' has no attribute '{name}'")
