"""What every text format here shares: :class:`FormatError`, numbered rows, checked numbers, grouping rows.

Each row reader yields the 1-based line number with the fields, skipping blank lines
(which still count in the numbering), so every error can name ``path:line``.
"""

from __future__ import annotations

import codecs
import math
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MAX_PIXELS", "FormatError", "group_rows"]

#: Largest magnitude of a box coordinate, width or height in pixels that a reader accepts. A value
#: beyond it is a corrupt field, not a box: no camera makes images that large, and values beyond
#: float32's range (3.4e38) would become infinite in :class:`tracker.Detections`.
MAX_PIXELS = 1e6

#: Smallest file :func:`fast_table` imports ``polars`` for. Importing it took 0.17 to 0.49 s and
#: it then parses about 170 MB/s against NumPy's 30 MB/s (a 51 MB det.txt: 0.3 s against 1.7 s,
#: on a shared 2-core machine), so it pays off from about 6 to 14 MB on.
POLARS_MIN_BYTES = 8 * 2**20
_INT64_MIN = -(2**63)


class FormatError(ValueError):
    """A file of one of the field's formats is malformed.

    The one-line message starts with ``path:line:`` (or ``path:`` for what is not one
    line's fault), then the reason.

    Attributes:
        path: the file.
        line: the 1-based line number, or None.
        reason: the message without the location.
    """

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}:{line}: {reason}" if line is not None else f"{self.path}: {reason}")


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text, with a leading byte-order mark dropped and universal newlines.

    ``"\\r\\n"`` and ``"\\r"`` become ``"\\n"``, as when Python reads a text file.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        FormatError: the file is not UTF-8 text (the message names the line and the byte).
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    raw = path.read_bytes()
    raw = raw[len(codecs.BOM_UTF8) :] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = _universal_newlines(raw[: error.start].decode("utf-8"))
        line = before.count("\n") + 1
        column = len(before) - before.rfind("\n")
        byte = raw[error.start]
        raise FormatError(
            path, line, f"not UTF-8 text: byte 0x{byte:02x} at column {column} ({error.reason})"
        ) from None
    return _universal_newlines(text)


def _universal_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_rows(path: Path, separator: str | None) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(1-based line number, stripped fields)`` for every non-blank line of ``path``.

    Args:
        path: the file.
        separator: the field separator (``","``), or None for runs of white space.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        FormatError: the file is not UTF-8 text.
    """
    # split on "\n" only (universal newlines already made "\r\n" and "\r" into "\n"), as a file iterates
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        stripped = line.strip()
        if stripped:
            yield number, [field.strip() for field in stripped.split(separator)]


def fast_table(path: Path, columns: int) -> np.ndarray | None:
    """The first ``columns`` comma-separated fields of every row as ``(N, columns)`` float64, read fast.

    The fast path of a row reader: None means "read it row by row", which decides and
    names the line. Polars' CSV reader parses files of :data:`POLARS_MIN_BYTES` or more
    when ``polars`` is installed (it comes with the ``bench`` and ``yolo`` extras), and any
    file once ``polars`` is imported; otherwise NumPy's C parser (:func:`numpy.loadtxt`)
    does. Both convert decimal text to the nearest float64, as Python's ``float`` does.

    None when the file is missing or holds no row, is not UTF-8, the first row or any
    later row has fewer than ``columns`` fields, or a field is not a number the parser
    reads (a blank line or a line of spaces in the middle, ``1_000``, ``#``, ``" 1 "`` for
    Polars). NaN and infinities are returned as read: the caller checks values.
    """
    if not path.is_file():
        return None
    if "polars" not in sys.modules and path.stat().st_size < POLARS_MIN_BYTES:
        return _numpy_table(path, columns)
    try:
        import polars
    except ImportError:
        return _numpy_table(path, columns)
    return _polars_table(polars, path, columns)


def _polars_table(polars: Any, path: Path, columns: int) -> np.ndarray | None:
    with path.open("rb") as handle:
        width = handle.readline().count(b",") + 1  # fields of the first row: the CSV's schema
    if width < columns:
        return None
    schema = {f"c{i}": polars.Float64 if i < columns else polars.String for i in range(width)}
    try:
        frame = polars.read_csv(
            path,
            has_header=False,
            schema=schema,
            columns=list(range(columns)),
            separator=",",
            quote_char=None,
            comment_prefix=None,
            truncate_ragged_lines=True,  # later rows with more fields: the extra ones are not read
            raise_if_empty=False,
        )
    except (polars.exceptions.PolarsError, OSError, ValueError):
        return None
    if not len(frame) or any(frame.null_count().row(0)):  # a missing field or a blank line
        return None
    result: np.ndarray = frame.to_numpy().astype(np.float64, copy=False).reshape(-1, columns)
    return result


def _numpy_table(path: Path, columns: int) -> np.ndarray | None:
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="loadtxt: input contained no data", category=UserWarning)
            table = np.loadtxt(
                path,
                delimiter=",",
                usecols=range(columns),
                comments=None,
                encoding="utf-8-sig",
                ndmin=2,
                dtype=np.float64,
            )
    except (ValueError, UnicodeDecodeError):
        return None
    return table if len(table) else None


def numbers(path: Path, line: int, fields: list[str], names: tuple[str, ...]) -> list[float]:
    """The first ``len(names)`` fields as finite floats (``fields`` must hold that many).

    Raises:
        FormatError: a field is not a number, or is NaN or infinite (the message names the column).
    """
    values = []
    for name, field in zip(names, fields[: len(names)], strict=True):
        try:
            value = float(field)
        except ValueError:
            raise FormatError(path, line, f"column '{name}' is not a number: {field!r}") from None
        if not math.isfinite(value):
            raise FormatError(path, line, f"column '{name}' is not finite: {field!r}")
        values.append(value)
    return values


def whole(path: Path, line: int, name: str, value: float) -> int:
    """``value`` as an int.

    Raises:
        FormatError: ``value`` is not a whole number, or does not fit a signed 64-bit integer.
    """
    if value != int(value):
        raise FormatError(path, line, f"{name} is not a whole number: {value}")
    if not _INT64_MIN <= value < -_INT64_MIN:
        raise FormatError(path, line, f"{name} {value:g} is out of range (must fit a signed 64-bit integer)")
    return int(value)


def frame_number(path: Path, line: int, value: float, first_frame: int) -> int:
    """A frame number: a whole number no lower than the format's first frame.

    Raises:
        FormatError: ``value`` is not whole, or is below ``first_frame``.
    """
    frame = whole(path, line, "frame number", value)
    if frame < first_frame:
        raise FormatError(path, line, f"frame number {frame} is below the first frame {first_frame}")
    return frame


def check_pixels(path: Path, line: int, names: tuple[str, ...], values: list[float]) -> None:
    """Raise :class:`FormatError` when a box field lies beyond ``±MAX_PIXELS`` (the message names the column)."""
    if max(map(abs, values)) <= MAX_PIXELS:
        return
    for name, value in zip(names, values, strict=True):
        if abs(value) > MAX_PIXELS:
            raise FormatError(path, line, f"column '{name}' is beyond ±{MAX_PIXELS:g} pixels: {value:g}")


def check_xyxy(path: Path, line: int, x1: float, y1: float, x2: float, y2: float) -> None:
    """Raise :class:`FormatError` when the box is inverted (``x2 < x1`` or ``y2 < y1``) or beyond ``±MAX_PIXELS``."""
    check_pixels(path, line, ("x1", "y1", "x2", "y2"), [x1, y1, x2, y2])
    if x2 < x1 or y2 < y1:
        raise FormatError(path, line, f"box is inverted (need x1 <= x2 and y1 <= y2): {[x1, y1, x2, y2]}")


def group_rows(keys: np.ndarray) -> dict[int, np.ndarray]:
    """The rows of each key (a frame number, a track ID): key -> ``(K,)`` int64 row indices in file order.

    Args:
        keys: ``(N,)`` integer key of each row, in any order.

    Returns:
        A dict with the keys in ascending order; only keys that have rows.
    """
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    if not len(keys):
        return {}
    order = np.argsort(keys, kind="stable")
    present, starts = np.unique(keys[order], return_index=True)
    return {int(key): indices for key, indices in zip(present.tolist(), np.split(order, starts[1:]), strict=True)}
