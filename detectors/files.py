"""Replay precomputed detections from text files, frame by frame: :class:`FileDetections`.

Public benchmark detections come as text files, one row per detection. Three
layouts are read (columns are comma-separated; blank lines are skipped):

- **MOTChallenge** ``det.txt`` (:meth:`FileDetections.from_mot`):
  ``frame,id,left,top,width,height,score[,...]`` with 1-based frames, rows in any
  order, boxes as ``tlwh`` pixels. ``id`` is ignored (``-1`` in public detections);
  columns after the score (``x,y,z`` or a class) are ignored. Format: Milan et al.,
  "MOT16: A Benchmark for Multi-Object Tracking", 2016, and the MOTChallenge
  ``det.txt`` files.
- **KITTI-style CSV** (:meth:`FileDetections.from_kitti_csv`), 0-based frames,
  ``xyxy`` pixels, in one of three variants told apart by the column count:

  - 6 columns ``frame,x1,y1,x2,y2,score``: the RRC detections of KITTI tracking
    (Ren et al., "Accurate Single Stage Detector Using Recurrent Rolling
    Convolution", CVPR 2017) as distributed with AB3DMOT / DeepFusionMOT;
  - 7 columns ``frame,x1,y1,x2,y2,score,class_id``: the same plus the class, the
    format :meth:`FileDetections.to_csv` writes (the detector cache of ``vtrack bench``);
  - 15 columns ``frame,type,x1,y1,x2,y2,score,h,w,l,x,y,z,rot_y,alpha``: PointRCNN
    (Shi et al., CVPR 2019) LiDAR detections projected to the image, as
    distributed with AB3DMOT. Their ``score`` is a **raw logit** (any real number,
    often negative); the loader maps it through the logistic sigmoid
    ``1 / (1 + exp(-score))`` so that every file yields scores in ``(0, 1)`` and
    one ``min_score`` or ByteTrack-style threshold means the same thing for all
    detection sources. The sigmoid is monotonic, so rankings are unchanged; the
    raw logit ``s`` is recovered as ``log(p / (1 - p))``.
- **KITTI tracking labels** (:meth:`FileDetections.from_kitti_label`):
  ``frame track_id type truncated occluded alpha x1 y1 x2 y2 h w l X Y Z rot_y [score]``,
  space-separated, 0-based frames (the ground truth of ``label_02`` or a tracker's
  KITTI output; Geiger et al., "Are we ready for Autonomous Driving? The KITTI
  Vision Benchmark Suite", CVPR 2012). Rows whose ``type`` is not selected are
  skipped; a missing score column counts as score 1.

**Errors.** Every malformed row raises :class:`DetectionFileError` naming the file
and the 1-based line number: a wrong column count, a field that is not a number,
NaN or infinite values, a negative width or height (``tlwh``) or an inverted box
(``x2 < x1`` or ``y2 < y1``), a non-integer frame number, or a frame number
below the format's first frame.

**No detections vs. a mistake.** A file that exists but holds no rows (zero
bytes or only blank lines) is a valid sequence in which the detector found
nothing: every frame then replays an empty :class:`tracker.Detections`. A file
that does not exist is always an error (:class:`FileNotFoundError`), so a typo in
a path can never be mistaken for "no detections".
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tracker.types import Detections

__all__ = ["DetectionFileError", "FileDetections"]

#: First frame number of each layout (MOTChallenge counts from 1, KITTI from 0).
MOT_FIRST_FRAME = 1
KITTI_FIRST_FRAME = 0

#: Column counts of the KITTI-style CSV variants.
_CSV_PLAIN = 6
_CSV_WITH_CLASS = 7
_CSV_POINTRCNN = 15
#: Columns of a MOTChallenge detection row up to and including the score.
_MOT_MIN_COLUMNS = 7
#: Columns of a KITTI tracking label row, without and with the score column.
_LABEL_COLUMNS = 17
_LABEL_COLUMNS_SCORED = 18


class DetectionFileError(ValueError):
    """A detection file has a malformed row; the message starts with ``path:line:``."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line


def _read_rows(path: Path, separator: str | None) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(1-based line number, fields)`` for every non-blank line of ``path``."""
    if not path.is_file():
        raise FileNotFoundError(f"detection file not found: {path}")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            stripped = line.strip()
            if stripped:
                fields = stripped.split(separator)
                yield number, [field.strip() for field in fields]


def _to_float(path: Path, line: int, fields: list[str], names: tuple[str, ...]) -> list[float]:
    values = []
    for name, field in zip(names, fields[: len(names)], strict=True):
        try:
            value = float(field)
        except ValueError:
            raise DetectionFileError(path, line, f"column '{name}' is not a number: {field!r}") from None
        if not math.isfinite(value):
            raise DetectionFileError(path, line, f"column '{name}' is not finite: {field!r}")
        values.append(value)
    return values


def _frame_number(path: Path, line: int, value: float, first_frame: int) -> int:
    if value != int(value):
        raise DetectionFileError(path, line, f"frame number is not a whole number: {value}")
    if value < first_frame:
        raise DetectionFileError(path, line, f"frame number {int(value)} is below the first frame {first_frame}")
    return int(value)


def _check_xyxy(path: Path, line: int, x1: float, y1: float, x2: float, y2: float) -> None:
    if x2 < x1 or y2 < y1:
        raise DetectionFileError(path, line, f"box is inverted (need x1 <= x2 and y1 <= y2): {[x1, y1, x2, y2]}")


def _sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    exp = math.exp(logit)
    return exp / (1.0 + exp)


class FileDetections:
    """Detections of one sequence read from a file, replayed per frame.

    Build with :meth:`from_mot`, :meth:`from_kitti_csv` or :meth:`from_kitti_label`
    (or directly from per-frame :class:`tracker.Detections`). ``fd[frame]`` and
    ``fd(frame)`` return that frame's detections; a frame without rows, including
    any frame outside the file's range, gives ``Detections.empty()``. Frame
    numbers are the file's own (1-based for MOTChallenge, 0-based for KITTI).

    Args:
        frames: frame number -> that frame's detections (frames without rows may
            be left out).
        source: where the detections came from (a path), for messages and ``repr``.
    """

    def __init__(self, frames: dict[int, Detections], source: str = "<memory>") -> None:
        self._frames = {int(frame): dets for frame, dets in sorted(frames.items()) if len(dets)}
        self.source = source

    # Loaders ------------------------------------------------------------------------------------

    @classmethod
    def from_mot(cls, path: str | Path, class_id: int = 0) -> FileDetections:
        """Read a MOTChallenge ``det.txt`` (``frame,id,left,top,width,height,score,...``).

        Args:
            path: the file; 1-based frames, rows in any order, ``tlwh`` pixel boxes.
            class_id: class given to every detection (the file has none; 0 is COCO "person").

        Raises:
            FileNotFoundError: ``path`` does not exist.
            DetectionFileError: a malformed row (see the module doc), naming file and line.
        """
        path = Path(path)
        names = ("frame", "id", "left", "top", "width", "height", "score")
        rows: dict[int, list[tuple[float, float, float, float, float]]] = {}
        for line, fields in _read_rows(path, ","):
            if len(fields) < _MOT_MIN_COLUMNS:
                raise DetectionFileError(
                    path,
                    line,
                    f"expected at least {_MOT_MIN_COLUMNS} columns (frame,id,x,y,w,h,score), got {len(fields)}",
                )
            frame, _, left, top, width, height, score = _to_float(path, line, fields, names)
            frame_number = _frame_number(path, line, frame, MOT_FIRST_FRAME)
            if width < 0 or height < 0:
                raise DetectionFileError(path, line, f"negative width or height: w={width}, h={height}")
            rows.setdefault(frame_number, []).append((left, top, left + width, top + height, score))
        return cls(_group(rows, class_id), source=str(path))

    @classmethod
    def from_kitti_csv(cls, path: str | Path, class_id: int = 2) -> FileDetections:
        """Read a KITTI-style detection CSV (0-based frames, ``xyxy`` pixels).

        The variant is told by the column count of each row: 6 ``frame,x1,y1,x2,y2,score``
        (RRC), 7 with a trailing ``class_id`` (:meth:`to_csv`), or 15 PointRCNN columns
        ``frame,type,x1,y1,x2,y2,score,...`` whose logit score goes through the logistic
        sigmoid (see the module doc). All rows of one file must have the same count.

        Args:
            path: the file.
            class_id: class given to rows without a ``class_id`` column (2 is COCO "car").

        Raises:
            FileNotFoundError: ``path`` does not exist.
            DetectionFileError: a malformed row, naming file and line.
        """
        path = Path(path)
        rows: dict[int, list[tuple[float, float, float, float, float]]] = {}
        classes: dict[int, list[int]] = {}
        columns: int | None = None
        for line, fields in _read_rows(path, ","):
            if columns is None:
                if len(fields) not in (_CSV_PLAIN, _CSV_WITH_CLASS, _CSV_POINTRCNN):
                    raise DetectionFileError(
                        path,
                        line,
                        f"expected {_CSV_PLAIN} (frame,x1,y1,x2,y2,score), {_CSV_WITH_CLASS} "
                        f"(... ,class_id) or {_CSV_POINTRCNN} (PointRCNN) columns, got {len(fields)}",
                    )
                columns = len(fields)
            elif len(fields) != columns:
                raise DetectionFileError(
                    path, line, f"expected {columns} columns like the first row, got {len(fields)}"
                )
            if columns == _CSV_POINTRCNN:
                names = ("frame", "type", "x1", "y1", "x2", "y2", "score")
                frame, _, x1, y1, x2, y2, logit = _to_float(path, line, fields[:7], names)
                score, row_class = _sigmoid(logit), class_id
            else:
                names = ("frame", "x1", "y1", "x2", "y2", "score", "class_id")[:columns]
                values = _to_float(path, line, fields, names)
                frame, x1, y1, x2, y2, score = values[:6]
                row_class = class_id if columns == _CSV_PLAIN else _class_number(path, line, values[6])
            frame_number = _frame_number(path, line, frame, KITTI_FIRST_FRAME)
            _check_xyxy(path, line, x1, y1, x2, y2)
            rows.setdefault(frame_number, []).append((x1, y1, x2, y2, score))
            classes.setdefault(frame_number, []).append(row_class)
        return cls(_group(rows, class_id, classes), source=str(path))

    @classmethod
    def from_kitti_label(cls, path: str | Path, types: tuple[str, ...] = ("Car",), class_id: int = 2) -> FileDetections:
        """Read KITTI tracking labels (ground truth or a tracker's output) as detections.

        Args:
            path: a ``label_02/NNNN.txt``-style file (space-separated, 17 or 18 columns,
                0-based frames).
            types: object types to keep, compared case-insensitively (``DontCare``
                and other types are skipped).
            class_id: class given to every kept row.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            DetectionFileError: a malformed row, naming file and line.
        """
        path = Path(path)
        wanted = {name.lower() for name in types}
        names = ("frame", "track_id", "type", "truncated", "occluded", "alpha", "x1", "y1", "x2", "y2")
        rows: dict[int, list[tuple[float, float, float, float, float]]] = {}
        for line, fields in _read_rows(path, None):
            if len(fields) not in (_LABEL_COLUMNS, _LABEL_COLUMNS_SCORED):
                raise DetectionFileError(
                    path, line, f"expected {_LABEL_COLUMNS} or {_LABEL_COLUMNS_SCORED} columns, got {len(fields)}"
                )
            numeric = [fields[0], *fields[6:10]]
            frame, x1, y1, x2, y2 = _to_float(path, line, numeric, (names[0], *names[6:10]))
            score = 1.0
            if len(fields) == _LABEL_COLUMNS_SCORED:
                (score,) = _to_float(path, line, fields[17:], ("score",))
            frame_number = _frame_number(path, line, frame, KITTI_FIRST_FRAME)
            _check_xyxy(path, line, x1, y1, x2, y2)
            if fields[2].lower() in wanted:
                rows.setdefault(frame_number, []).append((x1, y1, x2, y2, score))
        return cls(_group(rows, class_id), source=str(path))

    # Writing ------------------------------------------------------------------------------------

    def to_csv(self, path: str | Path) -> None:
        """Write the 7-column CSV ``frame,x1,y1,x2,y2,score,class_id`` that :meth:`from_kitti_csv` reads.

        Frames keep their numbers; a sequence without detections writes an empty file
        (which reads back as "no detections"). Coordinates and scores are written with
        6 decimals (micro-pixel precision).
        """
        lines = []
        for frame, dets in self._frames.items():
            for box, score, class_id in zip(
                dets.xyxy.tolist(), dets.scores.tolist(), dets.class_ids.tolist(), strict=True
            ):
                x1, y1, x2, y2 = box
                lines.append(f"{frame},{x1:.6f},{y1:.6f},{x2:.6f},{y2:.6f},{score:.6f},{class_id}\n")
        Path(path).write_text("".join(lines), encoding="utf-8")

    # Access -------------------------------------------------------------------------------------

    @property
    def frames(self) -> tuple[int, ...]:
        """Sorted frame numbers that have at least one detection."""
        return tuple(self._frames)

    @property
    def num_detections(self) -> int:
        """Total number of detections over all frames."""
        return sum(len(dets) for dets in self._frames.values())

    def __getitem__(self, frame: int) -> Detections:
        """The detections of ``frame`` (the file's numbering); empty when it has none."""
        return self._frames.get(int(frame)) or Detections.empty()

    def __call__(self, frame: int) -> Detections:
        """Same as ``fd[frame]``: lets a FileDetections stand where a per-frame source is called."""
        return self[frame]

    def __len__(self) -> int:
        """Number of frames that have at least one detection."""
        return len(self._frames)

    def __repr__(self) -> str:
        return f"FileDetections({self.source!r}, frames={len(self)}, detections={self.num_detections})"


def _class_number(path: Path, line: int, value: float) -> int:
    if value != int(value):
        raise DetectionFileError(path, line, f"class_id is not a whole number: {value}")
    return int(value)


def _group(
    rows: dict[int, list[tuple[float, float, float, float, float]]],
    class_id: int,
    classes: dict[int, list[int]] | None = None,
) -> dict[int, Detections]:
    frames = {}
    for frame, values in rows.items():
        array = np.asarray(values, dtype=np.float64)
        class_ids = np.asarray(classes[frame] if classes else np.full(len(array), class_id), dtype=np.int64)
        frames[frame] = Detections(array[:, :4], array[:, 4], class_ids)
    return frames
