"""BoostTrack's similarity terms and confidence boosts: the maths, and synthetic scenes each one must solve."""

import numpy as np
import pytest
from scenes import box, dets

import tracker
from tracker.boxes import xyxy_to_rows
from tracker.config import ConfigError
from tracker.mechanisms.boosts import DuoConfig
from tracker.mechanisms.costs import BoostConfig
from tracker.motion import KalmanConfig, KalmanMotion
from tracker.motion.lstm import ConstantVelocityMotion
from tracker.pipeline import AssociationTracker, PipelineConfig
from tracker.similarity import (
    CHI2_4DOF_99,
    boost_similarity,
    dlo_boost,
    duo_boost,
    mahalanobis_similarity,
    shape_similarity,
    track_confidence,
)

# ByteTrack's noise (proportional to the box height) in vtrack's representation.
BYTETRACK_NOISE = KalmanConfig(
    representation="cxcyah",
    measurement_std=(0.0, 0.0, 0.1, 0.0),
    measurement_std_per_height=(0.05, 0.05, 0.0, 0.05),
    process_std_per_height=(0.27, 0.27, 0.0, 0.27),
    process_velocity_std_per_height=(1.0, 1.0, 0.0, 1.0),
    initial_std_per_height=(0.1, 0.1, 0.0, 0.1),
    initial_velocity_std_per_height=(1.9, 1.9, 0.0, 1.9),
)


# --- the maths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("config", [KalmanConfig(), BYTETRACK_NOISE])
@pytest.mark.parametrize("measurement_noise", [True, False])
def test_kalman_mahalanobis_matches_the_full_matrix_formula(config, measurement_noise):
    model = KalmanMotion(config)
    rng = np.random.default_rng(0)
    tracks = np.array([box(100, 100, 40, 80), box(300, 150, 30, 60), box(500, 120, 80, 160)], dtype=np.float64)
    state = model.predict(model.update(model.predict(model.initiate(tracks), 0.1), tracks + 2.0), 0.1)
    candidates = tracks[rng.integers(0, 3, 5)] + rng.normal(0.0, 6.0, (5, 4))
    d2 = model.mahalanobis(state, candidates, measurement_noise)
    P, mean = model.covariance(state), model.mean(state)
    representation = model.config.representation
    z = xyxy_to_rows(candidates, representation).T
    for i in range(len(tracks)):
        cx, cy, a, b = mean[i, :4]  # (a, h) or (s, r)
        height = b if representation == "cxcyah" else np.sqrt(max(a, 0.0) / b)
        S = P[i, :4, :4] + (model.measurement_noise(height) if measurement_noise else 0)
        for j in range(len(candidates)):
            diff = z[j] - mean[i, :4]
            assert d2[i, j] == pytest.approx(diff @ np.linalg.solve(S, diff), rel=1e-9)


def test_mahalanobis_similarity_is_a_gated_softmax_over_detections():
    d2 = np.array([[0.0, 1.0, 20.0], [30.0, 40.0, 50.0]])
    sim = mahalanobis_similarity(d2)
    e0, e1, e2 = np.exp(CHI2_4DOF_99), np.exp(CHI2_4DOF_99 - 1.0), 1.0  # the gated one still counts in the sum
    np.testing.assert_allclose(sim[0], [e0 / (e0 + e1 + e2), e1 / (e0 + e1 + e2), 0.0])
    np.testing.assert_array_equal(sim[1], [0.0, 0.0, 0.0])
    assert mahalanobis_similarity(np.zeros((0, 3))).shape == (0, 3)


def test_shape_similarity_values():
    track = np.array([box(0, 0, 40, 100)], dtype=np.float64)
    sim = shape_similarity(track, np.array([box(50, 50, 40, 100), box(0, 0, 20, 50)], dtype=np.float64))
    np.testing.assert_allclose(sim, [[1.0, np.exp(-1.0)]])


def test_track_confidence_and_boost_similarity():
    np.testing.assert_allclose(track_confidence(np.array([1, 7, 20]), np.array([0, 0, 2])), [0.9**6, 1.0, 0.81])
    iou = np.array([[0.5, 0.0]])
    conf = np.array([[0.8, 0.8]])
    boost = boost_similarity(iou, conf, 0.5, 0.25, np.array([[0.0, 99.0]]), 0.25, np.array([[1.0, 0.5]]))
    mhd = np.exp(CHI2_4DOF_99) / (np.exp(CHI2_4DOF_99) + 1.0)  # the gated detection keeps exp(0) in the sum
    np.testing.assert_allclose(boost, [[0.5 * 0.8 * 0.5 + 0.25 * mhd + 0.25 * 0.8, 0.25 * 0.8 * 0.5]])


def test_dlo_and_duo_boosts():
    scores = np.array([0.2, 0.2, 0.1, 0.25, 0.9])
    iou = np.array([[0.9, 0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(dlo_boost(scores, iou, 0.65), [0.585, 0.2, 0.1, 0.25, 0.9])
    np.testing.assert_allclose(dlo_boost(scores, np.zeros((0, 5)), 0.65), scores)
    boxes = np.array([box(0, 0), box(500, 0), box(600, 0), box(604, 0), box(900, 0)], dtype=np.float64)
    d2 = np.array([[1.0, 50.0, 50.0, 50.0, 50.0]])  # only detection 0 is inside the track's gate
    # 1 is alone, 2 and 3 overlap (3 scores better), 4 already passes the threshold.
    np.testing.assert_allclose(duo_boost(scores, boxes, d2, 0.5), [0.2, 0.5, 0.1, 0.5, 0.9])
    np.testing.assert_allclose(duo_boost(scores, boxes, np.zeros((0, 5)), 0.5), scores)


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"boost": {"mhd_weight": -0.1}},
        {"boost": {"shape_weight": -1.0}},
        {"boost": {"tracklet_decay": 0.0}},
        {"boost": {"iou_weight": float("nan")}},
        {"dlo": {"coef": 1.5}},
    ],
)
def test_invalid_boost_settings_are_refused(bad):
    with pytest.raises(ConfigError, match=next(iter(bad))):
        tracker.create("vtrack", bad)


@pytest.mark.parametrize(
    ("settings", "config"),
    [
        ({"boost": {"mhd_weight": 0.25}}, PipelineConfig(boost=BoostConfig(mhd_weight=0.25))),
        ({"duo": True}, PipelineConfig(duo=DuoConfig())),
    ],
)
def test_mahalanobis_needs_a_motion_model_that_has_it(settings, config):
    if "lstm" not in tracker.available():
        tracker.registry.register("lstm", "tracker.backends.lstm")
    with pytest.raises(ConfigError, match="no covariance"):
        tracker.create("lstm", settings)
    with pytest.raises(ValueError, match="cannot provide"):
        AssociationTracker(ConstantVelocityMotion(window=5), config)
    with pytest.raises(NotImplementedError):
        ConstantVelocityMotion(window=5).mahalanobis(ConstantVelocityMotion(window=5).initiate(np.zeros((1, 4))), [])


# --- scenes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0.0, 2.0])
def test_shape_keeps_a_pedestrian_on_the_detection_of_his_size(weight):
    """A pedestrian stands still; next frame his own box is shifted 12 px while a shorter box sits on him."""
    t = tracker.create("sort", min_hits=1, boost={"iou_weight": 0.0, "mhd_weight": 0.0, "shape_weight": weight})
    for k in range(8):
        t.update(dets(box(100, 100, 40, 100)), k / 10)
    tracks = t.update(dets(box(112, 100, 40, 100), box(100, 100, 40, 80)), 0.8)  # IoU 0.54 and 0.8
    assert int(tracks.det_index[tracks.ids == 1][0]) == (0 if weight else 1)


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_mahalanobis_follows_the_uncertain_axis(weight):
    """A pedestrian whose x is unpredictable (process noise 100 px/sqrt(s)) and y steady (1 px/sqrt(s)).

    The candidate 15 px off in x overlaps less (IoU 0.45) than the one 8 px off in y (IoU 0.58), but
    only the first is plausible under the filter: Mahalanobis similarity picks it.
    """
    kalman = {"process_std": [100.0, 1.0, 3.1623, 3.1623]}
    t = tracker.create(
        "sort", min_hits=1, boost={"iou_weight": 0.0, "mhd_weight": weight, "shape_weight": 0.0}, kalman=kalman
    )
    for k in range(10):
        t.update(dets(box(100, 100)), k / 10)
    tracks = t.update(dets(box(115, 100), box(100, 108)), 1.0)
    assert int(tracks.det_index[tracks.ids == 1][0]) == (0 if weight else 1)


@pytest.mark.parametrize("coef", [None, 0.65])
def test_dlo_keeps_a_track_on_its_low_score_detection(coef):
    """A pedestrian's score drops to 0.35 (partly occluded) for 5 frames; BYTE is off; clutter of 0.35 elsewhere."""
    t = tracker.create("sort", min_hits=1, min_score=0.5, dlo=coef and {"coef": coef}, max_age_s=0.2)
    reported = []
    for k in range(15):
        score = 0.35 if 5 <= k < 10 else 0.9
        tracks = t.update(dets(box(100 + 5 * k, 100), box(600, 300), scores=[score, 0.35]), k / 10)
        reported.append(tracks.ids.tolist())
    if coef:
        assert reported == [[1]] * 15  # kept throughout; the far clutter box is not boosted
    else:
        assert reported[5:10] == [[]] * 5 and reported[-1] == [2]


@pytest.mark.parametrize("duo", [False, True])
def test_duo_starts_a_track_on_a_low_score_detection_no_track_explains(duo):
    """One tracked pedestrian; a second one appears far away, detected at 0.4 twice (overlapping boxes)."""
    t = tracker.create("vtrack", min_hits=1, min_score=0.5, birth_score=0.5, byte=None, duo=duo)
    for k in range(5):
        t.update(dets(box(100, 100, 40, 100)), k / 10)
    frame = dets(box(100, 100, 40, 100), box(600, 300, 40, 100), box(604, 300, 40, 100), scores=[0.9, 0.4, 0.45])
    tracks = t.update(frame, 0.5)
    assert sorted(tracks.det_index.tolist()) == ([0, 2] if duo else [0])  # the better of the two overlapping ones
