"""``vtrack tune``: grid search of a backend's settings with leave-sequences-out cross-validation.

For every candidate of a grid (the product of the listed values, applied over
``base``) the backend runs once over every sequence of the benchmark. The
sequences are split into ``K`` folds (sequence ``i`` of the benchmark's order goes
to fold ``i % K``). For each fold, the candidate with the best combined HOTA on the
*other* folds is chosen and its results on the held-out fold are kept; the
held-out results of all folds, scored together by TrackEval, give the
**cross-validated** HOTA, an honest estimate for settings tuned on data like this.
The candidate best on all sequences is written out as the tuned settings (the
usual final step of cross-validated model selection; its full-data HOTA is
in-sample and reported as such).

Grid file (YAML)::

    backend: vtrack            # a registered backend
    base: {min_hits: 2}        # overrides applied to every candidate
    grid:                      # key -> list of values; dotted keys reach nested configs
      max_age_s: [1.0, 2.0]
      byte.low_score: [0.1, 0.2]
      kalman.process_velocity_std_per_height: [[0.2, 0.2, 0.0, 0.2], [0.4, 0.4, 0.0, 0.4]]
      ocm:                     # values that are mappings: pick one set of coupled overrides
        - {ocm: null}
        - {ocm: {weight: 0.2}, min_score: 0.3}

Keys are the backend's config fields, as in its settings YAML (``configs/README.md``).
Each grid key lists the values to try: plain values (``null`` included) set that key, a
dotted key reaching into a nested block; mappings (the key then only names the choice)
are sets of coupled overrides tried together, so a nested block as a whole is written
``{byte: {low_score: 0.1}}``. The grid
is the product of all lists; every candidate is checked against the backend's
config when the file is loaded, so an unknown key fails before anything runs.

Outputs in ``--out``: ``tuning.md`` (every candidate's HOTA per training fold and on
all sequences, the choice per fold, the cross-validated figures and the command)
and ``best.yaml`` (the overrides of the candidate best on all sequences).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import tracker
from benchmarks.config import BenchmarkConfig, load_benchmark
from benchmarks.datasets import Sequence, load_sequences, result_file, write_eval_gt, write_eval_tracker
from benchmarks.evaluate import COMBINED, evaluate
from benchmarks.runner import _load_file_detections, _run_pair
from tracker.app import report
from tracker.app.config import load_yaml
from tracker.config import ConfigError, from_mapping, merge
from tracker.registry import config_class

__all__ = ["Grid", "add_arguments", "candidates", "load_grid", "run", "tune"]

logger = logging.getLogger(__name__)

_COMMAND = "vtrack tune"
_HOTA = "HOTA"


@dataclass(frozen=True)
class Grid:
    """A tuning grid: ``backend``, the ``base`` overrides and ``grid`` (dotted key -> values)."""

    backend: str
    base: Mapping[str, Any]
    grid: Mapping[str, list[Any]]


def load_grid(path: Path) -> Grid:
    """Read a grid YAML file (see the module doc).

    Raises:
        tracker.app.config.ConfigFileError: missing file or invalid YAML.
        tracker.config.ConfigError: a missing ``backend``, an unknown key, a grid
            entry that is not a non-empty list, or a candidate the backend rejects.
    """
    data = load_yaml(path)
    unknown = sorted(set(data) - {"backend", "base", "grid"})
    if unknown or "backend" not in data:
        raise ConfigError(f"{path}: needs 'backend' and may have 'base' and 'grid'; got keys {sorted(data)}")
    grid = data.get("grid") or {}
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: grid.{key} must be a non-empty list of values")
    result = Grid(str(data["backend"]), dict(data.get("base") or {}), dict(grid))
    for overrides in candidates(result):
        from_mapping(config_class(result.backend), overrides, source=str(path))
    return result


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return nested


def candidates(grid: Grid) -> list[dict[str, Any]]:
    """Every candidate's overrides: ``base`` merged with one combination of the grid's values.

    A value that is a mapping is a set of overrides merged as a whole (its key only names the choice).
    """
    keys = list(grid.grid)
    options = []
    for values in itertools.product(*(grid.grid[k] for k in keys)):
        overrides = dict(grid.base)
        for key, value in zip(keys, values, strict=True):
            overrides = merge(overrides, _nest(value) if isinstance(value, Mapping) else _nest({key: value}))
        options.append(overrides)
    return options


def _score(bench: BenchmarkConfig, sequences: list[Sequence], results: dict[str, Path], folder: Path) -> float:
    """Combined HOTA of the result files ``results`` (sequence -> file) over ``sequences``."""
    shutil.rmtree(folder, ignore_errors=True)
    write_eval_gt(bench, sequences, folder / "gt")
    for seq in sequences:
        name = result_file(bench, seq.name)
        write_eval_tracker(bench, seq, results[seq.name], folder / "trackers" / "t" / "data" / name)
    return evaluate(bench, folder / "gt", folder / "trackers", "t")[COMBINED][_HOTA]


def tune(bench: BenchmarkConfig, grid: Grid, folds: int, out: Path, progress: bool = True) -> dict[str, Any]:
    """Run the grid over ``bench`` with ``folds``-fold leave-sequences-out cross-validation.

    Returns:
        ``{"candidates": [...], "train": [[HOTA per fold] per candidate], "all": [HOTA per
        candidate], "chosen": [candidate index per fold], "held_out": [HOTA per fold],
        "cv_hota": float, "best": index}``.

    Raises:
        ValueError: fewer sequences than folds, or ``folds < 2``.
    """
    sequences = load_sequences(bench)
    if folds < 2 or len(sequences) < folds:
        raise ValueError(f"need 2 <= folds <= {len(sequences)} sequences, got {folds}")
    fold_of = {seq.name: i % folds for i, seq in enumerate(sequences)}
    options = candidates(grid)
    detections = {seq.name: _load_file_detections(bench, seq) for seq in sequences}
    settings = bench.tracker_settings(grid.backend)
    runs = out / "runs"
    train: list[list[float]] = []
    full: list[float] = []
    with threadpool_limits(limits=1):
        for index, overrides in enumerate(tqdm(options, desc="candidates", disable=not progress)):
            results = {}
            for seq in sequences:
                instance = tracker.create(grid.backend, merge(settings, overrides))
                results[seq.name] = runs / str(index) / result_file(bench, seq.name)
                _run_pair(bench, seq, instance, detections[seq.name], results[seq.name])
            train.append(
                [
                    _score(bench, [s for s in sequences if fold_of[s.name] != f], results, out / "eval")
                    for f in range(folds)
                ]
            )
            full.append(_score(bench, sequences, results, out / "eval"))
    chosen = [max(range(len(options)), key=lambda i, f=f: train[i][f]) for f in range(folds)]
    held_out_files = {
        seq.name: runs / str(chosen[fold_of[seq.name]]) / result_file(bench, seq.name) for seq in sequences
    }
    held_out = [
        _score(bench, [s for s in sequences if fold_of[s.name] == f], held_out_files, out / "eval")
        for f in range(folds)
    ]
    cv_hota = _score(bench, sequences, held_out_files, out / "eval")
    best = max(range(len(options)), key=lambda i: full[i])
    return {
        "candidates": options,
        "train": train,
        "all": full,
        "chosen": chosen,
        "held_out": held_out,
        "cv_hota": cv_hota,
        "best": best,
        "folds": {f: [s.name for s in sequences if fold_of[s.name] == f] for f in range(folds)},
    }


def _markdown(bench: BenchmarkConfig, grid: Grid, outcome: dict[str, Any], command: str) -> str:
    folds = len(outcome["chosen"])
    lines = [
        f"# vtrack tune: {grid.backend} on {bench.name}",
        "",
        f"Command: `{command}`",
        "",
        "Folds (sequences): " + "; ".join(f"{f}: {' '.join(n)}" for f, n in outcome["folds"].items()),
        "",
        f"**Cross-validated HOTA: {outcome['cv_hota']:.3f}** (each fold scored with the candidate chosen on the "
        "other folds; "
        + ", ".join(
            f"fold {f}: candidate {outcome['chosen'][f]}, held-out HOTA {outcome['held_out'][f]:.3f}"
            for f in range(folds)
        )
        + ").",
        "",
        f"Best on all sequences (in-sample, written to best.yaml): candidate {outcome['best']}, "
        f"HOTA {outcome['all'][outcome['best']]:.3f}.",
        "",
        "| candidate | " + " | ".join(f"HOTA without fold {f}" for f in range(folds)) + " | HOTA all | overrides |",
        "|---:|" + "---:|" * (folds + 1) + "---|",
    ]
    for i, overrides in enumerate(outcome["candidates"]):
        cells = " | ".join(f"{v:.3f}" for v in outcome["train"][i])
        lines.append(f"| {i} | {cells} | {outcome['all'][i]:.3f} | `{json.dumps(overrides)}` |")
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``vtrack tune`` to ``parser``; its help ends with this module's doc (method, grid format)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.partition("\n")[2].strip().replace("``", "'").replace("::", ":")
    parser.add_argument("--benchmark", required=True, type=Path, help="benchmark YAML, e.g. configs/bench_kitti.yaml")
    parser.add_argument("--grid", required=True, type=Path, help="grid YAML (backend, base, grid); format below")
    parser.add_argument("--folds", type=int, default=2, help="leave-sequences-out folds (default: 2)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (must not exist or be empty)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Run ``vtrack tune`` with parsed ``args``; return the exit status (0, or 2 on bad input)."""
    command = shlex.join(["vtrack", *sys.argv[1:]])
    if args.out.exists() and any(args.out.iterdir()):
        report.error(_COMMAND, f"--out {args.out} is not empty; choose a new folder")
        return report.EXIT_ERROR
    try:
        bench = load_benchmark(args.benchmark)
        grid = load_grid(args.grid)
        outcome = tune(bench, grid, args.folds, args.out, progress=not args.no_progress)
    except (OSError, ValueError) as error:
        report.error(_COMMAND, str(error))
        return report.EXIT_ERROR
    markdown = _markdown(bench, grid, outcome, command)
    (args.out / "tuning.md").write_text(markdown, encoding="utf-8")
    best = outcome["candidates"][outcome["best"]]
    header = f"# Tuned on {bench.name} by: {command}\n# cross-validated HOTA {outcome['cv_hota']:.3f}\n"
    (args.out / "best.yaml").write_text(header + yaml.safe_dump(best, sort_keys=False), encoding="utf-8")
    report.summary(markdown.splitlines()[:10])
    return 0
