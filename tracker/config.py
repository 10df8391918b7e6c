"""Configuration: frozen dataclasses hold the defaults; mappings (from YAML or kwargs) override them.

:func:`from_mapping` builds a config dataclass from a plain mapping, recursing into
nested config dataclasses, converting lists to tuples, and rejecting unknown keys
and values of the wrong type with an error that names the source and the key.
Reading the YAML file itself happens outside the core (``tracker.app.config``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

__all__ = ["ConfigError", "from_mapping", "to_dict"]

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration mapping does not fit its dataclass (unknown key, wrong type)."""


def _field_default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def _convert(value: Any, annotation: Any, where: str, source: str, default: Any = None) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source}: '{where}' must be a mapping, got {value!r}")
        return from_mapping(annotation, value, source=source, prefix=f"{where}.", base=default)
    if origin is tuple:
        args = typing.get_args(annotation)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: '{where}' must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        if len(args) != len(value):
            raise ConfigError(f"{source}: '{where}' must have {len(args)} items, got {len(value)}")
        return tuple(_convert(v, a, f"{where}[{i}]", source) for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where, source)
            except ConfigError:
                continue
        raise ConfigError(f"{source}: '{where}' has an invalid value {value!r}")
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: '{where}' must be true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: '{where}' must be an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: '{where}' must be a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: '{where}' must be a string, got {value!r}")
        return value
    return value


def from_mapping(
    cls: type[T], data: Mapping[str, Any] | None, source: str = "config", prefix: str = "", base: T | None = None
) -> T:
    """Build the frozen config dataclass ``cls`` from its defaults overridden by ``data``.

    A nested config is overridden key by key: ``{"kalman": {"measurement_std": ...}}``
    changes that one field of the enclosing class's default ``kalman`` and keeps the rest
    (a backend's Kalman defaults are not reset to :class:`KalmanConfig`'s).

    Args:
        cls: a dataclass type whose fields all have defaults.
        data: overrides; keys are field names, nested dataclasses take nested mappings.
        source: where ``data`` came from (a file path, "kwargs"), used in errors.
        prefix: dotted path of ``cls`` inside the enclosing config, used in errors.
        base: the instance whose values ``data`` overrides (default: ``cls``'s defaults).

    Raises:
        ConfigError: an unknown key (the message lists the valid ones) or a value
            of the wrong type or length.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key '{prefix}{unknown[0]}' for {cls.__name__}; "
            f"valid keys: {', '.join(prefix + name for name in fields)}"
        )
    if base is None:
        base_values = {name: _field_default(field) for name, field in fields.items()}
    else:
        base_values = {name: getattr(base, name) for name in fields}
    kwargs = {
        name: _convert(value, hints[name], prefix + name, source, base_values[name]) for name, value in data.items()
    }
    try:
        return cls(**kwargs) if base is None else dataclasses.replace(base, **kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{source}: {error}") from None


def to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as a plain nested dict (tuples as lists), e.g. to log or save it."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(config))
