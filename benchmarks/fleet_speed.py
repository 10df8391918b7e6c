"""Paired throughput runs of ``vtrack track`` over many videos: ``--workers A`` against ``--workers B``.

Each timed run is one command over every clip, as a separate process::

    vtrack track CLIP... --out DIR --workers N --weights W [--extra options]

Timer: wall-clock seconds of that whole process, from starting it to its exit
(interpreter start, imports, starting the worker processes, model loading, decoding,
detection, tracking, rendering, writing, the manifest). Videos/hour is the number of
clips the run finished (``done`` in its ``manifest.jsonl``) times 3600 over that time;
frames/s is the frames of those clips over that time. Before the timed runs, every
clip runs once untimed for ``--warmup-frames`` frames (makes the first-use OpenVINO
exports and reads the files into the page cache). Runs then go in rounds; in each
round every worker count runs once, in reversed order on odd rounds (A B, B A, ...),
so that a change of the machine's load hits both alike. The load average is recorded
before and after every run, and ``uptime`` before and after the whole measurement:
other jobs on the machine make figures noisy.

Usage (from the repository root)::

    python -m benchmarks.fleet_speed --out runs/fleet_speed ../shared/data/videos/*.mp4

Writes ``DIR/fleet_speed.json`` and ``DIR/fleet_speed.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["header_lines", "load_average", "main", "run_facts", "uptime_line", "write_report"]

_VTRACK = "import sys; from tracker.app.cli import main; sys.exit(main(sys.argv[1:]))"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages from ``/proc/loadavg`` ("unknown" elsewhere)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def uptime_line() -> str:
    """What ``uptime`` prints (the load averages alone where it cannot run)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"load average {load_average()}"


def run_facts(module: str, argv: list[str] | None, started: str) -> dict[str, Any]:
    """The first keys of a speed report: start time, the command that reproduces it, the CPU count.

    ``argv``: the arguments ``main`` was given (None: this process's command line).
    """
    arguments = sys.argv[1:] if argv is None else argv
    return {"started": started, "command": shlex.join(["python", "-m", module, *arguments]), "cpus": os.cpu_count()}


def write_report(out: Path, stem: str, result: dict[str, Any], lines: list[str]) -> None:
    """Write ``out/stem.json`` (``result``) and ``out/stem.md`` (``lines``), and print the lines."""
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    text = "\n".join(lines) + "\n"
    (out / f"{stem}.md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


def header_lines(title: str, result: dict[str, Any]) -> list[str]:
    """The markdown report's title, command line and ``uptime`` before and after, from ``result``'s keys."""
    return [
        f"# {title}",
        "",
        f"Command: `{result['command']}`; {result['started']}; {result['cpus']} CPUs.",
        "",
        f"`uptime` before: {result['uptime_before']}",
        "",
        f"`uptime` after: {result['uptime_after']}",
        "",
    ]


def _track(clips: list[Path], out: Path, options: list[str]) -> float:
    """Run ``vtrack track`` over ``clips`` into ``out``; its wall-clock seconds (exit 0 or 1 accepted)."""
    command = [sys.executable, "-c", _VTRACK, "track", *map(str, clips), "--out", str(out), *options]
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise RuntimeError(f"{shlex.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
    return seconds


def _measure(workers: int, clips: list[Path], options: list[str], scratch: Path) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(dir=scratch)) / "run"
    before = load_average()
    seconds = _track(clips, out, [*options, "--workers", str(workers)])
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    done = [record for record in records if record["status"] == "done"]
    frames = sum(record["frames"] for record in done)
    return {
        "workers": workers,
        "seconds": round(seconds, 3),
        "videos_done": len(done),
        "failed": [record["source"] for record in records if record["status"] == "failed"],
        "frames": frames,
        "videos_per_hour": round(len(done) * 3600.0 / seconds, 1),
        "frames_per_s": round(frames / seconds, 2),
        "job_fps": {record["name"]: record["fps"] for record in done},
        "load_average_before": before,
        "load_average_after": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the paired measurement; returns 0 (raises when a run fails to start or crashes)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", type=Path, help="video files, all tracked by each run")
    parser.add_argument("--out", type=Path, required=True, help="folder for fleet_speed.json and fleet_speed.md")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to pair (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of paired runs (default: %(default)s)")
    parser.add_argument("--weights", default="../shared/models/yolov8n.pt", help="YOLO weights (default: %(default)s)")
    parser.add_argument("--warmup-frames", type=int, default=2, help="frames per clip of the untimed warm-up run")
    parser.add_argument("--extra", default="", help="further vtrack track options, e.g. '--no-video --max-frames 50'")
    args = parser.parse_args(argv)
    counts = [int(part) for part in args.workers.split(",")]
    options = ["--weights", args.weights, *shlex.split(args.extra)]
    args.out.mkdir(parents=True, exist_ok=True)
    uptime_before = uptime_line()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        _track(args.clips, scratch / "warmup", [*options, "--workers", "1", "--max-frames", str(args.warmup_frames)])
        for index in range(args.rounds):
            for workers in counts if index % 2 == 0 else counts[::-1]:
                runs.append(_measure(workers, args.clips, options, scratch))
    uptime_after = uptime_line()
    medians = {
        workers: statistics.median(run["videos_per_hour"] for run in runs if run["workers"] == workers)
        for workers in counts
    }
    base = medians[counts[0]]
    result = {
        **run_facts("benchmarks.fleet_speed", argv, started),
        "uptime_before": uptime_before,
        "uptime_after": uptime_after,
        "options": options,
        "runs": runs,
        "median_videos_per_hour": medians,
        "ratio_to_first": {workers: round(value / base, 3) for workers, value in medians.items()},
    }
    frames = runs[0]["frames"]
    lines = [
        *header_lines(
            f"vtrack track over {len(args.clips)} clips ({frames} frames): worker processes, whole process wall time",
            result,
        ),
        "| run | workers | seconds | videos done | videos/hour | frames/s | load average before -> after |",
        "|---:|---:|---:|---:|---:|---:|---|",
        *(
            f"| {number} | {run['workers']} | {run['seconds']:.2f} | {run['videos_done']} | "
            f"{run['videos_per_hour']:.1f} | {run['frames_per_s']:.2f} | "
            f"{run['load_average_before']} -> {run['load_average_after']} |"
            for number, run in enumerate(runs, start=1)
        ),
        "",
        *(
            f"- `--workers {workers}`: median {value:.1f} videos/hour, {value / base:.2f}x `--workers {counts[0]}`"
            for workers, value in medians.items()
        ),
    ]
    write_report(args.out, "fleet_speed", result, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
