"""Configuration: frozen dataclasses hold the defaults; mappings (from YAML or kwargs) override them.

:func:`from_mapping` builds a config dataclass from a plain mapping, recursing into
nested config dataclasses, converting lists to tuples, and rejecting unknown keys
and values of the wrong type with an error that names the source and the key.
Reading the YAML file itself happens outside the core (``tracker.app.config``).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, cast

__all__ = ["ConfigError", "check_range", "from_mapping", "merge", "to_dict"]

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration mapping does not fit its dataclass (unknown key, wrong type)."""


def check_range(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    allow_inf: bool = False,
) -> None:
    """Check a setting: a number (not NaN), finite unless ``allow_inf``, within ``[low, high]``.

    Args:
        name: the setting's (dotted) name, for the message.
        value: its value.
        low, high: inclusive bounds (None: unbounded); ``low_open`` makes ``low`` exclusive.
        allow_inf: accept ``+inf`` or ``-inf`` (e.g. "never expires").

    Raises:
        ValueError: ``name must be ...``, naming the rule broken and the value.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not allow_inf and math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}")


def _field_default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def _convert(value: Any, annotation: Any, where: str, source: str, default: Any = None) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source}: '{where}' must be a mapping, got {value!r}")
        return from_mapping(cast(type[Any], annotation), value, source=source, prefix=f"{where}.", base=default)
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
        nested = [arg for arg in args if dataclasses.is_dataclass(arg)]
        if nested and type(None) in args:  # an optional mechanism: null/false off, true on, a mapping on
            if value is False:
                return None
            cls = cast(type[Any], nested[0])
            if value is True:
                return default if default is not None else cls()
            return _convert(value, cls, where, source, default)
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
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
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

    An optional nested config (a mechanism, ``Config | None``) is off when ``None``;
    ``null`` or ``false`` turns it off, ``true`` on with its defaults (the enclosing
    class's, if it has it on, else the nested class's), and a mapping on with those
    overrides merged into the same defaults.

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
    fields = {f.name: f for f in dataclasses.fields(cast(Any, cls)) if f.init}
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
        return cls(**kwargs) if base is None else cast(T, dataclasses.replace(cast(Any, base), **kwargs))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{source}: {error}") from None


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides ``extra`` layered on ``base``: nested mappings merge key by key, anything else replaces.

    The same semantics as :func:`from_mapping` applies to a config, for combining plain
    mappings first (a benchmark's settings, then a variant's; a tuning base, then a grid
    choice): ``merge({"byte": {"low_score": 0.1}}, {"byte": {"iou_threshold": 0.6}})`` keeps both
    keys, while ``{"byte": None}`` turns the block off.
    """
    merged = dict(base)
    for key, value in extra.items():
        both = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = merge(merged[key], value) if both else value
    return merged


def to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as a plain nested dict (tuples as lists), e.g. to log or save it."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    result: dict[str, Any] = plain(dataclasses.asdict(config))
    return result
