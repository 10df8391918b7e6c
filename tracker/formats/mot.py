"""MOTChallenge files: ``det.txt`` detections, ``gt.txt`` ground truth and ``seqinfo.ini``.

Format: Milan et al., "MOT16: A Benchmark for Multi-Object Tracking", 2016 (also
MOT17 and MOT20). Rows are comma-separated, frames count from 1 (:data:`MOT_FIRST_FRAME`),
rows may come in any order, boxes are ``tlwh`` pixels (``left, top, width, height``),
which the readers return as ``xyxy`` (:func:`tracker.boxes.tlwh_to_xyxy`).

- ``det.txt`` (:func:`read_mot_detections`): ``frame,id,left,top,width,height,score[,...]``;
  ``id`` is -1 in public detections and ignored, columns after the score (``x,y,z`` or a
  class) are ignored.
- ``gt.txt`` (:func:`read_mot_ground_truth`): ``frame,id,left,top,width,height,consider,class,visibility``
  (9 columns, the MOT16/17/20 layout): ``consider`` is 1 for a box that is scored and 0 for
  one that is ignored, ``class`` is 1 for a pedestrian (MOT17: 1..12), ``visibility`` in ``[0, 1]``.
- ``seqinfo.ini`` (:func:`read_seqinfo`): the ``[Sequence]`` section (``name``, ``imDir``,
  ``frameRate``, ``seqLength``, ``imWidth``, ``imHeight``, ``imExt``), keys read
  case-insensitively as ``configparser`` (and TrackEval) do.

Errors: a malformed row raises :class:`~tracker.formats.rows.FormatError` naming the file
and the 1-based line (a wrong column count, a field that is not a finite number, a frame,
ID or class that is not a whole number or does not fit 64 bits, a frame below 1, a negative
width or height, a box field beyond ``±MAX_PIXELS``, a byte that is not UTF-8); a leading
UTF-8 byte-order mark is skipped; a file that exists but holds no rows is valid and empty;
a missing file raises :class:`FileNotFoundError`.
"""

from __future__ import annotations

import configparser
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracker.boxes import tlwh_to_xyxy
from tracker.formats.rows import (
    MAX_PIXELS,
    FormatError,
    check_pixels,
    fast_table,
    frame_number,
    numbers,
    read_rows,
    read_text,
    whole,
)

__all__ = [
    "MOT_FIRST_FRAME",
    "MotDetections",
    "MotGroundTruth",
    "SeqInfo",
    "read_mot_detections",
    "read_mot_ground_truth",
    "read_seqinfo",
]

#: First frame number of MOTChallenge files.
MOT_FIRST_FRAME = 1

#: Columns of a detection row up to and including the score.
_DET_COLUMNS = 7
_DET_NAMES = ("frame", "id", "left", "top", "width", "height", "score")
#: Columns of a ground-truth row.
_GT_COLUMNS = 9
_GT_NAMES = ("frame", "id", "left", "top", "width", "height", "consider", "class", "visibility")


@dataclass(frozen=True)
class MotDetections:
    """The rows of a MOTChallenge ``det.txt``, in file order.

    Attributes:
        frames: ``(N,)`` int64 frame numbers (from 1).
        xyxy: ``(N, 4)`` float64 boxes in pixels.
        scores: ``(N,)`` float64 detection scores as written.
    """

    frames: np.ndarray
    xyxy: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class MotGroundTruth:
    """The rows of a MOTChallenge ``gt.txt``, in file order.

    Attributes:
        frames: ``(N,)`` int64 frame numbers (from 1).
        ids: ``(N,)`` int64 track IDs.
        xyxy: ``(N, 4)`` float64 boxes in pixels.
        consider: ``(N,)`` bool, the box is scored (column ``consider`` is 1).
        classes: ``(N,)`` int64 object classes (1: pedestrian).
        visibility: ``(N,)`` float64 visible fraction of the object.
    """

    frames: np.ndarray
    ids: np.ndarray
    xyxy: np.ndarray
    consider: np.ndarray
    classes: np.ndarray
    visibility: np.ndarray


def _tlwh(path: Path, line: int, left: float, top: float, width: float, height: float) -> list[float]:
    check_pixels(path, line, ("left", "top", "width", "height"), [left, top, width, height])
    if width < 0 or height < 0:
        raise FormatError(path, line, f"negative width or height: w={width}, h={height}")
    return [left, top, width, height]


def _fast_mot_detections(path: Path) -> MotDetections | None:
    """The file read by :func:`~tracker.formats.rows.fast_table`, or None when a row needs the row reader's judgement.

    Returns a result only when every row has at least 7 numeric columns and passes every
    check of :func:`read_mot_detections`; then it equals the row reader's (both parse with
    correctly rounded decimal conversion).
    """
    table = fast_table(path, _DET_COLUMNS)
    if table is None:
        return None
    frames, tlwh, scores = table[:, 0], table[:, 2:6], table[:, 6]
    valid = (
        np.isfinite(table).all()
        and (frames >= MOT_FIRST_FRAME).all()
        and (frames < 2.0**63).all()
        and (frames == np.floor(frames)).all()
        and (tlwh[:, 2:] >= 0).all()
        and (np.abs(tlwh) <= MAX_PIXELS).all()
    )
    if not valid:
        return None
    return MotDetections(frames.astype(np.int64), tlwh_to_xyxy(tlwh), scores.copy())


def read_mot_detections(path: str | Path) -> MotDetections:
    """Read a MOTChallenge ``det.txt`` (``frame,id,left,top,width,height,score[,...]``).

    Fast on large files: Polars' CSV reader (or NumPy's C parser without ``polars``; see
    :func:`tracker.formats.rows.fast_table`) reads the file and the checks run on whole
    columns. When it cannot parse a row or a check fails, the file is read again row by
    row, which names the bad line; the row reader accepts every file the fast path
    accepts, with the same values, and a little more (Python's ``float`` takes ``1_000``;
    lines of spaces count as blank).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: a malformed row (fewer than 7 columns, a field of the first 7 that is not
            a finite number, a bad frame number, a negative width or height, a box field
            beyond ``±MAX_PIXELS``), naming file and line; a file that is not UTF-8 text.
    """
    path = Path(path)
    fast = _fast_mot_detections(path)
    return fast if fast is not None else _mot_detections_by_row(path)


def _mot_detections_by_row(path: Path) -> MotDetections:
    """:func:`read_mot_detections` one row at a time, checking each (the reader that names the bad line)."""
    frames, tlwh, scores = [], [], []
    for line, fields in read_rows(path, ","):
        if len(fields) < _DET_COLUMNS:
            raise FormatError(
                path, line, f"expected at least {_DET_COLUMNS} columns (frame,id,x,y,w,h,score), got {len(fields)}"
            )
        frame, _, left, top, width, height, score = numbers(path, line, fields, _DET_NAMES)
        frames.append(frame_number(path, line, frame, MOT_FIRST_FRAME))
        tlwh.append(_tlwh(path, line, left, top, width, height))
        scores.append(score)
    return MotDetections(
        np.array(frames, dtype=np.int64), tlwh_to_xyxy(np.array(tlwh, dtype=np.float64)), np.array(scores)
    )


def read_mot_ground_truth(path: str | Path) -> MotGroundTruth:
    """Read a MOTChallenge ``gt.txt`` (``frame,id,left,top,width,height,consider,class,visibility``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: a malformed row (not 9 columns, a field that is not a finite number, a bad
            frame number, an ID or class that is not whole, ``consider`` other than 0 or 1, a
            negative width or height), naming file and line.
    """
    path = Path(path)
    frames, ids, tlwh, consider, classes, visibility = [], [], [], [], [], []
    for line, fields in read_rows(path, ","):
        if len(fields) != _GT_COLUMNS:
            raise FormatError(path, line, f"expected {_GT_COLUMNS} columns ({','.join(_GT_NAMES)}), got {len(fields)}")
        frame, track_id, left, top, width, height, flag, kind, visible = numbers(path, line, fields, _GT_NAMES)
        if flag not in (0.0, 1.0):
            raise FormatError(path, line, f"column 'consider' must be 0 or 1, got {fields[6]!r}")
        frames.append(frame_number(path, line, frame, MOT_FIRST_FRAME))
        ids.append(whole(path, line, "id", track_id))
        tlwh.append(_tlwh(path, line, left, top, width, height))
        consider.append(flag == 1.0)
        classes.append(whole(path, line, "class", kind))
        visibility.append(visible)
    return MotGroundTruth(
        frames=np.array(frames, dtype=np.int64),
        ids=np.array(ids, dtype=np.int64),
        xyxy=tlwh_to_xyxy(np.array(tlwh, dtype=np.float64)),
        consider=np.array(consider, dtype=bool),
        classes=np.array(classes, dtype=np.int64),
        visibility=np.array(visibility, dtype=np.float64),
    )


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``.

    Attributes:
        path: the file.
        image_dir: ``imDir``, the image folder next to the file (``"img1"`` when absent).
        frame_rate: ``frameRate`` in Hz (frames per second), or None when absent.
        length: ``seqLength`` in frames, or None when absent.
        width, height: ``imWidth`` / ``imHeight`` in pixels, or None when absent.
        name: ``name``, or None when absent.
        entries: every entry of the section in file order, ``(key, value)`` as text; the
            keys this class knows are spelled as above (``frameRate``), others as lower case.
    """

    path: Path
    image_dir: str
    frame_rate: float | None
    length: int | None
    width: int | None
    height: int | None
    name: str | None
    entries: tuple[tuple[str, str], ...]

    def missing(self, key: str) -> FormatError:
        """The error to raise when a caller needs ``key`` (e.g. ``"frameRate"``) and the file lacks it."""
        return FormatError(self.path, None, f"[Sequence] has no {key}")


_SEQINFO_KEYS = ("name", "imDir", "frameRate", "seqLength", "imWidth", "imHeight", "imExt")
_DEFAULT_IMAGE_DIR = "img1"


def _positive_int(path: Path, key: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise FormatError(path, None, f"{key} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise FormatError(path, None, f"{key} must be positive, got {value!r}")
    return number


def read_seqinfo(path: str | Path) -> SeqInfo:
    """Read the ``[Sequence]`` section of a MOTChallenge ``seqinfo.ini``.

    Keys left out are None in the result (``imDir``: ``"img1"``); a caller that needs one
    raises :meth:`SeqInfo.missing` for it.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: the file is not an INI file, has no ``[Sequence]`` section, or
            ``frameRate`` is not a positive finite number, or ``seqLength`` / ``imWidth`` /
            ``imHeight`` is not a positive whole number (the message names the file and the key).
    """
    path = Path(path)
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(read_text(path), source=str(path))
    except configparser.Error as error:
        raise FormatError(path, None, f"not a valid seqinfo.ini: {str(error).splitlines()[0]}") from None
    if not parser.has_section("Sequence"):
        raise FormatError(path, None, "no [Sequence] section")
    spelling = {key.lower(): key for key in _SEQINFO_KEYS}
    entries = tuple((spelling.get(key, key), value) for key, value in parser.items("Sequence", raw=True))
    section = dict(entries)
    rate = section.get("frameRate")
    frame_rate = None
    if rate is not None:
        try:
            frame_rate = float(rate)
        except ValueError:
            raise FormatError(path, None, f"frameRate must be a number of frames per second, got {rate!r}") from None
        if not (math.isfinite(frame_rate) and frame_rate > 0):
            raise FormatError(path, None, f"frameRate must be a positive finite number, got {rate!r}")
    return SeqInfo(
        path=path,
        image_dir=section.get("imDir", _DEFAULT_IMAGE_DIR),
        frame_rate=frame_rate,
        length=_positive_int(path, "seqLength", section.get("seqLength")),
        width=_positive_int(path, "imWidth", section.get("imWidth")),
        height=_positive_int(path, "imHeight", section.get("imHeight")),
        name=section.get("name"),
        entries=entries,
    )
