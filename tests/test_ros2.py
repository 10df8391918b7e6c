"""ROS 2 integration: vision_msgs conversion, the node's handler, rosbag2 in and out of ``vtrack track``.

Bags are written into ``tmp_path`` with rosbags from the first frames of a real dashcam clip;
``vtrack track`` on a bag must give the tracks it gives on the same frames read from the video.
The example rclpy node runs against stand-in rclpy modules (rclpy cannot be installed here).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import logging
import math
import subprocess
import sys
import types
from collections.abc import Callable
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from rosbags.rosbag2 import Reader, Writer

import tracker
from tracker.app.cli import main
from tracker.app.sources import SourceConfig, open_source
from tracker.ros2.bag import BagImageInfo, BagSource, TracksBagWriter, load_typestore, message_classes
from tracker.ros2.convert import (
    NS_PER_S,
    MessageError,
    detections_from_msg,
    detections_to_msg,
    parse_class_id,
    seconds_to_time,
    time_from_ns,
    time_to_ns,
    time_to_seconds,
    tracks_from_msg,
    tracks_to_msg,
)
from tracker.ros2.images import ImageError, image_to_bgr
from tracker.ros2.node import TrackingHandler

pytestmark = [pytest.mark.needs_ros, pytest.mark.needs_yolo]

CLIP_FRAMES = 8
IMGSZ = "320"
TOPIC = "/camera/image_raw"
COMPRESSED_TOPIC = "/camera/image_raw/compressed"
FRAME_ID = "camera_front"
EPOCH_NS = 1_700_000_000 * NS_PER_S + 123_456_789  # a plausible recording start, odd nanoseconds
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
DETECTIONS = "vision_msgs/msg/Detection2DArray"
BOX_ATOL = 0.011  # tracks.jsonl rounds boxes to 0.01 px
# The RIHS01 type hash ROS generates for vision_msgs 4.x Detection2DArray (rosidl's
# detection2_d_array__functions.c): the registered .msg files must give exactly this type.
DETECTION2D_ARRAY_RIHS01 = "RIHS01_214274120007f4a683866481336b70310268cfa107aebe9d594a6acf75bda968"


@pytest.fixture(scope="module")
def store() -> Any:
    return load_typestore()


@pytest.fixture(scope="module")
def classes() -> Any:
    return message_classes()


@pytest.fixture(scope="module")
def clip_frames(videos_dir: Path) -> list[tuple[int, np.ndarray]]:
    """``(stamp_ns, image)`` of the first frames of test_small2.mp4: the video's times plus EPOCH_NS."""
    with open_source(videos_dir / "test_small2.mp4") as source:
        frames = list(itertools.islice(source, CLIP_FRAMES))
    return [(EPOCH_NS + round(frame.timestamp * NS_PER_S), frame.image) for frame in frames]


def _header(store: Any, ns: int, frame_id: str = FRAME_ID) -> Any:
    stamp = store.types["builtin_interfaces/msg/Time"](sec=ns // NS_PER_S, nanosec=ns % NS_PER_S)
    return store.types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def _image_msg(store: Any, ns: int, image: np.ndarray, encoding: str = "bgr8", frame_id: str = FRAME_ID) -> Any:
    pixels = {"bgr8": image, "rgb8": image[:, :, ::-1], "mono8": image[:, :, 0]}[encoding]
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    return store.types[IMAGE](
        header=_header(store, ns, frame_id),
        height=height,
        width=width,
        encoding=encoding,
        is_bigendian=0,
        step=pixels.strides[0],
        data=pixels.reshape(-1),
    )


def _png_msg(store: Any, ns: int, image: np.ndarray) -> Any:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return store.types[COMPRESSED](header=_header(store, ns), format="bgr8; png compressed bgr8", data=data.reshape(-1))


def _write_bag(
    path: Path, store: Any, frames: list[tuple[int, np.ndarray]], make: Callable[..., Any] | None = None, **options: Any
) -> Path:
    """A rosbag2 at ``path`` with one image message per frame on TOPIC (plus a non-image topic)."""
    make = make or _image_msg
    topic = options.pop("topic", TOPIC)
    with Writer(path, version=8, **options) as writer:
        first = make(store, frames[0][0], frames[0][1])
        connection = writer.add_connection(topic, first.__msgtype__, typestore=store)
        other = writer.add_connection("/rosout_like", "std_msgs/msg/String", typestore=store)
        for position, (ns, image) in enumerate(frames):
            msg = make(store, ns, image)
            receive_ns = EPOCH_NS + position * NS_PER_S // 10  # receive order = list order
            writer.write(connection, receive_ns, store.serialize_cdr(msg, msg.__msgtype__))
        text = store.types["std_msgs/msg/String"](data="not an image")
        writer.write(other, EPOCH_NS, store.serialize_cdr(text, "std_msgs/msg/String"))
    return path


def _track(source: Path, out: Path, *extra: str, weights: Path) -> tuple[int, str]:
    stdout = StringIO()
    args = ["track", str(source), "--out", str(out), "--weights", str(weights), "--device", "cpu"]
    with redirect_stdout(stdout):
        status = main([*args, "--imgsz", IMGSZ, "--no-video", *extra])
    return status, stdout.getvalue()


def _jsonl(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "tracks.jsonl").read_text().splitlines()]


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("vtrack track: error:")]


def _read_bag(path: Path, store: Any) -> list[tuple[str, int, Any]]:
    with Reader(path) as reader:
        return [
            (connection.topic, log_ns, store.deserialize_cdr(raw, connection.msgtype))
            for connection, log_ns, raw in reader.messages()
        ]


def _assert_same_tracks(records: list[dict], expected: list[dict]) -> None:
    assert len(records) == len(expected)
    for got, want in zip(records, expected, strict=True):
        assert [t["id"] for t in got["tracks"]] == [t["id"] for t in want["tracks"]]
        assert [t["class_id"] for t in got["tracks"]] == [t["class_id"] for t in want["tracks"]]
        np.testing.assert_allclose(
            np.array([t["xyxy"] for t in got["tracks"]]).reshape(-1, 4),
            np.array([t["xyxy"] for t in want["tracks"]]).reshape(-1, 4),
            atol=BOX_ATOL,
        )


# --- import hygiene and message types ------------------------------------------------------------


def test_import_convert_loads_no_ros_or_heavy_modules() -> None:
    code = (
        "import sys, tracker.ros2.convert, tracker.ros2; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'rclpy', 'rosbags', 'cv2', 'torch', 'ultralytics'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_vision_msgs_types_are_the_upstream_4x_types(store: Any) -> None:
    assert store.hash_rihs01(DETECTIONS) == DETECTION2D_ARRAY_RIHS01
    fields = [name for name, _ in store.fielddefs["vision_msgs/msg/Detection2D"][1]]
    assert fields == ["header", "results", "bbox", "id"]
    assert [name for name, _ in store.fielddefs["vision_msgs/msg/Pose2D"][1]] == ["position", "theta"]


# --- time ------------------------------------------------------------------------------------------


def test_time_round_trips_exactly_through_nanoseconds(classes: Any) -> None:
    for ns in (0, 1, NS_PER_S - 1, EPOCH_NS, 2**31 * NS_PER_S - 1, -1, -(2**31) * NS_PER_S):
        stamp = time_from_ns(ns, classes)
        assert 0 <= stamp.nanosec < NS_PER_S
        assert time_to_ns(stamp) == ns
    assert (time_from_ns(-1, classes).sec, time_from_ns(-1, classes).nanosec) == (-1, NS_PER_S - 1)
    # Seconds <-> Time: exact for times a float64 holds to the nanosecond.
    for seconds in (0.0, 0.04, 12.345678901, 1e6 + 0.5):
        assert time_to_seconds(seconds_to_time(seconds, classes)) == seconds
    stamp = seconds_to_time(1.5, classes)
    assert (stamp.sec, stamp.nanosec) == (1, 500_000_000)
    assert time_to_seconds(time_from_ns(EPOCH_NS, classes)) == pytest.approx(EPOCH_NS / NS_PER_S, abs=1e-6)
    with pytest.raises(MessageError, match="nanosec must be in"):
        time_to_ns(classes.time(sec=0, nanosec=NS_PER_S))
    with pytest.raises(MessageError, match="int32"):
        time_from_ns(2**31 * NS_PER_S, classes)
    with pytest.raises(MessageError, match="finite"):
        seconds_to_time(math.nan, classes)


# --- Detection2DArray <-> Detections / Tracks --------------------------------------------------


def _random_detections(rng: np.random.Generator, count: int) -> tracker.Detections:
    corners = rng.uniform(0, 1200, size=(count, 2))
    sizes = rng.uniform(1, 300, size=(count, 2))
    boxes = np.concatenate([corners, corners + sizes], axis=1)
    return tracker.Detections(boxes, rng.uniform(0, 1, count), rng.integers(0, 80, count))


def test_detections_round_trip_through_cdr(store: Any, classes: Any) -> None:
    detections = _random_detections(np.random.default_rng(0), 25)
    header = _header(store, EPOCH_NS)
    msg = detections_to_msg(detections, header, classes)
    assert all(d.id == "" and d.header is header for d in msg.detections)
    assert msg.detections[0].results[0].hypothesis.class_id == str(detections.class_ids[0])
    centre = msg.detections[0].bbox.center.position
    x1, y1, x2, y2 = detections.xyxy[0].astype(np.float64)
    assert (centre.x, centre.y, msg.detections[0].bbox.size_x) == ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1)
    back = store.deserialize_cdr(store.serialize_cdr(msg, DETECTIONS), DETECTIONS)
    assert time_to_ns(back.header.stamp) == EPOCH_NS and back.header.frame_id == FRAME_ID
    again = detections_from_msg(back)
    np.testing.assert_array_equal(again.xyxy, detections.xyxy)
    np.testing.assert_array_equal(again.scores, detections.scores)
    np.testing.assert_array_equal(again.class_ids, detections.class_ids)
    assert len(detections_from_msg(detections_to_msg(tracker.Detections.empty(), header, classes))) == 0


def test_tracks_to_msg_and_back(store: Any, classes: Any) -> None:
    boxes = np.array([[10.5, 20.25, 110.0, 90.0], [300.0, 200.0, 420.75, 300.5], [0.0, 0.0, 5.0, 5.0]])
    tracks = tracker.Tracks(
        ids=[7, 12, 3],
        xyxy=boxes,
        scores=[0.9, 0.55, 0.3],
        class_ids=[2, 7, -1],
        det_index=[0, -1, 1],
        state=[1, 2, 1],
        age=[1.0, 2.0, 0.2],
        hits=[10, 20, 3],
    )
    header = _header(store, EPOCH_NS)
    msg = store.deserialize_cdr(store.serialize_cdr(tracks_to_msg(tracks, header, classes), DETECTIONS), DETECTIONS)
    assert [d.id for d in msg.detections] == ["7", "12", "3"]
    assert [d.results[0].hypothesis.class_id for d in msg.detections] == ["2", "7", ""]
    assert all(time_to_ns(d.header.stamp) == EPOCH_NS for d in msg.detections)
    ids, back = tracks_from_msg(msg)
    np.testing.assert_array_equal(ids, [7, 12, 3])
    np.testing.assert_array_equal(back.xyxy, tracks.xyxy)
    np.testing.assert_array_equal(back.class_ids, [2, 7, -1])
    np.testing.assert_array_equal(back.scores, tracks.scores)

    names = {2: "car", 7: "truck"}
    named = tracks_to_msg(tracks, header, classes, class_names=names)
    assert [d.results[0].hypothesis.class_id for d in named.detections] == ["car", "truck", ""]
    np.testing.assert_array_equal(tracks_from_msg(named, {"car": 2, "truck": 7}).boxes.class_ids, [2, 7, -1])
    with pytest.raises(MessageError, match=r"detections\[0\].*unknown class name 'car'"):
        tracks_from_msg(named)
    named.detections[1].id = "track-b"
    with pytest.raises(MessageError, match=r"detections\[1\]\.id must be a decimal track ID, got 'track-b'"):
        tracks_from_msg(named, {"car": 2, "truck": 7})


def test_class_ids_rotated_boxes_hypotheses_and_bad_detections(store: Any, classes: Any) -> None:
    assert parse_class_id(" 5 ") == 5 and parse_class_id("") == -1 and parse_class_id("bus", {"bus": 5}) == 5
    header = _header(store, EPOCH_NS)
    msg = detections_to_msg(tracker.Detections([[100, 200, 140, 220]], [0.5], [2]), header, classes)
    detection = msg.detections[0]
    # A box turned by 90 degrees: its enclosing axis-aligned box swaps width and height.
    detection.bbox.center.theta = math.pi / 2
    np.testing.assert_allclose(detections_from_msg(msg).xyxy, [[110, 190, 130, 230]], atol=1e-4)
    detection.bbox.center.theta = 0.0
    # Of several hypotheses, the one with the highest score.
    second = classes.hypothesis_with_pose(
        hypothesis=classes.hypothesis(class_id="7", score=0.8), pose=detection.results[0].pose
    )
    detection.results.append(second)
    parsed = detections_from_msg(msg)
    assert parsed.class_ids.tolist() == [7] and parsed.scores.tolist() == [pytest.approx(0.8)]
    detection.results.clear()
    with pytest.raises(MessageError, match=r"detections\[0\]\.results is empty"):
        detections_from_msg(msg)
    detection.results.append(second)
    detection.bbox.size_x = -3.0
    with pytest.raises(MessageError, match=r"detections\[0\]\.bbox has a negative size"):
        detections_from_msg(msg)
    detection.bbox.size_x = math.inf
    with pytest.raises(MessageError, match=r"detections\[0\]\.bbox is not finite"):
        detections_from_msg(msg)


# --- images ------------------------------------------------------------------------------------


def test_image_encodings(store: Any, clip_frames: list[tuple[int, np.ndarray]]) -> None:
    ns, image = clip_frames[0]
    for encoding in ("bgr8", "rgb8"):
        np.testing.assert_array_equal(image_to_bgr(_image_msg(store, ns, image, encoding)), image)
    mono = image_to_bgr(_image_msg(store, ns, image, "mono8"))
    assert mono.shape == image.shape and (mono == image[:, :, :1]).all()
    # Rows padded to a longer step.
    small = image[:4, :5]
    padded = np.zeros((4, 16, 3), dtype=np.uint8)
    padded[:, :5] = small
    msg = _image_msg(store, ns, small)
    msg.step, msg.data = padded.strides[0], padded.reshape(-1)
    np.testing.assert_array_equal(image_to_bgr(msg), small)
    np.testing.assert_array_equal(image_to_bgr(_png_msg(store, ns, image)), image)
    msg.encoding = "mono16"
    with pytest.raises(ImageError, match="encoding 'mono16' is not supported"):
        image_to_bgr(msg)
    msg = _image_msg(store, ns, small)
    msg.data = msg.data[:10]
    with pytest.raises(ImageError, match="data has 10 bytes"):
        image_to_bgr(msg)
    broken = _png_msg(store, ns, small)
    broken.data = broken.data[:20]
    with pytest.raises(ImageError, match="cannot be decoded"):
        image_to_bgr(broken)


# --- vtrack track on bags ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video_run(tmp_path_factory: pytest.TempPathFactory, videos_dir: Path, yolo_weights: Path) -> list[dict]:
    """tracks.jsonl of ``vtrack track`` on the first CLIP_FRAMES frames of the video itself."""
    out = tmp_path_factory.mktemp("video") / "run"
    status, _ = _track(videos_dir / "test_small2.mp4", out, "--max-frames", str(CLIP_FRAMES), weights=yolo_weights)
    assert status == 0
    records = _jsonl(out)
    assert len(records) == CLIP_FRAMES
    assert sum(len(r["tracks"]) for r in records) >= 2 * (CLIP_FRAMES - 2)  # two cars from the 3rd frame
    return records


def test_bag_in_bag_out_matches_video_run(
    tmp_path: Path, store: Any, clip_frames: list[tuple[int, np.ndarray]], video_run: list[dict], yolo_weights: Path
) -> None:
    bag = _write_bag(tmp_path / "recording", store, clip_frames)
    out, bag_out = tmp_path / "run", tmp_path / "tracks_bag"
    status, stdout = _track(bag, out, "--image-topic", TOPIC, "--bag-out", str(bag_out), weights=yolo_weights)
    assert status == 0
    assert f"{CLIP_FRAMES} frames of {bag}:{TOPIC}" in stdout and str(bag_out) in stdout
    assert "dropped" not in stdout
    records = _jsonl(out)
    assert [r["timestamp"] for r in records] == [ns / NS_PER_S for ns, _ in clip_frames]
    _assert_same_tracks(records, video_run)

    messages = _read_bag(bag_out, store)
    assert [topic for topic, _, _ in messages] == [f"{TOPIC}/tracks"] * CLIP_FRAMES
    # Recorded at the images' receive times, stamped with the images' headers.
    assert [log_ns for _, log_ns, _ in messages] == [EPOCH_NS + i * NS_PER_S // 10 for i in range(CLIP_FRAMES)]
    assert [time_to_ns(msg.header.stamp) for _, _, msg in messages] == [ns for ns, _ in clip_frames]
    assert {msg.header.frame_id for _, _, msg in messages} == {FRAME_ID}
    for (_, _, msg), record in zip(messages, video_run, strict=True):
        ids, boxes = tracks_from_msg(msg)
        assert ids.tolist() == [t["id"] for t in record["tracks"]]
        assert boxes.class_ids.tolist() == [t["class_id"] for t in record["tracks"]]
        expected = np.array([t["xyxy"] for t in record["tracks"]]).reshape(-1, 4)
        np.testing.assert_allclose(boxes.xyxy, expected, atol=BOX_ATOL)
        assert all(time_to_ns(d.header.stamp) == time_to_ns(msg.header.stamp) for d in msg.detections)


def test_compressed_images_in_a_single_mcap_file(
    tmp_path: Path, store: Any, clip_frames: list[tuple[int, np.ndarray]], video_run: list[dict], yolo_weights: Path
) -> None:
    from rosbags.rosbag2 import StoragePlugin

    bag = _write_bag(
        tmp_path / "png", store, clip_frames, _png_msg, topic=COMPRESSED_TOPIC, storage_plugin=StoragePlugin.MCAP
    )
    (mcap,) = bag.glob("*.mcap")
    out, bag_out = tmp_path / "run", tmp_path / "tracks_mcap"
    # The bag's only image topic is picked without --image-topic; the output goes to --tracks-topic as MCAP.
    extra = ("--bag-out", str(bag_out), "--tracks-topic", "/tracks", "--bag-storage", "mcap")
    status, _ = _track(mcap, out, *extra, weights=yolo_weights)
    assert status == 0
    _assert_same_tracks(_jsonl(out), video_run)
    assert list(bag_out.glob("*.mcap"))
    messages = _read_bag(bag_out, store)
    assert [topic for topic, _, _ in messages] == ["/tracks"] * CLIP_FRAMES
    assert [time_to_ns(msg.header.stamp) for _, _, msg in messages] == [ns for ns, _ in clip_frames]


def test_out_of_order_and_duplicate_stamps_are_dropped(
    tmp_path: Path,
    store: Any,
    clip_frames: list[tuple[int, np.ndarray]],
    yolo_weights: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (ns0, a), (ns1, b), (ns2, c) = clip_frames[:3]
    # Receive order: 0, 1, 1 again (duplicate stamp), 0 again (older), 2.
    frames = [(ns0, a), (ns1, b), (ns1, c), (ns0, c), (ns2, c)]
    bag = _write_bag(tmp_path / "jumbled", store, frames)
    with caplog.at_level(logging.WARNING), BagSource(bag, TOPIC) as source:
        kept = list(source)
    assert [frame.timestamp for frame in kept] == [ns0 / NS_PER_S, ns1 / NS_PER_S, ns2 / NS_PER_S]
    assert [frame.index for frame in kept] == [0, 1, 2]
    np.testing.assert_array_equal(kept[1].image, b)
    assert isinstance(kept[2].info, BagImageInfo) and time_to_ns(kept[2].info.header.stamp) == ns2
    assert source.dropped == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("not after the previous image" in w and "dropped" in w for w in warnings)
    assert f"{bag}:{TOPIC}: image 2 stamped {ns1} ns" in warnings[0]

    out = tmp_path / "run"
    status, stdout = _track(bag, out, "--image-topic", TOPIC, "--bag-out", str(tmp_path / "t"), weights=yolo_weights)
    assert status == 0
    assert "3 frames of" in stdout and "dropped:  2 frames" in stdout
    assert [r["timestamp"] for r in _jsonl(out)] == [ns0 / NS_PER_S, ns1 / NS_PER_S, ns2 / NS_PER_S]
    assert [time_to_ns(m.header.stamp) for _, _, m in _read_bag(tmp_path / "t", store)] == [ns0, ns1, ns2]


def test_missing_topic_lists_the_image_topics(
    tmp_path: Path, store: Any, clip_frames: list[tuple[int, np.ndarray]], capsys: pytest.CaptureFixture
) -> None:
    bag = _write_bag(tmp_path / "bag", store, clip_frames[:2])
    out = tmp_path / "out"
    assert main(["track", str(bag), "--image-topic", "/camera/nope", "--out", str(out)]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1, errors
    assert f"{bag}: no topic '/camera/nope'; image topics in the bag: {TOPIC} ({IMAGE})" in errors[0]
    assert not out.exists()
    # A topic that is not an image, and no --image-topic with two image topics.
    assert main(["track", str(bag), "--image-topic", "/rosout_like", "--out", str(out)]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "topic /rosout_like is a std_msgs/msg/String, not an image" in errors[0]
    with Writer(tmp_path / "two", version=8) as writer:
        for topic in ("/left/image", "/right/image"):
            connection = writer.add_connection(topic, IMAGE, typestore=store)
            msg = _image_msg(store, EPOCH_NS, clip_frames[0][1])
            writer.write(connection, EPOCH_NS, store.serialize_cdr(msg, IMAGE))
    assert main(["track", str(tmp_path / "two"), "--out", str(out)]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "choose the image topic with --image-topic" in errors[0]
    assert f"/left/image ({IMAGE}), /right/image ({IMAGE})" in errors[0]
    assert not out.exists()


def test_bag_out_refuses_an_existing_path(
    tmp_path: Path, store: Any, clip_frames: list[tuple[int, np.ndarray]], capsys: pytest.CaptureFixture
) -> None:
    bag = _write_bag(tmp_path / "bag", store, clip_frames[:2])
    existing = tmp_path / "mine"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    out = tmp_path / "out"
    assert main(["track", str(bag), "--image-topic", TOPIC, "--out", str(out), "--bag-out", str(existing)]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and f"--bag-out {existing}: exists" in errors[0] and "never overwritten" in errors[0]
    assert [p.name for p in existing.iterdir()] == ["notes.txt"] and not out.exists()
    with pytest.raises(FileExistsError, match="never overwritten"):
        TracksBagWriter(existing, "/tracks")
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_a_tracks_bag_reads_with_load_typestore_not_with_a_stock_typestore(
    tmp_path: Path, store: Any, storage: str
) -> None:
    """The README's recipe for reading a ``--bag-out`` bag, and why it is needed."""
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    tracks = tracker.Tracks(
        ids=[7, 12], xyxy=[[10.0, 20.0, 110.0, 90.0], [300.0, 200.0, 420.5, 300.25]], scores=[0.9, 0.5],
        class_ids=[2, 7], det_index=[0, 1], state=[1, 1], age=[1.0, 0.1], hits=[10, 1],
    )  # fmt: skip
    with TracksBagWriter(tmp_path / "tracks", "/camera/image_raw/tracks", storage=storage) as writer:
        writer.write(BagImageInfo(_header(store, EPOCH_NS), EPOCH_NS + 5, TOPIC), tracks)
    stock = get_typestore(Stores.ROS2_HUMBLE)
    with Reader(tmp_path / "tracks") as reader:
        (connection, _, raw), *_ = list(reader.messages())
    assert connection.msgtype == DETECTIONS
    with pytest.raises(KeyError, match=DETECTIONS):
        stock.deserialize_cdr(raw, connection.msgtype)

    typestore = load_typestore()  # the README's recipe
    with Reader(tmp_path / "tracks") as reader:
        messages = [typestore.deserialize_cdr(raw, c.msgtype) for c, _, raw in reader.messages()]
    ids, boxes = tracks_from_msg(messages[0])
    assert ids.tolist() == [7, 12] and time_to_ns(messages[0].header.stamp) == EPOCH_NS
    np.testing.assert_array_equal(boxes.xyxy, tracks.xyxy)
    # rosbags' AnyReader registers the definitions the bag carries, so it needs no typestore of ours
    with AnyReader([tmp_path / "tracks"], default_typestore=stock) as reader:
        (connection, _, raw), *_ = list(reader.messages())
        assert tracks_from_msg(reader.deserialize(raw, connection.msgtype)).ids.tolist() == [7, 12]


def test_bag_options_need_a_bag_source(tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture) -> None:
    video, out = videos_dir / "test_small2.mp4", tmp_path / "out"
    assert main(["track", str(video), "--out", str(out), "--bag-out", str(tmp_path / "b")]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "--bag-out" in errors[0] and "needs a rosbag2 SOURCE" in errors[0]
    assert main(["track", str(video), "--out", str(out), "--image-topic", TOPIC]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "--image-topic is only for rosbag2 sources" in errors[0]
    assert not out.exists() and not (tmp_path / "b").exists()
    with pytest.raises(Exception, match="only for rosbag2"):
        open_source(video, SourceConfig(image_topic=TOPIC))


# --- the node's handler -------------------------------------------------------------------------


def _moving_car(store: Any, classes: Any, step: int, frame_id: str = FRAME_ID, ns: int | None = None) -> Any:
    ns = EPOCH_NS + step * NS_PER_S // 10 if ns is None else ns
    boxes = [[100 + 8 * step, 100, 180 + 8 * step, 160], [600, 300, 700, 380]]
    return detections_to_msg(tracker.Detections(boxes, [0.9, 0.8], [2, 7]), _header(store, ns, frame_id), classes)


def test_handler_tracks_per_camera_and_drops_old_stamps(
    store: Any, classes: Any, caplog: pytest.LogCaptureFixture
) -> None:
    handler = TrackingHandler(classes, "default", {"min_hits": 1})
    first = _moving_car(store, classes, 0)
    out = handler.handle(first)
    assert out.header is first.header
    ids, boxes = tracks_from_msg(out)
    assert ids.tolist() == [1, 2] and boxes.class_ids.tolist() == [2, 7]
    np.testing.assert_allclose(boxes.xyxy, detections_from_msg(first).xyxy)
    # A second camera has its own tracker (IDs are per camera).
    other = handler.handle(_moving_car(store, classes, 0, frame_id="camera_rear"))
    assert tracks_from_msg(other).ids.tolist() == [1, 2]
    assert sorted(handler.cameras) == ["camera_front", "camera_rear"]
    for step in (1, 2):
        assert tracks_from_msg(handler.handle(_moving_car(store, classes, step))).ids.tolist() == [1, 2]
    with caplog.at_level(logging.WARNING):
        assert handler.handle(_moving_car(store, classes, 1)) is None  # older
        assert handler.handle(_moving_car(store, classes, 2)) is None  # duplicate
    assert handler.stats.dropped == 2 and handler.stats.handled == 4
    assert "camera 'camera_front': dropped detections" in caplog.text
    # The tracker's time is unharmed: the next frame tracks on.
    assert tracks_from_msg(handler.handle(_moving_car(store, classes, 3))).ids.tolist() == [1, 2]
    bad = _moving_car(store, classes, 4)
    bad.detections[0].results.clear()
    with pytest.raises(MessageError, match=r"detections\[0\]\.results is empty"):
        handler.handle(bad)
    assert tracks_from_msg(handler.handle(_moving_car(store, classes, 4))).ids.tolist() == [1, 2]
    # After a reset (e.g. a bag played again) earlier stamps are accepted by new trackers.
    handler.reset()
    assert handler.cameras == []
    assert tracks_from_msg(handler.handle(_moving_car(store, classes, 0))).ids.tolist() == [1, 2]
    # One tracker for all frame_ids.
    shared = TrackingHandler(classes, per_frame_id=False)
    shared.handle(_moving_car(store, classes, 0, frame_id="a"))
    assert shared.handle(_moving_car(store, classes, 0, frame_id="b")) is None
    assert shared.cameras == [""]
    with pytest.raises(ValueError, match="unknown tracker 'sorty'"):
        TrackingHandler(classes, "sorty")
    with pytest.raises(tracker.ConfigError, match="max_age"):
        TrackingHandler(classes, "default", {"max_age": 3})


def test_handler_camera_motion_uses_the_image_with_the_same_stamp(
    store: Any, classes: Any, clip_frames: list[tuple[int, np.ndarray]]
) -> None:
    handler = TrackingHandler(classes, camera_motion=True, image_buffer_size=2)
    for step, (ns, image) in enumerate(clip_frames[:4]):
        handler.add_image(_png_msg(store, ns, image) if step % 2 else _image_msg(store, ns, image))
        assert handler.handle(_moving_car(store, classes, step, ns=ns)) is not None
    assert handler.stats.without_image == 0
    # Detections whose image never came are tracked without compensation; the buffer stays bounded.
    for ns, image in clip_frames[4:7]:
        handler.add_image(_image_msg(store, ns, image))
    assert handler.handle(_moving_car(store, classes, 9, ns=clip_frames[7][0])) is not None
    assert handler.stats.without_image == 1 and handler.pending_images == 2
    plain = TrackingHandler(classes)
    plain.add_image(_image_msg(store, clip_frames[0][0], clip_frames[0][1]))
    assert plain.pending_images == 0


# --- the example rclpy node, against stand-in rclpy modules --------------------------------------


class _Publisher:
    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, msg: Any) -> None:
        self.published.append(msg)


class _Node:
    """The part of ``rclpy.node.Node`` the example uses; parameters come from ``overrides``."""

    overrides: dict[str, Any] = {}

    def __init__(self, name: str) -> None:
        self.name = name
        self.publishers: dict[str, _Publisher] = {}
        self.subscriptions: dict[str, tuple[Any, Callable[[Any], None]]] = {}

    def declare_parameter(self, name: str, value: Any) -> Any:
        return types.SimpleNamespace(value=self.overrides.get(name, value))

    def create_publisher(self, msg_type: Any, topic: str, depth: int) -> _Publisher:
        self.publishers[topic] = _Publisher()
        return self.publishers[topic]

    def create_subscription(self, msg_type: Any, topic: str, callback: Callable[[Any], None], depth: int) -> None:
        self.subscriptions[topic] = (msg_type, callback)

    def get_logger(self) -> logging.Logger:
        return logging.getLogger(f"fake_rclpy.{self.name}")


@pytest.fixture
def example_node(monkeypatch: pytest.MonkeyPatch, store: Any, repo_root: Path) -> Any:
    """The example node module, imported with stand-ins for rclpy and the ROS message packages."""
    modules = {
        "rclpy": types.ModuleType("rclpy"),
        "rclpy.node": types.ModuleType("rclpy.node"),
        "rosidl_runtime_py": types.ModuleType("rosidl_runtime_py"),
        "rosidl_runtime_py.utilities": types.ModuleType("rosidl_runtime_py.utilities"),
        "sensor_msgs": types.ModuleType("sensor_msgs"),
        "sensor_msgs.msg": types.ModuleType("sensor_msgs.msg"),
        "vision_msgs": types.ModuleType("vision_msgs"),
        "vision_msgs.msg": types.ModuleType("vision_msgs.msg"),
    }
    modules["rclpy.node"].Node = _Node
    modules["rosidl_runtime_py.utilities"].get_message = store.types.__getitem__
    modules["sensor_msgs.msg"].Image = store.types[IMAGE]
    modules["sensor_msgs.msg"].CompressedImage = store.types[COMPRESSED]
    modules["vision_msgs.msg"].Detection2DArray = store.types[DETECTIONS]
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("vtrack_node_example", repo_root / "examples/ros2/vtrack_node.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_node_publishes_tracks_with_the_input_header(
    example_node: Any, store: Any, classes: Any, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = {
        "tracker": "sort",
        "config": str(repo_root / "configs/sort.yaml"),
        "detections_topic": "/det",
        "tracks_topic": "/trk",
    }
    monkeypatch.setattr(_Node, "overrides", overrides)
    node = example_node.TrackingNode()
    assert list(node.subscriptions) == ["/det"] and list(node.publishers) == ["/trk"]
    callback = node.subscriptions["/det"][1]
    messages = [_moving_car(store, classes, step) for step in range(4)]
    for msg in messages:
        callback(msg)
    callback(messages[1])  # out of order: nothing published
    bad = _moving_car(store, classes, 5)
    bad.detections[1].results.clear()
    callback(bad)  # logged and skipped
    published = node.publishers["/trk"].published
    assert len(published) == 4
    assert [p.header for p in published] == [m.header for m in messages]
    assert [tracks_from_msg(p).ids.tolist() for p in published] == [[], [], [1, 2], [1, 2]]
    store.serialize_cdr(published[-1], DETECTIONS)  # a valid message of the registered type


def test_example_node_with_images_and_without_ros(
    example_node: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_Node, "overrides", {"image_topic": "/img", "compressed_image": True})
    node = example_node.TrackingNode()
    assert node.handler.camera_motion
    assert node.subscriptions["/img"][0].__msgtype__ == COMPRESSED
    monkeypatch.setattr(example_node, "_MISSING", ImportError("No module named 'rclpy'"))
    with caplog.at_level(logging.ERROR):
        assert example_node.main([]) == example_node.EXIT_NO_ROS
    assert "needs a sourced ROS 2 environment" in caplog.text
