"""Fixtures shared by the test modules, and the markers of the optional extras.

``shared/`` (real videos, KITTI, MOT17, YOLO weights; read-only) sits next to the
repository: ``<repo>/../shared``. It is always present where the tests run, so a
missing folder is a failure, not a skip. Tests read it in place and never copy it.

**Optional extras.** A test that needs an optional dependency carries its marker
(:data:`EXTRAS`; registered in ``pyproject.toml``), on the test or as the module's
``pytestmark``; ``@pytest.mark.needs_yolo("cv2")`` narrows the check to the modules
named. A marked test whose modules are not installed is skipped with the install
command as the reason. A test module that imports such a module at its top cannot
even be imported without it: it is skipped as a whole with the same reason instead of
erroring at collection (only for the modules of :data:`EXTRAS`; any other import error
stays an error). So after a core-only install (``pip install -e . pytest``) the suite
runs what the core supports and skips the rest; ``-m "not needs_bench"`` and the like
deselect explicitly, ``-m "not slow"`` leaves out the runs of whole benchmarks.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@dataclass(frozen=True)
class Extra:
    """An optional dependency set: the top-level modules it provides and how to install it."""

    modules: tuple[str, ...]
    install: str


#: Test marker -> the optional extra it stands for.
EXTRAS = {
    "needs_yolo": Extra(("ultralytics", "cv2"), "pip install -e '.[yolo]'"),
    "needs_peers": Extra(("trackers", "boxmot"), "pip install -e '.[peers]' && pip install --no-deps boxmot==25.0.0"),
    "needs_bench": Extra(("trackeval", "matplotlib", "threadpoolctl"), "pip install -e '.[bench]'"),
    "needs_ros": Extra(("rosbags",), "pip install -e '.[ros]'"),
    "needs_torch": Extra(("torch",), "pip install -e '.[lstm]'"),
    "needs_dev": Extra(("hypothesis",), "pip install -e '.[dev]'"),
    "needs_fleet": Extra(("ray",), "pip install -e '.[fleet]'"),
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _skip_reason(marker: str, modules: tuple[str, ...]) -> str | None:
    """Why a test marked ``marker`` (checking ``modules``) cannot run here, or None when it can."""
    missing = [module for module in modules if not _installed(module)]
    if not missing:
        return None
    return f"{marker}: {', '.join(missing)} not installed ({EXTRAS[marker].install})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose ``needs_*`` markers name a module that is not installed.

    The closest marker of each name counts: ``needs_peers("boxmot")`` on a test narrows
    a module-wide ``needs_peers``.
    """
    for name, extra in EXTRAS.items():
        mark = item.get_closest_marker(name)
        reason = mark and _skip_reason(name, tuple(mark.args) or extra.modules)
        if reason:
            pytest.skip(reason)


class _ExtrasModule(pytest.Module):
    """A test module that is skipped, not a collection error, when its imports miss an optional extra."""

    def collect(self) -> Iterator[Any]:
        try:
            self.obj  # noqa: B018  (imports the test module)
        except self.CollectError as error:
            cause = error.__cause__
            if isinstance(cause, ModuleNotFoundError) and cause.name:
                top = cause.name.partition(".")[0]
                marker = next((name for name, extra in EXTRAS.items() if top in extra.modules), None)
                reason = marker and _skip_reason(marker, (top,))
                if reason:
                    pytest.skip(f"{self.path.name}: {reason}")
            raise
        return super().collect()


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module:
    """Collect test modules as :class:`_ExtrasModule`."""
    return _ExtrasModule.from_parent(parent, path=module_path)


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
