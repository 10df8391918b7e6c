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
    # (M, N, 2) overlap extents along x and y, clipped at 0.
    extent = np.minimum(a[:, None, 2:], b[None, :, 2:])
    extent -= np.maximum(a[:, None, :2], b[None, :, :2])
    np.maximum(extent, 0.0, out=extent)
    inter = extent[..., 0] * extent[..., 1]
    size_a, size_b = a[:, 2:] - a[:, :2], b[:, 2:] - b[:, :2]
    union = (size_a[:, 0] * size_a[:, 1])[:, None] + size_b[:, 0] * size_b[:, 1] - inter
    # Where both areas are zero the union is 0 and so is the intersection: 0 / inf = 0.
    union[union <= 0.0] = np.inf
    return inter / union


# Linear maps between xyxy and (cx, cy, w, h), applied as one matrix product: boxes @ map.
_XYXY_TO_CXCYWH = np.array([[0.5, 0.0, -1.0, 0.0], [0.0, 0.5, 0.0, -1.0], [0.5, 0.0, 1.0, 0.0], [0.0, 0.5, 0.0, 1.0]])
_CXCYWH_TO_XYXY = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [-0.5, 0.0, 0.5, 0.0], [0.0, -0.5, 0.0, 0.5]])


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0 where the denominator is not positive."""
    return numerator / np.where(denominator > 0.0, denominator, np.inf)


def xyxy_to_cxcysr(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, s, r)`` (SORT's box state).

    A zero-height box gets ``r = 0`` rather than a division by zero.
    """
    out = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4) @ _XYXY_TO_CXCYWH
    w, h = out[:, 2].copy(), out[:, 3].copy()
    out[:, 2] = w * h
    out[:, 3] = _ratio(w, h)
    return out


def xyxy_to_cxcyah(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, a, h)`` (DeepSORT's box state, ``a = w / h``).

    A zero-height box gets ``a = 0`` rather than a division by zero.
    """
    out = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4) @ _XYXY_TO_CXCYWH
    out[:, 2] = _ratio(out[:, 2], out[:, 3])
    return out


def cxcyah_to_xyxy(cxcyah: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, a, h, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes (negative a or h count as 0)."""
    cxcywh = np.array(np.asarray(cxcyah, dtype=np.float64)[:, :4])
    np.maximum(cxcywh[:, 2:], 0.0, out=cxcywh[:, 2:])
    cxcywh[:, 2] *= cxcywh[:, 3]
    return cxcywh @ _CXCYWH_TO_XYXY


def cxcysr_to_xyxy(cxcysr: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, s, r, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes.

    Negative areas or ratios (a Kalman prediction can overshoot) count as 0,
    giving a degenerate box at the centre instead of NaN.
    """
    cxcywh = np.array(np.asarray(cxcysr, dtype=np.float64)[:, :4])
    np.maximum(cxcywh[:, 2:], 0.0, out=cxcywh[:, 2:])
    s, r = cxcywh[:, 2].copy(), cxcywh[:, 3].copy()
    cxcywh[:, 2] = np.sqrt(s * r)
    cxcywh[:, 3] = _ratio(s, cxcywh[:, 2])
    return cxcywh @ _CXCYWH_TO_XYXY


def tlwh_to_xyxy(tlwh: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``(left, top, width, height)`` to ``(N, 4)`` float64 ``xyxy``."""
    tlwh = np.asarray(tlwh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([tlwh[:, :2], tlwh[:, :2] + tlwh[:, 2:]], axis=1)


def xyxy_to_tlwh(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` to ``(N, 4)`` float64 ``(left, top, width, height)``."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
