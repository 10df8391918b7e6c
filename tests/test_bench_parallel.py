"""``vtrack bench`` in parallel: worker processes and Ray tasks give a serial run's scores, results and manifest.

Two KITTI sequences and two backends: the serial run and the parallel ones must agree on
every result file byte, every score, the manifest's keys and the order of the pairs run;
only the timings (``update fps`` and the like) may differ.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.cli import main
from benchmarks.config import load_benchmark
from benchmarks.evaluate import METRICS
from benchmarks.runner import BenchOptions, BenchResult, run_benchmark

pytestmark = pytest.mark.needs_bench

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "bench_kitti.yaml"
TRACKERS = ("vtrack", "sort")
SEQUENCES = ("0000", "0003")


def _options(out: Path, **changes: object) -> BenchOptions:
    base = BenchOptions(trackers=TRACKERS, out=out, sequences=SEQUENCES, progress=False)
    return replace(base, **changes)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BenchResult]:
    out = tmp_path_factory.mktemp("serial") / "run"
    return out, run_benchmark(load_benchmark(CONFIG), _options(out))


def _same_as_serial(serial: tuple[Path, BenchResult], out: Path, result: BenchResult) -> None:
    serial_out, expected = serial
    assert result.combined == expected.combined and result.per_sequence == expected.per_sequence
    assert result.computed == expected.computed  # in plan order, whatever order the jobs ended in
    for backend in TRACKERS:
        assert result.stats[backend].frames == expected.stats[backend].frames
        assert result.stats[backend].detections == expected.stats[backend].detections
        for seq in SEQUENCES:
            path = Path("results") / backend / f"{seq}.txt"
            assert (out / path).read_bytes() == (serial_out / path).read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    reference = json.loads((serial_out / "manifest.json").read_text())
    assert {k: v["key"] for k, v in manifest["pairs"].items()} == {k: v["key"] for k, v in reference["pairs"].items()}
    assert manifest["evaluations"] == reference["evaluations"]

    def scores(folder: Path, name: str) -> list[dict[str, str]]:
        with (folder / name).open() as handle:
            return [{k: row[k] for k in ("backend", *METRICS, "status")} for row in csv.DictReader(handle)]

    assert scores(out, "combined.csv") == scores(serial_out, "combined.csv")
    assert scores(out, "per_sequence.csv") == scores(serial_out, "per_sequence.csv")


def test_worker_processes_give_the_serial_run(serial, tmp_path: Path) -> None:
    out = tmp_path / "workers"
    result = run_benchmark(load_benchmark(CONFIG), _options(out, workers=2))
    _same_as_serial(serial, out, result)
    again = run_benchmark(load_benchmark(CONFIG), _options(out, workers=2, resume=True))
    assert again.computed == [] and again.combined == result.combined  # resume: nothing run, scores from the manifest


@pytest.mark.needs_fleet
def test_ray_tasks_give_the_serial_run(serial, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    result = run_benchmark(load_benchmark(CONFIG), _options(out, ray="local"))
    _same_as_serial(serial, out, result)


def test_parallel_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        _options(tmp_path, workers=0)
    with pytest.raises(ValueError, match="give one"):
        _options(tmp_path, workers=2, ray="local")
    argv = ["--benchmark", str(CONFIG), "--trackers", "sort", "--out", str(tmp_path / "out"), "--workers", "2"]
    assert main([*argv, "--ray=auto"]) == 2
    assert "with --ray, Ray spreads the pairs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
