"""The Scalabel JSON reader (BDD100K MOT) and FileDetections.from_scalabel: the hand-made fixture, malformed inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detectors.files import FileDetections
from tracker.formats import BDD100K_CLASSES, BDD100K_TO_COCO, COCO_TO_BDD100K, FormatError, read_scalabel

FIXTURE = Path(__file__).resolve().parent / "data" / "bdd100k"
GT_A = FIXTURE / "labels" / "box_track_20" / "val" / "video-a.json"
PREDICTIONS = FIXTURE / "predictions" / "detections.json"


def _write(tmp_path: Path, text: str, name: str = "labels.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _label(category: str = "car", **changes: object) -> dict:
    return {"id": "1", "category": category, "box2d": {"x1": 10, "y1": 20, "x2": 30, "y2": 60}, **changes}


def _frames_text(*frames: dict) -> str:
    return "[\n" + ",\n".join(json.dumps(frame) for frame in frames) + "\n]\n"


# The reader -------------------------------------------------------------------------------------


def test_reads_the_fixture_ground_truth_frame_by_frame() -> None:
    labels = read_scalabel(GT_A)
    assert labels.num_frames == 6 and labels.num_labels == 22  # 6 x (car, truck, crowd) + car 2 in 4 frames
    assert labels.video_names == ("video-a",)
    assert labels.frame_indices.tolist() == [0, 1, 2, 3, 4, 5]
    assert labels.names[0] == "video-a-0000001.jpg"
    assert labels.lines.tolist() == [2, 3, 4, 5, 6, 7]  # one frame per line after the opening "["
    first = labels.label_frames == 0
    assert labels.ids[first].tolist() == ["1", "2", "3", "4"]
    assert labels.categories[first].tolist() == ["car", "car", "truck", "car"]
    assert labels.crowd[first].tolist() == [False, False, False, True]
    np.testing.assert_array_equal(labels.xyxy[first][0], [100, 300, 200, 360])
    assert np.isnan(labels.scores).all()  # ground truth has no score
    # car 2 is labelled in frames 0, 1, 4, 5 (occluded in 1 and 4): it leaves and returns
    car2 = labels.ids == "2"
    assert labels.frame_indices[labels.label_frames[car2]].tolist() == [0, 1, 4, 5]
    assert labels.occluded[car2].tolist() == [False, True, True, False]


def test_reads_the_2020_spelling_and_the_dataset_object_alike(tmp_path: Path) -> None:
    new = {"name": "f.jpg", "videoName": "v", "frameIndex": 3, "labels": [_label(attributes={"crowd": True})]}
    old = {"name": "f.jpg", "videoName": "v", "index": 3, "labels": [_label(attributes={"Crowd": True})]}
    a = read_scalabel(_write(tmp_path, _frames_text(new), "new.json"))
    b = read_scalabel(_write(tmp_path, _frames_text(old), "old.json"))
    c = read_scalabel(_write(tmp_path, json.dumps({"frames": [new], "config": {}}), "dataset.json"))
    for labels in (b, c):
        assert labels.frame_indices.tolist() == a.frame_indices.tolist() == [3]
        assert labels.crowd.tolist() == a.crowd.tolist() == [True]
        np.testing.assert_array_equal(labels.xyxy, a.xyxy)
    assert c.lines.tolist() == [0]  # no line numbers inside a dataset object


def test_frames_without_labels_and_empty_files(tmp_path: Path) -> None:
    labels = read_scalabel(_write(tmp_path, _frames_text({"frameIndex": 0}, {"frameIndex": 1, "labels": None})))
    assert labels.num_frames == 2 and labels.num_labels == 0 and labels.xyxy.shape == (0, 4)
    for text in ("", "  \n", "[]", "[ ]\n"):
        empty = read_scalabel(_write(tmp_path, text))
        assert empty.num_frames == 0 and empty.video_names == ()
    with pytest.raises(FileNotFoundError):
        read_scalabel(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[\n{"frameIndex": 0},\n{"frameIndex": 1,]', ":3: invalid JSON: Expecting property name"),
        ('[\n{"frameIndex": 0}\n{"frameIndex": 1}]', ":3: invalid JSON: expected ',' or ']' after a frame"),
        ('[{"frameIndex": 0}] x', ":1: invalid JSON: extra data after the list of frames"),
        ('"frames"', ":1: expected a JSON list of frames"),
        ('{"config": {}}', ": a Scalabel object needs a 'frames' list"),
        ("[\n[1, 2]]", ":2: frame #0: a frame must be a JSON object, got list"),
        ('[\n{"videoName": "v"}]', ":2: frame #0 (video 'v'): no 'frameIndex' (or 'index')"),
        ('[\n{"frameIndex": -1}]', ":2: frame #0: 'frameIndex' must be a whole number >= 0, got -1"),
        ('[\n{"index": 1.5}]', ":2: frame #0: 'index' must be a whole number >= 0, got 1.5"),
        (
            '[\n{"videoName": "v", "frameIndex": 0},\n{"videoName": "v", "frameIndex": 0}]',
            ":3: frame #1 (video 'v', frameIndex 0): the same frame again (first at frame #0)",
        ),
        ('[\n{"frameIndex": 0, "labels": {}}]', ":2: frame #0 (frameIndex 0): 'labels' must be a list, got dict"),
    ],
)
def test_malformed_frames_name_file_line_and_frame(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(FormatError) as error:
        read_scalabel(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value), str(error.value)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ({"box2d": {"x1": 0, "y1": 0, "x2": 1, "y2": 1}}, "'category' must be a non-empty string, got None"),
        (_label(box2d=None), "no 'box2d' (only box labels are read)"),
        (_label(box2d={"x1": 0, "y1": 0, "x2": 1}), "box2d 'y2' must be a finite number, got None"),
        (_label(box2d={"x1": 0, "y1": 0, "x2": "1", "y2": 1}), "box2d 'x2' must be a finite number, got '1'"),
        (_label(box2d={"x1": 5, "y1": 0, "x2": 1, "y2": 1}), "box is inverted (need x1 <= x2 and y1 <= y2)"),
        (_label(score=float("nan")), "'score' must be a finite number, got nan"),
        (_label(id=[1]), "'id' must be a string or a whole number, got [1]"),
        (_label(attributes={"crowd": "yes"}), "attribute 'crowd' must be true or false, got 'yes'"),
        (_label(attributes=[]), "'attributes' must be an object"),
    ],
)
def test_malformed_labels_name_frame_and_label(tmp_path: Path, label: dict, message: str) -> None:
    # the bad label is the second one of the second frame, which starts on line 3
    text = _frames_text(
        {"videoName": "v", "frameIndex": 0, "labels": [_label()]},
        {"videoName": "v", "frameIndex": 1, "labels": [_label(), label]},
    )
    path = _write(tmp_path, text)
    with pytest.raises(FormatError) as error:
        read_scalabel(path)
    assert f"{path}:3: frame #1 (video 'v', frameIndex 1) label #1: {message}" in str(error.value), str(error.value)


def test_integer_ids_read_as_their_text(tmp_path: Path) -> None:
    labels = read_scalabel(_write(tmp_path, _frames_text({"frameIndex": 0, "labels": [_label(id=7), _label(id=None)]})))
    assert labels.ids.tolist() == ["7", ""]


def test_category_maps_cover_the_eight_classes_both_ways() -> None:
    assert BDD100K_TO_COCO == {
        "car": 2,
        "truck": 7,
        "bus": 5,
        "motorcycle": 3,
        "bicycle": 1,
        "pedestrian": 0,
        "rider": 0,  # COCO has no rider: a COCO detector sees a person
        "train": 6,
    }
    assert set(BDD100K_TO_COCO) == set(BDD100K_CLASSES)
    # every COCO id goes back to a category that maps to it; only rider has no way back
    assert all(BDD100K_TO_COCO[name] == coco for coco, name in COCO_TO_BDD100K.items())
    assert set(BDD100K_CLASSES) - set(COCO_TO_BDD100K.values()) == {"rider"}


# FileDetections.from_scalabel -------------------------------------------------------------------


def test_predictions_replay_per_video_with_coco_classes() -> None:
    dets = FileDetections.from_scalabel(PREDICTIONS, video="video-a")
    assert dets.frames == (0, 1, 2, 3, 4, 5)
    first = dets[0]  # car 1, car 2, truck, two cars in the crowd region; the traffic light is skipped
    assert first.class_ids.tolist() == [2, 2, 7, 2, 2]
    np.testing.assert_allclose(first.scores, [0.92, 0.88, 0.85, 0.7, 0.7])
    np.testing.assert_array_equal(first.xyxy[0], [100, 300, 200, 360])
    assert dets[2].class_ids.tolist() == [2, 2, 2, 2]  # the truck's class flicker: detected as a car
    assert len(dets[3]) == 5 and len(dets[6]) == 0  # the one-frame ghost; beyond the video
    b = FileDetections.from_scalabel(PREDICTIONS, video="video-b")
    assert b.frames == (0, 1, 2, 3) and b[2].class_ids.tolist() == [5, 0]  # bus, pedestrian; the car is missed
    assert dets.source == str(PREDICTIONS)


def test_ground_truth_replays_without_crowd_boxes_with_score_one() -> None:
    dets = FileDetections.from_scalabel(GT_A)  # one video: no need to name it
    assert dets.num_detections == 22 - 6
    assert dets[0].class_ids.tolist() == [2, 2, 7] and dets[0].scores.tolist() == [1.0, 1.0, 1.0]


def test_video_choice_errors_list_the_videos(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"holds 2 videos \('video-a', 'video-b'\); choose one"):
        FileDetections.from_scalabel(PREDICTIONS)
    with pytest.raises(FormatError, match=r"holds no frames of video 'video-c' \(its videos: 'video-a', 'video-b'\)"):
        FileDetections.from_scalabel(read_scalabel(PREDICTIONS), video="video-c")
    empty = FileDetections.from_scalabel(_write(tmp_path, "[]"), video="video-c")
    assert empty.num_detections == 0


def test_unknown_categories_are_errors_unless_mapped(tmp_path: Path) -> None:
    path = _write(tmp_path, _frames_text({"frameIndex": 0, "labels": [_label("car"), _label("Car")]}))
    with pytest.raises(FormatError) as error:
        FileDetections.from_scalabel(path)
    assert f"{path}:2: frame #0 (frameIndex 0) label #1: unknown category 'Car' (known: 'pedestrian'" in str(
        error.value
    )
    custom = FileDetections.from_scalabel(path, categories={"car": 2, "Car": 2})
    assert custom[0].class_ids.tolist() == [2, 2]
    ignored = _write(tmp_path, _frames_text({"frameIndex": 0, "labels": [_label("trailer"), _label("traffic sign")]}))
    assert FileDetections.from_scalabel(ignored).num_detections == 0
    assert FileDetections.from_scalabel(ignored, categories={"traffic sign": 9})[0].class_ids.tolist() == [9]
