"""YOLO detection models exported to OpenVINO IR or ONNX, run directly on their runtime.

Running an export through Ultralytics' ``predict`` costs a process several seconds
before the first frame (it imports torch and torchvision, whose import alone took
3-4 s on our 2-core CPU), for a runtime that does not need them. :class:`ExportedYOLO`
loads the export with the runtime's own Python API (``openvino.Core`` or
``onnxruntime.InferenceSession``) and does the pre- and post-processing with OpenCV
and NumPy, with the same geometry and rules as Ultralytics' detection predictor, so
that the boxes agree with ``YOLO(export).predict`` (checked by the tests):

1. **Letterbox** (the model's fixed input ``H x W``): the frame is scaled by
   ``r = min(H / h, W / w)`` to ``round(w r) x round(h r)`` (bilinear) and centred on a
   grey (114) canvas, the odd pixel of padding going to the bottom or right.
2. **Input**: RGB, channels first, ``float32`` in ``[0, 1]`` (``value / 255``), batch of one.
3. **Output** of a YOLOv8/YOLO11 detection head: ``(1, 4 + C, N)``, per candidate a
   box ``(cx, cy, w, h)`` in input pixels and ``C`` class scores.
4. **Selection**: a candidate's class is its best-scoring class and its score that
   class's score; candidates scoring below ``conf`` or whose class is not kept are
   dropped; non-maximum suppression per class (IoU above ``iou`` suppresses the lower
   score, OpenCV's ``cv2.dnn.NMSBoxesBatched``); at most ``max_det`` boxes, best first.
5. **Boxes** are mapped back to the frame (padding removed, divided by the scale of
   the resize along each axis, ``round(w r) / w`` and ``round(h r) / h``) and clipped to it.

Only box-detecting exports with that head, a fixed input and no built-in NMS are
supported (:class:`UnsupportedExportError` otherwise; :class:`detectors.yolo.YOLODetector`
then runs the export through Ultralytics instead).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tracker.types import Detections

__all__ = ["ExportedYOLO", "UnsupportedExportError"]

_PAD_VALUE = 114
_BOX_COLUMNS = 4


class UnsupportedExportError(ValueError):
    """The export is not a fixed-size box-detection model without built-in NMS (the message says what it is)."""


def _metadata(path: Path, runtime: str) -> dict[str, Any]:
    if runtime == "openvino":
        import yaml

        data = yaml.safe_load((path / "metadata.yaml").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    result: dict[str, Any] = {}
    for entry in model.metadata_props:
        try:
            result[entry.key] = ast.literal_eval(entry.value)
        except (ValueError, SyntaxError):
            result[entry.key] = entry.value
    return result


def _check(metadata: dict[str, Any], path: Path) -> tuple[int, int]:
    if metadata.get("task", "detect") != "detect":
        raise UnsupportedExportError(f"{path}: a {metadata['task']!r} model, not a detection model")
    args = metadata.get("args") or {}
    if metadata.get("end2end") or args.get("nms"):
        raise UnsupportedExportError(f"{path}: the export has built-in NMS (end-to-end output)")
    if args.get("dynamic") or "imgsz" not in metadata:
        raise UnsupportedExportError(f"{path}: the export has no fixed input size")
    height, width = (int(v) for v in metadata["imgsz"])
    return height, width


class ExportedYOLO:
    """A YOLO detection export run on OpenVINO or ONNX Runtime; see the module doc.

    Args:
        path: the ``*_openvino_model`` folder (``runtime="openvino"``) or the ``.onnx``
            file (``runtime="onnx"``), as written by Ultralytics' export.
        runtime: ``"openvino"`` or ``"onnx"``.
        threads: most threads one inference uses (OpenVINO's ``INFERENCE_NUM_THREADS``,
            with its pinning of threads to cores turned off so that processes sharing the
            machine are not pinned to the same cores; ONNX Runtime's intra-op threads);
            None: the runtime's default, every core.

    Attributes:
        input_hw: the model's fixed ``(height, width)`` input in pixels.
        names: class id -> name, from the export's metadata.

    Raises:
        UnsupportedExportError: the export is not a fixed-size detection model without NMS.
        ImportError: the runtime (``openvino``, or ``onnx`` and ``onnxruntime``) is missing.
        OSError: the files cannot be read.

    OpenVINO compiles the model for the CPU with its ``LATENCY`` hint (one inference at
    a time, using every core) and its default precision for that CPU (bfloat16 where the
    CPU has bfloat16 instructions, else float32), as Ultralytics' own OpenVINO backend does.
    """

    def __init__(self, path: str | Path, runtime: str, threads: int | None = None) -> None:
        import cv2

        self._cv2: Any = cv2
        self.path = Path(path)
        self.runtime = runtime
        metadata = _metadata(self.path, runtime)
        self.input_hw = _check(metadata, self.path)
        self.names: dict[int, str] = {int(k): str(v) for k, v in (metadata.get("names") or {}).items()}
        self._infer: Callable[[np.ndarray], Any]
        if runtime == "openvino":
            import openvino as ov

            core = ov.Core()
            xml = next(self.path.glob("*.xml"))
            properties: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
            if threads is not None:
                properties |= {"INFERENCE_NUM_THREADS": threads, "ENABLE_CPU_PINNING": False}
            compiled = core.compile_model(core.read_model(xml), "CPU", properties)
            request = compiled.create_infer_request()
            self._infer = lambda blob: request.infer({0: blob})[compiled.output(0)]
        elif runtime == "onnx":
            import onnxruntime

            options = onnxruntime.SessionOptions()
            if threads is not None:
                options.intra_op_num_threads = threads
            session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            self._infer = lambda blob: session.run(None, {name: blob})[0]
        else:
            raise ValueError(f"runtime must be 'openvino' or 'onnx', got {runtime!r}")
        self._canvas = np.full((*self.input_hw, 3), _PAD_VALUE, dtype=np.uint8)
        self._blob = np.empty((1, 3, *self.input_hw), dtype=np.float32)

    def _letterbox(self, frame: np.ndarray) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
        """The model input image, the scales ``(x, y)`` of the resize and the ``(left, top)`` padding in pixels."""
        cv2 = self._cv2
        height, width = frame.shape[:2]
        in_h, in_w = self.input_hw
        ratio = min(in_h / height, in_w / width)
        new_w, new_h = round(width * ratio), round(height * ratio)
        left, top = (in_w - new_w) // 2, (in_h - new_h) // 2
        canvas = self._canvas
        if (new_w, new_h) != (in_w, in_h):
            canvas[:] = _PAD_VALUE
        region = canvas[top : top + new_h, left : left + new_w]
        if (new_w, new_h) == (width, height):
            region[:] = frame
        else:
            cv2.resize(frame, (new_w, new_h), dst=region, interpolation=cv2.INTER_LINEAR)
        return canvas, (new_w / width, new_h / height), (left, top)

    def __call__(
        self, frame: np.ndarray, conf: float, iou: float, class_ids: tuple[int, ...], max_det: int
    ) -> Detections:
        """Detect in one ``(H, W, 3)`` uint8 BGR frame.

        Args:
            frame: the image (checked by the caller).
            conf: minimum score in ``[0, 1]``.
            iou: NMS IoU threshold in ``[0, 1]``.
            class_ids: class ids to keep; empty keeps all.
            max_det: most detections returned.

        Returns:
            Detections with ``xyxy`` float32 boxes in pixels of ``frame``, float32
            scores and int64 class ids, best score first.
        """
        image, (scale_x, scale_y), (left, top) = self._letterbox(frame)
        blob = self._blob
        for channel in range(3):  # BGR -> RGB planes, 0..255 -> 0..1
            np.divide(image[:, :, 2 - channel], 255.0, out=blob[0, channel], casting="unsafe")
        output = np.asarray(self._infer(blob))[0]  # (4 + C, N)
        scores = output[_BOX_COLUMNS:]
        best = scores.argmax(axis=0)
        score = scores[best, np.arange(scores.shape[1])]
        keep = score > conf
        if class_ids:
            keep &= np.isin(best, class_ids)
        if not keep.any():
            return Detections.empty()
        boxes, score, best = output[:_BOX_COLUMNS, keep].T, score[keep], best[keep]
        xywh = np.empty_like(boxes)  # top-left corner, width, height, for OpenCV's NMS
        xywh[:, :2] = boxes[:, :2] - boxes[:, 2:] / 2
        xywh[:, 2:] = boxes[:, 2:]
        chosen = np.asarray(
            self._cv2.dnn.NMSBoxesBatched(xywh.tolist(), score.tolist(), best.tolist(), conf, iou),
            dtype=np.int64,
        ).reshape(-1)
        chosen = chosen[np.argsort(-score[chosen], kind="stable")][:max_det]
        xyxy = np.concatenate([xywh[chosen, :2], xywh[chosen, :2] + xywh[chosen, 2:]], axis=1)
        xyxy -= (left, top, left, top)
        xyxy /= (scale_x, scale_y, scale_x, scale_y)
        height, width = frame.shape[:2]
        np.clip(xyxy, 0, (width, height, width, height), out=xyxy)
        return Detections(xyxy.astype(np.float32), score[chosen].astype(np.float32), best[chosen].astype(np.int64))
