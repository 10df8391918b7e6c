"""Tracker backends: each is a configuration of :class:`tracker.pipeline.AssociationTracker`.

A backend module defines a frozen config dataclass and a ``build(config)`` function;
:mod:`tracker.registry` maps names to them and imports a backend only when it is
created, so a backend's weights and code load only when it is used.
"""
