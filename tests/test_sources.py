"""Frame sources on real data: a dashcam clip, the KITTI raw frame folder, MOT17 sequences; and bad input."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.app.sources import (
    FolderSource,
    SourceConfig,
    SourceError,
    VideoSource,
    open_source,
)

pytestmark = pytest.mark.needs_yolo("cv2")

CLIP_FRAMES = 100  # frames that decode from test_small2.mp4 (its header announces 116)
CLIP_HEADER_FRAMES = 116
CLIP_FPS = 25.0
KITTI_FRAMES = 78


@pytest.fixture(scope="module")
def clip(videos_dir: Path) -> Path:
    return videos_dir / "test_small2.mp4"


@pytest.fixture(scope="module")
def mot_sequence(shared_dir: Path) -> Path:
    return shared_dir / "data" / "MOT17-mini" / "train" / "MOT17-02-FRCNN"


def _write_png(path: Path, width: int, height: int, value: int) -> None:
    assert cv2.imwrite(str(path), np.full((height, width, 3), value, dtype=np.uint8))


def test_video_frames_sizes_and_timestamps(clip: Path, caplog: pytest.LogCaptureFixture) -> None:
    with open_source(str(clip)) as source:
        assert isinstance(source, VideoSource)
        assert (source.width, source.height, source.fps, source.length) == (1280, 720, CLIP_FPS, CLIP_HEADER_FRAMES)
        frames = list(source)
    assert [f.index for f in frames] == list(range(CLIP_FRAMES))
    times = np.array([f.timestamp for f in frames])
    np.testing.assert_allclose(times, np.arange(CLIP_FRAMES) / CLIP_FPS, atol=1e-6)
    assert all(f.image.shape == (720, 1280, 3) and f.image.dtype == np.uint8 for f in frames)
    # 100 of 116 announced frames is within the default tolerance: no warning.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    reference = cv2.VideoCapture(str(clip))
    for frame in frames[:3]:
        ok, image = reference.read()
        assert ok and np.array_equal(image, frame.image)
    reference.release()


def test_video_ending_early_warns_by_fraction(clip: Path, caplog: pytest.LogCaptureFixture) -> None:
    with open_source(clip, SourceConfig(truncation_warn_fraction=0.9)) as source:
        assert len(list(source)) == CLIP_FRAMES
    assert f"{clip}: decoding stopped after {CLIP_FRAMES} of the {CLIP_HEADER_FRAMES} frames" in caplog.text


def test_truncated_video_yields_decoded_frames_and_warns(damaged_video, caplog: pytest.LogCaptureFixture) -> None:
    path = damaged_video(keep=0.5)
    with open_source(path) as source:
        frames = list(source)
    assert 0 < len(frames) < CLIP_FRAMES / 2 + 10
    assert all(b.timestamp > a.timestamp for a, b in zip(frames, frames[1:], strict=False))
    assert f"{path}: decoding stopped after {len(frames)} of the {CLIP_HEADER_FRAMES} frames" in caplog.text


def test_video_without_decodable_frames_is_an_error(damaged_video) -> None:
    path = damaged_video(keep=0.0)
    with pytest.raises(SourceError, match=f"^{path}: no frame could be decoded .*116 frames.*truncated or corrupt"):
        open_source(path)


def test_garbage_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x01 definitely not a video " * 20)
    with pytest.raises(SourceError, match=f"^{path}: cannot open as a video"):
        open_source(path)


def test_source_is_single_pass(clip: Path) -> None:
    with open_source(clip) as source:
        next(iter(source))
        with pytest.raises(RuntimeError, match="only once"):
            iter(source).__next__()


def test_kitti_folder_order_and_timestamps(videos_dir: Path) -> None:
    folder = videos_dir / "kitti_raw_2011_09_26"
    with open_source(folder, SourceConfig(fps=10.0)) as source:
        assert isinstance(source, FolderSource)
        assert (source.width, source.height, source.fps, source.length) == (1242, 375, 10.0, KITTI_FRAMES)
        assert [p.name for p in source.files] == sorted(p.name for p in folder.glob("*.png"))
        frames = list(source)
    np.testing.assert_allclose([f.timestamp for f in frames], np.arange(KITTI_FRAMES) / 10.0)
    assert np.array_equal(frames[5].image, cv2.imread(str(source.files[5])))


def test_folder_without_rate_warns_and_uses_fallback(videos_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = open_source(videos_dir / "kitti_raw_2011_09_26", SourceConfig(fallback_fps=5.0))
    assert source.fps == 5.0
    assert "no frame rate given (--fps) and no seqinfo.ini; assuming 5 Hz" in caplog.text


def test_folder_sorts_numbers_as_numbers_and_skips_other_files(tmp_path: Path) -> None:
    for number in (10, 2, 1):
        _write_png(tmp_path / f"frame_{number}.png", 8, 6, number)
    (tmp_path / "notes.txt").write_text("not a frame")
    with open_source(tmp_path, SourceConfig(fps=2.0)) as source:
        frames = list(source)
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert [f.timestamp for f in frames] == [0.0, 0.5, 1.0]


def test_mot_sequence_reads_img1_and_seqinfo_rate(mot_sequence: Path) -> None:
    with open_source(mot_sequence) as source:
        assert source.fps == 30.0  # frameRate in seqinfo.ini
        assert (source.width, source.height) == (1920, 1080)
        assert all(p.parent.name == "img1" for p in source.files)
        times = [f.timestamp for f in source]
    np.testing.assert_allclose(times, np.arange(len(times)) / 30.0)
    assert open_source(mot_sequence, SourceConfig(fps=12.5)).fps == 12.5


def test_mot_layout_without_seqinfo(tmp_path: Path) -> None:
    (tmp_path / "img1").mkdir()
    _write_png(tmp_path / "img1" / "000001.png", 8, 6, 0)
    source = open_source(tmp_path)
    assert source.files == [tmp_path / "img1" / "000001.png"]


def test_malformed_seqinfo_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "img1").mkdir()
    _write_png(tmp_path / "img1" / "000001.png", 8, 6, 0)
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nframeRate=fast\n")
    with pytest.raises(SourceError, match=f"^{tmp_path / 'seqinfo.ini'}: frameRate must be a number"):
        open_source(tmp_path)
    (tmp_path / "seqinfo.ini").write_text("[Seq]\nframeRate=30\n")
    with pytest.raises(SourceError, match=rf"^{tmp_path / 'seqinfo.ini'}: no \[Sequence\] section$"):
        open_source(tmp_path)


def test_seqinfo_without_frame_rate_is_named_in_the_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "img1").mkdir()
    _write_png(tmp_path / "img1" / "000001.png", 8, 6, 0)
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nname=x\n")
    assert open_source(tmp_path, SourceConfig(fallback_fps=5.0)).fps == 5.0
    assert f"no frame rate given (--fps) and {tmp_path / 'seqinfo.ini'} has no frameRate; assuming 5 Hz" in caplog.text
    assert "no seqinfo.ini" not in caplog.text


def test_seqinfo_image_dir_is_taken_literally(tmp_path: Path) -> None:
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nimDir=%(foo)s\nframeRate=10\n")
    with pytest.raises(
        SourceError, match=rf"^{tmp_path / 'seqinfo.ini'}: imDir '%\(foo\)s' is not a folder next to it$"
    ):
        open_source(tmp_path)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no frames here")
    with pytest.raises(SourceError, match=f"^{tmp_path}: no image files in this folder"):
        open_source(tmp_path)


def test_frame_size_change_names_file_and_sizes(tmp_path: Path) -> None:
    for number, width in enumerate((32, 32, 40, 32)):
        _write_png(tmp_path / f"{number:06d}.png", width, 24, number)
    with open_source(tmp_path, SourceConfig(fps=10.0)) as source:
        frames = iter(source)
        assert [next(frames).index, next(frames).index] == [0, 1]
        with pytest.raises(SourceError, match=r"000002\.png: frame size changed mid-stream from 32x24 to 40x24$"):
            next(frames)


def test_unreadable_image_names_file(tmp_path: Path) -> None:
    _write_png(tmp_path / "000000.png", 8, 6, 0)
    (tmp_path / "000001.png").write_bytes(b"not a png")
    with (
        open_source(tmp_path, SourceConfig(fps=10.0)) as source,
        pytest.raises(SourceError, match=r"000001\.png: cannot read"),
    ):
        list(source)


def test_missing_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=f"^{tmp_path / 'missing.mp4'}: no such file or folder$"):
        open_source(tmp_path / "missing.mp4")


def test_digit_string_is_a_camera_index_unless_it_is_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SourceError, match="^camera 97: cannot open"):
        open_source("97")
    (tmp_path / "97").mkdir()
    _write_png(tmp_path / "97" / "0.png", 8, 6, 0)
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_source("97", SourceConfig(fps=1.0)), FolderSource)


def test_invalid_config_values() -> None:
    with pytest.raises(ValueError, match="fps must be a positive"):
        SourceConfig(fps=0.0)
    with pytest.raises(ValueError, match="truncation_warn_fraction"):
        SourceConfig(truncation_warn_fraction=1.5)
