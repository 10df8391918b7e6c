"""How long a large MOTChallenge ``det.txt`` takes to read: the fast reader against the row-by-row one.

``python -m benchmarks.read_speed --rows 1000000 --repeat 3`` writes a seeded ``det.txt``
of ``--rows`` rows (10 columns, as MOT16/17 write them: 500 boxes per frame, 2 decimals)
into a temporary folder, or reads ``--file`` instead, and times, in turn:

- ``fast``: :func:`tracker.formats.read_mot_detections` (Polars' CSV reader, or NumPy's C
  parser with ``--no-polars`` or without ``polars`` installed; checks on whole columns;
  what every caller gets);
- ``by_row``: the row-by-row reader that the fast path falls back to when a row needs
  it (Python's ``float`` per field, checks per row; what the readers did before).

Each timer covers one whole call from the path to the returned arrays (file reading
included, grouping by frame not), wall-clock ``time.perf_counter`` seconds; the best
and every run are logged. The first ``fast`` call includes importing ``polars``.
Timings on a shared machine vary with its load.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tracker.formats import read_mot_detections
from tracker.formats.mot import _mot_detections_by_row

__all__ = ["main", "write_det_txt"]

log = logging.getLogger(__name__)

#: Boxes per frame of the generated file.
BOXES_PER_FRAME = 500


def write_det_txt(path: Path, rows: int, seed: int = 0) -> None:
    """Write a ``det.txt`` of ``rows`` rows ``frame,-1,left,top,width,height,score,-1,-1,-1`` (pixels, 2 decimals)."""
    rng = np.random.default_rng(seed)
    frames = 1 + np.arange(rows) // BOXES_PER_FRAME
    left_top = rng.uniform(0, 1800, (rows, 2))
    size = rng.uniform(10, 200, (rows, 2))
    scores = rng.uniform(0, 1, rows)
    with path.open("w", encoding="utf-8") as handle:
        for frame, (left, top), (width, height), score in zip(
            frames.tolist(), left_top.tolist(), size.tolist(), scores.tolist(), strict=True
        ):
            handle.write(f"{frame},-1,{left:.2f},{top:.2f},{width:.2f},{height:.2f},{score:.4f},-1,-1,-1\n")


def _best(name: str, path: Path, read: object, repeat: int) -> float:
    laps = []
    for _ in range(repeat):
        start = time.perf_counter()
        rows = len(read(path).frames)  # type: ignore[operator]
        laps.append(time.perf_counter() - start)
    log.info("%s: %d rows, best %.3f s of %s", name, rows, min(laps), ", ".join(f"{lap:.3f}" for lap in laps))
    return min(laps)


def main(argv: list[str] | None = None) -> int:
    """Command line: generate (or take) a ``det.txt`` and time both readers."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.read_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated file")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls of each reader")
    parser.add_argument("--file", type=Path, help="time this det.txt instead of a generated one")
    parser.add_argument("--no-polars", action="store_true", help="time NumPy's parser, as without polars installed")
    args = parser.parse_args(argv)
    if args.no_polars:
        sys.modules["polars"] = None  # type: ignore[assignment]  # import polars then raises ImportError
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as folder:
        path = args.file
        if path is None:
            path = Path(folder) / "det.txt"
            write_det_txt(path, args.rows)
        fast = _best("fast", path, read_mot_detections, args.repeat)
        by_row = _best("by_row", path, _mot_detections_by_row, args.repeat)
    log.info("by_row / fast: %.1fx", by_row / fast)
    return 0


if __name__ == "__main__":
    sys.exit(main())
