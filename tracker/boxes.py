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
    "CXCYWH_TO_XYXY",
    "XYXY_TO_CXCYWH",
    "boxes_to_rows",
    "cxcyah_to_xyxy",
    "cxcysr_to_xyxy",
    "iou_matrix",
    "iou_xyxy",
    "rows_to_xyxy",
    "tlwh_to_xyxy",
    "xyxy_to_cxcyah",
    "xyxy_to_cxcysr",
    "xyxy_to_rows",
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
    return iou_xyxy(np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4))


def iou_xyxy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`iou_matrix` without input conversion: ``a`` ``(M, 4)`` and ``b`` ``(N, 4)`` float64 ``xyxy`` arrays.

    For the tracker's hot path, whose boxes are float64 already.
    """
    # (M, N, 2) overlap extents along x and y, clipped at 0.
    extent = np.minimum(a[:, None, 2:], b[None, :, 2:])
    extent -= np.maximum(a[:, None, :2], b[None, :, :2])
    np.maximum(extent, 0.0, out=extent)
    inter = extent[..., 0] * extent[..., 1]
    sizes = np.concatenate([a, b])
    sizes = sizes[:, 2:] - sizes[:, :2]
    areas = sizes[:, 0] * sizes[:, 1]
    union = areas[: len(a), None] + areas[len(a) :] - inter
    # Where both areas are zero the union is 0 and so is the intersection: 0 / tiny = 0.
    return inter / np.maximum(union, _TINY_AREA)


_TINY_AREA = 1e-12  # px², far below any real box; only guards 0 / 0


#: Linear maps between xyxy and (cx, cy, w, h) as component rows: ``rows = map @ boxes.T`` (and
#: ``(N, 4)`` differences of xyxy boxes map to differences of (cx, cy, w, h) the same way).
XYXY_TO_CXCYWH = np.array([[0.5, 0.0, 0.5, 0.0], [0.0, 0.5, 0.0, 0.5], [-1.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 1.0]])
CXCYWH_TO_XYXY = np.array([[1.0, 0.0, -0.5, 0.0], [0.0, 1.0, 0.0, -0.5], [1.0, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.5]])


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0 where the denominator is not positive."""
    return numerator / np.where(denominator > 0.0, denominator, np.inf)


# The conversions work on component rows ("box state rows"): a (4, N) C-contiguous array whose
# rows are the four components of N boxes, so that each component is one contiguous vector (much
# cheaper for NumPy on the few boxes of a frame than a column of an (N, 4) array). The Kalman
# filter keeps its state this way; the public functions below return the (N, 4) transpose.


def xyxy_to_rows(xyxy: np.ndarray, representation: str) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(4, N)`` float64 component rows of ``"cxcyah"`` or ``"cxcysr"``.

    A zero-height box gets a ratio of 0 rather than a division by zero.

    Raises:
        ValueError: an unknown ``representation``.
    """
    return boxes_to_rows(np.asarray(xyxy, dtype=np.float64).reshape(-1, 4), representation)


def boxes_to_rows(xyxy: np.ndarray, representation: str) -> np.ndarray:
    """:func:`xyxy_to_rows` without input conversion: ``xyxy`` must be an ``(N, 4)`` float64 array.

    Raises:
        ValueError: an unknown ``representation``.
    """
    rows = np.dot(XYXY_TO_CXCYWH, xyxy.T)
    if representation == "cxcyah":
        rows[2] /= np.where(rows[3] > 0.0, rows[3], np.inf)  # w / h, 0 for h = 0
    elif representation == "cxcysr":
        w, h = rows[2].copy(), rows[3].copy()
        rows[2] = w * h
        rows[3] = _ratio(w, h)
    else:
        raise ValueError(f"unknown box representation {representation!r}")
    return rows


def rows_to_xyxy(rows: np.ndarray, representation: str) -> np.ndarray:
    """``(>=4, N)`` component rows of ``"cxcyah"`` or ``"cxcysr"`` to ``(N, 4)`` float64 ``xyxy`` boxes.

    Negative sizes or ratios (a Kalman prediction can overshoot) count as 0, giving a
    degenerate box at the centre instead of NaN.

    Raises:
        ValueError: an unknown ``representation``.
    """
    cxcywh = np.array(rows[:4], dtype=np.float64)
    np.maximum(cxcywh[2:], 0.0, out=cxcywh[2:])
    if representation == "cxcyah":
        cxcywh[2] *= cxcywh[3]
    elif representation == "cxcysr":
        s = cxcywh[2].copy()
        cxcywh[2] = np.sqrt(s * cxcywh[3])
        cxcywh[3] = _ratio(s, cxcywh[2])
    else:
        raise ValueError(f"unknown box representation {representation!r}")
    return np.dot(CXCYWH_TO_XYXY, cxcywh).T


def xyxy_to_cxcysr(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, s, r)`` (SORT's box state).

    A zero-height box gets ``r = 0`` rather than a division by zero.
    """
    return xyxy_to_rows(xyxy, "cxcysr").T


def xyxy_to_cxcyah(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` boxes to ``(N, 4)`` float64 ``(cx, cy, a, h)`` (DeepSORT's box state, ``a = w / h``).

    A zero-height box gets ``a = 0`` rather than a division by zero.
    """
    return xyxy_to_rows(xyxy, "cxcyah").T


def cxcyah_to_xyxy(cxcyah: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, a, h, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes (negative a or h count as 0)."""
    return rows_to_xyxy(np.asarray(cxcyah, dtype=np.float64)[:, :4].T, "cxcyah")


def cxcysr_to_xyxy(cxcysr: np.ndarray) -> np.ndarray:
    """``(N, >=4)`` ``(cx, cy, s, r, ...)`` states to ``(N, 4)`` float64 ``xyxy`` boxes.

    Negative areas or ratios (a Kalman prediction can overshoot) count as 0,
    giving a degenerate box at the centre instead of NaN.
    """
    return rows_to_xyxy(np.asarray(cxcysr, dtype=np.float64)[:, :4].T, "cxcysr")


def tlwh_to_xyxy(tlwh: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``(left, top, width, height)`` to ``(N, 4)`` float64 ``xyxy``."""
    tlwh = np.asarray(tlwh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([tlwh[:, :2], tlwh[:, :2] + tlwh[:, 2:]], axis=1)


def xyxy_to_tlwh(xyxy: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``xyxy`` to ``(N, 4)`` float64 ``(left, top, width, height)``."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
