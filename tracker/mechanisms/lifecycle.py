"""The life cycle of a track: birth, confirmation, coasting and deletion (DeepSORT's, in seconds).

An unmatched detection scoring at least ``birth_score`` starts a *tentative* track; a
track with ``min_hits`` hits (or born from a detection scoring at least
``confirm_score``) is *confirmed*; an unmatched tentative track is deleted at once, an
unmatched confirmed track is *lost* and coasts on its motion model until it has gone
``max_age_s`` seconds without a match (Wojke et al., "Simple online and realtime
tracking with a deep association metric", ICIP 2017; lifetimes in seconds rather than
frames, so they do not depend on the frame rate).
"""

from __future__ import annotations

import numpy as np

from tracker.arrays import BoolArray, FloatArray, IntArray
from tracker.mechanisms.base import Frame, Matches
from tracker.table import TrackTable

__all__ = ["Lifecycle"]


class Lifecycle:
    """Birth, confirmation and deletion rules (module doc).

    Args:
        min_hits: matched detections (the first included) before a track is confirmed (>= 1).
        max_age_s: seconds a confirmed track may go unmatched before it is deleted.
        birth_score: smallest score of a detection that starts a track (at least the
            first association's ``min_score``: births come from its leftovers).
        confirm_score: a track born from a detection scoring at least this is confirmed
            at once; None: never.
    """

    def __init__(self, min_hits: int, max_age_s: float, birth_score: float, confirm_score: float | None) -> None:
        self.min_hits = min_hits
        self.max_age_s = max_age_s
        self.birth_score = birth_score
        self.confirm_score = confirm_score

    def newborn(self, frame: Frame, matches: Matches, min_score: float) -> IntArray:
        """``(K,)`` int64 indices of the detections that start tracks: the unmatched high-score ones scoring enough."""
        newborn = matches.high.take(matches.free_high)
        if self.birth_score > min_score:
            newborn = newborn.compress(frame.scores.take(newborn) >= self.birth_score)
        return newborn

    def confirmed_at_birth(self, scores: FloatArray) -> BoolArray:
        """``(K,)`` bool: which tracks born from detections scoring ``scores`` are confirmed at once."""
        if self.min_hits <= 1:
            return np.ones(len(scores), dtype=bool)
        if self.confirm_score is None:
            return np.zeros(len(scores), dtype=bool)
        return scores >= self.confirm_score

    def confirm(self, table: TrackTable, i: IntArray) -> None:
        """Confirm, in the int rows ``i`` of matched tracks, those that reached ``min_hits``."""
        if self.min_hits > 1:  # else every track is confirmed at birth
            i[:, table.CONFIRMED] |= i[:, table.HITS] >= self.min_hits

    def expired(self, table: TrackTable, free: IntArray, now: float) -> BoolArray:
        """``(T,)`` bool: which unmatched tracks ``free`` are deleted at ``now`` seconds."""
        expired = now - table.f[:, table.LAST].take(free) > self.max_age_s
        if self.min_hits > 1:  # else every track is confirmed
            expired |= table.i[:, table.CONFIRMED].take(free) == 0
        return expired
