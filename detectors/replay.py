"""Precomputed detections replayed frame by frame as a :class:`~detectors.base.Detector`.

``vtrack track SOURCE --detections FILE`` tracks the boxes of a detection file
(public benchmark detections, or the output of another detector) instead of running
YOLO. :class:`ReplayDetector` reads the file with :class:`detectors.files.FileDetections`
and answers the ``i``-th call with the detections of the ``i``-th frame: frame
``i + 1`` of a MOTChallenge file (1-based), frame ``i`` of a KITTI CSV (0-based).
Frames must therefore be passed in order, one call per frame of the sequence the
file belongs to; the images themselves are only checked, not looked at.

Formats (``fmt``):

- ``"mot"``: MOTChallenge ``det.txt``, ``frame,id,left,top,width,height,score,...``
  (usually 10 columns); every detection gets class ``mot_class_id`` (0, COCO "person").
- ``"kitti"``: KITTI-style CSV, ``frame,x1,y1,x2,y2,score`` (6 columns, e.g. RRC),
  with a ``class_id`` column (7) or PointRCNN's 15 columns; class 2 (COCO "car")
  where the file has none.
- ``"scalabel"``: Scalabel JSON (BDD100K MOT predictions) of one video, frames by their
  0-based ``frameIndex`` (the 5 Hz image folder of a BDD100K video, not its 30 Hz clip);
  BDD100K categories become COCO class ids.
- ``"auto"``: a ``.json`` file -> ``scalabel``; else told by the first row: 6 or 15
  columns -> ``kitti``; 8 to 14 or more than 15 -> ``mot``; 7 columns fit both layouts:
  ``mot`` when the second column (the track id of a MOTChallenge row) is -1, as
  MOTChallenge detection files write it, else ``fmt`` must be given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detectors.base import check_frame
from detectors.files import FileDetections
from tracker.formats import KITTI_FIRST_FRAME, MOT_FIRST_FRAME, SCALABEL_FIRST_FRAME
from tracker.types import Detections

__all__ = ["COCO_NAMES", "FORMATS", "ReplayDetector", "detect_format"]

#: ``fmt`` values of :class:`ReplayDetector`.
FORMATS = ("auto", "mot", "kitti", "scalabel")

#: Names of the first COCO class ids (as numbered by the official YOLO weights), for labels.
COCO_NAMES = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 4: "airplane", 5: "bus", 6: "train", 7: "truck"}

_KITTI_COLUMNS = (6, 15)
_AMBIGUOUS_COLUMNS = 7
#: The id column of a MOTChallenge detection row.
_NO_ID = ("-1", "-1.0", "-1.00")


def detect_format(path: str | Path) -> str:
    """``"mot"``, ``"kitti"`` or ``"scalabel"`` for the detection file ``path`` (see the module doc).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file has no row, or its first row has 7 columns (both layouts
            have 7) and no -1 id; the message names the file and asks for the format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"detection file not found: {path}")
    if path.suffix.lower() == ".json":
        return "scalabel"
    with path.open(encoding="utf-8") as handle:
        first = next((line.strip() for line in handle if line.strip()), None)
    if first is None:
        raise ValueError(f"{path}: the file holds no detections, so its format cannot be told; pass the format")
    fields = [field.strip() for field in first.split(",")]
    columns = len(fields)
    if columns in _KITTI_COLUMNS:
        return "kitti"
    if columns == _AMBIGUOUS_COLUMNS and fields[1] in _NO_ID:
        return "mot"
    if columns == _AMBIGUOUS_COLUMNS:
        raise ValueError(
            f"{path}: 7 columns fit both MOTChallenge (frame,id,x,y,w,h,score) and KITTI CSV "
            "(frame,x1,y1,x2,y2,score,class_id); pass the format (mot or kitti)"
        )
    if columns < _AMBIGUOUS_COLUMNS:
        raise ValueError(f"{path}:1: expected 6 or more comma-separated columns, got {columns}")
    return "mot"


class ReplayDetector:
    """The detections of a file, one frame per call; see the module doc.

    Args:
        path: the detection file.
        fmt: ``"auto"``, ``"mot"``, ``"kitti"`` or ``"scalabel"``.
        mot_class_id: class id given to the detections of a MOTChallenge file.

    Attributes:
        detections: the :class:`~detectors.files.FileDetections` read from ``path``.
        fmt: the format read (``"mot"``, ``"kitti"`` or ``"scalabel"``).
        first_frame: the file's number of the first frame (1 for MOT, 0 for KITTI and Scalabel).
        frames_used: calls answered so far.
        names: class id -> name for labels (:data:`COCO_NAMES`).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: an unknown ``fmt``, a format ``"auto"`` cannot tell, or a malformed
            row (:class:`detectors.files.DetectionFileError`, naming file and line).
    """

    def __init__(self, path: str | Path, fmt: str = "auto", mot_class_id: int = 0) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"detection format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        self.path = Path(path)
        self.fmt = detect_format(self.path) if fmt == "auto" else fmt
        if self.fmt == "mot":
            self.detections = FileDetections.from_mot(self.path, class_id=mot_class_id)
            self.first_frame = MOT_FIRST_FRAME
        elif self.fmt == "scalabel":
            self.detections = FileDetections.from_scalabel(self.path)
            self.first_frame = SCALABEL_FIRST_FRAME
        else:
            self.detections = FileDetections.from_kitti_csv(self.path)
            self.first_frame = KITTI_FIRST_FRAME
        self.frames_used = 0
        self.names = dict(COCO_NAMES)

    @property
    def last_frame(self) -> int | None:
        """The file's last frame number holding a detection, or None for a file without detections."""
        frames = self.detections.frames
        return frames[-1] if frames else None

    @property
    def frames_left(self) -> int:
        """Frames of the file after the last one answered that still hold detections (0 when all were used)."""
        last = self.last_frame
        return 0 if last is None else max(0, last - (self.first_frame + self.frames_used) + 1)

    def __call__(self, frame: np.ndarray) -> Detections:
        """The detections of the next frame of the file (boxes ``xyxy`` in the file's pixels).

        Raises:
            FrameError: ``frame`` is not a non-empty ``(H, W, 3)`` uint8 array.
        """
        check_frame(frame)
        detections = self.detections[self.first_frame + self.frames_used]
        self.frames_used += 1
        return detections

    def skip(self) -> None:
        """Pass over the next frame without answering it (a frame the detector does not run on)."""
        self.frames_used += 1

    def batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """The detections of the next ``len(frames)`` frames, in order."""
        return [self(frame) for frame in frames]

    def describe(self) -> dict[str, Any]:
        """What runs, for summaries: the file and its format (JSON-ready)."""
        return {"detector": "file", "detections": str(self.path), "format": self.fmt}

    def __repr__(self) -> str:
        return f"ReplayDetector({str(self.path)!r}, fmt={self.fmt!r}, frames_used={self.frames_used})"
