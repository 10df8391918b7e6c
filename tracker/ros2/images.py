"""``sensor_msgs/Image`` and ``sensor_msgs/CompressedImage`` -> ``(H, W, 3)`` uint8 BGR arrays.

Works on rclpy's and rosbags' messages alike (fields read by attribute). Raw images are
converted with NumPy; compressed ones are decoded with OpenCV (``cv2.imdecode``), imported
only when a compressed image is decoded.

Raw encodings (:data:`RAW_ENCODINGS`): ``bgr8``, ``rgb8``, ``mono8``, ``bgra8``, ``rgba8`` and
their OpenCV aliases ``8UC3`` (read as BGR) and ``8UC1`` (as mono). Rows may be padded
(``step`` larger than ``width * channels``). Compressed images: any format OpenCV decodes
(JPEG, PNG, ...), decoded to BGR as ``image_transport``'s ``compressed`` plugin encodes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["RAW_ENCODINGS", "ImageError", "image_to_bgr", "is_compressed"]

#: Raw encoding -> (channels, channel order read into BGR: indices into the pixel's channels).
RAW_ENCODINGS: Mapping[str, tuple[int, tuple[int, ...]]] = MappingProxyType(
    {
        "bgr8": (3, (0, 1, 2)),
        "8UC3": (3, (0, 1, 2)),
        "rgb8": (3, (2, 1, 0)),
        "bgra8": (4, (0, 1, 2)),
        "rgba8": (4, (2, 1, 0)),
        "mono8": (1, (0, 0, 0)),
        "8UC1": (1, (0, 0, 0)),
    }
)


class ImageError(ValueError):
    """An image message cannot be converted; the one-line message names the field and value."""


def is_compressed(msg: Any) -> bool:
    """Whether ``msg`` is a ``sensor_msgs/CompressedImage`` (has ``format``, not ``encoding``)."""
    return hasattr(msg, "format") and not hasattr(msg, "encoding")


def _raw_to_bgr(msg: Any) -> np.ndarray:
    encoding = str(msg.encoding)
    if encoding not in RAW_ENCODINGS:
        raise ImageError(f"encoding {encoding!r} is not supported (supported: {', '.join(RAW_ENCODINGS)})")
    channels, order = RAW_ENCODINGS[encoding]
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageError(f"image size must be positive, got width {width}, height {height}")
    row_bytes = width * channels
    if step < row_bytes:
        raise ImageError(f"step {step} is smaller than width {width} x {channels} channels ({encoding})")
    data = np.frombuffer(msg.data, dtype=np.uint8)
    if data.size < step * height:
        raise ImageError(f"data has {data.size} bytes, expected step {step} x height {height} = {step * height}")
    pixels = data[: step * height].reshape(height, step)[:, :row_bytes].reshape(height, width, channels)
    return np.ascontiguousarray(pixels[:, :, list(order)])


def _compressed_to_bgr(msg: Any) -> np.ndarray:
    import cv2

    data = np.frombuffer(msg.data, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageError(f"compressed image (format {str(msg.format)!r}, {data.size} bytes) cannot be decoded")
    return image


def image_to_bgr(msg: Any) -> np.ndarray:
    """The ``(H, W, 3)`` uint8 BGR pixels of a ``sensor_msgs/Image`` or ``sensor_msgs/CompressedImage``.

    Raises:
        ImageError: an unsupported encoding, inconsistent ``width``/``height``/``step``/``data``,
            or compressed data OpenCV cannot decode.
        ImportError: a compressed image and OpenCV is not installed.
    """
    return _compressed_to_bgr(msg) if is_compressed(msg) else _raw_to_bgr(msg)
