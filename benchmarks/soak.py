"""Soak test: a tracker's memory over a long stream (300,000 frames by default, 8 h 20 min at 10 Hz).

A synthetic road scene that never repeats: cars enter at random, cross the frame at their
own speed and leave, so track IDs keep growing and tracks keep being born and deleted;
a few clutter boxes per frame at random places and scores. The resident set size (RSS,
from ``/proc/self/statm``) is sampled every ``--every`` frames after a warm-up; a leak
shows as growth between the first and the last sample. Prints a table and the command.

    python -m benchmarks.soak --frames 300000 --backends vtrack,sort,lstm
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import numpy as np

import tracker
from tracker.app import report

logger = logging.getLogger(__name__)

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        return int(handle.read().split()[1]) * _PAGE / 2**20


class Road:
    """Cars crossing a 1242 x 375 px frame (KITTI's size) left to right or back, plus clutter."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.cars = np.zeros((0, 6))  # x, y, w, h, vx px/frame, score

    def frame(self) -> tracker.Detections:
        rng = self.rng
        if rng.random() < 0.08:  # a new car about every 12 frames
            w = rng.uniform(40, 160)
            left = rng.random() < 0.5
            car = [
                -w if left else 1242.0,
                rng.uniform(150, 260),
                w,
                w * rng.uniform(0.6, 0.9),
                rng.uniform(2, 12) * (1 if left else -1),
                rng.uniform(0.6, 0.98),
            ]
            self.cars = np.vstack([self.cars, car])
        self.cars[:, 0] += self.cars[:, 4]
        self.cars = self.cars[(self.cars[:, 0] > -200) & (self.cars[:, 0] < 1300)]
        seen = self.cars[rng.random(len(self.cars)) > 0.1]  # 10 % missed detections
        jitter = rng.normal(0, 1.5, (len(seen), 2))
        boxes = [
            np.column_stack(
                [seen[:, 0] + jitter[:, 0], seen[:, 1] + jitter[:, 1], seen[:, 0] + seen[:, 2], seen[:, 1] + seen[:, 3]]
            )
        ]
        scores = [seen[:, 5]]
        clutter = rng.integers(0, 4)
        corner = rng.uniform([0, 100], [1200, 330], (clutter, 2))
        boxes.append(np.column_stack([corner, corner + rng.uniform(20, 60, (clutter, 2))]))
        scores.append(rng.uniform(0.05, 0.7, clutter))
        xyxy = np.concatenate(boxes)
        return tracker.Detections(xyxy, np.concatenate(scores), np.full(len(xyxy), 2))


def soak(name: str, frames: int, every: int, warmup: int, seed: int = 0) -> dict[str, float]:
    """Run ``frames`` frames at 10 Hz through backend ``name``; RSS (MiB) samples and counts."""
    road = Road(seed)
    trk = tracker.create(name)
    samples: list[float] = []
    live_max = 0
    start = time.perf_counter()
    for k in range(frames):
        tracks = trk.update(road.frame(), k / 10.0)
        live_max = max(live_max, len(trk) if hasattr(trk, "__len__") else len(tracks))
        if k + 1 >= warmup and (k + 1 - warmup) % every == 0:
            samples.append(rss_mib())
    return {
        "rss_start": samples[0],
        "rss_end": rss_mib(),
        "rss_max": max(samples),
        "live_max": float(live_max),
        "last_id": float(tracks.ids.max()) if len(tracks) else float("nan"),
        "seconds": time.perf_counter() - start,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300_000, help="frames per backend (10 Hz timestamps)")
    parser.add_argument("--backends", default="vtrack", help="comma-separated registered backends")
    parser.add_argument("--every", type=int, default=10_000, help="frames between RSS samples")
    parser.add_argument("--warmup", type=int, default=1_000, help="frames before the first RSS sample")
    args = parser.parse_args(argv)
    if args.frames <= args.warmup:
        parser.error("--frames must exceed --warmup")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    command = "python -m benchmarks.soak " + " ".join(sys.argv[1:] if argv is None else argv)
    rows = []
    for name in args.backends.split(","):
        result = soak(name, args.frames, args.every, args.warmup)
        logger.info("%s done in %.0f s", name, result["seconds"])
        rows.append((name, result))
    lines = [
        f"`{command}`: RSS of the whole process in MiB, sampled every {args.every} frames from frame {args.warmup}",
        "",
        "| backend | frames | RSS at warm-up | RSS at end | RSS max | live tracks max | last track ID | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {args.frames} | {r['rss_start']:.1f} | {r['rss_end']:.1f} | {r['rss_max']:.1f} "
        f"| {r['live_max']:.0f} | {r['last_id']:.0f} | {r['seconds']:.0f} |"
        for name, r in rows
    ]
    report.summary(lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
