"""``vtrack tune``: grid search of a backend's settings on one benchmark or a suite of them, cross-validated.

For every candidate of a grid (the product of the listed values, applied over
``base``) the backend runs once over every sequence of every benchmark given, and
TrackEval scores each sequence alone; the HOTA of any set of sequences (a fold, a
benchmark) is then combined from those per-sequence counts exactly as TrackEval would
score the set at once (``benchmarks.evaluate.combine_hota``). Runs are independent:
``--workers N`` runs N at a time in separate processes.

**One benchmark** (``--benchmark B``): the objective is HOTA. The sequences are split
into ``K`` folds (sequence ``i`` of the benchmark's order goes to fold ``i % K``). For
each fold, the candidate with the best combined HOTA on the *other* folds is chosen
and its results on the held-out fold are kept; the held-out results of all folds,
scored together, give the **cross-validated** HOTA, an honest estimate for settings
tuned on data like this. The candidate best on all sequences is written out as the
tuned settings (the usual final step of cross-validated model selection; its
full-data HOTA is in-sample and reported as such).

**Several benchmarks** (``--benchmark`` repeated, or ``--suite FILE``;
``configs/suite.yaml`` lists the six of issue 11): every peer backend (``--peers``,
default all seven, each on its library defaults exactly as ``vtrack bench`` runs it) is
scored on every benchmark once, and its per-sequence counts are cached on disk
(``--peer-cache``; keyed by benchmark, sequence and range, detection file contents, peer
settings and library version), so later runs compute no peer score again. A peer that
fails on a sequence (its library rejects the detections: boxmot refuses scores outside
[0, 1]) is recorded, cached and left out of that benchmark's best peer. A candidate's
**margin** on a benchmark is its HOTA minus the best peer's HOTA there; the
**objective** is the worst margin over the benchmarks, so a setting that wins by 3 on
one and loses by 2 on another ranks below one that wins by 0.5 everywhere. Reported
besides the in-sample choice (best objective, written to ``best.yaml``):

- **leave-one-benchmark-out**: for each benchmark B, the candidate with the best
  worst margin over the *other* benchmarks, and its HOTA and margin on B (how a
  setting chosen without B does on B);
- **leave-sequences-out**: the folds as above, within each benchmark; for each fold
  the candidate with the best worst margin on the other folds (margins over the best
  peer on those same sequences), and per benchmark the HOTA of the held-out results
  and their margin over the best peer.

Suite file (YAML; paths relative to its folder; a mapping entry picks sequences)::

    benchmarks:
      - bench_kitti.yaml
      - {benchmark: bench_mot17_dpm.yaml, sequences: [MOT17-09-DPM, MOT17-10-DPM]}

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

Keys are the backend's config fields, as in its settings YAML (``configs/README.md``);
every candidate starts from the backend's defaults (benchmarks hold no tracker
settings). Each grid key lists the values to try: plain values (``null`` included) set
that key, a dotted key reaching into a nested block; mappings (the key then only names
the choice) are sets of coupled overrides tried together, so a nested block as a whole
is written ``{byte: {low_score: 0.1}}``. The grid is the product of all lists; every
candidate is checked against the backend's config when the file is loaded, so an
unknown key fails before anything runs.

Outputs in ``--out``: ``tuning.md`` (the command; one benchmark: every candidate's
HOTA per training fold and on all sequences, the choice per fold, the cross-validated
figures; several: the peers' HOTA per benchmark, every candidate's HOTA and margin per
benchmark and its worst margin, the leave-one-benchmark-out and leave-sequences-out
tables, the wall time), ``tuning.json`` (the same figures, machine-readable) and
``best.yaml`` (the overrides of the chosen candidate).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shlex
import shutil
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import tracker
from benchmarks.config import BenchmarkConfig, load_benchmark
from benchmarks.datasets import Sequence, load_sequences
from benchmarks.evaluate import HotaRaw, combine_hota
from benchmarks.jobs import FAILED, Job, PeerScoreCache, default_peer_cache_dir, run_jobs, sequence_gt
from benchmarks.peers import PEERS, register_peers
from benchmarks.suite import check_names, load_suite
from tracker.app import report
from tracker.app.config import load_yaml
from tracker.config import ConfigError, from_mapping, merge
from tracker.registry import config_class

__all__ = [
    "Grid",
    "add_arguments",
    "candidates",
    "leave_one_benchmark_out",
    "load_grid",
    "run",
    "tune",
    "tune_suite",
    "worst_case_choice",
]

logger = logging.getLogger(__name__)

_COMMAND = "vtrack tune"
#: Per-sequence HOTA counts: benchmark name -> sequence name -> counts.
Scores = dict[str, dict[str, HotaRaw]]


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


# Running the grid -------------------------------------------------------------------------------


def _sequences(benches: list[BenchmarkConfig]) -> dict[str, list[Sequence]]:
    for bench in benches:
        if bench.detector is not None:
            raise ValueError(f"{bench.source}: vtrack tune reads detection files; not a detector-driven benchmark")
    return {bench.name: load_sequences(bench) for bench in benches}


def _run_grid(
    benches: list[BenchmarkConfig],
    backend: str,
    options: list[dict[str, Any]],
    out: Path,
    peers: tuple[str, ...] = (),
    cache: PeerScoreCache | None = None,
    workers: int = 1,
    progress: bool = True,
) -> tuple[list[Scores], dict[str, Scores], int]:
    """Every candidate and every peer on every sequence: ``(candidate scores, peer -> scores, peer runs computed)``.

    Peer scores come from ``cache`` where it has them; the rest are computed (peers first)
    and stored in it as they end. A peer that fails on a sequence gets ``{FAILED: message}`` there.
    """
    sequences = _sequences(benches)
    gt_folder = out / "gt"
    shutil.rmtree(gt_folder, ignore_errors=True)
    jobs: list[Job] = []
    slots: list[tuple[str, int | str, BenchmarkConfig, Sequence]] = []
    peer_scores: dict[str, Scores] = {peer: {bench.name: {} for bench in benches} for peer in peers}
    gts = {}
    for bench in benches:
        for seq in sequences[bench.name]:
            gts[bench.name, seq.name] = sequence_gt(bench, seq, gt_folder)

    def add(kind: str, who: int | str, bench: BenchmarkConfig, seq: Sequence, overrides: Any) -> None:
        name = who if isinstance(who, str) else backend
        work = out / "work" / str(len(jobs))
        jobs.append(Job(bench, seq, name, overrides, gts[bench.name, seq.name], work, keep_failure=kind == "peer"))
        slots.append((kind, who, bench, seq))

    for peer in peers:
        for bench in benches:
            for seq in sequences[bench.name]:
                cached = cache.get(bench, seq, peer) if cache else None
                if cached is None:
                    add("peer", peer, bench, seq, None)
                else:
                    peer_scores[peer][bench.name][seq.name] = cached
    peer_runs = len(jobs)
    logger.info("peer scores: %d runs to compute, the rest from the cache", peer_runs)
    for index, overrides in enumerate(options):
        for bench in benches:
            for seq in sequences[bench.name]:
                add("candidate", index, bench, seq, overrides)
    scores: list[Scores] = [{bench.name: {} for bench in benches} for _ in options]
    for number, hota in run_jobs(jobs, workers, progress):
        kind, who, bench, seq = slots[number]
        if kind == "peer":
            assert isinstance(who, str) and cache is not None
            cache.put(bench, seq, who, hota)
            peer_scores[who][bench.name][seq.name] = hota
        else:
            assert isinstance(who, int)
            scores[who][bench.name][seq.name] = hota
    for folder in (gt_folder, out / "work"):
        shutil.rmtree(folder, ignore_errors=True)
    return scores, peer_scores, peer_runs


def _hota(scores: dict[str, HotaRaw], names: list[str]) -> float:
    """Combined HOTA (percent) of the sequences ``names`` from their per-sequence counts."""
    return combine_hota([scores[name] for name in names])["HOTA"]


def _fold_of(sequences: list[Sequence], folds: int) -> dict[str, int]:
    return {seq.name: i % folds for i, seq in enumerate(sequences)}


def _argmax(values: list[float]) -> int:
    """Index of the largest value (the first one on ties)."""
    return max(range(len(values)), key=lambda i: values[i])


# One benchmark ----------------------------------------------------------------------------------


def tune(
    bench: BenchmarkConfig, grid: Grid, folds: int, out: Path, progress: bool = True, workers: int = 1
) -> dict[str, Any]:
    """Run the grid over ``bench`` with ``folds``-fold leave-sequences-out cross-validation (objective HOTA).

    Returns:
        ``{"candidates": [...], "train": [[HOTA per fold] per candidate], "all": [HOTA per
        candidate], "chosen": [candidate index per fold], "held_out": [HOTA per fold],
        "cv_hota": float, "best": index, "folds": {fold: [sequence names]}}``.

    Raises:
        ValueError: fewer sequences than folds, or ``folds < 2``.
    """
    sequences = load_sequences(bench)
    if folds < 2 or len(sequences) < folds:
        raise ValueError(f"need 2 <= folds <= {len(sequences)} sequences, got {folds}")
    fold_of = _fold_of(sequences, folds)
    names = [seq.name for seq in sequences]
    options = candidates(grid)
    runs, _, _ = _run_grid([bench], grid.backend, options, out, workers=workers, progress=progress)
    scores = [run[bench.name] for run in runs]
    train = [[_hota(s, [n for n in names if fold_of[n] != f]) for f in range(folds)] for s in scores]
    full = [_hota(s, names) for s in scores]
    chosen = [_argmax([row[f] for row in train]) for f in range(folds)]
    held_out = [_hota(scores[chosen[f]], [n for n in names if fold_of[n] == f]) for f in range(folds)]
    cv_hota = combine_hota([scores[chosen[fold_of[n]]][n] for n in names])["HOTA"]
    return {
        "candidates": options,
        "train": train,
        "all": full,
        "chosen": chosen,
        "held_out": held_out,
        "cv_hota": cv_hota,
        "best": _argmax(full),
        "folds": {f: [n for n in names if fold_of[n] == f] for f in range(folds)},
    }


# Several benchmarks -----------------------------------------------------------------------------


def worst_case_choice(margins: list[list[float]], columns: list[int] | None = None) -> tuple[int, float]:
    """The candidate whose smallest margin over ``columns`` (default: all) is largest, and that margin.

    Args:
        margins: ``margins[candidate][benchmark]``, HOTA minus the best peer's HOTA.
        columns: the benchmarks that count.

    Returns:
        ``(candidate index, its worst margin)``; ties go to the first candidate.
    """
    columns = list(range(len(margins[0]))) if columns is None else columns
    worst = [min(row[b] for b in columns) for row in margins]
    best = _argmax(worst)
    return best, worst[best]


def leave_one_benchmark_out(margins: list[list[float]]) -> list[tuple[int, float]]:
    """For each benchmark B: :func:`worst_case_choice` over the other benchmarks, as ``(candidate, worst margin)``.

    Raises:
        ValueError: fewer than two benchmarks.
    """
    count = len(margins[0])
    if count < 2:
        raise ValueError("leave-one-benchmark-out needs at least two benchmarks")
    return [worst_case_choice(margins, [b for b in range(count) if b != held]) for held in range(count)]


def tune_suite(
    benches: list[BenchmarkConfig],
    grid: Grid,
    folds: int,
    out: Path,
    cache: PeerScoreCache,
    peers: tuple[str, ...] = tuple(PEERS),
    progress: bool = True,
    workers: int = 1,
) -> dict[str, Any]:
    """Run the grid over several benchmarks; choose by the worst margin over the best peer (see the module doc).

    Returns:
        A JSON-ready mapping: ``benchmarks`` (names), ``candidates`` (overrides), ``peers``
        (peer -> benchmark -> HOTA, None where the peer failed on a sequence; it is then left
        out of that benchmark's best peer), ``peer_failures`` (peer -> benchmark -> ``["seq:
        error"]``), ``best_peer`` (benchmark -> ``[peer, HOTA]``), ``hota`` and
        ``margin`` (``[candidate][benchmark]``), ``worst`` (per candidate), ``best`` (index),
        ``lobo`` (per benchmark ``{benchmark, chosen, others_worst, hota, margin}``; empty with
        one benchmark), ``folds`` (benchmark -> fold -> sequence names), ``cv_chosen`` (candidate
        per fold), ``cv_train_worst`` (its worst training margin per fold), ``cv_hota`` and
        ``cv_margin`` (benchmark -> value), ``cv_worst``, and ``peer_runs`` (peer runs computed,
        not taken from the cache).

    Raises:
        ValueError: ``folds < 2`` or a benchmark with fewer sequences, no peers, an unknown
            peer, a benchmark on which every peer failed, a detector-driven benchmark, or two
            benchmarks with one name.
    """
    check_names(benches)
    register_peers()
    unknown = [peer for peer in peers if peer not in tracker.available()]
    if unknown or not peers:
        named = ", ".join(peers) or "none"
        raise ValueError(f"peers must be registered backends (the peer libraries: {', '.join(PEERS)}); got {named}")
    sequences = _sequences(benches)
    if folds < 2 or any(len(seqs) < folds for seqs in sequences.values()):
        counts = ", ".join(f"{name} {len(seqs)}" for name, seqs in sequences.items())
        raise ValueError(f"need 2 <= folds <= the sequences of every benchmark ({counts}), got {folds}")
    options = candidates(grid)
    runs, peer_runs, computed = _run_grid(benches, grid.backend, options, out, peers, cache, workers, progress)
    names = [bench.name for bench in benches]
    seq_names = {name: [seq.name for seq in seqs] for name, seqs in sequences.items()}
    failures = {
        peer: {b: [f"{n}: {run[n][FAILED]}" for n in seq_names[b] if FAILED in run[n]] for b, run in runs_of.items()}
        for peer, runs_of in peer_runs.items()
    }
    # A peer that fails on any sequence of a benchmark has no score there (as in `vtrack bench`, it has no row).
    valid = {b: [peer for peer in peers if not failures[peer][b]] for b in names}
    if not all(valid.values()):
        raise ValueError(f"no peer ran on {', '.join(b for b in names if not valid[b])}: {failures}")
    peer_hota = {
        peer: {b: _hota(peer_runs[peer][b], seq_names[b]) if peer in valid[b] else None for b in names}
        for peer in peers
    }
    best_peer = {b: max(((peer, peer_hota[peer][b]) for peer in valid[b]), key=lambda item: item[1]) for b in names}
    hota = [[_hota(run[b], seq_names[b]) for b in names] for run in runs]
    margin = [[row[i] - best_peer[b][1] for i, b in enumerate(names)] for row in hota]
    best, _ = worst_case_choice(margin)
    lobo = []
    if len(names) > 1:
        for held, (chosen, others) in enumerate(leave_one_benchmark_out(margin)):
            lobo.append(
                {
                    "benchmark": names[held],
                    "chosen": chosen,
                    "others_worst": others,
                    "hota": hota[chosen][held],
                    "margin": margin[chosen][held],
                }
            )
    fold_of = {b: _fold_of(sequences[b], folds) for b in names}
    cv_chosen, cv_train_worst = [], []
    for f in range(folds):
        train = {b: [n for n in seq_names[b] if fold_of[b][n] != f] for b in names}
        best_train = {b: max(_hota(peer_runs[peer][b], train[b]) for peer in valid[b]) for b in names}
        train_margin = [[_hota(run[b], train[b]) - best_train[b] for b in names] for run in runs]
        chosen, worst = worst_case_choice(train_margin)
        cv_chosen.append(chosen)
        cv_train_worst.append(worst)
    cv_hota = {b: combine_hota([runs[cv_chosen[fold_of[b][n]]][b][n] for n in seq_names[b]])["HOTA"] for b in names}
    cv_margin = {b: cv_hota[b] - best_peer[b][1] for b in names}
    return {
        "benchmarks": names,
        "candidates": options,
        "peers": peer_hota,
        "peer_failures": {p: {b: f for b, f in of.items() if f} for p, of in failures.items() if any(of.values())},
        "best_peer": {b: list(value) for b, value in best_peer.items()},
        "hota": hota,
        "margin": margin,
        "worst": [min(row) for row in margin],
        "best": best,
        "lobo": lobo,
        "folds": {b: {f: [n for n in seq_names[b] if fold_of[b][n] == f] for f in range(folds)} for b in names},
        "cv_chosen": cv_chosen,
        "cv_train_worst": cv_train_worst,
        "cv_hota": cv_hota,
        "cv_margin": cv_margin,
        "cv_worst": min(cv_margin.values()),
        "peer_runs": computed,
    }


# Reports ----------------------------------------------------------------------------------------


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


def _suite_markdown(
    benches: list[BenchmarkConfig], grid: Grid, outcome: dict[str, Any], command: str, footer: str
) -> str:
    names = outcome["benchmarks"]
    best = outcome["best"]
    peers = list(outcome["peers"])
    lobo = outcome["lobo"]
    lines = [
        f"# vtrack tune: {grid.backend} on {len(names)} benchmarks",
        "",
        f"Command: `{command}`",
        "",
        "Benchmarks: "
        + "; ".join(
            f"{bench.name} (`{bench.source}`, {len(sum(outcome['folds'][bench.name].values(), []))} sequences)"
            for bench in benches
        ),
        "",
        "Objective: the worst margin over the benchmarks, margin = candidate HOTA - best peer HOTA on that "
        f"benchmark (peers on their library defaults, as `vtrack bench` runs them: {', '.join(peers)}).",
        "",
        f"**Chosen (best worst margin, in-sample; written to best.yaml): candidate {best}, worst margin "
        f"{outcome['worst'][best]:+.3f}**"
        + (f"; leave-one-benchmark-out worst margin {min(e['margin'] for e in lobo):+.3f}" if lobo else "")
        + f"; leave-sequences-out worst margin {outcome['cv_worst']:+.3f}.",
        "",
        "## Peers (HOTA)",
        "",
        "| peer | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for peer in peers:
        cells = ["failed" if outcome["peers"][peer][b] is None else f"{outcome['peers'][peer][b]:.3f}" for b in names]
        lines.append(f"| {peer} | " + " | ".join(cells) + " |")
    lines.append("| **best peer** | " + " | ".join(f"{outcome['best_peer'][b][1]:.3f}" for b in names) + " |")
    lines.append("| (which) | " + " | ".join(outcome["best_peer"][b][0] for b in names) + " |")
    if outcome["peer_failures"]:
        lines += ["", "Failed (left out of that benchmark's best peer):", ""]
        for peer, of in outcome["peer_failures"].items():
            for b, failures in of.items():
                by_error: dict[str, list[str]] = {}
                for failure in failures:
                    seq, _, error = failure.partition(": ")
                    by_error.setdefault(error, []).append(seq)
                lines += [f"- {peer} on {b} ({', '.join(seqs)}): {error}" for error, seqs in by_error.items()]
    lines += [
        "",
        "## Candidates (HOTA, margin over the best peer)",
        "",
        "| candidate | " + " | ".join(f"{b} HOTA | {b} margin" for b in names) + " | worst margin | overrides |",
        "|---:|" + "---:|" * (2 * len(names) + 1) + "---|",
    ]
    for i, overrides in enumerate(outcome["candidates"]):
        cells = " | ".join(f"{h:.3f} | {m:+.3f}" for h, m in zip(outcome["hota"][i], outcome["margin"][i], strict=True))
        mark = "**" if i == best else ""
        lines.append(f"| {mark}{i}{mark} | {cells} | {outcome['worst'][i]:+.3f} | `{json.dumps(overrides)}` |")
    if lobo:
        lines += [
            "",
            "## Leave one benchmark out",
            "",
            "Each benchmark scored with the candidate of best worst margin over the *other* benchmarks.",
            "",
            "| held-out benchmark | candidate | worst margin on the others | HOTA | best peer | margin |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for entry in lobo:
            peer, peer_value = outcome["best_peer"][entry["benchmark"]]
            lines.append(
                f"| {entry['benchmark']} | {entry['chosen']} | {entry['others_worst']:+.3f} | {entry['hota']:.3f} "
                f"| {peer_value:.3f} ({peer}) | {entry['margin']:+.3f} |"
            )
    folds = len(outcome["cv_chosen"])
    lines += [
        "",
        "## Leave sequences out",
        "",
        f"{folds} folds within each benchmark (sequence i of a benchmark in fold i mod {folds}); per fold, the "
        "candidate of best worst margin on the other folds (margins over the best peer on those sequences): "
        + ", ".join(
            f"fold {f}: candidate {c} (training worst margin {w:+.3f})"
            for f, (c, w) in enumerate(zip(outcome["cv_chosen"], outcome["cv_train_worst"], strict=True))
        )
        + ". Held-out results of all folds scored together:",
        "",
        "| benchmark | folds (sequences) | cross-validated HOTA | best peer | margin |",
        "|---|---|---:|---:|---:|",
    ]
    for b in names:
        fold_text = "; ".join(" ".join(seqs) for seqs in outcome["folds"][b].values())
        lines.append(
            f"| {b} | {fold_text} | {outcome['cv_hota'][b]:.3f} | {outcome['best_peer'][b][1]:.3f} "
            f"| {outcome['cv_margin'][b]:+.3f} |"
        )
    lines += ["", footer]
    return "\n".join(lines) + "\n"


# Command line -----------------------------------------------------------------------------------


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``vtrack tune`` to ``parser``; its help ends with this module's doc (method, grid format)."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.partition("\n")[2].strip().replace("``", "'").replace("::", ":")
    parser.add_argument(
        "--benchmark",
        action="append",
        default=[],
        type=Path,
        help="benchmark YAML, e.g. configs/bench_kitti.yaml; repeat it to tune on several (with --suite too)",
    )
    parser.add_argument("--suite", type=Path, help="suite YAML listing benchmarks, e.g. configs/suite.yaml")
    parser.add_argument("--grid", required=True, type=Path, help="grid YAML (backend, base, grid); format below")
    parser.add_argument("--folds", type=int, default=2, help="leave-sequences-out folds (default: 2)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (must not exist or be empty)")
    parser.add_argument("--workers", type=int, default=1, help="runs at once, in separate processes (default: 1)")
    parser.add_argument(
        "--peers",
        type=_names,
        default=None,
        help=f"several benchmarks: the peers whose best sets each margin (default: all, {','.join(PEERS)})",
    )
    parser.add_argument(
        "--peer-cache",
        type=Path,
        default=None,
        help="several benchmarks: folder of the cached peer scores (default $XDG_CACHE_HOME/vtrack/peer_scores)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _write(out: Path, name: str, text: str) -> None:
    (out / name).write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """Run ``vtrack tune`` with parsed ``args``; return the exit status (0, or 2 on bad input)."""
    command = shlex.join(["vtrack", *sys.argv[1:]])
    if args.out.exists() and any(args.out.iterdir()):
        report.error(_COMMAND, f"--out {args.out} is not empty; choose a new folder")
        return report.EXIT_ERROR
    started = time.perf_counter()
    try:
        benches = (load_suite(args.suite) if args.suite else []) + [load_benchmark(p) for p in args.benchmark]
        if not benches:
            raise ConfigError("give --benchmark or --suite")
        grid = load_grid(args.grid)
        if len(benches) == 1 and not args.suite:
            if args.peers is not None or args.peer_cache is not None:
                raise ConfigError("--peers and --peer-cache apply to several benchmarks (--suite or --benchmark twice)")
            outcome = tune(benches[0], grid, args.folds, args.out, not args.no_progress, args.workers)
            markdown = _markdown(benches[0], grid, outcome, command)
            header = f"# Tuned on {benches[0].name} by: {command}\n# cross-validated HOTA {outcome['cv_hota']:.3f}\n"
        else:
            cache = PeerScoreCache(args.peer_cache or default_peer_cache_dir())
            peers = args.peers or tuple(PEERS)
            outcome = tune_suite(benches, grid, args.folds, args.out, cache, peers, not args.no_progress, args.workers)
            seconds = time.perf_counter() - started
            footer = (
                f"Wall time {seconds:.0f} s with {args.workers} worker(s): {len(outcome['candidates'])} candidates, "
                f"{outcome['peer_runs']} peer runs computed (the rest from the cache {cache.folder})."
            )
            markdown = _suite_markdown(benches, grid, outcome, command, footer)
            lobo = min((e["margin"] for e in outcome["lobo"]), default=None)
            header = (
                f"# Chosen on {', '.join(outcome['benchmarks'])} by: {command}\n"
                f"# worst margin over the best peer {outcome['worst'][outcome['best']]:+.3f} (in-sample)"
                + (f"; leave-one-benchmark-out worst margin {lobo:+.3f}" if lobo is not None else "")
                + f"; leave-sequences-out worst margin {outcome['cv_worst']:+.3f}\n"
            )
    except (OSError, ValueError) as error:
        report.error(_COMMAND, str(error))
        return report.EXIT_ERROR
    _write(args.out, "tuning.md", markdown)
    _write(args.out, "tuning.json", json.dumps({"command": command, **outcome}, indent=1))
    best = outcome["candidates"][outcome["best"]]
    _write(args.out, "best.yaml", header + yaml.safe_dump(best, sort_keys=False))
    report.summary(markdown.splitlines()[:10])
    return 0
