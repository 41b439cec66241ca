"""vigil.sanctions: decayed strike points, the ladder, expiry and account status."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from tests.conftest import BASE
from vigil.items import Sanction, Strike
from vigil.policy import Policy, Rung, load_policy, parse_policy
from vigil.sanctions import (
    SanctionPlan,
    account_status,
    decayed_points,
    in_force,
    plan_sanction,
    rung_for,
)

HALF = 90.0
_ids = itertools.count()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def strike(at: datetime, weight: float = 1.0) -> Strike:
    n = next(_ids)
    return Strike(f"s{n}", "chirp", "u1", f"p{n}", "spam", weight, at, f"d{n}")


def sanction(kind: str, at: datetime, days: float | None = None) -> Sanction:
    n = next(_ids)
    expires = at + timedelta(days=days) if days is not None else None
    return Sanction(f"x{n}", "chirp", "u1", kind, 1, at, expires, f"d{n}")


def applied(plan: SanctionPlan) -> Sanction:
    n = next(_ids)
    return Sanction(f"x{n}", "chirp", "u1", plan.kind, plan.step, plan.starts,
                    plan.expires_at, f"d{n}")


# -- decay -----------------------------------------------------------------------------


def test_fresh_strike_counts_fully() -> None:
    assert decayed_points([strike(BASE, 2.0)], BASE, HALF) == pytest.approx(2.0)


def test_decay_halves_at_one_half_life_and_quarters_at_two() -> None:
    s = [strike(BASE, 2.0)]
    assert decayed_points(s, BASE + timedelta(days=90), HALF) == pytest.approx(1.0)
    assert decayed_points(s, BASE + timedelta(days=180), HALF) == pytest.approx(0.5)
    assert decayed_points(s, BASE + timedelta(days=45), HALF) == pytest.approx(2 * 0.5**0.5)
    assert decayed_points(s, BASE + timedelta(days=10), 10.0) == pytest.approx(1.0)


def test_decay_sums_strikes_of_different_ages() -> None:
    s = [strike(BASE, 1.0), strike(BASE + timedelta(days=90), 1.0)]
    assert decayed_points(s, BASE + timedelta(days=180), HALF) == pytest.approx(0.25 + 0.5)


def test_future_strikes_do_not_count() -> None:
    s = [strike(BASE, 1.0), strike(BASE + timedelta(seconds=1), 5.0)]
    assert decayed_points(s, BASE, HALF) == pytest.approx(1.0)
    assert decayed_points(s[1:], BASE, HALF) == 0.0
    assert decayed_points([], BASE, HALF) == 0.0


def test_decay_is_monotonic_in_time() -> None:
    s = [strike(BASE, 3.0)]
    values = [decayed_points(s, BASE + timedelta(days=d), HALF) for d in range(0, 400, 20)]
    assert values == sorted(values, reverse=True)
    assert values[-1] > 0


# -- rung_for --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "points, expected",
    [
        (0.0, None),
        (0.999, None),
        (1.0, (1, "warn")),
        (2.49, (1, "warn")),
        (2.5, (2, "restrict")),
        (3.99, (2, "restrict")),
        (4.0, (3, "suspend")),
        (5.999, (3, "suspend")),
        (6.0, (4, "shut_down")),
        (100.0, (4, "shut_down")),
    ],
)
def test_rung_for_boundaries(policy: Policy, points: float,
                             expected: tuple[int, str] | None) -> None:
    found = rung_for(points, policy.data.ladder)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        step, rung = found
        assert (step, rung.sanction) == expected
        assert rung is policy.data.ladder[step - 1]


def test_rung_for_tolerates_float_rounding(policy: Policy) -> None:
    # 0.1 * 10 summed in floats is 0.9999999999999999: still reaches the rung at 1
    total = sum([0.1] * 10)
    assert total < 1.0
    found = rung_for(total, policy.data.ladder)
    assert found is not None and found[0] == 1


def test_rung_for_empty_ladder() -> None:
    assert rung_for(50.0, []) is None
    assert rung_for(1.0, [Rung(sanction="warn", at=1.0)]) is not None


# -- plan_sanction ---------------------------------------------------------------------


def test_plan_climbs_the_default_ladder(policy: Policy) -> None:
    """Strikes a minute apart, weights chosen to cross each rung with a margin."""
    strikes: list[Strike] = []
    sanctions: list[Sanction] = []
    seen: list[tuple[str, int] | None] = []
    for i, weight in enumerate([0.5, 0.7, 1.5, 1.5, 2.0]):
        at = BASE + timedelta(minutes=i)
        strikes.append(strike(at, weight))
        plan = plan_sanction(strikes, sanctions, at, at, policy)
        if plan is None:
            seen.append(None)
            continue
        seen.append((plan.kind, plan.step))
        sanctions.append(applied(plan))
    assert seen == [None, ("warn", 1), ("restrict", 2), ("suspend", 3), ("shut_down", 4)]
    assert account_status(sanctions, BASE + timedelta(minutes=5)) == "shut_down"
    # shut_down is final: however many more strikes, nothing more is planned
    for j in range(3):
        at = BASE + timedelta(minutes=10 + j)
        strikes.append(strike(at, 5.0))
        assert plan_sanction(strikes, sanctions, at, at, policy) is None


def test_shut_down_is_final_even_when_recorded_with_an_expiry(policy: Policy) -> None:
    s = [sanction("shut_down", BASE - timedelta(days=400), days=1)]
    strikes = [strike(BASE, 10.0)]
    assert plan_sanction(strikes, s, BASE, BASE, policy) is None


def test_plan_fields(policy: Policy) -> None:
    at = BASE + timedelta(days=2)
    now = at + timedelta(hours=5)
    strikes = [strike(at, 3.0)]
    plan = plan_sanction(strikes, [], at, now, policy)
    assert plan is not None
    assert plan.kind == "restrict"
    assert plan.step == 2
    assert plan.points == pytest.approx(3.0)  # counted as of the strike, not of now
    assert plan.rung_at == 2.5
    assert plan.starts == now
    assert plan.expires_at == now + timedelta(days=7)


def test_points_are_counted_at_strike_time_not_now(policy: Policy) -> None:
    old = BASE
    strikes = [strike(old, 2.0), strike(old + timedelta(hours=1), 1.0)]
    # decided a year later: as of the strike the total was 3 (restrict)
    plan = plan_sanction(strikes, [], old + timedelta(hours=1), old + timedelta(days=365),
                         policy)
    assert plan is not None
    assert plan.kind == "restrict"
    assert plan.points == pytest.approx(3.0, rel=1e-3)


def test_no_plan_below_the_first_rung(policy: Policy) -> None:
    assert plan_sanction([strike(BASE, 0.5)], [], BASE, BASE, policy) is None
    assert plan_sanction([], [], BASE, BASE, policy) is None


def test_timed_sanctions_expire(policy: Policy) -> None:
    now = BASE
    plan = plan_sanction([strike(now, 4.2)], [], now, now, policy)
    assert plan is not None and plan.kind == "suspend"
    assert plan.expires_at == now + timedelta(days=30)
    s = applied(plan)
    assert s.in_force(now)
    assert s.in_force(now + timedelta(days=30) - timedelta(seconds=1))
    assert not s.in_force(now + timedelta(days=30))
    assert not s.in_force(now + timedelta(days=31))
    assert in_force([s], now) == [s]
    assert in_force([s], now + timedelta(days=30)) == []


def test_untimed_sanctions(policy: Policy) -> None:
    warn = plan_sanction([strike(BASE, 1.0)], [], BASE, BASE, policy)
    assert warn is not None and warn.kind == "warn" and warn.expires_at is None
    shut = plan_sanction([strike(BASE, 7.0)], [], BASE, BASE, policy)
    assert shut is not None and shut.kind == "shut_down" and shut.expires_at is None
    far = BASE + timedelta(days=10_000)
    assert applied(shut).in_force(far)
    # a warning is a one-off notice, never "in force"
    assert not applied(warn).in_force(BASE)


def test_milder_sanction_not_planned_while_stronger_in_force(policy: Policy) -> None:
    suspended = [sanction("suspend", BASE, days=30)]
    # a new strike reaching only the restrict rung while the suspension runs
    at = BASE + timedelta(days=10)
    strikes = [strike(at, 3.0)]
    assert plan_sanction(strikes, suspended, at, at, policy) is None
    # ...nor a warning
    assert plan_sanction([strike(at, 1.0)], suspended, at, at, policy) is None
    # after the suspension expired the same strike is sanctioned
    later = BASE + timedelta(days=30)
    strikes = [strike(later, 3.0)]
    plan = plan_sanction(strikes, suspended, later, later, policy)
    assert plan is not None
    assert plan.kind == "restrict"
    assert plan.expires_at == later + timedelta(days=7)


def test_same_or_stronger_sanction_planned_while_one_in_force(policy: Policy) -> None:
    restricted = [sanction("restrict", BASE, days=7)]
    at = BASE + timedelta(days=1)
    plan = plan_sanction([strike(at, 4.5)], restricted, at, at, policy)
    assert plan is not None and plan.kind == "suspend"
    again = plan_sanction([strike(at, 3.0)], restricted, at, at, policy)
    assert again is not None and again.kind == "restrict"


def test_a_warning_does_not_block_a_new_warning(policy: Policy) -> None:
    warned = [sanction("warn", BASE)]
    at = BASE + timedelta(days=1)
    plan = plan_sanction([strike(at, 1.2)], warned, at, at, policy)
    assert plan is not None and plan.kind == "warn"


def test_decay_lets_a_long_ago_offender_start_again_at_warn(policy: Policy) -> None:
    # two years ago: enough strikes to be restricted (which has long expired)
    old = BASE - timedelta(days=730)
    history = [strike(old, 1.0), strike(old, 1.0), strike(old, 1.0)]
    sanctions = [sanction("warn", old), sanction("restrict", old, days=7)]
    new = strike(BASE, 1.0)
    plan = plan_sanction([*history, new], sanctions, BASE, BASE, policy)
    assert plan is not None
    assert plan.kind == "warn"
    assert plan.step == 1
    assert plan.points == pytest.approx(1.0 + 3.0 * 0.5 ** (730 / 90))
    # the same fourth strike back then, with no time to decay, reached suspend
    then = plan_sanction([*history, strike(old, 1.0)], sanctions, old, old + timedelta(days=8),
                         policy)
    assert then is not None and then.kind == "suspend"


def test_half_life_comes_from_the_policy(policy: Policy) -> None:
    text = policy.text.replace("half_life_days: 90", "half_life_days: 1")
    fast = parse_policy(text)
    assert fast.data.strikes.half_life_days == 1
    strikes = [strike(BASE - timedelta(days=1), 2.0), strike(BASE, 1.0)]
    fast_plan = plan_sanction(strikes, [], BASE, BASE, fast)
    slow_plan = plan_sanction(strikes, [], BASE, BASE, policy)
    assert fast_plan is not None and fast_plan.kind == "warn"
    assert fast_plan.points == pytest.approx(2.0)
    assert slow_plan is not None and slow_plan.kind == "restrict"


# -- account_status --------------------------------------------------------------------


def test_account_status_cases() -> None:
    now = BASE
    assert account_status([], now) == "active"
    assert account_status([sanction("warn", now)], now) == "active"
    assert account_status([sanction("restrict", now, days=7)], now) == "restricted"
    assert account_status([sanction("suspend", now, days=30)], now) == "suspended"
    assert account_status([sanction("shut_down", now)], now) == "shut_down"
    both = [sanction("restrict", now, days=7), sanction("suspend", now, days=3)]
    assert account_status(both, now) == "suspended"
    # the suspension ended after 3 days, the restriction still runs until day 7
    assert account_status(both, now + timedelta(days=3)) == "restricted"
    assert account_status(both, now + timedelta(days=7)) == "active"
    everything = [*both, sanction("warn", now), sanction("shut_down", now)]
    assert account_status(everything, now + timedelta(days=1)) == "shut_down"
    assert account_status(everything, now + timedelta(days=1000)) == "shut_down"


def test_account_status_expired_sanctions_are_active() -> None:
    s = [sanction("suspend", BASE - timedelta(days=31), days=30)]
    assert account_status(s, BASE) == "active"
    assert in_force(s, BASE) == []
