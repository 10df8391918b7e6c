"""Replay precomputed detections from text files, frame by frame: :class:`FileDetections`.

Public benchmark detections come as text files, one row per detection, read by the
readers of :mod:`tracker.formats` (which check every row and name ``file:line`` in
errors). Four formats:

- **MOTChallenge** ``det.txt`` (:meth:`FileDetections.from_mot`,
  :func:`tracker.formats.read_mot_detections`): ``frame,id,left,top,width,height,score[,...]``,
  1-based frames, ``tlwh`` pixel boxes. Every detection gets one class (the file has none).
- **KITTI-style CSV** (:meth:`FileDetections.from_kitti_csv`, :func:`tracker.formats.read_kitti_csv`),
  0-based frames, ``xyxy`` pixels: RRC ``frame,x1,y1,x2,y2,score``; the same with a
  trailing ``class_id`` (the format :meth:`FileDetections.to_csv` writes, the detector
  cache of ``vtrack bench``); PointRCNN ``frame,type,x1,y1,x2,y2,score,...`` (15 columns)
  whose ``score`` is a **raw logit** (any real number, often negative). The loader maps
  a logit through the logistic sigmoid ``1 / (1 + exp(-score))`` so that every file yields
  scores in ``(0, 1)`` and one ``min_score`` or ByteTrack-style threshold means the same
  thing for all detection sources. The sigmoid is monotonic, so rankings are unchanged;
  the raw logit ``s`` is recovered as ``log(p / (1 - p))``.
- **KITTI tracking labels** (:meth:`FileDetections.from_kitti_label`,
  :func:`tracker.formats.read_kitti_labels`): the ground truth of ``label_02`` or a
  tracker's KITTI output; rows whose ``type`` is not selected are skipped; a missing
  score column counts as score 1.
- **Scalabel JSON** (:meth:`FileDetections.from_scalabel`, :func:`tracker.formats.read_scalabel`):
  BDD100K MOT predictions (or ground truth), 0-based ``frameIndex``, ``xyxy`` pixels;
  categories become COCO class ids (:data:`tracker.formats.BDD100K_TO_COCO`), a missing
  ``score`` counts as 1, track IDs are ignored, ``crowd`` boxes are skipped. A file may hold
  several videos; one is chosen by ``videoName``.

**Errors.** Every malformed row raises :class:`DetectionFileError` (which is
:class:`tracker.formats.FormatError`, a ``ValueError``) naming the file and the 1-based
line number: a wrong column count, a field that is not a number, NaN or infinite values,
a negative width or height (``tlwh``) or an inverted box (``x2 < x1`` or ``y2 < y1``), a
non-integer frame number, or a frame number below the format's first frame.

**No detections vs. a mistake.** A file that exists but holds no rows (zero
bytes or only blank lines) is a valid sequence in which the detector found
nothing: every frame then replays an empty :class:`tracker.Detections`. A file
that does not exist is always an error (:class:`FileNotFoundError`), so a typo in
a path can never be mistaken for "no detections".
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from tracker.formats import (
    BDD100K_IGNORED,
    BDD100K_OTHER,
    BDD100K_TO_COCO,
    POINTRCNN,
    FormatError,
    ScalabelFrames,
    group_rows,
    read_kitti_csv,
    read_kitti_labels,
    read_mot_detections,
    read_scalabel,
)
from tracker.types import Detections

__all__ = ["DetectionFileError", "FileDetections"]

#: The error of a malformed detection file: :class:`tracker.formats.FormatError`, whose
#: message starts with ``path:line:`` (the name this module has always raised it under).
DetectionFileError = FormatError


def _sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    exp = math.exp(logit)
    return exp / (1.0 + exp)


class FileDetections:
    """Detections of one sequence read from a file, replayed per frame.

    Build with :meth:`from_mot`, :meth:`from_kitti_csv`, :meth:`from_kitti_label` or
    :meth:`from_scalabel` (or directly from per-frame :class:`tracker.Detections`). ``fd[frame]`` and
    ``fd(frame)`` return that frame's detections; a frame without rows, including
    any frame outside the file's range, gives ``Detections.empty()``. Frame
    numbers are the file's own (1-based for MOTChallenge, 0-based for KITTI and Scalabel).

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
        rows = read_mot_detections(path)
        classes = np.full(len(rows.frames), class_id, dtype=np.int64)
        return cls(_per_frame(rows.frames, rows.xyxy, rows.scores, classes), source=str(path))

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
        rows = read_kitti_csv(path)
        scores = rows.scores
        if rows.layout == POINTRCNN:
            scores = np.array([_sigmoid(logit) for logit in scores.tolist()], dtype=np.float64)
        classes = rows.class_ids
        if classes is None:
            classes = np.full(len(rows.frames), class_id, dtype=np.int64)
        return cls(_per_frame(rows.frames, rows.xyxy, scores, classes), source=str(path))

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
            DetectionFileError: a malformed row, naming file and line (every row is
                checked, also those of types not kept).
        """
        rows = read_kitti_labels(path)
        wanted = {name.lower() for name in types}
        keep = np.array([kind.lower() in wanted for kind in rows.types.tolist()], dtype=bool)
        classes = np.full(int(keep.sum()), class_id, dtype=np.int64)
        return cls(_per_frame(rows.frames[keep], rows.xyxy[keep], rows.scores[keep], classes), source=str(path))

    @classmethod
    def from_scalabel(
        cls,
        source: str | Path | ScalabelFrames,
        video: str | None = None,
        categories: dict[str, int] | None = None,
    ) -> FileDetections:
        """Read Scalabel JSON box labels (BDD100K MOT predictions or ground truth) as detections.

        Frames are keyed by ``frameIndex`` (0-based). A label's ``category`` becomes its
        class id through ``categories``; the BDD100K categories without a COCO class
        (:data:`tracker.formats.BDD100K_IGNORED` and :data:`tracker.formats.BDD100K_OTHER`:
        ``other person``, ``other vehicle``, ``trailer``, ``traffic light``, ``traffic sign``)
        are skipped unless ``categories`` maps them; any other category is an error, so that
        a misspelt one is never dropped silently. Labels marked ``crowd`` (regions, not
        objects) are skipped. A missing ``score`` counts as 1; ``id`` is ignored.

        Args:
            source: the file, or a :class:`tracker.formats.ScalabelFrames` already read
                from it (to read a file of many videos once).
            video: the ``videoName`` whose frames to take; None: the file must hold a
                single video (or frames without ``videoName``).
            categories: category -> class id; None: :data:`tracker.formats.BDD100K_TO_COCO`
                (COCO ids: car 2, truck 7, bus 5, train 6, motorcycle 3, bicycle 1,
                pedestrian and rider 0).

        Raises:
            FileNotFoundError: the file does not exist.
            DetectionFileError: a malformed frame or label (see :func:`tracker.formats.read_scalabel`),
                a category neither mapped nor a known BDD100K one, a file of several videos
                without ``video``, or a ``video`` the file does not hold (the message lists its videos).
        """
        frames = source if isinstance(source, ScalabelFrames) else read_scalabel(source)
        mapping = BDD100K_TO_COCO if categories is None else categories
        videos = frames.video_names
        if video is None:
            if len(videos) > 1:
                raise FormatError(frames.path, None, f"holds {len(videos)} videos ({_names(videos)}); choose one")
            video = videos[0] if videos else ""
        elif frames.num_frames and video not in videos:
            raise FormatError(frames.path, None, f"holds no frames of video {video!r} (its videos: {_names(videos)})")
        frames = frames.video(video)
        skipped = set(BDD100K_IGNORED + BDD100K_OTHER) - set(mapping)
        keep = ~frames.crowd
        for label, category in enumerate(frames.categories.tolist()):
            if category in skipped:
                keep[label] = False
            elif category not in mapping:
                raise frames.label_error(
                    label, f"unknown category {category!r} (known: {_names(tuple(mapping))}; others are skipped)"
                )
        classes = np.array([mapping[c] for c in frames.categories[keep].tolist()], dtype=np.int64)
        scores = np.nan_to_num(frames.scores[keep], nan=1.0)
        numbers = frames.frame_indices[frames.label_frames[keep]]
        return cls(_per_frame(numbers, frames.xyxy[keep], scores, classes), source=str(frames.path))

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


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(repr(name) for name in names)


def _per_frame(frames: np.ndarray, xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> dict[int, Detections]:
    """Frame number -> the :class:`tracker.Detections` of its rows, in file order."""
    return {frame: Detections(xyxy[rows], scores[rows], classes[rows]) for frame, rows in group_rows(frames).items()}
