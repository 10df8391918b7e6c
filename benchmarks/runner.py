"""The benchmark harness: :func:`run_benchmark` runs tracker backends over a benchmark and scores them.

For every (backend, sequence) pair:

1. a fresh tracker is created with ``tracker.create(backend, settings)``, where the
   settings are none (the backend's defaults) or, for a variant ``NAME@FILE.yaml``, the
   overrides in ``FILE.yaml``, plus, for backends whose
   config has a ``frame_rate`` field (the peer libraries), the sequence's frame rate;
2. each frame ``f`` of the sequence's range gets its detections (from the sequence's
   detection file, or from the detector-driven cache) and is passed to
   ``update(detections, timestamp)`` with ``timestamp = (f - first frame number of the
   layout) / frame rate`` seconds. Two timers run: the whole ``update()`` call (``step
   fps``), and the tracking library's own update call (``update fps``): for vtrack's
   backends that is the same ``update()`` call, for the peer backends the seconds the
   adapter spent inside the peer library's update alone, which it reports itself
   (:class:`benchmarks.peers.adapters.LibraryTimed`);
3. the reported tracks are written in the evaluator's format (KITTI tracking rows of
   type ``Car``/``Pedestrian``, or MOTChallenge rows) to ``OUT/results/<backend>/<seq>.txt``
   in the dataset's own frame numbering (BDD100K: Scalabel JSON ``<seq>.json``, one
   frame per line, see :mod:`benchmarks.bdd100k`);
4. the pair is recorded in ``OUT/manifest.json`` under a key hashing the benchmark, the
   sequence and its range, the detections (file contents or detector cache key), the
   backend name and its full settings (with the peer library's version). A run with
   ``resume`` skips every pair whose key is already recorded and whose result file
   exists, so an interrupted run continues where it stopped.

Then each backend is scored by TrackEval (:mod:`benchmarks.evaluate`) on ground truth
cut to the sequences' ranges (:func:`benchmarks.datasets.write_eval_gt`), and the
report is written: ``summary.md`` (command, versions, table, what each timer covers,
settings, failures), ``combined.csv``, ``per_sequence.csv`` and ``chart.png``. Standard
output gets the table alone, the failures, and the path of ``summary.md``.

**A backend that raises.** An exception from a backend's ``update()`` on one sequence
(a peer library rejecting a degenerate box, a bug) does not stop the run: the pair is
recorded as a :class:`PairFailure` (backend, sequence, frame, exception type and
message) in the manifest, logged, and the run goes on with the other pairs. The
backend's sequences that did run are still scored one by one (``per_sequence.csv``),
but it gets no combined score: its row in the table and in ``combined.csv`` says it
failed and on how many sequences, and ``summary.md`` lists every failure. ``resume``
retries the failed pairs (and only those, with the pairs not yet run).

**Detector-driven mode** (benchmark ``detector:`` set): the detector runs over the
sequence's frame folder once; its raw detections are cached as
``<cache_dir>/<detector>-<key>/<seq>_<first>-<last>.csv`` (see :class:`DetectorCache`)
with the detection time in a ``.json`` beside it. The key hashes the detector's full
config and its resolved weights (and, per file, the image folder and the frame range),
so later runs replay identical detections; the end-to-end frame rate reuses the
detection time measured when the cache was written.

**Threads.** The run holds BLAS/OpenMP pools to one thread (``threadpoolctl``) and
calls ``torch.set_num_threads(1)`` and ``cv2.setNumThreads(1)`` when a backend's library
loaded torch or OpenCV (boxmot's camera motion runs on OpenCV), so ``update fps`` is a
single-threaded figure; both stay at one thread in the calling process afterwards.

**In parallel.** With ``workers`` > 1 the pairs run in that many worker processes, and
with ``ray`` as Ray tasks of one CPU each (:mod:`tracker.app.parallel`); each pair runs
through :func:`run_pair_job` as in a serial run, in a process whose BLAS/OpenMP pools
and torch hold one thread, so ``update fps`` stays a one-thread figure per pair (pairs
running side by side share the machine's memory bandwidth and caches, and a loaded
machine slows them: compare timings of runs made alike). The manifest, the result files,
the scores and every report file but the timing columns are those of a serial run. In
detector-driven mode the detector first runs here, once per sequence not cached yet.
On a Ray cluster, the dataset, ``out`` and ``cache_dir`` must be on a filesystem every
node shares, at the same paths.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import tracker
from benchmarks import bdd100k
from benchmarks.config import BenchmarkConfig, config_hash
from benchmarks.datasets import (
    Sequence,
    camera_motions,
    load_sequences,
    result_file,
    write_eval_gt,
    write_eval_tracker,
)
from benchmarks.evaluate import COMBINED, METRICS, evaluate
from benchmarks.peers import register_peers
from benchmarks.peers.adapters import LibraryTimed
from benchmarks.report import TIMERS_TEXT, RunStats, library_versions, report, results_tables, write_chart, write_csv
from detectors.files import FileDetections
from tracker.app.config import load_yaml
from tracker.app.parallel import RayPool, WorkerPool
from tracker.app.writers import format_mot_row, mot_rows
from tracker.config import from_mapping, to_dict
from tracker.registry import config_class
from tracker.types import Detections, Tracks

__all__ = [
    "BackendError",
    "BenchOptions",
    "BenchResult",
    "DetectorCache",
    "OutputExistsError",
    "PairFailure",
    "PairJob",
    "default_cache_dir",
    "run_benchmark",
    "run_pair_job",
]

logger = logging.getLogger(__name__)

#: Name of the run's record in the output folder (pairs done, their keys and timings, cached scores).
MANIFEST = "manifest.json"
#: How many times Ray re-runs a pair whose worker process or node died (``--ray``).
PAIR_TASK_RETRIES = 3
#: Version of the manifest layout; a different one is never resumed from (2: peers' update
#: seconds count the library call alone, and the whole update() is recorded as step seconds).
MANIFEST_VERSION = 2
#: KITTI tracking result row: frame id type truncated occluded alpha x1 y1 x2 y2 h w l X Y Z rot_y score,
#: with the 3D fields set to KITTI's "unknown" values.
_KITTI_ROW = (
    "{frame} {id} {type} -1 -1 -10 {x1:.2f} {y1:.2f} {x2:.2f} {y2:.2f} -1 -1 -1 -1000 -1000 -1000 -10 {score:.4f}"
)
#: Class id written in MOTChallenge result rows (TrackEval's MOT reader accepts -1 or 1 for pedestrians).
_MOT_RESULT_CLASS = -1
_NO_DETECTIONS = Detections.empty()
#: Chunk size for hashing detection files, bytes.
_HASH_CHUNK = 1 << 20
_VTRACK_VERSION = library_versions()["vtrack"]
#: Timing columns of the CSV files (see :class:`benchmarks.report.RunStats`).
_STAT_COLUMNS = (
    "frames",
    "detections",
    "update_seconds",
    "update_fps",
    "step_seconds",
    "step_fps",
    "dets_per_frame",
    "detect_seconds",
    "e2e_fps",
)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vtrack/detections`` (``~/.cache/vtrack/detections`` when unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vtrack" / "detections"


#: Separates a backend name from the YAML file of a variant's overrides in ``--trackers``.
VARIANT_SEPARATOR = "@"


class OutputExistsError(FileExistsError):
    """The output folder is not empty and neither ``resume`` nor ``exist_ok`` was given."""


class BackendError(RuntimeError):
    """A backend's ``update()`` raised while the harness ran it on a sequence.

    Attributes:
        frame: the frame (the dataset's numbering) whose ``update()`` raised.
        error: the exception the backend raised.
    """

    def __init__(self, frame: int, error: Exception) -> None:
        self.frame = frame
        self.error = error
        super().__init__(f"update() raised {type(error).__name__} at frame {frame}: {_first_line(error)}")


@dataclass(frozen=True)
class PairFailure:
    """A (backend, sequence) pair whose ``update()`` raised; recorded, and the run went on.

    Attributes:
        backend: the backend's label (``--trackers`` entry).
        sequence: the sequence's name.
        frame: the frame (the dataset's numbering) whose ``update()`` raised.
        error: the exception's type name (``ValueError``).
        message: the first line of the exception's message (may be empty).
    """

    backend: str
    sequence: str
    frame: int
    error: str
    message: str

    def describe(self) -> str:
        """``"ValueError at frame 12: message"``."""
        return (
            f"{self.error} at frame {self.frame}: {self.message}"
            if self.message
            else f"{self.error} at frame {self.frame}"
        )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


@dataclass(frozen=True)
class BenchOptions:
    """How to run a benchmark.

    Attributes:
        trackers: backend names (``tracker.available()`` after :func:`register_peers`), or
            variants ``NAME@LABEL`` whose overrides are in ``variants``.
        variants: variant label (``NAME@LABEL``) -> YAML file of config overrides of
            ``NAME``'s defaults (ablations; settings tuned on a benchmark, ``configs/tuned/``).
        out: output folder.
        resume: reuse the (backend, sequence) pairs already done in ``out``.
        exist_ok: write into a non-empty ``out``, recomputing every pair.
        sequences: only these sequences (empty: the benchmark's).
        cache_dir: detector-driven mode: where detections are cached.
        command: the command line, written at the top of the report.
        progress: show a tqdm progress bar on standard error.
        detect_every: the detections of every K-th frame only (frames 0, K, 2K, ... of each
            sequence); on the others a backend that can predicts its tracks
            (``Tracker.predict()``, as ``vtrack track --detect-every`` does) and any other gets
            no detections. Measures what skipping the detector costs.
        workers: run the pairs in this many worker processes (1: one after the other, here).
        ray: run the pairs as Ray tasks on the cluster at this address (``"local"``: a
            local Ray instance; see :func:`tracker.app.parallel.on_ray`), or None.
    """

    trackers: tuple[str, ...]
    out: Path
    variants: dict[str, Path] = field(default_factory=dict)
    resume: bool = False
    exist_ok: bool = False
    sequences: tuple[str, ...] = ()
    cache_dir: Path = field(default_factory=default_cache_dir)
    command: str = ""
    progress: bool = True
    detect_every: int = 1
    workers: int = 1
    ray: str | None = None

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {self.detect_every}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.ray is not None and self.workers > 1:
            raise ValueError("--workers sets local worker processes; with --ray, Ray spreads the pairs: give one")


@dataclass(frozen=True)
class BenchResult:
    """What :func:`run_benchmark` produced.

    Attributes:
        combined: backend -> combined metrics (:data:`~benchmarks.evaluate.METRICS`), or
            None for a backend that failed on a sequence (never a score of a partial set).
        per_sequence: backend -> sequence -> metrics, for the pairs that ran to the end.
        stats: backend -> :class:`~benchmarks.report.RunStats` over all sequences, or None
            for a backend that failed on a sequence.
        computed: the (backend, sequence) pairs run now (not taken from a previous run),
            failed ones included.
        markdown: the report's text (also in ``summary.md``).
        files: name -> path of each written report file.
        failures: the pairs whose ``update()`` raised, in run order.
    """

    combined: dict[str, dict[str, float] | None]
    per_sequence: dict[str, dict[str, dict[str, float]]]
    stats: dict[str, RunStats | None]
    computed: list[tuple[str, str]]
    markdown: str
    files: dict[str, Path]
    failures: list[PairFailure] = field(default_factory=list)


# Detections -------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def _load_file_detections(bench: BenchmarkConfig, seq: Sequence) -> FileDetections:
    path = seq.detections_path
    if bench.detection_format == "scalabel":
        return bdd100k.load_detections(bench, seq)
    if bench.detection_format == "mot":
        return FileDetections.from_mot(path, class_id=bench.class_id)
    if bench.detection_format == "kitti_csv":
        return FileDetections.from_kitti_csv(path, class_id=bench.class_id)
    return FileDetections.from_kitti_label(path, types=(bench.eval_class,), class_id=bench.class_id)


class DetectorCache:
    """Detector-driven detections: the benchmark's detector run once per sequence, cached as CSV.

    The cache folder ``<cache_dir>/<detector>-<key>`` is keyed by the detector's full
    config and its resolved weights; each sequence is ``<seq>_<first>-<last>.csv``
    (:meth:`detectors.files.FileDetections.to_csv`, frames in the dataset's numbering)
    with a ``.json`` holding the image folder, the range, and the seconds spent reading
    frames and detecting (torch limited to one thread). The detector is loaded on the
    first cache miss only, followed by one untimed warm-up inference on a blank
    ``imgsz`` x ``imgsz`` image, so model loading and lazy initialisation are not timed.

    Raises:
        tracker.config.ConfigError: the benchmark's detector config is invalid.
    """

    def __init__(self, bench: BenchmarkConfig, cache_dir: Path) -> None:
        from detectors.yolo import YOLODetectorConfig, resolve_weights

        self._config = from_mapping(YOLODetectorConfig, bench.detector.config, source=bench.source)
        self._identity = {
            "detector": bench.detector.name,
            "config": to_dict(self._config),
            "weights": resolve_weights(self._config.weights),
        }
        self.folder = cache_dir / f"{bench.detector.name}-{config_hash(self._identity)}"
        self._detector: Any = None

    def key(self, seq: Sequence) -> str:
        """The cache key of ``seq``'s detections: detector identity, image folder and frame range."""
        frames = [seq.first_frame, seq.last_frame]
        return config_hash({**self._identity, "images": str(seq.image_dir), "frames": frames})

    def load(self, seq: Sequence) -> tuple[FileDetections, float]:
        """``(detections, detect_seconds)`` of ``seq``, from the cache or by running the detector."""
        stem = f"{seq.name}_{seq.first_frame}-{seq.last_frame}"
        csv_path, meta_path = self.folder / f"{stem}.csv", self.folder / f"{stem}.json"
        if csv_path.is_file() and meta_path.is_file():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("key") == self.key(seq):
                logger.info("%s: detections from the cache %s", seq.name, csv_path)
                return FileDetections.from_kitti_csv(csv_path), float(meta["detect_seconds"])
        frames, seconds = self._detect(seq)
        self.folder.mkdir(parents=True, exist_ok=True)
        FileDetections(frames, source=str(csv_path)).to_csv(csv_path)
        meta = {**self._identity, "key": self.key(seq), "images": str(seq.image_dir), "detect_seconds": seconds}
        meta["frames"] = [seq.first_frame, seq.last_frame]
        meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return FileDetections.from_kitti_csv(csv_path), seconds

    def _detect(self, seq: Sequence) -> tuple[dict[int, Detections], float]:
        from detectors.yolo import YOLODetector
        from tracker.app.sources import FolderSource, SourceConfig

        if self._detector is None:
            self._detector = YOLODetector(self._config)
            sys.modules["torch"].set_num_threads(1)
            self._detector(np.zeros((self._config.imgsz, self._config.imgsz, 3), dtype=np.uint8))
        source = FolderSource(seq.image_dir, SourceConfig(fps=seq.frame_rate))
        if seq.image_names:  # BDD100K: images named by the ground truth; others are not evaluated
            frame_of = {name: seq.first_frame + i for i, name in enumerate(seq.image_names)}
            numbers = [frame_of.get(path.name, seq.first_frame - 1) for path in source.files]
        else:
            numbers = [int(path.stem) for path in source.files]
        frames: dict[int, Detections] = {}
        seconds = 0.0
        with source:
            start = time.perf_counter()
            for number, frame in zip(numbers, source, strict=True):
                if number > seq.last_frame:
                    break
                if number >= seq.first_frame:
                    frames[number] = self._detector(frame.image)
                    seconds += time.perf_counter() - start
                start = time.perf_counter()
        logger.info("%s: detected %d frames in %.2f s", seq.name, len(frames), seconds)
        return frames, seconds


# Running one pair -------------------------------------------------------------------------------


def variant(entry: str) -> tuple[str, Path | None]:
    """Split a ``--trackers`` entry ``NAME`` or ``NAME@overrides.yaml`` into its label and YAML path.

    The label of ``sort@configs/ablation/x.yaml`` is ``sort@x``.
    """
    name, _, path = entry.partition(VARIANT_SEPARATOR)
    return (f"{name}{VARIANT_SEPARATOR}{Path(path).stem}", Path(path)) if path else (name, None)


def _make_tracker(
    bench: BenchmarkConfig, label: str, seq: Sequence, variants: dict[str, Path]
) -> tuple[tracker.Tracker, dict[str, Any]]:
    """A fresh tracker for ``seq`` and its full settings (config, library and version)."""
    backend = label.partition(VARIANT_SEPARATOR)[0]
    settings = load_yaml(variants[label]) if label in variants else {}
    if "frame_rate" in {f.name for f in dataclasses.fields(config_class(backend))}:
        settings.setdefault("frame_rate", seq.frame_rate)
    instance = tracker.create(backend, settings)
    source = str(variants[label]) if label in variants else f"{bench.source}: {label}"
    config = from_mapping(config_class(backend), settings, source=source)
    record: dict[str, Any] = {"config": to_dict(config), "library": "vtrack", "version": _VTRACK_VERSION}
    record.update(getattr(instance, "settings", {}))
    return instance, record


def _result_lines(bench: BenchmarkConfig, seq: Sequence, frame: int, tracks: Tracks) -> list[str]:
    if bench.format == "bdd100k":
        return [bdd100k.result_line(seq, frame, tracks)]
    if bench.format == "kitti":
        kind = bench.eval_class.capitalize()
        rows = zip(tracks.ids.tolist(), tracks.xyxy.tolist(), tracks.scores.tolist(), strict=True)
        return [
            _KITTI_ROW.format(frame=frame, id=track_id, type=kind, x1=b[0], y1=b[1], x2=b[2], y2=b[3], score=score)
            for track_id, b, score in rows
        ]
    return [format_mot_row(row._replace(class_id=_MOT_RESULT_CLASS)) for row in mot_rows(frame, tracks)]


def _run_pair(
    bench: BenchmarkConfig,
    seq: Sequence,
    instance: tracker.Tracker,
    detections: FileDetections,
    path: Path,
    detect_every: int = 1,
) -> RunStats:
    """Feed every frame of ``seq`` to ``instance``, write its results to ``path``, return the timings.

    ``detect_every``: see :attr:`BenchOptions.detect_every` (the timers count the calls on
    every frame, ``predict()`` included).

    Raises:
        BackendError: ``instance.update()`` (or ``predict()``) raised (nothing is written).
    """
    predict = getattr(instance, "predict", None) if getattr(instance, "supports_predict", False) else None
    keep = np.asarray(bench.keep_class_ids, dtype=np.int64)
    motions = camera_motions(bench, seq) if getattr(instance, "supports_camera_motion", False) else None
    library = instance if isinstance(instance, LibraryTimed) else None
    library_before = library.library_seconds if library else 0.0
    lines: list[str] = []
    seconds = 0.0
    count = 0
    for frame in seq.frames:
        skipped = (frame - seq.first_frame) % detect_every != 0
        dets = _NO_DETECTIONS if skipped else detections[frame]
        if len(keep):
            dets = dets[np.isin(dets.class_ids, keep)]
        count += len(dets)
        motion = None if motions is None else motions.get(frame)
        start = time.perf_counter()
        try:
            if skipped and predict is not None:
                tracks = predict(seq.timestamp(frame), camera_motion=motion)
            else:
                tracks = instance.update(dets, seq.timestamp(frame), camera_motion=motion)
        except Exception as error:
            raise BackendError(frame, error) from error
        seconds += time.perf_counter() - start
        lines.extend(_result_lines(bench, seq, frame, tracks))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = bdd100k.results_text(lines) if bench.format == "bdd100k" else "".join(line + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    update_seconds = library.library_seconds - library_before if library else seconds
    return RunStats(frames=seq.num_frames, detections=count, update_seconds=update_seconds, step_seconds=seconds)


# Output folder and manifest ---------------------------------------------------------------------


def _prepare_out(options: BenchOptions) -> dict[str, Any]:
    out = options.out
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")
    non_empty = out.is_dir() and any(out.iterdir())
    if non_empty and not (options.resume or options.exist_ok):
        raise OutputExistsError(f"{out}: output folder is not empty; pass --resume to continue or --exist-ok to redo")
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    if options.resume and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("version") == MANIFEST_VERSION:
            return manifest
        logger.warning(
            "%s: manifest layout %s is not %s; recomputing", manifest_path, manifest.get("version"), MANIFEST_VERSION
        )
    return {"version": MANIFEST_VERSION, "pairs": {}, "evaluations": {}}


def _save_manifest(out: Path, manifest: dict[str, Any]) -> None:
    path = out / MANIFEST
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def _bench_identity(bench: BenchmarkConfig) -> dict[str, Any]:
    identity = to_dict(bench)
    for key in ("source", "sequences"):
        identity.pop(key)
    return identity


# The harness ------------------------------------------------------------------------------------


def run_benchmark(bench: BenchmarkConfig, options: BenchOptions) -> BenchResult:
    """Run ``options.trackers`` over ``bench``, score them with TrackEval and write the report.

    Args:
        bench: the benchmark (see :mod:`benchmarks.config`).
        options: backends, output folder, resume behaviour, sequence subset.

    Returns:
        The metrics, timings and written files (see :class:`BenchResult`).

    Raises:
        OutputExistsError: ``options.out`` is not empty and neither ``resume`` nor
            ``exist_ok`` is set.
        ValueError: an unknown backend name (the message lists the available ones).
        ModuleNotFoundError: a peer backend's library is not installed.
        benchmarks.datasets.DatasetError: a dataset file is missing or malformed.
        detectors.files.DetectionFileError: a malformed detection row (file and line).
        benchmarks.evaluate.EvaluationError: TrackEval rejected the results.
    """
    register_peers()
    unknown = [
        name
        for name in options.trackers
        if name.partition(VARIANT_SEPARATOR)[0] not in tracker.available()
        or (VARIANT_SEPARATOR in name and name not in options.variants)
    ]
    if unknown or not options.trackers:
        raise ValueError(
            f"unknown tracker backend(s) {', '.join(unknown) or '(none given)'}; "
            f"available: {', '.join(tracker.available())}"
        )
    sequences = load_sequences(bench, list(options.sequences) or None)
    manifest = _prepare_out(options)
    out = options.out
    bench_id = config_hash(_bench_identity(bench))
    shutil.rmtree(_gt_folder(out), ignore_errors=True)
    write_eval_gt(bench, sequences, _gt_folder(out))
    with threadpool_limits(limits=1), _open_pool(options) or contextlib.nullcontext() as pool:
        for backend in options.trackers:
            _make_tracker(bench, backend, sequences[0], options.variants)
        _one_thread_in_loaded_libraries()
        computed = _run_pairs(bench, options, sequences, manifest, bench_id, pool)
    combined, per_sequence, stats = _evaluate_all(bench, options, sequences, manifest)
    _save_manifest(out, manifest)
    failures = _failures(options, sequences, manifest)
    markdown, files = _write_report(bench, options, sequences, manifest, combined, per_sequence, stats, failures)
    rows = _table_rows(options, sequences, combined, stats, failures)
    failed = "".join(f"failed: {f.backend} on {f.sequence}: {f.describe()}\n" for f in failures)
    report(
        f"vtrack bench: {bench.name}\n\n{results_tables(rows, options.variants, bench.name)}\n\n{failed}"
        "update fps: the tracking library's own update call; step fps: the whole update(), adapters included.\n"
        f"Full report (command, versions, what each timer covers, settings, failures): {files['summary']}"
    )
    return BenchResult(combined, per_sequence, stats, computed, markdown, files, failures)


@dataclass(frozen=True)
class PairJob:
    """One (backend, sequence) pair to run: all :func:`run_pair_job` needs, picklable for worker processes and Ray.

    Attributes:
        bench: the benchmark.
        seq: the sequence, cut to the benchmark's frame range.
        backend: the backend's label (a ``--trackers`` entry).
        variants: the variant overrides (label -> YAML file), as in :class:`BenchOptions`.
        key: the pair's manifest key (see the module doc).
        settings: the backend's full settings, as recorded in the manifest.
        source_key: the detections' identity (file digest or detector cache key).
        result_path: where the results are written (absolute).
        detect_every: see :attr:`BenchOptions.detect_every`.
        cache_dir: detector-driven mode: the detection cache (already filled for ``seq``).
    """

    bench: BenchmarkConfig
    seq: Sequence
    backend: str
    variants: dict[str, Path]
    key: str
    settings: dict[str, Any]
    source_key: str
    result_path: Path
    detect_every: int = 1
    cache_dir: Path | None = None


#: Detections loaded in this process: identity -> (detections, detect seconds). A serial run keeps the
#: last sequence's (its pairs come sequence by sequence); a worker process keeps every sequence it read,
#: since it gets the pairs backend by backend (see :func:`_run_pairs`).
_loaded: dict[tuple[Any, ...], tuple[FileDetections, float | None]] = {}
#: How many sequences' detections :data:`_loaded` keeps (None: all); worker processes lift it.
_loaded_limit: list[int | None] = [1]


def _pair_detections(job: PairJob) -> tuple[FileDetections, float | None]:
    bench, seq = job.bench, job.seq
    identity = (job.source_key, bench.detection_format, bench.class_id, bench.eval_class, seq.name, seq.frames)
    if identity in _loaded:
        return _loaded[identity]
    if job.cache_dir is not None:
        loaded: tuple[FileDetections, float | None] = DetectorCache(bench, job.cache_dir).load(seq)
    else:
        loaded = (_load_file_detections(bench, seq), None)
    limit = _loaded_limit[0]
    if limit is not None and len(_loaded) >= limit:
        _loaded.clear()
    _loaded[identity] = loaded
    return loaded


def _one_thread_in_loaded_libraries() -> None:
    """torch and OpenCV, when a backend's library loaded them, on one thread (BLAS/OpenMP: ``threadpoolctl``)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(1)


def run_pair_job(job: PairJob, instance: tracker.Tracker | None = None) -> dict[str, Any]:
    """Run one (backend, sequence) pair and return its manifest record.

    The serial loop, the worker processes of ``--workers`` and the Ray tasks of ``--ray``
    all run a pair through this function, so a pair gives the same results wherever it runs.

    Args:
        job: the pair.
        instance: a fresh tracker for it, or None to create one here.

    Returns:
        ``{"key", "settings", "stats"}`` (:class:`~benchmarks.report.RunStats` as a dict), or
        ``{"key", "settings", "failure"}`` when the backend raised (:class:`BackendError`:
        logged, its result file removed).

    Raises:
        benchmarks.datasets.DatasetError, detectors.files.DetectionFileError: bad data.
        ModuleNotFoundError: the backend's peer library is not installed.
    """
    if instance is None:
        instance, _ = _make_tracker(job.bench, job.backend, job.seq, job.variants)
    _one_thread_in_loaded_libraries()
    detections, detect_seconds = _pair_detections(job)
    record: dict[str, Any] = {"key": job.key, "settings": job.settings}
    try:
        stats = _run_pair(job.bench, job.seq, instance, detections, job.result_path, job.detect_every)
    except BackendError as failed:
        job.result_path.unlink(missing_ok=True)
        record["failure"] = {
            "frame": failed.frame,
            "error": type(failed.error).__name__,
            "message": _first_line(failed.error),
        }
        logger.warning("%s on %s: %s (recorded; the run goes on)", job.backend, job.seq.name, failed)
        logger.debug("%s on %s: traceback", job.backend, job.seq.name, exc_info=failed.error)
    else:
        record["stats"] = dataclasses.asdict(dataclasses.replace(stats, detect_seconds=detect_seconds))
    return record


#: Whether this worker process has been set up by :func:`_setup_worker`.
_worker_ready: list[bool] = []


def _setup_worker() -> None:
    """Once per worker process or Ray worker: peers registered, BLAS/OpenMP pools held to one thread, and
    every sequence's detections kept once read."""
    if not _worker_ready:
        register_peers()
        threadpool_limits(limits=1)
        _loaded.clear()
        _loaded_limit[0] = None
        _worker_ready.append(True)


def _pair_in_worker(job: PairJob) -> dict[str, Any]:
    """:func:`run_pair_job` in a worker process or Ray task."""
    _setup_worker()
    return run_pair_job(job)


def _evaluate_in_worker(job: EvalJob) -> dict[str, Any]:
    """:func:`evaluate_backend` in a worker process or Ray task."""
    _setup_worker()
    return evaluate_backend(job)


def _plan_pairs(
    bench: BenchmarkConfig,
    options: BenchOptions,
    sequences: list[Sequence],
    manifest: dict[str, Any],
    bench_id: str,
    detector_cache: DetectorCache | None,
) -> Iterator[tuple[PairJob, tracker.Tracker]]:
    """The pairs to run, sequence by sequence, each with a fresh tracker; pairs done before are skipped."""
    out = options.out.absolute()
    cache_dir = options.cache_dir.absolute() if detector_cache else None
    for seq in sequences:
        source_key = detector_cache.key(seq) if detector_cache else _file_digest(seq.detections_path)
        for backend in options.trackers:
            instance, settings = _make_tracker(bench, backend, seq, options.variants)
            identity = {
                "benchmark": bench_id,
                "sequence": [seq.name, seq.first_frame, seq.last_frame],
                "detections": source_key,
                "backend": backend,
                "settings": settings,
                "detect_every": options.detect_every,
            }
            key = config_hash(identity)
            result_path = out / "results" / backend / result_file(bench, seq.name)
            entry = manifest["pairs"].get(f"{backend}/{seq.name}")
            if entry and entry["key"] == key and "failure" not in entry and result_path.is_file():
                logger.info("%s on %s: done in a previous run, skipped", backend, seq.name)
                continue
            variants = {label: Path(path).absolute() for label, path in options.variants.items() if label == backend}
            job = PairJob(bench, seq, backend, variants, key, settings, source_key, result_path)
            yield dataclasses.replace(job, detect_every=options.detect_every, cache_dir=cache_dir), instance


def _open_pool(options: BenchOptions) -> WorkerPool | RayPool | None:
    """The worker processes or Ray tasks of a parallel run (None: a serial run).

    Worker processes are forked where the system can (Linux, macOS): a pair takes a
    second or less, and a fresh interpreter importing NumPy, SciPy, TrackEval and a peer
    library's torch would cost a worker more than that. They fork at the first
    submission, after this process built every backend (so the libraries are loaded)
    with its BLAS/OpenMP pools and torch held to one thread.
    """
    if options.ray is not None:
        return RayPool(options.ray, num_cpus=1, retries=PAIR_TASK_RETRIES)
    if options.workers == 1:
        return None
    start = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return WorkerPool(options.workers, start_method=start)


def _run_pairs(
    bench: BenchmarkConfig,
    options: BenchOptions,
    sequences: list[Sequence],
    manifest: dict[str, Any],
    bench_id: str,
    pool: WorkerPool | RayPool | None,
) -> list[tuple[str, str]]:
    """Run the pairs not done yet and record each in the manifest: here one by one, or in ``pool`` (where each
    backend's scoring also runs, as soon as its last pair is recorded)."""
    detector_cache = DetectorCache(bench, options.cache_dir) if bench.detector else None
    total = len(sequences) * len(options.trackers)
    computed: list[tuple[str, str]] = []
    with tqdm(total=total, desc=f"bench {bench.name}", unit="run", disable=not options.progress) as bar:

        def record(job: PairJob, entry: dict[str, Any]) -> None:
            manifest["pairs"][f"{job.backend}/{job.seq.name}"] = entry
            _save_manifest(options.out, manifest)
            computed.append((job.backend, job.seq.name))
            bar.set_postfix_str(f"{job.backend} {job.seq.name}")
            bar.update()

        planned = list(_plan_pairs(bench, options, sequences, manifest, bench_id, detector_cache))
        bar.update(total - len(planned))
        if detector_cache is not None:  # detect here, once per sequence and with one model, before the pairs
            for seq in dict.fromkeys(job.seq for job, _ in planned):
                detector_cache.load(seq)
        if pool is None:
            for job, instance in planned:
                record(job, run_pair_job(job, instance))
            return computed
        left = dict.fromkeys(options.trackers, 0)
        for job, _ in sorted(planned, key=lambda item: options.trackers.index(item[0].backend)):
            pool.submit(_pair_in_worker, job)  # backend by backend: each one's scoring overlaps the next one's pairs
            left[job.backend] += 1

        def score(backend: str) -> None:
            evaluation = _evaluation_job(bench, options, sequences, manifest, backend)
            if evaluation is not None:
                pool.submit(_evaluate_in_worker, evaluation)

        for backend in (backend for backend, count in left.items() if count == 0):
            score(backend)
        for argument, result in pool.results():
            if isinstance(result, BaseException):
                raise result
            if isinstance(argument, PairJob):
                record(argument, result)
                left[argument.backend] -= 1
                if left[argument.backend] == 0:
                    score(argument.backend)
            elif isinstance(argument, EvalJob):
                manifest["evaluations"][argument.backend] = result
                _save_manifest(options.out, manifest)
    order = {(job.backend, job.seq.name): index for index, (job, _) in enumerate(planned)}
    return sorted(computed, key=order.__getitem__)


def _failures(options: BenchOptions, sequences: list[Sequence], manifest: dict[str, Any]) -> list[PairFailure]:
    """The failed pairs of this run's backends and sequences, in run order (sequence by sequence)."""
    failures = []
    for seq in sequences:
        for backend in options.trackers:
            failure = manifest["pairs"][f"{backend}/{seq.name}"].get("failure")
            if failure is not None:
                failures.append(PairFailure(backend=backend, sequence=seq.name, **failure))
    return failures


@dataclass(frozen=True)
class EvalJob:
    """Scoring one backend with TrackEval on the sequences it ran to the end (see :func:`evaluate_backend`).

    Attributes:
        bench: the benchmark.
        out: the run's output folder (absolute); its ``eval/gt`` holds the ground truth of every sequence.
        backend: the backend's label.
        done: the sequences whose pair ran to the end, in benchmark order.
        complete: whether ``done`` is every sequence (else each is scored on its own ground truth subset).
        key: the evaluation's manifest key (a hash of the pairs' keys).
    """

    bench: BenchmarkConfig
    out: Path
    backend: str
    done: tuple[Sequence, ...]
    complete: bool
    key: str


def _gt_folder(out: Path) -> Path:
    return out / "eval" / "gt"


def _evaluation_job(
    bench: BenchmarkConfig, options: BenchOptions, sequences: list[Sequence], manifest: dict[str, Any], backend: str
) -> EvalJob | None:
    """The scoring ``backend`` needs once every pair of it is recorded; None when none ran to the end or the
    manifest holds its scores under the same key."""
    done = tuple(seq for seq in sequences if "failure" not in manifest["pairs"][f"{backend}/{seq.name}"])
    if not done:
        return None
    key = config_hash([manifest["pairs"][f"{backend}/{seq.name}"]["key"] for seq in done])
    cached = manifest["evaluations"].get(backend)
    if cached is not None and cached["key"] == key:
        return None
    return EvalJob(bench, options.out.absolute(), backend, done, len(done) == len(sequences), key)


def evaluate_backend(job: EvalJob) -> dict[str, Any]:
    """Score one backend's results with TrackEval: its manifest entry ``{"key", "metrics"}``.

    Writes the results in TrackEval's layout to ``out/eval/trackers/<backend>/data`` (and,
    for a backend that failed on a sequence, the ground truth of the others to
    ``out/eval/gt_subsets/<backend>``). Run here by the serial path, and in a worker
    process or Ray task in parallel runs.

    Raises:
        benchmarks.evaluate.EvaluationError: TrackEval rejected the results.
    """
    bench, out, backend = job.bench, job.out, job.backend
    gt = _gt_folder(out)
    if not job.complete:  # the sequences it ran to the end, each scored on its own
        gt = out / "eval" / "gt_subsets" / backend
        shutil.rmtree(gt, ignore_errors=True)
        write_eval_gt(bench, list(job.done), gt)
    trackers_folder = out / "eval" / "trackers"
    data = trackers_folder / backend / "data"
    shutil.rmtree(data, ignore_errors=True)
    for seq in job.done:
        name = result_file(bench, seq.name)
        write_eval_tracker(bench, seq, out / "results" / backend / name, data / name)
    return {"key": job.key, "metrics": evaluate(bench, gt, trackers_folder, backend)}


def _evaluate_all(
    bench: BenchmarkConfig, options: BenchOptions, sequences: list[Sequence], manifest: dict[str, Any]
) -> tuple[dict[str, dict[str, float] | None], dict[str, dict[str, dict[str, float]]], dict[str, RunStats | None]]:
    """Score every backend on the sequences it ran to the end (unless its scores are in the manifest already);
    combined figures only for those that failed on none."""
    combined: dict[str, dict[str, float] | None] = {}
    per_sequence: dict[str, dict[str, dict[str, float]]] = {}
    stats: dict[str, RunStats | None] = {}
    for backend in options.trackers:
        job = _evaluation_job(bench, options, sequences, manifest, backend)
        if job is not None:
            manifest["evaluations"][backend] = evaluate_backend(job)
        done = [seq for seq in sequences if "failure" not in manifest["pairs"][f"{backend}/{seq.name}"]]
        combined[backend], stats[backend], per_sequence[backend] = None, None, {}
        if not done:
            continue
        cached = manifest["evaluations"][backend]
        per_sequence[backend] = {seq.name: cached["metrics"][seq.name] for seq in done}
        if len(done) == len(sequences):
            entries = [manifest["pairs"][f"{backend}/{seq.name}"] for seq in done]
            combined[backend] = cached["metrics"][COMBINED]
            stats[backend] = sum((RunStats(**entry["stats"]) for entry in entries[1:]), RunStats(**entries[0]["stats"]))
    return combined, per_sequence, stats


def _failed_text(backend: str, sequences: list[Sequence], failures: list[PairFailure]) -> str:
    """``""`` for a backend that failed on no sequence, else ``"failed on K of N sequences: 0000, 0003"``."""
    names = [f.sequence for f in failures if f.backend == backend]
    return f"failed on {len(names)} of {len(sequences)} sequences: {', '.join(names)}" if names else ""


def _table_rows(
    options: BenchOptions,
    sequences: list[Sequence],
    combined: dict[str, dict[str, float] | None],
    stats: dict[str, RunStats | None],
    failures: list[PairFailure],
) -> list[tuple[str, dict[str, float] | None, RunStats | None]]:
    """The table's rows: a failed backend's label says so, and it has no figures."""
    rows = []
    for backend in options.trackers:
        failed = _failed_text(backend, sequences, failures)
        rows.append((f"{backend} ({failed})" if failed else backend, combined[backend], stats[backend]))
    return rows


def _write_report(
    bench: BenchmarkConfig,
    options: BenchOptions,
    sequences: list[Sequence],
    manifest: dict[str, Any],
    combined: dict[str, dict[str, float] | None],
    per_sequence: dict[str, dict[str, dict[str, float]]],
    stats: dict[str, RunStats | None],
    failures: list[PairFailure],
) -> tuple[str, dict[str, Path]]:
    out = options.out
    rows = _table_rows(options, sequences, combined, stats, failures)
    versions = library_versions()
    frames = sum(seq.num_frames for seq in sequences)
    source = f"detector `{bench.detector.name}` {dict(bench.detector.config)}" if bench.detector else bench.detections
    settings = {
        backend: manifest["pairs"][f"{backend}/{sequences[0].name}"]["settings"] for backend in options.trackers
    }
    failure_lines = []
    if failures:
        failure_lines = [
            "Failures: these backends raised in update() on these sequences. The run went on; a backend that "
            "failed on a sequence has no combined score (its other sequences are scored in per_sequence.csv), "
            "and `--resume` retries only these pairs.",
            "",
            *(f"- `{f.backend}` on `{f.sequence}`: {f.describe()}" for f in failures),
            "",
        ]
    lines = [
        f"# vtrack bench: {bench.name}",
        "",
        f"Command: `{options.command}`" if options.command else "Command: (called from Python)",
        "",
        f"Date: {datetime.now(UTC).isoformat(timespec='seconds')} · machine: {platform_line()}",
        "",
        "Versions: " + ", ".join(f"{name} {v}" for name, v in versions.items() if v != "not installed"),
        "",
        f"Benchmark: `{bench.source}` ({bench.format}, class {bench.eval_class}, frame range {bench.frame_range}); "
        f"{len(sequences)} sequences, {frames} frames; detections: {source}",
        "",
        "Scores: TrackEval (HOTA, DetA, AssA averaged over its 19 thresholds; MOTA, IDF1 in %; IDSW a count), "
        "combined over the sequences.",
        "",
        f"Speed: {TIMERS_TEXT}",
        "",
        results_tables(rows, options.variants, bench.name),
        "",
        *failure_lines,
        "Settings (first sequence; frame_rate follows each sequence):",
        "",
        *(f"- `{backend}`: `{json.dumps(value, sort_keys=True)}`" for backend, value in settings.items()),
    ]
    markdown = "\n".join(lines) + "\n"
    files = {"summary": out / "summary.md"}
    files["summary"].write_text(markdown, encoding="utf-8")
    stat_header = list(_STAT_COLUMNS)
    combined_rows = []
    for backend in options.trackers:
        metrics, backend_stats = combined[backend], stats[backend]
        combined_rows.append(
            [bench.name, backend, *_metric_cells(metrics), *_stat_cells(backend_stats)]
            + [_failed_text(backend, sequences, failures) or "ok"]
        )
    files["combined"] = write_csv(
        out / "combined.csv", ["benchmark", "backend", *METRICS, *stat_header, "status"], combined_rows
    )
    failed = {(f.backend, f.sequence): f for f in failures}
    per_rows = []
    for backend in options.trackers:
        for seq in sequences:
            entry = manifest["pairs"][f"{backend}/{seq.name}"]
            failure = failed.get((backend, seq.name))
            seq_stats = None if failure else RunStats(**entry["stats"])
            per_rows.append(
                [bench.name, backend, seq.name, seq.first_frame, seq.last_frame]
                + _metric_cells(per_sequence[backend].get(seq.name))
                + _stat_cells(seq_stats)
                + [f"failed: {failure.describe()}" if failure else "ok"]
            )
    files["per_sequence"] = write_csv(
        out / "per_sequence.csv",
        ["benchmark", "backend", "sequence", "first_frame", "last_frame", *METRICS, *stat_header, "status"],
        per_rows,
    )
    scored = [(backend, m, st) for backend, m, st in rows if m is not None and st is not None]
    files["chart"] = write_chart(out / "chart.png", f"vtrack bench: {bench.name}", scored)
    return markdown, files


def _metric_cells(metrics: dict[str, float] | None) -> list[object]:
    """The :data:`METRICS` of one row; empty cells where there is no score (a failed pair or backend)."""
    return [metrics[k] for k in METRICS] if metrics is not None else [""] * len(METRICS)


def _stat_cells(stats: RunStats | None) -> list[object]:
    if stats is None:
        return [""] * len(_STAT_COLUMNS)
    return [
        stats.frames,
        stats.detections,
        stats.update_seconds,
        stats.update_fps,
        stats.step_seconds,
        stats.step_fps,
        stats.dets_per_frame,
        stats.detect_seconds,
        stats.e2e_fps,
    ]


def platform_line() -> str:
    """The machine in one line: OS, processor architecture and CPU count."""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
