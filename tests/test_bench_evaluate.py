"""TrackEval scoring through benchmarks.evaluate on the real KITTI and MOT17 ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.config import load_benchmark
from benchmarks.datasets import Sequence, load_sequences, write_eval_gt, write_eval_tracker
from benchmarks.evaluate import COMBINED, EvaluationError, combine_hota, evaluate, evaluate_hota

pytestmark = pytest.mark.needs_bench

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
CONFIGS = REPO / "configs"
CIWT = SHARED / "data" / "kitti_tracking" / "reference" / "CIWT" / "data"


def _score(config: str, sequences: list[Sequence], results: dict[str, Path], tmp_path: Path) -> dict:
    bench = load_benchmark(CONFIGS / config)
    gt = write_eval_gt(bench, sequences, tmp_path / "gt")
    for seq in sequences:
        write_eval_tracker(bench, seq, results[seq.name], tmp_path / "trackers" / "t" / "data" / f"{seq.name}.txt")
    return evaluate(bench, gt, tmp_path / "trackers", "t")


def _kitti_gt_as_results(seq: Sequence, tmp_path: Path) -> Path:
    """The Car rows of the ground truth with a score column: a perfect tracker's KITTI output."""
    rows = [line.split() for line in seq.gt_path.read_text().splitlines()]
    path = tmp_path / "results" / f"{seq.name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(" ".join([*r, "1.0"]) + "\n" for r in rows if r[2] == "Car"))
    return path


def _mot_gt_as_results(seq: Sequence, tmp_path: Path, last_frame: int | None = None) -> Path:
    """The scored pedestrian rows (consider=1, class 1) of the gt in MOTChallenge result format."""
    rows = [line.split(",") for line in seq.gt_path.read_text().splitlines()]
    keep = [r for r in rows if r[6] == "1" and r[7] == "1" and (last_frame is None or int(r[0]) <= last_frame)]
    path = tmp_path / "results" / f"{seq.name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join([*r[:6], "1", "-1", "-1", "-1"]) + "\n" for r in keep))
    return path


def test_ciwt_reference_output_gives_trackevals_published_figures(tmp_path: Path) -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_kitti.yaml"))
    assert len(sequences) == 10
    scores = _score("bench_kitti.yaml", sequences, {s.name: CIWT / f"{s.name}.txt" for s in sequences}, tmp_path)
    combined = scores[COMBINED]
    assert round(combined["HOTA"], 3) == 65.772
    assert round(combined["MOTA"], 3) == 74.737
    assert round(combined["IDF1"], 3) == 82.447
    assert combined["IDSW"] == 71
    assert set(scores) == {s.name for s in sequences} | {COMBINED}


def test_kitti_ground_truth_as_tracker_scores_100(tmp_path: Path) -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_kitti.yaml"), ["0000", "0003"])
    results = {s.name: _kitti_gt_as_results(s, tmp_path) for s in sequences}
    scores = _score("bench_kitti.yaml", sequences, results, tmp_path)
    for key in ("0000", "0003", COMBINED):
        assert scores[key]["HOTA"] == pytest.approx(100.0)
        assert scores[key]["MOTA"] == pytest.approx(100.0) and scores[key]["IDSW"] == 0


def test_mot17_ground_truth_as_tracker_scores_100(tmp_path: Path) -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_mot17.yaml"), ["MOT17-09-FRCNN", "MOT17-05-FRCNN"])
    results = {s.name: _mot_gt_as_results(s, tmp_path) for s in sequences}
    scores = _score("bench_mot17.yaml", sequences, results, tmp_path)
    assert scores[COMBINED]["HOTA"] == pytest.approx(100.0)
    assert scores[COMBINED]["IDF1"] == pytest.approx(100.0)


def test_val_half_scores_only_the_second_half(tmp_path: Path) -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_mot17_yolox.yaml"), ["MOT17-09-FRCNN"])
    (seq,) = sequences
    full = _score("bench_mot17_yolox.yaml", sequences, {seq.name: _mot_gt_as_results(seq, tmp_path)}, tmp_path)
    assert full[COMBINED]["HOTA"] == pytest.approx(100.0)
    # A tracker that only reports the first half (up to the frame before the val half) scores nothing.
    first_half = _mot_gt_as_results(seq, tmp_path / "first", last_frame=seq.first_frame - 1)
    assert first_half.stat().st_size > 0
    none = _score("bench_mot17_yolox.yaml", sequences, {seq.name: first_half}, tmp_path / "first")
    assert none[COMBINED]["HOTA"] == 0.0 and none[COMBINED]["DetA"] == 0.0


def test_trackeval_rejection_is_reported_with_its_message(tmp_path: Path) -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_mot17.yaml"), ["MOT17-09-FRCNN"])
    (seq,) = sequences
    results = tmp_path / "dup.txt"
    results.write_text("5,1,10,10,20,20,1,-1,-1,-1\n5,1,50,50,20,20,1,-1,-1,-1\n")
    with pytest.raises(EvaluationError, match="same ID more than once"):
        _score("bench_mot17.yaml", sequences, {seq.name: results}, tmp_path)


def test_per_sequence_hota_counts_combine_like_trackeval(tmp_path: Path) -> None:
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    sequences = load_sequences(bench)
    gt = write_eval_gt(bench, sequences, tmp_path / "gt")
    for seq in sequences:
        write_eval_tracker(
            bench, seq, CIWT / f"{seq.name}.txt", tmp_path / "trackers" / "t" / "data" / f"{seq.name}.txt"
        )
    counts = evaluate_hota(bench, gt, tmp_path / "trackers", "t")
    assert set(counts) == {s.name for s in sequences}
    # All ten combined: TrackEval's published CIWT figure (as in the test above).
    assert round(combine_hota(counts.values())["HOTA"], 3) == 65.772
    # A subset combined equals TrackEval scoring that subset at once, and a sequence scored alone
    # (its own ground-truth folder, as vtrack tune's runs do) gives the same counts.
    subset = [s for s in sequences if s.name in ("0000", "0003")]
    at_once = _score("bench_kitti.yaml", subset, {s.name: CIWT / f"{s.name}.txt" for s in subset}, tmp_path / "two")
    combined = combine_hota([counts["0000"], counts["0003"]])
    for metric in ("HOTA", "DetA", "AssA"):
        assert combined[metric] == pytest.approx(at_once[COMBINED][metric], abs=1e-9)
    alone = _score("bench_kitti.yaml", subset[1:], {"0003": CIWT / "0003.txt"}, tmp_path / "one")
    assert combine_hota([counts["0003"]])["HOTA"] == pytest.approx(alone["0003"]["HOTA"], abs=1e-9)
    with pytest.raises(ValueError, match="at least one sequence"):
        combine_hota([])
