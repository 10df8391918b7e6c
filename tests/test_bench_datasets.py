"""Benchmark configs and dataset layouts on the real data of ../shared and on broken copies."""

from __future__ import annotations

import configparser
import shutil
from pathlib import Path

import pytest

from benchmarks.config import load_benchmark
from benchmarks.datasets import DatasetError, load_sequences, write_eval_gt
from tracker.config import ConfigError

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
CONFIGS = REPO / "configs"
MOT17_TRAIN = SHARED / "data" / "MOT17" / "train"


def _seq_length(name: str) -> int:
    parser = configparser.ConfigParser()
    parser.read(MOT17_TRAIN / name / "seqinfo.ini")
    return int(parser["Sequence"]["seqLength"])


def test_kitti_sequences_come_from_the_seqmap() -> None:
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    sequences = load_sequences(bench)
    names = ["0000", "0002", "0003", "0004", "0005", "0007", "0009", "0011", "0017", "0020"]
    assert [s.name for s in sequences] == names
    assert sum(s.num_frames for s in sequences) == 4100
    first = sequences[0]
    assert (first.first_frame, first.last_frame, first.base_frame, first.frame_rate) == (0, 153, 0, 10.0)
    assert first.timestamp(10) == pytest.approx(1.0)
    assert first.detections_path.parent.name == "det_02_rrc"


def test_mot17_sequences_take_rate_and_length_from_seqinfo() -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_mot17.yaml"))
    assert len(sequences) == 7
    assert sum(s.num_frames for s in sequences) == 5316
    by_name = {s.name: s for s in sequences}
    assert by_name["MOT17-05-FRCNN"].frame_rate == 14.0 and by_name["MOT17-13-FRCNN"].frame_rate == 25.0
    seq = by_name["MOT17-02-FRCNN"]
    assert (seq.first_frame, seq.last_frame, seq.base_frame) == (1, 600, 1)
    assert seq.timestamp(1) == 0.0 and seq.timestamp(31) == pytest.approx(1.0)


def test_val_half_is_frames_half_plus_two_to_the_end() -> None:
    sequences = load_sequences(load_benchmark(CONFIGS / "bench_mot17_yolox.yaml"))
    for seq in sequences:
        length = _seq_length(seq.name)
        assert (seq.first_frame, seq.last_frame) == (length // 2 + 2, length)
        assert seq.num_frames == length - length // 2 - 1


def test_eval_gt_of_the_val_half_is_cut_and_renumbered(tmp_path: Path) -> None:
    bench = load_benchmark(CONFIGS / "bench_mot17_yolox.yaml")
    (seq,) = load_sequences(bench, ["MOT17-09-FRCNN"])
    folder = write_eval_gt(bench, [seq], tmp_path / "gt")
    rows = [line.split(",") for line in seq.gt_path.read_text().splitlines()]
    kept = [r for r in rows if seq.first_frame <= int(r[0]) <= seq.last_frame]
    written = [line.split(",") for line in (folder / seq.name / "gt" / "gt.txt").read_text().splitlines()]
    assert len(written) == len(kept) > 0
    assert [int(r[0]) for r in written] == [int(r[0]) - seq.first_frame + 1 for r in kept]
    assert [r[1:] for r in written] == [r[1:] for r in kept]
    info = configparser.ConfigParser()
    info.read(folder / seq.name / "seqinfo.ini")
    assert int(info["Sequence"]["seqLength"]) == seq.num_frames == 262
    assert info["Sequence"]["frameRate"] == "30"
    assert (folder / "seqmap.txt").read_text().split() == ["name", seq.name]


def test_kitti_eval_gt_writes_a_seqmap_with_the_range_length(tmp_path: Path) -> None:
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    sequences = load_sequences(bench, ["0017", "0000"])
    folder = write_eval_gt(bench, sequences, tmp_path / "gt")
    seqmap = (folder / "evaluate_tracking.seqmap.bench").read_text().splitlines()
    assert seqmap == ["0017 empty 000000 000145", "0000 empty 000000 000154"]
    assert (folder / "label_02" / "0000.txt").read_text() == sequences[1].gt_path.read_text()


def _mot_copy(tmp_path: Path, name: str = "MOT17-09-FRCNN") -> Path:
    """A small MOTChallenge-layout copy of one sequence (gt, det, seqinfo) under ``tmp_path/train``."""
    target = tmp_path / "train" / name
    for part in ("gt/gt.txt", "det/det.txt", "seqinfo.ini"):
        (target / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MOT17_TRAIN / name / part, target / part)
    config = tmp_path / "bench.yaml"
    config.write_text(
        "\n".join(
            [
                "name: tiny",
                "format: mot",
                "root: train",
                f"sequences: [{name}]",
                'gt: "{seq}/gt/gt.txt"',
                'detections: "{seq}/det/det.txt"',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return config


def test_missing_seqinfo_names_the_file(tmp_path: Path) -> None:
    config = _mot_copy(tmp_path)
    (tmp_path / "train" / "MOT17-09-FRCNN" / "seqinfo.ini").unlink()
    with pytest.raises(DatasetError, match=r"MOT17-09-FRCNN/seqinfo.ini: seqinfo.ini not found"):
        load_sequences(load_benchmark(config))


def test_seqinfo_without_length_names_the_file(tmp_path: Path) -> None:
    config = _mot_copy(tmp_path)
    seqinfo = tmp_path / "train" / "MOT17-09-FRCNN" / "seqinfo.ini"
    seqinfo.write_text(seqinfo.read_text().replace("seqLength=525\n", ""), encoding="utf-8")
    with pytest.raises(DatasetError, match=r"seqinfo.ini: \[Sequence\] has no seqLength"):
        load_sequences(load_benchmark(config))


def test_sequence_without_a_detection_file_is_an_error(tmp_path: Path) -> None:
    config = _mot_copy(tmp_path)
    (tmp_path / "train" / "MOT17-09-FRCNN" / "det" / "det.txt").unlink()
    with pytest.raises(DatasetError, match=r"det/det.txt: detection file of sequence MOT17-09-FRCNN not found"):
        load_sequences(load_benchmark(config))


def test_missing_and_malformed_kitti_seqmap(tmp_path: Path) -> None:
    text = (CONFIGS / "bench_kitti.yaml").read_text()
    root = SHARED / "data" / "kitti_tracking"
    config = tmp_path / "kitti.yaml"
    config.write_text(
        text.replace("../../shared/data/kitti_tracking", str(root)).replace(
            "evaluate_tracking.seqmap.train", str(tmp_path / "seqmap.txt")
        )
    )
    with pytest.raises(DatasetError, match=r"seqmap.txt: seqmap not found"):
        load_sequences(load_benchmark(config))
    (tmp_path / "seqmap.txt").write_text("0000 empty 000000 000154\n0002 empty 000000\n")
    with pytest.raises(DatasetError, match=r"seqmap.txt:2: expected 'seq empty first_frame last_frame_exclusive'"):
        load_sequences(load_benchmark(config))


def test_mot_seqmap_needs_its_header(tmp_path: Path) -> None:
    config = _mot_copy(tmp_path)
    text = config.read_text().replace("sequences: [MOT17-09-FRCNN]", "seqmap: seqmap.txt")
    config.write_text(text)
    (tmp_path / "train" / "seqmap.txt").write_text("MOT17-09-FRCNN\n")
    with pytest.raises(DatasetError, match=r"seqmap.txt:1: a MOTChallenge seqmap starts with the header line"):
        load_sequences(load_benchmark(config))
    (tmp_path / "train" / "seqmap.txt").write_text("name\nMOT17-09-FRCNN\n")
    assert [s.name for s in load_sequences(load_benchmark(config))] == ["MOT17-09-FRCNN"]


def test_unknown_sequence_and_bad_config_keys(tmp_path: Path) -> None:
    bench = load_benchmark(CONFIGS / "bench_kitti.yaml")
    with pytest.raises(DatasetError, match="unknown sequence.*0001"):
        load_sequences(bench, ["0001"])
    config = _mot_copy(tmp_path)
    config.write_text(config.read_text() + "frame_rnage: val_half\n")
    with pytest.raises(ConfigError, match=r"bench.yaml: unknown key 'frame_rnage'"):
        load_benchmark(config)
    config.write_text(config.read_text().replace("frame_rnage: val_half", "frame_range: odd"))
    with pytest.raises(ConfigError, match=r"bench.yaml: frame_range must be one of"):
        load_benchmark(config)
