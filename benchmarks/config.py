"""Benchmark definitions: :class:`BenchmarkConfig`, read from one YAML file per benchmark in ``configs/``.

A benchmark names a dataset on disk (its layout, its sequences and their frame
range), where the detections fed to the trackers come from (a detection file per
sequence, or a detector run over the sequence's frames) and which class TrackEval
scores. It holds no tracker settings: every backend runs with its own defaults, so a
table's ``vtrack`` row is the shipped default; other settings are variants
(``vtrack bench --trackers NAME@FILE.yaml``, e.g. ``configs/tuned/``). Relative paths in the YAML
file are resolved against the folder of the YAML file itself, so a benchmark
gives the same result whatever the working directory.

Path templates may use ``{seq}`` (the sequence name); they are relative to ``root``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tracker.app.config import load_yaml
from tracker.config import ConfigError, from_mapping, to_dict
from tracker.formats.scalabel import BDD100K_CLASSES

__all__ = ["FORMATS", "FRAME_RANGES", "BenchmarkConfig", "DetectorSpec", "config_hash", "load_benchmark"]

#: Dataset layouts: KITTI tracking (``label_02`` + seqmap), MOTChallenge (``SEQ/gt/gt.txt`` +
#: ``seqinfo.ini``) and BDD100K MOT (Scalabel JSON, :mod:`benchmarks.bdd100k`).
FORMATS = ("kitti", "mot", "bdd100k")
#: Detection file layouts, read by :class:`detectors.files.FileDetections` (``scalabel``: BDD100K predictions).
DETECTION_FORMATS = ("mot", "kitti_csv", "kitti_label", "scalabel")
#: Frame ranges: every frame; ByteTrack's validation half; the frames whose images exist.
FRAME_RANGES = ("full", "val_half", "images")
#: TrackEval classes per layout (``Kitti2DBox`` scores car or pedestrian; ``MotChallenge2DBox`` pedestrian;
#: ``BDD100K`` the vehicle classes car, truck and bus pooled, all eight pooled, or any one of them).
EVAL_CLASSES = {
    "kitti": ("car", "pedestrian"),
    "mot": ("pedestrian",),
    "bdd100k": ("vehicle", "all", *BDD100K_CLASSES),
}


@dataclass(frozen=True)
class DetectorSpec:
    """Detector-driven mode: run a detector over each sequence's frames instead of reading a file.

    Attributes:
        name: the detector; ``yolo`` is :class:`detectors.yolo.YOLODetector`.
        config: overrides of the detector's config dataclass (e.g. ``weights``, ``imgsz``).
    """

    name: str = "yolo"
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name != "yolo":
            raise ValueError(f"detector.name must be 'yolo', got {self.name!r}")


@dataclass(frozen=True)
class BenchmarkConfig:
    """One benchmark: dataset, detections and evaluated class.

    Attributes:
        name: short name used in tables and file names.
        format: ``kitti`` (KITTI tracking layout, 0-based frames), ``mot``
            (MOTChallenge layout, 1-based frames; MOT15/16/17/20 alike) or ``bdd100k``
            (BDD100K MOT: Scalabel JSON, 0-based ``frameIndex``; see :mod:`benchmarks.bdd100k`).
        root: dataset folder; relative paths are relative to the YAML file's folder.
        sequences: sequence names; empty: every sequence of ``seqmap`` (``bdd100k``: every
            file matching ``gt``, or every video of a single ``gt`` file).
        seqmap: sequence list relative to ``root``: KITTI ``evaluate_tracking.seqmap.*``
            (``seq empty first_frame last_frame_exclusive``) or a MOTChallenge seqmap
            (a ``name`` header line, then one sequence per line).
        gt: ground-truth file template (KITTI ``label_02/{seq}.txt``; MOT ``{seq}/gt/gt.txt``;
            BDD100K ``labels/box_track_20/val/{seq}.json``, or one file of all videos).
        seqinfo: MOT only: ``seqinfo.ini`` template (frame rate, length, image folder).
        detections: detection file template; empty in detector-driven mode (``bdd100k``:
            ``{seq}`` may be left out for one prediction file of all videos).
        detection_format: ``mot`` (``det.txt``), ``kitti_csv``, ``kitti_label`` or
            ``scalabel`` (BDD100K predictions; the one format of ``bdd100k``).
        images: frame folder template (detector-driven mode; MOT: derived from
            ``seqinfo.ini`` when empty; BDD100K: ``images/track/val/{seq}``, whose files
            are the ground-truth frames' ``name``).
        detector: detector-driven mode settings, or None to read ``detections``.
        frame_rate: frames per second; None: ``frameRate`` of ``seqinfo.ini`` (MOT). BDD100K:
            5 (its labelled frames are every sixth of the 30 Hz video).
        image_size: ``(width, height)`` of the frames in pixels, for the layouts whose files
            do not say (``bdd100k``: required, 1280 x 720); ground-truth boxes beyond it are
            reported. None: unknown.
        frame_range: ``full``; ``val_half`` (frames ``L//2 + 2 .. L`` 1-based, the
            MOT17 validation half of ByteTrack, Zhang et al. 2022, with ``L`` the
            sequence length); ``images`` (the contiguous frames whose images exist).
        class_id: class given to detections read from files that carry none.
        keep_class_ids: detector-driven mode: classes passed to the trackers (empty: all).
        eval_class: the class TrackEval scores (``car``/``pedestrian`` for KITTI,
            ``pedestrian`` for MOT; for BDD100K ``vehicle`` = car, truck and bus, ``all`` =
            the eight classes, or one class, see :func:`benchmarks.bdd100k.eval_classes`).
        trackeval_benchmark: ``BENCHMARK`` of ``MotChallenge2DBox`` (``MOT17``,
            ``MOT16``, ``MOT20``, ``MOT15``), which sets its distractor classes.
        ego_poses: camera pose file template (KITTI odometry layout: one row-major
            3x4 camera-to-world matrix per frame, 0-based frame = line number); with
            ``calib`` it gives each frame's camera motion (rotation only) to the
            backends that accept ``camera_motion``. Empty: none.
        calib: KITTI calibration file template (its ``P2`` row gives the intrinsics).
        source: the YAML file this came from.
    """

    name: str = ""
    format: str = "mot"
    root: str = ""
    sequences: tuple[str, ...] = ()
    seqmap: str = ""
    gt: str = ""
    seqinfo: str = "{seq}/seqinfo.ini"
    detections: str = ""
    detection_format: str = "mot"
    images: str = ""
    detector: DetectorSpec | None = None
    frame_rate: float | None = None
    image_size: tuple[int, int] | None = None
    frame_range: str = "full"
    class_id: int = 0
    keep_class_ids: tuple[int, ...] = ()
    eval_class: str = "pedestrian"
    trackeval_benchmark: str = "MOT17"
    ego_poses: str = ""
    calib: str = ""
    source: str = "<memory>"

    def __post_init__(self) -> None:
        checks = [
            (bool(self.name), f"name must be set, got {self.name!r}"),
            (self.format in FORMATS, f"format must be one of {FORMATS}, got {self.format!r}"),
            (bool(self.root), "root must be set"),
            (bool(self.gt), "gt must be set (a path template with {seq})"),
            (self.frame_range in FRAME_RANGES, f"frame_range must be one of {FRAME_RANGES}, got {self.frame_range!r}"),
            (
                self.detection_format in DETECTION_FORMATS,
                f"detection_format must be one of {DETECTION_FORMATS}, got {self.detection_format!r}",
            ),
            (
                (self.detector is None) != (not self.detections),
                "set exactly one of detections (a file template) and detector",
            ),
            (
                self.eval_class in EVAL_CLASSES.get(self.format, ()),
                f"eval_class must be one of {EVAL_CLASSES.get(self.format)}, got {self.eval_class!r}",
            ),
            (bool(self.sequences or self.seqmap) or self.format == "bdd100k", "set sequences or seqmap"),
            (self.format != "kitti" or bool(self.seqmap), "the kitti format needs seqmap (it gives each frame range)"),
            (
                self.frame_rate is not None or self.format != "kitti",
                "frame_rate must be set for the kitti format (KITTI is 10 Hz)",
            ),
            (self.frame_rate is None or self.frame_rate > 0, f"frame_rate must be positive, got {self.frame_rate}"),
            *self._bdd100k_checks(),
            (
                self.detector is not None or self.frame_range != "images",
                "frame_range 'images' needs detector-driven mode (it reads the image folders)",
            ),
            (bool(self.ego_poses) == bool(self.calib), "set both ego_poses and calib, or neither"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def _bdd100k_checks(self) -> list[tuple[bool, str]]:
        bdd = self.format == "bdd100k"
        scalabel = self.detection_format == "scalabel"
        return [
            (not bdd or self.frame_rate is not None, "frame_rate must be set for the bdd100k format (5 Hz labels)"),
            (not bdd or self.image_size is not None, "image_size must be set for the bdd100k format ([1280, 720])"),
            (
                self.image_size is None or min(self.image_size) > 0,
                f"image_size must be positive [width, height], got {self.image_size}",
            ),
            (not bdd or not self.seqmap, "the bdd100k format takes no seqmap (list sequences, or leave them out)"),
            (not bdd or self.frame_range == "full", "the bdd100k format evaluates frame_range 'full' only"),
            (not bdd or self.detector is not None or scalabel, "the bdd100k format reads detection_format 'scalabel'"),
            (bdd or not scalabel or self.detector is not None, "detection_format 'scalabel' needs the bdd100k format"),
            (not bdd or self.detector is None or bool(self.images), "bdd100k with a detector needs images"),
        ]

    @property
    def root_path(self) -> Path:
        """``root`` as an absolute path."""
        return Path(self.root)

    def path(self, template: str, seq: str) -> Path:
        """The file of sequence ``seq`` for a path ``template`` relative to ``root``."""
        return self.root_path / template.format(seq=seq)


def load_benchmark(path: str | Path) -> BenchmarkConfig:
    """Read a benchmark YAML file into a :class:`BenchmarkConfig`; ``root`` is resolved against the file's folder.

    Raises:
        tracker.app.config.ConfigFileError: the file is missing or is not a YAML mapping
            (the message names the file and, for syntax errors, the line).
        tracker.config.ConfigError: an unknown key, a value of the wrong type, or an
            inconsistent benchmark (the message names the file).
    """
    path = Path(path)
    data = load_yaml(path)
    data.setdefault("source", str(path))
    config = from_mapping(BenchmarkConfig, data, source=str(path))
    root = Path(config.root)
    if not root.is_absolute():
        root = (path.resolve().parent / root).resolve()
    if not root.is_dir():
        raise ConfigError(f"{path}: root folder not found: {root}")
    return replace(config, root=str(root))


def config_hash(payload: Any) -> str:
    """A short stable hash (16 hex digits of SHA-256) of a JSON-serialisable value or a config dataclass."""
    if hasattr(payload, "__dataclass_fields__"):
        payload = to_dict(payload)
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
