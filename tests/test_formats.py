"""The file-format readers of tracker.formats on every real file of ../shared, and on small malformed inputs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tracker.formats.mot as mot
from tracker.formats import (
    POINTRCNN,
    RRC,
    WITH_CLASS,
    FormatError,
    MotDetections,
    group_rows,
    read_kitti_csv,
    read_kitti_labels,
    read_mot_detections,
    read_mot_ground_truth,
    read_seqinfo,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
KITTI = DATA / "kitti_tracking"
MOT17 = DATA / "MOT17" / "train" / "MOT17-02-FRCNN"
CIWT = KITTI / "reference" / "CIWT" / "data"

MOT_DETS = sorted((DATA / "MOT17" / "train").glob("*/det/det.txt")) + sorted(
    (DATA / "MOT17" / "det_yolox_valhalf").glob("*.txt")
)
# the DPM, FRCNN and SDP copies of a MOT17 sequence share one gt.txt: one copy is read
MOT_GTS = sorted((DATA / "MOT17" / "train").glob("*-FRCNN/gt/gt.txt")) + sorted(
    (DATA / "MOT17-mini").glob("*/*/gt/gt.txt")
)
SEQINFOS = sorted((DATA / "MOT17" / "train").glob("*/seqinfo.ini")) + sorted(
    (DATA / "MOT17-mini").glob("*/*/seqinfo.ini")
)
LABELS = sorted((KITTI / "training" / "label_02").glob("*.txt")) + sorted(KITTI.glob("frames_sparse/*/label_02.txt"))
CSVS = sorted((KITTI / "training").glob("det_02_*/*.txt"))


def _rows(path: Path, separator: str | None = ",") -> list[list[str]]:
    return [line.split(separator) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# Real files -------------------------------------------------------------------------------------


def test_every_shared_file_reads_with_one_entry_per_row() -> None:
    assert len(MOT_DETS) == 28 and len(MOT_GTS) == 9 and len(SEQINFOS) == 23
    assert len(LABELS) == 12 and len(CSVS) == 20
    for path in MOT_DETS:
        assert len(read_mot_detections(path).frames) == len(_rows(path)), path
    for path in MOT_GTS:
        gt = read_mot_ground_truth(path)
        assert len(gt.frames) == len(gt.ids) == len(gt.xyxy) == len(_rows(path)), path
    for path in SEQINFOS:
        info = read_seqinfo(path)
        assert info.frame_rate is not None and info.length is not None and info.name == path.parent.name, path
    for path in LABELS:
        assert len(read_kitti_labels(path).types) == len(_rows(path, None)), path
    for path in CSVS:
        detections = read_kitti_csv(path)
        assert detections.layout == (POINTRCNN if "pointrcnn" in str(path) else RRC), path
        assert len(detections.frames) == len(_rows(path)), path


def test_mot_detections_are_xyxy_in_file_order() -> None:
    detections = read_mot_detections(MOT17 / "det" / "det.txt")
    # first row: 69,-1,912.8,482.9,97.6,112.6,1 (the file is not sorted by frame)
    assert detections.frames[0] == 69 and detections.frames.min() == 1 and detections.frames.dtype == np.int64
    np.testing.assert_allclose(detections.xyxy[0], [912.8, 482.9, 912.8 + 97.6, 482.9 + 112.6])
    assert detections.scores[0] == 1.0 and detections.xyxy.shape == (len(detections.frames), 4)
    yolox = read_mot_detections(DATA / "MOT17" / "det_yolox_valhalf" / "MOT17-02-FRCNN.txt")
    # 10 columns, x,y,z ignored; first row: 302,-1,889.65,422.55,137.70,520.43,0.93756,-1,-1,-1
    assert yolox.frames.min() == 600 // 2 + 2 and yolox.scores[0] == 0.93756
    np.testing.assert_allclose(yolox.xyxy[0], [889.65, 422.55, 889.65 + 137.70, 422.55 + 520.43])


def test_mot_ground_truth_columns() -> None:
    path = MOT17 / "gt" / "gt.txt"
    gt = read_mot_ground_truth(path)
    # first row: 1,1,912,484,97,109,0,7,1 (a static person: class 7, not considered)
    assert (gt.frames[0], gt.ids[0], gt.consider[0], gt.classes[0], gt.visibility[0]) == (1, 1, False, 7, 1.0)
    np.testing.assert_array_equal(gt.xyxy[0], [912, 484, 1009, 593])
    pedestrians = sum(1 for row in _rows(path) if row[6] == "1" and row[7] == "1")
    assert int((gt.consider & (gt.classes == 1)).sum()) == pedestrians > 10000


def test_seqinfo_of_a_mot17_sequence() -> None:
    info = read_seqinfo(MOT17 / "seqinfo.ini")
    assert (info.name, info.image_dir, info.frame_rate, info.length) == ("MOT17-02-FRCNN", "img1", 30.0, 600)
    assert (info.width, info.height) == (1920, 1080)
    assert [key for key, _ in info.entries] == [
        "name",
        "imDir",
        "frameRate",
        "seqLength",
        "imWidth",
        "imHeight",
        "imExt",
    ]


def test_kitti_labels_columns() -> None:
    labels = read_kitti_labels(KITTI / "training" / "label_02" / "0000.txt")
    # third row: 0 0 Van 0 0 -1.793451 296.744956 161.752147 455.226042 292.372804 2.000000 1.823255 4.433886
    #            -4.552284 1.858523 13.410495 -2.115488
    assert labels.types[:3].tolist() == ["DontCare", "DontCare", "Van"]
    assert labels.track_ids[:3].tolist() == [-1, -1, 0] and labels.occluded[2] == 0
    np.testing.assert_array_equal(labels.xyxy[2], [296.744956, 161.752147, 455.226042, 292.372804])
    np.testing.assert_array_equal(labels.dimensions[2], [2.0, 1.823255, 4.433886])
    np.testing.assert_array_equal(labels.location[2], [-4.552284, 1.858523, 13.410495])
    assert labels.rotation_y[2] == -2.115488 and labels.alpha[2] == -1.793451
    assert (labels.scores == 1.0).all(), "ground truth has no score column"


def test_kitti_tracker_output_has_scores_and_an_inverted_box_is_named() -> None:
    output = read_kitti_labels(CIWT / "0000.txt")  # 18 columns: a tracker's KITTI output
    assert output.scores[0] == 0.481789 and output.frames[0] == 3
    # CIWT's output for 0007 holds one box clipped at the image border with x1 > x2.
    with pytest.raises(FormatError, match=r"0007.txt:58: box is inverted") as caught:
        read_kitti_labels(CIWT / "0007.txt")
    assert caught.value.line == 58 and caught.value.path == CIWT / "0007.txt"


def test_kitti_csv_layouts() -> None:
    rrc = read_kitti_csv(KITTI / "training" / "det_02_rrc" / "0000.txt")
    assert rrc.class_ids is None and rrc.frames[0] == 0
    np.testing.assert_array_equal(rrc.xyxy[0], [296.021, 160.173, 452.297, 288.372])
    assert rrc.scores[0] == 0.52923
    pointrcnn = read_kitti_csv(KITTI / "training" / "det_02_pointrcnn" / "0000.txt")
    assert pointrcnn.layout == POINTRCNN and pointrcnn.class_ids is None
    assert pointrcnn.scores[:3].tolist() == [8.2981, 1.3104, -0.4501], "logits as written"


def test_kitti_csv_with_classes(tmp_path: Path) -> None:
    path = _write(tmp_path, "cache.csv", "0,1,2,3,4,0.5,2\n\n3,1.5,2,3,4.5,0.25,7\n")
    detections = read_kitti_csv(path)
    assert detections.layout == WITH_CLASS and detections.class_ids is not None
    assert detections.class_ids.tolist() == [2, 7] and detections.frames.tolist() == [0, 3]
    np.testing.assert_array_equal(detections.xyxy, [[1, 2, 3, 4], [1.5, 2, 3, 4.5]])


# Synthetic inputs ------------------------------------------------------------------------------


def test_empty_files_have_no_rows_and_missing_files_are_errors(tmp_path: Path) -> None:
    empty = _write(tmp_path, "empty.txt", "\n  \n")
    assert read_mot_detections(empty).xyxy.shape == (0, 4)
    assert read_mot_ground_truth(empty).consider.shape == (0,)
    labels = read_kitti_labels(empty)
    assert labels.xyxy.shape == (0, 4) and labels.types.shape == (0,) and labels.location.shape == (0, 3)
    csv = read_kitti_csv(empty)
    assert csv.layout == RRC and csv.xyxy.shape == (0, 4) and csv.frames.dtype == np.int64
    for reader in (read_mot_detections, read_mot_ground_truth, read_kitti_labels, read_kitti_csv, read_seqinfo):
        with pytest.raises(FileNotFoundError, match="missing.txt: no such file"):
            reader(tmp_path / "missing.txt")


def test_not_utf8_text_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_bytes(b"1,-1,1,2,3,4,0.5\r\n\r\n2,-1,1,2,\xff3,4,0.5\n")
    for reader in (read_mot_detections, read_mot_ground_truth, read_kitti_csv, read_kitti_labels, read_seqinfo):
        with pytest.raises(FormatError, match=r"det.txt:3: not UTF-8 text: byte 0xff at column 10") as caught:
            reader(path)
        assert caught.value.line == 3


def test_a_utf8_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    bom = "\ufeff"
    det = _write(tmp_path, "det.txt", bom + "1,-1,1,2,3,4,0.5\n")
    assert read_mot_detections(det).frames.tolist() == [1]
    csv = _write(tmp_path, "rrc.txt", bom + "0,1,2,3,4,0.5\n")
    assert read_kitti_csv(csv).xyxy.tolist() == [[1, 2, 3, 4]]
    gt = _write(tmp_path, "gt.txt", bom + "1,1,912,484,97,109,1,1,1\n")
    assert read_mot_ground_truth(gt).ids.tolist() == [1]
    seqinfo = _write(tmp_path, "seqinfo.ini", bom + "[Sequence]\nframeRate=30\n")
    assert read_seqinfo(seqinfo).frame_rate == 30.0
    bad = _write(tmp_path, "bad.txt", "1,-1,1,2,3,4,0.5\n" + bom + "2,-1,1,2,3,4,0.5\n")  # only a leading one
    with pytest.raises(FormatError, match=r"bad.txt:2: column 'frame' is not a number"):
        read_mot_detections(bad)


def test_line_numbers_count_blank_lines_and_any_line_ending(tmp_path: Path) -> None:
    path = tmp_path / "det.txt"
    path.write_bytes(b"1,-1,1,2,3,4,0.5\r\n\r\n2,-1,1,2,3,4\r\n")
    with pytest.raises(FormatError, match=r"det.txt:3: expected at least 7 columns"):
        read_mot_detections(path)


@pytest.mark.parametrize(
    ("reader", "text", "reason"),
    [
        (read_mot_ground_truth, "1,1,912,484,97,109,0,7", "expected 9 columns"),
        (read_mot_ground_truth, "1,1,912,484,97,109,2,7,1", "column 'consider' must be 0 or 1, got '2'"),
        (read_mot_ground_truth, "1,1.5,912,484,97,109,1,1,1", "id is not a whole number: 1.5"),
        (read_mot_ground_truth, "1,1,912,484,97,109,1,one,1", "column 'class' is not a number: 'one'"),
        (read_mot_ground_truth, "1,1,912,484,-97,109,1,1,1", "negative width or height"),
        (read_mot_ground_truth, "0,1,912,484,97,109,1,1,1", "frame number 0 is below the first frame 1"),
        (read_mot_detections, "1,-1,912,484,97,109,inf", "column 'score' is not finite: 'inf'"),
        (read_kitti_labels, "0 0 Car 0 0 -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 13.4", "expected 17 or 18"),
        (
            read_kitti_labels,
            "-1 0 Car 0 0 -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 13.4 -2.1",
            "below the first",
        ),
        (read_kitti_labels, "0 0.5 Car 0 0 -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 13.4 -2.1", "track_id is"),
        (read_kitti_labels, "0 0 Car 0 x -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 13.4 -2.1", "'occluded'"),
        (read_kitti_labels, "0 0 Car 0 1.5 -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 13.4 -2.1", "occluded is"),
        (read_kitti_labels, "0 0 Car 0 0 -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 nan -2.1", "column 'Z'"),
        (read_kitti_labels, "0 0 Car 0 0 -1.7 296.7 161.7 455.2 292.3 2 1.8 4.4 -4.5 1.8 13.4 -2.1 hi", "'score'"),
        (read_kitti_csv, "0,2,298.3,165.1,458.2,293.4,8.2,1.9,1.8,4.7,-4.5,nan,13.5,-2.1,-1.7", "column 'y' is"),
        (read_kitti_csv, "0,1,2,3,4,0.5,2.5", "class_id is not a whole number: 2.5"),
        (read_kitti_csv, "0,1,2,3,4,0.5,2,9", r"expected 6 \(frame,x1,y1,x2,y2,score\), 7 .* got 8"),
        (read_kitti_csv, "0,1,2,3,4,0.5,1e20", r"class_id 1e\+20 is out of range \(must fit a signed 64-bit"),
        (read_kitti_csv, "1e19,1,2,3,4,0.5", r"frame number 1e\+19 is out of range"),
        (read_kitti_csv, "0,1,2,3e38,4,0.5", r"column 'x2' is beyond ±1e\+06 pixels: 3e\+38"),
        (read_mot_detections, "1,-1,1,2,1e39,4,0.9", r"column 'width' is beyond ±1e\+06 pixels: 1e\+39"),
        (read_mot_detections, "1,-1,-2e6,2,3,4,0.9", r"column 'left' is beyond ±1e\+06 pixels: -2e\+06"),
        (read_mot_detections, "1e20,-1,1,2,3,4,0.9", r"frame number 1e\+20 is out of range"),
        (read_mot_ground_truth, "1,1e20,912,484,97,109,1,1,1", r"id 1e\+20 is out of range"),
        (read_mot_ground_truth, "1,1,912,484,97,109,1,-1e30,1", r"class -1e\+30 is out of range"),
        (read_kitti_labels, "0 0 Car 0 0 -1.7 296.7 161.7 455.2 9e9 2 1.8 4.4 -4.5 1.8 13.4 -2.1", "column 'y2' is"),
    ],
)
def test_malformed_rows_name_file_line_and_reason(tmp_path: Path, reader: object, text: str, reason: str) -> None:
    path = _write(tmp_path, "rows.txt", "\n" + text + "\n")
    with pytest.raises(FormatError, match=reason) as caught:
        reader(path)  # type: ignore[operator]
    assert str(caught.value).startswith(f"{path}:2: ") and caught.value.line == 2 and caught.value.path == path


def test_a_csv_row_unlike_the_first_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "rrc.txt", "0,1,2,3,4,0.5\n1,1,2,3,4,0.5,2\n")
    with pytest.raises(FormatError, match=r"rrc.txt:2: expected 6 columns like the first row, got 7"):
        read_kitti_csv(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("frameRate=30\n", "not a valid seqinfo.ini: File contains no section headers"),
        ("[Other]\nframeRate=30\n", r"no \[Sequence\] section"),
        ("[Sequence]\nframeRate=30\nframerate=25\n", "not a valid seqinfo.ini: .*'framerate'.* already exists"),
        ("[Sequence]\nframeRate=fast\n", "frameRate must be a number of frames per second, got 'fast'"),
        ("[Sequence]\nframeRate=0\n", "frameRate must be a positive finite number, got '0'"),
        ("[Sequence]\nframeRate=inf\n", "frameRate must be a positive finite number, got 'inf'"),
        ("[Sequence]\nframeRate=-inf\n", "frameRate must be a positive finite number, got '-inf'"),
        ("[Sequence]\nframeRate=nan\n", "frameRate must be a positive finite number, got 'nan'"),
        ("[Sequence]\nseqLength=10.5\n", "seqLength must be a whole number, got '10.5'"),
        ("[Sequence]\nimWidth=-4\n", "imWidth must be positive, got '-4'"),
    ],
)
def test_malformed_seqinfo_names_the_file(tmp_path: Path, text: str, reason: str) -> None:
    path = _write(tmp_path, "seqinfo.ini", text)
    with pytest.raises(FormatError, match=f"^{path}: {reason}"):
        read_seqinfo(path)


def test_seqinfo_keys_are_case_insensitive_and_optional(tmp_path: Path) -> None:
    path = _write(tmp_path, "seqinfo.ini", "[Sequence]\nFRAMERATE=12.5\nimdir=frames\ncomment=100%\n")
    info = read_seqinfo(path)
    assert (info.frame_rate, info.image_dir, info.length, info.name) == (12.5, "frames", None, None)
    assert info.entries == (("frameRate", "12.5"), ("imDir", "frames"), ("comment", "100%"))
    assert str(info.missing("seqLength")) == f"{path}: [Sequence] has no seqLength"


def test_seqinfo_values_are_not_interpolated(tmp_path: Path) -> None:
    path = _write(tmp_path, "seqinfo.ini", "[Sequence]\nimDir=%(foo)s\nname=%(name)s\nframeRate=10\n")
    info = read_seqinfo(path)
    assert (info.image_dir, info.name, info.frame_rate) == ("%(foo)s", "%(name)s", 10.0)


def test_group_rows_keeps_file_order_within_each_key() -> None:
    groups = group_rows(np.array([3, 1, 3, 2, 1]))
    assert list(groups) == [1, 2, 3]
    assert [groups[key].tolist() for key in groups] == [[1, 4], [3], [0, 2]]
    assert group_rows(np.zeros(0, dtype=np.int64)) == {}


def test_import_tracker_does_not_import_the_readers() -> None:
    code = "import sys, tracker; print(sorted(m for m in ('tracker.formats', 'tracker.frames') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# The fast det.txt reader -------------------------------------------------------------------------


@pytest.fixture(params=["polars", "numpy"])
def fast_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test below runs with both fast parsers: Polars', and NumPy's as when polars is not installed."""
    if request.param == "polars":
        pytest.importorskip("polars")
    else:
        monkeypatch.setitem(sys.modules, "polars", None)  # import polars raises ImportError
    return request.param


def _same_detections(a: MotDetections, b: MotDetections) -> None:
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.xyxy, b.xyxy)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.frames.dtype == b.frames.dtype == np.int64 and a.xyxy.dtype == b.xyxy.dtype == np.float64


def test_det_txt_fast_path_reads_every_real_file_exactly_as_the_row_reader(
    fast_parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    by_row = {path: mot._mot_detections_by_row(path) for path in MOT_DETS}

    def refuse(path: Path) -> MotDetections:
        raise AssertionError(f"{path}: the fast path should have read it")

    monkeypatch.setattr(mot, "_mot_detections_by_row", refuse)
    for path, expected in by_row.items():
        _same_detections(read_mot_detections(path), expected)


def _generated_rows(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    tlwh = np.concatenate([rng.uniform(-50, 1900, (count, 2)), rng.uniform(0, 300, (count, 2))], axis=1)
    return [
        f"{1 + k // 50},-1,{x:.3f},{y:.3f},{w:.3f},{h:.3f},{s:.5f}" + (",-1,-1,-1" if k % 3 else "")
        for k, ((x, y, w, h), s) in enumerate(zip(tlwh.tolist(), rng.uniform(0, 1, count).tolist(), strict=True))
    ]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("60,-1,1,2,3,4,high", "column 'score' is not a number: 'high'"),
        ("60,-1,1,2,3,4", "expected at least 7 columns"),
        ("60,-1,1,2,-3,4,0.5", "negative width or height"),
        ("60,-1,1,2,3e39,4,0.5", "column 'width' is beyond"),
        ("60,-1,1,2,3,4,nan", "column 'score' is not finite"),
        ("60.5,-1,1,2,3,4,0.5", "frame number is not a whole number"),
        ("0,-1,1,2,3,4,0.5", "frame number 0 is below the first frame 1"),
        ("60,-1,1,2,3,4,0.5#", "column 'score' is not a number"),
        ("60,-1,,2,3,4,0.5", "column 'left' is not a number: ''"),
    ],
)
def test_a_bad_row_deep_in_a_large_det_txt_is_named(fast_parser: str, tmp_path: Path, bad: str, reason: str) -> None:
    rows = _generated_rows(5_000, seed=1)
    rows[2_999] = bad
    path = _write(tmp_path, "det.txt", "\n".join(rows) + "\n")
    with pytest.raises(FormatError, match=reason) as caught:
        read_mot_detections(path)
    assert caught.value.line == 3_000 and str(caught.value).startswith(f"{path}:3000: ")


@pytest.mark.parametrize(
    "token",
    ["1.5", "+1.5", ".5", "5.", "1e2", "1E+02", "-0", "inf", "-Infinity", "nan", "NaN", "0x10", "1_0", " 7 ", "\t7"]
    + ["", "1e", "e1", "--1", "1.2.3", "1d2", "true", "१", "1e400", "1e-400", "0.1000000000000000055511151231257827"],
)
def test_any_field_reads_as_the_row_reader_reads_it(fast_parser: str, tmp_path: Path, token: str) -> None:
    rows = _generated_rows(100, seed=3)
    rows[40] = f"5,-1,{token},20,30,40,0.5"
    path = _write(tmp_path, "det.txt", "\n".join(rows) + "\n")
    try:
        expected: MotDetections | str = mot._mot_detections_by_row(path)
    except FormatError as error:
        expected = str(error)
    try:
        got: MotDetections | str = read_mot_detections(path)
    except FormatError as error:
        got = str(error)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert not isinstance(got, str)
        _same_detections(got, expected)


def test_what_only_the_row_reader_parses_reads_the_same(fast_parser: str, tmp_path: Path) -> None:
    rows = _generated_rows(1_000, seed=2)
    clean = read_mot_detections(_write(tmp_path, "clean.txt", "\n".join(rows) + "\n"))
    odd = list(rows)
    odd[10] = odd[10].replace(",-1,", ", -1 ,", 1)  # spaces around a field
    odd.insert(500, "   ")  # a line of spaces: blank
    odd.insert(700, "")  # a blank line
    _same_detections(read_mot_detections(_write(tmp_path, "odd.txt", "\r\n".join(odd) + "\r\n\r\n")), clean)
    underscored = list(rows)
    underscored[20] = "1_0" + underscored[20].removeprefix("1")  # frame 10 written as Python allows
    got = read_mot_detections(_write(tmp_path, "underscored.txt", "\n".join(underscored) + "\n"))
    assert got.frames[20] == 10 and np.array_equal(np.delete(got.frames, 20), np.delete(clean.frames, 20))
