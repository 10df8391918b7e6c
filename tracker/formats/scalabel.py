"""Scalabel JSON box labels: the ground truth and predictions of BDD100K MOT (box tracking).

Format: the Scalabel label format (https://doc.scalabel.ai/format.html), as used by
BDD100K (Yu et al., "BDD100K: A Diverse Driving Dataset for Heterogeneous Multitask
Learning", CVPR 2020; ``bdd100k/labels/box_track_20/{train,val}/<video>.json``). A file
is a JSON list of frames (or a Scalabel dataset object ``{"frames": [...], ...}``); each frame::

    {"name": "b1c66a42-6f7d68ca-0000001.jpg", "videoName": "b1c66a42-6f7d68ca", "frameIndex": 0,
     "labels": [{"id": "1", "category": "car", "score": 0.93,
                 "attributes": {"occluded": false, "truncated": false, "crowd": false},
                 "box2d": {"x1": 10.0, "y1": 20.0, "x2": 110.0, "y2": 80.0}}]}

Frame indices count from 0 (:data:`SCALABEL_FIRST_FRAME`); boxes are ``xyxy`` pixels as
written (Scalabel's ``x2``/``y2`` are the last pixel inside the box; nothing here adds the
``+ 1`` that some converters add to the width). One file holds one video or several (told
apart by ``videoName``). The BDD100K 2020 release and TrackEval's ``BDD100K`` reader spell
two keys differently: ``index`` for ``frameIndex`` and ``Crowd`` / ``Occluded`` /
``Truncated`` for the attributes; both spellings are read. Predictions carry ``score``
and may leave ``id`` out.

:func:`read_scalabel` checks every frame and label and raises
:class:`~tracker.formats.rows.FormatError` naming the file, the line the frame starts on
and the frame and label (``frame #3 (video 'v', frameIndex 2) label #1: ...``): invalid
JSON, a frame without ``frameIndex``/``index`` or with a negative one, the same
``(videoName, frameIndex)`` twice, a label without a ``category`` or ``box2d``, a box
coordinate that is not a finite number, an inverted box (``x2 < x1`` or ``y2 < y1``), a
score that is not a finite number, an attribute that is not true or false. A file holding
nothing but white space or ``[]`` is valid and empty; a missing file raises
:class:`FileNotFoundError`.

The BDD100K categories (:data:`BDD100K_CLASSES`, the eight that are scored;
:data:`BDD100K_IGNORED`, the three whose boxes TrackEval treats like crowd regions) and
their COCO class ids (:data:`BDD100K_TO_COCO`, :data:`COCO_TO_BDD100K`) are here too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracker.formats.rows import FormatError, read_text

__all__ = [
    "BDD100K_CLASSES",
    "BDD100K_IGNORED",
    "BDD100K_OTHER",
    "BDD100K_TO_COCO",
    "COCO_TO_BDD100K",
    "SCALABEL_FIRST_FRAME",
    "ScalabelFrames",
    "read_scalabel",
]

#: First frame index of Scalabel files.
SCALABEL_FIRST_FRAME = 0
#: The eight BDD100K MOT categories that are scored.
BDD100K_CLASSES = ("pedestrian", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle")
#: BDD100K MOT categories that are labelled but not scored: TrackEval drops unmatched tracker
#: boxes lying more than half inside them, like boxes marked ``crowd``.
BDD100K_IGNORED = ("other person", "other vehicle", "trailer")
#: BDD100K detection categories outside MOT (a BDD100K detector may predict them).
BDD100K_OTHER = ("traffic light", "traffic sign")
#: BDD100K category -> COCO class id (the ids of YOLO detectors trained on COCO). COCO has no
#: rider: a rider is a person to a COCO detector, so ``rider`` maps to person (0) and a
#: COCO detector's person tracks are all scored as ``pedestrian`` (see :data:`COCO_TO_BDD100K`).
BDD100K_TO_COCO = {
    "pedestrian": 0,
    "rider": 0,
    "car": 2,
    "truck": 7,
    "bus": 5,
    "train": 6,
    "motorcycle": 3,
    "bicycle": 1,
}
#: COCO class id -> the BDD100K category its tracks are written as (person -> ``pedestrian``;
#: no COCO class becomes ``rider``). Other COCO classes have no BDD100K category.
COCO_TO_BDD100K = {0: "pedestrian", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 6: "train", 7: "truck"}

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BOX_KEYS = ("x1", "y1", "x2", "y2")
_ATTRIBUTES = ("crowd", "occluded", "truncated")


@dataclass(frozen=True)
class ScalabelFrames:
    """The frames and box labels of a Scalabel file, in file order.

    Frames (``F`` of them):

    Attributes:
        path: the file.
        videos: ``(F,)`` str ``videoName`` of each frame (``""`` when absent).
        frame_indices: ``(F,)`` int64 ``frameIndex`` (from 0).
        names: ``(F,)`` str image name (``""`` when absent).
        positions: ``(F,)`` int64 the frame's position in the file (0-based), for messages.
        lines: ``(F,)`` int64 the 1-based line the frame starts on (0 when unknown: a
            ``{"frames": ...}`` object).

    Labels (``N`` of them):

    Attributes:
        label_frames: ``(N,)`` int64 row of the label's frame in the arrays above.
        label_positions: ``(N,)`` int64 the label's position in its frame's ``labels`` (0-based).
        ids: ``(N,)`` str track ID as written (``""`` when absent; numbers become their text).
        categories: ``(N,)`` str category as written.
        xyxy: ``(N, 4)`` float64 boxes in pixels.
        scores: ``(N,)`` float64 ``score``, NaN when absent (ground truth).
        crowd, occluded, truncated: ``(N,)`` bool attributes (False when absent).
    """

    path: Path
    videos: np.ndarray
    frame_indices: np.ndarray
    names: np.ndarray
    positions: np.ndarray
    lines: np.ndarray
    label_frames: np.ndarray
    label_positions: np.ndarray
    ids: np.ndarray
    categories: np.ndarray
    xyxy: np.ndarray
    scores: np.ndarray
    crowd: np.ndarray
    occluded: np.ndarray
    truncated: np.ndarray

    @property
    def num_frames(self) -> int:
        """Number of frames."""
        return len(self.frame_indices)

    @property
    def num_labels(self) -> int:
        """Number of labels."""
        return len(self.categories)

    @property
    def video_names(self) -> tuple[str, ...]:
        """The distinct ``videoName`` values, in order of first appearance (``""`` for frames without one)."""
        return tuple(dict.fromkeys(self.videos.tolist()))

    def video(self, name: str) -> ScalabelFrames:
        """The frames whose ``videoName`` is ``name`` and their labels (file order kept)."""
        keep = self.videos == name
        rows = np.flatnonzero(keep)
        new_row = np.full(self.num_frames, -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows))
        labels = keep[self.label_frames]
        return ScalabelFrames(
            path=self.path,
            videos=self.videos[rows],
            frame_indices=self.frame_indices[rows],
            names=self.names[rows],
            positions=self.positions[rows],
            lines=self.lines[rows],
            label_frames=new_row[self.label_frames[labels]],
            label_positions=self.label_positions[labels],
            ids=self.ids[labels],
            categories=self.categories[labels],
            xyxy=self.xyxy[labels],
            scores=self.scores[labels],
            crowd=self.crowd[labels],
            occluded=self.occluded[labels],
            truncated=self.truncated[labels],
        )

    def frame_error(self, row: int, reason: str) -> FormatError:
        """A :class:`FormatError` about frame ``row`` (file, line, frame) to raise."""
        return FormatError(self.path, int(self.lines[row]) or None, f"{self._frame_text(row)}: {reason}")

    def label_error(self, label: int, reason: str) -> FormatError:
        """A :class:`FormatError` about label ``label`` (file, line, frame and label) to raise."""
        row = int(self.label_frames[label])
        where = f"{self._frame_text(row)} label #{int(self.label_positions[label])}"
        return FormatError(self.path, int(self.lines[row]) or None, f"{where}: {reason}")

    def _frame_text(self, row: int) -> str:
        return _frame_text(int(self.positions[row]), str(self.videos[row]), int(self.frame_indices[row]))


def _frame_text(position: int, video: str, index: int | None) -> str:
    parts = [f"video {video!r}"] if video else []
    if index is not None:
        parts.append(f"frameIndex {index}")
    return f"frame #{position}" + (f" ({', '.join(parts)})" if parts else "")


def read_scalabel(path: str | Path) -> ScalabelFrames:
    """Read a Scalabel JSON file of box labels (ground truth or predictions).

    Args:
        path: a JSON list of frames, or an object with a ``frames`` list (see the module doc).

    Returns:
        The frames and labels in file order (:class:`ScalabelFrames`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: invalid JSON or a malformed frame or label (see the module doc),
            naming the file, the line the frame starts on, the frame and the label.
    """
    path = Path(path)
    text = read_text(path)
    builder = _Builder(path)
    for position, (line, frame) in enumerate(_frames(path, text)):
        builder.add_frame(position, line, frame)
    return builder.result()


def _frames(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line the frame starts on or 0, frame)`` for the frames of a Scalabel file."""
    start = _skip(text, 0)
    if start == len(text):
        return
    if text[start] == "{":
        document = _decode(path, text)
        frames = document.get("frames") if isinstance(document, dict) else None
        if not isinstance(frames, list):
            raise FormatError(path, None, "a Scalabel object needs a 'frames' list")
        for frame in frames:
            yield 0, frame
        return
    if text[start] != "[":
        raise FormatError(path, _line(text, start), "expected a JSON list of frames (or an object with 'frames')")
    decoder = json.JSONDecoder()
    line, counted = 1, 0
    position = _skip(text, start + 1)
    if text.startswith("]", position):
        _expect_end(path, text, position + 1)
        return
    while True:
        try:
            frame, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise FormatError(path, error.lineno, f"invalid JSON: {error.msg} (column {error.colno})") from None
        line += text.count("\n", counted, position)
        counted = position
        yield line, frame
        position = _skip(text, end)
        if text.startswith(",", position):
            position = _skip(text, position + 1)
        elif text.startswith("]", position):
            _expect_end(path, text, position + 1)
            return
        else:
            raise FormatError(path, _line(text, position), "invalid JSON: expected ',' or ']' after a frame")


def _decode(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FormatError(path, error.lineno, f"invalid JSON: {error.msg} (column {error.colno})") from None


def _expect_end(path: Path, text: str, position: int) -> None:
    position = _skip(text, position)
    if position != len(text):
        raise FormatError(path, _line(text, position), "invalid JSON: extra data after the list of frames")


def _skip(text: str, position: int) -> int:
    """The position of the first character at or after ``position`` that is not JSON white space."""
    match = _WHITESPACE.match(text, position)
    return match.end() if match else position


def _line(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _or(value: Any, default: Any) -> Any:
    """``value``, or ``default`` when it is absent or JSON ``null``."""
    return default if value is None else value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Builder:
    """Checks frames one by one and collects their columns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames: dict[str, list[Any]] = {key: [] for key in ("videos", "indices", "names", "positions", "lines")}
        self.labels: dict[str, list[Any]] = {
            key: [] for key in ("frames", "positions", "ids", "categories", "xyxy", "scores", *_ATTRIBUTES)
        }
        self.seen: dict[tuple[str, int], int] = {}

    def add_frame(self, position: int, line: int, frame: Any) -> None:
        def fail(reason: str, index: int | None = None, video: str = "", label: int | None = None) -> FormatError:
            where = _frame_text(position, video, index) + ("" if label is None else f" label #{label}")
            return FormatError(self.path, line or None, f"{where}: {reason}")

        if not isinstance(frame, dict):
            raise fail(f"a frame must be a JSON object, got {type(frame).__name__}")
        video = _or(frame.get("videoName"), "")
        if not isinstance(video, str):
            raise fail(f"'videoName' must be a string, got {video!r}")
        key = "frameIndex" if "frameIndex" in frame else "index"
        index = frame.get(key)
        if index is None:
            raise fail("no 'frameIndex' (or 'index')", video=video)
        if isinstance(index, bool) or not isinstance(index, int) or index < SCALABEL_FIRST_FRAME:
            raise fail(f"'{key}' must be a whole number >= {SCALABEL_FIRST_FRAME}, got {index!r}", video=video)
        name = _or(frame.get("name"), "")
        if not isinstance(name, str):
            raise fail(f"'name' must be a string, got {name!r}", index, video)
        if (video, index) in self.seen:
            raise fail(f"the same frame again (first at frame #{self.seen[video, index]})", index, video)
        self.seen[video, index] = position
        labels = _or(frame.get("labels"), [])
        if not isinstance(labels, list):
            raise fail(f"'labels' must be a list, got {type(labels).__name__}", index, video)
        row = len(self.frames["indices"])
        for column, value in zip(self.frames, (video, index, name, position, line), strict=True):
            self.frames[column].append(value)
        for number, label in enumerate(labels):

            def fail_label(reason: str, number: int = number) -> FormatError:
                return fail(reason, index, video, number)

            self.add_label(row, number, label, fail_label)

    def add_label(self, row: int, number: int, label: Any, fail: Callable[[str], FormatError]) -> None:
        if not isinstance(label, dict):
            raise fail(f"a label must be a JSON object, got {type(label).__name__}")
        category = label.get("category")
        if not isinstance(category, str) or not category:
            raise fail(f"'category' must be a non-empty string, got {category!r}")
        track_id = label.get("id")
        if track_id is None:
            track_id = ""
        elif isinstance(track_id, bool) or not isinstance(track_id, (str, int)):
            raise fail(f"'id' must be a string or a whole number, got {track_id!r}")
        box = label.get("box2d")
        if not isinstance(box, dict):
            raise fail("no 'box2d' (only box labels are read)")
        for key in _BOX_KEYS:
            if not _finite(box.get(key)):
                raise fail(f"box2d '{key}' must be a finite number, got {box.get(key)!r}")
        x1, y1, x2, y2 = (float(box[key]) for key in _BOX_KEYS)
        if x2 < x1 or y2 < y1:
            raise fail(f"box is inverted (need x1 <= x2 and y1 <= y2): {[x1, y1, x2, y2]}")
        score = label.get("score")
        if score is not None and not _finite(score):
            raise fail(f"'score' must be a finite number, got {score!r}")
        attributes = _or(label.get("attributes"), {})
        if not isinstance(attributes, dict):
            raise fail(f"'attributes' must be an object, got {attributes!r}")
        flags = []
        for name in _ATTRIBUTES:
            value = attributes.get(name, attributes.get(name.capitalize(), False))
            if not isinstance(value, bool):
                raise fail(f"attribute '{name}' must be true or false, got {value!r}")
            flags.append(value)
        values = (row, number, str(track_id), category, (x1, y1, x2, y2), math.nan if score is None else score, *flags)
        for column, value in zip(self.labels, values, strict=True):
            self.labels[column].append(value)

    def result(self) -> ScalabelFrames:
        frames, labels = self.frames, self.labels
        return ScalabelFrames(
            path=self.path,
            videos=np.array(frames["videos"], dtype=str),
            frame_indices=np.array(frames["indices"], dtype=np.int64),
            names=np.array(frames["names"], dtype=str),
            positions=np.array(frames["positions"], dtype=np.int64),
            lines=np.array(frames["lines"], dtype=np.int64),
            label_frames=np.array(labels["frames"], dtype=np.int64),
            label_positions=np.array(labels["positions"], dtype=np.int64),
            ids=np.array(labels["ids"], dtype=str),
            categories=np.array(labels["categories"], dtype=str),
            xyxy=np.array(labels["xyxy"], dtype=np.float64).reshape(-1, 4),
            scores=np.array(labels["scores"], dtype=np.float64),
            crowd=np.array(labels["crowd"], dtype=bool),
            occluded=np.array(labels["occluded"], dtype=bool),
            truncated=np.array(labels["truncated"], dtype=bool),
        )
