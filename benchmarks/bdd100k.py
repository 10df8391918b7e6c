"""BDD100K MOT (box tracking) in ``vtrack bench``: sequences, eval files and results in Scalabel JSON.

BDD100K MOT (Yu et al., "BDD100K: A Diverse Driving Dataset for Heterogeneous Multitask
Learning", CVPR 2020): dashcam videos whose frames are labelled at 5 Hz (every sixth
frame of the 30 Hz video) with boxes of eight classes (:data:`tracker.formats.BDD100K_CLASSES`)
and track IDs, in Scalabel JSON (:mod:`tracker.formats.scalabel`). A download keeps one
file per video, ``bdd100k/labels/box_track_20/{train,val}/<video>.json``, and the frames as
``bdd100k/images/track/{train,val}/<video>/<frame name>``.

**Sequences** (:func:`load_sequences`). A sequence is a video; its frames are the
ground truth's ``frameIndex`` values, which must run without gaps (``first..last``). The
ground-truth template ``gt`` either holds ``{seq}`` (one file per video; without
``sequences`` every file matching the template is a sequence) or names one file holding
all videos (told apart by ``videoName``; without ``sequences`` every video in it). The
frame rate and the image size come from the benchmark YAML (the files do not carry
them); timestamps are ``frameIndex / frame_rate`` seconds. Ground-truth boxes reaching
more than a pixel beyond ``image_size`` are reported as a warning (a wrong image size or
scaled labels). Detections come from a Scalabel prediction file (per video, or one for
all videos; :meth:`detectors.files.FileDetections.from_scalabel`, categories mapped to
COCO class ids) or from a detector run over the video's images, which are found by the
frames' ``name`` (:class:`benchmarks.runner.DetectorCache`).

**Results** (:func:`result_line`, :func:`results_text`): each backend's tracks are written
as Scalabel JSON, one frame object per line, every frame of the video present,
``{"name", "videoName", "frameIndex", "labels": [{"id", "category", "score", "box2d"}]}``
(the layout BDD100K's own evaluation reads). A track's COCO class becomes its category
through :data:`tracker.formats.COCO_TO_BDD100K` (person -> ``pedestrian``); tracks of
other COCO classes are not written (BDD100K has no category for them).

**Scoring** is TrackEval's ``BDD100K`` dataset class (:mod:`benchmarks.evaluate`), which
reads the layout of the BDD100K 2020 release: a folder of ``<video>.json`` lists of frames
with ``index`` (0-based, consecutive), labels with integer ``id`` and ``attributes.Crowd``.
:func:`write_eval_gt` and :func:`write_eval_tracker` write that layout (track IDs numbered
1, 2, ... in order of appearance). TrackEval evaluates each class separately: a tracker
box counts only against ground truth of its own category (a car tracked as a truck is a
false negative of car and a false positive of truck), ground truth marked ``crowd`` and
of the categories ``other person``, ``other vehicle`` and ``trailer`` is not scored, and
tracker boxes that match no ground truth and lie more than half inside such a box are
dropped. :func:`eval_classes` gives the classes of a benchmark's ``eval_class``;
several classes are pooled by TrackEval's own detection-averaged combination
(``combine_classes_det_averaged``: counts summed over the classes, association
accuracy weighted by true positives), which is also what TrackEval reports as its
``VEHICLE`` super-category for car, truck and bus. This is not BDD100K's class-averaged
``mHOTA``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from benchmarks.config import BenchmarkConfig
from benchmarks.sequence import DatasetError, Sequence, detections_file
from detectors.files import FileDetections
from tracker.app.writers import BOX_DECIMALS, SCORE_DECIMALS
from tracker.formats import (
    BDD100K_CLASSES,
    BDD100K_IGNORED,
    COCO_TO_BDD100K,
    SCALABEL_FIRST_FRAME,
    FormatError,
    ScalabelFrames,
    group_rows,
    read_scalabel,
)
from tracker.types import Tracks

__all__ = [
    "VEHICLE_CLASSES",
    "eval_classes",
    "load_detections",
    "load_sequences",
    "result_line",
    "results_text",
    "write_eval_gt",
    "write_eval_tracker",
]

logger = logging.getLogger(__name__)

#: The classes of ``eval_class: vehicle``.
VEHICLE_CLASSES = ("car", "truck", "bus")
#: Pixels a ground-truth box may reach beyond ``image_size`` before it is reported.
_IMAGE_MARGIN = 1.0
_SEQ = "{seq}"


def eval_classes(eval_class: str) -> tuple[str, ...]:
    """The BDD100K classes scored for a benchmark's ``eval_class``.

    ``vehicle``: car, truck, bus; ``all``: the eight classes; a class name: that class.

    Raises:
        ValueError: ``eval_class`` is none of these.
    """
    if eval_class == "vehicle":
        return VEHICLE_CLASSES
    if eval_class == "all":
        return BDD100K_CLASSES
    if eval_class in BDD100K_CLASSES:
        return (eval_class,)
    raise ValueError(f"eval_class must be 'vehicle', 'all' or one of {BDD100K_CLASSES}, got {eval_class!r}")


@functools.lru_cache(maxsize=2)
def _read_cached(path: str, stamp: tuple[int, int]) -> ScalabelFrames:
    return read_scalabel(path)


def _read(path: Path) -> ScalabelFrames:
    """``read_scalabel(path)``, kept for the next call while the file is unchanged (one file of many videos)."""
    stat = path.stat()
    return _read_cached(str(path), (stat.st_mtime_ns, stat.st_size))


def _names(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(repr(name) for name in names) or "none"


# Sequences --------------------------------------------------------------------------------------


def _gt_files(bench: BenchmarkConfig) -> dict[str, Path]:
    """Sequence name -> its ground-truth file, in the benchmark's order (or sorted when discovered)."""
    if _SEQ in bench.gt:
        if bench.sequences:
            return {name: bench.path(bench.gt, name) for name in bench.sequences}
        head, *rest = bench.gt.split(_SEQ)  # every {seq} of the template names the same video
        pattern = re.compile(re.escape(head) + "(?P<seq>[^/]+)" + "(?P=seq)".join(re.escape(part) for part in rest))
        found = {}
        for path in sorted(bench.root_path.glob(bench.gt.replace(_SEQ, "*"))):
            match = pattern.fullmatch(path.relative_to(bench.root_path).as_posix())
            if match and path.is_file():
                found[match["seq"]] = path
        if not found:
            raise DatasetError(f"{bench.root_path / bench.gt}: no ground-truth file matches")
        return found
    path = bench.root_path / bench.gt
    if bench.sequences:
        return dict.fromkeys(bench.sequences, path)
    videos = _checked_read(path, "ground truth").video_names
    if "" in videos:
        raise DatasetError(f"{path}: a ground-truth file of several videos needs 'videoName' on every frame")
    return dict.fromkeys(sorted(videos), path)


def _checked_read(path: Path, what: str) -> ScalabelFrames:
    if not path.is_file():
        raise DatasetError(f"{path}: {what} not found")
    try:
        return _read(path)
    except FormatError as error:
        raise DatasetError(str(error)) from None


def _select(frames: ScalabelFrames, name: str, what: str) -> ScalabelFrames:
    """The frames of video ``name``; all of them when no frame names its video."""
    videos = frames.video_names
    if videos == ("",):
        return frames.video("")
    if name not in videos:
        raise DatasetError(f"{frames.path}: {what} holds no frames of video {name!r} (its videos: {_names(videos)})")
    return frames.video(name)


def _video_gt(bench: BenchmarkConfig, name: str, path: Path) -> ScalabelFrames:
    """The checked ground truth of video ``name``: frames without gaps, known categories, unique IDs."""
    frames = _select(_checked_read(path, f"ground truth of sequence {name}"), name, "the ground truth")
    indices = np.sort(frames.frame_indices)
    if not len(indices):
        raise DatasetError(f"{path}: video {name!r} has no frames")
    expected = np.arange(indices[0], indices[0] + len(indices))
    if not np.array_equal(indices, expected):
        missing = int(expected[np.argmax(indices != expected)])
        raise DatasetError(
            f"{path}: video {name!r} has no frame with frameIndex {missing} "
            f"(its frames {indices[0]}..{indices[-1]} must all be labelled)"
        )
    known = set(BDD100K_CLASSES + BDD100K_IGNORED)
    scored = np.isin(frames.categories, BDD100K_CLASSES) & ~frames.crowd
    for label, category in enumerate(frames.categories.tolist()):
        if category not in known:
            raise DatasetError(str(frames.label_error(label, f"category {category!r} is not a BDD100K MOT category")))
        if scored[label] and not frames.ids[label]:
            raise DatasetError(str(frames.label_error(label, "ground truth needs a track 'id'")))
    for rows in group_rows(frames.label_frames[scored]).values():
        labels = np.flatnonzero(scored)[rows]
        ids = frames.ids[labels]
        unique, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            again = int(labels[np.flatnonzero(ids == unique[counts > 1][0])[1]])
            reason = f"track id {str(frames.ids[again])!r} twice in the frame"
            raise DatasetError(str(frames.label_error(again, reason)))
    return frames


def _check_image_size(bench: BenchmarkConfig, name: str, frames: ScalabelFrames) -> None:
    width, height = bench.image_size
    xyxy = frames.xyxy
    outside = (xyxy[:, :2] < -_IMAGE_MARGIN).any(axis=1)
    outside |= (xyxy[:, 2] > width + _IMAGE_MARGIN) | (xyxy[:, 3] > height + _IMAGE_MARGIN)
    if outside.any():
        first = int(np.argmax(outside))
        logger.warning(
            "%s: %d of %d ground-truth boxes of video %s reach beyond the %dx%d image of image_size (first: %s)",
            frames.path,
            int(outside.sum()),
            len(outside),
            name,
            width,
            height,
            frames.label_error(first, str(xyxy[first].tolist())),
        )


def load_sequences(bench: BenchmarkConfig, names: tuple[str, ...] | list[str] | None = None) -> list[Sequence]:
    """The benchmark's videos as :class:`benchmarks.datasets.Sequence` (see the module doc).

    Args:
        bench: a ``bdd100k`` benchmark.
        names: only these videos (in this order); None: ``bench.sequences``, or every
            video found (files matching ``gt``, or the videos of a single ``gt`` file).

    Raises:
        DatasetError: a ground-truth, prediction file or image is missing or malformed,
            a video's frames have a gap, a category is not a BDD100K one, a scored label
            has no track ID or one twice in a frame, or a requested video is not in the
            benchmark (each message names the file, and the frame and label).
    """
    files = _gt_files(bench)
    chosen = list(names) if names else list(files)
    unknown = [name for name in chosen if name not in files]
    if unknown:
        available = _names(list(files))
        raise DatasetError(f"{bench.source}: unknown sequence(s) {', '.join(unknown)}; available: {available}")
    return [_sequence(bench, name, files[name]) for name in chosen]


def _sequence(bench: BenchmarkConfig, name: str, gt_path: Path) -> Sequence:
    frames = _video_gt(bench, name, gt_path)
    _check_image_size(bench, name, frames)
    order = np.argsort(frames.frame_indices)
    image_names = tuple(frames.names[order].tolist())
    image_dir = None
    if bench.detector is not None:
        image_dir = bench.path(bench.images, name)
        for row in order.tolist():
            image = frames.names[row]
            if not image or not (image_dir / image).is_file():
                raise DatasetError(str(frames.frame_error(row, f"image {str(image)!r} not found in {image_dir}")))
    detections_path = detections_file(bench, name)
    return Sequence(
        name=name,
        first_frame=int(frames.frame_indices[order[0]]),
        last_frame=int(frames.frame_indices[order[-1]]),
        base_frame=SCALABEL_FIRST_FRAME,
        frame_rate=float(bench.frame_rate),
        gt_path=gt_path,
        detections_path=detections_path,
        image_dir=image_dir,
        image_names=image_names,
    )


def load_detections(bench: BenchmarkConfig, seq: Sequence) -> FileDetections:
    """The video's detections from its Scalabel prediction file (one file of all videos is read once).

    Raises:
        FileNotFoundError: the file does not exist.
        detectors.files.DetectionFileError: a malformed file, an unknown category, or a
            file of all videos without this one.
    """
    frames = _read(seq.detections_path)
    video = None if frames.video_names == ("",) else seq.name
    return FileDetections.from_scalabel(frames, video=video)


# Files TrackEval reads --------------------------------------------------------------------------


def _box(xyxy: Iterable[float]) -> dict[str, float]:
    return {key: round(float(value), BOX_DECIMALS) for key, value in zip(("x1", "y1", "x2", "y2"), xyxy, strict=True)}


def _write_json_lines(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results_text([json.dumps(record) for record in records]), encoding="utf-8")


def write_eval_gt(bench: BenchmarkConfig, sequences: list[Sequence], folder: Path) -> Path:
    """Write the ground truth of ``sequences`` for TrackEval's ``BDD100K`` (``GT_FOLDER=folder``).

    One file ``folder/<video>.json`` per sequence and nothing else (TrackEval takes every
    file of the folder for a video): a list of the frames ``first..last`` with ``index``
    0-based, labels with integer ``id`` (1, 2, ... in order of appearance), ``category``,
    ``box2d`` and ``attributes: {"Crowd": ...}``.

    Returns:
        ``folder``.

    Raises:
        DatasetError: as :func:`load_sequences` for the ground-truth files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for seq in sequences:
        frames = _video_gt(bench, seq.name, seq.gt_path)
        ids: dict[str, int] = {}
        labels_of = group_rows(frames.label_frames)
        records = []
        for row in np.argsort(frames.frame_indices).tolist():
            labels = []
            for label in labels_of.get(row, np.zeros(0, dtype=np.int64)).tolist():
                labels.append(
                    {
                        "id": ids.setdefault(str(frames.ids[label]), len(ids) + 1),
                        "category": str(frames.categories[label]),
                        "attributes": {"Crowd": bool(frames.crowd[label])},
                        "box2d": _box(frames.xyxy[label]),
                    }
                )
            index = int(frames.frame_indices[row]) - seq.first_frame
            records.append({"name": str(frames.names[row]), "videoName": seq.name, "index": index, "labels": labels})
        _write_json_lines(folder / f"{seq.name}.json", records)
    return folder


def write_eval_tracker(sequence: Sequence, results: Path, dst: Path) -> None:
    """Convert a tracker's Scalabel results for ``sequence`` to TrackEval's ``BDD100K`` layout at ``dst``.

    Every frame ``first..last`` gets an entry (``index`` 0-based, empty labels where the
    results have none); track IDs become integers 1, 2, ... in order of appearance.

    Raises:
        DatasetError: the results file is malformed, holds another video, or a label's
            category is not one of the eight BDD100K classes (TrackEval knows no other).
    """
    try:
        frames = _select(read_scalabel(results), sequence.name, "the results")
    except FormatError as error:
        raise DatasetError(str(error)) from None
    for label, category in enumerate(frames.categories.tolist()):
        if category not in BDD100K_CLASSES:
            raise DatasetError(str(frames.label_error(label, f"category {category!r} is not a BDD100K MOT class")))
    ids: dict[str, int] = {}
    labels_of = group_rows(frames.label_frames)
    row_of = {int(index): row for row, index in enumerate(frames.frame_indices.tolist())}
    records = []
    for frame in sequence.frames:
        row = row_of.get(frame)
        labels = []
        if row is not None:
            for label in labels_of.get(row, np.zeros(0, dtype=np.int64)).tolist():
                labels.append(
                    {
                        "id": ids.setdefault(str(frames.ids[label]), len(ids) + 1),
                        "category": str(frames.categories[label]),
                        "box2d": _box(frames.xyxy[label]),
                    }
                )
        records.append({"videoName": sequence.name, "index": frame - sequence.first_frame, "labels": labels})
    _write_json_lines(dst, records)


# Results ----------------------------------------------------------------------------------------


def result_line(seq: Sequence, frame: int, tracks: Tracks) -> str:
    """One frame of a backend's results: a Scalabel frame object on one line (see the module doc)."""
    labels = [
        {
            "id": str(track_id),
            "category": COCO_TO_BDD100K[class_id],
            "score": round(float(score), SCORE_DECIMALS),
            "box2d": _box(box),
        }
        for track_id, box, score, class_id in zip(
            tracks.ids.tolist(), tracks.xyxy.tolist(), tracks.scores.tolist(), tracks.class_ids.tolist(), strict=True
        )
        if class_id in COCO_TO_BDD100K
    ]
    name = seq.image_names[frame - seq.first_frame] if seq.image_names else ""
    return json.dumps({"name": name, "videoName": seq.name, "frameIndex": frame, "labels": labels})


def results_text(lines: list[str]) -> str:
    """The JSON list of the frame objects ``lines`` (one per line), as written to a results file."""
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
