"""One backend on one sequence, scored alone: :class:`Job`, :func:`run_jobs` and :class:`PeerScoreCache`.

``vtrack tune`` splits its work into jobs, each one tracker on one sequence of one
benchmark: the tracker runs exactly as ``vtrack bench`` runs it
(:func:`benchmarks.runner._run_pair`: same detections, timestamps and camera motion),
and TrackEval scores that sequence alone against its own ground-truth folder
(:func:`sequence_gt`). A job returns the sequence's HOTA counts
(:func:`benchmarks.evaluate.evaluate_hota`), which
:func:`benchmarks.evaluate.combine_hota` combines into the HOTA of any set of
sequences (a fold, a benchmark), equal to TrackEval scoring that set at once. Jobs are
independent, so :func:`run_jobs` runs them in ``workers`` processes; nothing is timed.

The peers' scores do not depend on the grid, so :class:`PeerScoreCache` keeps each
(peer, sequence) score on disk, under a key built like the pair keys of
``vtrack bench``'s manifest: the benchmark (all but its name list and source), the
sequence and its frame range, the detection file's contents, the backend and its
full settings (config, library, library version), plus the ground-truth file's
contents and the TrackEval version.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import multiprocessing
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits
from tqdm import tqdm

import tracker
from benchmarks.config import BenchmarkConfig, config_hash
from benchmarks.datasets import Sequence, result_file, write_eval_gt, write_eval_tracker
from benchmarks.evaluate import HotaRaw, evaluate_hota
from benchmarks.peers import register_peers
from benchmarks.runner import _bench_identity, _file_digest, _load_file_detections, _make_tracker, _run_pair
from detectors.files import FileDetections
from tracker.registry import config_class

__all__ = ["FAILED", "Job", "PeerScoreCache", "default_peer_cache_dir", "run_job", "run_jobs", "sequence_gt"]

logger = logging.getLogger(__name__)

#: Key of a failed run's result (:attr:`Job.keep_failure`): the error's type and message.
FAILED = "failed"
#: Detections already read in this process: (file, format, class id, evaluated class) -> detections.
_DETECTIONS: dict[tuple[str, str, int, str], FileDetections] = {}
#: Name of the tracker folder TrackEval reads inside a job's scratch folder.
_TRACKER = "t"


def default_peer_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vtrack/peer_scores`` (``~/.cache/vtrack/peer_scores`` when unset)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vtrack" / "peer_scores"


def sequence_gt(bench: BenchmarkConfig, seq: Sequence, folder: Path) -> Path:
    """Write the TrackEval ground truth of ``seq`` alone to ``folder/<benchmark>/<sequence>``; return that folder."""
    return write_eval_gt(bench, [seq], folder / bench.name / seq.name)


@dataclass(frozen=True)
class Job:
    """One backend on one sequence.

    Attributes:
        bench: the benchmark (file detections; detector-driven benchmarks are not supported).
        sequence: the sequence, cut to the benchmark's frame range.
        backend: a registered backend name.
        overrides: the backend's config overrides (a grid candidate; a backend with a
            ``frame_rate`` setting gets the sequence's unless they set it), or None to build
            it exactly as ``vtrack bench`` does (its defaults plus, for the peers, the frame rate).
        gt: the sequence's ground-truth folder (:func:`sequence_gt`).
        work: a scratch folder for the result files, removed when the job ends.
        keep_failure: an exception while the tracker runs is returned as ``{FAILED: message}``
            instead of raised (a peer library that rejects the benchmark's detections: e.g.
            boxmot refuses the one zero-width PointRCNN box of KITTI 0000); scoring errors
            are raised all the same.
    """

    bench: BenchmarkConfig
    sequence: Sequence
    backend: str
    overrides: Mapping[str, Any] | None
    gt: Path
    work: Path
    keep_failure: bool = False


def _detections(bench: BenchmarkConfig, seq: Sequence) -> FileDetections:
    key = (str(seq.detections_path), bench.detection_format, bench.class_id, bench.eval_class)
    if key not in _DETECTIONS:
        _DETECTIONS[key] = _load_file_detections(bench, seq)
    return _DETECTIONS[key]


def run_job(job: Job) -> HotaRaw:
    """Run ``job``'s tracker over its sequence and return the sequence's HOTA counts (see the module doc).

    With :attr:`Job.keep_failure`, a tracker that raises gives ``{FAILED: "Type: message"}`` instead.

    Raises:
        ValueError: invalid overrides (``tracker.config.ConfigError``), a malformed file.
        benchmarks.evaluate.EvaluationError: TrackEval rejected the results.
    """
    if job.overrides is None:
        instance, _ = _make_tracker(job.bench, job.backend, job.sequence, {})
    else:
        settings = dict(job.overrides)
        if "frame_rate" in {f.name for f in dataclasses.fields(config_class(job.backend))}:
            settings.setdefault("frame_rate", job.sequence.frame_rate)
        instance = tracker.create(job.backend, settings)
    seq = job.sequence
    results = job.work / result_file(job.bench, "result")
    try:
        try:
            _run_pair(job.bench, seq, instance, _detections(job.bench, seq), results)
        except Exception as error:
            if not job.keep_failure:
                raise
            logger.warning("%s failed on %s %s: %s", job.backend, job.bench.name, seq.name, error)
            return {FAILED: f"{type(error).__name__}: {error}"}
        write_eval_tracker(job.bench, seq, results, job.work / _TRACKER / "data" / result_file(job.bench, seq.name))
        return evaluate_hota(job.bench, job.gt, job.work, _TRACKER)[seq.name]
    finally:
        shutil.rmtree(job.work, ignore_errors=True)


def _init_worker() -> None:
    register_peers()
    threadpool_limits(limits=1)


def run_jobs(jobs: list[Job], workers: int = 1, progress: bool = True) -> Iterator[tuple[int, HotaRaw]]:
    """Run ``jobs``; yield ``(index in jobs, HOTA counts)`` as each one ends (in order with one worker).

    With ``workers > 1`` the jobs run in that many processes (``spawn``; each keeps one
    BLAS thread); with 1 they run here, one after the other. An error in any job stops
    the others and is raised.

    Raises:
        ValueError: ``workers < 1``.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    with tqdm(total=len(jobs), desc="runs", unit="run", disable=not progress) as bar:
        if workers == 1:
            with threadpool_limits(limits=1):
                for index, job in enumerate(jobs):
                    bar.set_postfix_str(f"{job.backend} {job.bench.name} {job.sequence.name}")
                    yield index, run_job(job)
                    bar.update()
            return
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
            futures = {pool.submit(run_job, job): index for index, job in enumerate(jobs)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    yield futures[future], future.result()
                    bar.update()
            finally:
                for future in futures:
                    future.cancel()


class PeerScoreCache:
    """Per-sequence HOTA counts of the peer backends, kept in ``folder`` across runs (see the module doc).

    A peer's failure on a sequence (``{FAILED: message}``, see :class:`Job`) is kept like a score,
    so it is not retried until the key changes (a new library version, other detections...).

    An entry is ``folder/<benchmark name>/<peer>/<sequence>.json`` holding its key, the
    identity the key hashes (readable) and the counts; an entry whose key differs (new
    detections, settings, library version...) is a miss and is overwritten by :meth:`put`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._digests: dict[Path, str] = {}
        self._settings: dict[tuple[str, float], dict[str, Any]] = {}

    def _digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = _file_digest(path)
        return self._digests[path]

    def identity(self, bench: BenchmarkConfig, seq: Sequence, peer: str) -> dict[str, Any]:
        """What the key of ``peer`` on ``seq`` hashes (the peer is built to read its effective settings)."""
        if seq.detections_path is None:
            raise ValueError(f"{bench.source}: peer scores are cached for detection files only")
        # A peer's effective settings depend on the sequence through its frame rate alone.
        if (peer, seq.frame_rate) not in self._settings:
            self._settings[peer, seq.frame_rate] = _make_tracker(bench, peer, seq, {})[1]
        return {
            "benchmark": config_hash(_bench_identity(bench)),
            "sequence": [seq.name, seq.first_frame, seq.last_frame],
            "detections": self._digest(seq.detections_path),
            "backend": peer,
            "settings": self._settings[peer, seq.frame_rate],
            "gt": self._digest(seq.gt_path),
            "trackeval": version("trackeval"),
        }

    def _path(self, bench: BenchmarkConfig, seq: Sequence, peer: str) -> Path:
        return self.folder / bench.name / peer / f"{seq.name}.json"

    def get(self, bench: BenchmarkConfig, seq: Sequence, peer: str) -> HotaRaw | None:
        """The cached counts of ``peer`` on ``seq``, or None (no entry, or one under another key)."""
        path = self._path(bench, seq, peer)
        if not path.is_file():
            return None
        entry = json.loads(path.read_text(encoding="utf-8"))
        return entry["hota"] if entry.get("key") == config_hash(self.identity(bench, seq, peer)) else None

    def put(self, bench: BenchmarkConfig, seq: Sequence, peer: str, hota: HotaRaw) -> None:
        """Store ``peer``'s counts on ``seq`` (written to a temporary file, then renamed)."""
        identity = self.identity(bench, seq, peer)
        path = self._path(bench, seq, peer)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".json.tmp")
        entry = {"key": config_hash(identity), "identity": identity, "hota": hota}
        temporary.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
        os.replace(temporary, path)
