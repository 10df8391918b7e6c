"""Batched constant-velocity Kalman filter on boxes: SORT's and ByteTrack's models in one.

Each track's measurement is four numbers ``z`` describing its box, in one of two
representations:

- ``"cxcysr"``: centre (px), area ``s = w * h`` (px²) and aspect ratio ``r = w / h``,
  the model of SORT (Bewley et al., "Simple Online and Realtime Tracking", ICIP 2016);
- ``"cxcyah"``: centre (px), aspect ratio ``a = w / h`` and height ``h`` (px), the
  model of DeepSORT (Wojke et al., 2017) used by ByteTrack and BoT-SORT.

The state is ``x = (z, dz/dt)``: the four components and their velocities (per
second). A component whose velocity has zero initial and process noise (SORT's
``r``) keeps a zero velocity, reproducing SORT's 7-dimensional state exactly.

The transition ``F`` and process noise ``Q`` are built from the time step ``dt`` in
seconds rather than assuming one frame per step: ``F = [[I, dt I], [0, I]]`` and
``Q = dt * diag(q)``, each component taking a random walk whose variance grows
linearly with time. Every noise standard deviation is ``absolute + per_height * h``
with ``h`` the track's current box height in pixels, so noise can scale with the
box (DeepSORT's choice: a near car moves and jitters more pixels than a far one) or
stay absolute (SORT's).

Because ``F`` couples each component only with its own velocity and ``Q``, ``R``
and the initial covariance are diagonal, the covariance stays block-diagonal: the
filter factorises exactly into four independent two-state filters, one per
component, each with a scalar measurement (the decoupled form of Bar-Shalom, Li and
Kirubarajan, *Estimation with Applications to Tracking and Navigation*, 2001,
ch. 6). The filter stores per track only the variances and position-velocity
covariances and updates them with element-wise arithmetic over all tracks at once,
with no inverses; the prediction and the camera-motion warp, linear in those stored
numbers, are one product of the ``(M, 20)`` state with a ``(20, 20)`` matrix each.
With ``numba`` installed, the prediction, the correction and the boxes run instead as
compiled loops over tracks and components (:mod:`tracker.motion.compiled`), with the
same results in fewer microseconds.
``tests/test_kalman.py`` checks that it gives the same states and covariances as
``filterpy.kalman.KalmanFilter`` (Labbe) run with the full matrices, step by step on a
real KITTI sequence.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tracker.boxes import boxes_to_rows, rows_to_xyxy, xyxy_to_rows
from tracker.config import check_range
from tracker.motion import compiled
from tracker.motion.base import MotionModel, MotionState

__all__ = ["KalmanConfig", "KalmanMotion", "REPRESENTATIONS"]

_DIM_Z = 4
_DIM_X = 2 * _DIM_Z
_DIAG = np.arange(_DIM_X)
# Rows of the transposed state (one row per stored number, one column per track): the mean
# (z, then its velocity v), then per component P_zv, P_zz and P_vv. P_zv and P_zz are adjacent
# (the correction scales both), and so are P_zz and P_vv (the variances, which process noise grows).
_MEAN = slice(0, _DIM_X)
_PZV, _PZZ, _PVV = slice(8, 12), slice(12, 16), slice(16, 20)
_VAR = slice(12, 20)  # P_zz then P_vv: the diagonal of the covariance, in the order of the mean
_GAIN_ROWS = slice(8, 16)  # P_zv then P_zz: divided by the innovation variance, the gains of v and z
_WIDTH = 20
_PROPAGATOR_CACHE = 8  # distinct time steps whose prediction matrix is kept

#: Box representations of the measurement; see the module doc.
REPRESENTATIONS = ("cxcysr", "cxcyah")

Vector4 = tuple[float, float, float, float]


class _Noise(NamedTuple):
    """Noise stds of ``K`` component rows: ``absolute + relative * h`` for a box ``h`` px high."""

    absolute: np.ndarray  # (K, 1)
    relative: np.ndarray | None  # (K, 1), None if every per-height part is 0
    stacked: np.ndarray | None  # (K, 2): relative, absolute; None with relative


@dataclass(frozen=True)
class KalmanConfig:
    """Representation and noise of :class:`KalmanMotion` (standard deviations, not variances).

    Every standard deviation is ``<name> + <name>_per_height * h`` for a box ``h`` px
    high, per component of ``z`` (see the module doc for units: px, px², 1 or px).
    Process noise is per sqrt(second); velocities are per second.

    The defaults are SORT's per-frame settings expressed per second for a 10 Hz
    camera (KITTI's rate): SORT's unit variances per frame become ``1 / 0.1 = 10``
    per second (std 3.1623), its velocity variances are rescaled from px/frame to
    px/s, and ``r`` has no velocity.

    Attributes:
        representation: ``"cxcysr"`` (SORT) or ``"cxcyah"`` (DeepSORT, ByteTrack).
        measurement_std: std of the measured ``z``.
        process_std: std per sqrt(second) of the random walk on ``z``.
        process_velocity_std: std per sqrt(second) of the random walk on ``dz/dt``.
        initial_std: std of the first state's ``z`` around its detection.
        initial_velocity_std: std of the first state's velocities (unknown: large).
        *_per_height: the part of each std proportional to the box height.
    """

    representation: str = "cxcysr"
    measurement_std: Vector4 = (1.0, 1.0, 3.1623, 3.1623)
    process_std: Vector4 = (3.1623, 3.1623, 3.1623, 3.1623)
    process_velocity_std: Vector4 = (3.1623, 3.1623, 0.31623, 0.0)
    initial_std: Vector4 = (3.1623, 3.1623, 3.1623, 3.1623)
    initial_velocity_std: Vector4 = (1000.0, 1000.0, 1000.0, 0.0)
    measurement_std_per_height: Vector4 = (0.0, 0.0, 0.0, 0.0)
    process_std_per_height: Vector4 = (0.0, 0.0, 0.0, 0.0)
    process_velocity_std_per_height: Vector4 = (0.0, 0.0, 0.0, 0.0)
    initial_std_per_height: Vector4 = (0.0, 0.0, 0.0, 0.0)
    initial_velocity_std_per_height: Vector4 = (0.0, 0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {self.representation!r}")
        for field in dataclasses.fields(self):
            if field.name != "representation":
                for k, value in enumerate(getattr(self, field.name)):
                    check_range(f"kalman.{field.name}[{k}]", value, 0.0)
        if not all(self.measurement_std[k] + self.measurement_std_per_height[k] > 0 for k in range(_DIM_Z)):
            raise ValueError("kalman.measurement_std (plus its per-height part) must be > 0 for every component")


class KalmanMotion(MotionModel):
    """Constant-velocity Kalman filter over box components, batched over tracks; see the module doc.

    The state of ``M`` tracks is one float64 array ``x`` ``(M, 20)`` (one array, so that
    the pipeline moves rows with one operation): columns 0-7 the mean ``(z, dz/dt)``,
    8-11 the covariance of each component with its velocity, 12-19 the diagonal of the
    covariance (the components', then their velocities'). :meth:`mean` and
    :meth:`covariance` read them as ``(M, 8)`` and ``(M, 8, 8)``.
    """

    supports_gain_scale = True
    supports_mahalanobis = True

    def __init__(self, config: KalmanConfig | None = None) -> None:
        self.config = c = config or KalmanConfig()
        sort = c.representation == "cxcysr"

        def pair(absolute: tuple[float, ...], per_height: tuple[float, ...]) -> _Noise:
            """The noise of component rows (see _variance)."""
            relative = np.asarray(per_height, dtype=np.float64)[:, None]
            absolute_column = np.asarray(absolute, dtype=np.float64)[:, None]
            if not relative.any():
                return _Noise(absolute_column, None, None)
            return _Noise(absolute_column, relative, np.hstack([relative, absolute_column]))

        self._r = pair(c.measurement_std, c.measurement_std_per_height)
        self._q = pair(
            c.process_std + c.process_velocity_std, c.process_std_per_height + c.process_velocity_std_per_height
        )
        self._p0 = pair(
            c.initial_std + c.initial_velocity_std, c.initial_std_per_height + c.initial_velocity_std_per_height
        )
        self._propagators: dict[float, np.ndarray] = {}
        size = 2 if sort else 3
        # Camera-motion warp, on the state's component rows x' = W @ x: W is this identity plus,
        # per frame, the entries _warp_flat taken from the affine (see warp()).
        self._warp_base = np.eye(_WIDTH)
        rows: list[int] = []
        cols: list[int] = []
        for first in (0, _DIM_Z, _DIM_X, _DIM_X + _DIM_Z, 2 * _DIM_X):  # centre, its velocity, their (co)variances
            rows += [first, first, first + 1, first + 1]
            cols += [first, first + 1, first, first + 1]  # the 2x2 block, row-major
        for column in (size, _DIM_Z + size, _DIM_X + size, _DIM_X + _DIM_Z + size, 2 * _DIM_X + size):
            rows.append(column)  # the size, its velocity, their (co)variances
            cols.append(column)
        self._warp_flat = np.array(rows) * _WIDTH + np.array(cols)  # (row, col) entries of W, flat
        self._size_power = 2.0 if sort else 1.0  # s = w * h scales by k², h by k
        self._cxcyah = not sort
        # The compiled prediction, correction and boxes (tracker.motion.compiled) when numba is installed.
        self._kernels = compiled.load()
        self._q_flat = self._q.absolute.ravel(), np.zeros(8) if self._q.relative is None else self._q.relative.ravel()
        self._r_flat = self._r.absolute.ravel(), np.zeros(4) if self._r.relative is None else self._r.relative.ravel()

    def _variance(self, noise: _Noise, rows: np.ndarray) -> np.ndarray:
        """Variances ``(absolute + per_height * h)²`` per component: ``(K, 1)`` if absolute only, else ``(K, M)``.

        ``h`` is the box height in px of the component rows ``(>=4, M)`` of states or measurements.
        """
        if noise.stacked is None:
            result: np.ndarray = noise.absolute * noise.absolute
            return result
        basis = np.empty((2, rows.shape[1]))  # per track (h, 1): the stds are one product
        basis[1].fill(1.0)
        if self._cxcyah:
            np.maximum(rows[3], 0.0, out=basis[0])
        else:
            np.sqrt(np.maximum(rows[2], 0.0) / np.maximum(rows[3], 1e-12), out=basis[0])
        std: np.ndarray = noise.stacked.dot(basis)
        std *= std
        return std

    def transition(self, dt: float) -> np.ndarray:
        """The ``(8, 8)`` transition matrix ``F`` for a step of ``dt`` seconds."""
        F = np.eye(_DIM_X)
        F[np.arange(_DIM_Z), np.arange(_DIM_Z, _DIM_X)] = dt
        return F

    def process_noise(self, dt: float, height: float = 0.0) -> np.ndarray:
        """The ``(8, 8)`` process noise covariance ``Q`` for ``dt`` seconds and a box ``height`` px high."""
        absolute, relative, _ = self._q
        std = absolute if relative is None else absolute + relative * height
        return np.diag(np.square(std[:, 0]) * dt)

    def measurement_noise(self, height: float = 0.0) -> np.ndarray:
        """The ``(4, 4)`` measurement noise covariance ``R`` for a box ``height`` px high."""
        absolute, relative, _ = self._r
        return np.diag(np.square(absolute if relative is None else absolute + relative * height)[:, 0])

    def initial_covariance(self, height: float = 0.0) -> np.ndarray:
        """The ``(8, 8)`` covariance ``P`` of a track initiated on a box ``height`` px high."""
        absolute, relative, _ = self._p0
        return np.diag(np.square(absolute if relative is None else absolute + relative * height)[:, 0])

    def mean(self, state: MotionState) -> np.ndarray:
        """The ``(M, 8)`` state means ``(z, dz/dt)`` (a view into ``state``)."""
        return state.arrays["x"][:, _MEAN]

    def covariance(self, state: MotionState) -> np.ndarray:
        """The full ``(M, 8, 8)`` covariance matrices of ``state``."""
        x = state.arrays["x"]
        P = np.zeros((len(x), _DIM_X, _DIM_X))
        P[:, _DIAG, _DIAG] = x[:, _VAR]
        pos, vel = np.arange(_DIM_Z), np.arange(_DIM_Z, _DIM_X)
        P[:, pos, vel] = P[:, vel, pos] = x[:, _PZV]
        return P

    # The methods below compute on the transpose of the state, ``(20, M)``: each stored
    # number is then one contiguous row over all tracks, which NumPy handles several times
    # faster than a column of an ``(M, 20)`` array for the few tracks of a frame. They
    # return the transpose back (a view), so ``state.arrays["x"]`` stays ``(M, 20)``.

    def initiate(self, xyxy: np.ndarray) -> MotionState:
        z = xyxy_to_rows(xyxy, self.config.representation)
        x = np.zeros((_WIDTH, z.shape[1]))
        x[:_DIM_Z] = z
        x[_VAR] = self._variance(self._p0, z)
        return MotionState({"x": x.T})

    def _propagator(self, dt: float) -> np.ndarray:
        """``(20, 20)`` matrix ``G`` with ``G @ x`` the noise-free prediction of the state rows ``x``.

        Per component, ``F = [[1, dt], [0, 1]]`` gives ``z + dt v``, ``P_zz + 2 dt P_zv +
        dt² P_vv``, ``P_zv + dt P_vv`` and ``P_vv``. Cached per ``dt`` (frames come at a
        few distinct intervals).
        """
        G = self._propagators.get(dt)
        if G is None:
            G = np.eye(_WIDTH)
            for k in range(_DIM_Z):
                z, v, cov, var_z, var_v = k, _DIM_Z + k, _PZV.start + k, _PZZ.start + k, _PVV.start + k
                G[z, v] = dt
                G[var_z, cov] = 2.0 * dt
                G[var_z, var_v] = dt * dt
                G[cov, var_v] = dt
            if len(self._propagators) >= _PROPAGATOR_CACHE:
                self._propagators.clear()
            self._propagators[dt] = G
        return G

    def predict(self, state: MotionState, dt: float) -> MotionState:
        prior = state.arrays["x"].T
        if self._kernels is not None:
            return MotionState({"x": self._kernels.predict(prior, float(dt), *self._q_flat, self._cxcyah).T})
        q = self._variance(self._q, prior)  # from the prior box heights
        x = self._propagator(dt).dot(prior)
        q *= dt
        variances = x[_VAR]
        variances += q
        return MotionState({"x": x.T})

    def update(self, state: MotionState, xyxy: np.ndarray, gain_scale: np.ndarray | None = None) -> MotionState:
        """The Kalman correction of the matched rows; see :meth:`MotionModel.update`.

        With ``gain_scale`` ``(K,)`` or ``(4, K)``, each row's gain on the *mean* is
        multiplied by its factor (per component of ``z`` in the second form),
        ``x += a K (z - H x)``, while the covariance takes the ordinary update
        (OccluTrack's abnormal motion suppression, Gao et al. 2023, arXiv 2309.10360:
        the abnormal observation moves the state less, and the filter's uncertainty
        still shrinks as for any observation).

        Raises:
            ValueError: not one box per row of ``state``.
        """
        prior, kernels = state.arrays["x"].T, self._kernels
        if (
            kernels is not None
            and gain_scale is None
            and isinstance(xyxy, np.ndarray)
            and xyxy.dtype == np.float64
            and xyxy.shape == (prior.shape[1], 4)
        ):
            return MotionState({"x": kernels.correct(prior, xyxy, *self._r_flat, self._cxcyah).T})
        x = np.array(prior)  # (20, M), C-contiguous
        m = x.shape[1]
        r = self._variance(self._r, x)
        z = self._measure(xyxy)
        if z.shape[1] != m:
            raise ValueError(f"update needs one box per track: {m} tracks, {z.shape[1]} boxes")
        innovation = z - x[:_DIM_Z]
        if gain_scale is not None:
            innovation *= gain_scale
        s = x[_PZZ] + r  # innovation variance per component
        covariances = x[_GAIN_ROWS].reshape(2, _DIM_Z, m)  # views of x: P_zv, P_zz
        gains = covariances / s  # P_zv / s (of v), P_zz / s (of z)
        mean = x[_MEAN].reshape(2, _DIM_Z, m)
        mean += gains[::-1] * innovation
        variance_v = x[_PVV]
        variance_v -= gains[0] * covariances[0]
        covariances *= np.divide(r, s, out=s)  # P_zv and P_zz shrink by R / S
        return MotionState({"x": x.T})

    def _measure(self, xyxy: np.ndarray) -> np.ndarray:
        """``(4, K)`` measurement rows of ``(K, 4)`` ``xyxy`` boxes (float64 arrays skip the conversion)."""
        if isinstance(xyxy, np.ndarray) and xyxy.dtype == np.float64 and xyxy.ndim == 2:
            return boxes_to_rows(xyxy, self.config.representation)
        return xyxy_to_rows(xyxy, self.config.representation)

    def mahalanobis(self, state: MotionState, xyxy: np.ndarray, measurement_noise: bool = True) -> np.ndarray:
        """Squared Mahalanobis distances ``(M, N)`` of ``(N, 4)`` ``xyxy`` boxes to the predicted measurements.

        The filter is decoupled per component, so the innovation covariance of each
        track is diagonal, ``S = P_pos + R`` per component of ``z`` (``R`` from the
        track's predicted height), and ``d2 = sum_k (z_k - x_k)^2 / S_k``: a few
        element-wise operations over a ``(4, M, N)`` array. With
        ``measurement_noise=False``, ``S = P_pos`` (the predicted state's covariance only).
        """
        x = state.arrays["x"].T
        s = x[_PZZ] + self._variance(self._r, x) if measurement_noise else x[_PZZ]
        diff = xyxy_to_rows(xyxy, self.config.representation)[:, None, :] - x[:_DIM_Z, :, None]
        result: np.ndarray = np.einsum("kmn,kmn,km->mn", diff, diff, 1.0 / s)
        return result

    def warp(self, state: MotionState, affine: np.ndarray) -> MotionState:
        """Apply a camera-motion affine to centres, sizes and their velocities.

        The ``(2, 2)`` linear part ``L`` of ``affine`` maps ``(cx, cy)`` (plus the
        translation) and their velocities; the scale ``k = sqrt|det L|`` multiplies
        lengths (``h``, and ``s`` by ``k²``) and their velocities; ratios are kept.
        Variances are mapped likewise; a rotation would correlate x with y, and that
        cross term is dropped to keep the per-axis form (exact for translation and
        scaling, the usual dashcam case).

        Raises:
            ValueError: ``affine`` is not ``(2, 3)``.
        """
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (2, 3):
            raise ValueError(f"affine must have shape (2, 3), got {affine.shape}")
        (a, b, tx), (c, d, ty) = affine.tolist()
        if a == d == 1.0 and b == c == 0.0:  # a translation moves the centres only
            x = np.array(state.arrays["x"].T)
        else:
            scale = abs(a * d - b * c) ** (0.5 * self._size_power)
            squared = scale * scale
            W = self._warp_base.copy()  # per call, no shared scratch: a model may serve trackers in several threads
            W.put(
                self._warp_flat,
                [
                    *(a, b, c, d, a, b, c, d),  # the centres and their velocities
                    *((a * a, b * b, c * c, d * d) * 3),  # their (co)variances
                    *(scale, scale, squared, squared, squared),  # the sizes, their velocities, (co)variances
                ],
            )
            x = W.dot(state.arrays["x"].T)
        centres = x[:2]
        centres += affine[:, 2:]  # the translation moves the centres
        return MotionState({"x": x.T})

    def boxes(self, state: MotionState) -> np.ndarray:
        if self._kernels is not None:
            return self._kernels.boxes(state.arrays["x"].T, self._cxcyah)
        return rows_to_xyxy(state.arrays["x"].T, self.config.representation)
