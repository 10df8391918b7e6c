"""Result writers (MOTChallenge text, JSON lines) and the annotated frames."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker import Tracks, TrackState
from tracker.app.render import RenderConfig, TrackRenderer, VideoWriter, track_color
from tracker.app.writers import JsonlWriter, MotRow, MotWriter, format_mot_row, mot_rows, read_mot, write_mot

pytestmark = pytest.mark.needs_yolo("cv2")


def _tracks(ids, xyxy, scores=None, class_ids=None, det_index=None, state=None) -> Tracks:
    n = len(ids)
    return Tracks(
        ids=ids,
        xyxy=np.asarray(xyxy, dtype=np.float32).reshape(n, 4),
        scores=scores if scores is not None else np.full(n, 0.9),
        class_ids=class_ids if class_ids is not None else np.full(n, 2),
        det_index=det_index if det_index is not None else np.arange(n),
        state=state if state is not None else np.full(n, TrackState.CONFIRMED),
        age=np.zeros(n),
        hits=np.full(n, 3),
    )


def test_format_mot_row_columns() -> None:
    row = MotRow(3, 7, 10.0, 20.5, 30.25, 40.0, 0.876543, 2)
    assert format_mot_row(row) == "3,7,10.00,20.50,30.25,40.00,0.8765,2,-1,-1"
    assert format_mot_row((1, 2, 0, 0, 1, 1, 1)) == "1,2,0.00,0.00,1.00,1.00,1.0000,-1,-1,-1"


def test_mot_rows_convert_xyxy_to_tlwh() -> None:
    tracks = _tracks([5, 9], [[10, 20, 40, 60], [0, 0, 1.5, 2.5]], scores=np.array([0.5, 0.25]), class_ids=[2, 7])
    assert mot_rows(4, tracks) == [MotRow(4, 5, 10, 20, 30, 40, 0.5, 2), MotRow(4, 9, 0, 0, 1.5, 2.5, 0.25, 7)]
    assert mot_rows(1, Tracks.empty()) == []


def test_write_read_round_trip(tmp_path: Path) -> None:
    rows = [MotRow(1, 1, 100.25, 50.5, 20.0, 10.0, 0.9, 2), MotRow(2, 1, 101.0, 51.0, 20.5, 10.25, 0.875, 2)]
    path = tmp_path / "tracks.txt"
    assert write_mot(path, rows) == 2
    lines = path.read_text().splitlines()
    assert [len(line.split(",")) for line in lines] == [10, 10]
    assert read_mot(path) == rows


def test_write_mot_never_replaces_without_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "tracks.txt"
    path.write_text("precious\n")
    with pytest.raises(FileExistsError):
        write_mot(path, [MotRow(1, 1, 0, 0, 1, 1, 1, 2)])
    assert path.read_text() == "precious\n"
    write_mot(path, [MotRow(1, 1, 0, 0, 1, 1, 1, 2)], overwrite=True)
    assert read_mot(path) == [MotRow(1, 1, 0, 0, 1, 1, 1, 2)]


def test_read_mot_reads_real_motchallenge_files(shared_dir: Path) -> None:
    sequence = shared_dir / "data" / "MOT17-mini" / "train" / "MOT17-02-FRCNN"
    gt = read_mot(sequence / "gt" / "gt.txt")
    raw = np.loadtxt(sequence / "gt" / "gt.txt", delimiter=",")
    assert len(gt) == len(raw) > 0
    assert [r.frame for r in gt] == raw[:, 0].astype(int).tolist()
    assert [r.class_id for r in gt] == raw[:, 7].astype(int).tolist()
    np.testing.assert_allclose([r[2:6] for r in gt], raw[:, 2:6])


def test_read_mot_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("1,1,0,0,1,1,0.5,2,-1,-1\n\n1,2,0,zero,1,1,0.5\n")
    with pytest.raises(ValueError, match=r"bad\.txt:3: could not convert"):
        read_mot(path)
    path.write_text("1,1,0,0\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: expected at least 7 columns, got 4"):
        read_mot(path)


def test_streaming_writers(tmp_path: Path) -> None:
    first = _tracks([1, 2], [[0, 0, 10, 10], [5, 5, 25, 45]], class_ids=[2, 99])
    lost = _tracks([1], [[1, 1, 11, 11]], det_index=[-1], state=[TrackState.LOST])
    with MotWriter(tmp_path / "t.txt") as mot, JsonlWriter(tmp_path / "t.jsonl", {2: "car"}) as jsonl:
        for frame, (timestamp, tracks) in enumerate([(0.0, first), (0.1, Tracks.empty()), (0.2, lost)], start=1):
            mot.write(frame, tracks)
            jsonl.write(frame, timestamp, tracks)

    assert [(r.frame, r.track_id) for r in read_mot(tmp_path / "t.txt")] == [(1, 1), (1, 2), (3, 1)]
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [(r["frame"], r["timestamp"], len(r["tracks"])) for r in records] == [(1, 0.0, 2), (2, 0.1, 0), (3, 0.2, 1)]
    assert records[0]["tracks"][1] == {
        "id": 2,
        "xyxy": [5.0, 5.0, 25.0, 45.0],
        "score": 0.9,
        "class_id": 99,
        "class_name": "99",
        "det_index": 1,
        "predicted": False,
        "state": "confirmed",
    }
    assert records[0]["tracks"][0]["class_name"] == "car"
    assert records[2]["tracks"][0]["det_index"] == -1 and records[2]["tracks"][0]["state"] == "lost"
    with pytest.raises(FileExistsError):
        MotWriter(tmp_path / "t.txt")


def test_every_frame_reaches_the_file_when_written(tmp_path: Path) -> None:
    """A process killed between frames (SIGKILL, power loss) keeps every frame already written."""
    tracks = _tracks([4], [[10, 20, 50, 80]])
    with MotWriter(tmp_path / "t.txt") as mot, JsonlWriter(tmp_path / "t.jsonl", {2: "car"}) as jsonl:
        for frame in (1, 2):
            mot.write(frame, tracks)
            jsonl.write(frame, frame / 10, tracks)
            assert (tmp_path / "t.txt").read_text().count("\n") == frame  # read through another handle
            assert len((tmp_path / "t.jsonl").read_text().splitlines()) == frame


def test_track_colors_are_stable_and_distinct() -> None:
    colors = [track_color(i) for i in range(1, 21)]
    assert colors == [track_color(i) for i in range(1, 21)]
    assert len(set(colors)) == 20
    assert all(0 <= c <= 255 for color in colors for c in color)


def test_renderer_draws_boxes_labels_and_one_second_trails(videos_dir: Path) -> None:
    frame = cv2.imread(str(videos_dir / "kitti_raw_2011_09_26" / "0000000000.png"))
    renderer = TrackRenderer({2: "car"}, RenderConfig(status_line=False))
    color = np.array(track_color(4))
    # Track 4 moves right by 20 px per 0.25 s; track 8 appears once.
    for step in range(6):
        x = 400 + 20 * step
        tracks = _tracks([4], [[x, 150, x + 100, 250]])
        out = renderer.draw(frame, step + 1, 0.25 * step, tracks)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert not np.array_equal(out, frame) and np.array_equal(
        frame, cv2.imread(str(videos_dir / "kitti_raw_2011_09_26" / "0000000000.png"))
    )
    # Box edges in the track's colour (bottom edge, away from the label).
    np.testing.assert_array_equal(out[250, 560:590], np.tile(color, (30, 1)))
    # Trail: centres of the last second (steps 1..5, x centre 470..550) lie on row 200.
    trail_row = out[200]
    assert (np.abs(trail_row[475:545].astype(int) - color).sum(axis=1) < 60).all()
    assert not (np.abs(trail_row[440:455].astype(int) - color).sum(axis=1) < 60).any()  # step 0 aged out
    # Label "4 car" on a filled box of the track colour above the box's top-left corner.
    label = out[130:150, 500:560]
    assert (np.abs(label.astype(int) - color).sum(axis=2) < 10).mean() > 0.5


def test_label_stays_inside_image_for_boxes_past_the_edge(videos_dir: Path) -> None:
    frame = cv2.imread(str(videos_dir / "kitti_raw_2011_09_26" / "0000000000.png"))
    renderer = TrackRenderer({2: "car"}, RenderConfig(status_line=False))
    out = renderer.draw(frame, 1, 0.0, _tracks([3], [[-50, -30, 80, 120]]))
    color = np.array(track_color(3))
    assert (np.abs(out[0:10, 0:30].astype(int) - color).sum(axis=2) < 10).mean() > 0.5


def test_video_writer_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    writer = VideoWriter(str(path), 10.0, 64, 48)
    for value in range(5):
        writer.write(np.full((48, 64, 3), 50 * value, dtype=np.uint8))
    writer.close()
    cap = cv2.VideoCapture(str(path))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT), cap.get(cv2.CAP_PROP_FPS)) == (
        64,
        48,
        10,
    )
    means = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        means.append(image.mean())
    assert len(means) == 5
    np.testing.assert_allclose(means, [0, 50, 100, 150, 200], atol=5)


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_labels_of_dense_traffic_do_not_cover_each_other() -> None:
    """Ten cars in a queue, boxes overlapping by two thirds: every label keeps its own place."""
    renderer = TrackRenderer({2: "car"}, RenderConfig())
    boxes = [[300 + 20 * k, 200 + 4 * k, 360 + 20 * k, 240 + 4 * k] for k in range(10)]
    tracks = _tracks(list(range(1, 11)), boxes)
    labels = renderer.place_labels((375, 1242, 3), tracks, status="frame 1  0.00 s  10 tracks")
    assert sorted(track_id for track_id, _, _ in labels) == list(range(1, 11))
    rects = [rect for _, _, rect in labels]
    for i, rect in enumerate(rects):
        assert 0 <= rect[0] < rect[2] <= 1242 and 0 <= rect[1] < rect[3] <= 375
        assert not any(_overlap(rect, other) for other in rects[i + 1 :])
    texts = {track_id: text for track_id, text, _ in labels}
    assert texts[10] == "10 car"  # the nearest car (lowest box) gets its full label above its box
    # The old placement (always above the top-left corner) put every label on its neighbours'.
    naive = [(b[0], b[1] - 20, b[0] + 60, b[1]) for b in boxes]
    assert any(_overlap(naive[i], naive[i + 1]) for i in range(9))


def test_trails_move_with_the_camera() -> None:
    """A parked car seen by a panning camera slides left 30 px a frame: its compensated trail stays on it."""
    pan = np.array([[1.0, 0.0, -30.0], [0.0, 1.0, 0.0]])
    frame = np.zeros((200, 600, 3), dtype=np.uint8)
    compensated = TrackRenderer({2: "car"}, RenderConfig(status_line=False))
    raw = TrackRenderer({2: "car"}, RenderConfig(status_line=False))
    for step in range(5):
        x = 400 - 30 * step
        tracks = _tracks([1], [[x, 80, x + 60, 120]])
        compensated.draw(frame, step + 1, 0.1 * step, tracks, camera_motion=pan if step else None)
        raw.draw(frame, step + 1, 0.1 * step, tracks)
    np.testing.assert_allclose(compensated.trail(1), np.tile([310.0, 100.0], (5, 1)))
    assert np.ptp(raw.trail(1)[:, 0]) == pytest.approx(120.0)  # image coordinates: a 120 px streak
    assert compensated.trail(99).shape == (0, 2)


def test_video_writer_writes_h264_that_pyav_reads(tmp_path: Path) -> None:
    av = pytest.importorskip("av", reason="H.264 needs PyAV (the yolo extra)")
    path = tmp_path / "odd.mp4"
    writer = VideoWriter(str(path), 25.0, 63, 47)  # odd sizes: padded to 64x48 for yuv420p
    assert writer.codec == "h264"
    for value in range(10):
        writer.write(np.full((47, 63, 3), 20 * value, dtype=np.uint8))
    writer.close()
    writer.close()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (64, 48) and stream.average_rate == 25
        means = [frame.to_ndarray(format="bgr24")[:47, :63].mean() for frame in container.decode(stream)]
    np.testing.assert_allclose(means, [20 * v for v in range(10)], atol=4)


def test_video_writer_falls_back_to_mp4v_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # PyAV not installed
    writer = VideoWriter(str(tmp_path / "old.mp4"), 10.0, 64, 48)
    writer.write(np.zeros((48, 64, 3), dtype=np.uint8))
    writer.close()
    assert writer.codec == "mp4v"
    assert "browsers do not play: PyAV is not installed (pip install av)" in caplog.text
    assert cv2.VideoCapture(str(tmp_path / "old.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 1
