"""Config dataclasses of the peer backends (what a benchmark may set; everything else is the library's default)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BotSortConfig", "FrameRateConfig", "LibraryDefaultsConfig", "MotionOnlyConfig"]

#: The frame rate the libraries assume by default, frames per second.
LIBRARY_DEFAULT_FRAME_RATE = 30.0


@dataclass(frozen=True)
class FrameRateConfig:
    """Library defaults plus the sequence's frame rate.

    Attributes:
        frame_rate: frames per second of the sequence (the benchmark sets it per sequence).
    """

    frame_rate: float = LIBRARY_DEFAULT_FRAME_RATE

    def __post_init__(self) -> None:
        if not self.frame_rate > 0:
            raise ValueError(f"frame_rate must be positive frames per second, got {self.frame_rate}")


@dataclass(frozen=True)
class LibraryDefaultsConfig:
    """No settings: the library's defaults as they are (for trackers without a frame-rate setting)."""


@dataclass(frozen=True)
class BotSortConfig(FrameRateConfig):
    """BoT-SORT without ReID: library defaults plus the frame rate, appearance and CMC off.

    Attributes:
        use_embeddings: use ReID appearance embeddings (needs images; the library's default is on).
        use_cmc: camera-motion compensation from the images (the library's default is on).
    """

    use_embeddings: bool = False
    use_cmc: bool = False


@dataclass(frozen=True)
class MotionOnlyConfig:
    """Library defaults with appearance and CMC off, for trackers without a frame-rate setting.

    Attributes:
        use_embeddings: use ReID appearance embeddings (needs images; the library's default is on).
        use_cmc: camera-motion compensation from the images (the library's default is on).
    """

    use_embeddings: bool = False
    use_cmc: bool = False
