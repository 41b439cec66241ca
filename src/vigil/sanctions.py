"""Strikes with decay, the account ladder, and expiry: pure functions over an account's
recorded strikes and sanctions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.items import Sanction, Strike
from vigil.policy import SANCTIONS, Policy, Rung

SANCTION_RANK = {k: i + 1 for i, k in enumerate(SANCTIONS)}
#: What an account's standing is called while a sanction of each kind is in force.
STATUS_OF = {"restrict": "restricted", "suspend": "suspended", "shut_down": "shut_down"}
_EPS = 1e-9


def decayed_points(strikes: Iterable[Strike], at: datetime, half_life_days: float) -> float:
    """Sum of strike weights at time ``at``; each weight halves every ``half_life_days``.

    Strikes dated after ``at`` do not count yet.
    """
    total = 0.0
    for s in strikes:
        age = (at - s.at).total_seconds() / 86400.0
        if age < 0:
            continue
        total += s.weight * 0.5 ** (age / half_life_days)
    return total


def rung_for(points: float, ladder: Sequence[Rung]) -> tuple[int, Rung] | None:
    """The highest rung (1-based step, rung) that ``points`` reaches, or None."""
    found = None
    for i, rung in enumerate(ladder, start=1):
        if points + _EPS >= rung.at:
            found = (i, rung)
    return found


def in_force(sanctions: Iterable[Sanction], now: datetime) -> list[Sanction]:
    return [s for s in sanctions if s.in_force(now)]


def account_status(sanctions: Iterable[Sanction], now: datetime) -> str:
    """``active``, ``restricted``, ``suspended`` or ``shut_down`` at ``now``."""
    strongest = max(
        (SANCTION_RANK[s.kind] for s in in_force(sanctions, now)), default=0
    )
    if strongest == 0:
        return "active"
    return STATUS_OF[SANCTIONS[strongest - 1]]


@dataclass(frozen=True, slots=True)
class SanctionPlan:
    """A sanction the ladder calls for; the caller gives it ids and records it."""

    kind: str
    step: int
    points: float
    rung_at: float
    starts: datetime
    expires_at: datetime | None


def plan_sanction(
    strikes: Sequence[Strike],
    sanctions: Sequence[Sanction],
    strike_at: datetime,
    now: datetime,
    policy: Policy,
) -> SanctionPlan | None:
    """What the ladder calls for after the newest strike (already in ``strikes``).

    Points are counted as of ``strike_at`` (when the violation happened, so a campaign over
    old content climbs the ladder as the history did); the sanction starts ``now`` (when it
    is decided). Nothing is planned for a shut-down account, nor a milder sanction than
    one already in force.
    """
    if any(s.kind == "shut_down" for s in sanctions):
        return None
    points = decayed_points(strikes, strike_at, policy.data.strikes.half_life_days)
    found = rung_for(points, policy.data.ladder)
    if found is None:
        return None
    step, rung = found
    current = max((SANCTION_RANK[s.kind] for s in in_force(sanctions, now)), default=0)
    if SANCTION_RANK[rung.sanction] < current:
        return None
    expires = now + timedelta(days=rung.days) if rung.days is not None else None
    return SanctionPlan(rung.sanction, step, points, rung.at, now, expires)
