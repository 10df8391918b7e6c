"""Box geometry: conversions between box conventions and the IoU matrix.

Conventions (all in pixels, image origin at the top-left, y down):

- ``xyxy``: ``(x1, y1, x2, y2)``, the corners.
- ``tlwh``: ``(left, top, width, height)``, MOTChallenge files.
- ``cxcysr``: ``(cx, cy, s, r)`` with centre ``(cx, cy)``, area ``s = w * h`` and
  aspect ratio ``r = w / h``: the Kalman state of SORT (Bewley et al., 2016).
"""

from __future__ import annotations

import numpy as np

__all__ = ["cxcysr_to_xyxy", "iou_matrix", "tlwh_to_xyxy", "xyxy_to_cxcysr", "xyxy_to_tlwh"]


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of two sets of ``xyxy`` boxes.

    Args:
        a: ``(M, 4)`` boxes.
        b: ``(N, 4)`` boxes.

    Returns:
        ``(M, N)`` float64 IoU in ``[0, 1]``; 0 where both boxes have zero area.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0.0, None) * np.clip(iy2 - iy1, 0.0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def xyxy_to_cxcysr(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, s, r)``.

    A zero-height box gets ``r = 0`` rather than a division by zero.
    """
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    w = xyxy[:, 2] - xyxy[:, 0]
    h = xyxy[:, 3] - xyxy[:, 1]
    r = np.divide(w, h, out=np.zeros_like(w), where=h > 0)
    return np.stack([xyxy[:, 0] + w / 2, xyxy[:, 1] + h / 2, w * h, r], axis=1)


def cxcysr_to_xyxy(cxcysr: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, s, r, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes.

    Negative areas or ratios (a Kalman prediction can overshoot) are clipped to 0,
    giving a degenerate box at the centre instead of NaN.
    """
    cxcysr = np.asarray(cxcysr, dtype=np.float64)
    s = np.clip(cxcysr[:, 2], 0.0, None)
    r = np.clip(cxcysr[:, 3], 0.0, None)
    w = np.sqrt(s * r)
    h = np.divide(s, w, out=np.zeros_like(s), where=w > 0)
    cx, cy = cxcysr[:, 0], cxcysr[:, 1]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def tlwh_to_xyxy(tlwh: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``(left, top, width, height)`` to ``(N, 4)`` float64 ``xyxy``."""
    tlwh = np.asarray(tlwh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([tlwh[:, :2], tlwh[:, :2] + tlwh[:, 2:]], axis=1)


def xyxy_to_tlwh(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` to ``(N, 4)`` float64 ``(left, top, width, height)``."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
