"""Camera motion (ego-motion) between consecutive frames, as a ``(2, 3)`` affine.

A dashcam turns and pitches, so a car that stands still in the world slides across
the image; trackers that predict in pixels then lose it. Camera motion
compensation (CMC) estimates the image motion of the background between frames
and moves every track with it before association (BoT-SORT, Aharon et al. 2022;
the affine is passed to ``Tracker.update(..., camera_motion=A)``).

Two sources:

- :class:`CameraMotionEstimator`, from the frames themselves with OpenCV: Shi-Tomasi
  corners tracked by pyramidal Lucas-Kanade optical flow, and a RANSAC fit of the
  background motion, with the detections masked out so moving vehicles do not
  vote. The default model is a pure translation (``cv2.estimateTranslation2D``):
  a car-mounted camera mostly pans and pitches, and while it drives forward the
  road near the camera streams radially outwards, which a similarity fit
  (``cv2.estimateAffinePartial2D``, the ``"similarity"`` model, right for a
  hand-held or zooming camera) mistakes for a zoom of several percent per frame.
  RANSAC's consensus on a translation picks the distant background instead.
  OpenCV is imported when an estimator is created, never by ``import tracker``.
- :func:`affine_from_rotation`, from odometry: the image motion of points at
  infinity when the camera rotates by ``R`` (the infinite homography
  ``K R K^-1``, Hartley and Zisserman, *Multiple View Geometry*, 2nd ed., 13.4),
  fitted by an affine over the image.

Convention: ``A`` maps a pixel ``(x, y)`` of the previous frame to
``A @ (x, y, 1)`` in the current frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CameraMotionConfig", "CameraMotionEstimator", "affine_from_rotation", "identity"]


def identity() -> np.ndarray:
    """The ``(2, 3)`` float64 affine of a camera that did not move."""
    return np.eye(2, 3)


@dataclass(frozen=True)
class CameraMotionConfig:
    """Settings of :class:`CameraMotionEstimator` (sizes in pixels of the working image unless named otherwise).

    Attributes:
        model: ``"translation"`` (pan and tilt: car-mounted cameras) or
            ``"similarity"`` (adds rotation and uniform scale).
        width_px: largest width of the working image: a frame ``W`` pixels wide is
            shrunk by the whole factor ``k = ceil(W / width_px)`` (pixel blocks averaged,
            which OpenCV does fastest for whole factors): 1280 and 800 -> ``k = 2``, 1920 -> 3.
        max_corners: most corners detected when the tracked set is refilled.
        min_corners: the tracked set is refilled when fewer corners than this are left
            (corners that agreed with the last frame's motion are kept for the next).
        corner_quality: Shi-Tomasi quality level (fraction of the best corner's score).
        corner_distance_px: minimum distance between corners.
        window_px: side of the Lucas-Kanade window.
        pyramid_levels: pyramid levels of Lucas-Kanade above the working image (each
            halves it): 2 follows motions of up to about ``window_px / 2 * 2**2`` pixels
            away from the last frame's motion, which is where the search starts.
        ransac_threshold_px: RANSAC inlier threshold.
        min_inliers: fewer RANSAC inliers than this and the frame's motion is
            reported as identity (no compensation) rather than guessed.

    Raises:
        ValueError: a value out of range; the message names the field.
    """

    model: str = "translation"
    width_px: int = 640
    max_corners: int = 150
    min_corners: int = 40
    corner_quality: float = 0.01
    corner_distance_px: float = 8.0
    window_px: int = 9
    pyramid_levels: int = 2
    ransac_threshold_px: float = 2.0
    min_inliers: int = 10

    def __post_init__(self) -> None:
        if self.model not in ("translation", "similarity"):
            raise ValueError(f"model must be 'translation' or 'similarity', got {self.model!r}")
        if self.width_px < _MIN_WIDTH_PX:
            raise ValueError(f"width_px must be at least {_MIN_WIDTH_PX} pixels, got {self.width_px}")
        if self.max_corners < self.min_inliers or self.min_inliers < 1:
            raise ValueError(f"need 1 <= min_inliers <= max_corners, got {self.min_inliers} and {self.max_corners}")
        if self.window_px < _MIN_WINDOW_PX or self.pyramid_levels < 0:
            raise ValueError(
                f"window_px must be >= {_MIN_WINDOW_PX} and pyramid_levels >= 0, "
                f"got {self.window_px} and {self.pyramid_levels}"
            )


_MIN_WIDTH_PX = 32
_MIN_WINDOW_PX = 3
#: Corners are detected on the working image shrunk by this factor once more (4x fewer pixels to score).
_DETECT_FACTOR = 2


class CameraMotionEstimator:
    """Frame-to-frame camera motion from sparse optical flow (OpenCV); see the module doc.

    Per frame: the image is turned grey and shrunk by a whole factor, into reused
    buffers (:attr:`CameraMotionConfig.width_px`); pyramidal Lucas-Kanade flow
    (Bouguet's implementation in OpenCV) follows a set of corners from the previous
    working image into this one, starting from where the last frame's motion would
    put them; a RANSAC fit of the chosen model gives the affine.
    Corners landing inside a detection box of this frame do not vote. The corners that
    agreed with the fit are followed again in the next frame (KLT tracking, Tomasi and
    Kanade 1991); when fewer than ``min_corners`` are left, the set is detected anew
    (Shi and Tomasi, "Good features to track", CVPR 1994) on the previous working
    image halved once more, spread by a minimum distance and kept out of that frame's
    detections. Detection is the costly step; on dashcam clips it ran on roughly one
    frame in three to ten.

    Call it on every frame in order: the first call returns identity, each later
    call the affine from the previous frame to this one.

    Raises:
        ImportError: OpenCV (>= 5.0, for ``estimateTranslation2D``) is not installed
            (``pip install vtrack[yolo]``).
    """

    def __init__(self, config: CameraMotionConfig | None = None) -> None:
        import cv2

        self._cv2: Any = cv2
        self.config = config or CameraMotionConfig()
        self._shape: tuple[int, ...] = ()
        self._factor = 1
        self._buffers: list[np.ndarray] = []
        self._small: np.ndarray | None = None
        self._grey: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._previous_boxes: np.ndarray | None = None
        self._points: np.ndarray | None = None
        self._last_shift = np.zeros(2)
        #: Corner detections so far (for tests and tuning).
        self.detections = 0
        cfg = self.config
        self._flow_args = {"winSize": (cfg.window_px, cfg.window_px), "maxLevel": cfg.pyramid_levels}

    def reset(self) -> None:
        """Forget the previous frame, the tracked corners and the last motion (e.g. after a cut)."""
        self._previous = None
        self._points = None
        self._last_shift = np.zeros(2)

    def __call__(self, frame: np.ndarray, exclude_xyxy: np.ndarray | None = None) -> np.ndarray:
        """The ``(2, 3)`` affine from the previous frame to ``frame``.

        Args:
            frame: ``(H, W, 3)`` uint8 BGR (or ``(H, W)`` grey) image.
            exclude_xyxy: ``(N, 4)`` pixel boxes of this frame whose corners are
                ignored (the detections: moving objects are not background).

        Returns:
            ``(2, 3)`` float64 affine in pixels of ``frame``; identity for the first
            frame, after a frame size change, or when too few corners agree.

        Raises:
            ValueError: ``frame`` is not a 2-D or 3-channel image.
        """
        if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)):
            raise ValueError(f"frame must be (H, W, 3) BGR or (H, W) grey, got shape {frame.shape}")
        if frame.shape != self._shape:
            self._allocate(frame.shape)
        working = self._buffers.pop()
        self._buffers.insert(0, working)
        self._shrink(frame, working)
        boxes = _scaled_boxes(exclude_xyxy, self._factor)
        previous, previous_boxes = self._previous, self._previous_boxes
        self._previous, self._previous_boxes = working, boxes
        if previous is None:
            self._points = None
            return identity()
        points = self._points
        if points is None or len(points) < self.config.min_corners:
            points = self._corners(previous, previous_boxes)
        affine, self._points = self._estimate(previous, working, points, boxes)
        return affine

    def _allocate(self, shape: tuple[int, ...]) -> None:
        height, width = shape[:2]
        k = max(1, -(-width // self.config.width_px))
        rows, cols = height // k, width // k
        small = (rows // _DETECT_FACTOR, cols // _DETECT_FACTOR)
        self._shape, self._factor = shape, k
        self._buffers = [np.empty((rows, cols), np.uint8) for _ in range(2)]
        self._grey = np.empty((height, width), np.uint8) if len(shape) == 3 else None
        self._small = np.empty(small, np.uint8)
        self._mask = np.empty(small, np.uint8)
        self.reset()

    def _shrink(self, frame: np.ndarray, working: np.ndarray) -> None:
        """Write the grey working image (``frame`` shrunk by the factor) into ``working``."""
        cv2, k = self._cv2, self._factor
        rows, cols = working.shape
        grey = frame if self._grey is None else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY, dst=self._grey)
        if k > 1:
            cv2.resize(grey[: rows * k, : cols * k], (cols, rows), dst=working, interpolation=cv2.INTER_AREA)
        else:
            working[...] = grey

    def _corners(self, working: np.ndarray, boxes: np.ndarray | None) -> np.ndarray | None:
        """``(N, 1, 2)`` float32 corners of the working image (picked on its half), outside ``boxes``."""
        cv2, cfg, mask, small = self._cv2, self.config, None, self._small
        assert small is not None  # allocated with the buffers
        half_rows, half_cols = small.shape
        cv2.resize(
            working[: half_rows * _DETECT_FACTOR, : half_cols * _DETECT_FACTOR],
            (half_cols, half_rows),
            dst=small,
            interpolation=cv2.INTER_AREA,
        )
        self.detections += 1
        if boxes is not None and self._mask is not None:
            mask = self._mask
            mask.fill(255)
            for x1, y1, x2, y2 in np.round(boxes / _DETECT_FACTOR).astype(int).tolist():
                mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = 0
        corners = cv2.goodFeaturesToTrack(
            small,
            maxCorners=cfg.max_corners,
            qualityLevel=cfg.corner_quality,
            minDistance=cfg.corner_distance_px / _DETECT_FACTOR,
            mask=mask,
        )
        if corners is None:
            return None
        # Pixel i of the half image averages working pixels 2i and 2i + 1: its centre is 2i + 0.5.
        result: np.ndarray = corners * _DETECT_FACTOR + (_DETECT_FACTOR - 1) / 2
        return result

    def _estimate(
        self, before: np.ndarray, after: np.ndarray, corners: np.ndarray | None, after_boxes: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The affine, and the corners of ``after`` that agreed with it (None when it failed)."""
        cv2, cfg = self._cv2, self.config
        if corners is None or len(corners) < cfg.min_inliers:
            return identity(), None
        guess = (corners + self._last_shift.astype(np.float32)).astype(np.float32)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            before, after, corners, guess, flags=cv2.OPTFLOW_USE_INITIAL_FLOW, **self._flow_args
        )
        rows, cols = after.shape
        xy = moved.reshape(-1, 2)
        ok = (status.ravel() == 1) & (xy >= 0).all(axis=1) & (xy[:, 0] < cols) & (xy[:, 1] < rows)
        if after_boxes is not None:
            ok &= ~_inside(moved, after_boxes)
        if ok.sum() < cfg.min_inliers:
            self._last_shift = np.zeros(2)
            return identity(), None
        if cfg.model == "translation":
            shift, inliers = cv2.estimateTranslation2D(
                corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=cfg.ransac_threshold_px
            )
            finite = np.isfinite(shift).all()
            affine = np.concatenate([np.eye(2), np.reshape(shift, (2, 1))], axis=1) if finite else None
        else:
            affine, inliers = cv2.estimateAffinePartial2D(
                corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=cfg.ransac_threshold_px
            )
        if affine is None or inliers is None or int(inliers.sum()) < cfg.min_inliers:
            return identity(), None
        affine = np.asarray(affine, dtype=np.float64)
        self._last_shift = affine[:, 2].copy()
        affine[:, 2] *= self._factor
        return affine, moved[ok][inliers.ravel() == 1]


def _scaled_boxes(boxes: np.ndarray | None, factor: int) -> np.ndarray | None:
    """``(N, 4)`` float64 ``boxes`` in working-image pixels, or None for no boxes."""
    if boxes is None or len(boxes) == 0:
        return None
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4) / factor


def _inside(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: which of the ``(N, 1, 2)`` points lie in any of the ``(M, 4)`` xyxy boxes."""
    xy = points.reshape(-1, 1, 2)
    within = (xy >= boxes[None, :, :2]) & (xy <= boxes[None, :, 2:])
    return np.asarray(np.any(np.all(within, axis=2), axis=1), dtype=bool)


def affine_from_rotation(intrinsics: np.ndarray, rotation: np.ndarray, point: np.ndarray | None = None) -> np.ndarray:
    """Image motion of a camera rotation, as the affine tangent to its infinite homography.

    Args:
        intrinsics: ``(3, 3)`` camera matrix ``K`` (pixels).
        rotation: ``(3, 3)`` rotation taking directions in the previous camera frame
            to the current camera frame (``R_cur^T R_prev`` for camera-to-world
            rotations ``R``).
        point: ``(2,)`` pixel where the affine equals the homography to first order;
            default the principal point ``(K[0, 2], K[1, 2])``.

    Returns:
        ``(2, 3)`` float64 affine (previous pixel -> current pixel): the first-order
        expansion of ``H = K R K^-1`` at ``point``. Camera translation is ignored
        (exact for distant points), and so is the homography's curvature away from
        ``point`` (a few percent of the shift at the edge of a wide image).
    """
    H = intrinsics @ rotation @ np.linalg.inv(intrinsics)
    p = np.array([intrinsics[0, 2], intrinsics[1, 2]]) if point is None else np.asarray(point, dtype=np.float64)
    u, v, w = H @ np.array([p[0], p[1], 1.0])
    mapped = np.array([u, v]) / w
    jacobian = (H[:2, :2] - np.outer(mapped, H[2, :2])) / w
    return np.concatenate([jacobian, (mapped - jacobian @ p)[:, None]], axis=1)
