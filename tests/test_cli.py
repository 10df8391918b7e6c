"""``vtrack`` end to end on real footage (YOLOv8n on CPU, a few frames), and every bad-input path.

Runs are in-process through :func:`tracker.app.cli.main`; one test runs the installed
console script to check that an expected error is one line without a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import typing
from contextlib import redirect_stdout
from importlib.metadata import version
from io import StringIO
from pathlib import Path

import cv2
import numpy as np
import pytest

import tracker
from tracker.app.cli import SUBCOMMANDS, main
from tracker.app.config import load_yaml
from tracker.app.track import parse_classes
from tracker.config import from_mapping
from tracker.registry import config_class

pytestmark = pytest.mark.needs_yolo

CLIP_FRAMES = 25
CLIP_FPS = 25.0
KITTI_FRAMES = 10
VEHICLES = {2: "car", 3: "motorcycle", 5: "bus", 7: "truck"}
#: Flags headless Chromium needs on a machine without network or GPU (and as root).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("vtrack track: error:")]


@pytest.fixture(scope="module")
def clip_run(tmp_path_factory: pytest.TempPathFactory, videos_dir: Path, yolo_weights: Path) -> tuple[Path, int, str]:
    """``vtrack track test_small2.mp4`` on its first frames: (out dir, exit status, stdout)."""
    out = tmp_path_factory.mktemp("clip") / "run"
    stdout = StringIO()
    with redirect_stdout(stdout):
        status = main(
            [
                "track",
                str(videos_dir / "test_small2.mp4"),
                "--out",
                str(out),
                "--weights",
                str(yolo_weights),
                "--device",
                "cpu",
                "--max-frames",
                str(CLIP_FRAMES),
            ]
        )
    return out, status, stdout.getvalue()


def _read_txt(path: Path) -> np.ndarray:
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    assert rows.shape[1] == 10
    return rows


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_clip_outputs_and_summary(clip_run: tuple[Path, int, str]) -> None:
    out, status, stdout = clip_run
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "tracks.jsonl", "tracks.mp4", "tracks.txt"]
    assert f"{CLIP_FRAMES} frames of " in stdout
    assert "detector:" in stdout and "ms/frame" in stdout and "tracker:" in stdout
    assert str(out / "tracks.txt") in stdout


def test_clip_mot_txt(clip_run: tuple[Path, int, str]) -> None:
    out, _, stdout = clip_run
    rows = _read_txt(out / "tracks.txt")
    frames, ids = rows[:, 0].astype(int), rows[:, 1].astype(int)
    assert frames.min() >= 1 and frames.max() <= CLIP_FRAMES and (np.diff(frames) >= 0).all()
    left, top, width, height = rows[:, 2:6].T
    assert (width > 0).all() and (height > 0).all()
    assert (left > -width).all() and (left < 1280).all() and (top > -height).all() and (top < 720).all()
    assert ((rows[:, 6] >= 0.25) & (rows[:, 6] <= 1)).all()  # scores above the default conf
    assert set(rows[:, 7].astype(int)) <= set(VEHICLES)
    assert (rows[:, 8:] == -1).all()
    # Two cars are in view for the whole clip: the same two IDs from the 3rd frame (min_hits) to the last.
    per_id = {i: set(frames[ids == i].tolist()) for i in set(ids.tolist())}
    long_lived = [i for i, f in per_id.items() if len(f) >= CLIP_FRAMES - 3]
    assert len(long_lived) >= 2
    assert f"tracks:   {len(per_id)} distinct confirmed IDs" in stdout


def test_clip_jsonl_matches_txt(clip_run: tuple[Path, int, str]) -> None:
    out, _, _ = clip_run
    records = _read_jsonl(out / "tracks.jsonl")
    assert [r["frame"] for r in records] == list(range(1, CLIP_FRAMES + 1))
    np.testing.assert_allclose([r["timestamp"] for r in records], np.arange(CLIP_FRAMES) / CLIP_FPS, atol=1e-6)
    from_jsonl = {(r["frame"], t["id"]): t for r in records for t in r["tracks"]}
    rows = _read_txt(out / "tracks.txt")
    assert set(from_jsonl) == {(int(f), int(i)) for f, i in rows[:, :2]}
    for row in rows:
        track = from_jsonl[int(row[0]), int(row[1])]
        x1, y1, x2, y2 = track["xyxy"]
        np.testing.assert_allclose([x1, y1, x2 - x1, y2 - y1], row[2:6], atol=0.02)
        assert track["class_id"] == int(row[7]) and track["class_name"] == VEHICLES[track["class_id"]]
        assert track["state"] == "confirmed" and track["det_index"] >= 0
        assert track["score"] == pytest.approx(row[6], abs=1e-4)


def test_clip_video(clip_run: tuple[Path, int, str], videos_dir: Path) -> None:
    out, _, _ = clip_run
    cap = cv2.VideoCapture(str(out / "tracks.mp4"))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (1280, 720)
    assert cap.get(cv2.CAP_PROP_FPS) == CLIP_FPS
    frames = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        frames.append(image)
    assert len(frames) == CLIP_FRAMES
    # The annotated frames are the source frames plus drawings: close overall, different where boxes are.
    source = cv2.VideoCapture(str(videos_dir / "test_small2.mp4"))
    original = [source.read()[1] for _ in range(CLIP_FRAMES)]
    last = _read_jsonl(out / "tracks.jsonl")[-1]["tracks"]
    x1, y1, x2, y2 = (round(v) for v in last[0]["xyxy"])
    diff = np.abs(frames[-1].astype(int) - original[-1].astype(int)).sum(axis=2)
    assert np.median(diff) < 30
    assert diff[y2 - 1 : y2 + 2, x1 + 10 : x2 - 10].mean() > 3 * max(np.median(diff), 1)


def test_kitti_folder_with_fps_and_no_video(tmp_path: Path, videos_dir: Path, yolo_weights: Path) -> None:
    out = tmp_path / "kitti"
    args = ["track", str(videos_dir / "kitti_raw_2011_09_26"), "--out", str(out), "--fps", "10", "--no-video"]
    status = main([*args, "--weights", str(yolo_weights), "--runtime", "torch", "--max-frames", str(KITTI_FRAMES)])
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "tracks.jsonl", "tracks.txt"]
    records = _read_jsonl(out / "tracks.jsonl")
    assert [r["timestamp"] for r in records] == pytest.approx([0.1 * i for i in range(KITTI_FRAMES)])
    assert [r["frame"] for r in records] == list(range(1, KITTI_FRAMES + 1))
    # Dense urban traffic: several confirmed tracks per frame once min_hits is reached.
    assert min(len(r["tracks"]) for r in records[3:]) >= 3


def test_refuses_non_empty_out(tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    status = main(["track", str(videos_dir / "test_small2.mp4"), "--out", str(tmp_path)])
    assert status == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and str(tmp_path) in errors[0] and "--exist-ok" in errors[0]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_exist_ok_writes_into_non_empty_out(tmp_path: Path, videos_dir: Path, yolo_weights: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "tracks.txt").write_text("old results\n")
    args = ["track", str(videos_dir / "test_small2.mp4"), "--out", str(tmp_path), "--exist-ok", "--no-video"]
    assert (
        main([*args, "--weights", str(yolo_weights), "--max-frames", "4", "--imgsz", "320", "--runtime", "torch"]) == 0
    )
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert "old results" not in (tmp_path / "tracks.txt").read_text()
    assert len(_read_jsonl(tmp_path / "tracks.jsonl")) == 4


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        pytest.param(
            lambda d: ["--tracker", "sorty"], r"unknown tracker 'sorty'; available: default, .*sort", id="tracker"
        ),
        pytest.param(
            lambda d: ["--config", _yaml(d, "max_age: 3\n")],
            r"{d}/cfg\.yaml: unknown key 'max_age' for VtrackConfig",
            id="config-key",
        ),
        pytest.param(
            lambda d: ["--config", _yaml(d, "min_hits: [1\n")],
            r"{d}/cfg\.yaml: invalid YAML at line 2",
            id="config-yaml",
        ),
        pytest.param(
            lambda d: ["--config", _yaml(d, "- 1\n- 2\n")],
            r"{d}/cfg\.yaml: the top level must be a mapping",
            id="config-list",
        ),
        pytest.param(
            lambda d: ["--config", str(d / "nope.yaml")], r"{d}/nope\.yaml: config file not found", id="config-missing"
        ),
        pytest.param(
            lambda d: ["--detector-config", _yaml(d, "confidence: 0.5\n")],
            r"{d}/cfg\.yaml: unknown key 'confidence' for YOLODetectorConfig",
            id="detector-key",
        ),
        pytest.param(
            lambda d: ["--conf", "1.5"], r"command line: YOLODetectorConfig\.conf must be in \[0, 1\]", id="conf"
        ),
    ],
)
def test_bad_settings_fail_before_anything_is_written(
    tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture, setup, expected: str
) -> None:
    out = tmp_path / "out"
    status = main(["track", str(videos_dir / "test_small2.mp4"), "--out", str(out), *setup(tmp_path)])
    assert status == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1
    assert re.search(expected.format(d=re.escape(str(tmp_path))), errors[0]), errors[0]
    assert not out.exists()


def _yaml(folder: Path, text: str) -> str:
    path = folder / "cfg.yaml"
    path.write_text(text)
    return str(path)


def _make_size_change_folder(folder: Path) -> Path:
    folder.mkdir()
    for number, width in enumerate((64, 64, 80, 64)):
        cv2.imwrite(str(folder / f"{number:06d}.png"), np.full((48, width, 3), 100, dtype=np.uint8))
    return folder


@pytest.mark.parametrize(
    ("make_source", "expected"),
    [
        pytest.param(lambda d, dv: d / "missing.mp4", "{source}: no such file or folder", id="missing"),
        pytest.param(
            lambda d, dv: _write(d / "junk.mp4", b"garbage" * 50), "{source}: cannot open as a video", id="garbage"
        ),
        pytest.param(lambda d, dv: dv(keep=0.0), "{source}: no frame could be decoded", id="no-frames"),
        pytest.param(lambda d, dv: _mkdir(d / "empty"), "{source}: no image files in this folder", id="empty-folder"),
    ],
)
def test_bad_sources_fail_before_anything_is_written(
    tmp_path: Path, damaged_video, capsys: pytest.CaptureFixture, make_source, expected: str
) -> None:
    source = make_source(tmp_path, damaged_video)
    out = tmp_path / "out"
    assert main(["track", str(source), "--out", str(out), "--fps", "10"]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and expected.format(source=source) in errors[0], errors
    assert not out.exists()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_missing_weights_one_line_and_nothing_written(
    tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    status = main(["track", str(videos_dir / "test_small2.mp4"), "--out", str(out), "--weights", "/nonexistent/x.pt"])
    assert status == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "/nonexistent/x.pt" in errors[0]
    assert not out.exists()


def test_unknown_class_name(
    tmp_path: Path, videos_dir: Path, yolo_weights: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    args = ["track", str(videos_dir / "test_small2.mp4"), "--out", str(out), "--weights", str(yolo_weights)]
    assert main([*args, "--classes", "car,spaceship"]) == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "no class named 'spaceship'" in errors[0]
    assert not out.exists()


def test_frame_size_change_mid_stream(tmp_path: Path, yolo_weights: Path, capsys: pytest.CaptureFixture) -> None:
    source = _make_size_change_folder(tmp_path / "frames")
    out = tmp_path / "out"
    status = main(
        ["track", str(source), "--out", str(out), "--fps", "10", "--weights", str(yolo_weights), "--runtime", "torch"]
    )
    assert status == 2
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1
    assert f"{source / '000002.png'}: frame size changed mid-stream from 64x48 to 80x48" in errors[0]
    # The two frames before the bad one are kept, in valid files.
    assert [r["frame"] for r in _read_jsonl(out / "tracks.jsonl")] == [1, 2]
    cap = cv2.VideoCapture(str(out / "tracks.mp4"))
    assert cap.get(cv2.CAP_PROP_FRAME_COUNT) == 2


def test_parse_classes() -> None:
    assert parse_classes("car, truck,7") == ("car", "truck", 7)
    assert parse_classes("all") == ()
    for bad in ("car,,truck", "-1"):
        with pytest.raises(Exception, match="empty class|>= 0"):
            parse_classes(bad)


def test_bad_option_values_are_usage_errors(capsys: pytest.CaptureFixture) -> None:
    for option, value in (("--fps", "0"), ("--max-frames", "-3"), ("--imgsz", "big")):
        with pytest.raises(SystemExit) as exit_info:
            main(["track", "x.mp4", "--out", "o", option, value])
        assert exit_info.value.code == 2
        assert option in capsys.readouterr().err


def test_help_and_version(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert all(command.name in text for command in SUBCOMMANDS) and "bench" in text
    with pytest.raises(SystemExit):
        main(["track", "--help"])
    text = capsys.readouterr().out
    for option in ("--out", "--exist-ok", "--no-video", "--tracker", "--config", "--detector-config", "--fps"):
        assert option in text
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"vtrack {version('vtrack')}"


@pytest.mark.parametrize("backend", ["sort", "vtrack", "lstm"])
def test_backend_yaml_builds_the_backend_as_it_ships(repo_root: Path, backend: str) -> None:
    path = repo_root / "configs" / f"{backend}.yaml"
    data = load_yaml(path)
    assert from_mapping(config_class(backend), data, source=str(path)) == config_class(backend)()
    assert tracker.create(backend, data).name == backend


def test_config_reference_documents_every_key(repo_root: Path) -> None:
    text = (repo_root / "configs" / "README.md").read_text(encoding="utf-8")
    config = config_class("vtrack")
    hints = typing.get_type_hints(config)
    for field in dataclasses.fields(config):
        assert f"`{field.name}`" in text, field.name
        nested = [arg for arg in typing.get_args(hints[field.name]) if dataclasses.is_dataclass(arg)]
        for sub in dataclasses.fields(nested[0]) if nested else ():
            assert f"`{sub.name}`" in text, f"{field.name}.{sub.name}"


def test_console_script_error_is_one_line(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("vtrack")
    result = subprocess.run(
        [str(script), "track", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"vtrack track: error: {tmp_path / 'missing.mp4'}: no such file or folder\n"
    assert result.stdout == ""


def test_sigterm_stops_a_run_like_ctrl_c(tmp_path: Path, videos_dir: Path) -> None:
    """SIGTERM (docker stop, systemd) mid-run: exit status 143, and what was written is whole.

    The run replays a box on every frame of test_small2.mp4 and writes the video; once a
    few frames are in tracks.txt a thread sends SIGTERM to this process, whose handler
    (installed by main for the run) stops it as Ctrl-C would.
    """
    import os
    import signal
    import threading

    det = tmp_path / "det.txt"
    det.write_text("".join(f"{k},-1,{100 + 3 * k},300,120,90,0.9,-1,-1,-1\n" for k in range(1, 117)))
    out = tmp_path / "run"

    def terminate_after_five_frames() -> None:
        for _ in range(2000):
            text = (out / "tracks.txt").read_text() if (out / "tracks.txt").exists() else ""
            if text.count("\n") >= 5:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            threading.Event().wait(0.005)

    before = signal.getsignal(signal.SIGTERM)  # another test's library (Ray) may have set one
    killer = threading.Thread(target=terminate_after_five_frames)
    killer.start()
    status = main(["track", str(videos_dir / "test_small2.mp4"), "--out", str(out), "--detections", str(det)])
    killer.join()
    assert status == 143
    assert signal.getsignal(signal.SIGTERM) is before  # restored after the run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and 5 <= summary["frames"] < 116
    rows = _read_txt(out / "tracks.txt")  # whole lines only
    assert rows[:, 0].max() <= summary["frames"]
    assert len(_read_jsonl(out / "tracks.jsonl")) == summary["frames"]
    video = cv2.VideoCapture(str(out / "tracks.mp4"))  # playable: finalised, not cut off
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == summary["frames"]
    video.release()


def test_an_unwritable_out_folder_is_named_before_anything_runs(
    tmp_path: Path, videos_dir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only parent of --out is named, before the model loads (os.access is faked: root ignores modes)."""
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    status = main(["track", str(videos_dir / "test_small2.mp4"), "--out", str(locked / "run")])
    assert status == 2
    why = f"the folder (its nearest existing parent {locked}) is not writable"
    assert _error_lines(capsys.readouterr().err) == [f"vtrack track: error: --out {locked / 'run'}: {why}"]
    assert not (locked / "run").exists()


def test_cli_imports_stay_lazy() -> None:
    code = (
        "import sys, tracker, tracker.app.cli; "
        "print(sorted(m for m in ('cv2', 'ultralytics', 'torch', 'tracker.app.track') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    result = subprocess.run(
        [sys.executable, "-c", "import sys, tracker; print('tracker.app' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_clip_summary_json(clip_run: tuple[Path, int, str]) -> None:
    out, _, stdout = clip_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["frames"] == CLIP_FRAMES
    assert summary["fps"] == pytest.approx(CLIP_FRAMES / summary["wall_s"], rel=1e-3)
    assert summary["startup_s"] > 0 and summary["wall_s"] > 0
    stages = summary["stages_ms"]
    assert set(stages) == {"decode", "detect", "detect_first", "camera_motion", "tracker", "render", "write"}
    assert all(value is not None and value > 0 for value in stages.values())
    assert 0 < summary["tracker_and_camera_motion_cpu_share"] < 1
    detector = summary["detector"]
    assert detector["weights"].endswith("yolov8n.pt") and detector["imgsz"] == 640
    assert detector["runtime"] in ("openvino", "torch") and detector["device"] == "cpu"
    assert summary["video_codec"] == "h264" and summary["tracks"] >= 2
    assert summary["source"]["width"] == 1280 and summary["source"]["length"] == 116
    assert f"frames/s end to end ({summary['wall_s']:.2f} s for {CLIP_FRAMES} frames" in stdout
    assert f"{detector['runtime']} runtime on cpu, imgsz 640" in stdout


def test_clip_video_is_h264_and_plays_in_chromium(clip_run: tuple[Path, int, str], tmp_path: Path) -> None:
    """Headless Chromium seeks the video to 0.6 s and shows frame 16 (screenshot of the <video> element)."""
    av = pytest.importorskip("av", reason="reading the codec needs PyAV")
    out, _, _ = clip_run
    with av.open(str(out / "tracks.mp4")) as container:
        context = container.streams.video[0].codec_context
        assert (context.name, context.pix_fmt) == ("h264", "yuv420p")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="driving Chromium needs playwright (dev extra)")
    page_path = tmp_path / "play.html"
    page_path.write_text(
        f'<video id="v" src="{(out / "tracks.mp4").as_uri()}" muted preload="auto" width="640" height="360"></video>'
        '<p id="state">waiting</p><script>'
        "const v = document.getElementById('v'), state = document.getElementById('state');"
        "v.addEventListener('loadeddata', () => { v.currentTime = 0.6; });"
        "v.addEventListener('seeked', () => { state.textContent = 'seeked ' + v.currentTime; });"
        "v.addEventListener('error', () => { state.textContent = 'error ' + v.error.code; });"
        "</script>"
    )
    shot = tmp_path / "video.png"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 660, "height": 420})
            page.goto(page_path.as_uri())
            page.wait_for_function("!document.getElementById('state').textContent.startsWith('waiting')")
            assert page.text_content("#state") == "seeked 0.6"
            page.locator("#v").screenshot(path=str(shot))
        finally:
            browser.close()
    seen = cv2.imread(str(shot)).astype(int)
    capture = cv2.VideoCapture(str(out / "tracks.mp4"))
    decoded = [cv2.resize(capture.read()[1], (640, 360), interpolation=cv2.INTER_AREA) for _ in range(CLIP_FRAMES)]
    errors = [np.abs(seen - frame.astype(int)).mean() for frame in decoded]
    assert seen.shape == (360, 640, 3)
    assert int(np.argmin(errors)) in (14, 15, 16) and min(errors) < 8 < errors[0]


def test_detections_file_replaces_yolo(tmp_path: Path, shared_dir: Path) -> None:
    """MOT17-04 public FRCNN detections replayed on its 8 frames: the tracks take the file's boxes."""
    sequence = shared_dir / "data" / "MOT17-mini" / "train" / "MOT17-04-FRCNN"
    det = sequence / "det" / "det.txt"
    out = tmp_path / "mot"
    stdout = StringIO()
    with redirect_stdout(stdout):
        status = main(["track", str(sequence), "--out", str(out), "--detections", str(det), "--tracker", "sort"])
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["detector"] == {"detector": "file", "detections": str(det), "format": "mot"}
    assert summary["frames"] == 8 and summary["source"]["fps"] == 30
    assert f"detections replayed from {det} (mot)" in stdout.getvalue()
    rows = _read_txt(out / "tracks.txt")
    detections = np.loadtxt(det, delimiter=",", ndmin=2)
    for row in rows:  # every track box is one of that frame's detections
        same_frame = detections[detections[:, 0] == row[0]]
        assert np.abs(same_frame[:, 2:6] - row[2:6]).max(axis=1).min() < 1.0
    assert len(rows) > 8 and set(rows[:, 7].astype(int)) == {0}
    records = _read_jsonl(out / "tracks.jsonl")
    assert records[-1]["tracks"][0]["class_name"] == "person"


def test_detections_kitti_csv_and_bad_combinations(tmp_path: Path, videos_dir: Path, capsys) -> None:
    folder = videos_dir / "kitti_raw_2011_09_26"
    csv = tmp_path / "dets.csv"
    csv.write_text("".join(f"{f},{100 + 5 * f},150,{200 + 5 * f},230,0.9,2\n" for f in range(6)))
    out = tmp_path / "kitti"
    base = ["track", str(folder), "--fps", "10", "--max-frames", "6", "--no-video", "--detections", str(csv)]
    assert main([*base, "--out", str(out)]) == 2
    error = _error_lines(capsys.readouterr().err)
    assert len(error) == 1 and "7 columns fit both" in error[0] and not out.exists()
    assert main([*base, "--out", str(out), "--detections-format", "kitti", "--tracker", "sort"]) == 0
    rows = _read_txt(out / "tracks.txt")
    assert rows[:, 0].tolist() == [3, 4, 5, 6]  # confirmed after min_hits 3; frames 1-based
    np.testing.assert_allclose(rows[:, 2], [100 + 5 * f for f in (2, 3, 4, 5)], atol=1.0)
    assert main([*base, "--out", str(tmp_path / "x"), "--weights", "y.pt", "--imgsz", "320"]) == 2
    error = _error_lines(capsys.readouterr().err)
    assert len(error) == 1 and "--detections replays a file; --weights, --imgsz configure YOLO" in error[0]


def test_imgsz_runtime_and_show_are_checked(tmp_path: Path, videos_dir: Path, capsys, monkeypatch) -> None:
    clip = str(videos_dir / "test_small2.mp4")
    assert main(["track", clip, "--out", str(tmp_path / "a"), "--imgsz", "1000"]) == 2
    assert "imgsz must be a positive multiple of 32" in _error_lines(capsys.readouterr().err)[0]
    with pytest.raises(SystemExit):
        main(["track", clip, "--out", str(tmp_path / "b"), "--runtime", "tensorrt"])
    assert "--runtime" in capsys.readouterr().err
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["track", clip, "--out", str(tmp_path / "c"), "--show"]) == 2
    assert "--show needs a display" in _error_lines(capsys.readouterr().err)[0]
    assert not any((tmp_path / name).exists() for name in "abc")


def test_torch_runtime_run(tmp_path: Path, videos_dir: Path, yolo_weights: Path) -> None:
    out = tmp_path / "torch"
    args = ["track", str(videos_dir / "test_small2.mp4"), "--out", str(out), "--no-video", "--max-frames", "3"]
    assert main([*args, "--weights", str(yolo_weights), "--runtime", "torch", "--device", "cpu"]) == 0
    detector = json.loads((out / "summary.json").read_text())["detector"]
    assert detector["runtime"] == "torch" and detector["inference"] == "ultralytics"


def test_progress_bar_total_follows_a_stream_that_ends_early(
    tmp_path: Path, damaged_video, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A video whose header announces 116 frames but decodes about half: the bar ends at n/n, not n/116."""
    import tracker.app.track as track

    shown = StringIO()
    real = track.tqdm

    def visible_bar(*args, **kwargs):
        return real(*args, **{**kwargs, "file": shown, "disable": False, "mininterval": 0})

    monkeypatch.setattr(track, "tqdm", visible_bar)
    video = damaged_video(keep=0.5)
    detections = tmp_path / "one.csv"
    detections.write_text("0,10,10,50,50,0.9\n")
    out = tmp_path / "out"
    assert main(["track", str(video), "--out", str(out), "--no-video", "--detections", str(detections)]) == 0
    frames = json.loads((out / "summary.json").read_text())["frames"]
    assert 0 < frames < 116
    final = [part for part in shown.getvalue().split("\r") if part.strip()][-1]
    assert f"{frames}/{frames}" in final and "/116" not in final, final


def test_detect_every_predicts_between_detector_frames(tmp_path: Path, videos_dir: Path, capsys) -> None:
    """A car moving 5 px a frame, detected on every frame of the file; with --detect-every 3 the
    detector's frames 0, 3, 6 are used and frames between carry the motion model's prediction."""
    folder = videos_dir / "kitti_raw_2011_09_26"
    csv = tmp_path / "dets.csv"
    csv.write_text("".join(f"{f},{100 + 5 * f},150,{200 + 5 * f},230,0.9\n" for f in range(9)))
    base = ["track", str(folder), "--fps", "10", "--max-frames", "9", "--no-video", "--detections", str(csv)]
    assert main([*base, "--out", str(tmp_path / "every"), "--detect-every", "3", "--no-cmc"]) == 0
    records = _read_jsonl(tmp_path / "every" / "tracks.jsonl")
    predicted = [[t["predicted"] for t in r["tracks"]] for r in records]
    assert predicted[0] == [False] and predicted[3] == [False] and predicted[6] == [False]
    assert predicted[4] == [True] and predicted[8] == [True]
    assert {t["id"] for r in records for t in r["tracks"]} == {1}
    x1 = [r["tracks"][0]["xyxy"][0] for r in records]
    assert abs(x1[8] - (100 + 5 * 8)) < 3.0  # the prediction follows the car
    summary = json.loads((tmp_path / "every" / "summary.json").read_text())
    assert summary["detect_every"] == 3 and summary["frames"] == 9
    capsys.readouterr()
    assert main([*base, "--out", str(tmp_path / "peer"), "--detect-every", "2", "--tracker", "nosuch"]) == 2
