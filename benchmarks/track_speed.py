"""Paired speed runs: ``vtrack track`` against Ultralytics' own tracker on the same clips, whole process.

For each clip, each round runs both commands once, as separate processes, in
alternating order (ours first in even rounds, Ultralytics first in odd ones), so a
change in the machine's load hits both alike:

- **ours**: ``vtrack track CLIP --out DIR --no-video --weights W --imgsz S`` plus
  ``--ours-args`` (default runtime: ``auto``);
- **Ultralytics**: ``YOLO(W).track(CLIP, tracker="bytetrack.yaml", classes=[2, 3, 5, 7],
  stream=True, imgsz=S, device="cpu")``, iterating over every result.

Timer: wall-clock seconds of the whole process, from starting it to its exit
(interpreter start, imports, model loading, decoding, detection, tracking, writing).
Frames/s is the clip's frame count (from ours' ``summary.json``, and counted by the
Ultralytics loop) divided by that time. Each command first runs once untimed per clip
(a warm-up, which also makes our first-use OpenVINO export), then ``--rounds`` timed
rounds; the table gives medians and every figure measured, and the JSON keeps each of
our runs' ``summary.json``. The tracker + camera motion share is their time per frame over
the pipeline's wall time per frame (``summary.json``), in CPU time of their thread and in
busy wall time (which also counts waiting for a core or the interpreter lock while the
detector runs in parallel). The load average before
and after the runs is recorded: figures taken on a loaded machine are noisy.

Usage (from the repository root)::

    python -m benchmarks.track_speed --out runs/track_speed \\
        ../shared/data/videos/test_small2.mp4 ../shared/data/videos/solidWhiteRight.mp4

Writes ``DIR/track_speed.json`` and ``DIR/track_speed.md`` and prints the table.
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

from benchmarks.fleet_speed import load_average, run_facts, write_report

__all__ = ["main"]

#: COCO vehicle classes (car, motorcycle, bus, truck), as vtrack's detector keeps by default.
VEHICLES = (2, 3, 5, 7)

_VTRACK = "import sys; from tracker.app.cli import main; sys.exit(main(sys.argv[1:]))"
_ULTRALYTICS = """
import sys
from ultralytics import YOLO
frames = 0
for _ in YOLO(sys.argv[1]).track(sys.argv[2], tracker="bytetrack.yaml", classes={classes}, stream=True,
                                 imgsz=int(sys.argv[3]), device="cpu", verbose=False):
    frames += 1
print(frames)
"""


def _run_ours(clip: Path, weights: str, imgsz: int, extra: list[str], scratch: Path) -> tuple[float, dict[str, Any]]:
    out = Path(tempfile.mkdtemp(dir=scratch))
    command = [sys.executable, "-c", _VTRACK, "track", str(clip), "--out", str(out / "run"), "--no-video"]
    command += ["--weights", weights, "--imgsz", str(imgsz), *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    summary = json.loads((out / "run" / "summary.json").read_text(encoding="utf-8"))
    return seconds, summary


def _run_ultralytics(clip: Path, weights: str, imgsz: int) -> tuple[float, int]:
    code = _ULTRALYTICS.format(classes=list(VEHICLES))
    env = {**os.environ, "YOLO_VERBOSE": "False", "YOLO_AUTOINSTALL": "False", "YOLO_OFFLINE": "True"}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, weights, str(clip), str(imgsz)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    return seconds, int(result.stdout.strip().splitlines()[-1])


def _measure(clip: Path, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    extra = shlex.split(args.ours_args)
    _run_ours(clip, args.weights, args.imgsz, extra, scratch)  # warm-up (and first-use export)
    _run_ultralytics(clip, args.weights, args.imgsz)  # warm-up
    ours: list[float] = []
    theirs: list[float] = []
    shares: list[float] = []
    wall_shares: list[float] = []
    summaries: list[dict[str, Any]] = []
    cmc_ms: list[float] = []
    frame_ms: list[float] = []
    summary: dict[str, Any] = {}
    frames = 0
    for index in range(args.rounds):
        order = ("ours", "ultralytics") if index % 2 == 0 else ("ultralytics", "ours")
        for who in order:
            if who == "ours":
                seconds, summary = _run_ours(clip, args.weights, args.imgsz, extra, scratch)
                frames = summary["frames"]
                ours.append(frames / seconds)
                shares.append(summary["tracker_and_camera_motion_cpu_share"])
                wall_shares.append(summary["tracker_and_camera_motion_share"])
                summaries.append(summary)
                cmc_ms.append(summary["stages_cpu_ms"]["camera_motion"] or 0.0)
                frame_ms.append(summary["wall_s"] * 1000.0 / frames)
            else:
                seconds, counted = _run_ultralytics(clip, args.weights, args.imgsz)
                theirs.append(counted / seconds)
    return {
        "clip": str(clip),
        "frames": frames,
        "ours_fps": ours,
        "ultralytics_fps": theirs,
        "ours_median_fps": statistics.median(ours),
        "ultralytics_median_fps": statistics.median(theirs),
        "ratio": statistics.median(ours) / statistics.median(theirs),
        "tracker_and_camera_motion_cpu_share": shares,
        "tracker_and_camera_motion_wall_share": wall_shares,
        "camera_motion_cpu_ms": cmc_ms,
        "pipeline_ms_per_frame": frame_ms,
        "runtime": summary.get("detector", {}).get("runtime"),
        "input_hw": summary.get("detector", {}).get("input_hw"),
        "ours_summaries": summaries,
    }


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| clip | frames | vtrack fps (median; all) | Ultralytics fps (median; all) | ratio | "
        "tracker + camera motion: CPU time / wall time (median) | the same, busy wall time / wall time (median) | "
        "camera motion CPU ms/frame (median) |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours = ", ".join(f"{v:.2f}" for v in row["ours_fps"])
        theirs = ", ".join(f"{v:.2f}" for v in row["ultralytics_fps"])
        lines.append(
            f"| {Path(row['clip']).name} | {row['frames']} | {row['ours_median_fps']:.2f} ({ours}) | "
            f"{row['ultralytics_median_fps']:.2f} ({theirs}) | {row['ratio']:.2f}x | "
            f"{statistics.median(row['tracker_and_camera_motion_cpu_share']):.1%} | "
            f"{statistics.median(row['tracker_and_camera_motion_wall_share']):.1%} | "
            f"{statistics.median(row['camera_motion_cpu_ms']):.2f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the paired measurement; returns 0 (raises on a failed child process)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.track_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", type=Path, help="video files")
    parser.add_argument("--out", type=Path, required=True, help="folder for track_speed.json and track_speed.md")
    parser.add_argument(
        "--weights", default="../shared/models/yolov8n.pt", help="the .pt both run (default: %(default)s)"
    )
    parser.add_argument("--imgsz", type=int, default=640, help="inference size of both (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per clip (default: %(default)s)")
    parser.add_argument("--ours-args", default="", help="extra options for vtrack track, e.g. '--runtime torch'")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory() as scratch:
        rows = [_measure(clip, args, Path(scratch)) for clip in args.clips]
    result = {
        **run_facts("benchmarks.track_speed", argv, started),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "weights": args.weights,
        "imgsz": args.imgsz,
        "ours_args": args.ours_args,
        "rows": rows,
    }
    lines = [
        f"# vtrack track vs Ultralytics track (ByteTrack), whole process, {args.rounds} alternating rounds",
        "",
        f"Command: `{result['command']}`; {started}; {result['cpus']} CPUs; load average (1, 5, 15 min) "
        f"{load_before} before, {result['load_average_after']} after.",
        "",
        *_table(rows),
    ]
    write_report(args.out, "track_speed", result, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
