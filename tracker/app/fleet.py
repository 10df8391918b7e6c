"""Many sources in one ``vtrack track`` command: one job per source, run serially, in worker processes or on Ray.

This module is the ``vtrack track`` command (:func:`add_arguments`, :func:`run`): one
source runs as :func:`tracker.app.track.run` into ``--out``; a *fleet* run
(:func:`is_fleet`) is one where ``vtrack track`` gets several SOURCEs, a folder of
videos, a glob or ``@LIST``, or any of ``--workers``, ``--ray`` and ``--resume``.
:func:`expand_sources` turns the SOURCE arguments into one source per job:

- a **folder of videos** (a folder that is neither a frame folder nor a rosbag2) gives
  its video files (:data:`~tracker.app.sources.VIDEO_EXTENSIONS`), rosbag2 files and its
  sub-folders that are frame folders or rosbag2s, in natural name order (``2`` before
  ``10``); other files are left out, and sub-folders are not searched further;
- a **glob** (a SOURCE with ``*``, ``?`` or ``[`` that is not an existing path) gives its
  matches, each expanded as above;
- ``@LIST`` gives the lines of the text file ``LIST``, each expanded as above (blank
  lines and lines starting with ``#`` are skipped; relative paths are relative to the
  folder holding ``LIST``);
- anything else is one source (a video, a frame folder, a rosbag2); a path that does not
  exist is still a job, which fails and is recorded. A camera index is refused: a camera
  never ends, so it is tracked alone.

Each job is :func:`tracker.app.track.track_source` on one source into
``DIR/<name>/``, where ``name`` is the video's file name without its extension or the
folder's name, made unique with ``-2``, ``-3``... in the order of the sources
(:func:`job_names`). :func:`run_job` is the job as it runs everywhere: in this process
(one worker), in a pool of worker processes (``--workers N``), or as a Ray task
(``--ray``). It never raises: a source that fails is recorded and the others go on.

``DIR/manifest.jsonl`` gets one JSON record per source (:data:`RECORD_FIELDS`) as its job
ends, and is rewritten in the order of the sources at the end; ``DIR/summary.csv`` holds
the same records. ``status`` is ``done``, ``failed`` (with ``error``, the job's one-line
error) or ``skipped`` (``--resume`` found the source's outputs complete:
:func:`completed_record`). The closing summary on stdout counts them and gives the
throughput: sources done times 3600 over the wall time from starting the jobs (worker
processes or the Ray instance included) to the end of the last one, in videos/hour.

**Threads.** With ``N`` worker processes on ``C`` cores each job's inference runtime
gets ``max(1, C // N)`` threads (``--threads`` overrides it) and OpenCV one; a Ray task
gets ``--task-cpus`` threads and reserves as many CPUs. One worker keeps the runtime's
default (every core), as a single ``vtrack track`` does.

**Stopping.** Ctrl-C stops the run: worker processes are ended (their jobs' folders
stay incomplete), pending Ray tasks are cancelled; the manifest lists the jobs that
ended, and ``--resume`` redoes the others. A worker process that dies (killed, out of
memory) fails the jobs it and the pool had not finished. Ray re-runs a task whose worker
or node died, up to :data:`RAY_TASK_RETRIES` times, into the same folder.

Exit status: 0 when every source is ``done`` or ``skipped``; 1
(:data:`~tracker.app.report.EXIT_SOURCES_FAILED`) when a source failed; 2 on bad
options (nothing is run); 130 after Ctrl-C.

Ray (``pip install 'vtrack[fleet]'``) is imported only when ``--ray`` is given.
"""

from __future__ import annotations

import argparse
import csv
import glob
import importlib.util
import json
import logging
import multiprocessing
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from tracker.app import report, track
from tracker.app.parallel import ParallelError, RayPool, WorkerPool
from tracker.app.sources import BAG_SUFFIXES, VIDEO_EXTENSIONS, SourceError, is_frame_folder, is_rosbag2
from tracker.app.track import OUTPUT_FILES, Outcome, check_settings, track_source
from tracker.config import ConfigError

__all__ = [
    "MANIFEST",
    "RAY_TASK_RETRIES",
    "RECORD_FIELDS",
    "SUMMARY_CSV",
    "FleetError",
    "Job",
    "add_arguments",
    "completed_record",
    "expand_sources",
    "is_fleet",
    "job_names",
    "run",
    "run_job",
]

logger = logging.getLogger(__name__)

_COMMAND = "vtrack track"

#: The manifest in ``DIR``: one JSON record per source.
MANIFEST = "manifest.jsonl"
#: The records of the manifest as a table.
SUMMARY_CSV = "summary.csv"
#: Keys of a record, in order (the columns of :data:`SUMMARY_CSV`): ``source`` as listed, ``name``
#: (its folder in ``DIR``), ``out`` (that folder), ``status``, ``frames``, ``fps`` (end to end),
#: ``wall_s`` and ``startup_s`` (see :func:`tracker.app.track.summary_record`), ``tracks``
#: (distinct confirmed IDs), ``host`` (the machine that ran the job), ``error``.
RECORD_FIELDS = ("source", "name", "out", "status", "frames", "fps", "wall_s", "startup_s", "tracks", "host", "error")
#: How many times Ray re-runs a task whose worker process or node died.
RAY_TASK_RETRIES = 3

_GLOB_CHARACTERS = frozenset("*?[")
_LIST_PREFIX = "@"
_PROGRESS_INTERVAL_S = 0.5
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
#: Options of a single ``vtrack track`` that a fleet run refuses (attribute -> option).
_SINGLE_ONLY = {
    "detections": "--detections",
    "bag_out": "--bag-out",
    "tracks_topic": "--tracks-topic",
    "show": "--show",
}


class FleetError(Exception):
    """The sources or options of a fleet run cannot be used; the one-line message says why."""


@dataclass(frozen=True)
class Job:
    """One source of a fleet run.

    Attributes:
        source: the source as listed (written in the manifest).
        name: its output folder's name in ``DIR``.
        options: the ``vtrack track`` options of its job: ``source`` and ``out`` absolute
            paths (so that a Ray task on another machine finds them on a shared filesystem).
    """

    source: str
    name: str
    options: argparse.Namespace


# Sources ----------------------------------------------------------------------------------------


def _natural_key(path: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", Path(path).name)]


def _is_camera(item: str) -> bool:
    return item.isdigit() and not Path(item).exists()


def _is_glob(item: str) -> bool:
    return bool(_GLOB_CHARACTERS & set(item)) and not Path(item).exists()


def _is_source_entry(entry: Path) -> bool:
    """An entry of a folder of sources that is a source: a video or bag file, a frame folder or a rosbag2 folder."""
    if entry.is_file():
        return entry.suffix.lower() in (*VIDEO_EXTENSIONS, *BAG_SUFFIXES)
    return entry.is_dir() and (is_frame_folder(entry) or is_rosbag2(entry))


def _holds_sources(path: Path) -> bool:
    """A folder of sources holding at least one (:func:`_is_source_entry`): tracked as a fleet without options."""
    if not path.is_dir() or is_rosbag2(path) or is_frame_folder(path):
        return False
    return any(_is_source_entry(entry) for entry in path.iterdir())


def _is_folder_of_sources(path: Path) -> bool:
    """A folder that is neither a frame folder nor a rosbag2 (expanded, even when it holds no source)."""
    return path.is_dir() and not is_rosbag2(path) and not is_frame_folder(path)


def _folder_sources(folder: Path) -> list[str]:
    found, left_out = [], 0
    for entry in sorted(folder.iterdir(), key=lambda p: _natural_key(str(p))):
        if _is_source_entry(entry):
            found.append(str(entry))
        else:
            left_out += 1
    if not found:
        raise FleetError(
            f"{folder}: no videos ({', '.join(VIDEO_EXTENSIONS)}), frame folders or rosbag2s in this folder"
        )
    if left_out:
        logger.info("%s: left out %d entries that are neither videos, frame folders nor rosbag2s", folder, left_out)
    return found


def _list_sources(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise FleetError(f"{_LIST_PREFIX}{path}: cannot read the list of sources: {error}") from None
    items = []
    for line in (line.strip() for line in lines):
        if not line or line.startswith("#"):
            continue
        if line.startswith(_LIST_PREFIX):
            raise FleetError(f"{_LIST_PREFIX}{path}: a list may not name another list ({line})")
        items.append(line if Path(line).is_absolute() else str(path.parent / line))
    if not items:
        raise FleetError(f"{_LIST_PREFIX}{path}: the list names no source")
    return items


def _expand(item: str) -> Iterator[str]:
    if _is_camera(item):
        raise FleetError(f"camera {item}: a camera never ends; track it alone (one SOURCE, without --workers/--ray)")
    if _is_glob(item):
        matches = sorted(glob.glob(item), key=_natural_key)
        if not matches:
            raise FleetError(f"{item}: the pattern matches no file or folder")
        for match in matches:
            yield from _folder_sources(Path(match)) if _is_folder_of_sources(Path(match)) else [match]
    elif _is_folder_of_sources(Path(item)):
        yield from _folder_sources(Path(item))
    else:
        yield item


def expand_sources(items: Sequence[str]) -> list[str]:
    """The sources of a fleet run, one per job, from the SOURCE arguments (see the module doc).

    Args:
        items: the SOURCE arguments as given: paths, globs, ``@LIST`` files.

    Returns:
        The sources in order, each once (a source listed again, by another path to the
        same file, is dropped with a warning).

    Raises:
        FleetError: a camera index, a glob matching nothing, a folder without sources,
            an unreadable or empty list; the message names it.
    """
    sources: list[str] = []
    seen: set[Path] = set()
    for item in items:
        listed = _list_sources(Path(item[1:])) if item.startswith(_LIST_PREFIX) else [item]
        for entry in listed:
            for source in _expand(entry):
                key = Path(source).resolve()
                if key in seen:
                    logger.warning("%s: listed more than once; tracked once", source)
                    continue
                seen.add(key)
                sources.append(source)
    return sources


def job_names(sources: Sequence[str]) -> list[str]:
    """Output folder names for ``sources``: the file name without its extension (videos, bag files) or the
    folder's name, made unique in order with ``-2``, ``-3``...; e.g. ``a/clip.mp4, b/clip.mp4`` ->
    ``clip, clip-2``."""
    names: list[str] = []
    taken: set[str] = set()
    for source in sources:
        path = Path(source)
        suffix = path.suffix.lower()
        base = path.stem if suffix in (*VIDEO_EXTENSIONS, *BAG_SUFFIXES) or path.is_file() else path.name
        base = base or "source"
        name, count = base, 1
        while name in taken:
            count += 1
            name = f"{base}-{count}"
        taken.add(name)
        names.append(name)
    return names


def is_fleet(args: argparse.Namespace) -> bool:
    """Whether ``vtrack track`` runs one job per source (see the module doc) rather than one source into ``--out``."""
    if len(args.source) > 1 or args.workers is not None or args.ray is not None or args.resume:
        return True
    item = args.source[0]
    return item.startswith(_LIST_PREFIX) or _is_glob(item) or _holds_sources(Path(item))


# One job ----------------------------------------------------------------------------------------


def completed_record(folder: Path, source: str | None = None) -> dict[str, Any] | None:
    """The ``summary.json`` record of a complete job in ``folder``, or None.

    Complete: ``summary.json`` parses, says ``"status": "completed"``, and ``tracks.txt``,
    ``tracks.jsonl`` (and ``tracks.mp4`` when the record names a video codec) exist. With
    ``source``, the record must also be of that source (same file once resolved), so that a
    changed list of sources never skips a folder that now stands for another one.
    """
    try:
        record = json.loads((folder / OUTPUT_FILES["summary"]).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("status") != "completed":
        return None
    needed = [OUTPUT_FILES["mot"], OUTPUT_FILES["jsonl"]]
    if record.get("video_codec"):
        needed.append(OUTPUT_FILES["video"])
    if not all((folder / name).is_file() for name in needed):
        return None
    if source is not None:
        name = (record.get("source") or {}).get("name")
        if not isinstance(name, str) or Path(name).resolve() != Path(source).resolve():
            return None
    return record


def _record(
    job: Job, status: str, summary: dict[str, Any] | None, error: str | None, host: str | None
) -> dict[str, Any]:
    summary = summary or {}
    return {
        "source": job.source,
        "name": job.name,
        "out": str(job.options.out),
        "status": status,
        "frames": summary.get("frames"),
        "fps": summary.get("fps"),
        "wall_s": summary.get("wall_s"),
        "startup_s": summary.get("startup_s"),
        "tracks": summary.get("tracks"),
        "host": host,
        "error": error,
    }


def _limit_threads(threads: int | None) -> None:
    """Hold the OpenMP/BLAS pools a job's libraries start from now on to ``threads`` (None: leave them)."""
    if threads is not None:
        for variable in _THREAD_VARIABLES:
            os.environ[variable] = str(threads)


def _execute(job: Job, progress: Callable[[int], None] | None) -> tuple[dict[str, Any], bool]:
    """Run ``job``: its manifest record, and whether Ctrl-C stopped it."""
    _limit_threads(job.options.threads)
    try:
        outcome = track_source(job.options, progress=progress or _ignore)
    except Exception as error:  # a library's unexpected error: recorded, and the other sources go on
        logger.debug("%s: unexpected error", job.source, exc_info=True)
        outcome = Outcome(report.EXIT_ERROR, error=f"{type(error).__name__}: {error}")
    host = socket.gethostname()
    if outcome.status == 0:
        return _record(job, "done", outcome.record, None, host), False
    interrupted = outcome.status == report.EXIT_INTERRUPTED
    message = outcome.error or ("interrupted (Ctrl-C)" if interrupted else "failed")
    return _record(job, "failed", outcome.record, " ".join(message.split()), host), interrupted


def _ignore(frames: int) -> None:
    """A progress callback that shows nothing (a job's own progress bar stays off)."""


def run_job(job: Job, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run one source of a fleet into its folder and return its manifest record (:data:`RECORD_FIELDS`).

    This is the function the serial loop, the worker processes and the Ray tasks all call.

    Args:
        job: the source, its folder name and its ``vtrack track`` options.
        progress: called with the number of frames written so far, after each frame.

    Returns:
        The record, ``status`` ``done`` or ``failed`` (with ``error``); never raises for a bad source.
    """
    return _execute(job, progress)[0]


# Where jobs run ---------------------------------------------------------------------------------

#: The progress queue of a worker process (set by :func:`_init_worker`).
_worker_queue: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _worker_queue
    _worker_queue = progress_queue


class _Every:
    """Calls ``send(frames)`` at most once per :data:`_PROGRESS_INTERVAL_S`."""

    def __init__(self, send: Callable[[int], None]) -> None:
        self._send, self._last = send, 0.0

    def __call__(self, frames: int) -> None:
        now = time.monotonic()
        if now - self._last >= _PROGRESS_INTERVAL_S:
            self._last = now
            self._send(frames)


def _worker_job(job: Job) -> dict[str, Any]:
    """:func:`run_job` in a worker process, sending its frame counts to the parent."""
    queue = _worker_queue
    progress = None if queue is None else _Every(lambda frames: queue.put((job.name, frames)))
    return run_job(job, progress)


class _Progress:
    """The progress bar over jobs (stderr, when it is a terminal), with the frames of the jobs running."""

    def __init__(self, total: int, desc: str) -> None:
        self._bar = tqdm(total=total, unit="source", desc=desc, disable=None)
        self._running: dict[str, int] = {}

    def frames(self, name: str, count: int) -> None:
        self._running[name] = count
        self._show()

    def done(self, name: str) -> None:
        self._running.pop(name, None)
        self._bar.update()
        self._show()

    def _show(self) -> None:
        self._bar.set_postfix_str(", ".join(f"{name}: {count} frames" for name, count in self._running.items()))

    def close(self) -> None:
        self._bar.close()


_Done = Callable[[Job, dict[str, Any]], None]


def _run_serial(jobs: list[Job], done: _Done, progress: _Progress) -> None:
    for job in jobs:
        record, interrupted = _execute(job, _Every(partial(progress.frames, job.name)))
        done(job, record)
        if interrupted:
            raise KeyboardInterrupt


def _lost(job: Job, error: BaseException) -> dict[str, Any]:
    """The record of a job whose worker process or Ray task ended without a record."""
    return _record(job, "failed", None, f"not finished: {type(error).__name__}: {' '.join(str(error).split())}", None)


def _run_pool(jobs: list[Job], workers: int, done: _Done, progress: _Progress) -> None:
    queue = multiprocessing.get_context("spawn").Queue()

    def drain() -> None:
        while True:
            try:
                name, frames = queue.get_nowait()
            except Exception:  # queue.Empty, or a queue broken by a worker that died
                return
            progress.frames(name, frames)

    try:
        with WorkerPool(workers, initializer=_init_worker, initargs=(queue,), poll=drain) as pool:
            _collect(pool, _worker_job, jobs, done)
    finally:
        queue.close()


def _run_ray(jobs: list[Job], args: argparse.Namespace, done: _Done) -> None:
    options = {"num_cpus": args.task_cpus or 1, "num_gpus": args.task_gpus or 0, "retries": RAY_TASK_RETRIES}
    with RayPool(args.ray, **options) as pool:
        _collect(pool, run_job, jobs, done)


def _collect(
    pool: WorkerPool | RayPool, function: Callable[[Job], dict[str, Any]], jobs: list[Job], done: _Done
) -> None:
    """Run every job in ``pool``; record each result as its job ends."""
    for job in jobs:
        pool.submit(function, job)
    for job, result in pool.results():
        done(job, _lost(job, result) if isinstance(result, BaseException) else result)


# The command ------------------------------------------------------------------------------------


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _check_options(args: argparse.Namespace) -> None:
    given = [option for name, option in _SINGLE_ONLY.items() if getattr(args, name)]
    if given:
        raise FleetError(f"{', '.join(given)}: for one SOURCE only; leave it out when tracking many sources")
    if args.resume and args.exist_ok:
        raise FleetError("--resume keeps complete outputs, --exist-ok redoes them: give one of them")
    if args.ray is None:
        resources = (("--task-cpus", args.task_cpus), ("--task-gpus", args.task_gpus))
        given = [option for option, value in resources if value]
        if given:
            raise FleetError(f"{', '.join(given)}: Ray task resources; give --ray too")
        return
    if args.workers is not None:
        raise FleetError("--workers sets local worker processes; with --ray, Ray runs as many tasks as --task-cpus fit")
    if importlib.util.find_spec("ray") is None:
        raise FleetError("--ray needs Ray: pip install 'vtrack[fleet]'")
    if Path(args.ray).exists():
        raise FleetError(
            f"--ray took '{args.ray}' as the Ray address; put --ray after the SOURCEs, or write --ray=ADDRESS"
        )


def _prepare_out(out: Path, resume: bool, exist_ok: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FleetError(f"--out {out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (resume or exist_ok):
        raise FleetError(
            f"--out {out}: folder exists and is not empty; choose a new folder, pass --resume to continue an "
            "earlier run, or --exist-ok to redo every source"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FleetError(f"--out {out}: cannot create the folder: {error}") from None


def _placement(args: argparse.Namespace, jobs: int) -> tuple[int, int | None, str]:
    """Worker processes (0 with Ray), inference threads per job (None: the runtime's default) and a description."""
    if args.ray is not None:
        return 0, args.threads or args.task_cpus or 1, f"Ray ({args.ray})"
    cores = _cores()
    workers = max(1, min(args.workers or cores, jobs))
    if workers == 1:
        return 1, args.threads, "1 worker (this process)"
    return workers, args.threads or max(1, cores // workers), f"{workers} worker processes"


def _jobs(args: argparse.Namespace, sources: list[str]) -> list[Job]:
    out = args.out.absolute()
    jobs = []
    for source, name in zip(sources, job_names(sources), strict=True):
        options = {**vars(args), "source": str(Path(source).absolute()), "out": out / name, "exist_ok": True}
        options.update(workers=None, ray=None, resume=False)
        options.pop("run", None)
        jobs.append(Job(source, name, argparse.Namespace(**options)))
    return jobs


class _Manifest:
    """``manifest.jsonl``, appended as jobs end; :meth:`finish` rewrites it in source order with ``summary.csv``."""

    def __init__(self, out: Path, jobs: list[Job]) -> None:
        self.path, self.csv_path = out / MANIFEST, out / SUMMARY_CSV
        self._order = {job.name: index for index, job in enumerate(jobs)}
        self.records: dict[str, dict[str, Any]] = {}
        self._file = self.path.open("w", encoding="utf-8")

    def add(self, record: dict[str, Any]) -> None:
        self.records[record["name"]] = record
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def finish(self) -> list[dict[str, Any]]:
        self._file.close()
        ordered = sorted(self.records.values(), key=lambda record: self._order[record["name"]])
        temporary = self.path.with_suffix(".jsonl.tmp")
        temporary.write_text("".join(json.dumps(record) + "\n" for record in ordered), encoding="utf-8")
        os.replace(temporary, self.path)
        with self.csv_path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=RECORD_FIELDS)
            writer.writeheader()
            writer.writerows(ordered)
        return ordered


def _failure(record: dict[str, Any]) -> str:
    """A failed record's error, prefixed with its source unless the error names it already."""
    error = str(record["error"])
    return error if record["source"] in error else f"{record['source']}: {error}"


def _closing_lines(
    records: list[dict[str, Any]], total: int, wall_s: float, where: str, manifest: _Manifest
) -> list[str]:
    counts = {status: sum(r["status"] == status for r in records) for status in ("done", "failed", "skipped")}
    ran = [r for r in records if r["status"] != "skipped"]
    frames = sum(r["frames"] or 0 for r in ran)
    done = counts["done"]
    rate = f"; {done * 3600.0 / wall_s:.0f} videos/hour, {frames / wall_s:.1f} frames/s" if wall_s > 0 and ran else ""
    lines = [
        f"{_COMMAND}: {total} sources: {counts['done']} done, {counts['failed']} failed, {counts['skipped']} skipped"
        + (f", {total - len(records)} not finished" if len(records) < total else ""),
        f"  ran:      {len(ran)} job{'' if len(ran) == 1 else 's'}, {frames} frames in {wall_s:.2f} s on {where}{rate}",
    ]
    lines += [f"  failed:   {_failure(r)}" for r in records if r["status"] == "failed"]
    lines.append(f"  wrote:    {manifest.path}, {manifest.csv_path}, one folder per source")
    return lines


def _run_fleet(args: argparse.Namespace) -> int:
    _check_options(args)
    check_settings(args)
    sources = expand_sources(args.source)
    _prepare_out(args.out, args.resume, args.exist_ok)
    jobs = _jobs(args, sources)
    manifest = _Manifest(args.out, jobs)
    to_run = []
    for job in jobs:
        complete = completed_record(job.options.out, job.options.source) if args.resume else None
        if complete is None:
            to_run.append(job)
        else:
            manifest.add(_record(job, "skipped", complete, None, None))
    workers, threads, where = _placement(args, len(to_run))
    for job in to_run:
        job.options.threads = threads
    logger.info("%d sources, %d to run on %s (%s inference threads each)", len(jobs), len(to_run), where, threads)
    progress = _Progress(len(to_run), "sources")

    def finished(job: Job, record: dict[str, Any]) -> None:
        manifest.add(record)
        progress.done(job.name)
        if record["status"] == "failed":
            logger.warning("failed: %s", _failure(record))
        else:
            logger.info("%s: %s frames, %s frames/s", job.source, record["frames"], record["fps"])

    status = 0
    begun = time.perf_counter()
    try:
        with logging_redirect_tqdm():
            if to_run and args.ray is not None:
                _run_ray(to_run, args, finished)
            elif to_run and workers > 1:
                _run_pool(to_run, workers, finished, progress)
            elif to_run:
                _run_serial(to_run, finished, progress)
    except KeyboardInterrupt:
        status = report.EXIT_INTERRUPTED
    finally:
        progress.close()
        wall_s = time.perf_counter() - begun
        records = manifest.finish()
    if status == report.EXIT_INTERRUPTED:
        report.error(_COMMAND, f"interrupted; rerun with --resume to continue in {args.out}")
    elif any(record["status"] == "failed" for record in records):
        status = report.EXIT_SOURCES_FAILED
    report.summary(_closing_lines(records, len(jobs), wall_s, where, manifest))
    return status


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``vtrack track`` to ``parser`` (:func:`tracker.app.track.add_arguments`)."""
    track.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``vtrack track``: one source into ``--out`` (:func:`tracker.app.track.run`), or many (see the module doc).

    Returns:
        For one source, :func:`tracker.app.track.run`'s status. For many: 0 when every
        source is done or skipped; 1 when a source failed (the manifest says which and
        why); 2 on bad options, with one error line and nothing run; 130 after Ctrl-C.
    """
    if not is_fleet(args):
        return track.run(args)
    try:
        return _run_fleet(args)
    except (FleetError, ParallelError, ConfigError, SourceError, ValueError, OSError) as error:
        report.error(_COMMAND, str(error))
        return report.EXIT_ERROR
