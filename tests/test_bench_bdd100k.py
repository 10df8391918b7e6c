"""BDD100K MOT in ``vtrack bench`` on the hand-made Scalabel fixture of tests/data/bdd100k.

The fixture (see its README.md): video-a, 6 frames at 5 Hz, car 1 driving right in every
frame, car 2 labelled in frames 0, 1, 4, 5 only (it leaves and returns), truck 3 in every
frame, a crowd box (a parking lot of cars) in every frame; video-b, 4 frames, a bus, a car
and a pedestrian. ``results/hand`` is a tracker result made by hand: every box it shares
with the ground truth is identical to it (IoU 1) and every other box overlaps no
ground truth of its class (IoU 0), so each of HOTA's 19 thresholds gives the same
matches and every figure is a ratio of counts worked out below.

video-a, class car (ground truth: car 1 x 6, car 2 x 4 = 10 boxes):
  T1 = car 1 in frames 0-5 (6 TP); T2 = car 2 in frames 0-1 (2 TP) and coasting in frame 2,
  where car 2 is not labelled (1 FP); T5 = car 2 after its return, frames 4-5 (2 TP, and an
  ID switch: car 2 was last matched to T2); T3 labelled car in frame 2 (the class flicker:
  1 FP, it overlaps no car); T4 in frames 0-5 lies wholly inside the crowd box (dropped by
  TrackEval, not a FP); T6 in frame 3 lies 40 % inside it (kept: 1 FP).
  CLEAR: TP 10, FN 0, FP 3, IDSW 1. HOTA: DetA = 10/13; AssA = (6 * 1 + 2 * 2/5 + 2 * 2/4) / 10
  = 0.78 (T2: TPA 2, FNA 4 - 2, FPA 3 - 2; T5: TPA 2, FNA 2, FPA 0). IDF1: IDTP 8 (car 1-T1 6,
  car 2-T2 2) of 10 GT and 13 tracker boxes.
video-a, class truck (truck 3 x 6): T3 labelled truck in frames 0, 1, 3, 4, 5: TP 5, FN 1 (the
  flicker frame), FP 0, IDSW 0 (T3 again after the gap). DetA 5/6, AssA 5/6, IDTP 5.
video-b: bus = T1 in frames 0-3 (TP 4, AssA 1); car = T2 in frames 0, 1, 3 (TP 3, FN 1,
  AssA 3/4, IDTP 3); pedestrian = T8 in frames 0-3 (TP 4, AssA 1; only in ``all``).

Pooled (TrackEval's detection average: counts summed over the classes, AssA weighted by TP):
  vehicle, video-a: TP 15, FN 1, FP 3, IDSW 1; DetA 15/19, AssA (7.8 + 25/6) / 15 = 359/450,
  HOTA = sqrt(DetA * AssA) = sqrt(359/570), MOTA (15 - 3 - 1) / 16, IDF1 2 * 13 / (16 + 18).
  vehicle, video-b: TP 7, FN 1, FP 0; DetA 7/8, AssA (2.25 + 4) / 7 = 25/28, MOTA 7/8, IDF1 14/15.
  vehicle, combined: TP 22, FN 2, FP 3, IDSW 1; DetA 22/27, AssA (359/30 + 25/4) / 22 = 1093/1320,
  MOTA 18/24, IDF1 2 * 20 / (24 + 25).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from benchmarks.cli import main
from benchmarks.config import DetectorSpec, load_benchmark
from benchmarks.datasets import DatasetError, load_sequences, write_eval_gt, write_eval_tracker
from benchmarks.evaluate import COMBINED, evaluate, trackeval_results
from benchmarks.peers import PEERS
from benchmarks.runner import BenchOptions, run_benchmark
from tracker.config import ConfigError
from tracker.formats import BDD100K_CLASSES, read_scalabel
from tracker.types import Detections

pytestmark = pytest.mark.needs_bench

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "configs" / "bench_bdd100k_example.yaml"
FIXTURE = REPO / "tests" / "data" / "bdd100k"
GT_DIR = FIXTURE / "labels" / "box_track_20" / "val"
HAND = FIXTURE / "results" / "hand"
VIDEOS = ("video-a", "video-b")

#: Hand-computed counts and ratios (module doc), per sequence and combined, for each eval_class.
EXPECTED = {
    "vehicle": {
        "video-a": {"TP": 15, "FN": 1, "FP": 3, "IDSW": 1, "DetA": 15 / 19, "AssA": 359 / 450, "IDTP": 13},
        "video-b": {"TP": 7, "FN": 1, "FP": 0, "IDSW": 0, "DetA": 7 / 8, "AssA": 25 / 28, "IDTP": 7},
        COMBINED: {"TP": 22, "FN": 2, "FP": 3, "IDSW": 1, "DetA": 22 / 27, "AssA": 1093 / 1320, "IDTP": 20},
    },
    "all": {  # the pedestrian of video-b joins: 4 more TP with AssA 1
        "video-a": {"TP": 15, "FN": 1, "FP": 3, "IDSW": 1, "DetA": 15 / 19, "AssA": 359 / 450, "IDTP": 13},
        "video-b": {"TP": 11, "FN": 1, "FP": 0, "IDSW": 0, "DetA": 11 / 12, "AssA": 10.25 / 11, "IDTP": 11},
        COMBINED: {"TP": 26, "FN": 2, "FP": 3, "IDSW": 1, "DetA": 26 / 31, "AssA": 1333 / 1560, "IDTP": 24},
    },
    "car": {
        "video-a": {"TP": 10, "FN": 0, "FP": 3, "IDSW": 1, "DetA": 10 / 13, "AssA": 0.78, "IDTP": 8},
        "video-b": {"TP": 3, "FN": 1, "FP": 0, "IDSW": 0, "DetA": 3 / 4, "AssA": 3 / 4, "IDTP": 3},
        COMBINED: {"TP": 13, "FN": 1, "FP": 3, "IDSW": 1, "DetA": 13 / 17, "AssA": 10.05 / 13, "IDTP": 11},
    },
}


def _score(bench: object, tmp_path: Path, results: Path = HAND, name: str = "hand") -> dict:
    """TrackEval's results of the Scalabel files in ``results`` on the benchmark's ground truth."""
    sequences = load_sequences(bench)
    write_eval_gt(bench, sequences, tmp_path / "gt")
    for seq in sequences:
        write_eval_tracker(
            bench, seq, results / f"{seq.name}.json", tmp_path / "trackers" / name / "data" / f"{seq.name}.json"
        )
    return trackeval_results(bench, tmp_path / "gt", tmp_path / "trackers", name)


def _eval_folders(bench: object, tmp_path: Path) -> tuple[object, Path, Path]:
    """``(bench, gt folder, trackers folder)`` for :func:`evaluate` of the hand-made results."""
    _score(bench, tmp_path)
    return bench, tmp_path / "gt", tmp_path / "trackers"


def test_example_benchmark_finds_both_videos_with_frame_rate_and_image_names() -> None:
    bench = load_benchmark(EXAMPLE)
    assert bench.format == "bdd100k" and bench.sequences == () and bench.image_size == (1280, 720)
    a, b = load_sequences(bench)
    assert (a.name, a.first_frame, a.last_frame, a.base_frame) == ("video-a", 0, 5, 0)
    assert (b.name, b.num_frames) == ("video-b", 4)
    assert a.timestamp(5) == pytest.approx(1.0)  # 5 Hz
    assert a.image_names == tuple(f"video-a-{i:07d}.jpg" for i in range(1, 7))
    assert a.detections_path == FIXTURE / "predictions" / "detections.json" == b.detections_path
    assert [s.name for s in load_sequences(bench, ["video-b"])] == ["video-b"]
    with pytest.raises(DatasetError, match=r"unknown sequence\(s\) video-c; available: 'video-a', 'video-b'"):
        load_sequences(bench, ["video-c"])


@pytest.mark.parametrize("eval_class", ["vehicle", "all", "car"])
def test_hand_made_results_score_as_counted_by_hand(tmp_path: Path, eval_class: str) -> None:
    bench = replace(load_benchmark(EXAMPLE), eval_class=eval_class)
    results = _score(bench, tmp_path)
    assert set(results) == {*VIDEOS, COMBINED}
    for key, expected in EXPECTED[eval_class].items():
        hota, clear, identity = results[key]["HOTA"], results[key]["CLEAR"], results[key]["Identity"]
        tp, fn, fp = expected["TP"], expected["FN"], expected["FP"]
        assert (clear["CLR_TP"], clear["CLR_FN"], clear["CLR_FP"], clear["IDSW"]) == (tp, fn, fp, expected["IDSW"])
        # IoU is 1 or 0 everywhere, so all 19 localisation thresholds agree
        np.testing.assert_array_equal(hota["HOTA_TP"], tp)
        np.testing.assert_array_equal(hota["HOTA_FN"], fn)
        np.testing.assert_array_equal(hota["HOTA_FP"], fp)
        np.testing.assert_allclose(hota["DetA"], expected["DetA"], rtol=1e-12)
        np.testing.assert_allclose(hota["AssA"], expected["AssA"], rtol=1e-12)
        np.testing.assert_allclose(hota["HOTA"], math.sqrt(expected["DetA"] * expected["AssA"]), rtol=1e-12)
        assert clear["MOTA"] == pytest.approx((tp - fp - expected["IDSW"]) / (tp + fn), rel=1e-12)
        assert identity["IDTP"] == expected["IDTP"]
        assert identity["IDF1"] == pytest.approx(2 * expected["IDTP"] / (2 * tp + fn + fp), rel=1e-12)


def test_the_vehicle_figures_in_percent(tmp_path: Path) -> None:
    figures = evaluate(*_eval_folders(load_benchmark(EXAMPLE), tmp_path), "hand")
    assert figures[COMBINED] == pytest.approx(
        {
            "HOTA": 100 * math.sqrt(1093 / 1620),  # 82.140
            "DetA": 100 * 22 / 27,
            "AssA": 100 * 1093 / 1320,
            "MOTA": 100 * 18 / 24,
            "IDF1": 100 * 40 / 49,
            "IDSW": 1,
        },
        rel=1e-12,
    )
    assert figures["video-a"]["HOTA"] == pytest.approx(100 * math.sqrt(359 / 570), rel=1e-12)
    assert figures["video-b"]["HOTA"] == pytest.approx(100 * math.sqrt(25 / 32), rel=1e-12)


def test_pooled_classes_equal_trackeval_own_combinations(tmp_path: Path) -> None:
    """TrackEval's own VEHICLE super-category (car, truck, bus, train) and all-class average, run by TrackEval."""
    import trackeval

    ours = {
        eval_class: _score(replace(load_benchmark(EXAMPLE), eval_class=eval_class), tmp_path / eval_class)[COMBINED]
        for eval_class in ("vehicle", "all")
    }
    dataset = trackeval.datasets.BDD100K(
        {
            "GT_FOLDER": str(tmp_path / "vehicle" / "gt"),
            "TRACKERS_FOLDER": str(tmp_path / "vehicle" / "trackers"),
            "TRACKERS_TO_EVAL": ["hand"],
            "PRINT_CONFIG": False,
        }
    )
    assert set(dataset.class_list) == set(BDD100K_CLASSES)  # TrackEval's default: the eight classes
    evaluator = trackeval.Evaluator(
        {"USE_PARALLEL": False, "PRINT_RESULTS": False, "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False}
        | {"PLOT_CURVES": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False}
    )
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
    with contextlib.redirect_stdout(io.StringIO()):
        results, _ = evaluator.evaluate([dataset], metrics)
    theirs = results["BDD100K"]["hand"][COMBINED]
    for eval_class, key in (("vehicle", "VEHICLE"), ("all", "cls_comb_det_av")):
        np.testing.assert_allclose(theirs[key]["HOTA"]["HOTA"], ours[eval_class]["HOTA"]["HOTA"], rtol=1e-12)
        assert theirs[key]["CLEAR"]["MOTA"] == pytest.approx(ours[eval_class]["CLEAR"]["MOTA"], rel=1e-12)
        assert theirs[key]["Identity"]["IDF1"] == pytest.approx(ours[eval_class]["Identity"]["IDF1"], rel=1e-12)


def test_one_ground_truth_file_for_all_videos_scores_the_same(tmp_path: Path) -> None:
    frames = [frame for path in sorted(GT_DIR.glob("*.json")) for frame in json.loads(path.read_text())]
    (tmp_path / "all.json").write_text(json.dumps(frames), encoding="utf-8")
    per_video = load_benchmark(EXAMPLE)
    predictions = str(FIXTURE / "predictions" / "detections.json")
    one_file = replace(per_video, root=str(tmp_path), gt="all.json", detections=predictions)
    assert [s.name for s in load_sequences(one_file)] == list(VIDEOS)
    a = evaluate(*_eval_folders(per_video, tmp_path / "a"), "hand")
    b = evaluate(*_eval_folders(one_file, tmp_path / "b"), "hand")
    assert a == b


def _edited_gt(tmp_path: Path, edit: object) -> object:
    """The example benchmark on a copy of the fixture's ground truth with ``edit(frames_of_video_a)`` applied."""
    gt = tmp_path / "gt"
    gt.mkdir()
    for path in GT_DIR.glob("*.json"):
        frames = json.loads(path.read_text(encoding="utf-8"))
        if path.stem == "video-a":
            edit(frames)
        (gt / path.name).write_text("[\n" + ",\n".join(json.dumps(f) for f in frames) + "\n]\n", encoding="utf-8")
    bench = load_benchmark(EXAMPLE)
    return replace(
        bench, root=str(tmp_path), gt="gt/{seq}.json", detections=str(FIXTURE / "predictions" / "detections.json")
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.pop(3), "video 'video-a' has no frame with frameIndex 3 (its frames 0..5 must all be labelled)"),
        (
            lambda f: f[2]["labels"][1].update(category="van"),
            ":4: frame #2 (video 'video-a', frameIndex 2) label #1: category 'van' is not a BDD100K MOT category",
        ),
        (
            lambda f: f[1]["labels"][1].update(id="1"),
            ":3: frame #1 (video 'video-a', frameIndex 1) label #1: track id '1' twice in the frame",
        ),
        (
            lambda f: f[0]["labels"][2].pop("id"),
            ":2: frame #0 (video 'video-a', frameIndex 0) label #2: ground truth needs a track 'id'",
        ),
        (
            lambda f: [frame.update(videoName="video-x") for frame in f],
            "the ground truth holds no frames of video 'video-a' (its videos: 'video-x')",
        ),
        (
            lambda f: f[0]["labels"][0]["box2d"].update(x2=1),
            ":2: frame #0 (video 'video-a', frameIndex 0) label #0: box is inverted",
        ),
    ],
)
def test_ground_truth_errors_name_file_frame_and_label(tmp_path: Path, edit: object, message: str) -> None:
    bench = _edited_gt(tmp_path, edit)
    with pytest.raises(DatasetError) as error:
        load_sequences(bench)
    assert str(error.value).startswith(str(tmp_path / "gt" / "video-a.json")) and message in str(error.value)


def test_ignored_categories_and_frames_without_video_names_are_accepted(tmp_path: Path) -> None:
    def edit(frames: list[dict]) -> None:
        frames[0]["labels"].append({"id": "9", "category": "trailer", "box2d": {"x1": 0, "y1": 0, "x2": 9, "y2": 9}})
        for frame in frames:
            frame.pop("videoName")

    bench = _edited_gt(tmp_path, edit)
    assert [s.name for s in load_sequences(bench)] == list(VIDEOS)


def test_boxes_beyond_the_image_size_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bench = replace(load_benchmark(EXAMPLE), image_size=(640, 360))
    with caplog.at_level(logging.WARNING, logger="benchmarks.bdd100k"):
        load_sequences(bench, ["video-a"])
    # the boxes reaching past x 641 or y 361: car 2 (x2 700) x 4, the truck (y2 400) x 6, the crowd box x 6
    assert "16 of 22 ground-truth boxes of video video-a reach beyond the 640x360 image of image_size" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="benchmarks.bdd100k"):
        load_sequences(load_benchmark(EXAMPLE))
    assert "reach beyond" not in caplog.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("frame_rate: 5.0", "frame_rate must be set for the bdd100k format"),
        ("image_size: [1280, 720]", "image_size must be set for the bdd100k format"),
        ("detection_format: scalabel", "the bdd100k format reads detection_format 'scalabel'"),
        ("frame_range: full", "the bdd100k format evaluates frame_range 'full' only"),
        ("eval_class: vehicle", "eval_class must be one of ('vehicle', 'all', 'pedestrian'"),
    ],
)
def test_config_errors(tmp_path: Path, change: str, message: str) -> None:
    replacements = {
        "detection_format: scalabel": "detection_format: mot",
        "frame_range: full": "frame_range: val_half",
        "eval_class: vehicle": "eval_class: Car",
    }
    text = EXAMPLE.read_text(encoding="utf-8").replace("root: ../tests/data/bdd100k", f"root: {FIXTURE}")
    text = text.replace(change, replacements.get(change, ""))
    path = tmp_path / "bench.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_benchmark(path)


def test_vtrack_backends_on_the_fixture(tmp_path: Path) -> None:
    """The example benchmark end to end with vtrack's own backends; vtrack's scores worked out by hand.

    vtrack reports a track from its first detection when that scores at least 0.8
    (confirm_score; every object's first detection does), keeps the truck a truck through
    the one-frame car detection (its class is a score-weighted vote: truck 0.85 x 5
    against car 0.6), keeps car 2's ID over its absence (max_age 2 s) and does not report
    it while it is unseen, and does not report the ghost detection of frame 3 (score 0.55:
    a tentative track, one hit and below confirm_score, never confirmed). The tracks of the
    two cars in the crowd region are dropped by TrackEval. So, pooled over car, truck and
    bus: TP 6 + 4 + 6 (video-a) + 4 + 3 (video-b) = 23, FN 1 (video-b's missed car), FP 0,
    IDSW 0; DetA 23/24; AssA (22 + 3 * 3/4) / 23 = 89/92 (the video-b car: TPA 3, FNA 1);
    IDF1 2 * 23 / (24 + 23).
    """
    out = tmp_path / "bench"
    result = run_benchmark(
        load_benchmark(EXAMPLE), BenchOptions(trackers=("vtrack", "sort", "lstm"), out=out, progress=False)
    )
    assert result.combined["vtrack"] == pytest.approx(
        {
            "HOTA": 100 * math.sqrt(23 / 24 * 89 / 92),
            "DetA": 100 * 23 / 24,
            "AssA": 100 * 89 / 92,
            "MOTA": 100 * 23 / 24,
            "IDF1": 100 * 46 / 47,
            "IDSW": 0,
        },
        rel=1e-9,
    )
    stats = result.stats["vtrack"]
    assert stats.frames == 10 and stats.detections == 36  # keep_class_ids [2, 5, 7]: not the pedestrian
    for backend in ("vtrack", "sort", "lstm"):
        for video, length in zip(VIDEOS, (6, 4), strict=True):
            frames = read_scalabel(out / "results" / backend / f"{video}.json")  # Scalabel, one frame per line
            assert frames.frame_indices.tolist() == list(range(length)) and frames.video_names == (video,)
            assert set(frames.categories.tolist()) <= {"car", "truck", "bus"}
            assert frames.names[0] == f"{video}-0000001.jpg"
    with (out / "per_sequence.csv").open() as handle:
        assert [row["sequence"] for row in csv.DictReader(handle)][:2] == list(VIDEOS)
    assert "(bdd100k, class vehicle, frame range full)" in result.markdown


@pytest.mark.needs_peers
def test_every_backend_and_peer_through_the_command_line(tmp_path: Path) -> None:
    trackers = ["vtrack", "sort", "lstm", *PEERS]
    out = tmp_path / "bdd"
    argv = ["--benchmark", str(EXAMPLE), "--trackers", ",".join(trackers), "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    with (out / "combined.csv").open() as handle:
        rows = {row["backend"]: row for row in csv.DictReader(handle)}
    assert list(rows) == trackers
    for backend, row in rows.items():
        assert 0.0 < float(row["HOTA"]) <= 100.0 and int(row["frames"]) == 10, backend
        for video in VIDEOS:
            assert read_scalabel(out / "results" / backend / f"{video}.json").num_frames > 0


class _BrightnessDetector:
    """Stands in for YOLO: one car per frame whose score is the image's mean brightness / 255."""

    def __init__(self, config: object) -> None:
        self.config = config

    def __call__(self, image: np.ndarray) -> Detections:
        score = float(image.mean()) / 255.0
        return Detections(np.array([[10.0, 10.0, 50.0, 30.0]]), np.array([score]), np.array([2]))


@pytest.mark.needs_yolo("cv2")
@pytest.mark.needs_torch
def test_detector_mode_finds_each_frame_image_by_its_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2
    import torch  # noqa: F401  (the detector cache holds torch to one thread)

    import detectors.yolo

    monkeypatch.setattr(detectors.yolo, "YOLODetector", _BrightnessDetector)
    images = tmp_path / "images"
    for video, length in zip(VIDEOS, (6, 4), strict=True):
        (images / video).mkdir(parents=True)
        for index in range(length):  # frame i is grey level 20 (i + 1)
            image = np.full((36, 64, 3), 20 * (index + 1), dtype=np.uint8)
            cv2.imwrite(str(images / video / f"{video}-{index + 1:07d}.png"), image)
    (images / "video-a" / "video-a-0000099.png").write_bytes((images / "video-a" / "video-a-0000006.png").read_bytes())
    gt = tmp_path / "gt"
    gt.mkdir()
    for path in GT_DIR.glob("*.json"):  # the fixture names its frames .jpg; these images are .png
        (gt / path.name).write_text(path.read_text(encoding="utf-8").replace(".jpg", ".png"), encoding="utf-8")
    bench = replace(
        load_benchmark(EXAMPLE),
        root=str(tmp_path),
        gt="gt/{seq}.json",
        detections="",
        detector=DetectorSpec(),
        images="images/{seq}",
        keep_class_ids=(),
    )
    options = BenchOptions(trackers=("vtrack",), out=tmp_path / "out", cache_dir=tmp_path / "cache", progress=False)
    result = run_benchmark(bench, options)
    assert result.stats["vtrack"].frames == 10 and result.stats["vtrack"].detections == 10
    (cache,) = (tmp_path / "cache").iterdir()
    rows = [line.split(",") for line in (cache / "video-a_0-5.csv").read_text().splitlines()]
    assert [int(row[0]) for row in rows] == [0, 1, 2, 3, 4, 5]  # the image that no frame names is not read
    np.testing.assert_allclose([float(row[5]) for row in rows], [20 * (i + 1) / 255 for i in range(6)], atol=1e-6)
    (images / "video-b" / "video-b-0000003.png").unlink()
    with pytest.raises(DatasetError, match=r"frame #2 \(video 'video-b', frameIndex 2\): image 'video-b-0000003.png'"):
        load_sequences(bench)
