"""Per-track data of the association pipeline: :class:`TrackTable`, named fields in two arrays.

Every track is one row of a float64 and an int64 array. The core fields sit at fixed
columns, whatever mechanisms are on; a mechanism that needs more per-track data
declares named fields of its own (:class:`FieldSpec`), which follow the core fields.
Keeping all fields of a kind in one array makes selecting, appending or dropping
tracks one operation per array, whatever the number of fields: on the few tracks of
a frame the cost of the pipeline is the count of NumPy calls, not their size.

Core fields (``M`` tracks):

========== ===== =========================================================================
name       shape meaning
========== ===== =========================================================================
``box``    (4,)  float ``xyxy`` px: the motion model's prediction, or once matched in the
                 current frame, the reported box (see ``output_box``)
``born``         float s: timestamp of the first detection
``last``         float s: timestamp of the last matched detection
``score``        float: score of the last matched detection
``obs``    (4,)  float ``xyxy`` px: the last matched detection's box, moved by camera motion
                 (kept up to date only when a mechanism reads it: ``needs_observations``)
``id``           int: the track ID
``hits``         int: matched detections so far, the first included
``matched_at``   int: the pipeline's update count (1 for the first update) at the last match;
                 ``misses`` below
``det``          int: index of the detection matched in the current update, -1 if none
``confirmed``    int: 1 once the track has been confirmed, else 0
========== ===== =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.arrays import FloatArray, IntArray

__all__ = ["FieldSpec", "TrackTable"]


@dataclass(frozen=True)
class FieldSpec:
    """A per-track field a mechanism declares.

    Attributes:
        name: unique field name.
        width: numbers per track.
        integer: int64 (else float64).
        points: the numbers are ``(x, y)`` pixel pairs that camera motion moves.
    """

    name: str
    width: int = 1
    integer: bool = False
    points: bool = False

    def __post_init__(self) -> None:
        if self.width < 1:
            raise ValueError(f"per-track field '{self.name}' needs a width >= 1, got {self.width}")
        if self.points and (self.integer or self.width % 2):
            raise ValueError(f"per-track field '{self.name}': points are (x, y) float pairs")


class TrackTable:
    """Per-track data: the core fields (module doc) plus the declared ``extra`` fields.

    A field of width 1 is addressed by an int column, a wider one by a slice; read
    and write them as ``table.f[:, table.BOX]`` or ``table.i[rows, table.HITS]``, and
    an extra field through :meth:`column`. Row ``k`` of both arrays is the same track.

    Args:
        extra: the fields the pipeline's mechanisms declared, in order.

    Raises:
        ValueError: two fields share a name.
    """

    BOX = slice(0, 4)
    BORN, LAST, SCORE = 4, 5, 6
    OBS = slice(7, 11)
    ID, HITS, MATCHED_AT, DET, CONFIRMED = 0, 1, 2, 3, 4
    _CORE_FLOAT = 11
    _CORE_INT = 5
    _CORE_NAMES = ("box", "obs", "born", "last", "score", "id", "hits", "matched_at", "det", "confirmed")

    def __init__(self, extra: tuple[FieldSpec, ...] = ()) -> None:
        self._columns: dict[str, int | slice] = {}
        widths = [self._CORE_FLOAT, self._CORE_INT]
        # Point fields follow ``obs`` so that camera motion moves one block of columns.
        for spec in sorted(extra, key=lambda spec: not spec.points):
            if spec.name in self._columns or spec.name in self._CORE_NAMES:
                raise ValueError(f"per-track field '{spec.name}' is declared twice")
            start = widths[spec.integer]
            widths[spec.integer] += spec.width
            self._columns[spec.name] = start if spec.width == 1 else slice(start, start + spec.width)
        #: The float columns holding ``(x, y)`` pixel pairs: ``obs`` and the declared point fields.
        self.points = slice(self.OBS.start, self.OBS.stop + sum(s.width for s in extra if s.points))
        self.f: FloatArray = np.zeros((0, widths[0]))
        self.i: IntArray = np.zeros((0, widths[1]), dtype=np.int64)

    def misses(self, updates: int, i: IntArray | None = None) -> IntArray:
        """``(M,)`` int64 updates each track has gone unmatched, after ``updates`` updates (0: matched in the last).

        ``i``: int rows to read instead of the whole table.
        """
        return (updates - 1) - (self.i if i is None else i)[:, self.MATCHED_AT]

    def column(self, name: str) -> int | slice:
        """The column (width 1) or columns (wider) of the extra field ``name``.

        Raises:
            KeyError: no mechanism declared ``name``.
        """
        return self._columns[name]

    def __len__(self) -> int:
        return len(self.i)

    def clear(self) -> None:
        """Drop every track."""
        self.f = self.f[:0]
        self.i = self.i[:0]

    def new_rows(self, k: int) -> tuple[FloatArray, IntArray]:
        """Zeroed float and int rows for ``k`` new tracks, to fill and :meth:`append`."""
        return np.zeros((k, self.f.shape[1])), np.zeros((k, self.i.shape[1]), dtype=np.int64)

    def append(self, f: FloatArray, i: IntArray) -> None:
        """Add tracks (rows from :meth:`new_rows`) after the existing ones."""
        self.f = np.concatenate([self.f, f])
        self.i = np.concatenate([self.i, i])

    def keep(self, mask: np.ndarray) -> None:
        """Keep the tracks where the ``(M,)`` bool ``mask`` is True, in order."""
        self.f = self.f[mask]
        self.i = self.i[mask]
