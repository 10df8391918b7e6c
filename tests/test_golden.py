"""Golden scores of the default backend: any change of its behaviour must be deliberate.

``vtrack`` (what ``tracker.create("default")`` builds) runs through the benchmark harness,
exactly as ``vtrack bench --benchmark <yaml> --trackers vtrack`` runs it, on three benchmarks:

- ``configs/bench_kitti.yaml``: KITTI tracking train (10 sequences, 4,100 frames), public RRC
  detections, camera motion from the ego poses; the YAML has no ``trackers:`` block, so these
  are vtrack's own defaults (``tracker/backends/vtrack.py``, ``configs/vtrack.yaml``);
- ``configs/bench_mot17.yaml``: MOT17 train FRCNN (7 sequences, 5,316 frames), public Faster
  R-CNN detections, with that YAML's ``trackers: vtrack:`` overrides (the settings tuned for
  MOT17 FRCNN) on top of the defaults;
- ``configs/bench_mot17_yolox.yaml``: MOT17 validation half (2,652 frames), ByteTrack's YOLOX
  detections, with that YAML's ``trackers: vtrack:`` overrides (BoostTrack's similarity and
  score fusion, OccluTrack's AMS).

Where the numbers come from: TrackEval's combined figures of those runs on commit 17880e7
("kalman: capability flags at the top of the class"), computed twice, identically: in
this test's branch before anything changed, and by the lead engineer into
/work/baseline/{kitti,mot17,mot17_yolox}/combined.csv. They are not targets; they pin
behaviour. A change that moves any of them, even in the third decimal, must update the
numbers here in the same commit, with the reason in its message.

Runtime: 16 s for the three (mostly TrackEval), measured on the 2-core development machine under load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.config import load_benchmark
from benchmarks.runner import BenchOptions, run_benchmark
from tracker.registry import DEFAULT

pytestmark = [pytest.mark.slow, pytest.mark.needs_bench]

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
#: Absolute tolerance on the percentages (TrackEval's tables show three decimals).
TOLERANCE = 1e-3

#: benchmark YAML -> combined metrics of ``vtrack`` (IDSW is a count and must match exactly).
GOLDEN = {
    "bench_kitti.yaml": {
        "HOTA": 82.24317934250838,
        "DetA": 81.41417532988459,
        "AssA": 83.21940396694588,
        "MOTA": 89.88592186603785,
        "IDF1": 92.68048463001902,
        "IDSW": 44,
    },
    "bench_mot17.yaml": {
        "HOTA": 48.57948159512554,
        "DetA": 45.437326881365216,
        "AssA": 52.19460576862333,
        "MOTA": 49.10282554297978,
        "IDF1": 55.99014937797715,
        "IDSW": 1196,
    },
    "bench_mot17_yolox.yaml": {
        "HOTA": 67.22068449966943,
        "DetA": 65.9287563167235,
        "AssA": 69.02983413946716,
        "MOTA": 76.45759881239562,
        "IDF1": 78.9381064910252,
        "IDSW": 352,
    },
}


@pytest.mark.parametrize("benchmark", list(GOLDEN))
def test_default_backend_scores_its_golden_figures(benchmark: str, tmp_path: Path) -> None:
    assert DEFAULT == "vtrack", "the golden figures are the default backend's: re-record them for the new default"
    options = BenchOptions(trackers=("vtrack",), out=tmp_path / "bench", progress=False)
    result = run_benchmark(load_benchmark(CONFIGS / benchmark), options)
    scores = result.combined["vtrack"]
    golden = GOLDEN[benchmark]
    assert scores["IDSW"] == golden["IDSW"]
    for metric in ("HOTA", "DetA", "AssA", "MOTA", "IDF1"):
        assert scores[metric] == pytest.approx(golden[metric], abs=TOLERANCE, rel=0), metric
