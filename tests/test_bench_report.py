"""vtrack bench's tables: variants tuned on a benchmark are shown apart from the default."""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import RunStats, results_tables, tuned_on

STATS = RunStats(frames=10, detections=20, update_seconds=0.01, step_seconds=0.02)
METRICS = {"HOTA": 50.0, "DetA": 40.0, "AssA": 60.0, "MOTA": 45.0, "IDF1": 55.0, "IDSW": 3}


def test_tuned_variants_get_their_own_table_below_the_default() -> None:
    variants = {
        "vtrack@mot17-frcnn": Path("configs/tuned/mot17-frcnn.yaml"),
        "vtrack@kitti-rrc": Path("configs/tuned/kitti-rrc.yaml"),
        "vtrack@ocm": Path("configs/ablation/ocm.yaml"),
    }
    labels = ["vtrack", "vtrack@mot17-frcnn", "rf-sort", "vtrack@kitti-rrc", "vtrack@ocm"]
    text = results_tables([(label, METRICS, STATS) for label in labels], variants, "mot17-frcnn")
    default, _, tuned = text.partition("Settings tuned on a benchmark")
    assert [line.split(" | ")[0] for line in default.splitlines() if line.startswith("| ") and "---" not in line] == [
        "| backend",
        "| vtrack",
        "| rf-sort",
        "| vtrack@ocm",
    ]
    assert "| vtrack@mot17-frcnn (tuned on this benchmark) | 50.000 |" in tuned
    assert "| vtrack@kitti-rrc (tuned on kitti-rrc) | 50.000 |" in tuned
    assert tuned.index("mot17-frcnn (tuned") < tuned.index("kitti-rrc (tuned")


def test_without_tuned_variants_there_is_one_table() -> None:
    text = results_tables([("vtrack", METRICS, STATS)], {}, "kitti-rrc")
    assert "tuned" not in text and text.count("| backend |") == 1
    assert tuned_on(None) is None and tuned_on(Path("configs/ablation/x.yaml")) is None
    assert tuned_on(Path("configs/tuned/mot17-dpm.yaml")) == "mot17-dpm"
