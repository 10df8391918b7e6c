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

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from tracker.arrays import indices

__all__ = ["Assignment", "linear_assignment", "sparse_assignment"]

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


def linear_assignment(
    cost: np.ndarray | Callable[[], np.ndarray], feasible: np.ndarray, gate_after: bool = False
) -> Assignment:
    """Minimum-cost one-to-one assignment restricted to the ``feasible`` pairs.

    By default (the *gated* objective of the module doc) infeasible pairs get a
    prohibitive cost before solving, so they can never displace a feasible pair;
    among feasible assignments the solver maximises the number of pairs, then
    minimises their total cost. With ``gate_after`` (SORT's *global* objective) the
    solver minimises the total cost of the full matrix and the infeasible pairs of
    its solution are dropped afterwards. Either way, when no row and no column has
    two feasible candidates the feasible pairs are the result and the solver is
    skipped (the common case when objects are apart; SORT takes the same shortcut), and
    so is the cost: it may be given as a function that computes it, called only when
    the solver runs.

    Args:
        cost: ``(M, N)`` float cost matrix (rows: tracks, columns: detections), or a
            function of no arguments returning it.
        feasible: ``(M, N)`` bool, the pairs that may be matched (e.g. IoU gating).
        gate_after: solve over all pairs and apply ``feasible`` to the solution.

    Returns:
        The :class:`Assignment`: matched ``rows`` and ``cols``, unmatched rows and columns.
    """
    m, n = feasible.shape
    if m == 0 or n == 0:
        return Assignment(_EMPTY, _EMPTY, indices(m), indices(n))
    rows, cols = feasible.nonzero()
    # No conflict iff no row and no column repeats among the feasible pairs (a set of a few
    # Python ints is cheaper than two NumPy reductions on the small matrices of one frame).
    as_rows, as_cols = rows.tolist(), cols.tolist()
    taken_rows, taken_cols = set(as_rows), set(as_cols)
    if len(taken_rows) < len(as_rows) or len(taken_cols) < len(as_cols):
        if callable(cost):
            cost = cost()
        rows, cols = linear_sum_assignment(cost if gate_after else np.where(feasible, cost, _INFEASIBLE))
        keep = feasible[rows, cols]
        rows, cols = rows[keep], cols[keep]
        taken_rows, taken_cols = set(rows.tolist()), set(cols.tolist())
    return Assignment(rows, cols, _free(m, taken_rows), _free(n, taken_cols))


def sparse_assignment(
    m: int,
    n: int,
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    feasible: np.ndarray,
    gate_after: bool = False,
    background: float = 1.0,
) -> Assignment:
    """:func:`linear_assignment` of an ``(m, n)`` problem given as ``K`` candidate pairs, for large frames.

    Every pair not listed costs ``background`` and is infeasible (for IoU costs, a pair of
    boxes that do not overlap: ``1 - 0``). The pairs split into connected components (of the
    feasible pairs for the gated objective, of all listed pairs for the global one); a
    component where no row and no column has two feasible candidates is matched as it is,
    and each other one is solved by :func:`scipy.optimize.linear_sum_assignment` on its own
    small block. For the gated objective this is exactly the solution of the full matrix.
    For the global one, the components are solved apart, so the pairs across them (which
    cost ``background`` and are rejected afterwards anyway) no longer compete with the pairs
    inside: where the full matrix trades a feasible pair for such a pair, this keeps the
    feasible one (15 of 1,500 random frames of up to 30 x 30 boxes, one pair more each).

    Args:
        m, n: numbers of rows (tracks) and columns (detections).
        rows, cols: ``(K,)`` int64 indices of the candidate pairs.
        cost: ``(K,)`` float64 cost of each pair.
        feasible: ``(K,)`` bool, the pairs that may be matched.
        gate_after: SORT's global objective (see the module doc).
        background: the cost of every pair not listed.

    Returns:
        The :class:`Assignment` over ``range(m)`` and ``range(n)``.
    """
    f_rows, f_cols = rows.compress(feasible), cols.compress(feasible)
    row_count = np.bincount(f_rows, minlength=m)
    col_count = np.bincount(f_cols, minlength=n)
    if row_count.max(initial=0) <= 1 and col_count.max(initial=0) <= 1:
        return Assignment(f_rows, f_cols, _free(m, set(f_rows.tolist())), _free(n, set(f_cols.tolist())))
    edges = np.ones(len(rows), dtype=bool) if gate_after else feasible
    e_rows, e_cols = rows.compress(edges), cols.compress(edges)
    e_cost, e_ok = cost.compress(edges), feasible.compress(edges)
    graph = coo_matrix((np.ones(len(e_rows)), (e_rows, m + e_cols)), shape=(m + n, m + n))
    _, label = connected_components(graph, directed=False)
    conflicted = np.zeros(m + n, dtype=bool)
    conflicted[label[:m][row_count > 1]] = True
    conflicted[label[m:][col_count > 1]] = True
    plain = ~conflicted[label.take(f_rows)]
    out_rows, out_cols = f_rows.compress(plain).tolist(), f_cols.compress(plain).tolist()
    # A conflicted component with one row or one column (a "star") is solved by its cheapest
    # pair (gated: every listed pair is feasible); the others, each by the solver on its block.
    has_edge = np.zeros(m + n, dtype=bool)
    has_edge[e_rows] = True
    has_edge[m + e_cols] = True
    rows_in = np.bincount(label[:m][has_edge[:m]], minlength=m + n)
    cols_in = np.bincount(label[m:][has_edge[m:]], minlength=m + n)
    star = conflicted & ((rows_in == 1) | (cols_in == 1))
    pair_label = label.take(e_rows)
    in_star = star.take(pair_label).nonzero()[0]
    if len(in_star):
        by_cost = in_star.take(np.lexsort((e_cost.take(in_star), pair_label.take(in_star))))
        sorted_label = pair_label.take(by_cost)
        best = by_cost.compress(np.concatenate([[True], sorted_label[1:] != sorted_label[:-1]]))
        best = best.compress(e_ok.take(best))
        out_rows += e_rows.take(best).tolist()
        out_cols += e_cols.take(best).tolist()
    inside = (conflicted & ~star).take(pair_label).nonzero()[0]
    inside = inside.take(pair_label.take(inside).argsort(kind="stable"))
    groups = np.split(inside, np.flatnonzero(np.diff(pair_label.take(inside))) + 1) if len(inside) else []
    fill = background if gate_after else _INFEASIBLE
    for group in groups:
        r, c = e_rows.take(group).tolist(), e_cols.take(group).tolist()
        block_rows, block_cols = sorted(set(r)), sorted(set(c))
        r_pos = {value: k for k, value in enumerate(block_rows)}
        c_pos = {value: k for k, value in enumerate(block_cols)}
        block = np.full((len(block_rows), len(block_cols)), fill)
        ok = np.zeros(block.shape, dtype=bool)
        pr, pc = [r_pos[v] for v in r], [c_pos[v] for v in c]
        ok[pr, pc] = e_ok.take(group)
        block[pr, pc] = np.where(ok[pr, pc] | gate_after, e_cost.take(group), _INFEASIBLE)
        for i, j in zip(*linear_sum_assignment(block), strict=True):
            if ok[i, j]:
                out_rows.append(block_rows[i])
                out_cols.append(block_cols[j])
    order = sorted(range(len(out_rows)), key=out_rows.__getitem__)
    matched_rows = np.array([out_rows[k] for k in order], dtype=np.int64)
    matched_cols = np.array([out_cols[k] for k in order], dtype=np.int64)
    return Assignment(matched_rows, matched_cols, _free(m, set(out_rows)), _free(n, set(out_cols)))


def _free(size: int, taken: set[int]) -> np.ndarray:
    """The ``(size - len(taken),)`` int64 ascending indices below ``size`` not in ``taken`` (``taken`` within them).

    Read-only when nothing or everything is taken (shared arrays).
    """
    if not taken:
        return indices(size)
    if len(taken) == size:
        return _EMPTY
    return np.array([k for k in range(size) if k not in taken], dtype=np.int64)


_EMPTY = indices(0)
