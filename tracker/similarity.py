"""BoostTrack's similarity terms and detection-confidence boosting, as pure functions over arrays.

BoostTrack (Stanojević & Todorović, "BoostTrack: boosting the similarity measure and
detection confidence for improved multiple object tracking", Machine Vision and
Applications 35, 2024, doi:10.1007/s00138-024-01531-5) adds two things to a SORT-style
tracking-by-detection loop, both used here as switches of
:class:`tracker.pipeline.PipelineConfig` (nested ``boost``, ``dlo``, ``duo``):

1. **A boosted similarity** for the first association. Besides the IoU between a
   track's predicted box and a detection it adds (a) the IoU again, weighted by the
   *confidence* of the pair, ``c = s_det * c_track`` (``s_det`` the detection
   score, ``c_track`` the tracklet confidence of :func:`track_confidence`); (b) a
   **Mahalanobis similarity** (:func:`mahalanobis_similarity`), a softmax over the
   detections of each track's gated squared Mahalanobis distances; (c) a **shape
   similarity** (:func:`shape_similarity`) of widths and heights, also weighted by
   ``c``. :func:`boost_similarity` sums the three with weights
   ``lambda_iou``, ``lambda_mhd`` and ``lambda_shape``.
2. **Detection-confidence boosting**, so that detections the detector scored low
   but that are likely objects still enter the association:

   - *DLO* ("detecting likely objects", :func:`dlo_boost`): a detection overlapping a
     track's predicted box gets at least ``coef * max IoU`` as its score;
   - *DUO* ("detecting unlikely objects", :func:`duo_boost`): a low-score detection
     far (in Mahalanobis distance) from every track, i.e. probably an object no
     track explains, is raised to the association threshold, keeping only the
     highest-scoring of mutually overlapping such detections (a small NMS).

BoostTrack++ (the same authors, "BoostTrack++: using tracklet information to detect
more objects in multiple object tracking", arXiv 2408.13003, 2024) replaces DLO's IoU by the mean
of soft-buffered IoU, Mahalanobis and shape similarity; that variant is not
implemented here.

Conventions: ``M`` tracks (rows), ``N`` detections (columns); boxes are ``xyxy``
float64 pixels; scores and similarities are unitless float64. Squared Mahalanobis
distances come from :meth:`tracker.motion.base.MotionModel.mahalanobis` (the
motion model's innovation covariance). Every function is vectorised: a few NumPy
calls per frame whatever ``M`` and ``N``.
"""

from __future__ import annotations

import functools

import numpy as np

from tracker.boxes import iou_matrix

__all__ = [
    "CHI2_4DOF_99",
    "boost_similarity",
    "dlo_boost",
    "duo_boost",
    "mahalanobis_similarity",
    "shape_similarity",
    "shape_similarity_of_pairs",
    "track_confidence",
]

#: 99th percentile of the chi-squared distribution with 4 degrees of freedom: the
#: gate on squared Mahalanobis distances of 4-number box measurements (BoostTrack's limit).
CHI2_4DOF_99 = 13.2767


def track_confidence(hits: np.ndarray, misses: np.ndarray, decay: float = 0.9, warmup: int = 7) -> np.ndarray:
    """BoostTrack's tracklet confidence: low for young tracks and for tracks that missed frames.

    ``decay ** (warmup - hits)`` while a track has fewer than ``warmup`` hits, else
    ``decay ** misses``. The paper counts a young track's age in frames; here it is
    counted in matched detections (the same for a track matched every frame, and
    independent of the frame rate).

    Args:
        hits: ``(M,)`` int, matched detections of each track (its first included).
        misses: ``(M,)`` int, frames since each track's last match (0 if matched in
            the previous frame).
        decay: ``beta`` in ``(0, 1]``, the factor per missing hit or missed frame.
        warmup: hits before a track counts as mature.

    Returns:
        ``(M,)`` float64 in ``(0, 1]``.
    """
    if len(hits) <= _FEW:  # Python lists are cheaper than NumPy calls on a frame's few tracks
        exponents = [warmup - h if h < warmup else m for h, m in zip(hits.tolist(), misses.tolist(), strict=True)]
        powers = _powers(decay)
        if max(exponents, default=0) < len(powers):
            return np.array([powers[e] for e in exponents])
        return np.power(decay, np.array(exponents, dtype=np.float64))
    exponent = np.where(hits < warmup, warmup - hits, misses)
    return np.power(decay, exponent.astype(np.float64))


_FEW = 32  # tracks up to which track_confidence computes on Python numbers


@functools.lru_cache(maxsize=8)
def _powers(decay: float) -> list[float]:
    """``decay ** k`` for ``k = 0..255``, as NumPy computes them (so both paths agree to the bit)."""
    return np.power(decay, np.arange(256, dtype=np.float64)).tolist()  # type: ignore[no-any-return]


def mahalanobis_similarity(d2: np.ndarray, limit: float = CHI2_4DOF_99) -> np.ndarray:
    """BoostTrack's Mahalanobis similarity: per track, a softmax over detections of the gated distances.

    For each track (row), ``softmax_j(limit - min(d2_ij, limit))`` over the detections
    ``j``, then 0 where ``d2_ij > limit`` (outside the gate). A detection that is the
    only one near a track scores close to 1; several equally near ones share.

    Args:
        d2: ``(M, N)`` float64 squared Mahalanobis distances (unitless) between each
            track's predicted measurement and each detection.
        limit: the gate; default the chi-squared 99% quantile for 4 dimensions.

    Returns:
        ``(M, N)`` float64 in ``[0, 1]``; each row sums to at most 1.
    """
    if d2.size == 0:
        return np.zeros(d2.shape)
    logits = limit - np.minimum(d2, limit)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))  # shifted: same softmax, no overflow
    return np.where(d2 > limit, 0.0, weights / weights.sum(axis=1, keepdims=True))


def shape_similarity(track_xyxy: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """BoostTrack's shape similarity ``exp(-(|w_t - w_d| / max(w_t, w_d) + |h_t - h_d| / max(h_t, h_d)))``.

    Args:
        track_xyxy: ``(M, 4)`` float64 predicted track boxes, pixels.
        det_xyxy: ``(N, 4)`` float64 detection boxes, pixels.

    Returns:
        ``(M, N)`` float64 in ``(0, 1]``: 1 for boxes of equal size wherever they are.
    """
    # (M, 1, 2) and (1, N, 2) widths and heights: both dimensions in each operation.
    track_size = (track_xyxy[:, 2:] - track_xyxy[:, :2])[:, None, :]
    det_size = (det_xyxy[:, 2:] - det_xyxy[:, :2])[None, :, :]
    relative = np.abs(track_size - det_size)
    larger = np.maximum(track_size, det_size)
    relative /= np.maximum(larger, 1e-9, out=larger)
    dist = relative[..., 0] + relative[..., 1]
    result: np.ndarray = np.exp(np.negative(dist, out=dist), out=dist)
    return result


def shape_similarity_of_pairs(track_xyxy: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """:func:`shape_similarity` of ``K`` pairs: ``(K, 4)`` track boxes with their ``(K, 4)`` detections, ``(K,)``."""
    tw, th = track_xyxy[:, 2] - track_xyxy[:, 0], track_xyxy[:, 3] - track_xyxy[:, 1]
    dw, dh = det_xyxy[:, 2] - det_xyxy[:, 0], det_xyxy[:, 3] - det_xyxy[:, 1]
    dist = np.abs(tw - dw) / np.maximum(np.maximum(tw, dw), 1e-9) + np.abs(th - dh) / np.maximum(
        np.maximum(th, dh), 1e-9
    )
    result: np.ndarray = np.exp(-dist)
    return result


def boost_similarity(
    iou: np.ndarray,
    confidence: np.ndarray,
    lambda_iou: float,
    lambda_mhd: float = 0.0,
    d2: np.ndarray | None = None,
    lambda_shape: float = 0.0,
    shape: np.ndarray | None = None,
    limit: float = CHI2_4DOF_99,
) -> np.ndarray:
    """BoostTrack's additions to the IoU similarity of the first association.

    ``lambda_iou * c * IoU + lambda_mhd * S_mhd + lambda_shape * c * S_shape``, with
    ``c`` the pair's confidence (detection score times tracklet confidence) and
    ``S_mhd`` :func:`mahalanobis_similarity` of ``d2``. The caller adds it to its
    IoU similarity (BoostTrack's ``S = IoU + ...``) and keeps its IoU gate.

    Args:
        iou: ``(M, N)`` float64 IoU of predicted track boxes and detections.
        confidence: ``(M, N)`` float64 pair confidences in ``[0, 1]``.
        lambda_iou, lambda_mhd, lambda_shape: the weights (>= 0; 0 leaves a term out).
        d2: ``(M, N)`` squared Mahalanobis distances; needed when ``lambda_mhd > 0``.
        shape: ``(M, N)`` :func:`shape_similarity`; needed when ``lambda_shape > 0``.
        limit: the Mahalanobis gate.

    Returns:
        ``(M, N)`` float64, the similarity to add (>= 0).
    """
    boost = (lambda_iou * confidence) * iou
    if lambda_mhd > 0:
        if d2 is None:
            raise ValueError("boost_similarity: lambda_mhd > 0 needs the Mahalanobis distances d2")
        boost += lambda_mhd * mahalanobis_similarity(d2, limit)
    if lambda_shape > 0:
        if shape is None:
            raise ValueError("boost_similarity: lambda_shape > 0 needs the shape similarity")
        boost += (lambda_shape * confidence) * shape
    result: np.ndarray = boost
    return result


def dlo_boost(scores: np.ndarray, iou: np.ndarray, coef: float) -> np.ndarray:
    """BoostTrack's DLO boost: a detection's score is at least ``coef`` times its best IoU with a track.

    Args:
        scores: ``(N,)`` detection scores in ``[0, 1]``.
        iou: ``(M, N)`` float64 IoU of every track's predicted box with every detection.
        coef: the boost coefficient (BoostTrack: 0.65).

    Returns:
        ``(N,)`` float64 boosted scores (``>= scores``); ``scores`` unchanged when ``M = 0``.
    """
    if not iou.shape[0]:
        return scores.astype(np.float64)
    result: np.ndarray = np.maximum(scores, coef * iou.max(axis=0))
    return result


def duo_boost(
    scores: np.ndarray,
    det_xyxy: np.ndarray,
    d2: np.ndarray,
    threshold: float,
    limit: float = CHI2_4DOF_99,
    overlap: float = 0.3,
) -> np.ndarray:
    """BoostTrack's DUO boost: raise low-score detections that no track explains to ``threshold``.

    A detection scoring below ``threshold`` whose squared Mahalanobis distance to
    every track exceeds ``limit`` is a candidate; among candidates overlapping each
    other with IoU above ``overlap`` only the highest-scoring ones (ties kept) are
    raised, as non-maximum suppression would. With no tracks nothing is raised.

    Args:
        scores: ``(N,)`` detection scores (possibly DLO-boosted already).
        det_xyxy: ``(N, 4)`` float64 detection boxes, pixels.
        d2: ``(M, N)`` squared Mahalanobis distances of tracks to detections.
        threshold: the score the candidates are raised to (the association's).
        limit: the gate beyond which a detection is far from a track.
        overlap: IoU above which two candidates suppress each other.

    Returns:
        ``(N,)`` float64 boosted scores (``>= scores``).
    """
    scores = scores.astype(np.float64)
    if not d2.shape[0]:
        return scores
    candidates = np.flatnonzero((scores < threshold) & (d2.min(axis=0) > limit))
    if not len(candidates):
        return scores
    cand = scores[candidates]
    beaten = (iou_matrix(det_xyxy[candidates], det_xyxy[candidates]) > overlap) & (cand[None, :] > cand[:, None])
    scores[candidates[~beaten.any(axis=1)]] = threshold
    return scores
