"""Assignment of tracks to detections (the Hungarian / Kuhn-Munkres step).

Uses :func:`scipy.optimize.linear_sum_assignment` (Crouse's shortest augmenting
path variant of the Hungarian algorithm).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["Assignment", "linear_assignment"]

_INFEASIBLE = 1e6


class Assignment(NamedTuple):
    """Result of :func:`linear_assignment`; every field is a sorted ``(K,)`` or ``(M - K,)``/``(N - K,)`` int64 array.

    Attributes:
        rows: matched rows (tracks), ascending.
        cols: the column (detection) matched to each of ``rows``.
        free_rows: the unmatched rows, ascending.
        free_cols: the unmatched columns, ascending.
    """

    rows: np.ndarray
    cols: np.ndarray
    free_rows: np.ndarray
    free_cols: np.ndarray


def linear_assignment(cost: np.ndarray, feasible: np.ndarray) -> Assignment:
    """Minimum-cost one-to-one assignment restricted to the ``feasible`` pairs.

    Infeasible pairs get a prohibitive cost before solving, so they can never
    displace a feasible pair; among feasible assignments the solver maximises the
    number of pairs, then minimises their total cost. When no row and no column
    has two feasible candidates the feasible pairs are the optimum and the solver
    is skipped (the common case when objects are apart).

    Args:
        cost: ``(M, N)`` float cost matrix (rows: tracks, columns: detections).
        feasible: ``(M, N)`` bool, the pairs that may be matched (e.g. IoU gating).

    Returns:
        The :class:`Assignment`: matched ``rows`` and ``cols``, unmatched rows and columns.
    """
    m, n = cost.shape
    if m == 0 or n == 0:
        return Assignment(_EMPTY, _EMPTY, np.arange(m), np.arange(n))
    rows, cols = feasible.nonzero()
    # No conflict iff no row and no column repeats among the feasible pairs (a set of a few
    # Python ints is cheaper than two NumPy reductions on the small matrices of one frame).
    as_rows, as_cols = rows.tolist(), cols.tolist()
    if len(set(as_rows)) < len(as_rows) or len(set(as_cols)) < len(as_cols):
        rows, cols = linear_sum_assignment(np.where(feasible, cost, _INFEASIBLE))
        keep = feasible[rows, cols]
        rows, cols = rows[keep], cols[keep]
    free_rows = np.ones(m, dtype=bool)
    free_rows[rows] = False
    free_cols = np.ones(n, dtype=bool)
    free_cols[cols] = False
    return Assignment(rows, cols, free_rows.nonzero()[0], free_cols.nonzero()[0])


_EMPTY = np.zeros(0, dtype=np.int64)
