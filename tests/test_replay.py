"""ReplayDetector: MOTChallenge and KITTI detection files replayed frame by frame as a Detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detectors.base import Detector, FrameError
from detectors.files import FileDetections
from detectors.replay import ReplayDetector, detect_format

FRAME = np.zeros((48, 64, 3), dtype=np.uint8)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_mot17_det_file_replays_frame_one_first(shared_dir: Path) -> None:
    path = shared_dir / "data" / "MOT17-mini" / "train" / "MOT17-02-FRCNN" / "det" / "det.txt"
    replay = ReplayDetector(path)
    assert isinstance(replay, Detector)
    assert replay.fmt == "mot" and replay.first_frame == 1  # 7 columns with id -1: MOTChallenge
    truth = FileDetections.from_mot(path)
    for frame in (1, 2, 3):
        got = replay(FRAME)
        np.testing.assert_array_equal(got.xyxy, truth[frame].xyxy)
        assert len(got) == len(truth[frame]) > 0 and set(got.class_ids.tolist()) == {0}
    assert replay.frames_used == 3 and replay.last_frame == 600 and replay.frames_left == 597
    assert replay.describe() == {"detector": "file", "detections": str(path), "format": "mot"}


def test_kitti_rrc_csv_replays_frame_zero_first(shared_dir: Path) -> None:
    path = shared_dir / "data" / "kitti_tracking" / "training" / "det_02_rrc" / "0000.txt"
    replay = ReplayDetector(path)
    assert replay.fmt == "kitti" and replay.first_frame == 0
    truth = FileDetections.from_kitti_csv(path)
    batch = replay.batch([FRAME, FRAME])
    np.testing.assert_array_equal(batch[0].xyxy, truth[0].xyxy)
    np.testing.assert_array_equal(batch[1].xyxy, truth[1].xyxy)
    assert set(batch[0].class_ids.tolist()) == {2}


def test_format_is_told_by_the_columns(tmp_path: Path) -> None:
    assert detect_format(_write(tmp_path / "a.txt", "1,-1,10,20,30,40,0.9,-1,-1,-1\n")) == "mot"
    assert detect_format(_write(tmp_path / "b.txt", "0,10,20,30,40,0.9\n")) == "kitti"
    assert detect_format(_write(tmp_path / "c.txt", "\n1,-1,10,20,30,40,0.9\n")) == "mot"
    ambiguous = _write(tmp_path / "d.txt", "0,10,20,30,40,0.9,2\n")
    with pytest.raises(ValueError, match="7 columns fit both"):
        detect_format(ambiguous)
    assert ReplayDetector(ambiguous, "kitti").fmt == "kitti"
    with pytest.raises(ValueError, match="holds no detections"):
        detect_format(_write(tmp_path / "e.txt", "\n\n"))
    with pytest.raises(ValueError, match=r"e2.txt:1: expected 6 or more"):
        detect_format(_write(tmp_path / "e2.txt", "1,2,3\n"))
    with pytest.raises(FileNotFoundError, match="not found"):
        ReplayDetector(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="format must be one of"):
        ReplayDetector(ambiguous, "yolo")


def test_frames_are_checked(tmp_path: Path) -> None:
    replay = ReplayDetector(_write(tmp_path / "d.txt", "0,10,20,30,40,0.9\n"))
    with pytest.raises(FrameError):
        replay(np.zeros((4, 4), dtype=np.uint8))
    assert replay.frames_used == 0


def test_replays_scalabel_predictions_of_one_video(repo_root: Path) -> None:
    """A BDD100K prediction file of one video (here the hand-made fixture's ground truth of video-b)."""
    path = repo_root / "tests/data/bdd100k/labels/box_track_20/val/video-b.json"
    detector = ReplayDetector(path)
    assert detector.fmt == "scalabel" and detector.first_frame == 0
    frame = np.zeros((720, 1280, 3), dtype=np.uint8)
    first = detector(frame)
    assert len(first) > 0 and set(first.class_ids.tolist()) <= {0, 2, 5}  # pedestrian, car, bus as COCO ids
