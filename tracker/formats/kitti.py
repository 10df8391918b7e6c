"""KITTI tracking files: labels (``label_02``) and the detection CSVs distributed for it.

Frames count from 0 (:data:`KITTI_FIRST_FRAME`); boxes are ``xyxy`` pixels of the left
colour camera (``image_02``).

- **Labels** (:func:`read_kitti_labels`): ``frame track_id type truncated occluded alpha
  x1 y1 x2 y2 h w l X Y Z rot_y [score]``, space-separated: the ground truth of
  ``label_02/NNNN.txt`` (17 columns; ``DontCare`` rows have track ID -1) or a tracker's
  KITTI output (18 columns, with a score). Geiger et al., "Are we ready for Autonomous
  Driving? The KITTI Vision Benchmark Suite", CVPR 2012, and the KITTI tracking devkit.
- **Detection CSV** (:func:`read_kitti_csv`), comma-separated, in one of three layouts told
  apart by the column count of the first row (every row must have the same count):

  - 6 columns ``frame,x1,y1,x2,y2,score`` (:data:`RRC`): the RRC detections of KITTI
    tracking (Ren et al., "Accurate Single Stage Detector Using Recurrent Rolling
    Convolution", CVPR 2017) as distributed with AB3DMOT / DeepFusionMOT;
  - 7 columns ``frame,x1,y1,x2,y2,score,class_id`` (:data:`WITH_CLASS`): the same plus a
    class, as :meth:`detectors.files.FileDetections.to_csv` writes;
  - 15 columns ``frame,type,x1,y1,x2,y2,score,h,w,l,x,y,z,rot_y,alpha`` (:data:`POINTRCNN`):
    PointRCNN (Shi et al., CVPR 2019) LiDAR detections projected to the image, as
    distributed with AB3DMOT; their ``score`` is a raw logit (any real number).

Errors: a malformed row raises :class:`~tracker.formats.rows.FormatError` naming the file
and the 1-based line (a wrong column count, a numeric field that is not a finite number, a
frame, track ID, ``occluded`` or class that is not a whole number or does not fit 64 bits,
a frame below 0, an inverted box ``x2 < x1`` or ``y2 < y1``, a box coordinate beyond
``±MAX_PIXELS``, a byte that is not UTF-8); a leading UTF-8 byte-order mark is skipped; a
file that exists but holds no rows is valid and empty; a missing file raises
:class:`FileNotFoundError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracker.formats.rows import FormatError, check_xyxy, frame_number, numbers, read_rows, whole

__all__ = [
    "KITTI_FIRST_FRAME",
    "POINTRCNN",
    "RRC",
    "WITH_CLASS",
    "KittiDetections",
    "KittiLabels",
    "read_kitti_csv",
    "read_kitti_labels",
]

#: First frame number of KITTI tracking files.
KITTI_FIRST_FRAME = 0

#: Names of the detection CSV layouts (:attr:`KittiDetections.layout`).
RRC = "rrc"
WITH_CLASS = "with_class"
POINTRCNN = "pointrcnn"

_CSV_NAMES = {
    RRC: ("frame", "x1", "y1", "x2", "y2", "score"),
    WITH_CLASS: ("frame", "x1", "y1", "x2", "y2", "score", "class_id"),
    POINTRCNN: ("frame", "type", "x1", "y1", "x2", "y2", "score", "h", "w", "l", "x", "y", "z", "rot_y", "alpha"),
}
_CSV_LAYOUTS = {len(names): layout for layout, names in _CSV_NAMES.items()}

_LABEL_NAMES = (
    "frame",
    "track_id",
    "type",
    "truncated",
    "occluded",
    "alpha",
    "x1",
    "y1",
    "x2",
    "y2",
    "h",
    "w",
    "l",
    "X",
    "Y",
    "Z",
    "rot_y",
    "score",
)
_LABEL_COLUMNS = 17
_LABEL_COLUMNS_SCORED = 18


@dataclass(frozen=True)
class KittiLabels:
    """The rows of a KITTI tracking label file, in file order.

    Attributes:
        frames: ``(N,)`` int64 frame numbers (from 0).
        track_ids: ``(N,)`` int64 track IDs (-1 for ``DontCare``).
        types: ``(N,)`` str object types as written (``Car``, ``Van``, ``Pedestrian``, ``DontCare``...).
        truncated: ``(N,)`` float64 truncation (0, 1 or 2 in tracking labels; -1 for ``DontCare``).
        occluded: ``(N,)`` int64 occlusion state (0 visible .. 3 unknown; -1 for ``DontCare``).
        alpha: ``(N,)`` float64 observation angle in radians.
        xyxy: ``(N, 4)`` float64 boxes in pixels.
        dimensions: ``(N, 3)`` float64 3D size ``(h, w, l)`` in metres.
        location: ``(N, 3)`` float64 3D position ``(X, Y, Z)`` in camera coordinates, metres.
        rotation_y: ``(N,)`` float64 yaw around the camera's Y axis in radians.
        scores: ``(N,)`` float64 the score column, 1.0 on rows without one (ground truth).
    """

    frames: np.ndarray
    track_ids: np.ndarray
    types: np.ndarray
    truncated: np.ndarray
    occluded: np.ndarray
    alpha: np.ndarray
    xyxy: np.ndarray
    dimensions: np.ndarray
    location: np.ndarray
    rotation_y: np.ndarray
    scores: np.ndarray


def read_kitti_labels(path: str | Path) -> KittiLabels:
    """Read a KITTI tracking label file (17 columns, or 18 with a score; see the module doc).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: a malformed row, naming file and line.
    """
    path = Path(path)
    numeric = _LABEL_NAMES[:2] + _LABEL_NAMES[3:]
    frames, track_ids, types, occluded, values = [], [], [], [], []
    for line, fields in read_rows(path, None):
        if len(fields) not in (_LABEL_COLUMNS, _LABEL_COLUMNS_SCORED):
            raise FormatError(
                path, line, f"expected {_LABEL_COLUMNS} or {_LABEL_COLUMNS_SCORED} columns, got {len(fields)}"
            )
        row = numbers(path, line, fields[:2] + fields[3:], numeric[: len(fields) - 1])
        frames.append(frame_number(path, line, row[0], KITTI_FIRST_FRAME))
        track_ids.append(whole(path, line, "track_id", row[1]))
        occluded.append(whole(path, line, "occluded", row[3]))
        check_xyxy(path, line, *row[5:9])
        types.append(fields[2])
        values.append(row[2:] if len(fields) == _LABEL_COLUMNS_SCORED else [*row[2:], 1.0])
    # truncated, occluded, alpha, x1, y1, x2, y2, h, w, l, X, Y, Z, rot_y, score
    table = np.array(values, dtype=np.float64).reshape(-1, 15)
    return KittiLabels(
        frames=np.array(frames, dtype=np.int64),
        track_ids=np.array(track_ids, dtype=np.int64),
        types=np.array(types, dtype=str),
        truncated=table[:, 0].copy(),
        occluded=np.array(occluded, dtype=np.int64),
        alpha=table[:, 2].copy(),
        xyxy=table[:, 3:7].copy(),
        dimensions=table[:, 7:10].copy(),
        location=table[:, 10:13].copy(),
        rotation_y=table[:, 13].copy(),
        scores=table[:, 14].copy(),
    )


@dataclass(frozen=True)
class KittiDetections:
    """The rows of a KITTI detection CSV, in file order.

    Attributes:
        layout: :data:`RRC`, :data:`WITH_CLASS` or :data:`POINTRCNN` (see the module doc).
        frames: ``(N,)`` int64 frame numbers (from 0).
        xyxy: ``(N, 4)`` float64 boxes in pixels.
        scores: ``(N,)`` float64 scores as written: a confidence, or a raw logit for :data:`POINTRCNN`.
        class_ids: ``(N,)`` int64 classes of the :data:`WITH_CLASS` layout; None for the others.
    """

    layout: str
    frames: np.ndarray
    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray | None


def read_kitti_csv(path: str | Path) -> KittiDetections:
    """Read a KITTI detection CSV in any of its three layouts (see the module doc).

    An empty file reads as the :data:`RRC` layout with no rows.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FormatError: a malformed row, naming file and line: the first row's column count is
            not 6, 7 or 15, a later row's differs from the first's, or a field is malformed.
    """
    path = Path(path)
    layout: str | None = None
    frames, boxes, scores, classes = [], [], [], []
    for line, fields in read_rows(path, ","):
        if layout is None:
            if len(fields) not in _CSV_LAYOUTS:
                raise FormatError(
                    path,
                    line,
                    f"expected 6 (frame,x1,y1,x2,y2,score), 7 (... ,class_id) or 15 (PointRCNN) columns, "
                    f"got {len(fields)}",
                )
            layout = _CSV_LAYOUTS[len(fields)]
            names = _CSV_NAMES[layout]
        elif len(fields) != len(names):
            raise FormatError(path, line, f"expected {len(names)} columns like the first row, got {len(fields)}")
        row = numbers(path, line, fields, names)
        if layout == POINTRCNN:
            frame, _, x1, y1, x2, y2, score = row[:7]
        else:
            frame, x1, y1, x2, y2, score = row[:6]
            if layout == WITH_CLASS:
                classes.append(whole(path, line, "class_id", row[6]))
        frames.append(frame_number(path, line, frame, KITTI_FIRST_FRAME))
        check_xyxy(path, line, x1, y1, x2, y2)
        boxes.append((x1, y1, x2, y2))
        scores.append(score)
    return KittiDetections(
        layout=layout or RRC,
        frames=np.array(frames, dtype=np.int64),
        xyxy=np.array(boxes, dtype=np.float64).reshape(-1, 4),
        scores=np.array(scores, dtype=np.float64),
        class_ids=np.array(classes, dtype=np.int64) if layout == WITH_CLASS else None,
    )
