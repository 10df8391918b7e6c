"""Golden scores of the default backend (and of the tuned variants): any change of behaviour must be deliberate.

These are exactly the figures of the README's benchmark table. ``vtrack`` (what
``tracker.create("default")`` builds) runs through the benchmark harness, as
``vtrack bench --benchmark <yaml> --trackers vtrack,...`` runs it, with its shipped
defaults (``tracker/backends/vtrack.py``, ``configs/vtrack.yaml``; benchmark YAMLs hold no
tracker settings) on the six benchmarks of the tuning suite (``configs/suite.yaml``):

- ``configs/bench_kitti.yaml``: KITTI tracking train (10 sequences, 4,100 frames), public RRC
  detections, camera motion from the ego poses;
- ``configs/bench_kitti_pointrcnn.yaml``: the same with the PointRCNN detections;
- ``configs/bench_mot17.yaml``, ``bench_mot17_dpm.yaml``, ``bench_mot17_sdp.yaml``: MOT17 train
  (7 sequences, 5,316 frames) with the public Faster R-CNN, DPM and SDP detections;
- ``configs/bench_mot17_yolox.yaml``: MOT17 validation half (2,652 frames), ByteTrack's YOLOX
  detections.

The rows "tuned on this benchmark" are pinned too: ``vtrack@configs/tuned/kitti-rrc.yaml`` (the
default until issue 11) on KITTI RRC, ``vtrack@configs/tuned/mot17-frcnn.yaml`` on MOT17 FRCNN and
``vtrack@configs/tuned/mot17-yolox-valhalf.yaml`` on the YOLOX validation half.

Where the numbers come from: TrackEval's combined figures of those runs. The three tuned
variants are the figures recorded on commit 17880e7 ("kalman: capability flags at the top of
the class") for what were then the default on KITTI and the ``trackers: vtrack:`` blocks of
``bench_mot17.yaml`` and ``bench_mot17_yolox.yaml``, unchanged since. The default's figures
were recorded when it became the multi-benchmark choice of issue 11 (``configs/vtrack.yaml``).
They are not targets; they pin behaviour. A change that moves any of them, even in the
third decimal, must update the numbers here (and the README's table) in the same commit,
with the reason in its message.

Runtime: about 45 s for the six (mostly TrackEval), measured on the 2-core development
machine under load.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.config import load_benchmark
from benchmarks.runner import BenchOptions, run_benchmark, variant
from tracker.registry import DEFAULT

pytestmark = [pytest.mark.slow, pytest.mark.needs_bench]

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
#: Absolute tolerance on the percentages (TrackEval's tables show three decimals).
TOLERANCE = 1e-3

#: benchmark YAML -> ``--trackers`` entry -> combined metrics (IDSW is a count and must match exactly).
GOLDEN = {
    "bench_kitti.yaml": {
        "vtrack": {
            "HOTA": 81.86545502108532,
            "DetA": 81.022986428876,
            "AssA": 82.85431581677159,
            "MOTA": 89.46529857880313,
            "IDF1": 92.05158264947245,
            "IDSW": 34,
        },
        "vtrack@configs/tuned/kitti-rrc.yaml": {
            "HOTA": 82.24317934250838,
            "DetA": 81.41417532988459,
            "AssA": 83.21940396694588,
            "MOTA": 89.88592186603785,
            "IDF1": 92.68048463001902,
            "IDSW": 44,
        },
    },
    "bench_kitti_pointrcnn.yaml": {
        "vtrack": {
            "HOTA": 71.2768844265112,
            "DetA": 65.70613955725038,
            "AssA": 77.47576332637377,
            "MOTA": 71.42948186858709,
            "IDF1": 83.97175529588202,
            "IDSW": 53,
        },
    },
    "bench_mot17.yaml": {
        "vtrack": {
            "HOTA": 48.603185962650066,
            "DetA": 45.18228179875011,
            "AssA": 52.528524028253024,
            "MOTA": 49.51067259143165,
            "IDF1": 56.16904774334256,
            "IDSW": 791,
        },
        "vtrack@configs/tuned/mot17-frcnn.yaml": {
            "HOTA": 48.57948159512554,
            "DetA": 45.437326881365216,
            "AssA": 52.19460576862333,
            "MOTA": 49.10282554297978,
            "IDF1": 55.99014937797715,
            "IDSW": 1196,
        },
    },
    "bench_mot17_dpm.yaml": {
        "vtrack": {
            "HOTA": 28.738662968567187,
            "DetA": 22.402740130820376,
            "AssA": 36.93466182432199,
            "MOTA": 27.44418817955956,
            "IDF1": 36.265723916796844,
            "IDSW": 340,
        },
    },
    "bench_mot17_sdp.yaml": {
        "vtrack": {
            "HOTA": 54.28880113619847,
            "DetA": 54.24513657270468,
            "AssA": 54.489990724005246,
            "MOTA": 63.936703562873454,
            "IDF1": 66.00514826259297,
            "IDSW": 1145,
        },
    },
    "bench_mot17_yolox.yaml": {
        "vtrack": {
            "HOTA": 67.30462688540946,
            "DetA": 66.18448988679404,
            "AssA": 68.93802947978344,
            "MOTA": 76.75078864353311,
            "IDF1": 78.66204381024912,
            "IDSW": 365,
        },
        "vtrack@configs/tuned/mot17-yolox-valhalf.yaml": {
            "HOTA": 67.22068449966943,
            "DetA": 65.9287563167235,
            "AssA": 69.02983413946716,
            "MOTA": 76.45759881239562,
            "IDF1": 78.9381064910252,
            "IDSW": 352,
        },
    },
}


@pytest.mark.parametrize("benchmark", list(GOLDEN))
def test_default_backend_scores_its_golden_figures(benchmark: str, tmp_path: Path) -> None:
    assert DEFAULT == "vtrack", "the golden figures are the default backend's: re-record them for the new default"
    entries = {entry: variant(entry) for entry in GOLDEN[benchmark]}
    options = BenchOptions(
        trackers=tuple(label for label, _ in entries.values()),
        variants={label: REPO / path for label, path in entries.values() if path is not None},
        out=tmp_path / "bench",
        progress=False,
    )
    result = run_benchmark(load_benchmark(CONFIGS / benchmark), options)
    for entry, (label, _) in entries.items():
        scores = result.combined[label]
        golden = GOLDEN[benchmark][entry]
        assert scores["IDSW"] == golden["IDSW"], entry
        for metric in ("HOTA", "DetA", "AssA", "MOTA", "IDF1"):
            assert scores[metric] == pytest.approx(golden[metric], abs=TOLERANCE, rel=0), (entry, metric)
        if label != "vtrack":
            assert f"| {label} (tuned on this benchmark) | {scores['HOTA']:.3f} |" in result.markdown
