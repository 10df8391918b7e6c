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
    "iou_of_pairs",
    "iou_xyxy",
    "overlapping_pairs",
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

    For the tracker's hot path, whose boxes are float64 already. Up to :data:`PYTHON_IOU_PAIRS`
    pairs it loops in plain Python over the boxes' floats (the same operations in the same
    order, so the same float64 results), which is cheaper than a dozen NumPy calls on a
    frame's handful of boxes.
    """
    if len(a) * len(b) <= PYTHON_IOU_PAIRS:
        return _iou_python(a, b)
    # (M, N, 2) overlap extents along x and y, clipped at 0.
    extent = np.minimum(a[:, None, 2:], b[None, :, 2:])
    extent -= np.maximum(a[:, None, :2], b[None, :, :2])
    np.maximum(extent, 0.0, out=extent)
    inter = extent[..., 0] * extent[..., 1]
    size_a, size_b = a[:, 2:] - a[:, :2], b[:, 2:] - b[:, :2]
    union = (size_a[:, 0] * size_a[:, 1])[:, None] + size_b[:, 0] * size_b[:, 1] - inter
    # Where both areas are zero the union is 0 and so is the intersection: 0 / tiny = 0.
    result: np.ndarray = inter / np.maximum(union, _TINY_AREA)
    return result


_TINY_AREA = 1e-12  # px², far below any real box; only guards 0 / 0

#: Largest ``M * N`` for which :func:`iou_xyxy` loops in Python. Measured (2-core CPU, car
#: boxes spread like KITTI's): 6 x 6 boxes take 9.2 µs in Python against 12.2 with NumPy,
#: 7 x 7 take 14.4 against 13.5; more than half of KITTI's frames have at most 36 pairs.
PYTHON_IOU_PAIRS = 36


def _iou_python(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`iou_xyxy` of a few boxes, computed on Python floats."""
    b_boxes = b.tolist()
    b_areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in b_boxes]
    rows = []
    for ax1, ay1, ax2, ay2 in a.tolist():
        a_area = (ax2 - ax1) * (ay2 - ay1)
        row = []
        for (bx1, by1, bx2, by2), b_area in zip(b_boxes, b_areas, strict=True):
            # Conditional expressions: cheaper than the min() and max() builtins.
            width = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
            height = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
            if width <= 0.0 or height <= 0.0:
                row.append(0.0)
                continue
            inter = width * height
            union = a_area + b_area - inter
            row.append(inter / (union if union > _TINY_AREA else _TINY_AREA))
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(a), len(b))


def overlapping_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of boxes that overlap (positive intersection, so IoU > 0), without an ``(M, N)`` matrix.

    Strips and sweeps: the boxes of ``b`` are binned into horizontal strips as high as the
    highest of them, by their top edge, and sorted by ``x1`` within each strip. A box of
    ``a`` can only overlap boxes whose top edge lies in ``(a.y1 - strip, a.y2)`` and whose
    ``x1`` lies in ``(a.x1 - widest b, a.x2)``: a few strips and, in each, one range found by
    binary search. The candidates are then checked exactly. Time and memory grow with
    ``M + N`` and the number of candidates, not with ``M * N``, when the boxes of ``b`` are
    of similar sizes (one huge box makes every box a candidate of every other).

    Args:
        a: ``(M, 4)`` float64 ``xyxy`` boxes.
        b: ``(N, 4)`` float64 ``xyxy`` boxes.

    Returns:
        ``(rows, cols)``: ``(K,)`` int64 indices into ``a`` and ``b`` of the overlapping pairs,
        ordered by ``rows``.
    """
    if not len(a) or not len(b):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    reach_x = float((b[:, 2] - b[:, 0]).max())
    strip = max(float((b[:, 3] - b[:, 1]).max()), 1.0)
    x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
    span = float(b[:, 0].max()) - x0 + 1.0  # x offsets within a strip lie in [0, span - 1]
    b_strip = np.floor((b[:, 1] - y0) / strip)
    last_strip = float(b_strip.max())
    order = np.argsort(b_strip * span + (b[:, 0] - x0), kind="stable")
    keys = (b_strip * span + (b[:, 0] - x0)).take(order)
    # The strips each box of a meets, one (box, strip) item each.
    first_strip = np.clip(np.floor((a[:, 1] - strip - y0) / strip), 0.0, last_strip)
    stop_strip = np.clip(np.floor((a[:, 3] - y0) / strip), -1.0, last_strip)
    per_box = np.maximum(stop_strip - first_strip + 1.0, 0.0).astype(np.int64)
    item_box = np.repeat(np.arange(len(a)), per_box)
    item_strip = first_strip.take(item_box) + (
        np.arange(len(item_box)) - np.repeat(np.cumsum(per_box) - per_box, per_box)
    )
    lower = np.maximum(a[:, 0].take(item_box) - reach_x - x0, 0.0)
    upper = np.minimum(a[:, 2].take(item_box) - x0, span - 0.5)  # never reaching the next strip's keys
    lo = np.searchsorted(keys, item_strip * span + lower, side="left")
    hi = np.searchsorted(keys, item_strip * span + upper, side="left")
    counts = np.maximum(hi - lo, 0)
    rows = np.repeat(item_box, counts)
    first = np.cumsum(counts) - counts  # where each item's candidates start in the flat list
    cols = order.take(np.arange(int(counts.sum())) - np.repeat(first - lo, counts))
    ar, bc = a.take(rows, axis=0), b.take(cols, axis=0)
    keep = (np.minimum(ar[:, 2], bc[:, 2]) > np.maximum(ar[:, 0], bc[:, 0])) & (
        np.minimum(ar[:, 3], bc[:, 3]) > np.maximum(ar[:, 1], bc[:, 1])
    )
    return rows.compress(keep), cols.compress(keep)


def iou_of_pairs(a: np.ndarray, b: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``(K,)`` float64 IoU of the box pairs ``(a[rows[k]], b[cols[k]])`` (``xyxy`` float64 arrays)."""
    ar, bc = a.take(rows, axis=0), b.take(cols, axis=0)
    extent = np.minimum(ar[:, 2:], bc[:, 2:]) - np.maximum(ar[:, :2], bc[:, :2])
    np.maximum(extent, 0.0, out=extent)
    inter = extent[:, 0] * extent[:, 1]
    union = (ar[:, 2] - ar[:, 0]) * (ar[:, 3] - ar[:, 1]) + (bc[:, 2] - bc[:, 0]) * (bc[:, 3] - bc[:, 1]) - inter
    result: np.ndarray = inter / np.maximum(union, _TINY_AREA)
    return result


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
    rows = XYXY_TO_CXCYWH.dot(xyxy.T)
    if representation == "cxcyah":
        heights = rows[3]
        if min(heights.tolist(), default=1.0) > 0.0:  # a Python min is cheaper than NumPy's on a frame's boxes
            rows[2] /= heights
        else:
            rows[2] /= np.where(heights > 0.0, heights, np.inf)  # w / h, 0 for h = 0
    elif representation == "cxcysr":
        w, h = rows[2].copy(), rows[3].copy()
        rows[2] = w * h
        rows[3] = _ratio(w, h)
    else:
        raise ValueError(f"unknown box representation {representation!r}")
    result: np.ndarray = rows
    return result


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
    result: np.ndarray = CXCYWH_TO_XYXY.dot(cxcywh).T
    return result


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
