"""Named tracker backends: :func:`create` and :func:`available`.

Backends are registered by module path and imported only when created, so that
``import tracker`` stays light (NumPy, SciPy, filterpy) whatever the backends need.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from tracker.base import Tracker
from tracker.config import from_mapping

__all__ = ["DEFAULT", "available", "config_class", "create", "register"]

#: The backend ``create("default")`` returns: the recommended one.
DEFAULT = "vtrack"

_BACKENDS: dict[str, str] = {
    "lstm": "tracker.backends.lstm",
    "sort": "tracker.backends.sort",
    "vtrack": "tracker.backends.vtrack",
}


def register(name: str, module: str) -> None:
    """Register a backend by module path.

    The module lists its frozen config dataclass first in ``__all__`` and defines
    ``build(config) -> Tracker``.

    Raises:
        ValueError: ``name`` is already registered or is ``"default"``.
    """
    if name in _BACKENDS or name == "default":
        raise ValueError(f"tracker backend '{name}' is already registered")
    _BACKENDS[name] = module


def available() -> list[str]:
    """Names accepted by :func:`create`: ``"default"`` (an alias of :data:`DEFAULT`), then the backends, sorted."""
    return ["default", *sorted(_BACKENDS)]


def _module(name: str) -> Any:
    key = DEFAULT if name == "default" else name
    if key not in _BACKENDS:
        raise ValueError(f"unknown tracker '{name}'; available: {', '.join(available())}")
    return importlib.import_module(_BACKENDS[key])


def config_class(name: str) -> type:
    """The frozen config dataclass of backend ``name`` (holding its defaults)."""
    module = _module(name)
    result: type = getattr(module, module.__all__[0])
    return result


def create(name: str = "default", config: Mapping[str, Any] | None = None, **overrides: Any) -> Tracker:
    """A new tracker instance of backend ``name``.

    Args:
        name: a name from :func:`available`; ``"default"`` is :data:`DEFAULT` (``vtrack``).
        config: overrides of the backend's config defaults, e.g. parsed from YAML.
        **overrides: further overrides as keyword arguments (applied after ``config``).

    Raises:
        ValueError: unknown ``name`` (the message lists the available backends).
        tracker.config.ConfigError: an unknown config key or a value of the wrong type.
    """
    module = _module(name)
    cls = config_class(name)
    source = "config" if not overrides else "config/keyword arguments"
    result: Tracker = module.build(from_mapping(cls, {**(config or {}), **overrides}, source=source))
    return result
