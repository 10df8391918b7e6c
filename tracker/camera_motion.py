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
    """Settings of :class:`CameraMotionEstimator`.

    Attributes:
        model: ``"translation"`` (pan and tilt: car-mounted cameras) or
            ``"similarity"`` (adds rotation and uniform scale).
        scale: frames are resized by this factor before estimation (speed).
        max_corners: most corners tracked per frame.
        corner_quality: Shi-Tomasi quality level (fraction of the best corner's score).
        corner_distance_px: minimum distance between corners, in resized pixels.
        ransac_threshold_px: RANSAC inlier threshold, in resized pixels.
        min_inliers: fewer RANSAC inliers than this and the frame's motion is
            reported as identity (no compensation) rather than guessed.
    """

    model: str = "translation"
    scale: float = 0.5
    max_corners: int = 300
    corner_quality: float = 0.01
    corner_distance_px: float = 8.0
    ransac_threshold_px: float = 2.0
    min_inliers: int = 15

    def __post_init__(self) -> None:
        if self.model not in ("translation", "similarity"):
            raise ValueError(f"model must be 'translation' or 'similarity', got {self.model!r}")
        if not 0.0 < self.scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")


class CameraMotionEstimator:
    """Frame-to-frame camera motion from sparse optical flow (OpenCV); see the module doc.

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
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame (e.g. after a cut)."""
        self._previous = None

    def __call__(self, frame: np.ndarray, exclude_xyxy: np.ndarray | None = None) -> np.ndarray:
        """The ``(2, 3)`` affine from the previous frame to ``frame``.

        Args:
            frame: ``(H, W, 3)`` uint8 BGR (or ``(H, W)`` gray) image.
            exclude_xyxy: ``(N, 4)`` pixel boxes of this frame whose corners are
                ignored (the detections: moving objects are not background).

        Returns:
            ``(2, 3)`` float64 affine; identity for the first frame, after a frame
            size change, or when too few corners agree.

        Raises:
            ValueError: ``frame`` is not a 2-D or 3-channel image.
        """
        cv2, cfg = self._cv2, self.config
        if frame.ndim == 3 and frame.shape[2] == 3:
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        elif frame.ndim == 2:
            gray = frame
        else:
            raise ValueError(f"frame must be (H, W, 3) BGR or (H, W) gray, got shape {frame.shape}")
        if cfg.scale != 1.0:
            gray = cv2.resize(gray, None, fx=cfg.scale, fy=cfg.scale, interpolation=cv2.INTER_AREA)
        previous, self._previous = self._previous, (gray, exclude_xyxy)
        if previous is None or previous[0].shape != gray.shape:
            return identity()
        return self._estimate(previous[0], gray, previous[1], exclude_xyxy)

    def _mask(self, shape: tuple[int, ...], boxes: np.ndarray | None) -> np.ndarray:
        mask = np.full(shape, 255, dtype=np.uint8)
        if boxes is not None and len(boxes):
            scaled = np.round(np.asarray(boxes, dtype=np.float64) * self.config.scale).astype(int)
            for x1, y1, x2, y2 in scaled.tolist():
                mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = 0
        return mask

    def _estimate(
        self, before: np.ndarray, after: np.ndarray, before_boxes: np.ndarray | None, after_boxes: np.ndarray | None
    ) -> np.ndarray:
        cv2, cfg = self._cv2, self.config
        corners = cv2.goodFeaturesToTrack(
            before,
            maxCorners=cfg.max_corners,
            qualityLevel=cfg.corner_quality,
            minDistance=cfg.corner_distance_px,
            mask=self._mask(before.shape, before_boxes),
        )
        if corners is None or len(corners) < cfg.min_inliers:
            return identity()
        moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, corners, None)
        ok = status.ravel() == 1
        if after_boxes is not None and len(after_boxes):
            inside = moved.reshape(-1, 2)[:, None, :] * (1.0 / cfg.scale)
            boxes = np.asarray(after_boxes, dtype=np.float64)[None]
            in_box = (inside >= boxes[..., :2]).all(axis=2) & (inside <= boxes[..., 2:]).all(axis=2)
            ok &= ~in_box.any(axis=1)
        if ok.sum() < cfg.min_inliers:
            return identity()
        if cfg.model == "translation":
            shift, inliers = cv2.estimateTranslation2D(
                corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=cfg.ransac_threshold_px
            )
            affine = None if shift is None else np.concatenate([np.eye(2), np.reshape(shift, (2, 1))], axis=1)
        else:
            affine, inliers = cv2.estimateAffinePartial2D(
                corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=cfg.ransac_threshold_px
            )
        if affine is None or inliers is None or int(inliers.sum()) < cfg.min_inliers:
            return identity()
        affine = np.asarray(affine, dtype=np.float64)
        affine[:, 2] /= cfg.scale
        return affine


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
