"""OccluTrack's abnormal motion suppression (Gao et al., arXiv 2309.10360): the maths, and a scene it must solve."""

import numpy as np
import pytest
from scenes import box, dets

import tracker
from tracker import Detections
from tracker.config import ConfigError
from tracker.mechanisms.updates import AmsConfig, MotionSuppression
from tracker.motion import KalmanConfig, KalmanMotion
from tracker.motion.lstm import ConstantVelocityMotion
from tracker.pipeline import AssociationTracker, PipelineConfig

# --- the scene -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ams", [False, True])
def test_ams_keeps_a_pedestrian_through_a_partial_then_full_occlusion(ams):
    """A 40 x 100 px pedestrian walks right at 100 px/s (10 Hz). At frame 10 an obstacle hides the
    lower half of the body: the detection is the top half, its centre jumps 25 px up and its area
    halves. Then the pedestrian is hidden for 1 s and reappears on its straight path. Without AMS the
    jump corrupts the filter's vertical and area velocities, the prediction drifts off and the
    track is lost (a new ID); with AMS the update trusts the prediction and the track keeps its ID.
    """
    t = tracker.create("sort", min_hits=1, max_age_s=2.0, ams=ams)  # true: AMS with its defaults
    reported = []
    for k in range(24):
        cx = 100 + 10 * k
        if k == 10:
            frame = dets([cx - 20, 100, cx + 20, 150])  # the top half of box(cx, 150, 40, 100)
        elif 11 <= k < 21:
            frame = Detections.empty()
        else:
            frame = dets(box(cx, 150, 40, 100))
        reported.append(t.update(frame, k / 10).ids.tolist())
    assert reported[:11] == [[1]] * 11 and reported[11:21] == [[]] * 10
    assert reported[21:] == ([[1]] * 3 if ams else [[2]] * 3)


# --- the maths -----------------------------------------------------------------------------------


def _walker(**settings) -> AssociationTracker:
    """A tracker that has seen a 40 x 100 box at (100, 150) and (110, 150), 0.1 s apart; ``settings``: AMS's."""
    t = tracker.create("sort", min_hits=1, ams=settings)
    t.update(dets(box(100, 150, 40, 100)), 0.0)
    t.update(dets(box(110, 150, 40, 100)), 0.1)
    return t


def _part(t: AssociationTracker) -> MotionSuppression:
    return next(policy for policy in t._policies if isinstance(policy, MotionSuppression))


def _gain(t: AssociationTracker, xyxy: list[float], now: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """AMS's gain factors for track 0 matched to ``xyxy`` at ``now``, and its float row after the running means."""
    f, i = t.table.f.copy(), t.table.i.copy()
    _, gain = _part(t).before_update(t, np.arange(1), np.array([xyxy], dtype=np.float64), f, i, t.state, now)
    return gain, f


def _velocity(t: AssociationTracker, f: np.ndarray) -> np.ndarray:
    return f[0, t.table.column("ams_velocity")]


def _area(t: AssociationTracker, f: np.ndarray) -> float:
    return f[0, t.table.column("ams_area")]


def test_running_means_after_two_observations():
    t = _walker(window_s=1.0)
    np.testing.assert_allclose(_velocity(t, t.table.f), [100.0, 0.0, 0.0, 0.0])  # the first velocity, whole
    np.testing.assert_allclose(_area(t, t.table.f), 4000.0)


@pytest.mark.parametrize(
    ("xyxy", "expected"),
    [
        ([100, 100, 140, 150], [0.4, 0.4, 0.4, 0.4]),  # top half: the centre jumps, the size drops
        ([106, 115, 134, 185], [1.0, 1.0, 0.4, 0.4]),  # shrunk about the expected centre: size only
        (box(150, 150, 40, 100), [1.0, 1.0, 1.0, 1.0]),  # a jump at full size: no occlusion
        (box(120, 150, 40, 100), [1.0, 1.0, 1.0, 1.0]),  # on course
    ],
)
def test_gain_per_pair(xyxy, expected):
    gain, _ = _gain(_walker(alpha=0.4), xyxy)
    np.testing.assert_allclose(gain[:, 0], expected)


def test_area_gate_off_suppresses_a_speed_spike_alone():
    gain, _ = _gain(_walker(alpha=0.4, shrink=None), box(150, 150, 40, 100))
    np.testing.assert_allclose(gain[:, 0], [0.4, 0.4, 1.0, 1.0])


def test_threshold_is_relative_to_the_mean_speed():
    # 140 px/s against a mean of 100 px/s: a spike of 0.4, abnormal only below the threshold.
    for threshold, expected in ((0.3, 0.4), (0.5, 1.0)):
        gain, _ = _gain(_walker(threshold=threshold, shrink=None), box(124, 150, 40, 100))
        assert gain[0, 0] == pytest.approx(expected)


def test_running_means_are_exponential_in_seconds():
    t = _walker(window_s=0.5)
    _, f = _gain(t, [100, 100, 140, 150], now=0.3)  # 0.2 s after the last observation
    w = 1.0 - np.exp(-0.2 / 0.5)
    velocity = np.array([(120 - 110) / 0.2, (125 - 150) / 0.2, 0.0, -50 / 0.2])
    np.testing.assert_allclose(_velocity(t, f), [100, 0, 0, 0] + w * (velocity - [100, 0, 0, 0]))
    np.testing.assert_allclose(_area(t, f), 4000 + w * (2000 - 4000))


def test_the_first_two_observations_are_never_suppressed():
    t = tracker.create("sort", min_hits=1, ams={"shrink": None})
    t.update(dets(box(100, 150, 40, 100)), 0.0)
    gain, _ = _gain(t, [300, 100, 320, 150], now=0.1)
    np.testing.assert_allclose(gain, 1.0)


def test_ams_declares_its_per_track_fields():
    off, on = tracker.create("sort"), tracker.create("sort", ams=True)
    for t in (off, on):
        t.update(dets(box(100, 150)), 0.0)
    assert on.table.f.shape[1] == off.table.f.shape[1] + 5
    with pytest.raises(KeyError):
        off.table.column("ams_area")


@pytest.mark.parametrize("representation", ["cxcysr", "cxcyah"])
def test_kalman_gain_scale_scales_the_mean_correction_only(representation):
    kf = KalmanMotion(KalmanConfig(representation=representation))
    state = kf.predict(kf.initiate(np.array([box(100, 150, 40, 100), box(300, 150)])), 0.1)
    z = np.array([box(112, 140, 30, 80), box(305, 150)])
    plain = kf.update(state, z)["x"]
    np.testing.assert_array_equal(kf.update(state, z, np.ones(2))["x"], plain)
    scale = np.array([[0.4, 1.0], [0.4, 1.0], [0.7, 0.5], [0.7, 0.5]])
    for gain_scale, per_component in ((np.array([0.4, 0.5]), np.array([[0.4, 0.5]] * 4)), (scale, scale)):
        scaled = kf.update(state, z, gain_scale)["x"]
        before = state["x"]
        for k in range(4):  # each component and its velocity move by the scaled correction
            for column in (k, 4 + k):
                np.testing.assert_allclose(
                    scaled[:, column] - before[:, column], per_component[k] * (plain[:, column] - before[:, column])
                )
        np.testing.assert_array_equal(scaled[:, 8:], plain[:, 8:])  # the covariance as usual


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [{"alpha": 0.0}, {"alpha": 1.5}, {"threshold": -1}, {"shrink": 1.2}, {"window_s": 0}, {"alpha": float("nan")}],
)
def test_invalid_ams_settings_are_refused(bad):
    with pytest.raises(ConfigError, match="ams"):
        tracker.create("vtrack", ams=bad)


def test_ams_needs_a_motion_model_with_a_gain():
    if "lstm" not in tracker.available():
        tracker.registry.register("lstm", "tracker.backends.lstm")
    with pytest.raises(ConfigError, match="no gain to suppress"):
        tracker.create("lstm", {"ams": True})
    with pytest.raises(ValueError, match="does not have"):
        AssociationTracker(ConstantVelocityMotion(window=5), PipelineConfig(ams=AmsConfig()))
    model = ConstantVelocityMotion(window=5)
    with pytest.raises(NotImplementedError):
        model.update(model.initiate(np.zeros((1, 4))), np.zeros((1, 4)), np.ones(1))
