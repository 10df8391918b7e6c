"""Readers of the field's file formats: MOTChallenge ``det.txt`` / ``gt.txt`` / ``seqinfo.ini``, KITTI labels and CSVs.

One reader per format, used by the app, the benchmarks, the detection replay
(:class:`detectors.files.FileDetections`) and the motion-model training. Pure parsing:
each reader turns one file into NumPy arrays held by a small frozen dataclass, in file
order, and checks every row, raising :class:`FormatError` (a ``ValueError``) whose one-line
message names the file and the line. What the values mean for tracking (which rows to
keep, scores as probabilities, class ids) is left to the caller.

Modules:

- :mod:`tracker.formats.mot`: :func:`read_mot_detections`, :func:`read_mot_ground_truth`,
  :func:`read_seqinfo`;
- :mod:`tracker.formats.kitti`: :func:`read_kitti_labels`, :func:`read_kitti_csv`;
- :mod:`tracker.formats.scalabel`: :func:`read_scalabel` (Scalabel JSON box labels: BDD100K MOT
  ground truth and predictions) and the BDD100K categories with their COCO class ids;
- :mod:`tracker.formats.rows`: :class:`FormatError`, :data:`MAX_PIXELS` (the largest box field accepted) and
  :func:`group_rows` (the rows of each frame or track ID).

Large ``det.txt`` files are parsed by Polars' or NumPy's C parser, with the row-by-row reader
as the fallback that names the bad line (:func:`tracker.formats.rows.fast_table`).

Not part of the core: ``import tracker`` does not import this package (it needs NumPy only;
``polars``, when installed, speeds up files of 8 MiB or more).
"""

from tracker.formats.kitti import (
    KITTI_FIRST_FRAME,
    POINTRCNN,
    RRC,
    WITH_CLASS,
    KittiDetections,
    KittiLabels,
    read_kitti_csv,
    read_kitti_labels,
)
from tracker.formats.mot import (
    MOT_FIRST_FRAME,
    MotDetections,
    MotGroundTruth,
    SeqInfo,
    read_mot_detections,
    read_mot_ground_truth,
    read_seqinfo,
)
from tracker.formats.rows import MAX_PIXELS, FormatError, group_rows
from tracker.formats.scalabel import (
    BDD100K_CLASSES,
    BDD100K_IGNORED,
    BDD100K_OTHER,
    BDD100K_TO_COCO,
    COCO_TO_BDD100K,
    SCALABEL_FIRST_FRAME,
    ScalabelFrames,
    read_scalabel,
)

__all__ = [
    "BDD100K_CLASSES",
    "BDD100K_IGNORED",
    "BDD100K_OTHER",
    "BDD100K_TO_COCO",
    "COCO_TO_BDD100K",
    "SCALABEL_FIRST_FRAME",
    "ScalabelFrames",
    "read_scalabel",
    "KITTI_FIRST_FRAME",
    "MAX_PIXELS",
    "MOT_FIRST_FRAME",
    "POINTRCNN",
    "RRC",
    "WITH_CLASS",
    "FormatError",
    "KittiDetections",
    "KittiLabels",
    "MotDetections",
    "MotGroundTruth",
    "SeqInfo",
    "group_rows",
    "read_kitti_csv",
    "read_kitti_labels",
    "read_mot_detections",
    "read_mot_ground_truth",
    "read_seqinfo",
]
