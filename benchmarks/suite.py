"""Benchmark suites: several benchmarks scored together by ``vtrack tune --suite``, read by :func:`load_suite`.

A suite file (YAML) lists benchmark YAML files, relative to the suite file's folder;
an entry may also be a mapping that picks a subset of a benchmark's sequences::

    benchmarks:
      - bench_kitti.yaml
      - bench_mot17.yaml
      - {benchmark: bench_mot17_dpm.yaml, sequences: [MOT17-09-DPM, MOT17-10-DPM]}

Every benchmark's ``name`` must be unique within the suite (it heads the columns of
the tuning tables). ``configs/suite.yaml`` is the suite of issue 11: KITTI train with
the RRC and the PointRCNN detections, MOT17 train with the FRCNN, DPM and SDP public
detections, and the MOT17 validation half with YOLOX detections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from benchmarks.config import BenchmarkConfig, load_benchmark
from benchmarks.datasets import load_sequences
from tracker.app.config import load_yaml
from tracker.config import ConfigError

__all__ = ["check_names", "load_suite", "with_sequences"]


def with_sequences(bench: BenchmarkConfig, sequences: list[str] | tuple[str, ...]) -> BenchmarkConfig:
    """``bench`` restricted to ``sequences`` (in that order).

    Raises:
        benchmarks.datasets.DatasetError: a name that is not a sequence of ``bench``.
    """
    load_sequences(bench, list(sequences))
    return dataclasses.replace(bench, sequences=tuple(sequences))


def check_names(benches: list[BenchmarkConfig]) -> None:
    """Raise ``ConfigError`` when two benchmarks share a ``name`` (or the list is empty)."""
    if not benches:
        raise ConfigError("no benchmarks given")
    names = [bench.name for bench in benches]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        sources = [bench.source for bench in benches if bench.name in repeated]
        raise ConfigError(f"benchmark name(s) {', '.join(repeated)} used twice: {', '.join(sources)}")


def load_suite(path: str | Path) -> list[BenchmarkConfig]:
    """Read a suite file (see the module doc) into its benchmarks, in the file's order.

    Raises:
        tracker.app.config.ConfigFileError: the suite or a benchmark file is missing or not YAML.
        tracker.config.ConfigError: a key other than ``benchmarks``, an entry that is neither
            a path nor ``{benchmark, sequences}``, an invalid benchmark, or a repeated name
            (each message names the suite file).
        benchmarks.datasets.DatasetError: a listed sequence that the benchmark does not have.
    """
    path = Path(path)
    data = load_yaml(path)
    entries = data.get("benchmarks")
    if set(data) != {"benchmarks"} or not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: needs exactly one key, 'benchmarks', a non-empty list; got keys {sorted(data)}")
    benches = []
    for number, entry in enumerate(entries, start=1):
        sequences = None
        if isinstance(entry, Mapping):
            if set(entry) - {"benchmark", "sequences"} or not isinstance(entry.get("benchmark"), str):
                raise ConfigError(f"{path}: benchmarks entry {number} must be a path or {{benchmark, sequences}}")
            sequences = entry.get("sequences")
            if not isinstance(sequences, list) or not sequences:
                raise ConfigError(f"{path}: benchmarks entry {number}: sequences must be a non-empty list")
            entry = entry["benchmark"]
        if not isinstance(entry, str):
            raise ConfigError(f"{path}: benchmarks entry {number} must be a path or {{benchmark, sequences}}")
        bench = load_benchmark(path.parent / entry)
        benches.append(with_sequences(bench, [str(s) for s in sequences]) if sequences else bench)
    check_names(benches)
    return benches
