"""Benchmark sequences on disk and the files TrackEval reads: :class:`Sequence`, :func:`load_sequences`.

Three layouts are supported (the third, BDD100K MOT in Scalabel JSON, lives in
:mod:`benchmarks.bdd100k`; the functions here hand ``bdd100k`` benchmarks to it):

- **KITTI tracking** (Geiger et al., CVPR 2012): ground truth ``label_02/NNNN.txt``
  (0-based frames) and a seqmap ``evaluate_tracking.seqmap.<split>`` whose rows are
  ``seq empty first_frame last_frame_exclusive``. The frame rate (10 Hz) comes from
  the benchmark config.
- **MOTChallenge** (MOT15/16/17/20; Milan et al. 2016, Dendorfer et al. 2020):
  ``SEQ/gt/gt.txt`` (1-based frames), ``SEQ/det/det.txt`` and ``SEQ/seqinfo.ini``
  (``frameRate``, ``seqLength``, ``imDir``).

**Sub-ranges.** A :class:`Sequence` covers the frames ``first_frame..last_frame``
(inclusive, in the dataset's own numbering). :func:`write_eval_gt` writes the
ground truth of exactly that range, renumbered so that ``first_frame`` becomes the
layout's first frame (0 for KITTI, 1 for MOT), together with a seqmap and (MOT)
a ``seqinfo.ini`` whose length is the range's; :func:`write_eval_tracker` shifts
a tracker's results the same way. TrackEval then scores only that range: both
``Kitti2DBox`` and ``MotChallenge2DBox`` take the number of timesteps of a
sequence from that seqmap / ``seqinfo.ini`` (``seq_lengths``) and reject rows
outside ``0..length-1`` / ``1..length``. This is how the MOT17 validation half
(ByteTrack's ``gt_val_half.txt``: frames ``L//2 + 2 .. L``) is evaluated. The files
are written under the benchmark's output folder, never next to the dataset.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import numpy as np

from benchmarks import bdd100k
from benchmarks.config import BenchmarkConfig
from benchmarks.sequence import DatasetError, Sequence, detections_file
from tracker.camera_motion import affine_from_rotation
from tracker.formats import KITTI_FIRST_FRAME, MOT_FIRST_FRAME, FormatError, read_seqinfo

__all__ = [
    "DatasetError",
    "Sequence",
    "load_sequences",
    "result_file",
    "write_eval_gt",
    "write_eval_tracker",
]

#: Name of the seqmap file ``write_eval_gt`` writes (KITTI: ``evaluate_tracking.seqmap.<EVAL_SPLIT>``).
EVAL_SPLIT = "bench"
#: Columns of a KITTI seqmap row: ``seq empty first_frame last_frame_exclusive``.
_SEQMAP_COLUMNS = 4


def _read_kitti_seqmap(path: Path) -> dict[str, tuple[int, int]]:
    """``seq -> (first_frame, last_frame_inclusive)`` from a KITTI seqmap."""
    if not path.is_file():
        raise DatasetError(f"{path}: seqmap not found")
    rows = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != _SEQMAP_COLUMNS:
            raise DatasetError(
                f"{path}:{number}: expected 'seq empty first_frame last_frame_exclusive', got {line.strip()!r}"
            )
        try:
            first, end = int(fields[2]), int(fields[3])
        except ValueError:
            raise DatasetError(f"{path}:{number}: frame numbers must be integers, got {line.strip()!r}") from None
        if not 0 <= first < end:
            raise DatasetError(f"{path}:{number}: need 0 <= first_frame < last_frame_exclusive, got {first}, {end}")
        rows[fields[0]] = (first, end - 1)
    return rows


def _read_mot_seqmap(path: Path) -> list[str]:
    """Sequence names of a MOTChallenge seqmap (``name`` header, one sequence per line)."""
    if not path.is_file():
        raise DatasetError(f"{path}: seqmap not found")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    if not lines or lines[0] != "name":
        raise DatasetError(f"{path}:1: a MOTChallenge seqmap starts with the header line 'name'")
    return [line for line in lines[1:] if line]


def _image_frames(image_dir: Path) -> tuple[int, int]:
    """``(first, last)`` frame numbers of the images in ``image_dir`` (names are frame numbers)."""
    if not image_dir.is_dir():
        raise DatasetError(f"{image_dir}: image folder not found")
    numbers = sorted(int(p.stem) for p in image_dir.iterdir() if p.is_file() and p.stem.isdigit())
    if not numbers:
        raise DatasetError(f"{image_dir}: no images named by frame number")
    if numbers != list(range(numbers[0], numbers[-1] + 1)):
        raise DatasetError(f"{image_dir}: frames {numbers[0]}..{numbers[-1]} have gaps")
    return numbers[0], numbers[-1]


def _val_half(first: int, last: int) -> tuple[int, int]:
    """ByteTrack's validation half: the 0-based indices ``L//2 + 1 .. L - 1`` of a sequence of length ``L``."""
    length = last - first + 1
    return first + length // 2 + 1, last


def load_sequences(bench: BenchmarkConfig, names: tuple[str, ...] | list[str] | None = None) -> list[Sequence]:
    """The benchmark's sequences, each restricted to ``bench.frame_range``.

    Args:
        bench: the benchmark.
        names: only these sequences (in this order); None: ``bench.sequences``, or
            every sequence of ``bench.seqmap``.

    Raises:
        DatasetError: a seqmap, ``seqinfo.ini``, ground-truth, detection file or image
            folder is missing or malformed, or a requested sequence is not in the
            benchmark (each message names the file or the sequence).
    """
    if bench.format == "bdd100k":
        return bdd100k.load_sequences(bench, names)
    kitti_map = _read_kitti_seqmap(bench.root_path / bench.seqmap) if bench.format == "kitti" and bench.seqmap else {}
    available: list[str] = list(bench.sequences)
    if not available:
        seqmap = bench.root_path / bench.seqmap
        available = list(kitti_map) if bench.format == "kitti" else _read_mot_seqmap(seqmap)
    chosen = list(names) if names else available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise DatasetError(
            f"{bench.source}: unknown sequence(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return [_sequence(bench, name, kitti_map) for name in chosen]


def _sequence(bench: BenchmarkConfig, name: str, kitti_map: dict[str, tuple[int, int]]) -> Sequence:
    gt_path = bench.path(bench.gt, name)
    if not gt_path.is_file():
        raise DatasetError(f"{gt_path}: ground truth of sequence {name} not found")
    seqinfo: tuple[tuple[str, str], ...] = ()
    image_dir_name = "img1"
    if bench.format == "kitti":
        base = KITTI_FIRST_FRAME
        if name not in kitti_map:
            raise DatasetError(f"{bench.root_path / bench.seqmap}: sequence {name} is not in the seqmap")
        first, last = kitti_map[name]
        frame_rate = float(bench.frame_rate)
    else:
        base = MOT_FIRST_FRAME
        seqinfo_path = bench.path(bench.seqinfo, name)
        if not seqinfo_path.is_file():
            raise DatasetError(f"{seqinfo_path}: seqinfo.ini not found")
        try:
            info = read_seqinfo(seqinfo_path)
            if info.length is None or info.frame_rate is None:
                raise info.missing("seqLength" if info.length is None else "frameRate")
        except FormatError as error:
            raise DatasetError(str(error)) from None
        first, last = base, base + info.length - 1
        frame_rate = bench.frame_rate or info.frame_rate
        seqinfo, image_dir_name = info.entries, info.image_dir
    image_dir = None
    if bench.detector is not None:
        template = bench.images or "{seq}/" + image_dir_name
        image_dir = bench.path(template, name)
    if bench.frame_range == "val_half":
        first, last = _val_half(first, last)
    elif bench.frame_range == "images":
        first, last = _image_frames(image_dir)
    detections_path = detections_file(bench, name)
    return Sequence(
        name=name,
        first_frame=first,
        last_frame=last,
        base_frame=base,
        frame_rate=float(frame_rate),
        gt_path=gt_path,
        detections_path=detections_path,
        image_dir=image_dir,
        seqinfo=seqinfo,
    )


def _shift_rows(src: Path, dst: Path, sequence: Sequence, separator: str | None) -> int:
    """Copy the rows of ``src`` inside the sequence's range to ``dst`` with frames renumbered; return the count."""
    shift = sequence.base_frame - sequence.first_frame
    joiner = " " if separator is None else separator
    out = []
    for number, line in enumerate(src.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.strip().split(separator)
        if not fields or not fields[0]:
            continue
        try:
            frame = int(float(fields[0]))
        except ValueError:
            raise DatasetError(f"{src}:{number}: frame number is not a number: {fields[0]!r}") from None
        if sequence.first_frame <= frame <= sequence.last_frame:
            out.append(joiner.join([str(frame + shift), *fields[1:]]) + "\n")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("".join(out), encoding="utf-8")
    return len(out)


def write_eval_gt(bench: BenchmarkConfig, sequences: list[Sequence], folder: Path) -> Path:
    """Write a TrackEval ground-truth folder for ``sequences`` (each cut to its range) under ``folder``.

    KITTI: ``folder/label_02/<seq>.txt`` and ``folder/evaluate_tracking.seqmap.bench``
    (for ``Kitti2DBox`` with ``GT_FOLDER=folder``, ``SPLIT_TO_EVAL='bench'``). MOT:
    ``folder/<seq>/gt/gt.txt``, ``folder/<seq>/seqinfo.ini`` and ``folder/seqmap.txt``
    (for ``MotChallenge2DBox`` with ``SKIP_SPLIT_FOL=True`` and ``SEQMAP_FILE``). BDD100K:
    :func:`benchmarks.bdd100k.write_eval_gt` (``folder/<video>.json``, for ``BDD100K``).

    Returns:
        ``folder``.

    Raises:
        DatasetError: a ground-truth row has a non-numeric frame (names file and line).
    """
    if bench.format == "bdd100k":
        return bdd100k.write_eval_gt(bench, sequences, folder)
    folder.mkdir(parents=True, exist_ok=True)
    if bench.format == "kitti":
        lines = []
        for seq in sequences:
            _shift_rows(seq.gt_path, folder / "label_02" / f"{seq.name}.txt", seq, None)
            lines.append(f"{seq.name} empty {0:06d} {seq.num_frames:06d}\n")
        (folder / f"evaluate_tracking.seqmap.{EVAL_SPLIT}").write_text("".join(lines), encoding="utf-8")
        return folder
    for seq in sequences:
        _shift_rows(seq.gt_path, folder / seq.name / "gt" / "gt.txt", seq, ",")
        parser = configparser.ConfigParser()
        parser.optionxform = str
        parser["Sequence"] = {**dict(seq.seqinfo), "seqLength": str(seq.num_frames)}
        with (folder / seq.name / "seqinfo.ini").open("w", encoding="utf-8") as handle:
            parser.write(handle, space_around_delimiters=False)
    (folder / "seqmap.txt").write_text("name\n" + "".join(f"{s.name}\n" for s in sequences), encoding="utf-8")
    return folder


def write_eval_tracker(bench: BenchmarkConfig, sequence: Sequence, results: Path, dst: Path) -> None:
    """Copy a tracker's result file ``results`` to ``dst``, cut to the sequence's range and renumbered like the gt.

    BDD100K: :func:`benchmarks.bdd100k.write_eval_tracker` (Scalabel JSON to TrackEval's layout).
    """
    if bench.format == "bdd100k":
        bdd100k.write_eval_tracker(sequence, results, dst)
        return
    _shift_rows(results, dst, sequence, None if bench.format == "kitti" else ",")


def result_file(bench: BenchmarkConfig, name: str) -> str:
    """File name of sequence ``name``'s results: ``<name>.json`` (BDD100K, Scalabel JSON), else ``<name>.txt``."""
    return f"{name}.json" if bench.format == "bdd100k" else f"{name}.txt"


def read_kitti_poses(path: Path) -> np.ndarray:
    """Camera poses of a KITTI-odometry-style file: ``(N, 3, 4)`` float64 camera-to-world ``[R | t]``.

    Line ``i`` (0-based) is frame ``i``: 12 numbers, a row-major 3x4 matrix, metres.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DatasetError: a line without 12 finite numbers (file and line named).
    """
    poses = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            values = np.array(line.split(), dtype=np.float64)
        except ValueError:
            values = np.zeros(0)
        if values.shape != (12,) or not np.isfinite(values).all():
            raise DatasetError(f"{path}:{number}: expected 12 numbers (a 3x4 pose), got {line!r}")
        poses.append(values.reshape(3, 4))
    return np.array(poses).reshape(-1, 3, 4)


def read_kitti_intrinsics(path: Path, camera: str = "P2") -> np.ndarray:
    """The ``(3, 3)`` camera matrix ``K`` (pixels) from the ``camera`` row of a KITTI calibration file.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DatasetError: no ``camera`` row, or it does not hold 12 numbers.
    """
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        key, _, rest = line.partition(":")
        if key.strip() == camera:
            values = rest.split()
            if len(values) != 12:
                raise DatasetError(f"{path}:{number}: {camera} needs 12 numbers, got {len(values)}")
            return np.array(values, dtype=np.float64).reshape(3, 4)[:, :3]
    raise DatasetError(f"{path}: no {camera} row")


def camera_motions(bench: BenchmarkConfig, sequence: Sequence) -> dict[int, np.ndarray] | None:
    """Frame -> ``(2, 3)`` affine from the previous frame's pixels to this frame's, or None without poses.

    The rotation between consecutive camera poses, mapped into the image by
    :func:`tracker.camera_motion.affine_from_rotation` (camera translation ignored).
    The first frame of the sequence gets none.

    Raises:
        DatasetError: the pose file has fewer lines than the sequence has frames.
    """
    if not bench.ego_poses:
        return None
    poses = read_kitti_poses(bench.path(bench.ego_poses, sequence.name))
    intrinsics = read_kitti_intrinsics(bench.path(bench.calib, sequence.name))
    frames = list(sequence.frames)
    if frames[-1] >= len(poses):
        raise DatasetError(
            f"{bench.path(bench.ego_poses, sequence.name)}: {len(poses)} poses, sequence needs frame {frames[-1]}"
        )
    return {
        frame: affine_from_rotation(intrinsics, poses[frame, :, :3].T @ poses[previous, :, :3])
        for previous, frame in zip(frames, frames[1:], strict=False)
    }
