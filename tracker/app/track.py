"""``vtrack track``: detect and track vehicles in a video, a folder of frames, a camera stream or a rosbag2.

Per frame: a detector (:class:`detectors.yolo.YOLODetector`, or with ``--detections FILE``
:class:`detectors.replay.ReplayDetector`; any :class:`detectors.base.Detector` fits) ->
camera motion (:class:`tracker.camera_motion.CameraMotionEstimator`, unless ``--no-cmc``) ->
``tracker.update()`` -> writers (:mod:`tracker.app.writers`) and the annotated video
(:mod:`tracker.app.render`). These run as four stages of a :class:`tracker.app.stages.Pipeline`
(decoding; detection; camera motion and tracking; drawing and writing), each in its own
thread with bounded queues between them, so decoding and writing overlap inference and
frames keep their order. The detector keeps every core; OpenCV's own thread pool is cut
to one thread for the run and libx264 encodes on one thread, so the other stages do not
compete with it for cores.

Outputs in ``--out DIR`` (see :data:`OUTPUT_FILES`): ``tracks.mp4`` (annotated H.264
video, unless ``--no-video``), ``tracks.txt`` (MOTChallenge rows), ``tracks.jsonl`` (one
JSON record per frame) and ``summary.json`` (see :func:`summary_record`). With a
rosbag2 SOURCE (``--image-topic``), ``--bag-out BAG`` also writes a new rosbag2 with one
``vision_msgs/Detection2DArray`` of tracks per image
(:class:`tracker.ros2.bag.TracksBagWriter`; the image's header; topic ``--tracks-topic``,
default ``<image topic>/tracks``); an existing ``BAG`` is refused. Everything is validated
before ``DIR`` is created: the source opens and decodes a frame, the config files parse,
the tracker is created and the weights load (exported for the runtime on first use). So a
run that fails on its inputs writes nothing.

Images of a rosbag2 whose stamp is not strictly after the previous image's (out of order or
duplicate) are dropped with a warning (a tracker needs increasing time); the summary counts them.

Exit status: 0 on success; 2 (:data:`~tracker.app.report.EXIT_ERROR`) on bad input,
with one error line on stderr; 130 after Ctrl-C, which stops the run and keeps
the results written so far (the normal way to end a camera run); 143 after SIGTERM
(``docker stop``, systemd), which stops it the same way. ``tracks.txt`` and
``tracks.jsonl`` are flushed after every frame.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import tracker
from detectors.base import Detector
from detectors.replay import FORMATS as DETECTION_FORMATS
from detectors.replay import ReplayDetector
from detectors.runtime import RUNTIMES, ExportError
from detectors.yolo import WeightsNotFoundError, YOLODetector, YOLODetectorConfig, resolve_weights
from tracker.app import report
from tracker.app.config import config_from_yaml, load_yaml
from tracker.app.parallel import LOCAL_RAY
from tracker.app.render import RenderConfig, TrackRenderer, VideoWriter
from tracker.app.sources import Frame, FrameSource, SourceConfig, SourceError, open_source
from tracker.app.stages import Pipeline, Stage, StageTimes
from tracker.app.writers import JsonlWriter, MotWriter
from tracker.camera_motion import CameraMotionEstimator
from tracker.config import ConfigError, to_dict
from tracker.registry import config_class

__all__ = [
    "OUTPUT_FILES",
    "Outcome",
    "OutputError",
    "add_arguments",
    "check_settings",
    "parse_classes",
    "run",
    "summary_record",
    "track_source",
]

logger = logging.getLogger(__name__)

_COMMAND = "vtrack track"
_MS_PER_S = 1000.0

#: File names written into ``--out DIR``.
OUTPUT_FILES = {"video": "tracks.mp4", "mot": "tracks.txt", "jsonl": "tracks.jsonl", "summary": "summary.json"}

#: Options that configure YOLO, refused together with ``--detections`` (attribute name -> option).
_YOLO_OPTIONS = {
    "detector_config": "--detector-config",
    "weights": "--weights",
    "conf": "--conf",
    "classes": "--classes",
    "device": "--device",
    "imgsz": "--imgsz",
    "runtime": "--runtime",
    "threads": "--threads",
}
_WINDOW = "vtrack"
_QUIT_KEYS = (ord("q"), 27)  # q and Esc close the --show window

_ALL_CLASSES = "all"
_TRACKS_TOPIC_SUFFIX = "/tracks"
_BAG_STORAGES = ("sqlite3", "mcap")


class OutputError(Exception):
    """The output folder cannot be used (a file, or a non-empty folder without ``--exist-ok``)."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def parse_classes(text: str) -> tuple[int | str, ...]:
    """Parse ``--classes``: comma-separated class ids or names, e.g. ``"car,truck"`` or ``"2,7"``.

    Returns:
        The ids (int) and names (str) in order; ``()`` for ``"all"`` (keep every class).
        Names are checked against the model's class names when it loads.

    Raises:
        argparse.ArgumentTypeError: an empty item or a negative id.
    """
    if text.strip().lower() == _ALL_CLASSES:
        return ()
    items: list[int | str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            raise argparse.ArgumentTypeError(f"empty class in {text!r}; expected e.g. 'car,truck' or '2,7' or 'all'")
        if item.lstrip("-").isdigit():
            if int(item) < 0:
                raise argparse.ArgumentTypeError(f"class ids must be >= 0, got {item}")
            items.append(int(item))
        else:
            items.append(item)
    return tuple(items)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``vtrack track`` to ``parser`` (a subcommand parser)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Detect vehicles with YOLO (or replay the detections of --detections FILE) in every frame of\n"
        "SOURCE, track them, and write into --out DIR:\n"
        f"  {OUTPUT_FILES['video']:<13} frames with boxes, track IDs, class names, {RenderConfig.trail_s:g} s trails\n"
        f"  {OUTPUT_FILES['mot']:<13} MOTChallenge rows frame,id,x,y,w,h,score,class,-1,-1\n"
        f"  {'':<13} (frames 1-based, boxes left/top/width/height in pixels)\n"
        f"  {OUTPUT_FILES['jsonl']:<13} one JSON record per frame: frame, timestamp (s), tracks\n"
        f"  {OUTPUT_FILES['summary']:<13} frames, wall time, end-to-end frames/s, ms per stage, runtime, weights\n"
        "Timestamps (seconds) come from the video's frame times, from --fps for a frame folder,\n"
        "from the wall clock for a camera, or from the image headers of a rosbag2.\n"
        "A rosbag2 SOURCE can also get its tracks written into a new bag (--bag-out): one\n"
        "vision_msgs/Detection2DArray per image, with the image's header; Detection2D.id is the\n"
        "track ID, results[0].hypothesis.class_id the class id (decimal), bbox in pixels."
    )
    parser.epilog = (
        "Ctrl-C stops a run and keeps what was written so far (exit status 130); SIGTERM too (143).\n"
        "Bad input prints one error line and exits with status 2; inputs are checked before DIR is created.\n"
        "With many sources, one that fails is recorded in DIR/manifest.jsonl and the others go on (status 1).\n\n"
        "examples:\n"
        "  vtrack track ../shared/data/videos/test_small2.mp4 --out runs/small2\n"
        "  vtrack track ../shared/data/videos/kitti_raw_2011_09_26 --fps 10 --out runs/kitti --imgsz 1280\n"
        "  vtrack track 0 --out runs/camera --classes car,truck --no-video --show\n"
        "  vtrack track ../shared/data/MOT17/train/MOT17-04-FRCNN --out runs/mot04 \\\n"
        "      --detections ../shared/data/MOT17/train/MOT17-04-FRCNN/det/det.txt\n"
        "  vtrack track recording/ --image-topic /camera/image_raw --out runs/bag --bag-out runs/bag_tracks\n"
        "  vtrack track ../shared/data/videos/ --out runs/fleet --workers 2      # every video in the folder\n"
        "  vtrack track @clips.txt --out /mnt/shared/fleet --no-video --ray auto  # on a Ray cluster"
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        nargs="+",
        help="a video file; a folder of frames (KITTI image_02/NNNN: zero-padded PNGs; or a MOTChallenge "
        "sequence folder with img1/ and seqinfo.ini); a rosbag2 (folder with metadata.yaml, or a .db3 / "
        ".mcap file; see --image-topic); or a camera index such as 0. Several SOURCEs, a folder of videos, "
        "a quoted glob ('clips/*.mp4') or @LIST (a text file, one source a line) run one job per source: "
        "see 'many sources'",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", type=Path, required=True, help="folder to write the results into")
    out.add_argument(
        "--exist-ok",
        action="store_true",
        help="write into DIR even if it is not empty, replacing the files named above (others are left alone)",
    )
    out.add_argument("--no-video", action="store_true", help=f"skip rendering {OUTPUT_FILES['video']}")
    out.add_argument(
        "--show",
        action="store_true",
        help="also show the annotated frames in a window (needs a display and OpenCV with GUI support; "
        "q or Esc stops the run, keeping the results)",
    )
    out.add_argument(
        "--bag-out",
        metavar="BAG",
        type=Path,
        help="rosbag2 SOURCE only: also write the tracks into this new rosbag2 folder (must not exist), "
        "one vision_msgs/Detection2DArray per image with the image's header",
    )
    out.add_argument(
        "--tracks-topic",
        metavar="TOPIC",
        help=f"topic of the tracks in --bag-out (default: the image topic + '{_TRACKS_TOPIC_SUFFIX}')",
    )
    out.add_argument(
        "--bag-storage",
        choices=_BAG_STORAGES,
        default=_BAG_STORAGES[0],
        help="storage of --bag-out: sqlite3 (.db3, the ROS 2 Humble default; the default) or mcap",
    )

    trk = parser.add_argument_group("tracker")
    trk.add_argument(
        "--tracker",
        metavar="NAME",
        default="default",
        help=f"tracker backend: one of {', '.join(tracker.available())} (default = {tracker.registry.DEFAULT})",
    )
    trk.add_argument(
        "--cmc",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="camera motion compensation: estimate the ego-motion between frames (OpenCV optical flow) "
        "and move the tracks with it (default: on; --no-cmc for a fixed camera)",
    )
    trk.add_argument(
        "--config",
        metavar="YAML",
        type=Path,
        help="tracker settings overriding the backend's defaults (configs/README.md lists every key)",
    )
    trk.add_argument(
        "--detect-every",
        type=_positive_int,
        default=1,
        metavar="K",
        help="run the detector on every K-th frame only (default 1: every frame); in between the motion "
        "model predicts the tracks (camera motion keeps them registered), marked predicted in the outputs: "
        "a real-time mode for slow CPUs",
    )

    det = parser.add_argument_group("detector (options override --detector-config, which overrides the defaults)")
    det.add_argument(
        "--detections",
        metavar="FILE",
        type=Path,
        help="track the detections of FILE instead of running YOLO: a MOTChallenge det.txt "
        "(frame,id,x,y,w,h,score,...; frames 1-based) or a KITTI CSV (frame,x1,y1,x2,y2,score[,class]; "
        "frames 0-based), one row per detection of SOURCE's frames",
    )
    det.add_argument(
        "--detections-format",
        choices=DETECTION_FORMATS,
        default="auto",
        help="layout of --detections: mot, kitti, or auto (the default: told by the column count)",
    )
    det.add_argument(
        "--detector-config",
        metavar="YAML",
        type=Path,
        help="YOLO settings; configs/detector.yaml lists them all with their defaults",
    )
    det.add_argument(
        "--weights", metavar="PATH", help=f"YOLO weights file or folder (default: {YOLODetectorConfig.weights})"
    )
    det.add_argument(
        "--conf",
        type=float,
        metavar="P",
        help=f"minimum detection confidence 0..1 (default: {YOLODetectorConfig.conf}, or the tracker's "
        "byte.low_score when that is lower and neither --conf nor --detector-config sets it, so that BYTE's "
        "second association gets its low-score detections)",
    )
    det.add_argument(
        "--classes",
        type=parse_classes,
        metavar="LIST",
        help="comma-separated COCO class ids or names to keep, or 'all' (default: car,motorcycle,bus,truck)",
    )
    det.add_argument("--device", help=f"auto, cpu, cuda or cuda:N (default: {YOLODetectorConfig.device})")
    det.add_argument(
        "--imgsz",
        type=_positive_int,
        metavar="PX",
        help=f"inference size in pixels of the longer side, a multiple of 32 (default: {YOLODetectorConfig.imgsz}); "
        "a model exported with a fixed input accepts only its own size",
    )
    det.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="inference runtime: auto (openvino on the CPU when installed, else torch; the default), torch, "
        "openvino or onnx; openvino and onnx export the .pt weights on first use and cache the export "
        "beside them (or in ~/.cache/vtrack/exports when that folder is read-only)",
    )

    det.add_argument(
        "--threads",
        type=_positive_int,
        metavar="N",
        help="most CPU threads one inference uses (default: every core for one source; cores / workers with "
        "several workers; --task-cpus on Ray)",
    )

    many = parser.add_argument_group(
        "many sources (one job per source into DIR/<source name>/, plus DIR/manifest.jsonl and DIR/summary.csv)"
    )
    many.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="run N jobs at once in worker processes, each with cores / N inference threads "
        "(default: as many as there are cores, at most one per source)",
    )
    many.add_argument(
        "--ray",
        nargs="?",
        const=LOCAL_RAY,
        metavar="ADDRESS",
        help="run the jobs as Ray tasks (pip install 'vtrack[fleet]'): on the cluster at ADDRESS "
        "(e.g. auto, or ray://head:10001; DIR must then be on a filesystem every node shares), or on a "
        "local Ray instance without ADDRESS; give it after the SOURCEs, or as --ray=ADDRESS",
    )
    many.add_argument(
        "--task-cpus",
        type=_positive_int,
        metavar="N",
        help="with --ray: CPUs each task reserves and its inference threads (default: 1)",
    )
    many.add_argument(
        "--task-gpus",
        type=_nonnegative_float,
        metavar="N",
        help="with --ray: GPUs each task reserves, may be a fraction (default: 0); pair it with --device cuda",
    )
    many.add_argument(
        "--resume",
        action="store_true",
        help="continue in a DIR of an earlier run: sources whose outputs are complete are skipped, the rest "
        "(failed, interrupted, not started) run again",
    )

    src = parser.add_argument_group("source")
    src.add_argument(
        "--fps",
        type=_positive_float,
        metavar="HZ",
        help="frame rate of a frame folder (default: frameRate of its seqinfo.ini, else "
        f"{SourceConfig.fallback_fps:g} Hz with a warning); ignored for videos and cameras",
    )
    src.add_argument("--max-frames", type=_positive_int, metavar="N", help="stop after N frames (default: all)")
    src.add_argument(
        "--image-topic",
        metavar="TOPIC",
        help="rosbag2 SOURCE: the sensor_msgs/Image or sensor_msgs/CompressedImage topic to track "
        "(default: the bag's only image topic)",
    )


def _check_out_dir(path: Path, exist_ok: bool) -> None:
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out {path}: exists and is not a folder")
    existing = next(folder for folder in (path, *path.absolute().parents) if folder.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == path else f" (its nearest existing parent {existing})"
        raise OutputError(f"--out {path}: the folder{where} is not writable")
    if path.is_dir() and any(path.iterdir()) and not exist_ok:
        raise OutputError(
            f"--out {path}: folder exists and is not empty; choose a new folder, "
            f"or pass --exist-ok to write into it (replacing {', '.join(OUTPUT_FILES.values())})"
        )


def _check_bag_out(path: Path | None) -> None:
    if path is not None and (path.exists() or path.is_symlink()):
        raise OutputError(f"--bag-out {path}: exists; a rosbag2 output is never overwritten, choose a new path")


def _detector_overrides(args: argparse.Namespace) -> dict[str, Any]:
    values = {
        "weights": args.weights,
        "conf": args.conf,
        "classes": args.classes,
        "device": args.device,
        "imgsz": args.imgsz,
        "runtime": args.runtime,
    }
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class _Stats:
    """Counters and timers of one run (times in seconds; stage timers count busy time only)."""

    frames: int = 0
    ids: set[int] = field(default_factory=set)
    camera_motion: StageTimes = field(default_factory=StageTimes)
    tracker: StageTimes = field(default_factory=StageTimes)
    render: StageTimes = field(default_factory=StageTimes)
    write: StageTimes = field(default_factory=StageTimes)
    startup_s: float = 0.0
    wall_s: float = 0.0
    status: str = "completed"


@dataclass(frozen=True)
class _BagOutput:
    """Where ``--bag-out`` writes: the new rosbag2 folder, the tracks topic and the storage plugin name."""

    path: Path
    topic: str
    storage: str


class _WindowClosedError(Exception):
    """The user closed the ``--show`` window (q or Esc): stop, keeping the results."""


class _Display:
    """The ``--show`` window (OpenCV HighGUI)."""

    def __init__(self) -> None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise OutputError("--show needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set")
        import cv2

        self._cv2 = cv2
        try:
            cv2.namedWindow(_WINDOW, cv2.WINDOW_NORMAL)
        except cv2.error:
            raise OutputError(
                "--show: this OpenCV has no window support (opencv-python-headless); pip install opencv-python"
            ) from None

    def show(self, image: np.ndarray) -> None:
        """Show ``image``; raises :class:`_WindowClosedError` when q or Esc was pressed."""
        self._cv2.imshow(_WINDOW, image)
        if self._cv2.waitKey(1) & 0xFF in _QUIT_KEYS:
            raise _WindowClosedError

    def close(self) -> None:
        """Close the window."""
        self._cv2.destroyWindow(_WINDOW)


class _Outputs:
    """The writers of one run in ``directory``; no video writer with ``video=False``; a tracks bag with ``bag``.

    Creates ``directory`` if needed; if opening a writer fails, removes the files
    and the folder it created before re-raising.

    Raises:
        OSError: a file cannot be created (or exists and ``overwrite`` is False).
    """

    def __init__(
        self,
        directory: Path,
        source: FrameSource,
        class_names: dict[int, str],
        video: bool,
        overwrite: bool,
        stats: _Stats,
        bag: _BagOutput | None = None,
        display: _Display | None = None,
    ) -> None:
        created_dir = not directory.exists()
        directory.mkdir(parents=True, exist_ok=True)
        paths = {
            key: directory / name
            for key, name in OUTPUT_FILES.items()
            if key != "summary" and (video or key != "video")
        }
        self.summary_path = directory / OUTPUT_FILES["summary"]
        self._overwrite = overwrite
        self._stats = stats
        self._stack = ExitStack()
        try:
            self.mot = self._stack.enter_context(MotWriter(paths["mot"], overwrite=overwrite))
            self.jsonl = self._stack.enter_context(JsonlWriter(paths["jsonl"], class_names, overwrite=overwrite))
            self.video = VideoWriter(str(paths["video"]), source.fps, source.width, source.height) if video else None
            if self.video is not None:
                self._stack.callback(self.video.close)
            self.bag = self._stack.enter_context(_open_bag(bag)) if bag is not None else None
        except OSError:
            self._stack.close()
            for path in paths.values():
                path.unlink(missing_ok=True)
            if created_dir:
                directory.rmdir()
            raise
        self.display = display
        if display is not None:
            self._stack.callback(display.close)
        self.renderer = TrackRenderer(class_names, RenderConfig())
        self.paths = [str(path) for path in paths.values()] + [str(self.summary_path)]
        if bag is not None:
            self.paths.append(f"{bag.path} (topic {bag.topic})")

    def write(self, item: tuple[Frame, tracker.Tracks, np.ndarray | None]) -> None:
        """Write one frame's tracks to every output (the last stage of the pipeline)."""
        frame, tracks, affine = item
        number = frame.index + 1
        if self.video is not None or self.display is not None:
            start, cpu = time.perf_counter(), time.thread_time()
            canvas = self.renderer.draw(frame.image, number, frame.timestamp, tracks, affine)
            if self.video is not None:
                self.video.write(canvas)
            self._stats.render.add(time.perf_counter() - start, time.thread_time() - cpu)
            if self.display is not None:
                self.display.show(canvas)
        start, cpu = time.perf_counter(), time.thread_time()
        self.mot.write(number, tracks)
        self.jsonl.write(number, frame.timestamp, tracks)
        if self.bag is not None:
            self.bag.write(frame.info, tracks)
        self._stats.write.add(time.perf_counter() - start, time.thread_time() - cpu)
        self._stats.frames += 1
        self._stats.ids.update(tracks.ids.tolist())

    def close(self) -> None:
        """Finish every file."""
        self._stack.close()

    def write_summary(self, record: dict[str, Any]) -> None:
        """Write ``summary.json`` (replacing an old one only when the run may overwrite)."""
        with self.summary_path.open("w" if self._overwrite else "x", encoding="utf-8") as file:
            json.dump(record, file, indent=2)
            file.write("\n")


def _open_bag(bag: _BagOutput) -> Any:
    """The :class:`tracker.ros2.bag.TracksBagWriter` of ``--bag-out`` (rosbags is imported here)."""
    from tracker.ros2.bag import TracksBagWriter

    return TracksBagWriter(bag.path, bag.topic, bag.storage)


class _Steps:
    """The per-frame work of the middle pipeline stages, timing camera motion and tracking apart.

    With ``detect_every`` K > 1 the detector runs on frames 0, K, 2K, ... only; the
    other frames go to the tracker's ``predict()`` (their tracks have ``det_index`` -1),
    with the boxes it reported last masking the foreground for camera motion.
    """

    def __init__(
        self,
        detector: Detector,
        trk: tracker.Tracker,
        cmc: CameraMotionEstimator | None,
        stats: _Stats,
        detect_every: int = 1,
    ) -> None:
        self._detector, self._trk, self._cmc, self._stats = detector, trk, cmc, stats
        # Only BaseTracker backends predict (the Tracker protocol has no predict); checked in _prepare.
        self._predict = getattr(trk, "predict", None) if detect_every > 1 else None
        self._every = detect_every
        self._foreground = np.zeros((0, 4), dtype=np.float32)

    def detect(self, frame: Frame) -> tuple[Frame, tracker.Detections | None]:
        if frame.index % self._every:
            skip = getattr(self._detector, "skip", None)  # a replayed file keeps its frames in step
            if skip is not None:
                skip()
            return frame, None
        return frame, self._detector(frame.image)

    def track(self, item: tuple[Frame, tracker.Detections | None]) -> tuple[Frame, tracker.Tracks, np.ndarray | None]:
        frame, detections = item
        start, cpu = time.perf_counter(), time.thread_time()
        boxes = self._foreground if detections is None else detections.xyxy
        affine = None if self._cmc is None else self._cmc(frame.image, boxes)
        compensated, cpu_compensated = time.perf_counter(), time.thread_time()
        if detections is None:
            assert self._predict is not None  # frames go undetected only with detect_every > 1
            tracks = self._predict(frame.timestamp, camera_motion=affine)
        else:
            tracks = self._trk.update(detections, frame.timestamp, camera_motion=affine)
        self._foreground = tracks.xyxy
        self._stats.tracker.add(time.perf_counter() - compensated, time.thread_time() - cpu_compensated)
        if self._cmc is not None:
            self._stats.camera_motion.add(compensated - start, cpu_compensated - cpu)
        return frame, tracks, affine


def _process(
    source: FrameSource,
    outputs: _Outputs,
    max_frames: int | None,
    pipeline: Pipeline,
    progress: Callable[[int], None] | None,
) -> None:
    """Run the pipeline over the source; lets SourceError, KeyboardInterrupt and _WindowClosedError through.

    ``progress`` gets the count of frames written after each frame; None shows a tqdm bar instead.
    """
    frames = itertools.islice(source, max_frames)
    if progress is not None:
        written = itertools.count(1)

        def report_progress(item: tuple[Frame, tracker.Tracks, np.ndarray | None]) -> None:
            outputs.write(item)
            progress(next(written))

        pipeline.run(frames, report_progress)
        return
    total = source.length if max_frames is None else min(source.length or max_frames, max_frames)
    with logging_redirect_tqdm(), tqdm(total=total, unit="frame", desc="tracking", disable=None) as bar:

        def sink(item: tuple[Frame, tracker.Tracks, np.ndarray | None]) -> None:
            outputs.write(item)
            bar.update()

        pipeline.run(frames, sink)
        if bar.total is not None and bar.n != bar.total:  # the stream ended before the announced length
            bar.total = bar.n
            bar.refresh()


def _ms(seconds: float, frames: int) -> float | None:
    return round(seconds * 1000.0 / frames, 3) if frames else None


def summary_record(
    source: FrameSource,
    detector: Detector,
    trk: tracker.Tracker,
    stats: _Stats,
    pipeline: Pipeline,
    paths: list[str],
    detect_every: int = 1,
) -> dict[str, Any]:
    """The content of ``summary.json`` (also printed as the closing summary).

    Keys: ``status`` (``completed``, ``interrupted`` or ``error``); ``frames``;
    ``wall_s``: seconds from handing the first frame to the pipeline until the
    outputs were closed (the video flushed); ``fps``: ``frames / wall_s``, the
    end-to-end rate; ``startup_s``: seconds before that, from the start of the
    command after Python and vtrack's modules were loaded (validating inputs, loading
    the model, a first-use export); ``stages_ms``: busy milliseconds per frame of
    ``decode``, ``detect`` (after the first frame; the first, warm-up included, in
    ``detect_first``), ``camera_motion``, ``tracker`` (inside ``update()``),
    ``render`` (drawing and video encoding) and ``write`` (text and bag files): wall
    time, which also counts waiting for a core or the interpreter lock while the
    other stages run in parallel (so their sum may exceed ``wall_s / frames``);
    ``stages_cpu_ms``: the CPU milliseconds per frame of each stage's own thread
    (see :class:`~tracker.app.stages.StageTimes`; for ``detect`` this leaves out the
    inference runtime's worker threads); ``tracker_and_camera_motion_share`` and
    ``tracker_and_camera_motion_cpu_share``: the wall and CPU time of those two stages
    as a fraction of ``wall_s``;
    ``detector`` (weights, runtime, device, image size, or the detection file);
    ``tracker``, ``detect_every`` (the detector ran on every K-th frame), ``camera_motion``
    (on/off), ``tracks`` (distinct confirmed IDs),
    ``video_codec``, ``source`` and ``outputs``.
    """
    times, frames = pipeline.times, stats.frames
    detect = times["detect"]
    stages = {
        "decode": _ms(times["source"].total_s, times["source"].items),
        "detect": detect.mean_ms(skip_first=True),
        "detect_first": round(detect.first_s * 1000.0, 3) if detect.items else None,
        "camera_motion": stats.camera_motion.mean_ms(),
        "tracker": stats.tracker.mean_ms(),
        "render": stats.render.mean_ms(),
        "write": stats.write.mean_ms(),
    }
    cpu = {
        "decode": times["source"].cpu_ms(),
        "detect": times["detect"].cpu_ms(),
        "camera_motion": stats.camera_motion.cpu_ms(),
        "tracker": stats.tracker.cpu_ms(),
        "render": stats.render.cpu_ms(),
        "write": stats.write.cpu_ms(),
    }
    wall = stats.wall_s if stats.wall_s > 0 else None
    share = None if wall is None else (stats.camera_motion.total_s + stats.tracker.total_s) / wall
    cpu_share = None if wall is None else (stats.camera_motion.cpu_s + stats.tracker.cpu_s) / wall
    describe = getattr(detector, "describe", None)
    return {
        "status": stats.status,
        "frames": frames,
        "wall_s": round(stats.wall_s, 4),
        "fps": round(frames / stats.wall_s, 3) if stats.wall_s > 0 else None,
        "startup_s": round(stats.startup_s, 4),
        "stages_ms": {key: None if value is None else round(value, 3) for key, value in stages.items()},
        "stages_cpu_ms": {key: None if value is None else round(value, 3) for key, value in cpu.items()},
        "tracker_and_camera_motion_share": None if share is None else round(share, 5),
        "tracker_and_camera_motion_cpu_share": None if cpu_share is None else round(cpu_share, 5),
        "detector": describe() if callable(describe) else {"detector": type(detector).__name__},
        "tracker": trk.name,
        "detect_every": detect_every,
        "camera_motion": stats.camera_motion.items > 0,
        "tracks": len(stats.ids),
        "video_codec": None,
        "source": {
            "name": source.name,
            "width": source.width,
            "height": source.height,
            "fps": source.fps,
            "length": source.length,
            "dropped": source.dropped,
        },
        "outputs": paths,
    }


def _detector_line(record: dict[str, Any]) -> str:
    stages, info = record["stages_ms"], record["detector"]
    if stages["detect"] is not None:
        timing = f"{stages['detect']:.1f} ms/frame after the first frame ({stages['detect_first']:.0f} ms, warm-up)"
    elif stages["detect_first"] is not None:
        timing = f"{stages['detect_first']:.1f} ms for the only frame (warm-up included)"
    else:
        timing = "no frame processed"
    if info.get("detector") == "yolo":
        size = f"imgsz {info['imgsz']}"
        if info.get("input_hw"):
            size += f" (input {info['input_hw'][0]}x{info['input_hw'][1]})"
        what = f"{info['weights']}, {info['runtime']} runtime on {info['device']}, {size}"
    elif info.get("detector") == "file":
        what = f"detections replayed from {info['detections']} ({info['format']})"
    else:
        what = str(info.get("detector"))
    return f"  detector: {timing}; {what}"


def _summary_lines(source: FrameSource, record: dict[str, Any]) -> list[str]:
    """The closing summary of one run, one line per item."""
    stages = record["stages_ms"]

    def ms(key: str) -> str:
        return "-" if stages[key] is None else f"{stages[key]:.2f} ms/frame"

    dropped = (
        [f"  dropped:  {source.dropped} frames whose timestamp was not after the previous frame's"]
        if source.dropped
        else []
    )
    speed = (
        f"  speed:    {record['fps']:.2f} frames/s end to end ({record['wall_s']:.2f} s for {record['frames']} frames; "
        f"{record['startup_s']:.2f} s of start-up before them)"
        if record["fps"] is not None
        else "  speed:    no frame processed"
    )
    share = record["tracker_and_camera_motion_share"]
    cpu_share = record["tracker_and_camera_motion_cpu_share"]
    return [
        f"{_COMMAND}: {record['frames']} frames of {source.describe()}",
        *dropped,
        speed,
        f"  tracks:   {record['tracks']} distinct confirmed IDs",
        _detector_line(record),
        f"  decode:   {ms('decode')}",
        f"  tracker:  {ms('tracker')} ({record['tracker']}, time inside update())",
        f"  camera motion: {ms('camera_motion')}" if record["camera_motion"] else "  camera motion: off",
        *(
            [f"  tracker + camera motion: {share:.1%} of the wall time ({cpu_share:.1%} in CPU time)"]
            if share is not None
            else []
        ),
        f"  render:   {ms('render')} (drawing and {record['video_codec']} encoding)"
        if record["video_codec"]
        else "  render:   off",
        f"  wrote:    {', '.join(record['outputs'])}",
    ]


def _bag_output(args: argparse.Namespace, source: FrameSource) -> _BagOutput | None:
    """The ``--bag-out`` settings, checked against the opened source."""
    if args.bag_out is None:
        if args.tracks_topic is not None:
            raise OutputError("--tracks-topic is the topic of --bag-out; give --bag-out BAG too")
        return None
    topic = getattr(source, "topic", None)
    if topic is None:
        raise OutputError(f"--bag-out {args.bag_out}: needs a rosbag2 SOURCE (with --image-topic), got {source.name}")
    return _BagOutput(args.bag_out, args.tracks_topic or f"{topic}{_TRACKS_TOPIC_SUFFIX}", args.bag_storage)


def _detector(args: argparse.Namespace, tracker_config: Any, source: FrameSource) -> Detector:
    """The detector of this run: the ``--detections`` file replayed, or YOLO."""
    if args.detections is not None:
        given = [option for name, option in _YOLO_OPTIONS.items() if getattr(args, name) is not None]
        if given:
            raise ValueError(f"--detections replays a file; {', '.join(given)} configure YOLO: leave them out")
        return ReplayDetector(args.detections, args.detections_format)
    overrides = _detector_overrides(args)
    from_file = load_yaml(args.detector_config) if args.detector_config else {}
    byte = getattr(tracker_config, "byte", None)
    low = None if byte is None else byte.low_score
    if "conf" not in overrides and "conf" not in from_file and low is not None and low < YOLODetectorConfig.conf:
        logger.info("detector conf lowered to the tracker's byte.low_score %.3f", low)
        overrides["conf"] = low
    detector_config = config_from_yaml(YOLODetectorConfig, args.detector_config, overrides)
    return YOLODetector(detector_config, frame_size=(source.height, source.width), threads=args.threads)


def _tracker_from_args(args: argparse.Namespace) -> tuple[Any, tracker.Tracker]:
    """The tracker's config (from ``--tracker`` and ``--config``) and the tracker, checked against the options.

    Raises:
        tracker.config.ConfigError: a bad backend, config file, key or value.
        ValueError: ``--detections`` with ``--detector-config``, or ``--detect-every`` with a
            tracker that cannot predict.
    """
    if args.detections is not None and args.detector_config is not None:
        raise ValueError("--detections replays a file; --detector-config configures YOLO: leave it out")
    tracker_config: Any = config_from_yaml(config_class(args.tracker), args.config)
    trk = tracker.create(args.tracker, to_dict(tracker_config))
    if args.detect_every > 1 and not getattr(trk, "supports_predict", False):
        raise ValueError(f"--detect-every needs a tracker that predicts between detections; {trk.name} cannot")
    return tracker_config, trk


def check_settings(args: argparse.Namespace) -> None:
    """Check the settings every source of a run shares, without opening a source or loading the model.

    The tracker's backend and config file, the detector options and config file, and that
    local weights exist (:func:`detectors.yolo.resolve_weights`); :mod:`tracker.app.fleet`
    calls it once before running many sources, so that a typo fails once, not per source.

    Raises:
        tracker.config.ConfigError: a bad backend, config file, key or value.
        ValueError: options that do not go together, or an unknown backend.
        detectors.yolo.WeightsNotFoundError: weights given as a path that does not exist.
    """
    _tracker_from_args(args)
    if args.detections is None:
        detector_config = config_from_yaml(YOLODetectorConfig, args.detector_config, _detector_overrides(args))
        resolve_weights(detector_config.weights)


def _prepare(
    args: argparse.Namespace,
) -> tuple[FrameSource, Detector, tracker.Tracker, _BagOutput | None, _Display | None]:
    """Validate every input, cheapest first; the source is returned open."""
    _check_out_dir(args.out, args.exist_ok)
    _check_bag_out(args.bag_out)
    tracker_config, trk = _tracker_from_args(args)
    display = _Display() if args.show else None
    try:
        source = open_source(args.source, SourceConfig(fps=args.fps, image_topic=args.image_topic))
    except BaseException:
        if display is not None:
            display.close()
        raise
    try:
        bag = _bag_output(args, source)
        detector = _detector(args, tracker_config, source)
    except BaseException:
        source.close()
        if display is not None:
            display.close()
        raise
    logger.info("source %s; tracker %s %s", source.describe(), trk.name, to_dict(tracker_config))
    return source, detector, trk, bag, display


def _check_replay_length(detector: Detector, frames: int, max_frames: int | None, status: str) -> None:
    """Warn when a replayed detection file goes on after the source ended (a file of another sequence?)."""
    if not isinstance(detector, ReplayDetector) or status != "completed" or max_frames is not None:
        return
    if detector.frames_left:
        logger.warning(
            "%s holds detections up to frame %d, but the source ended after %d frames: is it this sequence's file?",
            detector.path,
            detector.last_frame,
            frames,
        )


def _opencv_threads(count: int | None) -> int | None:
    """Set OpenCV's thread pool size (when OpenCV is importable); returns the previous size."""
    try:
        import cv2
    except ImportError:
        return None
    previous = int(cv2.getNumThreads())
    if count is not None:
        cv2.setNumThreads(count)
    return previous


@dataclass(frozen=True)
class Outcome:
    """What one ``vtrack track`` job on one source gave (see :func:`track_source`).

    Attributes:
        status: the exit status: 0 on success, 2 (:data:`~tracker.app.report.EXIT_ERROR`)
            on bad input, 130 (:data:`~tracker.app.report.EXIT_INTERRUPTED`) after Ctrl-C.
        record: the content of ``summary.json`` (see :func:`summary_record`), or None when
            the job failed before writing anything.
        error: the one-line error message (without the command), or None.
        lines: the closing summary, one line per item (empty when nothing was written).
    """

    status: int
    record: dict[str, Any] | None = None
    error: str | None = None
    lines: tuple[str, ...] = ()


def track_source(args: argparse.Namespace, progress: Callable[[int], None] | None = None) -> Outcome:
    """Run one source (``args.source``, a string) into one output folder (``args.out``), printing nothing.

    This is the whole job of ``vtrack track`` on one source; :func:`run` prints its
    outcome, and :mod:`tracker.app.fleet` runs it once per source, in this process, in
    worker processes or as Ray tasks.

    Args:
        args: the parsed options of :func:`add_arguments`, with ``source`` one string.
        progress: called after each frame with the number of frames written so far;
            None shows a tqdm progress bar on stderr instead (when it is a terminal).

    Returns:
        The :class:`Outcome`. Bad input and Ctrl-C are reported in it, not raised.
    """
    started = time.perf_counter()
    try:
        source, detector, trk, bag, display = _prepare(args)
    except (OutputError, ConfigError, SourceError, WeightsNotFoundError, ExportError, ImportError, ValueError) as error:
        return Outcome(report.EXIT_ERROR, error=str(error))
    except KeyboardInterrupt:
        return Outcome(report.EXIT_INTERRUPTED, error="interrupted before the first frame; nothing was written")
    with source:
        stats = _Stats()
        try:
            names = dict(getattr(detector, "names", {}))
            outputs = _Outputs(args.out, source, names, not args.no_video, args.exist_ok, stats, bag, display)
        except OSError as error:
            if display is not None:
                display.close()
            return Outcome(report.EXIT_ERROR, error=f"cannot write the outputs (--out {args.out}): {error}")
        status, message = 0, None
        cmc = CameraMotionEstimator() if args.cmc else None
        steps = _Steps(detector, trk, cmc, stats, args.detect_every)
        pipeline = Pipeline([Stage("detect", steps.detect), Stage("track", steps.track)])
        previous_threads = _opencv_threads(1)
        begun = time.perf_counter()
        stats.startup_s = begun - started
        try:
            _process(source, outputs, args.max_frames, pipeline, progress)
        except SourceError as error:
            message = f"{error} (results of the {stats.frames} frames before it are in {args.out})"
            status, stats.status = report.EXIT_ERROR, "error"
        except KeyboardInterrupt:
            logger.warning("interrupted: keeping the results of the %d frames written", stats.frames)
            status, stats.status = report.EXIT_INTERRUPTED, "interrupted"
        except _WindowClosedError:
            logger.warning("window closed: keeping the results of the %d frames written", stats.frames)
            stats.status = "interrupted"
        finally:
            outputs.close()
            stats.wall_s = time.perf_counter() - begun
            _opencv_threads(previous_threads)
        _check_replay_length(detector, stats.frames, args.max_frames, stats.status)
        record = summary_record(source, detector, trk, stats, pipeline, outputs.paths, args.detect_every)
        record["video_codec"] = outputs.video.codec if outputs.video is not None else None
        outputs.write_summary(record)
        return Outcome(status, record, message, tuple(_summary_lines(source, record)))


def run(args: argparse.Namespace) -> int:
    """Run ``vtrack track`` on one source with parsed ``args`` (see :func:`add_arguments`; ``args.source``
    holds one SOURCE), writing into ``--out``. The command itself runs :func:`tracker.app.fleet.run`,
    which calls this for one source and runs many sources as a fleet.

    Returns:
        The exit status: 0 on success (also when ``--show``'s window is closed with q
        or Esc), 2 on bad input (one error line on stderr), 130 when interrupted with Ctrl-C.
    """
    (source,) = args.source
    outcome = track_source(argparse.Namespace(**{**vars(args), "source": source}))
    if outcome.error is not None:
        report.error(_COMMAND, outcome.error)
    if outcome.lines:
        report.summary(outcome.lines)
    return outcome.status
