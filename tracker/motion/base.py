"""The motion-model seam: a batched, stateless interface shared by every backend.

Following the shape of deep_sort's ``kalman_filter.py`` (Wojke et al., 2017), a
motion model holds no per-track state itself. The association pipeline owns a
:class:`MotionState` (a bundle of arrays whose first axis is the track) and asks the
model to ``initiate`` rows for new tracks, ``predict`` all rows forward by ``dt``
seconds, ``update`` matched rows with their detections and read the predicted
``boxes``. The Kalman filter and the LSTM predictor are two implementations of this
seam inside the one pipeline in :mod:`tracker.pipeline`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

__all__ = ["MotionModel", "MotionState"]


@dataclass
class MotionState:
    """Per-track motion state for ``M`` tracks: named arrays sharing a first axis of length M.

    Which arrays exist is the motion model's business (a Kalman filter keeps a mean
    and a covariance, a learned model a window of past boxes). Rows are tracks in
    the order the pipeline keeps them; ``take``, ``put`` and ``concat`` move rows
    without knowing what they mean.
    """

    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values()))) if self.arrays else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def take(self, index: np.ndarray) -> MotionState:
        """A new state holding the rows ``index`` (integer array or boolean mask)."""
        if index.dtype == bool:
            return MotionState({name: array.compress(index, axis=0) for name, array in self.arrays.items()})
        return MotionState({name: array.take(index, axis=0) for name, array in self.arrays.items()})

    def put(self, index: np.ndarray, rows: MotionState) -> None:
        """Overwrite the rows ``index`` in place with the rows of ``rows`` (same order)."""
        for name, array in self.arrays.items():
            array[index] = rows.arrays[name]

    def concat(self, other: MotionState) -> MotionState:
        """A new state with the rows of ``other`` appended after this state's rows."""
        if not self.arrays:
            return other
        if not other.arrays:
            return self
        return MotionState({n: np.concatenate([a, other.arrays[n]]) for n, a in self.arrays.items()})


class MotionModel(ABC):
    """Batched motion model over ``M`` tracks.

    Boxes are ``xyxy`` float64 pixels; time steps ``dt`` are in seconds. Models are
    stateless: every method takes a :class:`MotionState` and returns a new one (or
    boxes), so one model instance may serve any number of trackers.
    """

    @abstractmethod
    def initiate(self, xyxy: np.ndarray) -> MotionState:
        """State for new tracks, one per ``(K, 4)`` box (the first detection of each)."""

    @abstractmethod
    def predict(self, state: MotionState, dt: float) -> MotionState:
        """Every track's state ``dt`` seconds later (``dt > 0``), without new observations."""

    @abstractmethod
    def update(self, state: MotionState, xyxy: np.ndarray, gain_scale: np.ndarray | None = None) -> MotionState:
        """Correct ``K`` tracks with their matched ``(K, 4)`` boxes (row i goes with box i).

        ``gain_scale``: optional factors in ``(0, 1]`` multiplying the gain of each
        row's correction, ``(K,)`` (one per row) or ``(4, K)`` (one per measurement
        component and row) (1: the ordinary update; smaller: trust the prediction
        more than the observation; OccluTrack's abnormal motion suppression, Gao et
        al. 2023). Only models with ``supports_gain_scale`` accept it; the pipeline
        passes it only when asked to, so models written before it need not take it.
        """

    @abstractmethod
    def warp(self, state: MotionState, affine: np.ndarray) -> MotionState:
        """Move every track into the current frame's pixel coordinates after camera motion.

        ``affine`` is a ``(2, 3)`` matrix mapping a pixel ``(x, y)`` of the previous
        frame to ``affine @ (x, y, 1)`` in the current one (camera motion compensation,
        as in BoT-SORT, Aharon et al. 2022).
        """

    @abstractmethod
    def boxes(self, state: MotionState) -> np.ndarray:
        """The ``(M, 4)`` float64 ``xyxy`` box each track's state currently predicts."""

    #: Whether :meth:`update` accepts a ``gain_scale`` (the pipeline refuses abnormal
    #: motion suppression, ``ams``, with a model that does not).
    supports_gain_scale: bool = False

    #: Whether :meth:`mahalanobis` is implemented (the pipeline refuses BoostTrack's
    #: Mahalanobis terms with a model that cannot provide them).
    supports_mahalanobis: bool = False

    def mahalanobis(self, state: MotionState, xyxy: np.ndarray, measurement_noise: bool = True) -> np.ndarray:
        """Squared Mahalanobis distances ``(M, N)`` of ``N`` boxes to every track's predicted measurement.

        ``d2_ij = (z_j - H x_i)^T S_i^{-1} (z_j - H x_i)`` with ``z_j`` box ``j`` of the
        ``(N, 4)`` ``xyxy`` array in the model's measurement space and ``S_i`` track
        ``i``'s innovation covariance ``H P_i H^T + R_i`` (DeepSORT's gating distance,
        Wojke et al. 2017); unitless float64, chi-squared with 4 degrees of freedom
        under the model. ``measurement_noise=False`` leaves ``R`` out (``S = H P H^T``,
        the covariance BoostTrack's published code uses).

        Raises:
            NotImplementedError: the model has no innovation covariance
                (``supports_mahalanobis`` is False).
        """
        raise NotImplementedError(f"{type(self).__name__} has no innovation covariance: no Mahalanobis distance")

    def select(self, state: MotionState, index: np.ndarray) -> MotionState:
        """Rows ``index`` of ``state`` (integer array or boolean mask), e.g. to drop tracks."""
        return state.take(index)
