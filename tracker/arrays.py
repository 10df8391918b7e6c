"""NumPy array type aliases used in the core's signatures (``numpy.typing.NDArray``).

The aliases name the dtype only; shapes are given in each docstring.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["BoolArray", "FloatArray", "IntArray"]

#: float64 (or float32 where a docstring says so) array.
FloatArray: TypeAlias = npt.NDArray[np.floating]
#: int64 array (indices, IDs, counts).
IntArray: TypeAlias = npt.NDArray[np.integer]
#: bool array (masks).
BoolArray: TypeAlias = npt.NDArray[np.bool_]
