"""Inference runtimes: choice, cached Ultralytics exports, and exports run directly on OpenVINO.

Exports land in the test session's ``$XDG_CACHE_HOME`` (see ``conftest.py``) or in
``tmp_path``; one export takes a few seconds.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors.runtime import ExportError, choose_runtime, exported_model, letterbox_shape
from tracker import ConfigError

pytest.importorskip("ultralytics", reason="exports need the 'yolo' extra")
cv2 = pytest.importorskip("cv2", reason="frames are read with OpenCV")
needs_openvino = pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="needs openvino")


@pytest.fixture(scope="module")
def frames(shared_dir: Path) -> list[np.ndarray]:
    """20 frames of test_small2.mp4 (1280x720) and the 8 sparse KITTI frames (1242x375, 1224x370)."""
    capture = cv2.VideoCapture(str(shared_dir / "data" / "videos" / "test_small2.mp4"))
    images = [capture.read()[1] for _ in range(20)]
    sparse = shared_dir / "data" / "kitti_tracking" / "frames_sparse"
    return images + [cv2.imread(str(path)) for path in sorted(sparse.glob("*/*.png"))]


def test_letterbox_shape_is_the_stride_padded_shape() -> None:
    assert letterbox_shape((720, 1280), 640) == (384, 640)
    assert letterbox_shape((375, 1242), 640) == (224, 640)
    assert letterbox_shape((1080, 1920), 1280) == (736, 1280)
    assert letterbox_shape((640, 640), 640) == (640, 640)
    with pytest.raises(ValueError, match="positive"):
        letterbox_shape((0, 10), 640)


def test_runtime_choice(shared_dir: Path) -> None:
    pt = str(shared_dir / "models" / "yolov8n.pt")
    int8 = str(shared_dir / "models" / "yolo11n_int8_openvino_model")
    openvino = importlib.util.find_spec("openvino") is not None
    assert choose_runtime("auto", pt, "cpu") == ("openvino" if openvino else "torch")
    assert choose_runtime("auto", pt, "cuda:0") == "torch"
    assert choose_runtime("torch", pt, "cpu") == "torch"
    with pytest.raises(ConfigError, match="exported openvino model"):
        choose_runtime("torch", int8, "cpu")
    with pytest.raises(ConfigError, match="runs on the CPU"):
        choose_runtime("openvino", pt, "cuda:0")
    with pytest.raises(ConfigError, match="must be one of"):
        choose_runtime("tensorrt", pt, "cpu")


@needs_openvino
def test_openvino_export_runs_directly_and_agrees_with_ultralytics(frames, yolo_weights: Path) -> None:
    """Our pre- and post-processing around OpenVINO give the boxes of ``YOLO(export).predict``."""
    from ultralytics import YOLO

    from detectors.yolo import YOLODetector

    detector = YOLODetector(weights=str(yolo_weights), runtime="openvino", frame_size=(720, 1280))
    assert detector.describe()["inference"] == "openvino directly" and detector.input_hw == (384, 640)
    reference = YOLO(detector.model_path, task="detect")
    compared = 0
    for frame in frames:
        ours = detector(frame)
        theirs = reference.predict(frame, conf=0.25, iou=0.7, classes=[2, 3, 5, 7], verbose=False)[0].boxes
        assert len(ours) == len(theirs)
        np.testing.assert_allclose(ours.xyxy, theirs.xyxy.numpy(), atol=1e-2)
        np.testing.assert_allclose(ours.scores, theirs.conf.numpy(), atol=1e-4)
        np.testing.assert_array_equal(ours.class_ids, theirs.cls.numpy().astype(int))
        compared += len(ours)
    assert compared > 50


@needs_openvino
def test_openvino_and_torch_find_the_same_cars(frames, yolo_weights: Path) -> None:
    """OpenVINO may compute in bfloat16: boxes differ slightly, not which cars are found."""
    from detectors.yolo import YOLODetector
    from tracker.boxes import iou_matrix

    fast = YOLODetector(weights=str(yolo_weights), runtime="openvino", frame_size=(720, 1280))
    exact = YOLODetector(weights=str(yolo_weights), runtime="torch", device="cpu")
    matched = total = 0
    for frame in frames[:20]:
        a, b = fast(frame), exact(frame)
        confident = b.scores > 0.5
        total += int(confident.sum())
        if len(a) and confident.any():
            matched += int((iou_matrix(b.xyxy[confident], a.xyxy).max(axis=1) > 0.9).sum())
    assert total > 20 and matched == total


@needs_openvino
def test_no_torch_import_on_the_openvino_path(yolo_weights: Path) -> None:
    from detectors.yolo import YOLODetector

    YOLODetector(weights=str(yolo_weights), runtime="openvino", frame_size=(720, 1280))  # export made and cached
    code = (
        "import sys; from detectors.yolo import YOLODetector; "
        f"d = YOLODetector(weights={str(yolo_weights)!r}, runtime='openvino', frame_size=(720, 1280)); "
        "print(d.runtime, 'torch' in sys.modules, 'ultralytics' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["openvino", "False", "False"]


@needs_openvino
def test_export_is_cached_beside_writable_weights_and_renewed_when_stale(
    tmp_path: Path, yolo_weights: Path, caplog: pytest.LogCaptureFixture
) -> None:
    weights = tmp_path / "yolov8n.pt"
    weights.write_bytes(yolo_weights.read_bytes())
    with caplog.at_level(logging.WARNING, logger="detectors.runtime"):
        first = Path(exported_model(str(weights), "openvino", (160, 320)))
    assert first == tmp_path / "yolov8n_160x320_openvino_model"
    assert "exporting" in caplog.text and "read-only" not in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yolov8n.pt", "yolov8n_160x320_openvino_model"]
    stamp = json.loads((first / "vtrack_export.json").read_text())
    assert stamp["input_hw"] == [160, 320] and len(stamp["weights_sha256"]) == 64
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="detectors.runtime"):
        assert Path(exported_model(str(weights), "openvino", (160, 320))) == first
    assert "exporting" not in caplog.text  # reused
    (first / "vtrack_export.json").write_text(json.dumps({**stamp, "weights_sha256": "0" * 64}))
    with caplog.at_level(logging.WARNING, logger="detectors.runtime"):
        assert Path(exported_model(str(weights), "openvino", (160, 320))) == first
    assert "exporting" in caplog.text  # the stamp no longer matched the weights: exported again
    assert json.loads((first / "vtrack_export.json").read_text()) == stamp


@needs_openvino
def test_read_only_weights_folder_caches_in_the_user_cache(
    tmp_path: Path, yolo_weights: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "yolov8n.pt").write_bytes(yolo_weights.read_bytes())
    folder.chmod(0o555)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        with caplog.at_level(logging.WARNING, logger="detectors.runtime"):
            path = Path(exported_model(str(folder / "yolov8n.pt"), "openvino", (160, 320)))
    finally:
        folder.chmod(0o755)
    assert path.parent.parent == tmp_path / "cache" / "vtrack" / "exports"
    assert "is read-only: caching exports in" in caplog.text
    assert sorted(p.name for p in folder.iterdir()) == ["yolov8n.pt"]


def test_export_failures_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"need a local \.pt file; use --runtime torch"):
        exported_model(str(tmp_path / "absent.pt"), "openvino", (160, 320))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(ExportError, match=r"cannot export '.*broken\.pt' to openvino: .*; use --runtime torch"):
        exported_model(str(broken), "openvino", (160, 320))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pt"]  # no half-written export left


def test_fixed_size_model_names_the_size_it_accepts(shared_dir: Path) -> None:
    pytest.importorskip("openvino", reason="the int8 model needs openvino")
    from detectors.yolo import YOLODetector

    with pytest.raises(ConfigError, match=r"fixed 640x640 input: it accepts imgsz 640 only"):
        YOLODetector(weights=str(shared_dir / "models" / "yolo11n_int8_openvino_model"), imgsz=1280)


@pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
    reason="needs onnx and onnxruntime (the onnx extra)",
)
def test_onnx_runtime_finds_the_cars_torch_finds(frames, yolo_weights: Path) -> None:
    from detectors.yolo import YOLODetector
    from tracker.boxes import iou_matrix

    onnx = YOLODetector(weights=str(yolo_weights), runtime="onnx", frame_size=(720, 1280))
    exact = YOLODetector(weights=str(yolo_weights), runtime="torch", device="cpu")
    assert onnx.describe()["inference"] == "onnx directly" and Path(onnx.model_path).suffix == ".onnx"
    for frame in frames[:5]:
        a, b = onnx(frame), exact(frame)
        assert len(a) == len(b) > 0
        assert (iou_matrix(b.xyxy, a.xyxy).max(axis=1) > 0.99).all()  # float32 on both: the same boxes
