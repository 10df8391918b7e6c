"""``vtrack track``: detect and track vehicles in a video, a folder of frames, a camera stream or a rosbag2.

Pipeline per frame: :class:`detectors.yolo.YOLODetector` -> camera motion
(:class:`tracker.camera_motion.CameraMotionEstimator`, unless ``--no-cmc``) -> ``tracker.update()`` ->
writers (:mod:`tracker.app.writers`) and the annotated video (:mod:`tracker.app.render`).

Outputs in ``--out DIR`` (see :data:`OUTPUT_FILES`): ``tracks.mp4`` (annotated video,
unless ``--no-video``), ``tracks.txt`` (MOTChallenge rows) and ``tracks.jsonl`` (one
JSON record per frame). With a rosbag2 SOURCE (``--image-topic``), ``--bag-out BAG``
also writes a new rosbag2 with one ``vision_msgs/Detection2DArray`` of tracks per image
(:class:`tracker.ros2.bag.TracksBagWriter`; the image's header; topic ``--tracks-topic``,
default ``<image topic>/tracks``); an existing ``BAG`` is refused. Everything is validated
before ``DIR`` is created: the source opens and decodes a frame, the config files parse,
the tracker is created and the weights load. So a run that fails on its inputs writes nothing.

Images of a rosbag2 whose stamp is not strictly after the previous image's (out of order or
duplicate) are dropped with a warning (a tracker needs increasing time); the summary counts them.

Exit status: 0 on success; 2 (:data:`~tracker.app.report.EXIT_ERROR`) on bad input,
with one error line on stderr; 130 after Ctrl-C, which stops the run and keeps
the results written so far (the normal way to end a camera run).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

import tracker
from detectors.yolo import WeightsNotFoundError, YOLODetector, YOLODetectorConfig
from tracker.app import report
from tracker.app.config import config_from_yaml, load_yaml
from tracker.app.render import RenderConfig, TrackRenderer, VideoWriter
from tracker.app.sources import Frame, FrameSource, SourceConfig, SourceError, open_source
from tracker.app.writers import JsonlWriter, MotWriter
from tracker.camera_motion import CameraMotionEstimator
from tracker.config import ConfigError, to_dict
from tracker.registry import config_class

__all__ = ["OUTPUT_FILES", "OutputError", "add_arguments", "parse_classes", "run"]

logger = logging.getLogger(__name__)

_COMMAND = "vtrack track"
_MS_PER_S = 1000.0

#: File names written into ``--out DIR``.
OUTPUT_FILES = {"video": "tracks.mp4", "mot": "tracks.txt", "jsonl": "tracks.jsonl"}

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
        "Detect vehicles with YOLO in every frame of SOURCE, track them, and write into --out DIR:\n"
        f"  {OUTPUT_FILES['video']:<13} frames with boxes, track IDs, class names, {RenderConfig.trail_s:g} s trails\n"
        f"  {OUTPUT_FILES['mot']:<13} MOTChallenge rows frame,id,x,y,w,h,score,class,-1,-1\n"
        f"  {'':<13} (frames 1-based, boxes left/top/width/height in pixels)\n"
        f"  {OUTPUT_FILES['jsonl']:<13} one JSON record per frame: frame, timestamp (s), tracks\n"
        "Timestamps (seconds) come from the video's frame times, from --fps for a frame folder,\n"
        "from the wall clock for a camera, or from the image headers of a rosbag2.\n"
        "A rosbag2 SOURCE can also get its tracks written into a new bag (--bag-out): one\n"
        "vision_msgs/Detection2DArray per image, with the image's header; Detection2D.id is the\n"
        "track ID, results[0].hypothesis.class_id the class id (decimal), bbox in pixels."
    )
    parser.epilog = (
        "Ctrl-C stops a run and keeps what was written so far (exit status 130).\n"
        "Bad input prints one error line and exits with status 2; inputs are checked before DIR is created.\n\n"
        "examples:\n"
        "  vtrack track ../shared/data/videos/test_small2.mp4 --out runs/small2\n"
        "  vtrack track ../shared/data/videos/kitti_raw_2011_09_26 --fps 10 --out runs/kitti --imgsz 1280\n"
        "  vtrack track 0 --out runs/camera --classes car,truck --no-video\n"
        "  vtrack track recording/ --image-topic /camera/image_raw --out runs/bag --bag-out runs/bag_tracks"
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        help="a video file; a folder of frames (KITTI image_02/NNNN: zero-padded PNGs; or a MOTChallenge "
        "sequence folder with img1/ and seqinfo.ini); a rosbag2 (folder with metadata.yaml, or a .db3 / "
        ".mcap file; see --image-topic); or a camera index such as 0",
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
        help=f"tracker backend: one of {', '.join(tracker.available())}, or default "
        f"(= {tracker.registry.DEFAULT}; the default)",
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
        help="tracker settings overriding the backend's defaults; configs/<backend>.yaml lists them all "
        "(e.g. configs/sort.yaml)",
    )

    det = parser.add_argument_group("detector (options override --detector-config, which overrides the defaults)")
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
        "byte_low_score when that is lower and neither --conf nor --detector-config sets it, so that BYTE's "
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
        help=f"inference size in pixels, a multiple of 32 (default: {YOLODetectorConfig.imgsz})",
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
    }
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class _Stats:
    """Counters of one run (times in seconds)."""

    frames: int = 0
    detector_first_s: float = 0.0
    detector_s: float = 0.0
    tracker_s: float = 0.0
    cmc_s: float = 0.0
    ids: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _BagOutput:
    """Where ``--bag-out`` writes: the new rosbag2 folder, the tracks topic and the storage plugin name."""

    path: Path
    topic: str
    storage: str


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
        bag: _BagOutput | None = None,
    ) -> None:
        created_dir = not directory.exists()
        directory.mkdir(parents=True, exist_ok=True)
        paths = {key: directory / name for key, name in OUTPUT_FILES.items() if video or key != "video"}
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
        self.renderer = TrackRenderer(class_names, RenderConfig())
        self.paths = [str(path) for path in paths.values()]
        if bag is not None:
            self.paths.append(f"{bag.path} (topic {bag.topic})")

    def write(self, frame: Frame, tracks: tracker.Tracks) -> None:
        """Write one frame's tracks to every output."""
        number = frame.index + 1
        self.mot.write(number, tracks)
        self.jsonl.write(number, frame.timestamp, tracks)
        if self.video is not None:
            self.video.write(self.renderer.draw(frame.image, number, frame.timestamp, tracks))
        if self.bag is not None:
            self.bag.write(frame.info, tracks)

    def close(self) -> None:
        """Finish every file."""
        self._stack.close()


def _open_bag(bag: _BagOutput) -> Any:
    """The :class:`tracker.ros2.bag.TracksBagWriter` of ``--bag-out`` (rosbags is imported here)."""
    from tracker.ros2.bag import TracksBagWriter

    return TracksBagWriter(bag.path, bag.topic, bag.storage)


def _process(
    source: FrameSource,
    detector: YOLODetector,
    trk: tracker.Tracker,
    outputs: _Outputs,
    max_frames: int | None,
    stats: _Stats,
    cmc: CameraMotionEstimator | None,
) -> None:
    """Run the per-frame loop, counting into ``stats``; lets SourceError and KeyboardInterrupt through."""
    total = source.length if max_frames is None else min(source.length or max_frames, max_frames)
    frames = itertools.islice(source, max_frames)
    with logging_redirect_tqdm(), tqdm(frames, total=total, unit="frame", desc="tracking", disable=None) as bar:
        for frame in bar:
            start = time.perf_counter()
            detections = detector(frame.image)
            detected = time.perf_counter()
            affine = None if cmc is None else cmc(frame.image, detections.xyxy)
            compensated = time.perf_counter()
            tracks = trk.update(detections, frame.timestamp, camera_motion=affine)
            stats.tracker_s += time.perf_counter() - compensated
            stats.cmc_s += compensated - detected
            if stats.frames == 0:
                stats.detector_first_s = detected - start
            else:
                stats.detector_s += detected - start
            outputs.write(frame, tracks)
            stats.frames += 1
            stats.ids.update(tracks.ids.tolist())


def _summary(source: FrameSource, yolo: YOLODetector, trk: tracker.Tracker, stats: _Stats, paths: list[str]) -> None:
    per_frame = _MS_PER_S / max(stats.frames, 1)
    first_ms = stats.detector_first_s * _MS_PER_S
    if stats.frames > 1:
        mean_ms = stats.detector_s * _MS_PER_S / (stats.frames - 1)
        detector = f"{mean_ms:.1f} ms/frame after the first frame ({first_ms:.0f} ms, warm-up)"
    elif stats.frames == 1:
        detector = f"{first_ms:.1f} ms for the only frame (warm-up included)"
    else:
        detector = "no frame processed"
    dropped = (
        [f"  dropped:  {source.dropped} frames whose timestamp was not after the previous frame's"]
        if source.dropped
        else []
    )
    report.summary(
        [
            f"{_COMMAND}: {stats.frames} frames of {source.describe()}",
            *dropped,
            f"  tracks:   {len(stats.ids)} distinct confirmed IDs",
            f"  detector: {detector}; {yolo.weights} on {yolo.device}, imgsz {yolo.config.imgsz}",
            f"  tracker:  {stats.tracker_s * per_frame:.2f} ms/frame ({trk.name}, time inside update())",
            f"  camera motion: {stats.cmc_s * per_frame:.2f} ms/frame" if stats.cmc_s else "  camera motion: off",
            f"  wrote:    {', '.join(paths)}",
        ]
    )


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


def _prepare(args: argparse.Namespace) -> tuple[FrameSource, YOLODetector, tracker.Tracker, _BagOutput | None]:
    """Validate every input, cheapest first; the source is returned open."""
    _check_out_dir(args.out, args.exist_ok)
    _check_bag_out(args.bag_out)
    tracker_config = config_from_yaml(config_class(args.tracker), args.config)
    trk = tracker.create(args.tracker, to_dict(tracker_config))
    overrides = _detector_overrides(args)
    from_file = load_yaml(args.detector_config) if args.detector_config else {}
    low = getattr(tracker_config, "byte_low_score", None)
    if "conf" not in overrides and "conf" not in from_file and low is not None and low < YOLODetectorConfig.conf:
        logger.info("detector conf lowered to the tracker's byte_low_score %.3f", low)
        overrides["conf"] = low
    detector_config = config_from_yaml(YOLODetectorConfig, args.detector_config, overrides)
    source = open_source(args.source, SourceConfig(fps=args.fps, image_topic=args.image_topic))
    try:
        bag = _bag_output(args, source)
        detector = YOLODetector(detector_config)
    except BaseException:
        source.close()
        raise
    logger.info("source %s; tracker %s %s", source.describe(), trk.name, to_dict(tracker_config))
    return source, detector, trk, bag


def run(args: argparse.Namespace) -> int:
    """Run ``vtrack track`` with parsed ``args`` (see :func:`add_arguments`).

    Returns:
        The exit status: 0 on success, 2 on bad input (one error line on stderr),
        130 when interrupted with Ctrl-C.
    """
    try:
        source, detector, trk, bag = _prepare(args)
    except (OutputError, ConfigError, SourceError, WeightsNotFoundError, ImportError, ValueError) as error:
        report.error(_COMMAND, str(error))
        return report.EXIT_ERROR
    except KeyboardInterrupt:
        report.error(_COMMAND, "interrupted before the first frame; nothing was written")
        return report.EXIT_INTERRUPTED
    with source:
        try:
            outputs = _Outputs(args.out, source, detector.names, not args.no_video, args.exist_ok, bag)
        except OSError as error:
            report.error(_COMMAND, f"cannot write the outputs (--out {args.out}): {error}")
            return report.EXIT_ERROR
        status = 0
        stats = _Stats()
        try:
            cmc = CameraMotionEstimator() if args.cmc else None
            _process(source, detector, trk, outputs, args.max_frames, stats, cmc)
        except SourceError as error:
            report.error(_COMMAND, f"{error} (results of the {stats.frames} frames before it are in {args.out})")
            status = report.EXIT_ERROR
        except KeyboardInterrupt:
            logger.warning("interrupted: keeping the results of the %d frames written", stats.frames)
            status = report.EXIT_INTERRUPTED
        finally:
            outputs.close()
        _summary(source, detector, trk, stats, outputs.paths)
    return status
