"""How ``update()`` scales with the number of boxes per frame: a synthetic crowded scene.

``python -m benchmarks.scale [--boxes 125,1000,4000] [--frames 40] [--trackers vtrack,sort]``

``N`` objects (30 x 20 px boxes) move at constant random velocities (up to 60 px/s) over an
area that grows with ``N`` (one object per 90 x 90 px on average, like a parking-lot or
aerial view), sampled at 10 Hz; every object is detected in every frame with a little
jitter. The table gives the median milliseconds of one ``update()`` call (single thread,
after 5 warm-up frames) and the peak memory the process reached (resident set size).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

import tracker
from tracker import Detections
from tracker.app import report

#: Average area per object, px² (90 x 90 px).
_AREA_PER_OBJECT = 90.0 * 90.0
_WARMUP = 5


def scene(n: int, frames: int, seed: int = 0) -> list[Detections]:
    """``frames`` frames of ``n`` moving, jittered 30 x 20 px detections (10 Hz)."""
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(n * _AREA_PER_OBJECT))
    start = rng.uniform(0, side, (n, 2))
    velocity = rng.uniform(-60, 60, (n, 2))
    size = np.array([30.0, 20.0])
    out = []
    for k in range(frames):
        corner = start + velocity * k / 10 + rng.normal(0, 0.5, (n, 2))
        out.append(Detections(np.hstack([corner, corner + size]), rng.uniform(0.5, 1.0, n), np.full(n, 2)))
    return out


def measure(name: str, frames: list[Detections]) -> float:
    """Median milliseconds of ``update()`` over ``frames`` after the warm-up."""
    t = tracker.create(name)
    times = []
    for k, dets in enumerate(frames):
        start = time.perf_counter()
        t.update(dets, k / 10)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times[_WARMUP:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", default="125,1000,4000", help="comma-separated boxes per frame")
    parser.add_argument("--frames", type=int, default=40, help="frames per run (default 40)")
    parser.add_argument("--trackers", default="vtrack,sort", help="comma-separated backends")
    args = parser.parse_args(argv)
    names = args.trackers.split(",")
    from threadpoolctl import threadpool_limits  # the bench extra; imported here so scene() needs only the core

    with threadpool_limits(1):
        rows = []
        for n in (int(v) for v in args.boxes.split(",")):
            frames = scene(n, args.frames)
            rows.append((n, [measure(name, frames) for name in names]))
    lines = ["| boxes per frame | " + " | ".join(f"{name} ms/update" for name in names) + " |"]
    lines.append("|---:|" + "---:|" * len(names))
    lines += [f"| {n} | " + " | ".join(f"{v:.2f}" for v in values) + " |" for n, values in rows]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += [
        "",
        f"peak RSS {peak:.0f} MiB; median of {args.frames - _WARMUP} frames; timer: update() only, one thread",
    ]
    report.summary(lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
