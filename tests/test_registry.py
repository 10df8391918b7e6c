"""Registry, config overrides and the import hygiene of the core."""

import subprocess
import sys

import pytest

import tracker
from tracker.config import ConfigError


def test_available_and_default():
    assert "sort" in tracker.available()
    assert tracker.create("default").name == "vtrack"
    assert set(tracker.available()) >= {"sort", "vtrack"}


def test_unknown_name_lists_available():
    with pytest.raises(ValueError, match="unknown tracker 'sorty'; available: default, .*sort"):
        tracker.create("sorty")


def test_config_overrides_and_unknown_keys():
    t = tracker.create("sort", {"kalman": {"measurement_std": [2, 2, 20, 0.5]}}, max_age_s=2)
    assert t.config.max_age_s == 2.0 and t.config.kalman.measurement_std == (2.0, 2.0, 20.0, 0.5)
    # A nested override changes one field of the backend's own defaults, not of KalmanConfig's.
    default = tracker.create("vtrack").config.kalman
    t = tracker.create("vtrack", {"kalman": {"measurement_std_per_height": [0.03, 0.03, 0.0, 0.03]}})
    assert t.config.kalman.representation == default.representation == "cxcyah"
    assert t.config.kalman.process_std_per_height == default.process_std_per_height
    assert t.config.kalman.measurement_std_per_height == (0.03, 0.03, 0.0, 0.03) != default.measurement_std_per_height
    with pytest.raises(ConfigError, match="unknown key 'max_age'.*valid keys: iou_threshold"):
        tracker.create("sort", max_age=3)
    with pytest.raises(ConfigError, match="'kalman.measurement_std' must have 4 items"):
        tracker.create("sort", kalman={"measurement_std": [1, 2]})
    with pytest.raises(ConfigError, match="'min_hits' must be an integer"):
        tracker.create("sort", min_hits="three")
    with pytest.raises(ConfigError, match="iou_threshold must be <= 1.0"):
        tracker.create("sort", iou_threshold=1.5)


@pytest.mark.parametrize("numba", ["blocked", "as installed"])
def test_import_tracker_loads_no_heavy_or_ros_modules(numba):
    """Building the default loads no torch, OpenCV, Ultralytics, ROS or PyYAML.

    Numba, where installed, comes with the first Kalman filter and imports PyYAML itself (to
    read its own settings file), so PyYAML is checked with Numba blocked.
    """
    unwanted = {"torch", "cv2", "ultralytics", "rclpy"} | ({"yaml"} if numba == "blocked" else set())
    block = "sys.modules['numba'] = None; " if numba == "blocked" else ""
    code = (
        f"import sys; {block}import tracker; t = tracker.create('default'); "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(unwanted)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_api_as_the_readme_shows_it():
    """The names a new user types: the lazily loaded submodules, ``default`` listed, the default named."""
    code = (
        "import tracker; print(tracker.camera_motion.CameraMotionEstimator.__name__, tracker.formats.__name__, "
        "tracker.available()[0], 'vtrack' in tracker.create.__doc__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["CameraMotionEstimator", "tracker.formats", "default", "True"]
    with pytest.raises(AttributeError, match="no attribute 'pipelines'"):
        _ = tracker.pipelines


def test_merge_layers_nested_overrides():
    from tracker.config import merge

    base = {"byte": {"low_score": 0.1}, "boost": {"mhd_measurement_noise": False}, "min_hits": 2}
    layered = merge(base, {"byte": {"iou_threshold": 0.6}, "boost": {"iou_weight": 1.0}, "min_hits": 3})
    assert layered == {
        "byte": {"low_score": 0.1, "iou_threshold": 0.6},
        "boost": {"mhd_measurement_noise": False, "iou_weight": 1.0},
        "min_hits": 3,
    }
    assert merge(base, {"byte": None})["byte"] is None
    assert base["byte"] == {"low_score": 0.1}  # the inputs are not modified
