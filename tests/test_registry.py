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
    with pytest.raises(ConfigError, match="iou_threshold must be in"):
        tracker.create("sort", iou_threshold=1.5)


def test_import_tracker_loads_no_heavy_or_ros_modules():
    code = (
        "import sys, tracker; t = tracker.create('default'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'cv2', 'ultralytics', 'rclpy', 'yaml'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
