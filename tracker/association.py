"""Assignment of tracks to detections (the Hungarian / Kuhn-Munkres step).

Uses :func:`scipy.optimize.linear_sum_assignment` (Crouse's shortest augmenting
path variant of the Hungarian algorithm). Two objectives, which differ only where
tracks and detections compete (:func:`linear_assignment`):

- **gated** (the default): the pairs that fail the gate (e.g. IoU below the
  threshold) are excluded before solving, so the solver first maximises the number
  of matched pairs, then minimises their total cost. To add one more pair it may
  move a track off its best detection onto a worse one.
- **global**: the Hungarian algorithm minimises the total cost over *all* pairs, and
  the chosen pairs that fail the gate are rejected afterwards, as SORT does (Bewley
  et al., "Simple online and realtime tracking", ICIP 2016: "The assignment is solved
  optimally using the Hungarian algorithm. Additionally, a minimum IOU is imposed to
  reject assignments where the detection to target overlap is less than IOU_min") and
  BoostTrack after it. A track well overlapped by a detection keeps it even when
  that leaves a weakly overlapping competitor (typically a coasting, lost track)
  without one.
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


def linear_assignment(cost: np.ndarray, feasible: np.ndarray, gate_after: bool = False) -> Assignment:
    """Minimum-cost one-to-one assignment restricted to the ``feasible`` pairs.

    By default (the *gated* objective of the module doc) infeasible pairs get a
    prohibitive cost before solving, so they can never displace a feasible pair;
    among feasible assignments the solver maximises the number of pairs, then
    minimises their total cost. With ``gate_after`` (SORT's *global* objective) the
    solver minimises the total cost of the full matrix and the infeasible pairs of
    its solution are dropped afterwards. Either way, when no row and no column has
    two feasible candidates the feasible pairs are the result and the solver is
    skipped (the common case when objects are apart; SORT takes the same shortcut).

    Args:
        cost: ``(M, N)`` float cost matrix (rows: tracks, columns: detections).
        feasible: ``(M, N)`` bool, the pairs that may be matched (e.g. IoU gating).
        gate_after: solve over all pairs and apply ``feasible`` to the solution.

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
    taken_rows, taken_cols = set(as_rows), set(as_cols)
    if len(taken_rows) < len(as_rows) or len(taken_cols) < len(as_cols):
        rows, cols = linear_sum_assignment(cost if gate_after else np.where(feasible, cost, _INFEASIBLE))
        keep = feasible[rows, cols]
        rows, cols = rows[keep], cols[keep]
        taken_rows, taken_cols = set(rows.tolist()), set(cols.tolist())
    return Assignment(rows, cols, _free(m, taken_rows), _free(n, taken_cols))


def _free(size: int, taken: set[int]) -> np.ndarray:
    """The ``(size - len(taken),)`` int64 ascending indices below ``size`` not in ``taken``."""
    return np.array([k for k in range(size) if k not in taken], dtype=np.int64)


_EMPTY = np.zeros(0, dtype=np.int64)
