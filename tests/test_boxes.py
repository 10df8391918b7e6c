"""Box conversions and the IoU matrix, against hand-computed values."""

import numpy as np
import pytest

from tracker import boxes
from tracker.boxes import (
    cxcyah_to_xyxy,
    cxcysr_to_xyxy,
    iou_matrix,
    tlwh_to_xyxy,
    xyxy_to_cxcyah,
    xyxy_to_cxcysr,
    xyxy_to_tlwh,
)


def test_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [1, 1, 1, 1]])
    iou = iou_matrix(a, b)
    assert iou.shape == (2, 4)
    np.testing.assert_allclose(iou[0], [1.0, 50 / 150, 0.0, 0.0])
    np.testing.assert_allclose(iou[1], [4 / 100, 0.0, 0.0, 0.0])


def test_iou_known_values_on_both_paths(monkeypatch: pytest.MonkeyPatch):
    """A handful of boxes is computed in plain Python, more with NumPy: the same known answers."""
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]], dtype=np.float64)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [1, 1, 1, 1]], dtype=np.float64)
    expected = np.array([[1.0, 50 / 150, 0.0, 0.0], [4 / 100, 0.0, 0.0, 0.0]])
    assert len(a) * len(b) <= boxes.PYTHON_IOU_PAIRS
    np.testing.assert_allclose(boxes.iou_xyxy(a, b), expected)
    many = boxes.iou_xyxy(np.tile(a, (10, 1)), b)  # 80 pairs: the NumPy path
    assert 10 * len(a) * len(b) > boxes.PYTHON_IOU_PAIRS
    np.testing.assert_allclose(many, np.tile(expected, (10, 1)))
    monkeypatch.setattr(boxes, "PYTHON_IOU_PAIRS", -1)
    np.testing.assert_allclose(boxes.iou_xyxy(a, b), expected)


def test_iou_python_path_equals_numpy_path_bit_for_bit(monkeypatch: pytest.MonkeyPatch):
    rng = np.random.default_rng(0)
    cases = []
    for _ in range(2000):
        m, n = rng.integers(0, 7, size=2)
        corner = rng.uniform(0, 100, size=(m + n, 2))
        size = rng.uniform(0, 60, size=(m + n, 2)) * (rng.random((m + n, 2)) > 0.1)  # some zero-width or -height
        both = np.hstack([corner, corner + size])
        cases.append((both[:m], both[m:]))
    small = [boxes.iou_xyxy(a, b) for a, b in cases]
    monkeypatch.setattr(boxes, "PYTHON_IOU_PAIRS", -1)
    for (a, b), python in zip(cases, small, strict=True):
        assert python.shape == (len(a), len(b)) and python.dtype == np.float64
        np.testing.assert_array_equal(python, boxes.iou_xyxy(a, b))


def test_iou_empty_and_degenerate():
    assert iou_matrix(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)
    point = np.array([[5, 5, 5, 5]])
    assert iou_matrix(point, point)[0, 0] == 0.0


def test_round_trips():
    xyxy = np.array([[10.0, 20.0, 50.0, 100.0], [0.0, 0.0, 3.0, 1.0]])
    np.testing.assert_allclose(cxcysr_to_xyxy(xyxy_to_cxcysr(xyxy)), xyxy)
    np.testing.assert_allclose(tlwh_to_xyxy(xyxy_to_tlwh(xyxy)), xyxy)
    np.testing.assert_allclose(cxcyah_to_xyxy(xyxy_to_cxcyah(xyxy)), xyxy)
    np.testing.assert_allclose(xyxy_to_cxcyah(xyxy)[0], [30, 60, 0.5, 80])
    np.testing.assert_allclose(xyxy_to_cxcysr(xyxy)[0], [30, 60, 40 * 80, 0.5])


def test_negative_area_state_gives_degenerate_box_not_nan():
    box = cxcysr_to_xyxy(np.array([[10.0, 10.0, -5.0, 1.0]]))
    assert np.isfinite(box).all()
    np.testing.assert_allclose(box, [[10, 10, 10, 10]])
