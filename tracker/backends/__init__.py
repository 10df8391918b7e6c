"""Tracker backends: each is a set of defaults for the one association pipeline.

A backend module defines a frozen config dataclass (a :class:`~tracker.backends.common.BackendConfig`
with its own defaults) and a ``build(config)`` function; :mod:`tracker.registry` maps
names to them and imports a backend only when it is created, so a backend's weights
and code load only when it is used.
"""
