"""Box geometry: conversions between box conventions and the IoU matrix.

Conventions (all in pixels, image origin at the top-left, y down):

- ``xyxy``: ``(x1, y1, x2, y2)``, the corners.
- ``tlwh``: ``(left, top, width, height)``, MOTChallenge files.
- ``cxcysr``: ``(cx, cy, s, r)`` with centre ``(cx, cy)``, area ``s = w * h`` and
  aspect ratio ``r = w / h``: the Kalman state of SORT (Bewley et al., 2016).
- ``cxcyah``: ``(cx, cy, a, h)`` with aspect ratio ``a = w / h`` and height ``h``: the
  Kalman state of DeepSORT (Wojke et al., 2017) and ByteTrack.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cxcyah_to_xyxy",
    "cxcysr_to_xyxy",
    "iou_matrix",
    "tlwh_to_xyxy",
    "xyxy_to_cxcyah",
    "xyxy_to_cxcysr",
    "xyxy_to_tlwh",
]


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


def _centre_size(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(N, 4)`` float64 output filled with the centre, the widths, heights and ratios ``w / h`` (0 if h = 0)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    out = np.empty_like(xyxy)
    w = xyxy[:, 2] - xyxy[:, 0]
    h = xyxy[:, 3] - xyxy[:, 1]
    out[:, 0] = xyxy[:, 0] + 0.5 * w
    out[:, 1] = xyxy[:, 1] + 0.5 * h
    return out, w, h, np.divide(w, h, out=np.zeros_like(w), where=h > 0)


def xyxy_to_cxcysr(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, s, r)`` (SORT's box state).

    A zero-height box gets ``r = 0`` rather than a division by zero.
    """
    out, w, h, r = _centre_size(xyxy)
    out[:, 2] = w * h
    out[:, 3] = r
    return out


def xyxy_to_cxcyah(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, a, h)`` (DeepSORT's box state, ``a = w / h``).

    A zero-height box gets ``a = 0`` rather than a division by zero.
    """
    out, _, h, a = _centre_size(xyxy)
    out[:, 2] = a
    out[:, 3] = h
    return out


def cxcyah_to_xyxy(cxcyah: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, a, h, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes (negative a or h count as 0)."""
    cxcyah = np.asarray(cxcyah, dtype=np.float64)
    h = np.maximum(cxcyah[:, 3], 0.0)
    half_w = 0.5 * np.maximum(cxcyah[:, 2], 0.0) * h
    out = np.empty((len(cxcyah), 4))
    out[:, 0] = cxcyah[:, 0] - half_w
    out[:, 1] = cxcyah[:, 1] - 0.5 * h
    out[:, 2] = cxcyah[:, 0] + half_w
    out[:, 3] = cxcyah[:, 1] + 0.5 * h
    return out


def cxcysr_to_xyxy(cxcysr: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, s, r, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes.

    Negative areas or ratios (a Kalman prediction can overshoot) count as 0,
    giving a degenerate box at the centre instead of NaN.
    """
    cxcysr = np.asarray(cxcysr, dtype=np.float64)
    s = np.maximum(cxcysr[:, 2], 0.0)
    half_w = 0.5 * np.sqrt(s * np.maximum(cxcysr[:, 3], 0.0))
    half_h = np.divide(0.25 * s, half_w, out=np.zeros_like(s), where=half_w > 0)
    out = np.empty((len(cxcysr), 4))
    out[:, 0] = cxcysr[:, 0] - half_w
    out[:, 1] = cxcysr[:, 1] - half_h
    out[:, 2] = cxcysr[:, 0] + half_w
    out[:, 3] = cxcysr[:, 1] + half_h
    return out


def tlwh_to_xyxy(tlwh: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``(left, top, width, height)`` to ``(N, 4)`` float64 ``xyxy``."""
    tlwh = np.asarray(tlwh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([tlwh[:, :2], tlwh[:, :2] + tlwh[:, 2:]], axis=1)


def xyxy_to_tlwh(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` to ``(N, 4)`` float64 ``(left, top, width, height)``."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
