"""Drawing tracks onto frames with OpenCV, and writing them as an MP4 video.

Each track ID gets a stable colour (hues spaced by the golden ratio, so consecutive
IDs differ clearly). A track's trail is the polyline of its box centres over the
last ``RenderConfig.trail_s`` seconds, kept in the coordinates of the current frame:
with camera motion given, every stored point is moved by each frame's affine, so a
trail shows the car's path over the ground rather than the camera's turn.

Labels ("ID class") never cover each other: each is put at the first free place of
above the box, inside its top, below it, inside its bottom, then stacked higher above
it; where none is free the label is shortened to the ID and tried again.

:class:`VideoWriter` encodes H.264 (``yuv420p``, the format browsers play) with PyAV
(FFmpeg's libx264), and falls back to OpenCV's MPEG-4 Part 2 (``mp4v``) with a
warning where PyAV or its H.264 encoder is missing.
"""

from __future__ import annotations

import colorsys
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import cv2
import numpy as np

from tracker.types import Tracks

__all__ = ["RenderConfig", "TrackRenderer", "VideoWriter", "track_color"]

logger = logging.getLogger(__name__)

#: Hue step between consecutive IDs: the golden ratio's conjugate, which spreads hues evenly.
_GOLDEN = (5**0.5 - 1) / 2
#: ITU-R BT.601 luma weights of (R, G, B), to pick black or white label text.
_LUMA = (0.299, 0.587, 0.114)
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)
#: Rows of label height a label may be stacked above its box before it is shortened.
_STACK_STEPS = 3


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


Rect = tuple[int, int, int, int]


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
        #: Per track: ``(N, 3)`` float64 rows ``(timestamp s, x px, y px)``, oldest first, in current-frame pixels.
        self._trails: dict[int, np.ndarray] = {}

    def draw(
        self,
        image: np.ndarray,
        frame: int,
        timestamp: float,
        tracks: Tracks,
        camera_motion: np.ndarray | None = None,
    ) -> np.ndarray:
        """A copy of ``image`` with ``tracks`` drawn on it.

        Args:
            image: ``(H, W, 3)`` uint8 BGR frame (not modified).
            frame: 1-based frame number, for the status line.
            timestamp: the frame's time in seconds (drives the trails' length).
            tracks: the tracks of this frame, boxes ``xyxy`` in pixels of ``image``.
            camera_motion: ``(2, 3)`` affine from the previous frame's pixels to this
                frame's (as given to the tracker), applied to the stored trail points;
                None for a fixed camera.

        Returns:
            ``(H, W, 3)`` uint8 BGR annotated frame.
        """
        canvas = image.copy()
        self._update_trails(timestamp, tracks, camera_motion)
        for track_id in tracks.ids.tolist():
            points = self._trails[track_id][:, 1:].round().astype(np.int32)
            if len(points) > 1:
                cv2.polylines(
                    canvas,
                    [points],
                    False,
                    track_color(track_id, self.config),
                    self.config.trail_thickness,
                    cv2.LINE_AA,
                )
        boxes = tracks.xyxy.round().astype(int).tolist()
        predicted = (tracks.det_index < 0).tolist()
        for track_id, box, guess in zip(tracks.ids.tolist(), boxes, predicted, strict=True):
            x1, y1, x2, y2 = box
            thickness = 1 if guess else self.config.box_thickness  # a prediction (no detection): a thin box
            cv2.rectangle(canvas, (x1, y1), (x2, y2), track_color(track_id, self.config), thickness)
        status = f"frame {frame}  {timestamp:.2f} s  {len(tracks)} tracks" if self.config.status_line else None
        if status is not None:
            self._put_label(canvas, status, self._clamp(canvas.shape, status, (0, 0)), _BLACK)
        for track_id, text, rect in self.place_labels(canvas.shape, tracks, status):
            self._put_label(canvas, text, rect, track_color(track_id, self.config))
        return canvas

    def place_labels(
        self, shape: tuple[int, ...], tracks: Tracks, status: str | None = None
    ) -> list[tuple[int, str, Rect]]:
        """Where the labels of ``tracks`` go in an image of ``shape``, none covering another.

        Nearest first (lowest bottom edge, as in a road scene), each label takes the first
        free place of: above its box, inside its top, below it, inside its bottom, then
        stacked up to three label heights higher above it; where none is free, the label
        is shortened to the ID and tried again; failing that it goes above its box anyway.

        Args:
            shape: the image's shape ``(H, W, ...)``.
            tracks: the tracks to label (boxes ``xyxy`` pixels).
            status: the status line's text, whose place (top-left corner) is kept free.

        Returns:
            ``(track id, text, (x1, y1, x2, y2))`` per track: the label's filled
            rectangle in pixels, inside the image.
        """
        placed: list[Rect] = [] if status is None else [self._clamp(shape, status, (0, 0))]
        boxes = tracks.xyxy.round().astype(int).tolist()
        ids, classes = tracks.ids.tolist(), tracks.class_ids.tolist()
        labels = []
        for index in sorted(range(len(boxes)), key=lambda i: -boxes[i][3]):
            track_id, box = ids[index], boxes[index]
            full = f"{track_id} {self._class_names.get(classes[index], str(classes[index]))}"
            for text in (full, str(track_id)):
                rect = self._free_spot(shape, text, self._candidates(text, box), placed)
                if rect is not None:
                    break
            else:
                text, rect = full, self._clamp(shape, full, self._candidates(full, box)[0])
            placed.append(rect)
            labels.append((track_id, text, rect))
        return labels

    def trail(self, track_id: int) -> np.ndarray:
        """``(N, 2)`` float64 trail centres ``(x, y)``, oldest first, in pixels of the last frame drawn."""
        trail = self._trails.get(track_id)
        return np.empty((0, 2)) if trail is None else trail[:, 1:].copy()

    def _update_trails(self, timestamp: float, tracks: Tracks, camera_motion: np.ndarray | None) -> None:
        if camera_motion is not None:
            linear, shift = camera_motion[:, :2].T, camera_motion[:, 2]
            for trail in self._trails.values():
                trail[:, 1:] = trail[:, 1:] @ linear + shift
        centres = (tracks.xyxy[:, :2] + tracks.xyxy[:, 2:]) / 2
        for track_id, (cx, cy) in zip(tracks.ids.tolist(), centres.tolist(), strict=True):
            row = np.array([[timestamp, cx, cy]])
            known = self._trails.get(track_id)
            self._trails[track_id] = row if known is None else np.concatenate([known, row])
        oldest = timestamp - self.config.trail_s
        for track_id in list(self._trails):
            trail = self._trails[track_id]
            keep = trail[:, 0] >= oldest
            if not keep.any():
                del self._trails[track_id]
            elif not keep.all():
                self._trails[track_id] = trail[keep]

    def _label_size(self, text: str) -> tuple[int, int, int]:
        """``(box width, box height, text height)`` in pixels of the filled label of ``text``."""
        cfg = self.config
        (width, height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, cfg.font_scale, cfg.text_thickness)
        return width + 2 * cfg.label_padding, height + baseline + 2 * cfg.label_padding, height

    def _candidates(self, text: str, box: list[int]) -> list[tuple[int, int]]:
        """Top-left corners to try for the label of ``box``, best first."""
        x1, y1, _, y2 = box
        _, box_h, _ = self._label_size(text)
        spots = [(x1, y1 - box_h), (x1, y1), (x1, y2), (x1, y2 - box_h)]
        spots += [(x1, y1 - box_h * (step + 2)) for step in range(_STACK_STEPS)]
        return spots

    def _clamp(self, shape: tuple[int, ...], text: str, corner: tuple[int, int]) -> Rect:
        """The label rectangle ``(x1, y1, x2, y2)`` at ``corner``, shifted to lie inside the image."""
        box_w, box_h, _ = self._label_size(text)
        image_h, image_w = shape[:2]
        x = min(max(corner[0], 0), max(image_w - box_w, 0))
        y = min(max(corner[1], 0), max(image_h - box_h, 0))
        return x, y, x + box_w, y + box_h

    def _free_spot(
        self, shape: tuple[int, ...], text: str, corners: list[tuple[int, int]], placed: list[Rect]
    ) -> Rect | None:
        """The label rectangle at the first of ``corners`` that overlaps none of ``placed``, or None."""
        for corner in corners:
            x1, y1, x2, y2 = self._clamp(shape, text, corner)
            if all(x2 <= a1 or a2 <= x1 or y2 <= b1 or b2 <= y1 for a1, b1, a2, b2 in placed):
                return x1, y1, x2, y2
        return None

    def _put_label(self, canvas: np.ndarray, text: str, rect: Rect, color: tuple[int, int, int]) -> None:
        """Text on a filled ``color`` rectangle ``rect`` (from :meth:`_clamp`)."""
        cfg = self.config
        x1, y1, x2, y2 = rect
        _, _, text_h = self._label_size(text)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, cv2.FILLED)
        origin = (x1 + cfg.label_padding, y1 + cfg.label_padding + text_h)
        cv2.putText(
            canvas,
            text,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            cfg.font_scale,
            _text_color(color),
            cfg.text_thickness,
            cv2.LINE_AA,
        )


def _even(value: int) -> int:
    return value + value % 2


class VideoWriter:
    """Writes BGR frames to an MP4 file: H.264 with PyAV, else ``mp4v`` with OpenCV (and a warning).

    H.264 is encoded by FFmpeg's libx264 (through PyAV, ``pip install av``) as
    ``yuv420p``, which every browser plays; the MP4 index is moved to the front
    (``movflags=+faststart``) so that playback starts before the file is read whole.
    ``yuv420p`` needs even sizes: a frame of odd width or height is padded by one
    column or row repeating its edge.

    Args:
        path: the ``.mp4`` file to create (an existing file is replaced: check before).
        fps: frame rate in Hz stored in the file.
        width, height: frame size in pixels; every frame must have it.
        crf: libx264's constant rate factor (0-51, lower is better quality and larger files).
        preset: libx264's speed preset; ``"ultrafast"`` takes about 8 ms per 1280x720 frame
            on one core of the 2-core CPU we measured on (``"veryfast"``: about 20 ms).

    Attributes:
        codec: ``"h264"`` or ``"mp4v"`` (the fallback).

    Raises:
        OSError: neither PyAV nor OpenCV can open the file for writing.
    """

    def __init__(
        self, path: str, fps: float, width: int, height: int, crf: int = 23, preset: str = "ultrafast"
    ) -> None:
        self.path = path
        self._size = (width, height)
        self._pad = (_even(height) - height, _even(width) - width)
        self._container: Any = None
        self._stream: Any = None
        self._cv_writer: Any = None
        self._count = 0
        reason = self._open_h264(fps, crf, preset)
        if reason is None:
            self.codec = "h264"
            return
        logger.warning("%s: written as MPEG-4 Part 2 (mp4v), which browsers do not play: %s", path, reason)
        self.codec = "mp4v"
        self._cv_writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*self.codec), fps, self._size)
        if not self._cv_writer.isOpened():
            raise OSError(f"{path}: neither PyAV ({reason}) nor OpenCV (mp4v) can write a video here")

    def _open_h264(self, fps: float, crf: int, preset: str) -> str | None:
        """Open the PyAV H.264 output; None on success, else why not."""
        try:
            import av
        except ImportError:
            return "PyAV is not installed (pip install av)"
        try:
            av.codec.Codec("libx264", "w")
        except ValueError:
            return "this PyAV build has no libx264 encoder"
        try:
            self._container = av.open(self.path, mode="w", options={"movflags": "+faststart"})
        except (OSError, av.FFmpegError) as error:
            raise OSError(f"{self.path}: cannot write a video here: {error}") from None
        stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = _even(self._size[0]), _even(self._size[1])
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset, "threads": "1"}
        self._stream = stream
        return None

    def write(self, image: np.ndarray) -> None:
        """Append one ``(height, width, 3)`` uint8 BGR frame."""
        if self._cv_writer is not None:
            self._cv_writer.write(image)
            return
        import av

        if any(self._pad):
            image = cv2.copyMakeBorder(image, 0, self._pad[0], 0, self._pad[1], cv2.BORDER_REPLICATE)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = self._count
        self._count += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file (idempotent)."""
        if self._cv_writer is not None:
            self._cv_writer.release()
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
