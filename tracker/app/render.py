"""Drawing tracks onto frames with OpenCV: boxes, ID and class labels, trails, a status line.

Each track ID gets a stable colour (hues spaced by the golden ratio, so consecutive
IDs differ clearly). A track's trail is the polyline of its box centres over the
last ``RenderConfig.trail_s`` seconds.
"""

from __future__ import annotations

import colorsys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from tracker.types import Tracks

__all__ = ["RenderConfig", "TrackRenderer", "VideoWriter", "track_color"]

#: Hue step between consecutive IDs: the golden ratio's conjugate, which spreads hues evenly.
_GOLDEN = (5**0.5 - 1) / 2
#: ITU-R BT.601 luma weights of (R, G, B), to pick black or white label text.
_LUMA = (0.299, 0.587, 0.114)
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)


@dataclass(frozen=True)
class RenderConfig:
    """How tracks are drawn (sizes in pixels, times in seconds).

    Attributes:
        trail_s: length of the centre trail behind each track, seconds.
        box_thickness: line width of boxes.
        trail_thickness: line width of trails.
        font_scale: OpenCV font scale of labels (Hershey simplex).
        text_thickness: stroke width of label text.
        label_padding: margin around label text.
        saturation, value: HSV saturation and value (0..1) of the per-ID colours.
        status_line: draw "frame N  t s  K tracks" in the top-left corner.
    """

    trail_s: float = 1.0
    box_thickness: int = 2
    trail_thickness: int = 2
    font_scale: float = 0.6
    text_thickness: int = 1
    label_padding: int = 3
    saturation: float = 0.85
    value: float = 0.95
    status_line: bool = True


def track_color(track_id: int, config: RenderConfig | None = None) -> tuple[int, int, int]:
    """The BGR colour (0..255 ints) of ``track_id``; the same ID always gets the same colour."""
    config = config or RenderConfig()
    hue = (track_id * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, config.saturation, config.value)
    return round(b * 255), round(g * 255), round(r * 255)


def _text_color(background: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = background
    luma = _LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b
    return _BLACK if luma > 255 / 2 else _WHITE


class TrackRenderer:
    """Draws one frame's tracks; remembers recent box centres for the trails.

    Args:
        class_names: class id -> name for labels; unknown ids are shown as numbers.
        config: drawing settings.

    Call :meth:`draw` once per frame, in time order.
    """

    def __init__(self, class_names: Mapping[int, str], config: RenderConfig | None = None) -> None:
        self.config = config or RenderConfig()
        self._class_names = dict(class_names)
        self._trails: dict[int, deque[tuple[float, tuple[int, int]]]] = {}

    def draw(self, image: np.ndarray, frame: int, timestamp: float, tracks: Tracks) -> np.ndarray:
        """A copy of ``image`` with ``tracks`` drawn on it.

        Args:
            image: ``(H, W, 3)`` uint8 BGR frame (not modified).
            frame: 1-based frame number, for the status line.
            timestamp: the frame's time in seconds (drives the trails' length).
            tracks: the tracks of this frame, boxes ``xyxy`` in pixels of ``image``.

        Returns:
            ``(H, W, 3)`` uint8 BGR annotated frame.
        """
        canvas = image.copy()
        self._update_trails(timestamp, tracks)
        for track_id in tracks.ids.tolist():
            points = np.array([p for _, p in self._trails[track_id]], dtype=np.int32)
            if len(points) > 1:
                cv2.polylines(
                    canvas,
                    [points],
                    False,
                    track_color(track_id, self.config),
                    self.config.trail_thickness,
                    cv2.LINE_AA,
                )
        for track_id, box, class_id in zip(
            tracks.ids.tolist(), tracks.xyxy.round().astype(int).tolist(), tracks.class_ids.tolist(), strict=True
        ):
            color = track_color(track_id, self.config)
            x1, y1, x2, y2 = box
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, self.config.box_thickness, cv2.LINE_AA)
            label = f"{track_id} {self._class_names.get(class_id, str(class_id))}"
            self._label(canvas, label, (x1, y1), color)
        if self.config.status_line:
            status = f"frame {frame}  {timestamp:.2f} s  {len(tracks)} tracks"
            self._label(canvas, status, (0, 0), _BLACK, inside=True)
        return canvas

    def _update_trails(self, timestamp: float, tracks: Tracks) -> None:
        centres = ((tracks.xyxy[:, :2] + tracks.xyxy[:, 2:]) / 2).round().astype(int).tolist()
        for track_id, (cx, cy) in zip(tracks.ids.tolist(), centres, strict=True):
            self._trails.setdefault(track_id, deque()).append((timestamp, (cx, cy)))
        oldest = timestamp - self.config.trail_s
        for track_id in list(self._trails):
            trail = self._trails[track_id]
            while trail and trail[0][0] < oldest:
                trail.popleft()
            if not trail:
                del self._trails[track_id]

    def _label(
        self, canvas: np.ndarray, text: str, corner: tuple[int, int], color: tuple[int, int, int], inside: bool = False
    ) -> None:
        """Text on a filled ``color`` box above ``corner`` (below it when there is no room or ``inside``).

        The label is shifted to stay inside the image when the box reaches past an edge.
        """
        cfg = self.config
        font = cv2.FONT_HERSHEY_SIMPLEX
        (width, height), baseline = cv2.getTextSize(text, font, cfg.font_scale, cfg.text_thickness)
        box_w = width + 2 * cfg.label_padding
        box_h = height + baseline + 2 * cfg.label_padding
        image_h, image_w = canvas.shape[:2]
        x = min(max(corner[0], 0), max(image_w - box_w, 0))
        y = min(max(corner[1], 0), max(image_h - box_h, 0))
        top = y if inside or y - box_h < 0 else y - box_h
        cv2.rectangle(canvas, (x, top), (x + box_w, top + box_h), color, cv2.FILLED)
        origin = (x + cfg.label_padding, top + cfg.label_padding + height)
        cv2.putText(canvas, text, origin, font, cfg.font_scale, _text_color(color), cfg.text_thickness, cv2.LINE_AA)


class VideoWriter:
    """Writes BGR frames to an MP4 file (codec ``mp4v``) with OpenCV.

    Args:
        path: the ``.mp4`` file to create (an existing file is replaced: check before).
        fps: frame rate in Hz stored in the file.
        width, height: frame size in pixels; every frame must have it.

    Raises:
        OSError: OpenCV cannot open the file for writing.
    """

    fourcc = "mp4v"

    def __init__(self, path: str, fps: float, width: int, height: int) -> None:
        self.path = path
        self._size = (width, height)
        self._writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*self.fourcc), fps, self._size)
        if not self._writer.isOpened():
            raise OSError(f"{path}: OpenCV cannot write an {self.fourcc} video here")

    def write(self, image: np.ndarray) -> None:
        """Append one ``(height, width, 3)`` uint8 BGR frame."""
        self._writer.write(image)

    def close(self) -> None:
        """Finish the file (idempotent)."""
        self._writer.release()
