"""Detectors: turn frames (``(H, W, 3)`` uint8 BGR arrays) into :class:`tracker.Detections`.

- :class:`~detectors.base.Detector`: the protocol every detector follows.
- :class:`~detectors.yolo.YOLODetector`: Ultralytics YOLO, COCO vehicle classes by default,
  on torch, OpenVINO or ONNX Runtime (:mod:`detectors.runtime`: the choice and the cached
  exports; :mod:`detectors.exported`: exports run directly on their runtime).
- :class:`~detectors.files.FileDetections`: precomputed detections read per frame number
  (MOTChallenge ``det.txt``, KITTI-style CSV), e.g. public benchmark detections;
  :class:`~detectors.replay.ReplayDetector` replays them frame by frame as a Detector.

Names are loaded lazily, so ``import detectors`` does not import Ultralytics or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["COCO_VEHICLES", "Detector", "FileDetections", "ReplayDetector", "YOLODetector"]

_LAZY = {
    "Detector": "detectors.base",
    "COCO_VEHICLES": "detectors.yolo",
    "YOLODetector": "detectors.yolo",
    "FileDetections": "detectors.files",
    "ReplayDetector": "detectors.replay",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'detectors' has no attribute '{name}'")
