"""Assignment of tracks to detections (the Hungarian / Kuhn-Munkres step).

Uses :func:`scipy.optimize.linear_sum_assignment` (Crouse's shortest augmenting
path variant of the Hungarian algorithm).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["linear_assignment"]

_INFEASIBLE = 1e6


def linear_assignment(cost: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimum-cost one-to-one assignment restricted to the ``feasible`` pairs.

    Infeasible pairs get a prohibitive cost before solving, so they can never
    displace a feasible pair; among feasible assignments the solver maximises the
    number of pairs, then minimises their total cost.

    Args:
        cost: ``(M, N)`` float cost matrix (rows: tracks, columns: detections).
        feasible: ``(M, N)`` bool, the pairs that may be matched (e.g. IoU gating).

    Returns:
        ``matches`` ``(K, 2)`` int64 ``(row, column)`` pairs, the unmatched rows
        ``(M - K,)`` and the unmatched columns ``(N - K,)``, all sorted.
    """
    m, n = cost.shape
    if m == 0 or n == 0 or not feasible.any():
        return np.zeros((0, 2), dtype=np.int64), np.arange(m), np.arange(n)
    if feasible.sum(axis=0).max() == 1 and feasible.sum(axis=1).max() == 1:
        # No row or column has two candidates: the feasible pairs are the optimum.
        rows, cols = np.nonzero(feasible)
    else:
        rows, cols = linear_sum_assignment(np.where(feasible, cost, _INFEASIBLE))
        keep = feasible[rows, cols]
        rows, cols = rows[keep], cols[keep]
    unmatched_rows = np.ones(m, dtype=bool)
    unmatched_rows[rows] = False
    unmatched_cols = np.ones(n, dtype=bool)
    unmatched_cols[cols] = False
    return (
        np.stack([rows, cols], axis=1).astype(np.int64),
        np.flatnonzero(unmatched_rows),
        np.flatnonzero(unmatched_cols),
    )
