"""Which inference runtime runs a YOLO model, and the exported models that runtime needs.

Ultralytics runs a ``.pt`` model on PyTorch, and the same network exported to another
format on that format's runtime (Ultralytics' own ``YOLO.export``, used through its
public API). :data:`RUNTIMES` are the choices of ``--runtime``:

- ``torch``: the ``.pt`` model on PyTorch (the only choice on a CUDA device here).
- ``openvino``: an OpenVINO export (``pip install openvino``, part of ``vtrack[yolo]``).
  On the 2-core CPU of our measurements it ran yolov8n 1.9-2.4x faster than PyTorch.
- ``onnx``: an ONNX export on ONNX Runtime (``pip install onnx onnxruntime``); slower
  than PyTorch on that CPU, so never picked by ``auto``.
- ``auto`` (the default): ``openvino`` when it is installed and the device is the CPU,
  else ``torch``.

An export is made on first use and cached (:func:`exported_model`): beside the
weights when their folder may be written, else in the user cache folder
(``$XDG_CACHE_HOME/vtrack/exports``, by default ``~/.cache/vtrack/exports``), with a
log message saying where. The export has a fixed input size: the letterboxed shape
Ultralytics gives the ``.pt`` model for the source's frame size (:func:`letterbox_shape`;
``384 x 640`` for a 1280x720 video at ``imgsz`` 640), so both runtimes see the same
pixels. Each export carries a stamp with the SHA-256 of the weights it came from; a
stamp that does not match (the weights were replaced) makes a new export.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import stat
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tracker.config import ConfigError

__all__ = [
    "RUNTIMES",
    "ExportError",
    "choose_runtime",
    "export_format",
    "exported_model",
    "letterbox_shape",
    "model_input_shape",
]

logger = logging.getLogger(__name__)

#: Values of ``--runtime`` / ``YOLODetectorConfig.runtime``.
RUNTIMES = ("auto", "torch", "openvino", "onnx")

#: Packages each runtime needs beyond Ultralytics and torch (import names).
_PACKAGES = {"torch": (), "openvino": ("openvino",), "onnx": ("onnx", "onnxruntime")}
_INSTALL = {"openvino": "pip install openvino (part of vtrack[yolo])", "onnx": "pip install onnx onnxruntime"}

_OPENVINO_SUFFIX = "_openvino_model"
_ONNX_SUFFIX = ".onnx"
_STAMP = "vtrack_export.json"
_STRIDE = 32
_CACHE_ENV = "XDG_CACHE_HOME"


class ExportError(RuntimeError):
    """A model could not be exported to the chosen runtime; the one-line message says why and what to do."""


def export_format(weights: str) -> str | None:
    """The runtime an already exported model needs (``"openvino"``, ``"onnx"``), or None for a ``.pt`` model or name.

    Other files Ultralytics can load (TorchScript, TensorRT, ...) return their suffix without the dot.
    """
    path = Path(weights)
    if path.name.endswith(_OPENVINO_SUFFIX):
        return "openvino"
    if path.suffix == _ONNX_SUFFIX:
        return "onnx"
    if path.suffix in ("", ".pt"):
        return None
    return path.suffix.lstrip(".")


def _installed(runtime: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in _PACKAGES[runtime])


def choose_runtime(requested: str, weights: str, device: str) -> str:
    """The runtime that runs ``weights`` on ``device`` for ``--runtime requested``.

    Args:
        requested: one of :data:`RUNTIMES`.
        weights: the resolved weights (a ``.pt`` file or name, or an exported model).
        device: the resolved torch device, ``"cpu"`` or ``"cuda:N"``.

    Returns:
        ``"torch"``, ``"openvino"`` or ``"onnx"``; for an already exported model the
        runtime its format needs (or its suffix for formats other than those).

    Raises:
        ConfigError: ``requested`` is not in :data:`RUNTIMES`, contradicts the format of
            exported weights, or asks for an export runtime on a CUDA device.
        ImportError: the runtime's package is not installed (the message says what to install).
    """
    if requested not in RUNTIMES:
        raise ConfigError(f"YOLODetectorConfig.runtime must be one of {', '.join(RUNTIMES)}, got {requested!r}")
    exported = export_format(weights)
    if exported is not None:
        if requested not in ("auto", exported):
            raise ConfigError(
                f"--runtime {requested}: the weights '{weights}' are an exported {exported} model; "
                f"pass the .pt weights to run another runtime, or --runtime auto"
            )
        chosen = exported
    elif requested == "auto":
        chosen = "openvino" if device == "cpu" and _installed("openvino") else "torch"
    else:
        chosen = requested
    if chosen != "torch" and device != "cpu":
        raise ConfigError(f"--runtime {chosen} runs on the CPU here; use --device cpu, or --runtime torch on {device}")
    if chosen in _PACKAGES and not _installed(chosen):
        raise ImportError(f"--runtime {chosen} needs {' and '.join(_PACKAGES[chosen])}: {_INSTALL[chosen]}")
    return chosen


def letterbox_shape(frame_hw: tuple[int, int], imgsz: int, stride: int = _STRIDE) -> tuple[int, int]:
    """``(height, width)`` in pixels Ultralytics letterboxes a ``frame_hw`` frame to for a ``.pt`` model.

    The longer side is scaled to ``imgsz`` and each side padded up to a multiple of
    ``stride`` (Ultralytics' ``LetterBox`` with ``auto=True``), e.g. ``(720, 1280)`` at
    640 -> ``(384, 640)``.

    Raises:
        ValueError: a side of ``frame_hw`` is not positive.
    """
    height, width = frame_hw
    if height <= 0 or width <= 0:
        raise ValueError(f"frame size must be positive, got {height}x{width}")
    ratio = min(imgsz / height, imgsz / width)
    new_h, new_w = round(height * ratio), round(width * ratio)
    return (new_h + (imgsz - new_h) % stride, new_w + (imgsz - new_w) % stride)


def model_input_shape(weights: str) -> tuple[int, int] | None:
    """The fixed ``(height, width)`` input of an exported model, or None where it takes any size.

    Reads Ultralytics' ``metadata.yaml`` of an OpenVINO folder, or the metadata of an
    ONNX file (needs ``onnx``). Other formats and ``.pt`` models return None.

    Raises:
        ConfigError: the metadata cannot be read; the message names the file.
    """
    fmt = export_format(weights)
    try:
        if fmt == "openvino":
            import yaml

            metadata = yaml.safe_load((Path(weights) / "metadata.yaml").read_text(encoding="utf-8"))
        elif fmt == "onnx" and importlib.util.find_spec("onnx") is not None:
            import onnx

            model = onnx.load(weights, load_external_data=False)
            metadata = {entry.key: _literal(entry.value) for entry in model.metadata_props}
        else:
            return None
    except (OSError, ValueError, SyntaxError) as error:
        raise ConfigError(f"{weights}: cannot read the exported model's metadata: {error}") from None
    if not isinstance(metadata, dict) or metadata.get("dynamic") or "imgsz" not in metadata:
        return None
    height, width = (int(v) for v in metadata["imgsz"])
    return height, width


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _may_write(folder: Path) -> bool:
    """Whether the permission bits of ``folder`` let this user write in it.

    The bits decide even for root (who could write anyway): a folder marked read-only,
    such as a shared data folder, is left untouched.
    """
    try:
        info = folder.stat()
    except OSError:
        return False
    if info.st_uid == os.geteuid():
        bit = stat.S_IWUSR
    elif info.st_gid == os.getegid() or info.st_gid in os.getgroups():
        bit = stat.S_IWGRP
    else:
        bit = stat.S_IWOTH
    return bool(info.st_mode & bit) and os.access(folder, os.W_OK | os.X_OK)


def _cache_root() -> Path:
    base = os.environ.get(_CACHE_ENV) or str(Path.home() / ".cache")
    return Path(base) / "vtrack" / "exports"


def _export_name(weights: Path, runtime: str, shape: tuple[int, int]) -> str:
    size = f"{shape[0]}x{shape[1]}"
    return f"{weights.stem}_{size}{_OPENVINO_SUFFIX}" if runtime == "openvino" else f"{weights.stem}_{size}_onnx"


def _model_path(folder: Path, weights: Path, runtime: str) -> Path:
    """What Ultralytics loads from an export folder: the folder itself (OpenVINO) or the ``.onnx`` in it."""
    return folder if runtime == "openvino" else folder / f"{weights.stem}{_ONNX_SUFFIX}"


def _stamp(sha256: str, shape: tuple[int, int]) -> dict[str, Any]:
    return {"weights_sha256": sha256, "input_hw": list(shape), "ultralytics": version("ultralytics")}


def _valid(folder: Path, stamp: dict[str, Any]) -> bool:
    try:
        return bool(json.loads((folder / _STAMP).read_text(encoding="utf-8")) == stamp)
    except (OSError, ValueError):
        return False


def exported_model(weights: str, runtime: str, shape: tuple[int, int]) -> str:
    """The ``runtime`` export of the ``.pt`` file ``weights`` at input ``shape``, exported now if not cached.

    Args:
        weights: a local ``.pt`` file.
        runtime: ``"openvino"`` or ``"onnx"``.
        shape: ``(height, width)`` input in pixels, multiples of 32 (see :func:`letterbox_shape`).

    Returns:
        The path Ultralytics loads: the ``*_openvino_model`` folder or the ``.onnx`` file.

    Raises:
        ExportError: ``weights`` is not a local ``.pt`` file, no cache folder can be
            written, or Ultralytics' export fails; the message suggests ``--runtime torch``.
    """
    source = Path(weights)
    if source.suffix != ".pt" or not source.is_file():
        raise ExportError(
            f"cannot export '{weights}' to {runtime}: need a local .pt file; use --runtime torch or pass a .pt path"
        )
    sha256 = _sha256(source)
    stamp = _stamp(sha256, shape)
    name = _export_name(source, runtime, shape)
    beside = source.parent / name
    cached = _cache_root() / sha256[:16] / name
    for folder in (beside, cached):
        if _valid(folder, stamp):
            return str(_model_path(folder, source, runtime))
    target = beside if _may_write(source.parent) else cached
    if target is cached:
        logger.warning("%s is read-only: caching exports in %s", source.parent, cached.parent)
    logger.warning(
        "exporting %s to %s for %dx%d input (first use, a few seconds); cached as %s",
        source,
        runtime,
        shape[0],
        shape[1],
        target,
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _export_into(source, runtime, shape, target, stamp)
    except ExportError:
        raise
    except Exception as error:  # Ultralytics and the runtimes raise many kinds; all mean "no export"
        detail = " ".join(str(error).split()) or type(error).__name__
        raise ExportError(f"cannot export '{weights}' to {runtime}: {detail}; use --runtime torch") from error
    return str(_model_path(target, source, runtime))


def _export_into(source: Path, runtime: str, shape: tuple[int, int], target: Path, stamp: dict[str, Any]) -> None:
    """Export in a temporary folder beside ``target``, then move the result into place in one rename."""
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as scratch:
        link = Path(scratch) / source.name
        link.symlink_to(source.resolve())
        fmt = "openvino" if runtime == "openvino" else "onnx"
        options: dict[str, Any] = {"format": fmt, "imgsz": list(shape), "device": "cpu", "dynamic": False}
        if fmt == "onnx":
            options["simplify"] = importlib.util.find_spec("onnxslim") is not None
        produced = Path(YOLO(str(link), task="detect").export(**options))
        folder = Path(scratch) / "export"
        if runtime == "openvino":
            produced.rename(folder)
        else:
            folder.mkdir()
            produced.rename(folder / f"{source.stem}{_ONNX_SUFFIX}")
        (folder / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        if target.exists():  # an older export (stale stamp) or one another run just finished
            if _valid(target, stamp):
                return
            shutil.rmtree(target)
        try:
            folder.rename(target)
        except OSError:  # another process (a parallel vtrack track job) put its export there first
            if not _valid(target, stamp):
                raise
