"""What every text format here shares: :class:`FormatError`, numbered rows, checked numbers, grouping rows.

Each row reader yields the 1-based line number with the fields, skipping blank lines
(which still count in the numbering), so every error can name ``path:line``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

__all__ = ["FormatError", "group_rows"]


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
    """The whole file as UTF-8 text.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        FormatError: the file is not UTF-8 text.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise FormatError(path, None, f"not UTF-8 text ({error.reason})") from None


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
        FormatError: ``value`` is not a whole number.
    """
    if value != int(value):
        raise FormatError(path, line, f"{name} is not a whole number: {value}")
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


def check_xyxy(path: Path, line: int, x1: float, y1: float, x2: float, y2: float) -> None:
    """Raise :class:`FormatError` when the box is inverted (``x2 < x1`` or ``y2 < y1``)."""
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
