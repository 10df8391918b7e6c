"""Benchmark outputs: the markdown table, the CSV files, the PNG chart, and :func:`report` (the one printout).

Speed columns (wall-clock seconds by ``time.perf_counter``, single-threaded; reading
detections and writing results are never counted):

- ``update fps``: frames divided by the seconds inside the tracking library's own
  update call. For vtrack's backends that is the whole ``update()``; for the peer
  backends only the call into the peer library's update (roboflow ``trackers``:
  ``update(sv.Detections, timestamp=...)``, boxmot: ``update(dets, img)``), without the
  adapter's conversion of the detections to the library's types and of its output to
  :class:`tracker.Tracks` (see :class:`benchmarks.peers.adapters.LibraryTimed`);
- ``step fps``: frames divided by the seconds of the whole ``update()`` call as a vtrack
  user makes it, the peer adapters' conversions included (equal to ``update fps`` for
  vtrack's own backends);
- ``dets/frame``: mean number of detections passed to ``update()`` per frame;
- ``e2e fps`` (detector-driven mode only): frames divided by the seconds of reading
  the image, detecting and the whole ``update()`` together.
"""

from __future__ import annotations

import csv
import math
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from benchmarks.evaluate import METRICS

__all__ = [
    "DISTRIBUTIONS",
    "RunStats",
    "TIMERS_TEXT",
    "library_versions",
    "markdown_table",
    "report",
    "results_tables",
    "tuned_on",
    "write_chart",
    "write_csv",
]

#: Python distributions whose versions head every report.
DISTRIBUTIONS = (
    "vtrack",
    "numpy",
    "scipy",
    "numba",  # vtrack's Kalman filter runs compiled when it is installed (tracker.motion.compiled)
    "trackeval",
    "trackers",
    "supervision",
    "boxmot",
    "lapx",
    "torch",
    "ultralytics",
)
#: What each timer covers, in words (the report's explanation of its speed columns).
TIMERS_TEXT = (
    "update fps: frames / seconds inside the tracking library's own update call, one thread: for vtrack's "
    "backends the whole update(); for the peer backends only the call into the peer library's update "
    "(roboflow trackers: update(sv.Detections, timestamp=...); boxmot: update(dets, img)), the adapter's "
    "conversion of the detections to the library's types and of its output back to vtrack Tracks excluded. "
    "step fps: frames / seconds of the whole update() call, those conversions included (the same timer as "
    "update fps for vtrack's backends)."
)
#: Folder of the variant files that hold settings tuned on one benchmark (see :func:`tuned_on`).
TUNED_FOLDER = "tuned"
#: Decimals shown for metrics (TrackEval's own tables show 3).
METRIC_DECIMALS = 3
#: Chart size in inches and resolution in dots per inch.
CHART_SIZE = (13.0, 4.2)
CHART_DPI = 120


@dataclass(frozen=True)
class RunStats:
    """Counts and timings of one backend over one or more sequences.

    Attributes:
        frames: frames fed to ``update()``.
        detections: detections fed to ``update()`` (after any class filter).
        update_seconds: wall-clock seconds inside the tracking library's own update call
            (vtrack's backends: the whole ``update()``; peers: the library call alone).
        step_seconds: wall-clock seconds of the whole ``update()`` calls, adapter conversions included.
        detect_seconds: seconds of reading frames and detecting (detector-driven mode), else None.
    """

    frames: int
    detections: int
    update_seconds: float
    step_seconds: float
    detect_seconds: float | None = None

    def __add__(self, other: RunStats) -> RunStats:
        detect = None
        if self.detect_seconds is not None and other.detect_seconds is not None:
            detect = self.detect_seconds + other.detect_seconds
        return RunStats(
            self.frames + other.frames,
            self.detections + other.detections,
            self.update_seconds + other.update_seconds,
            self.step_seconds + other.step_seconds,
            detect,
        )

    @property
    def update_fps(self) -> float:
        """Frames per second of the library's own update call (inf when it took no measurable time)."""
        return self.frames / self.update_seconds if self.update_seconds > 0 else math.inf

    @property
    def step_fps(self) -> float:
        """Frames per second of the whole ``update()`` call (inf when it took no measurable time)."""
        return self.frames / self.step_seconds if self.step_seconds > 0 else math.inf

    @property
    def dets_per_frame(self) -> float:
        """Mean detections per frame."""
        return self.detections / self.frames if self.frames else 0.0

    @property
    def e2e_fps(self) -> float | None:
        """End-to-end frames per second (read + detect + the whole update()), detector-driven mode only."""
        if self.detect_seconds is None:
            return None
        return self.frames / (self.detect_seconds + self.step_seconds)


def library_versions() -> dict[str, str]:
    """``{"python": ..., distribution: version or "not installed"}`` for :data:`DISTRIBUTIONS`."""
    versions = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _cell(value: float | int | None, decimals: int) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{decimals}f}"


def markdown_table(rows: Sequence[tuple[str, dict[str, float] | None, RunStats | None]]) -> str:
    """A markdown table: one row per ``(backend, metrics, stats)``.

    Columns: backend, the :data:`~benchmarks.evaluate.METRICS`, update fps, step fps,
    dets/frame, and e2e fps when any row has detector timings (see the module doc). A
    row without metrics or stats (a backend that failed on a sequence) shows "—" there.
    """
    with_e2e = any(stats is not None and stats.detect_seconds is not None for _, _, stats in rows)
    header = ["backend", *METRICS, "update fps", "step fps", "dets/frame", *(["e2e fps"] if with_e2e else [])]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for backend, metrics, stats in rows:
        cells = [backend, *(_cell(metrics[m] if metrics else None, METRIC_DECIMALS) for m in METRICS)]
        if stats is None:
            cells += ["—"] * (len(header) - len(cells))
        else:
            cells += [_cell(stats.update_fps, 1), _cell(stats.step_fps, 1), _cell(stats.dets_per_frame, 1)]
            if with_e2e:
                cells.append(_cell(stats.e2e_fps, 2))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tuned_on(variant: Path | None) -> str | None:
    """The benchmark a variant's settings were tuned on, or None for an untuned one.

    Settings tuned on a benchmark live in a folder named :data:`TUNED_FOLDER`, one file per
    benchmark named after it (``configs/tuned/mot17-frcnn.yaml``: tuned on ``mot17-frcnn``).
    """
    return variant.stem if variant is not None and variant.parent.name == TUNED_FOLDER else None


def results_tables(
    rows: Sequence[tuple[str, dict[str, float], RunStats]], variants: Mapping[str, Path], benchmark: str
) -> str:
    """:func:`markdown_table` of the backends as they ship (and untuned variants), then one of the tuned variants.

    A variant whose file :func:`tuned_on` names a benchmark goes to the second table, below
    the first, labelled "tuned on this benchmark" (its score there is in-sample) or "tuned
    on NAME"; without such rows the result is the first table alone.
    """
    tuned = {label: tuned_on(variants.get(label)) for label, _, _ in rows}
    shipped = [row for row in rows if tuned[row[0]] is None]
    text = markdown_table(shipped) if shipped else ""
    others = [
        (f"{label} ({'tuned on this benchmark' if tuned[label] == benchmark else f'tuned on {tuned[label]}'})", m, s)
        for label, m, s in rows
        if tuned[label] is not None
    ]
    if not others:
        return text
    note = (
        "Settings tuned on a benchmark (`configs/tuned/`), not the default; on the benchmark they were tuned "
        "on, their score is in-sample:"
    )
    return f"{text}\n\n{note}\n\n{markdown_table(others)}".lstrip("\n")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """Write ``rows`` under ``header`` as CSV to ``path``; return ``path``."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_chart(path: Path, title: str, rows: Sequence[tuple[str, dict[str, float], RunStats]]) -> Path:
    """A PNG with three bar charts per backend: HOTA (%), IDF1 (%) and update fps (the library's update call)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [backend for backend, _, _ in rows]
    panels = [
        ("HOTA (%)", [metrics["HOTA"] for _, metrics, _ in rows]),
        ("IDF1 (%)", [metrics["IDF1"] for _, metrics, _ in rows]),
        ("update fps: library update call, frames/s (1 thread)", [stats.update_fps for _, _, stats in rows]),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=CHART_SIZE, constrained_layout=True)
    for axis, (label, values) in zip(axes, panels, strict=True):
        bars = axis.barh(names, values, color="tab:blue")
        axis.bar_label(bars, labels=[f"{v:.1f}" for v in values], padding=2, fontsize=8)
        axis.set_xlabel(label)
        axis.invert_yaxis()
        axis.set_xlim(0, max(values) * 1.2 if values and max(values) > 0 else 1)
    figure.suptitle(title)
    figure.savefig(path, dpi=CHART_DPI)
    plt.close(figure)
    return path


def report(text: str) -> None:
    """Print a benchmark's table and where its full report is to standard output: the harness's only printout."""
    sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()
