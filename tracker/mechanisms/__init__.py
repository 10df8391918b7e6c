"""The parts the association pipeline (:mod:`tracker.pipeline`) composes, one job each.

Per update, in order (the kinds are defined in :mod:`tracker.mechanisms.base`):

- score boosts, :mod:`~tracker.mechanisms.boosts`: BoostTrack's DLO and DUO;
- matching stages, :mod:`~tracker.mechanisms.stages`: the first association (whose cost
  sums the terms of :mod:`~tracker.mechanisms.costs`: OC-SORT's direction consistency,
  BoostTrack's similarities), BYTE's second pass, OC-SORT's recovery;
- update policies, :mod:`~tracker.mechanisms.updates`: OC-SORT's re-update, OccluTrack's
  abnormal motion suppression;
- the life cycle, :mod:`~tracker.mechanisms.lifecycle` (birth, confirmation, coasting,
  deletion), and the class vote, :mod:`~tracker.mechanisms.classes`.

A new mechanism is a new part (with the per-track fields it declares and the hooks it
uses) and a config entry that :func:`tracker.pipeline.build_parts` maps to it.
"""
