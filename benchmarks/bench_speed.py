"""Paired wall-time runs of ``vtrack bench``: one by one against ``--workers N``, with a check that the scores agree.

Each timed run is one command, as a separate process::

    vtrack bench --benchmark YAML --trackers LIST --out DIR --no-progress [--workers N]

Timer: wall-clock seconds of that whole process, from starting it to its exit (imports,
running every (backend, sequence) pair, TrackEval scoring, the report and chart). Runs
go in rounds; in each round the serial run and the parallel one run once, in reversed
order on odd rounds, so that a change of the machine's load hits both alike. The load
average is recorded before and after every run, and ``uptime`` before and after the
whole measurement: other jobs on the machine make figures noisy (and where the kernel
groups processes by session, ``autogroup``, a busy session elsewhere leaves this one's
workers a share of the cores, not the cores). Every run's ``combined.csv`` and
``per_sequence.csv`` must agree with the first serial run's on every score column
(:data:`benchmarks.evaluate.METRICS` and ``status``); a difference raises.

Usage (from the repository root)::

    python -m benchmarks.bench_speed --out runs/bench_speed --benchmark configs/bench_kitti.yaml \\
        --trackers vtrack,sort,rf-bytetrack,boxmot-botsort --workers 2 --rounds 2

Writes ``DIR/bench_speed.json`` and ``DIR/bench_speed.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.fleet_speed import header_lines, load_average, run_facts, uptime_line, write_report

__all__ = ["main"]

_VTRACK = "import sys; from tracker.app.cli import main; sys.exit(main(sys.argv[1:]))"
#: Score columns of the CSV files that must agree (the timing columns may not).
_SCORES = ("backend", "sequence", "HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "status")


def _scores(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{key: row[key] for key in _SCORES if key in row} for row in csv.DictReader(handle)]


def _bench(args: argparse.Namespace, workers: int, out: Path) -> dict[str, Any]:
    command = [sys.executable, "-c", _VTRACK, "bench", "--benchmark", str(args.benchmark), "--trackers", args.trackers]
    command += ["--out", str(out), "--no-progress", *(["--workers", str(workers)] if workers > 1 else [])]
    before = load_average()
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
    return {
        "workers": workers,
        "seconds": round(seconds, 3),
        "load_average_before": before,
        "load_average_after": load_average(),
        "combined": _scores(out / "combined.csv"),
        "per_sequence": _scores(out / "per_sequence.csv"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the paired measurement; returns 0 (raises when a run fails or its scores differ)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for bench_speed.json and bench_speed.md")
    parser.add_argument("--benchmark", type=Path, default=Path("configs/bench_kitti.yaml"), help="benchmark YAML")
    parser.add_argument("--trackers", default="vtrack,sort,rf-bytetrack,boxmot-botsort", help="backends to run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel runs (default: 2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of paired runs (default: %(default)s)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    uptime_before = uptime_line()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for index in range(args.rounds):
            for workers in (1, args.workers) if index % 2 == 0 else (args.workers, 1):
                runs.append(_bench(args, workers, Path(scratch) / f"run{len(runs)}"))
    uptime_after = uptime_line()
    reference = runs[0]
    for run in runs:
        if run["combined"] != reference["combined"] or run["per_sequence"] != reference["per_sequence"]:
            raise RuntimeError(f"the scores of the run with {run['workers']} worker(s) differ from the serial run's")
    serial = statistics.median(run["seconds"] for run in runs if run["workers"] == 1)
    parallel = statistics.median(run["seconds"] for run in runs if run["workers"] == args.workers)
    result = {
        **run_facts("benchmarks.bench_speed", argv, started),
        "uptime_before": uptime_before,
        "uptime_after": uptime_after,
        "runs": [{key: value for key, value in run.items() if key not in ("combined", "per_sequence")} for run in runs],
        "scores_identical": True,
        "median_seconds": {"1": serial, str(args.workers): parallel},
        "ratio": round(parallel / serial, 3),
        "combined": reference["combined"],
    }
    lines = [
        *header_lines(
            f"vtrack bench {args.benchmark} --trackers {args.trackers}: one by one vs --workers {args.workers}", result
        ),
        "| run | workers | wall seconds (whole process) | load average before -> after |",
        "|---:|---:|---:|---|",
        *(
            f"| {number} | {run['workers']} | {run['seconds']:.2f} | "
            f"{run['load_average_before']} -> {run['load_average_after']} |"
            for number, run in enumerate(runs, start=1)
        ),
        "",
        f"Median: {serial:.2f} s one by one, {parallel:.2f} s with --workers {args.workers}: "
        f"{parallel / serial:.2f}x the serial wall time. combined.csv and per_sequence.csv score columns "
        "identical in every run.",
    ]
    write_report(args.out, "bench_speed", result, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
