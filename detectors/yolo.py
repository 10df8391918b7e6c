"""Vehicle detection with Ultralytics YOLO (``ultralytics.YOLO``, AGPL-3.0, used through its public API only).

:class:`YOLODetector` runs a COCO-trained YOLO model on ``(H, W, 3)`` uint8 BGR frames
and returns :class:`tracker.Detections` with ``xyxy`` pixel boxes in the frame's
coordinates (origin top-left, y down), confidences in ``[0, 1]`` and the model's
class indices (COCO ids for the official weights, see :data:`COCO_VEHICLES`).

Importing this module imports neither Ultralytics nor torch; the constructor does.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from detectors.base import check_frame
from detectors.exported import ExportedYOLO, UnsupportedExportError
from detectors.runtime import (
    RUNTIMES,
    choose_runtime,
    export_format,
    exported_model,
    letterbox_shape,
    model_input_shape,
)
from tracker.config import ConfigError, from_mapping, to_dict
from tracker.types import Detections

__all__ = [
    "COCO_BICYCLE",
    "COCO_VEHICLES",
    "MODELS_DIR_ENV",
    "WeightsNotFoundError",
    "YOLODetector",
    "YOLODetectorConfig",
    "resolve_weights",
]

logger = logging.getLogger(__name__)

COCO_VEHICLES: Mapping[int, str] = MappingProxyType({2: "car", 3: "motorcycle", 5: "bus", 7: "truck"})
"""COCO class ids (as numbered by the official YOLO weights) of motor vehicles, id -> name."""

COCO_BICYCLE = 1
"""COCO class id of bicycles; add it to ``classes`` to detect them, e.g. ``(*COCO_VEHICLES, COCO_BICYCLE)``."""

MODELS_DIR_ENV = "VTRACK_MODELS_DIR"
"""Environment variable naming a folder searched for weights given as a bare file name."""

_SHARED_MODELS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "models"
_DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
_BOX_TASKS = ("detect", "segment", "pose")
_STRIDE = 32
_ULTRALYTICS_ENV_DEFAULTS = {"YOLO_VERBOSE": "False", "YOLO_AUTOINSTALL": "False"}


class WeightsNotFoundError(FileNotFoundError):
    """YOLO weights are neither a local file or folder nor downloadable (e.g. offline)."""


@dataclass(frozen=True)
class YOLODetectorConfig:
    """Settings of :class:`YOLODetector`; ``configs/detector.yaml`` overrides them.

    Attributes:
        weights: a ``.pt`` file, an exported model folder (e.g. ``*_openvino_model``) or
            an official name such as ``"yolov8n.pt"``; see :func:`resolve_weights`.
        imgsz: inference size in pixels of the longer image side, a multiple of the
            model stride 32 (Ultralytics letterboxes the frame to it). A model exported
            with a fixed input accepts only the longer side of that input.
        runtime: ``"auto"``, ``"torch"``, ``"openvino"`` or ``"onnx"``; see
            :mod:`detectors.runtime` (``auto``: OpenVINO on the CPU when installed, else torch).
        conf: minimum confidence in ``[0, 1]`` of a reported detection.
        iou: IoU threshold in ``[0, 1]`` of the non-maximum suppression.
        device: ``"auto"`` (``"cuda:0"`` if torch sees a GPU, else ``"cpu"``), ``"cpu"``,
            ``"cuda"`` (= ``"cuda:0"``) or ``"cuda:N"``.
        classes: class ids or names of the model to keep (default: COCO car,
            motorcycle, bus, truck); an empty tuple keeps every class.
        max_det: maximum number of detections per frame.

    Raises:
        ConfigError: a value is out of range; the message names the field.
    """

    weights: str = "yolov8n.pt"
    imgsz: int = 640
    runtime: str = "auto"
    conf: float = 0.25
    iou: float = 0.7
    device: str = "auto"
    classes: tuple[int | str, ...] = tuple(COCO_VEHICLES)
    max_det: int = 300

    def __post_init__(self) -> None:
        if not self.weights:
            raise ConfigError("YOLODetectorConfig.weights must not be empty")
        if self.imgsz <= 0 or self.imgsz % _STRIDE:
            raise ConfigError(
                f"YOLODetectorConfig.imgsz must be a positive multiple of {_STRIDE} pixels (the model stride), "
                f"got {self.imgsz}"
            )
        if self.runtime not in RUNTIMES:
            raise ConfigError(f"YOLODetectorConfig.runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        for name in ("conf", "iou"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"YOLODetectorConfig.{name} must be in [0, 1], got {value}")
        if not _DEVICE_PATTERN.fullmatch(self.device):
            raise ConfigError(
                f"YOLODetectorConfig.device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}"
            )
        for item in self.classes:
            if isinstance(item, bool) or not isinstance(item, (int, str)) or item == "":
                raise ConfigError(f"YOLODetectorConfig.classes items must be class ids or names, got {item!r}")
            if isinstance(item, int) and item < 0:
                raise ConfigError(f"YOLODetectorConfig.classes ids must be >= 0, got {item}")
        if self.max_det <= 0:
            raise ConfigError(f"YOLODetectorConfig.max_det must be positive, got {self.max_det}")


def _model_dirs() -> list[Path]:
    folders = []
    env_dir = os.environ.get(MODELS_DIR_ENV)
    if env_dir:
        folder = Path(env_dir).expanduser()
        if not folder.is_dir():
            raise WeightsNotFoundError(f"{MODELS_DIR_ENV}={env_dir!r} is not a folder")
        folders.append(folder)
    if _SHARED_MODELS_DIR.is_dir():
        folders.append(_SHARED_MODELS_DIR)
    return folders


def _not_found(weights: str, reason: str) -> WeightsNotFoundError:
    return WeightsNotFoundError(
        f"cannot load YOLO weights '{weights}': {reason}. Pass a local path with --weights PATH "
        f"(e.g. ../shared/models/yolov8n.pt) or set {MODELS_DIR_ENV}."
    )


def resolve_weights(weights: str) -> str:
    """Find the local file or folder for ``weights``, or return the name for Ultralytics to download.

    Resolution order:

    1. An existing path (a ``.pt`` file or an exported model folder such as
       ``../shared/models/yolo11n_int8_openvino_model``) is used as is.
    2. A bare file name (no folder part, e.g. ``"yolov8n.pt"``) is looked up in the
       folder named by the environment variable ``VTRACK_MODELS_DIR`` if set, then in
       ``<repo root>/../shared/models/`` when running from a source checkout where that
       folder exists (repo root = the folder holding the ``detectors`` package).
    3. Otherwise the bare name is returned unchanged: Ultralytics downloads official
       weights under that name into the current directory on a machine with internet.

    Args:
        weights: a path or a bare official weights name.

    Returns:
        The path of the local weights, or the bare name for step 3.

    Raises:
        WeightsNotFoundError: ``weights`` has a folder part but does not exist, or
            ``VTRACK_MODELS_DIR`` is set but is not a folder.
    """
    path = Path(weights).expanduser()
    if path.exists():
        return str(path)
    if path.name != weights:
        raise _not_found(weights, "no such file or folder")
    for folder in _model_dirs():
        candidate = folder / weights
        if candidate.exists():
            return str(candidate)
    return weights


#: Present when an NVIDIA driver is loaded (Linux); without it, "auto" means the CPU and torch is not imported.
_NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")


def _resolve_device(device: str) -> str:
    """``"cpu"`` or ``"cuda:N"`` for a ``YOLODetectorConfig.device`` value; imports torch only to look for CUDA.

    ``"auto"`` is the CPU without asking torch where no NVIDIA driver is loaded
    (Linux: no ``/proc/driver/nvidia/version``), which spares a CPU-only run the
    seconds of importing torch when the runtime does not need it.
    """
    if device == "cpu" or (device == "auto" and sys.platform.startswith("linux") and not _NVIDIA_DRIVER.exists()):
        return "cpu"
    import torch

    if device == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    index = int(device.partition(":")[2] or 0)
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if index >= available:
        raise ConfigError(f"YOLODetectorConfig.device is {device!r} but torch sees {available} CUDA device(s)")
    return f"cuda:{index}"


def _resolve_classes(classes: tuple[int | str, ...], names: Mapping[int, str], weights: str) -> tuple[int, ...]:
    ids_by_name = {name: index for index, name in names.items()}
    ids: list[int] = []
    for item in classes:
        if isinstance(item, str):
            if item not in ids_by_name:
                raise ConfigError(
                    f"YOLODetectorConfig.classes: the model '{weights}' has no class named {item!r}; "
                    f"its classes: {', '.join(names.values())}"
                )
            ids.append(ids_by_name[item])
        elif item not in names:
            raise ConfigError(
                f"YOLODetectorConfig.classes: the model '{weights}' has no class id {item} (ids 0..{max(names)})"
            )
        else:
            ids.append(item)
    return tuple(dict.fromkeys(ids))


def _load_model(yolo_cls: Any, weights: str) -> Any:
    path = Path(weights)
    if path.exists():
        return yolo_cls(weights, task="detect")
    try:
        return yolo_cls(weights, task="detect")
    except OSError as error:
        detail = " ".join(str(error).split())
        raise _not_found(weights, f"no local file and the download failed (offline?): {detail}") from None


def _to_detections(result: Any) -> Detections:
    boxes = result.boxes.cpu().numpy()
    return Detections(boxes.xyxy, boxes.conf, boxes.cls)


class YOLODetector:
    """Ultralytics YOLO as a :class:`~detectors.base.Detector`.

    Args:
        config: the settings; ``None`` means :class:`YOLODetectorConfig` defaults.
        frame_size: ``(height, width)`` in pixels of the frames to come, if known: an
            export for the OpenVINO or ONNX runtime is made for their letterboxed shape
            (:func:`detectors.runtime.letterbox_shape`); None: a square ``imgsz`` input.
        threads: most CPU threads one inference uses (``torch.set_num_threads`` for the
            torch runtime, which sets it for the whole process; see
            :class:`~detectors.exported.ExportedYOLO` for OpenVINO and ONNX Runtime); None:
            the runtime's default, every core. A resource setting, not part of the config:
            the detections do not depend on it.
        **overrides: fields of :class:`YOLODetectorConfig` replacing those of ``config``,
            e.g. ``YOLODetector(weights="../shared/models/yolov8n.pt", imgsz=1280)``.

    Attributes:
        config: the effective :class:`YOLODetectorConfig`.
        weights: the resolved weights path (or official name), see :func:`resolve_weights`.
        model_path: what Ultralytics loads: ``weights``, or the export made from them
            for the runtime (see :func:`detectors.runtime.exported_model`).
        runtime: the runtime that runs the model: ``"torch"``, ``"openvino"``, ``"onnx"``
            (or the suffix of another exported format).
        device: the torch device used, ``"cpu"`` or ``"cuda:N"``.
        input_hw: the model's fixed ``(height, width)`` input in pixels, or None where
            each frame is letterboxed to ``imgsz`` on its longer side (``.pt`` models).
        names: the model's class names, id -> name (COCO for the official weights).
        class_ids: the class ids kept, resolved from ``config.classes`` (empty: all).
        threads: the ``threads`` argument (None: the runtime's default).

    Raises:
        ConfigError: an unknown override, an out-of-range value, a CUDA device torch
            does not see, a class id or name the model does not have, or an ``imgsz``
            the exported model does not accept (the message gives the one it does).
        WeightsNotFoundError: no local weights and Ultralytics could not download them
            (a one-line message saying how to pass a local path).
        ImportError: the runtime's package (e.g. ``openvino``) is not installed.
        detectors.runtime.ExportError: the export for the runtime failed.
        ValueError: the weights loaded but are not a box-detecting model (e.g. a classifier).

    Before importing Ultralytics (on first construction), the environment variables
    ``YOLO_VERBOSE=False`` (no banner, no per-frame logs) and ``YOLO_AUTOINSTALL=False``
    (Ultralytics never pip-installs missing backends) are set unless already set.
    Prediction passes ``verbose=False`` and saves nothing to disk; only a bare official
    weights name that is not found locally makes Ultralytics download it, into the
    current directory.
    """

    def __init__(
        self,
        config: YOLODetectorConfig | None = None,
        frame_size: tuple[int, int] | None = None,
        threads: int | None = None,
        **overrides: Any,
    ) -> None:
        if threads is not None and threads < 1:
            raise ConfigError(f"YOLODetector threads must be at least 1, got {threads}")
        config = config or YOLODetectorConfig()
        if overrides:
            config = from_mapping(YOLODetectorConfig, {**to_dict(config), **overrides}, source="YOLODetector")
        self.config = config
        self.threads = threads
        for key, value in _ULTRALYTICS_ENV_DEFAULTS.items():
            os.environ.setdefault(key, value)
        self.device = _resolve_device(config.device)
        self.weights = resolve_weights(config.weights)
        self.runtime = choose_runtime(config.runtime, self.weights, self.device)
        self.model_path = self.weights
        if self.runtime in ("openvino", "onnx") and export_format(self.weights) is None:
            if not Path(self.weights).is_file():  # an official name: Ultralytics downloads it (or says it cannot)
                from ultralytics import YOLO

                self.weights = str(_load_model(YOLO, self.weights).ckpt_path)
            shape = letterbox_shape(frame_size or (config.imgsz, config.imgsz), config.imgsz)
            self.model_path = exported_model(self.weights, self.runtime, shape)
        self.input_hw = model_input_shape(self.model_path)
        if self.input_hw is not None and max(self.input_hw) != config.imgsz:
            height, width = self.input_hw
            raise ConfigError(
                f"YOLODetectorConfig.imgsz is {config.imgsz}, but '{self.weights}' is exported for a fixed "
                f"{height}x{width} input: it accepts imgsz {max(height, width)} only (use the .pt weights for "
                "another size)"
            )
        self._exported: ExportedYOLO | None = None
        self._model: Any = None
        if self.runtime in ("openvino", "onnx"):
            try:
                self._exported = ExportedYOLO(self.model_path, self.runtime, threads)
            except UnsupportedExportError as error:
                logger.info("%s; running it through Ultralytics instead", error)
        if self._exported is not None:
            self.names: dict[int, str] = dict(self._exported.names)
        else:
            from ultralytics import YOLO

            if threads is not None:
                import torch

                torch.set_num_threads(threads)
            self._model = _load_model(YOLO, self.model_path)
            if self._model.task not in _BOX_TASKS:
                raise ValueError(
                    f"YOLO weights '{self.weights}' are a {self._model.task!r} model; "
                    f"need one of {', '.join(_BOX_TASKS)}"
                )
            self.names = dict(self._model.names)
        self.class_ids = _resolve_classes(config.classes, self.names, self.weights)
        logger.info(
            "YOLO weights %s (%s runtime) on %s, imgsz %d, classes %s",
            self.model_path,
            self.runtime,
            self.device,
            config.imgsz,
            [self.names[i] for i in self.class_ids] or "all",
        )

    def describe(self) -> dict[str, Any]:
        """What runs, for summaries: weights, model path, runtime, device, imgsz, fixed input and threads (JSON-ready).

        ``threads`` is None where the runtime chose (every core).
        """
        return {
            "detector": "yolo",
            "weights": self.weights,
            "model": self.model_path,
            "runtime": self.runtime,
            "device": self.device,
            "imgsz": self.config.imgsz,
            "input_hw": list(self.input_hw) if self.input_hw is not None else None,
            "inference": "ultralytics" if self._exported is None else f"{self.runtime} directly",
            "threads": self.threads,
        }

    def __call__(self, frame: np.ndarray) -> Detections:
        """Detect the configured classes in one frame.

        Args:
            frame: ``(H, W, 3)`` uint8 BGR image.

        Returns:
            Detections with ``xyxy`` float32 pixel boxes in ``frame``'s coordinates,
            float32 confidences and int64 class ids.

        Raises:
            FrameError: ``frame`` is not a non-empty ``(H, W, 3)`` uint8 array.
        """
        return self._predict([check_frame(frame)])[0]

    def batch(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """Detect the configured classes in several frames, one ``predict`` call per frame size.

        Ultralytics letterboxes a batch of mixed sizes to a common square, which changes
        the boxes and slows inference, so frames are grouped by shape: a video's frames
        go in one call, and every frame gets the boxes a per-frame call would give (up
        to float rounding).

        Args:
            frames: ``(H_i, W_i, 3)`` uint8 BGR images.

        Returns:
            One :class:`~tracker.types.Detections` per frame, in order (``[]`` for no frames).

        Raises:
            FrameError: a frame is invalid; the message names ``frames[i]``.
        """
        checked = [check_frame(frame, f"frames[{i}]") for i, frame in enumerate(frames)]
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, frame in enumerate(checked):
            by_shape.setdefault(frame.shape, []).append(index)
        detections: list[Detections] = [Detections.empty()] * len(checked)
        for indices in by_shape.values():
            for index, result in zip(indices, self._predict([checked[i] for i in indices]), strict=True):
                detections[index] = result
        return detections

    def _predict(self, frames: list[np.ndarray]) -> list[Detections]:
        if self._exported is not None:
            cfg = self.config
            return [self._exported(frame, cfg.conf, cfg.iou, self.class_ids, cfg.max_det) for frame in frames]
        results = self._model.predict(
            frames,
            imgsz=self.input_hw or self.config.imgsz,
            conf=self.config.conf,
            iou=self.config.iou,
            device=self.device,
            classes=list(self.class_ids) or None,
            max_det=self.config.max_det,
            verbose=False,
        )
        return [_to_detections(result) for result in results]

    def __repr__(self) -> str:
        fields = dataclasses.asdict(self.config) | {
            "weights": self.weights,
            "runtime": self.runtime,
            "device": self.device,
        }
        return f"YOLODetector({', '.join(f'{k}={v!r}' for k, v in fields.items())})"
