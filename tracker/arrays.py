"""NumPy array type aliases used in the core's signatures (``numpy.typing.NDArray``).

The aliases name the dtype only; shapes are given in each docstring.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["BoolArray", "FloatArray", "IntArray", "indices"]

#: float64 (or float32 where a docstring says so) array.
FloatArray: TypeAlias = npt.NDArray[np.floating]
#: int64 array (indices, IDs, counts).
IntArray: TypeAlias = npt.NDArray[np.integer]
#: bool array (masks).
BoolArray: TypeAlias = npt.NDArray[np.bool_]


_INDICES: list[IntArray] = [np.zeros(0, dtype=np.int64)]
_INDICES[0].flags.writeable = False


def indices(n: int) -> IntArray:
    """A read-only ``(n,)`` int64 array ``0, 1, ..., n - 1``: a view of one shared array, grown as needed.

    For the tracker's hot path, where ``np.arange`` costs more than a slice.
    """
    shared = _INDICES[0]
    if len(shared) < n:
        shared = np.arange(max(n, 2 * len(shared), 64), dtype=np.int64)
        shared.flags.writeable = False
        _INDICES[0] = shared
    return shared[:n]
