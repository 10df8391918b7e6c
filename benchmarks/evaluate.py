"""Score tracker results with TrackEval: :func:`evaluate`.

Uses TrackEval's public API only (Luiten et al., "HOTA: A Higher Order Metric for
Evaluating Multi-Object Tracking", IJCV 2021; https://github.com/JonathonLuiten/TrackEval):
``trackeval.Evaluator`` with ``trackeval.datasets.Kitti2DBox`` (KITTI tracking,
class car or pedestrian) or ``trackeval.datasets.MotChallenge2DBox`` (MOTChallenge,
class pedestrian), and the metrics ``trackeval.metrics.HOTA``, ``CLEAR`` and
``Identity``. The folders it reads are the ones :func:`benchmarks.datasets.write_eval_gt`
and :func:`benchmarks.datasets.write_eval_tracker` write.

Reported figures (all from TrackEval, unchanged apart from the scale):

- ``HOTA``, ``DetA``, ``AssA``: TrackEval's per-threshold arrays averaged over its
  19 localisation thresholds alpha = 0.05..0.95, in percent (as TrackEval prints them);
- ``MOTA`` and ``IDF1`` in percent; ``IDSW`` a count (CLEAR MOT: Bernardin and
  Stiefelhagen 2008; IDF1: Ristani et al. 2016).

"Combined" figures are TrackEval's ``COMBINED_SEQ`` (counts summed over sequences,
not an average of per-sequence scores).
"""

from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path

import numpy as np
import trackeval

from benchmarks.config import BenchmarkConfig
from benchmarks.datasets import EVAL_SPLIT

__all__ = ["COMBINED", "METRICS", "EvaluationError", "evaluate"]

logger = logging.getLogger(__name__)

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


def evaluate(
    bench: BenchmarkConfig, gt_folder: Path, trackers_folder: Path, tracker: str
) -> dict[str, dict[str, float]]:
    """Score one tracker's results on every sequence of ``gt_folder`` and combined.

    Args:
        bench: the benchmark (layout, evaluated class, MOTChallenge benchmark name).
        gt_folder: a ground-truth folder written by :func:`benchmarks.datasets.write_eval_gt`.
        trackers_folder: holds ``<tracker>/data/<seq>.txt`` for every sequence of the
            seqmap (KITTI tracking format for KITTI, MOTChallenge format for MOT).
        tracker: the tracker's folder name.

    Returns:
        ``{sequence: {metric: value}, COMBINED: {metric: value}}`` with the
        :data:`METRICS` (percent, ``IDSW`` a count).

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
    return {seq: _figures(per_sequence[seq][bench.eval_class]) for seq in per_sequence}
