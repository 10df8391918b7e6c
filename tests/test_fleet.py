"""``vtrack track`` over many sources: expansion, one job per source, manifest, --resume, worker processes and Ray.

The runs track a folder holding three real clips (links to ``shared/data/videos``, cut to
:data:`FRAMES` frames with ``--max-frames``) and one corrupt ``.mp4``: serially, in two
worker processes and as Ray tasks on a local Ray instance; each must give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import pytest

from tracker.app import fleet
from tracker.app.cli import build_parser, main

pytestmark = pytest.mark.needs_yolo

FRAMES = 8
CLIPS = ("test_small1", "test_small2", "test_video")
CORRUPT = "broken"
OUTPUT_NAMES = ["summary.json", "tracks.jsonl", "tracks.mp4", "tracks.txt"]


def _track(*args: str) -> tuple[int, str]:
    stdout = StringIO()
    with redirect_stdout(stdout):
        status = main(["track", *args])
    return status, stdout.getvalue()


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / fleet.MANIFEST).read_text().splitlines()]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory, videos_dir: Path) -> Path:
    """A folder of three clips (symbolic links to the shared videos) and one corrupt video file."""
    folder = tmp_path_factory.mktemp("fleet") / "clips"
    folder.mkdir()
    for name in CLIPS:
        (folder / f"{name}.mp4").symlink_to(videos_dir / f"{name}.mp4")
    (folder / f"{CORRUPT}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video" * 64)
    (folder / "notes.txt").write_text("not a source\n")
    return folder


@pytest.fixture(scope="module")
def detector_options(yolo_weights: Path) -> list[str]:
    return ["--weights", str(yolo_weights), "--device", "cpu", "--max-frames", str(FRAMES)]


@pytest.fixture(scope="module")
def serial_run(clips: Path, detector_options: list[str], tmp_path_factory) -> tuple[Path, int, str]:
    """The clips folder tracked by one worker (this process): (DIR, exit status, stdout)."""
    out = tmp_path_factory.mktemp("serial") / "run"
    status, stdout = _track(str(clips), "--out", str(out), "--workers", "1", *detector_options)
    return out, status, stdout


def _tracks(out: Path) -> dict[str, bytes]:
    return {name: (out / name / "tracks.txt").read_bytes() for name in CLIPS}


def test_serial_run_records_every_source_and_goes_on_after_a_failure(serial_run, clips: Path) -> None:
    out, status, stdout = serial_run
    assert status == 1  # report.EXIT_SOURCES_FAILED: one source failed
    records = _manifest(out)
    assert [r["name"] for r in records] == [CORRUPT, *CLIPS]  # natural name order; notes.txt left out
    assert [r["status"] for r in records] == ["failed", "done", "done", "done"]
    failed = records[0]
    assert failed["source"] == str(clips / f"{CORRUPT}.mp4") and failed["frames"] is None
    assert "cannot open as a video" in failed["error"]
    assert not (out / CORRUPT).exists()
    for record in records[1:]:
        assert record["frames"] == FRAMES and record["fps"] > 0 and record["error"] is None
        folder = out / record["name"]
        assert record["out"] == str(folder.absolute())
        assert sorted(p.name for p in folder.iterdir()) == OUTPUT_NAMES
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["frames"] == FRAMES
        assert summary["detector"]["threads"] is None  # one worker: the runtime's default, as for one source
        assert record["tracks"] == summary["tracks"] and record["fps"] == summary["fps"]
        rows = (folder / "tracks.txt").read_text().splitlines()
        assert rows and {int(row.split(",")[0]) for row in rows} <= set(range(1, FRAMES + 1))
    with (out / fleet.SUMMARY_CSV).open(newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["name"] for row in table] == [r["name"] for r in records]
    assert [row["status"] for row in table] == [r["status"] for r in records]
    assert table[0]["error"] == failed["error"]
    assert "4 sources: 3 done, 1 failed, 0 skipped" in stdout
    assert f"failed:   {failed['error']}" in stdout


def test_a_fleet_job_writes_what_one_source_writes(serial_run, videos_dir: Path, detector_options, tmp_path) -> None:
    out, _, _ = serial_run
    status, _ = _track(str(videos_dir / "test_small2.mp4"), "--out", str(tmp_path / "one"), *detector_options)
    assert status == 0
    assert (tmp_path / "one" / "tracks.txt").read_bytes() == (out / "test_small2" / "tracks.txt").read_bytes()
    assert (tmp_path / "one" / "tracks.jsonl").read_bytes() == (out / "test_small2" / "tracks.jsonl").read_bytes()


def test_resume_redoes_nothing_complete(serial_run, clips: Path, detector_options, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(serial_run[0], out)
    stamps = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in out.glob("*/*")}
    status, stdout = _track(str(clips), "--out", str(out), "--resume", *detector_options)
    assert status == 1  # the corrupt video is tried again, and fails again
    assert [r["status"] for r in _manifest(out)] == ["failed", "skipped", "skipped", "skipped"]
    assert {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in out.glob("*/*")} == stamps
    assert "0 done, 1 failed, 3 skipped" in stdout
    skipped = _manifest(out)[1]
    assert (
        skipped["frames"] == FRAMES
        and skipped["fps"] == json.loads((out / CLIPS[0] / "summary.json").read_text())["fps"]
    )
    # An incomplete folder (no summary.json: the job was stopped) is run again, and only that one.
    (out / CLIPS[1] / "summary.json").unlink()
    status, _ = _track(str(clips), "--out", str(out), "--resume", *detector_options)
    assert [r["status"] for r in _manifest(out)] == ["failed", "skipped", "done", "skipped"]
    assert (out / CLIPS[1] / "tracks.txt").read_bytes() == stamps[out / CLIPS[1] / "tracks.txt"][1]
    assert (out / CLIPS[0] / "tracks.txt").stat().st_mtime_ns == stamps[out / CLIPS[0] / "tracks.txt"][0]


def test_worker_processes_give_the_serial_bytes(serial_run, clips: Path, detector_options, tmp_path: Path) -> None:
    out = tmp_path / "pool"
    status, stdout = _track(str(clips), "--out", str(out), "--workers", "2", *detector_options)
    assert status == 1
    assert [r["status"] for r in _manifest(out)] == ["failed", "done", "done", "done"]
    assert _tracks(out) == _tracks(serial_run[0])
    cores = fleet._cores()
    summary = json.loads((out / CLIPS[0] / "summary.json").read_text())
    assert summary["detector"]["threads"] == max(1, cores // 2)  # the cores shared between the two workers
    assert "on 2 worker processes" in stdout


@pytest.mark.needs_fleet
def test_ray_tasks_give_the_serial_bytes(serial_run, clips: Path, detector_options, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    status, stdout = _track(str(clips), "--out", str(out), *detector_options, "--ray")
    assert status == 1
    records = _manifest(out)
    assert [r["status"] for r in records] == ["failed", "done", "done", "done"]
    assert "cannot open as a video" in records[0]["error"]
    assert all(record["host"] for record in records)
    assert _tracks(out) == _tracks(serial_run[0])
    summary = json.loads((out / CLIPS[0] / "summary.json").read_text())
    assert summary["detector"]["threads"] == 1  # --task-cpus 1
    assert "on Ray (local)" in stdout


def test_sources_are_expanded_in_natural_order(tmp_path: Path) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("b10.mp4", "b2.MOV", "notes.txt", "clip.db3"):
        (folder / name).write_bytes(b"x")
    (folder / "frames").mkdir()
    (folder / "frames" / "000001.png").write_bytes(b"x")
    (folder / "nested").mkdir()
    (folder / "nested" / "deeper.mp4").write_bytes(b"x")  # sub-folders of videos are not searched
    expected = [str(folder / name) for name in ("b2.MOV", "b10.mp4", "clip.db3", "frames")]
    assert fleet.expand_sources([str(folder)]) == expected
    assert fleet.expand_sources([str(folder / "b*")]) == expected[:2]
    listing = tmp_path / "lists" / "sources.txt"
    listing.parent.mkdir()
    listing.write_text(f"# comment\n\n../videos/b2.MOV\n{folder / 'frames'}\n{folder / 'b2.MOV'}\n../missing.mp4\n")
    sources = fleet.expand_sources([f"@{listing}"])
    assert [Path(s).resolve() for s in sources] == [
        (folder / "b2.MOV").resolve(),  # relative to the list's folder; listed twice, kept once
        (folder / "frames").resolve(),
        (tmp_path / "missing.mp4").resolve(),  # kept: its job fails and is recorded
    ]
    with pytest.raises(fleet.FleetError, match="a camera never ends"):
        fleet.expand_sources(["0", str(folder)])
    with pytest.raises(fleet.FleetError, match="matches no file"):
        fleet.expand_sources([str(folder / "*.avi")])
    with pytest.raises(fleet.FleetError, match="no videos .* in this folder"):
        fleet.expand_sources([str(tmp_path / "lists")])
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(fleet.FleetError, match="names no source"):
        fleet.expand_sources([f"@{tmp_path / 'empty.txt'}"])


def test_job_names_are_unique_folder_names(tmp_path: Path) -> None:
    (tmp_path / "clip-2.mp4").write_bytes(b"x")
    sources = ["a/clip.mp4", "b/clip.MP4", str(tmp_path / "clip-2.mp4"), "c/clip", "kitti/image_02/0000"]
    assert fleet.job_names(sources) == ["clip", "clip-2", "clip-2-2", "clip-3", "0000"]


def _args(*argv: str) -> argparse.Namespace:
    full = ["track", *argv, "--out", "unused"]
    return build_parser(full).parse_args(full)


def test_what_runs_as_a_fleet(clips: Path, videos_dir: Path, tmp_path: Path) -> None:
    one = str(videos_dir / "test_small2.mp4")
    assert not fleet.is_fleet(_args(one))
    assert not fleet.is_fleet(_args(str(videos_dir / "kitti_raw_2011_09_26")))  # a frame folder is one source
    assert not fleet.is_fleet(_args(str(tmp_path)))  # an empty folder: one source, which fails as today
    assert fleet.is_fleet(_args(one, one))
    assert fleet.is_fleet(_args(str(clips)))
    assert fleet.is_fleet(_args(f"{clips}/*.mp4"))
    assert fleet.is_fleet(_args("@list.txt"))
    for option in (["--workers", "1"], ["--resume"], ["--ray=auto"]):
        assert fleet.is_fleet(_args(one, *option))


def test_threads_per_worker_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet, "_cores", lambda: 8)
    assert fleet._placement(_args("a", "b", "c"), 3)[:2] == (3, 2)  # default: one worker per core, at most per job
    assert fleet._placement(_args("a", "--workers", "2"), 10)[:2] == (2, 4)
    assert fleet._placement(_args("a", "--workers", "16"), 20)[:2] == (16, 1)
    assert fleet._placement(_args("a", "--workers", "2", "--threads", "1"), 10)[:2] == (2, 1)
    assert fleet._placement(_args("a", "--workers", "1"), 10)[:2] == (1, None)  # every core, as one source
    assert fleet._placement(_args("a", "--workers", "4"), 1)[:2] == (1, None)
    assert fleet._placement(_args("a", "--ray", "--task-cpus", "2"), 10)[:2] == (0, 2)


@pytest.mark.parametrize(
    "options",
    [
        ["--detections", "det.txt"],
        ["--show"],
        ["--resume", "--exist-ok"],
        ["--task-cpus", "2"],
        ["--workers", "2", "--ray=auto"],
        ["--config", "missing.yaml"],
        ["--tracker", "no-such-backend"],
        ["--weights", "/nonexistent/x.pt"],
    ],
)
def test_bad_fleet_options_fail_before_anything_runs(
    clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture, options: list[str]
) -> None:
    out = tmp_path / "out"
    assert main(["track", str(clips), "--out", str(out), *options]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vtrack track: error:")]
    assert len(errors) == 1, errors
    assert not out.exists()


def test_a_non_empty_out_needs_resume_or_exist_ok(clips: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["track", str(clips), "--out", str(tmp_path)]) == 2
    assert "pass --resume to continue an earlier run, or --exist-ok" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_ray_address_swallowing_a_source_is_explained(clips: Path, tmp_path: Path, capsys) -> None:
    pytest.importorskip("ray", reason="the check runs once Ray is importable")
    one = str(clips / "test_video.mp4")
    assert main(["track", one, "--ray", str(clips), "--out", str(tmp_path / "out")]) == 2
    assert "put --ray after the SOURCEs, or write --ray=ADDRESS" in capsys.readouterr().err


def test_completed_record_needs_every_output_of_the_same_source(serial_run, clips: Path, tmp_path: Path) -> None:
    folder = tmp_path / "job"
    shutil.copytree(serial_run[0] / "test_video", folder)
    source = str(clips / "test_video.mp4")
    assert fleet.completed_record(folder, source)["frames"] == FRAMES
    assert fleet.completed_record(folder, str(clips / "test_small1.mp4")) is None  # another source's folder
    (folder / "tracks.mp4").unlink()
    assert fleet.completed_record(folder, source) is None
    summary = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps({**summary, "video_codec": None, "status": "interrupted"}))
    assert fleet.completed_record(folder, source) is None
    (folder / "summary.json").write_text("{truncated")
    assert fleet.completed_record(folder, source) is None


def test_ray_is_imported_only_for_ray_runs(videos_dir: Path, yolo_weights: Path, tmp_path: Path) -> None:
    clip = str(videos_dir / "test_video.mp4")
    options = ["--weights", str(yolo_weights), "--max-frames", "2", "--no-video"]
    code = (
        "import sys; from tracker.app.cli import main; "
        f"a = main(['track', {clip!r}, '--out', {str(tmp_path / 'one')!r}, *{options!r}]); "
        f"b = main(['track', {clip!r}, {clip!r}, '--out', {str(tmp_path / 'two')!r}, *{options!r}]); "
        "print(a, b, 'ray' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split()[-3:] == ["0", "0", "False"]
