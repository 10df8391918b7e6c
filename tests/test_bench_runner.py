"""The benchmark harness end to end on short real sequences: results, report files, resume, CLI."""

from __future__ import annotations

import csv
import json
import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pytest

import tracker
from benchmarks.cli import main
from benchmarks.config import load_benchmark
from benchmarks.datasets import load_sequences
from benchmarks.evaluate import METRICS
from benchmarks.peers import PEERS
from benchmarks.peers.adapters import LibraryTimed
from benchmarks.runner import BenchOptions, OutputExistsError, _load_file_detections, _run_pair, run_benchmark
from tracker.base import BaseTracker
from tracker.config import ConfigError
from tracker.types import Detections, Tracks

pytestmark = pytest.mark.needs_bench

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
CONFIGS = REPO / "configs"
KITTI_SEQUENCES = ("0000", "0003")


def _options(out: Path, **changes: object) -> BenchOptions:
    return replace(BenchOptions(trackers=("sort",), out=out, sequences=KITTI_SEQUENCES, progress=False), **changes)


@pytest.fixture(scope="module")
def kitti_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("bench") / "kitti"
    return out, run_benchmark(load_benchmark(CONFIGS / "bench_kitti.yaml"), _options(out))


def test_run_writes_results_table_csvs_and_chart(kitti_run: tuple[Path, object]) -> None:
    out, result = kitti_run
    assert result.computed == [("sort", "0000"), ("sort", "0003")]
    combined = result.combined["sort"]
    assert 50.0 < combined["HOTA"] < 95.0 and 50.0 < combined["IDF1"] < 100.0
    assert result.stats["sort"].frames == 154 + 144
    assert result.stats["sort"].update_fps > 0 and result.stats["sort"].dets_per_frame > 1
    # Results are KITTI tracking rows (18 columns, type Car) of the sequence's frames.
    rows = [line.split() for line in (out / "results" / "sort" / "0000.txt").read_text().splitlines()]
    assert rows and all(len(r) == 18 and r[2] == "Car" for r in rows)
    assert {int(r[0]) for r in rows} <= set(range(154))
    summary = (out / "summary.md").read_text()
    assert "Command:" in summary and "trackeval 1.3.0" in summary
    assert "| backend | HOTA | DetA | AssA | MOTA | IDF1 | IDSW | update fps | step fps | dets/frame |" in summary
    assert f"| sort | {combined['HOTA']:.3f} |" in summary
    assert "update fps: frames / seconds inside the tracking library's own update call" in summary
    assert "step fps: frames / seconds of the whole update() call" in summary
    # vtrack's own backends are timed around update() itself: both timers are the same one.
    stats = result.stats["sort"]
    assert stats.update_seconds == stats.step_seconds and stats.update_fps == stats.step_fps
    with (out / "combined.csv").open() as handle:
        (line,) = list(csv.DictReader(handle))
    assert float(line["HOTA"]) == pytest.approx(combined["HOTA"])
    assert float(line["update_fps"]) == pytest.approx(stats.update_fps)
    assert float(line["step_fps"]) == pytest.approx(stats.step_fps)
    with (out / "per_sequence.csv").open() as handle:
        per_sequence = list(csv.DictReader(handle))
    assert [r["sequence"] for r in per_sequence] == list(KITTI_SEQUENCES)
    assert set(METRICS) | {"update_fps", "step_fps", "update_seconds", "step_seconds"} <= set(per_sequence[0])
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _WrappedLibrary(BaseTracker):
    """A backend shaped like a peer adapter: 2 ms of conversion around a library call it reports as 1 ms."""

    LIBRARY_SECONDS = 0.001
    CONVERSION_SECONDS = 0.002

    def __init__(self) -> None:
        super().__init__()
        self.library_seconds = 0.0

    def _update(self, detections: Detections, timestamp: float, dt: float) -> Tracks:
        time.sleep(self.CONVERSION_SECONDS)
        self.library_seconds += self.LIBRARY_SECONDS
        return Tracks.empty()

    def _reset(self) -> None:
        """Nothing to forget."""


def test_update_fps_counts_the_library_call_and_step_fps_the_whole_update(tmp_path: Path) -> None:
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    (seq,) = load_sequences(bench, ["0017"])
    instance = _WrappedLibrary()
    assert isinstance(instance, LibraryTimed)
    instance.library_seconds = 5.0  # time before this run is not counted
    stats = _run_pair(bench, seq, instance, _load_file_detections(bench, seq), tmp_path / "0017.txt")
    assert stats.frames == 145
    assert stats.update_seconds == pytest.approx(145 * _WrappedLibrary.LIBRARY_SECONDS)
    assert stats.step_seconds >= 145 * _WrappedLibrary.CONVERSION_SECONDS
    assert stats.update_fps > stats.step_fps


def test_resume_skips_done_pairs_and_refuses_a_non_empty_out(kitti_run: tuple[Path, object]) -> None:
    out, first = kitti_run
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    with pytest.raises(OutputExistsError, match="not empty"):
        run_benchmark(bench, _options(out))
    again = run_benchmark(bench, _options(out, resume=True))
    assert again.computed == []
    assert again.combined == first.combined
    # An interrupted run: the manifest lacks one pair, which alone is redone.
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["pairs"]["sort/0003"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    partial = run_benchmark(bench, _options(out, resume=True))
    assert partial.computed == [("sort", "0003")]
    assert partial.combined["sort"]["HOTA"] == pytest.approx(first.combined["sort"]["HOTA"])


def test_changed_tracker_settings_are_recomputed_on_resume(tmp_path: Path) -> None:
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    overrides = tmp_path / "v.yaml"
    overrides.write_text("min_hits: 3\n")
    options = _options(tmp_path / "out", trackers=("sort@v",), variants={"sort@v": overrides}, sequences=("0003",))
    first = run_benchmark(bench, options)
    overrides.write_text("min_hits: 1\n")
    changed = run_benchmark(bench, replace(options, resume=True))
    assert first.computed == changed.computed == [("sort@v", "0003")]
    assert changed.combined["sort@v"] != first.combined["sort@v"]
    assert run_benchmark(bench, replace(options, resume=True)).computed == []


def test_benchmark_yaml_holds_no_tracker_settings(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text((CONFIGS / "bench_kitti.yaml").read_text() + "trackers: {vtrack: {min_hits: 2}}\n")
    with pytest.raises(ConfigError, match="unknown key 'trackers'"):
        load_benchmark(path)


def test_empty_detection_file_runs_and_scores_zero(tmp_path: Path) -> None:
    name = "MOT17-09-FRCNN"
    target = tmp_path / "data" / name
    for part in ("gt/gt.txt", "seqinfo.ini"):
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED / "data" / "MOT17" / "train" / name / part, target / part)
    (target / "det").mkdir()
    (target / "det" / "det.txt").write_text("")
    config = tmp_path / "bench.yaml"
    config.write_text(
        f'name: empty\nformat: mot\nroot: data\nsequences: [{name}]\ngt: "{{seq}}/gt/gt.txt"\n'
        'detections: "{seq}/det/det.txt"\n'
    )
    result = run_benchmark(load_benchmark(config), _options(tmp_path / "out", sequences=()))
    assert result.stats["sort"].frames == 525 and result.stats["sort"].detections == 0
    assert result.combined["sort"]["HOTA"] == 0.0
    assert (tmp_path / "out" / "results" / "sort" / f"{name}.txt").read_text() == ""


def test_cli_main_runs_and_exits_2_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    argv = ["--benchmark", str(CONFIGS / "bench_kitti.yaml"), "--trackers", "sort", "--out", str(out)]
    argv += ["--sequences", "0003", "--no-progress"]
    assert main(argv) == 0
    assert "python -m benchmarks.cli --benchmark" in (out / "summary.md").read_text()
    capsys.readouterr()
    assert main(argv) == 2
    assert "output folder is not empty" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "| sort |" in printed and f"{out / 'summary.md'}" in printed
    assert '"config"' not in printed, "the settings stay in summary.md, not on the terminal"
    assert main([*argv, "--trackers", "sort,nonexistent", "--exist-ok"]) == 2
    assert "unknown tracker backend(s) nonexistent" in capsys.readouterr().err


def test_vtrack_bench_dispatches_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tracker.app.cli import main as vtrack

    out = tmp_path / "vtrack"
    argv = ["bench", "--benchmark", str(CONFIGS / "bench_mot17_yolox.yaml"), "--trackers", "sort"]
    assert vtrack([*argv, "--out", str(out), "--sequences", "MOT17-09-FRCNN", "--no-progress"]) == 0
    assert "| sort |" in capsys.readouterr().out
    assert "Command: `vtrack " in (out / "summary.md").read_text()
    with (out / "per_sequence.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["first_frame"], row["last_frame"], row["frames"]) == ("264", "525", "262")


@pytest.mark.needs_yolo
def test_detector_driven_mode_caches_detections(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bench = load_benchmark(CONFIGS / "bench_mot17_mini_yolo.yaml")
    options = _options(tmp_path / "run1", sequences=("MOT17-02-FRCNN",), cache_dir=tmp_path / "cache")
    first = run_benchmark(bench, options)
    stats = first.stats["sort"]
    assert stats.frames == 4 and stats.dets_per_frame > 3
    assert stats.e2e_fps is not None and 0 < stats.e2e_fps < stats.update_fps
    (cache,) = (tmp_path / "cache").iterdir()
    assert sorted(p.name for p in cache.iterdir()) == ["MOT17-02-FRCNN_1-4.csv", "MOT17-02-FRCNN_1-4.json"]
    with caplog.at_level(logging.INFO, logger="benchmarks.runner"):
        second = run_benchmark(bench, replace(options, out=tmp_path / "run2"))
    assert "detections from the cache" in caplog.text
    assert second.combined == first.combined
    assert second.stats["sort"].detect_seconds == stats.detect_seconds
    assert "e2e fps" in second.markdown


def test_bench_help_lists_every_backend(capsys: pytest.CaptureFixture[str]) -> None:
    from tracker.app.cli import main as vtrack

    with pytest.raises(SystemExit) as exit_info:
        vtrack(["bench", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
    assert all(name in text for name in [*tracker.available(), *PEERS]), text


def test_detect_every_gives_every_kth_frame_and_predicts_between(tmp_path: Path) -> None:
    """KITTI 0000 with the detections of every 3rd frame: vtrack reports predicted boxes between them
    (frames without a detection but with tracks), and the runs are keyed apart from K = 1."""
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    seq = load_sequences(bench, ["0000"])[0]
    detections = _load_file_detections(bench, seq)
    paths = {}
    for every in (1, 3):
        paths[every] = tmp_path / f"every{every}.txt"
        stats = _run_pair(bench, seq, tracker.create("vtrack"), detections, paths[every], every)
        assert stats.frames == seq.num_frames
    frames = {k: {int(line.split()[0]) for line in p.read_text().splitlines()} for k, p in paths.items()}
    predicted = {f for f in frames[3] if (f - seq.first_frame) % 3}
    assert len(predicted) > seq.num_frames // 3  # most frames between detections still have tracks
    out = tmp_path / "bench"
    run_benchmark(bench, _options(out, sequences=("0000",)))
    again = run_benchmark(bench, _options(out, sequences=("0000",), detect_every=3, resume=True))
    assert again.computed == [("sort", "0000")]  # K is part of a pair's key: not resumed from K = 1
