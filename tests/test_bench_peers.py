"""Peer-library adapters (pip extra ``peers``) on a real KITTI sequence with its RRC detections."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import tracker
from benchmarks.peers import PEERS, register_peers
from benchmarks.peers.adapters import LibraryTimed
from detectors.files import FileDetections
from tracker.boxes import iou_matrix

pytestmark = pytest.mark.needs_peers

SHARED = Path(__file__).resolve().parents[2] / "shared"
RRC = SHARED / "data" / "kitti_tracking" / "training" / "det_02_rrc" / "0000.txt"
FRAMES = 154
RATE = 10.0


def _replay(name: str) -> list[tuple[tracker.Detections, tracker.Tracks]]:
    register_peers()
    detections = FileDetections.from_kitti_csv(RRC)
    settings = {"frame_rate": RATE} if "frame_rate" in tracker.registry.config_class(name).__dataclass_fields__ else {}
    instance = tracker.create(name, settings)
    return [(detections[f], instance.update(detections[f], f / RATE)) for f in range(FRAMES)]


@pytest.mark.needs_peers("trackers")
@pytest.mark.parametrize("name", [n for n in PEERS if n.startswith("rf-")])
def test_roboflow_backends_report_detection_boxes_with_det_index(name: str) -> None:
    frames = _replay(name)
    reported = 0
    for dets, tracks in frames:
        assert len(set(tracks.ids.tolist())) == len(tracks)
        assert (tracks.det_index >= 0).all() and (tracks.det_index < max(len(dets), 1)).all()
        np.testing.assert_allclose(tracks.xyxy, dets.xyxy[tracks.det_index], atol=1e-3)
        np.testing.assert_allclose(tracks.scores, dets.scores[tracks.det_index])
        reported += len(tracks)
    assert reported > FRAMES, "a real sequence with cars must yield tracks"
    ids = np.concatenate([t.ids for _, t in frames])
    assert len(np.unique(ids)) < reported / 3, "IDs persist over frames"


@pytest.mark.needs_peers("boxmot")
@pytest.mark.parametrize("name", [n for n in PEERS if n.startswith("boxmot-")])
def test_boxmot_backends_map_tracks_to_their_detections(name: str) -> None:
    frames = _replay(name)
    overlaps = []
    for dets, tracks in frames:
        assert len(set(tracks.ids.tolist())) == len(tracks)
        if len(tracks):
            assert (tracks.det_index >= 0).all() and (tracks.det_index < len(dets)).all()
            overlaps.append(iou_matrix(tracks.xyxy, dets.xyxy)[np.arange(len(tracks)), tracks.det_index])
    overlap = np.concatenate(overlaps)
    assert len(overlap) > FRAMES
    # The reported box is the library's Kalman estimate: it overlaps its detection at least as much as
    # the loosest association gate of these trackers (IoU 0.2) and, on average, mostly coincides with it.
    assert overlap.min() > 0.2 and overlap.mean() > 0.8


@pytest.mark.needs_peers("boxmot")
def test_peer_settings_record_library_version_and_defaults() -> None:
    import boxmot

    register_peers()
    instance = tracker.create("boxmot-botsort", frame_rate=RATE)
    assert instance.settings["library"] == "boxmot" and instance.settings["version"] == boxmot.__version__
    arguments = instance.settings["arguments"]
    assert arguments["frame_rate"] == RATE and arguments["use_embeddings"] is False and arguments["use_cmc"] is False
    assert arguments["track_buffer"] == 30, "library default kept"
    assert all(value != repr(object()) for value in arguments.values())
    with pytest.raises(tracker.ConfigError, match="unknown key 'min_score'"):
        tracker.create("rf-sort", min_score=0.5)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("rf-sort", marks=pytest.mark.needs_peers("trackers")),
        pytest.param("boxmot-bytetrack", marks=pytest.mark.needs_peers("boxmot")),
    ],
)
def test_adapters_time_the_library_call_alone(name: str) -> None:
    register_peers()
    detections = FileDetections.from_kitti_csv(RRC)
    instance = tracker.create(name, frame_rate=RATE)
    assert isinstance(instance, LibraryTimed) and instance.library_seconds == 0.0
    whole = 0.0
    for frame in range(FRAMES):
        start = time.perf_counter()
        instance.update(detections[frame], frame / RATE)
        whole += time.perf_counter() - start
    # The library's update is timed inside the adapter's update(), which also converts its input and output.
    assert 0.0 < instance.library_seconds < whole
    instance.reset()
    assert instance.library_seconds > 0.0, "a timer of the instance, not of its tracks"


@pytest.mark.needs_peers("boxmot")
def test_boxmot_adapter_leaves_out_degenerate_boxes() -> None:
    """boxmot refuses a frame with a zero-width box (KITTI PointRCNN holds one); the adapter passes the others."""
    register_peers()
    t = tracker.create("boxmot-bytetrack", frame_rate=10.0)
    for k in range(6):
        dets = tracker.Detections([[1241, 100, 1241, 160], [100 + 5 * k, 100, 160 + 5 * k, 150]], [0.9, 0.9], [2, 2])
        tracks = t.update(dets, k / 10)
    assert tracks.det_index.tolist() == [1]  # the frame's own index of the proper box
    assert t.settings["adapter"] == "degenerate boxes left out"
