"""YAML configuration files: :func:`load_yaml` reads one, :func:`config_from_yaml` turns it into a config dataclass.

A config file is a YAML mapping whose keys are the fields of a frozen config
dataclass (``tracker.registry.config_class(name)`` for a tracker backend,
``detectors.yolo.YOLODetectorConfig`` for the detector); nested dataclasses take
nested mappings. Keys left out keep the dataclass defaults. An empty file means
"all defaults".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tracker.config import ConfigError, from_mapping, to_dict

__all__ = ["ConfigFileError", "config_from_yaml", "load_yaml"]

T = TypeVar("T")


class ConfigFileError(ConfigError):
    """A config file is missing, unreadable, not valid YAML, or not a mapping at the top level.

    The message is one line and starts with the file's path.
    """


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping.

    Args:
        path: the file to read.

    Returns:
        The top-level mapping as a dict; ``{}`` for an empty file (or one holding only comments).

    Raises:
        ConfigFileError: the file does not exist or cannot be read, is not valid YAML
            (the message gives the line and column), or its top level is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigFileError(f"{path}: cannot read config file: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigFileError(f"{path}: invalid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigFileError(f"{path}: the top level must be a mapping of keys to values, got a {type(data).__name__}")
    return dict(data)


def config_from_yaml(cls: type[T], path: str | Path | None, overrides: Mapping[str, Any] | None = None) -> T:
    """Build the config dataclass ``cls`` from its defaults, the YAML file ``path``, then ``overrides``.

    Args:
        cls: a frozen config dataclass whose fields all have defaults.
        path: a YAML file of overrides, or None for the dataclass defaults.
        overrides: further overrides applied after the file (e.g. from command-line
            options); errors in them are reported as coming from "command line".

    Raises:
        ConfigFileError: see :func:`load_yaml`.
        tracker.config.ConfigError: an unknown key (the message names the file and the
            key and lists the valid keys) or a value of the wrong type.
    """
    config = from_mapping(cls, load_yaml(path) if path is not None else {}, source=str(path))
    if overrides:
        config = from_mapping(cls, {**to_dict(config), **overrides}, source="command line")
    return config
