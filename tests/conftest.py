"""Fixtures shared by the test modules: where the repository and the real data live.

``shared/`` (real videos, KITTI, MOT17, YOLO weights; read-only) sits next to the
repository: ``<repo>/../shared``. It is always present where the tests run, so a
missing folder is a failure, not a skip. Tests read it in place and never copy it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session", autouse=True)
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``$XDG_CACHE_HOME`` of the test session: a fresh folder, so tests never write the user's cache.

    Detector exports (``detectors.runtime``) land there and are shared by the session's tests.
    """
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(folder))
        yield folder


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder (holding ``pyproject.toml``, ``configs/``, ``tests/``)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``<repo>/../shared``: the real data and models (read-only)."""
    assert SHARED_DIR.is_dir(), f"{SHARED_DIR} is missing: the tests need the shared data next to the repository"
    return SHARED_DIR


@pytest.fixture(scope="session")
def videos_dir(shared_dir: Path) -> Path:
    """``shared/data/videos``: short dashcam clips and the KITTI raw frame folder."""
    return shared_dir / "data" / "videos"


@pytest.fixture(scope="session")
def yolo_weights(shared_dir: Path) -> Path:
    """``shared/models/yolov8n.pt``: the default detector's official weights."""
    return shared_dir / "models" / "yolov8n.pt"


def _top_level_boxes(data: bytes) -> dict[bytes, tuple[int, int]]:
    """``{type: (payload_start, end)}`` of the top-level boxes of an MP4 file."""
    boxes, offset = {}, 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        elif size == 0:
            size = len(data) - offset
        boxes[kind] = (offset + header, offset + size)
        offset += size
    return boxes


@pytest.fixture
def damaged_video(tmp_path: Path, videos_dir: Path) -> Callable[..., Path]:
    """Factory: a copy of ``test_small2.mp4`` in ``tmp_path`` whose frame data is zeroed from ``keep`` on.

    ``keep`` is the fraction (0..1) of the ``mdat`` payload left intact. The header
    (``moov``) stays valid, so OpenCV opens the file and announces all its frames,
    but decoding fails once it reaches the zeroed bytes: ``keep=0`` gives a video
    of which no frame decodes, ``keep=0.5`` one that stops about half way.
    """

    def make(keep: float, name: str = "damaged.mp4") -> Path:
        data = bytearray((videos_dir / "test_small2.mp4").read_bytes())
        start, end = _top_level_boxes(bytes(data))[b"mdat"]
        cut = start + int((end - start) * keep)
        data[cut:end] = bytes(end - cut)
        path = tmp_path / name
        path.write_bytes(bytes(data))
        return path

    return make
