"""Score tracker results with TrackEval: :func:`evaluate`.

Uses TrackEval's public API only (Luiten et al., "HOTA: A Higher Order Metric for
Evaluating Multi-Object Tracking", IJCV 2021; https://github.com/JonathonLuiten/TrackEval):
``trackeval.Evaluator`` with ``trackeval.datasets.Kitti2DBox`` (KITTI tracking,
class car or pedestrian), ``trackeval.datasets.MotChallenge2DBox`` (MOTChallenge,
class pedestrian) or ``trackeval.datasets.BDD100K`` (BDD100K MOT, one or several of its
eight classes), and the metrics ``trackeval.metrics.HOTA``, ``CLEAR`` and
``Identity``. The folders it reads are the ones :func:`benchmarks.datasets.write_eval_gt`
and :func:`benchmarks.datasets.write_eval_tracker` write.

TrackEval scores all eight BDD100K classes; the benchmark's (:func:`benchmarks.bdd100k.eval_classes`)
are taken from them, and several (``eval_class: vehicle`` or ``all``) are pooled with each
metric's own ``combine_classes_det_averaged`` (TrackEval's ``cls_comb_det_av``: counts
summed over the classes, AssA weighted by true positives), per sequence and combined;
see :mod:`benchmarks.bdd100k`.

Reported figures (all from TrackEval, unchanged apart from the scale):

- ``HOTA``, ``DetA``, ``AssA``: TrackEval's per-threshold arrays averaged over its
  19 localisation thresholds alpha = 0.05..0.95, in percent (as TrackEval prints them);
- ``MOTA`` and ``IDF1`` in percent; ``IDSW`` a count (CLEAR MOT: Bernardin and
  Stiefelhagen 2008; IDF1: Ristani et al. 2016).

"Combined" figures are TrackEval's ``COMBINED_SEQ`` (counts summed over sequences,
not an average of per-sequence scores). :func:`evaluate_hota` keeps each sequence's
HOTA counts instead, and :func:`combine_hota` combines any subset of sequences with
TrackEval's own ``combine_sequences``, as ``COMBINED_SEQ`` of those sequences would be
(``vtrack tune`` scores each sequence once and combines folds and benchmarks from them).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import trackeval

from benchmarks.bdd100k import eval_classes
from benchmarks.config import BenchmarkConfig
from benchmarks.datasets import EVAL_SPLIT
from tracker.formats import BDD100K_CLASSES

__all__ = [
    "COMBINED",
    "HOTA_FIELDS",
    "METRICS",
    "EvaluationError",
    "HotaRaw",
    "combine_hota",
    "evaluate",
    "evaluate_hota",
    "trackeval_results",
]

logger = logging.getLogger(__name__)

#: One sequence's TrackEval HOTA fields (name -> 19 per-threshold values), JSON-ready.
HotaRaw = dict[str, Any]
#: The HOTA fields TrackEval combines sequences from: counts (summed) and association and
#: localisation accuracies (averaged, weighted by the true positives).
HOTA_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP", "AssA", "AssRe", "AssPr", "LocA")

#: Metric names, in table order.
METRICS = ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW")
#: Key of the combined figures in :func:`evaluate`'s result (TrackEval's own key).
COMBINED = "COMBINED_SEQ"
#: TrackEval reports fractions; tables show percent.
_PERCENT = 100.0


class EvaluationError(RuntimeError):
    """TrackEval could not score a tracker (its message is included)."""


def _dataset(bench: BenchmarkConfig, gt_folder: Path, trackers_folder: Path, tracker: str) -> object:
    common = {
        "GT_FOLDER": str(gt_folder),
        "TRACKERS_FOLDER": str(trackers_folder),
        "OUTPUT_FOLDER": str(trackers_folder),
        "TRACKERS_TO_EVAL": [tracker],
        "CLASSES_TO_EVAL": [bench.eval_class],
        "TRACKER_SUB_FOLDER": "data",
        "PRINT_CONFIG": False,
    }
    if bench.format == "kitti":
        return trackeval.datasets.Kitti2DBox({**common, "SPLIT_TO_EVAL": EVAL_SPLIT})
    if bench.format == "bdd100k":
        # All eight classes, whatever is pooled: TrackEval 1.3 combines each super-category
        # (HUMAN, VEHICLE, BIKE) of the classes evaluated and fails on one left empty.
        return trackeval.datasets.BDD100K({**common, "CLASSES_TO_EVAL": list(BDD100K_CLASSES)})
    return trackeval.datasets.MotChallenge2DBox(
        {
            **common,
            "BENCHMARK": bench.trackeval_benchmark,
            "SKIP_SPLIT_FOL": True,
            "SEQMAP_FILE": str(gt_folder / "seqmap.txt"),
        }
    )


def _figures(result: dict) -> dict[str, float]:
    hota, clear, identity = result["HOTA"], result["CLEAR"], result["Identity"]
    return {
        "HOTA": float(np.mean(hota["HOTA"]) * _PERCENT),
        "DetA": float(np.mean(hota["DetA"]) * _PERCENT),
        "AssA": float(np.mean(hota["AssA"]) * _PERCENT),
        "MOTA": float(clear["MOTA"] * _PERCENT),
        "IDF1": float(identity["IDF1"] * _PERCENT),
        "IDSW": int(clear["IDSW"]),
    }


def trackeval_results(
    bench: BenchmarkConfig, gt_folder: Path, trackers_folder: Path, tracker: str, metrics: list[Any] | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """TrackEval's own results of one tracker, per sequence and combined, for the benchmark's class.

    Args:
        bench: the benchmark (layout, evaluated class, MOTChallenge benchmark name).
        gt_folder: a ground-truth folder written by :func:`benchmarks.datasets.write_eval_gt`.
        trackers_folder: holds ``<tracker>/data/<seq>.txt`` (BDD100K ``<seq>.json``) for
            every sequence (KITTI tracking format for KITTI, MOTChallenge format for MOT).
        tracker: the tracker's folder name.
        metrics: TrackEval metric objects (default: HOTA, CLEAR and Identity).

    Returns:
        ``{sequence or COMBINED: {"HOTA": ..., "CLEAR": ..., "Identity": ...}}``: each
        metric's result dict as TrackEval computes it (counts such as ``CLR_TP``,
        ``IDSW``, ``HOTA_TP``, per-threshold arrays, fractions); several BDD100K classes
        pooled as the module doc says.

    Raises:
        EvaluationError: TrackEval rejected the input (missing file, frame out of range,
            duplicate IDs in a frame, ...); TrackEval's message is included.
    """
    evaluator = trackeval.Evaluator(
        {
            "USE_PARALLEL": False,
            "BREAK_ON_ERROR": True,
            "LOG_ON_ERROR": None,
            "PRINT_RESULTS": False,
            "PRINT_CONFIG": False,
            "TIME_PROGRESS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
        }
    )
    if metrics is None:
        metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False})]
        metrics.append(trackeval.metrics.Identity({"PRINT_CONFIG": False}))
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            dataset = _dataset(bench, gt_folder, trackers_folder, tracker)
            results, messages = evaluator.evaluate([dataset], metrics)
    except trackeval.utils.TrackEvalException as error:
        raise EvaluationError(f"TrackEval could not score {trackers_folder / tracker}: {error}") from None
    finally:
        logger.debug("TrackEval output:\n%s", captured.getvalue())
    name = dataset.get_name()
    if messages[name][tracker] != "Success":
        raise EvaluationError(f"TrackEval could not score {trackers_folder / tracker}: {messages[name][tracker]}")
    per_sequence = results[name][tracker]
    classes = eval_classes(bench.eval_class) if bench.format == "bdd100k" else (bench.eval_class,)
    if len(classes) == 1:
        return {seq: per_sequence[seq][classes[0]] for seq in per_sequence}
    return {
        seq: {
            metric.get_name(): metric.combine_classes_det_averaged(
                {cls: per_sequence[seq][cls][metric.get_name()] for cls in classes}
            )
            for metric in metrics
        }
        for seq in per_sequence
    }


def evaluate(
    bench: BenchmarkConfig, gt_folder: Path, trackers_folder: Path, tracker: str
) -> dict[str, dict[str, float]]:
    """Score one tracker's results on every sequence of ``gt_folder`` and combined.

    Args:
        bench, gt_folder, trackers_folder, tracker: as for :func:`trackeval_results`.

    Returns:
        ``{sequence: {metric: value}, COMBINED: {metric: value}}`` with the
        :data:`METRICS` (percent, ``IDSW`` a count).

    Raises:
        EvaluationError: TrackEval rejected the input (missing file, frame out of range,
            duplicate IDs in a frame, ...); TrackEval's message is included.
    """
    results = trackeval_results(bench, gt_folder, trackers_folder, tracker)
    return {seq: _figures(result) for seq, result in results.items()}


def evaluate_hota(bench: BenchmarkConfig, gt_folder: Path, trackers_folder: Path, tracker: str) -> dict[str, HotaRaw]:
    """TrackEval's HOTA counts of each sequence of ``gt_folder`` (no combined entry), to combine later.

    Arguments and errors as :func:`evaluate`. Each value maps the fields TrackEval's
    ``HOTA.combine_sequences`` reads (:data:`HOTA_FIELDS`) to plain lists of their 19
    per-threshold values, so it can be stored as JSON; :func:`combine_hota` scores any set of
    them together exactly as TrackEval scores those sequences at once.
    """
    per_sequence = trackeval_results(bench, gt_folder, trackers_folder, tracker, [trackeval.metrics.HOTA()])
    return {
        seq: {field: np.asarray(result["HOTA"][field]).tolist() for field in HOTA_FIELDS}
        for seq, result in per_sequence.items()
        if seq != COMBINED
    }


def combine_hota(sequences: Iterable[HotaRaw]) -> dict[str, float]:
    """``HOTA``, ``DetA``, ``AssA`` (percent) of sequences scored together, from :func:`evaluate_hota`'s values.

    Uses TrackEval's own combination (``trackeval.metrics.HOTA.combine_sequences``: counts
    summed, association accuracy weighted by true positives), so the figures equal
    TrackEval's ``COMBINED_SEQ`` for those sequences.

    Raises:
        ValueError: no sequences.
    """
    raw = {str(i): {k: np.asarray(v, dtype=np.float64) for k, v in seq.items()} for i, seq in enumerate(sequences)}
    if not raw:
        raise ValueError("combine_hota needs at least one sequence")
    combined = trackeval.metrics.HOTA().combine_sequences(raw)
    return {name: float(np.mean(combined[name]) * _PERCENT) for name in ("HOTA", "DetA", "AssA")}
