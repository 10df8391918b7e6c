"""Result files: MOTChallenge text (``tracks.txt``) and JSON lines (``tracks.jsonl``).

MOTChallenge rows (one per track per frame, comma-separated, no header)::

    frame,id,left,top,width,height,score,class,-1,-1

``frame`` is 1-based, boxes are ``tlwh`` in pixels (left, top, width, height; origin
at the image's top-left corner), ``score`` is the detector confidence of the track's
latest detection and ``class`` its class id (COCO ids for the YOLO detector). The two
trailing ``-1`` fill the 10 columns TrackEval's MOTChallenge reader expects.

JSON lines: one object per frame, also for frames without tracks::

    {"frame": 1, "timestamp": 0.0, "tracks": [{"id": 3, "xyxy": [x1, y1, x2, y2],
      "score": 0.91, "class_id": 2, "class_name": "car", "det_index": 0, "predicted": false,
      "state": "confirmed"}]}

``frame`` is 1-based as in the MOTChallenge file, ``timestamp`` in seconds, ``xyxy``
in pixels, ``det_index`` the index of the matched detection in that frame's
detections (-1 when coasting), ``predicted`` true for a box the motion model predicted
on a frame without detection (``vtrack track --detect-every``; its ``score`` is that of
the track's last detection), ``state`` a :class:`tracker.TrackState` name in lower case.
The MOTChallenge rows of predicted boxes are written like any other.

Writers refuse to replace an existing file unless ``overwrite=True``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple, Self

from tracker.boxes import xyxy_to_tlwh
from tracker.types import Tracks, TrackState

__all__ = ["JsonlWriter", "MotRow", "MotWriter", "format_mot_row", "mot_rows", "read_mot", "write_mot"]

#: Decimals written for pixel coordinates (0.01 px) and for scores.
BOX_DECIMALS = 2
SCORE_DECIMALS = 4

_MOT_COLUMNS = 10
_MOT_MIN_COLUMNS = 7


class MotRow(NamedTuple):
    """One MOTChallenge result row.

    Attributes:
        frame: 1-based frame number.
        track_id: track ID.
        left, top, width, height: box in pixels (``tlwh``).
        score: confidence.
        class_id: class id, -1 where unknown.
    """

    frame: int
    track_id: int
    left: float
    top: float
    width: float
    height: float
    score: float
    class_id: int = -1


def mot_rows(frame: int, tracks: Tracks) -> list[MotRow]:
    """The MOTChallenge rows of one frame's tracks.

    Args:
        frame: 1-based frame number.
        tracks: the tracks reported for that frame (boxes ``xyxy`` pixels).

    Returns:
        One :class:`MotRow` per track, in the order of ``tracks``.
    """
    tlwh = xyxy_to_tlwh(tracks.xyxy)
    return [
        MotRow(frame, int(track_id), left, top, width, height, float(score), int(class_id))
        for track_id, (left, top, width, height), score, class_id in zip(
            tracks.ids.tolist(), tlwh.tolist(), tracks.scores.tolist(), tracks.class_ids.tolist(), strict=True
        )
    ]


def format_mot_row(row: MotRow | tuple[Any, ...]) -> str:
    """``frame,id,left,top,width,height,score,class,-1,-1`` for one row (no newline)."""
    frame, track_id, left, top, width, height, score, class_id = MotRow(*row)
    box = ",".join(f"{v:.{BOX_DECIMALS}f}" for v in (left, top, width, height))
    return f"{int(frame)},{int(track_id)},{box},{score:.{SCORE_DECIMALS}f},{int(class_id)},-1,-1"


def _open_new(path: Path, overwrite: bool) -> IO[str]:
    """Open ``path`` for writing text; refuse an existing file unless ``overwrite``.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    return path.open("w" if overwrite else "x", encoding="utf-8", newline="\n")


def write_mot(path: str | Path, rows: Iterable[MotRow | tuple[Any, ...]], overwrite: bool = False) -> int:
    """Write a whole MOTChallenge result file.

    Args:
        path: the file to write (parent folder must exist).
        rows: :class:`MotRow` or 8-tuples ``(frame, id, left, top, width, height, score, class)``
            (frames 1-based, pixels), written in the given order.
        overwrite: replace an existing file.

    Returns:
        The number of rows written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    count = 0
    with _open_new(Path(path), overwrite) as file:
        for row in rows:
            file.write(format_mot_row(row) + "\n")
            count += 1
    return count


def read_mot(path: str | Path) -> list[MotRow]:
    """Read a MOTChallenge file of 7 or more columns (``frame,id,left,top,width,height,score[,class,...]``).

    Empty lines are skipped; the class is column 8 when present, else -1.

    Raises:
        ValueError: a line has fewer than 7 columns or a non-numeric value; the
            message names the file and the line number.
    """
    path = Path(path)
    rows = []
    with path.open(encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            cols = line.strip().split(",")
            if len(cols) < _MOT_MIN_COLUMNS:
                raise ValueError(f"{path}:{number}: expected at least {_MOT_MIN_COLUMNS} columns, got {len(cols)}")
            try:
                values = [float(c) for c in cols[:_MOT_COLUMNS]]
            except ValueError as error:
                raise ValueError(f"{path}:{number}: {error}") from None
            class_id = int(values[7]) if len(values) > _MOT_MIN_COLUMNS else -1
            left, top, width, height, score = values[2:7]
            rows.append(MotRow(int(values[0]), int(values[1]), left, top, width, height, score, class_id))
    return rows


class _LineWriter:
    """A text file written line by line; a context manager."""

    def __init__(self, path: str | Path, overwrite: bool = False) -> None:
        self.path = Path(path)
        self._file = _open_new(self.path, overwrite)

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class MotWriter(_LineWriter):
    """Streams MOTChallenge rows to ``path``, one :meth:`write` per frame (flushed after each).

    Args:
        path: the file to create.
        overwrite: replace an existing file.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """

    def write(self, frame: int, tracks: Tracks) -> None:
        """Append the rows of ``tracks`` for 1-based ``frame``."""
        self._file.write("".join(format_mot_row(row) + "\n" for row in mot_rows(frame, tracks)))
        self._file.flush()  # a killed process loses no frame already written


class JsonlWriter(_LineWriter):
    """Streams one JSON object per frame to ``path``, flushed after each (see the module doc for the fields).

    Args:
        path: the file to create.
        class_names: class id -> name; ids not in it get their number as name.
        overwrite: replace an existing file.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """

    def __init__(self, path: str | Path, class_names: Mapping[int, str], overwrite: bool = False) -> None:
        super().__init__(path, overwrite)
        self._class_names = dict(class_names)

    def write(self, frame: int, timestamp: float, tracks: Tracks) -> None:
        """Append the record of 1-based ``frame`` at ``timestamp`` seconds."""
        records = [
            {
                "id": track_id,
                "xyxy": [round(v, BOX_DECIMALS) for v in box],
                "score": round(score, SCORE_DECIMALS),
                "class_id": class_id,
                "class_name": self._class_names.get(class_id, str(class_id)),
                "det_index": det_index,
                "predicted": det_index < 0,
                "state": TrackState(state).name.lower(),
            }
            for track_id, box, score, class_id, det_index, state in zip(
                tracks.ids.tolist(),
                tracks.xyxy.tolist(),
                tracks.scores.tolist(),
                tracks.class_ids.tolist(),
                tracks.det_index.tolist(),
                tracks.state.tolist(),
                strict=True,
            )
        ]
        self._file.write(json.dumps({"frame": frame, "timestamp": timestamp, "tracks": records}) + "\n")
        self._file.flush()  # a killed process loses no frame already written
