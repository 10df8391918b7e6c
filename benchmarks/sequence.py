"""What a benchmark sequence is, for every dataset layout: :class:`Sequence` and :class:`DatasetError`.

Kept apart from :mod:`benchmarks.datasets` (which re-exports both) so that the layout
modules, such as :mod:`benchmarks.bdd100k`, can build sequences without importing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.config import BenchmarkConfig

__all__ = ["DatasetError", "Sequence", "detections_file"]


class DatasetError(ValueError):
    """A dataset file is missing or malformed; the message names the file (and the line)."""


@dataclass(frozen=True)
class Sequence:
    """One sequence of a benchmark, restricted to a frame range.

    Attributes:
        name: sequence name (``0000``, ``MOT17-02-FRCNN``).
        first_frame: first frame evaluated, in the dataset's numbering (inclusive).
        last_frame: last frame evaluated (inclusive).
        base_frame: the layout's first frame number: 0 (KITTI) or 1 (MOT).
        frame_rate: frames per second.
        gt_path: ground-truth file.
        detections_path: detection file, or None in detector-driven mode.
        image_dir: frame folder (detector-driven mode), or None.
        seqinfo: MOT ``[Sequence]`` entries (empty for KITTI), copied into the eval ``seqinfo.ini``.
        image_names: BDD100K: the image file name of each frame ``first_frame..last_frame``
            (empty for the other layouts, whose images are named by frame number).
    """

    name: str
    first_frame: int
    last_frame: int
    base_frame: int
    frame_rate: float
    gt_path: Path
    detections_path: Path | None = None
    image_dir: Path | None = None
    seqinfo: tuple[tuple[str, str], ...] = ()
    image_names: tuple[str, ...] = ()

    @property
    def frames(self) -> range:
        """The frame numbers of the range, in order."""
        return range(self.first_frame, self.last_frame + 1)

    @property
    def num_frames(self) -> int:
        """Number of frames in the range."""
        return self.last_frame - self.first_frame + 1

    def timestamp(self, frame: int) -> float:
        """Capture time in seconds of ``frame``: 0-based frame index divided by the frame rate."""
        return (frame - self.base_frame) / self.frame_rate


def detections_file(bench: BenchmarkConfig, name: str) -> Path | None:
    """Sequence ``name``'s detection file from ``bench.detections``; None in detector-driven mode.

    Raises:
        DatasetError: the file does not exist.
    """
    if not bench.detections:
        return None
    path = bench.path(bench.detections, name)
    if not path.is_file():
        raise DatasetError(f"{path}: detection file of sequence {name} not found")
    return path
