"""A backend that raises on one sequence never sinks a ``vtrack bench`` run (issue 13).

The test backend ``strict-boxes`` is ``sort`` that raises, as boxmot's trackers do, on a
zero-width detection. The public PointRCNN detections of KITTI hold one (sequence 0000,
frame 115: ``x1 = x2 = 1241``); sequence 0003 has none. This module is also the backend's
module (``build`` and its config class), registered for these tests only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

import tracker
from benchmarks.cli import EXIT_FAILED_PAIRS, main
from benchmarks.config import load_benchmark
from benchmarks.runner import BenchOptions, PairFailure, run_benchmark
from tracker.base import BaseTracker
from tracker.types import Detections, Tracks

__all__ = ["StrictConfig", "build"]  # the registry's contract: the config class first

pytestmark = pytest.mark.needs_bench

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "bench_kitti_pointrcnn.yaml"
STRICT = "strict-boxes"
MESSAGE = "AABB detection rows must satisfy x2 > x1 and y2 > y1."
#: Whether ``strict-boxes`` raises; a test turns it off to see a retried pair succeed.
RAISING = {"on": True}


@dataclass(frozen=True)
class StrictConfig:
    """``strict-boxes`` has no settings."""


class Strict(BaseTracker):
    """``sort``, raising ValueError on a detection of zero width or height (as boxmot does)."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = tracker.create("sort")

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        xyxy = detections.xyxy
        if RAISING["on"] and ((xyxy[:, 2] <= xyxy[:, 0]) | (xyxy[:, 3] <= xyxy[:, 1])).any():
            raise ValueError(MESSAGE)
        return self.inner.update(detections, timestamp)

    def _reset(self) -> None:
        self.inner.reset()


def build(config: StrictConfig) -> Strict:
    """A ``strict-boxes`` tracker (the registry's entry point)."""
    return Strict()


@pytest.fixture(autouse=True)
def strict_backend() -> Iterator[None]:
    """``strict-boxes`` is registered while a test of this module runs, and raising unless the test says not."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(tracker.registry._BACKENDS, STRICT, __name__)  # no unregister in the public API
        patch.setitem(RAISING, "on", True)
        yield


def _options(out: Path, **changes: object) -> BenchOptions:
    base = BenchOptions(trackers=("sort", STRICT), out=out, sequences=("0000", "0003"), progress=False)
    return replace(base, **changes)


def test_zero_width_box_in_the_public_pointrcnn_detections() -> None:
    bench = load_benchmark(CONFIG)
    rows = np.loadtxt(bench.path(bench.detections, "0000"), delimiter=",", usecols=(0, 2, 3, 4, 5))
    zero_width = rows[rows[:, 1] == rows[:, 3]]
    np.testing.assert_array_equal(zero_width[:, [0, 1, 3]], [[115, 1241, 1241]])
    other = np.loadtxt(bench.path(bench.detections, "0003"), delimiter=",", usecols=(2, 3, 4, 5))
    assert (other[:, 2] > other[:, 0]).all() and (other[:, 3] > other[:, 1]).all()


def test_a_backend_raising_on_one_sequence_is_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_benchmark(load_benchmark(CONFIG), _options(out))
    assert result.failures == [PairFailure(STRICT, "0000", 115, "ValueError", MESSAGE)]
    assert result.computed == [("sort", "0000"), (STRICT, "0000"), ("sort", "0003"), (STRICT, "0003")]
    # The other pairs are scored: sort on both sequences, strict-boxes on 0003 alone; no partial combined score.
    assert result.combined["sort"] is not None and 30.0 < result.combined["sort"]["HOTA"] < 95.0
    assert result.combined[STRICT] is None and result.stats[STRICT] is None
    assert set(result.per_sequence["sort"]) == {"0000", "0003"} and set(result.per_sequence[STRICT]) == {"0003"}
    assert not (out / "results" / STRICT / "0000.txt").exists()

    summary = (out / "summary.md").read_text()
    assert f"| {STRICT} (failed on 1 of 2 sequences: 0000) | — |" in summary
    assert f"- `{STRICT}` on `0000`: ValueError at frame 115: {MESSAGE}" in summary
    with (out / "combined.csv").open() as handle:
        combined = {row["backend"]: row for row in csv.DictReader(handle)}
    assert combined["sort"]["status"] == "ok" and float(combined["sort"]["HOTA"]) > 0
    assert combined[STRICT]["status"] == "failed on 1 of 2 sequences: 0000" and combined[STRICT]["HOTA"] == ""
    with (out / "per_sequence.csv").open() as handle:
        per_sequence = {(row["backend"], row["sequence"]): row for row in csv.DictReader(handle)}
    assert per_sequence[(STRICT, "0000")]["status"] == f"failed: ValueError at frame 115: {MESSAGE}"
    assert per_sequence[(STRICT, "0000")]["HOTA"] == "" and per_sequence[(STRICT, "0003")]["status"] == "ok"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["pairs"][f"{STRICT}/0000"]["failure"] == {"frame": 115, "error": "ValueError", "message": MESSAGE}


def test_resume_retries_only_the_failed_pair(tmp_path: Path) -> None:
    out = tmp_path / "run"
    bench = load_benchmark(CONFIG)
    first = run_benchmark(bench, _options(out))
    again = run_benchmark(bench, _options(out, resume=True))
    assert again.computed == [(STRICT, "0000")] and again.failures == first.failures
    RAISING["on"] = False  # the cause is gone (a fixed library, a cleaned detection file)
    fixed = run_benchmark(bench, _options(out, resume=True))
    assert fixed.computed == [(STRICT, "0000")] and fixed.failures == []
    assert fixed.combined["sort"] == first.combined["sort"]
    # 0003 scored alone while 0000 failed is 0003 scored with both sequences (TrackEval scores each on its own)
    assert fixed.per_sequence[STRICT]["0003"] == pytest.approx(first.per_sequence[STRICT]["0003"])
    assert fixed.combined[STRICT] is not None and fixed.stats[STRICT] is not None
    assert "failed" not in (out / "summary.md").read_text()


def test_the_cli_completes_names_the_failure_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    argv = ["--benchmark", str(CONFIG), "--trackers", f"sort,{STRICT}", "--out", str(out), "--sequences", "0000"]
    assert main([*argv, "--no-progress"]) == EXIT_FAILED_PAIRS == 1
    printed = capsys.readouterr().out
    assert f"failed: {STRICT} on 0000: ValueError at frame 115: {MESSAGE}" in printed
    assert "| sort | " in printed and str(out / "summary.md") in printed


def test_a_failure_in_a_worker_process_is_recorded_as_in_a_serial_run(tmp_path: Path) -> None:
    """Worker processes fork from this one, so they know ``strict-boxes`` and whether it raises."""
    bench = load_benchmark(CONFIG)
    serial = run_benchmark(bench, _options(tmp_path / "serial"))
    out = tmp_path / "workers"
    parallel = run_benchmark(bench, _options(out, workers=2))
    assert parallel.failures == serial.failures == [PairFailure(STRICT, "0000", 115, "ValueError", MESSAGE)]
    assert parallel.computed == serial.computed
    assert parallel.combined == serial.combined and parallel.per_sequence == serial.per_sequence
    assert not (out / "results" / STRICT / "0000.txt").exists()
    RAISING["on"] = False
    fixed = run_benchmark(bench, _options(out, workers=2, resume=True))
    assert fixed.computed == [(STRICT, "0000")] and fixed.failures == []
    assert fixed.combined[STRICT] is not None
