"""Misinformation by claim matching: a base of claims fact-checkers have rated, and a
detector that flags items repeating a claim rated false or misleading."""

from __future__ import annotations

from vigil.claims.base import (
    ACTIONABLE,
    RATINGS,
    FactCheck,
    normalise_rating,
    read_factchecks,
)

__all__ = ["ACTIONABLE", "RATINGS", "FactCheck", "normalise_rating", "read_factchecks"]
