"""The dashboard's numbers, from the decisions, cases and sanctions tables.

- item actions (label, restrict, remove) by category over time, bucketed by the day the
  item was posted (the decision's own time for items without one), per day, ISO week or
  month depending on the span;
- accounts sanctioned by ladder step (distinct accounts that reached each step);
- removals by platform and category;
- the share of item actions taken automatically vs by reviewers, over the same periods;
- the appeal overturn rate (overturned / resolved appeals);
- the median time from a case's opening to its decision, per kind of case.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from vigil.store.auditlog import utc
from vigil.store.tables import cases, decisions, items, sanctions

ACTED = ("label", "restrict", "remove")
DAY_LIMIT = 62  # spans up to this many days are shown per day
WEEK_LIMIT = 7 * 104  # then per ISO week up to two years, then per month


@dataclass
class Dashboard:
    period: str = "day"
    periods: list[str] = field(default_factory=list)
    #: category -> [(period, item actions)]
    actions_over_time: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    #: ("<step>. <sanction>", accounts)
    sanctions_by_step: list[tuple[str, float]] = field(default_factory=list)
    removal_platforms: list[str] = field(default_factory=list)
    #: category -> removals per platform (in ``removal_platforms`` order)
    removals: dict[str, list[float]] = field(default_factory=dict)
    #: "automated" / "human" -> item actions per period (in ``periods`` order)
    decided_by: dict[str, list[float]] = field(default_factory=dict)
    automated: int = 0
    human: int = 0
    appeals_upheld: int = 0
    appeals_overturned: int = 0
    appeals_open: int = 0
    #: case kind -> (median hours to decision, cases decided)
    time_to_decision: dict[str, tuple[float, int]] = field(default_factory=dict)
    total_removals: int = 0

    @property
    def automated_share(self) -> float | None:
        n = self.automated + self.human
        return self.automated / n if n else None

    @property
    def overturn_rate(self) -> float | None:
        n = self.appeals_upheld + self.appeals_overturned
        return self.appeals_overturned / n if n else None


def _in(col: ColumnElement[str], scope: Sequence[str] | None) -> ColumnElement[bool]:
    return col.in_(list(scope)) if scope is not None else true()


def period_kind(first: datetime, last: datetime) -> str:
    span = (last - first).days
    return "day" if span <= DAY_LIMIT else "week" if span <= WEEK_LIMIT else "month"


def period_of(dt: datetime, kind: str) -> str:
    if kind == "day":
        return dt.strftime("%Y-%m-%d")
    if kind == "week":
        y, w, _ = dt.isocalendar()
        return f"{y}-W{w:02d}"
    return dt.strftime("%Y-%m")


def all_periods(first: datetime, last: datetime, kind: str) -> list[str]:
    """Every period from ``first`` to ``last``, empty ones included (a gap in a chart is
    a period with nothing, not a missing point)."""
    out: list[str] = []
    step = timedelta(days=1 if kind == "day" else 7 if kind == "week" else 28)
    t = first
    while t <= last + step:
        p = period_of(t, kind)
        if not out or out[-1] != p:
            out.append(p)
        if p == period_of(last, kind):
            break
        t += step
    return out


def dashboard(conn: Connection, scope: Sequence[str] | None) -> Dashboard:
    """The numbers for the platforms in ``scope`` (None: every platform)."""
    dash = Dashboard()
    posted = func.coalesce(items.c.created_at, decisions.c.at)
    q = (select(decisions.c.category, decisions.c.automated, posted.label("t"))
         .join(items, and_(items.c.platform == decisions.c.platform,
                           items.c.external_id == decisions.c.item_id), isouter=True)
         .where(decisions.c.kind == "item", decisions.c.action.in_(ACTED),
                _in(decisions.c.platform, scope)))
    rows = [(c or "none", bool(a), utc(t)) for c, a, t in conn.execute(
        q.execution_options(yield_per=5000))]
    times = [t for _, _, t in rows if t is not None]
    if times:
        first, last = min(times), max(times)
        dash.period = period_kind(first, last)
        dash.periods = all_periods(first, last, dash.period)
        per_cat: dict[str, Counter[str]] = defaultdict(Counter)
        per_who: dict[str, Counter[str]] = {"automated": Counter(), "human": Counter()}
        for cat, automated, t in rows:
            if t is None:
                continue
            p = period_of(t, dash.period)
            per_cat[cat][p] += 1
            per_who["automated" if automated else "human"][p] += 1
        dash.actions_over_time = {
            c: [(p, float(per_cat[c][p])) for p in dash.periods] for c in sorted(per_cat)}
        dash.decided_by = {who: [float(cnt[p]) for p in dash.periods]
                           for who, cnt in per_who.items()}
    dash.automated = sum(1 for _, a, _ in rows if a)
    dash.human = len(rows) - dash.automated

    q2 = (select(sanctions.c.step, sanctions.c.kind,
                 func.count(func.distinct(sanctions.c.platform + "/" + sanctions.c.account)))
          .where(_in(sanctions.c.platform, scope))
          .group_by(sanctions.c.step, sanctions.c.kind)
          .order_by(sanctions.c.step, sanctions.c.kind))
    dash.sanctions_by_step = [(f"{step}. {kind.replace('_', ' ')}", float(n))
                              for step, kind, n in conn.execute(q2)]

    q3 = (select(decisions.c.platform, decisions.c.category, func.count())
          .where(decisions.c.kind == "item", decisions.c.action == "remove",
                 _in(decisions.c.platform, scope))
          .group_by(decisions.c.platform, decisions.c.category))
    found = [(p, c or "none", int(n)) for p, c, n in conn.execute(q3)]
    dash.removal_platforms = sorted({p for p, _, _ in found})
    cats = sorted({c for _, c, _ in found})
    dash.removals = {c: [0.0] * len(dash.removal_platforms) for c in cats}
    for p, c, n in found:
        dash.removals[c][dash.removal_platforms.index(p)] += n
    dash.total_removals = sum(n for _, _, n in found)

    q4 = (select(cases.c.outcome, cases.c.status, func.count())
          .where(cases.c.kind == "appeal", _in(cases.c.platform, scope))
          .group_by(cases.c.outcome, cases.c.status))
    for outcome, status, n in conn.execute(q4):
        if status == "open":
            dash.appeals_open += int(n)
        elif outcome == "upheld":
            dash.appeals_upheld += int(n)
        elif outcome == "overturned":
            dash.appeals_overturned += int(n)

    q5 = (select(cases.c.kind, cases.c.created_at, cases.c.closed_at)
          .where(cases.c.status == "closed", cases.c.closed_at.is_not(None),
                 _in(cases.c.platform, scope)))
    waits: dict[str, list[float]] = defaultdict(list)
    for kind, opened, closed in conn.execute(q5.execution_options(yield_per=5000)):
        a, b = utc(opened), utc(closed)
        if a is not None and b is not None:
            waits[kind].append(max(0.0, (b - a).total_seconds() / 3600.0))
    dash.time_to_decision = {k: (round(statistics.median(v), 2), len(v))
                             for k, v in sorted(waits.items())}
    return dash
