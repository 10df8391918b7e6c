"""FileDetections on the real public detection files of ../shared and on malformed copies of them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from detectors.files import DetectionFileError, FileDetections

SHARED = Path(__file__).resolve().parents[2] / "shared"
KITTI = SHARED / "data" / "kitti_tracking" / "training"
MOT17 = SHARED / "data" / "MOT17"
MOT_DET = MOT17 / "train" / "MOT17-02-FRCNN" / "det" / "det.txt"
RRC = KITTI / "det_02_rrc" / "0000.txt"
POINTRCNN = KITTI / "det_02_pointrcnn" / "0000.txt"
LABELS = KITTI / "label_02" / "0000.txt"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _corrupt(tmp_path: Path, source: Path, line: int, text: str) -> Path:
    """A copy of the first 50 lines of ``source`` with 1-based ``line`` replaced by ``text``."""
    lines = _lines(source)[:50]
    lines[line - 1] = text
    path = tmp_path / source.name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_mot_det_txt_groups_unsorted_rows_by_frame_as_xyxy() -> None:
    fd = FileDetections.from_mot(MOT_DET, class_id=0)
    rows = [line.split(",") for line in _lines(MOT_DET)]
    assert fd.num_detections == len(rows)
    frames = sorted({int(r[0]) for r in rows})
    assert fd.frames == tuple(frames)
    assert int(rows[0][0]) != frames[0], "det.txt is unsorted; the first row is not of the first frame"
    # The file's first row, frame 69: tlwh (912.8, 482.9, 97.6, 112.6).
    dets = fd[69]
    assert len(dets) == sum(1 for r in rows if r[0] == "69")
    np.testing.assert_allclose(dets.xyxy[0], [912.8, 482.9, 1010.4, 595.5], atol=1e-3)
    assert dets.class_ids.tolist() == [0] * len(dets)
    assert len(fd[100000]) == 0 and len(fd(0)) == 0


def test_yolox_val_half_detections_start_at_second_half() -> None:
    fd = FileDetections.from_mot(MOT17 / "det_yolox_valhalf" / "MOT17-02-FRCNN.txt")
    assert fd.frames[0] == 600 // 2 + 2 and fd.frames[-1] == 600
    assert float(fd[302].scores.min()) >= 0.6


def test_kitti_rrc_csv() -> None:
    fd = FileDetections.from_kitti_csv(RRC, class_id=2)
    rows = [[float(v) for v in line.split(",")] for line in _lines(RRC)]
    assert fd.num_detections == len(rows)
    first = rows[0]
    assert fd.frames[0] == int(first[0]) == 0
    np.testing.assert_allclose(fd[0].xyxy[0], first[1:5], rtol=1e-6)
    np.testing.assert_allclose(fd[0].scores[0], first[5], rtol=1e-6)
    assert set(fd[0].class_ids.tolist()) == {2}


def test_pointrcnn_logit_scores_go_through_the_sigmoid() -> None:
    fd = FileDetections.from_kitti_csv(POINTRCNN)
    rows = [line.split(",") for line in _lines(POINTRCNN)]
    assert fd.num_detections == len(rows)
    logits = [float(r[6]) for r in rows if r[0] == "0"]
    assert min(logits) < 0, "the fixture must contain negative logits"
    expected = [1.0 / (1.0 + math.exp(-v)) for v in logits]
    np.testing.assert_allclose(fd[0].scores, expected, rtol=1e-6)
    np.testing.assert_allclose(fd[0].xyxy[0], [float(v) for v in rows[0][2:6]], rtol=1e-6)
    assert (fd[0].scores > 0).all() and (fd[0].scores < 1).all()


def test_kitti_labels_keep_selected_types_only() -> None:
    cars = FileDetections.from_kitti_label(LABELS, types=("Car",))
    rows = [line.split() for line in _lines(LABELS)]
    assert cars.num_detections == sum(1 for r in rows if r[2] == "Car")
    with_vans = FileDetections.from_kitti_label(LABELS, types=("car", "VAN"))
    assert with_vans.num_detections == sum(1 for r in rows if r[2] in ("Car", "Van"))
    assert len(cars[0]) == 0 and len(with_vans[0]) == 1, "frame 0 of 0000 holds one Van and no Car"


def test_to_csv_round_trips_through_the_7_column_variant(tmp_path: Path) -> None:
    fd = FileDetections.from_mot(MOT_DET, class_id=5)
    path = tmp_path / "cache.csv"
    fd.to_csv(path)
    back = FileDetections.from_kitti_csv(path, class_id=99)
    assert back.frames == fd.frames
    for frame in fd.frames[:20]:
        np.testing.assert_allclose(back[frame].xyxy, fd[frame].xyxy, atol=1e-4)
        np.testing.assert_allclose(back[frame].scores, fd[frame].scores, atol=1e-6)
        assert back[frame].class_ids.tolist() == [5] * len(fd[frame])


def test_empty_file_means_no_detections_but_a_missing_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "0000.txt"
    empty.write_text("", encoding="utf-8")
    fd = FileDetections.from_kitti_csv(empty)
    assert len(fd) == 0 and fd.frames == () and len(fd[0]) == 0
    blank = tmp_path / "det.txt"
    blank.write_text("\n\n", encoding="utf-8")
    assert FileDetections.from_mot(blank).num_detections == 0
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        FileDetections.from_mot(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("source", "loader", "text", "reason"),
    [
        (MOT_DET, FileDetections.from_mot, "69,-1,912.8,482.9,97.6", "at least 7 columns"),
        (MOT_DET, FileDetections.from_mot, "69,-1,912.8,nan,97.6,112.6,1", "'top' is not finite"),
        (MOT_DET, FileDetections.from_mot, "69,-1,912.8,482.9,-97.6,112.6,1", "negative width or height"),
        (MOT_DET, FileDetections.from_mot, "69,-1,912.8,482.9,97.6,-1,1", "negative width or height"),
        (MOT_DET, FileDetections.from_mot, "69,-1,912.8,482.9,97.6,112.6,high", "'score' is not a number"),
        (MOT_DET, FileDetections.from_mot, "0,-1,912.8,482.9,97.6,112.6,1", "below the first frame 1"),
        (MOT_DET, FileDetections.from_mot, "6.5,-1,912.8,482.9,97.6,112.6,1", "not a whole number"),
        (RRC, FileDetections.from_kitti_csv, "3,296.0,160.1,452.2,288.3", "like the first row"),
        (RRC, FileDetections.from_kitti_csv, "3,296.0,NaN,452.2,288.3,0.5", "'y1' is not finite"),
        (RRC, FileDetections.from_kitti_csv, "3,452.2,160.1,296.0,288.3,0.5", "inverted"),
        (POINTRCNN, FileDetections.from_kitti_csv, "0,2,298.3,165.1,458.2,x,8.2,1,1,1,1,1,1,1,1", "'y2'"),
        (LABELS, FileDetections.from_kitti_label, "0 0 Car 0 0 -1.7 296.7 161.7 455.2", "expected 17 or 18"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, source: Path, loader: object, text: str, reason: str
) -> None:
    path = _corrupt(tmp_path, source, 7, text)
    with pytest.raises(DetectionFileError, match=reason) as caught:
        loader(path)
    assert str(caught.value).startswith(f"{path}:7: ")
    assert caught.value.line == 7 and caught.value.path == path


def test_line_numbers_count_skipped_blank_lines(tmp_path: Path) -> None:
    lines = _lines(RRC)[:5]
    path = tmp_path / "rrc.txt"
    path.write_text("\n".join([lines[0], "", "", lines[1], "0,1,2,3"]) + "\n", encoding="utf-8")
    with pytest.raises(DetectionFileError, match=r":5: expected 6 columns like the first row, got 4"):
        FileDetections.from_kitti_csv(path)


def test_first_row_with_an_unknown_column_count_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("0,1,2,3,4,0.5,2,9\n", encoding="utf-8")
    with pytest.raises(DetectionFileError, match=r"bad.csv:1: expected 6 .* got 8"):
        FileDetections.from_kitti_csv(path)
