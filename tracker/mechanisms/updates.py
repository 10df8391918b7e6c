"""Update policies: how a matched track's motion state takes its detection.

- :class:`Reupdate`: OC-SORT's observation-centric re-update (Cao et al., CVPR 2023).
- :class:`MotionSuppression`: OccluTrack's abnormal motion suppression (Gao et al.,
  "Rethinking Awareness of Occlusion for Enhancing Multiple Pedestrian Tracking",
  arXiv 2309.10360).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.arrays import FloatArray, IntArray
from tracker.boxes import XYXY_TO_CXCYWH
from tracker.config import check_range
from tracker.mechanisms.base import Frame, Pipeline, UpdatePolicy
from tracker.motion.base import MotionState
from tracker.table import FieldSpec

__all__ = ["AmsConfig", "MotionSuppression", "Reupdate"]


class Reupdate(UpdatePolicy):
    """OC-SORT's ORU: replay tracks that missed updates along a virtual trajectory.

    For a track last observed ``k`` updates ago at ``t0`` with box ``b0``, restart from
    its motion state right after that observation and alternate predict and update over
    ``k`` equal time steps towards now, updating with boxes interpolated linearly from
    ``b0`` to the new detection; the last step (the real detection) is the pipeline's
    ordinary update. Keeps, outside the table, each track's motion state right after
    its last observation (moved by camera motion like the live state).
    """

    needs_observations = True

    def bind(self, p: Pipeline) -> None:
        self._snapshot = MotionState()

    def before_update(
        self,
        p: Pipeline,
        rows: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
        now: float,
    ) -> tuple[MotionState, FloatArray | None]:
        t, motion = p.table, p.motion
        misses = t.misses(p.updates, i)
        for k in np.unique(misses[misses > 0]).tolist():
            sel = (misses == k).nonzero()[0]
            replay = self._snapshot.take(rows[sel])
            start, end = f[sel, t.OBS], boxes[sel]
            step = (now - f[sel, t.LAST]) / (k + 1)
            for dt in np.unique(step).tolist():
                same = (step == dt).nonzero()[0]
                sub = replay.take(same)
                for j in range(1, k + 1):
                    sub = motion.predict(sub, dt)
                    virtual = start[same] + (end[same] - start[same]) * (j / (k + 1))
                    sub = motion.update(sub, virtual)
                replay.put(same, motion.predict(sub, dt))
            state.put(sel, replay)
        return state, None

    def on_birth(
        self,
        p: Pipeline,
        frame: Frame,
        cols: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
    ) -> None:
        self._snapshot = self._snapshot.concat(state)

    def on_match(
        self,
        p: Pipeline,
        frame: Frame,
        rows: IntArray,
        cols: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
    ) -> None:
        self._snapshot.put(rows, state)

    def on_keep(self, p: Pipeline, mask: np.ndarray) -> None:
        self._snapshot = p.motion.select(self._snapshot, mask)

    def on_warp(self, p: Pipeline, affine: FloatArray) -> None:
        self._snapshot = p.motion.warp(self._snapshot, affine)

    def on_clear(self, p: Pipeline) -> None:
        self._snapshot = MotionState()


@dataclass(frozen=True)
class AmsConfig:
    """OccluTrack's abnormal motion suppression (:class:`MotionSuppression`).

    Attributes:
        alpha: gain factor in ``(0, 1]`` of an abnormal pair of components (OccluTrack's ``alpha_0``).
        threshold: relative speed spike (``>= 0``) above which a pair is abnormal.
        shrink: the area gate in ``(0, 1]``: suppress only when the box area is below this
            fraction of the running mean area; ``None``: no area gate (the speed test alone).
        window_s: time constant (seconds, ``> 0``) of the exponential running means of
            velocity and area (weight ``1 - exp(-gap / window_s)`` for an observation
            ``gap`` seconds after the previous one), so the window does not depend on the
            frame rate.
    """

    alpha: float = 0.4
    threshold: float = 0.5
    shrink: float | None = 0.75
    window_s: float = 1.0

    def __post_init__(self) -> None:
        check_range("ams.alpha", self.alpha, 0.0, 1.0, low_open=True)
        check_range("ams.threshold", self.threshold, 0.0)
        if self.shrink is not None:
            check_range("ams.shrink", self.shrink, 0.0, 1.0, low_open=True)
        check_range("ams.window_s", self.window_s, 0.0, low_open=True)


#: Measurement components (cx, cy, size, size) -> their pair (centre 0, size 1).
_PAIR_OF_COMPONENT = [0, 0, 1, 1]


class MotionSuppression(UpdatePolicy):
    """OccluTrack's abnormal motion suppression: a reduced gain for a detection that jumps while it shrinks.

    A track's velocity ``v = (dcx, dcy, dw, dh) / gap`` is measured from its previous
    observation ``gap`` seconds earlier. Its centre pair and its size pair are each
    abnormal when ``|v| > (1 + threshold) |v_mean|`` (a relative speed spike; ``v_mean``
    the pair's running mean velocity) and the box area is below ``shrink`` times the
    running mean area (a partial occlusion hides part of the object and shrinks its
    box). The motion model corrects the components of an abnormal pair (centre: the
    first two; size: the last two, ``s, r`` or ``a, h``) with their gain scaled by
    ``alpha``: OccluTrack's per-component ``alpha_x, alpha_y, alpha_w, alpha_h``. A
    track's first two observations are never suppressed (it needs a mean velocity).
    Then the running means take the new observation, suppressed or not; the first
    velocity is taken whole, the mean area starts at the first box's. Declares the
    running means: velocity (px/s, 4 numbers) and area (px²).

    The paper's full text was not available offline: the definitions follow its
    abstract; the area gate follows BoxMOT's OccluBoost behaviour (not its code).

    Raises (at :meth:`bind`):
        ValueError: the motion model has no gain to scale (``supports_gain_scale``).
    """

    fields = (FieldSpec("ams_velocity", 4), FieldSpec("ams_area"))
    needs_observations = True

    def __init__(self, config: AmsConfig) -> None:
        self.config = config

    def bind(self, p: Pipeline) -> None:
        if not p.motion.supports_gain_scale:
            raise ValueError(f"ams scales the motion model's gain, which {p.motion_name} does not have")
        self._velocity, self._area = p.table.column("ams_velocity"), p.table.column("ams_area")

    def before_update(
        self,
        p: Pipeline,
        rows: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
        now: float,
    ) -> tuple[MotionState, FloatArray | None]:
        c, t = self.config, p.table
        gap = now - f[:, t.LAST]
        velocity = (boxes - f[:, t.OBS]) @ XYXY_TO_CXCYWH.T / gap[:, None]  # (dcx, dcy, dw, dh) per second
        mean = f[:, self._velocity]
        speeds = np.concatenate([velocity, mean], axis=1)
        speeds *= speeds
        speeds = np.sqrt(speeds.reshape(-1, 4, 2).sum(axis=2))  # |v_centre|, |v_size|, then the means'
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        has_mean = i[:, t.HITS] >= 2  # a running mean velocity exists
        gate = has_mean if c.shrink is None else has_mean & (area < c.shrink * f[:, self._area])
        abnormal = (speeds[:, :2] > (1.0 + c.threshold) * speeds[:, 2:]) & gate[:, None]
        gain = np.where(abnormal.T[_PAIR_OF_COMPONENT], c.alpha, 1.0)  # (4, K)
        weight = -np.expm1(-gap / c.window_s)
        f[:, self._area] += weight * (area - f[:, self._area])
        f[:, self._velocity] += np.where(has_mean, weight, 1.0)[:, None] * (velocity - mean)
        return state, gain

    def on_birth(
        self,
        p: Pipeline,
        frame: Frame,
        cols: IntArray,
        boxes: FloatArray,
        f: FloatArray,
        i: IntArray,
        state: MotionState,
    ) -> None:
        f[:, self._area] = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
