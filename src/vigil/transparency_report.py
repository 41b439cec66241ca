"""The transparency report: what the store's decisions, cases and sanctions add up to for
a range of time and a set of platforms, in the sections of the EU DSA harmonised
transparency-reporting template (Implementing Regulation (EU) 2024/2835):

1. ``notices``: notices received (user reports, trusted flaggers) and what was done on them;
2. ``own_initiative``: moderation Vigil started itself, by category, type of restriction and
   detection method;
3. ``automated``: the use of automated means: decisions fully, partly or not automated, and
   how the fully automated ones fared where a person looked (appeal or reviewer);
4. ``complaints``: appeals received, their outcomes, those still open;
5. ``suspensions``: account sanctions by kind, ladder step, timed or permanent;
6. ``median_times``: to a reviewer's decision, to action on a notice, to an appeal's
   resolution.

Every figure is one :class:`Figure` (section, metric, platform, category, period, value).
A count is given at its finest grain: a real platform, category ("" for none) and period,
so counts add up to any total. Shares and medians do not add up: they are given for each
platform and for all of them together, where the platform, category or period reads
``*`` (all). ``docs/dsa.md`` says how each figure is computed. :func:`build_transparency`
builds a report (an auditor passes the platforms it is granted), :func:`render_html` draws
it as one self-contained HTML page, :func:`write_csv` writes it as one tidy CSV.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select, true

from vigil.audit import EDIT_RANK
from vigil.dsa import ACTION_MAP
from vigil.errors import InputError
from vigil.store import Store
from vigil.store.auditlog import utc
from vigil.store.tables import cases, decisions, sanction_lifts, sanctions
from vigil.transparency import period_counts, period_of, scan_ids

SECTIONS = ("notices", "own_initiative", "automated", "complaints", "suspensions",
            "median_times")
#: The column value of an aggregate: every platform, category or period together.
ALL = "*"
CSV_COLUMNS = ("section", "metric", "platform", "category", "period", "value")
#: Decisions that undo or end an earlier one: counted with the appeals, not as measures.
REVERSALS = frozenset({"reinstate", "lift", "uphold", "expire"})
NOTICE_SOURCES = ("user_report", "trusted_flagger")
#: How a person's look at a fully automated decision turned out.
VERDICTS = ("upheld_on_appeal", "overturned_on_appeal", "confirmed_by_reviewer",
            "overturned_by_reviewer")


@dataclass(frozen=True, slots=True)
class Figure:
    """One number of the report. ``category`` is "" where there is none (a reviewer's
    ``allow``, a notice naming no category) and ``*`` for all; ``platform`` and ``period``
    are ``*`` for all."""

    section: str
    metric: str
    platform: str
    category: str
    period: str
    value: float

    @property
    def aggregate(self) -> bool:
        """A share or median over several cells; the other figures are counts."""
        return ALL in (self.platform, self.category, self.period)


@dataclass(slots=True)
class TransparencyReport:
    """The figures for ``platforms`` from ``since`` (inclusive) to ``until`` (exclusive),
    per ``period``. ``platforms``: those asked for, or every platform with figures."""

    platforms: tuple[str, ...]
    period: str
    since: datetime | None
    until: datetime | None
    generated_at: datetime
    periods: tuple[str, ...] = ()
    figures: list[Figure] = field(default_factory=list)

    def total(self, section: str, metric: str | None = None, *, prefix: str | None = None,
              platform: str | None = None, category: str | None = None,
              period: str | None = None) -> int:
        """The sum of the counts that match (``None``: any)."""
        return int(sum(
            f.value for f in self.figures
            if not f.aggregate and f.section == section
            and (metric is None or f.metric == metric)
            and (prefix is None or f.metric.startswith(prefix))
            and (platform is None or f.platform == platform)
            and (category is None or f.category == category)
            and (period is None or f.period == period)))

    def stat(self, section: str, metric: str, platform: str = ALL, category: str = ALL,
             period: str = ALL) -> float | None:
        """A share or median, or None where there was nothing to compute it from."""
        for f in self.figures:
            if (f.section, f.metric, f.platform, f.category, f.period) == (
                    section, metric, platform, category, period):
                return f.value
        return None

    def values(self, section: str, column: str, *, prefix: str | None = None) -> list[str]:
        """The distinct values of ``column`` among the section's counts, sorted."""
        return sorted({getattr(f, column) for f in self.figures
                       if f.section == section and not f.aggregate
                       and (prefix is None or f.metric.startswith(prefix))})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the report's scope and its figures, each a dict of
        :data:`CSV_COLUMNS`."""
        return {
            "platforms": list(self.platforms), "period": self.period,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "periods": list(self.periods),
            "figures": [dict(zip(CSV_COLUMNS, (*_cells(f), f.value), strict=True))
                        for f in self.figures],
        }


# -- building -----------------------------------------------------------------------------


Key = tuple[str, str, str, str, str]  # section, metric, platform, category, period


@dataclass(slots=True)
class _Tally:
    period: str
    since: datetime | None
    until: datetime | None
    end: datetime  # ``until``, or now: what is open at the end of the range
    counts: Counter[Key] = field(default_factory=Counter)
    hours: dict[tuple[str, str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list))

    def add(self, section: str, metric: str, platform: str, category: str | None,
            at: datetime | str, n: int = 1) -> None:
        period = at if isinstance(at, str) else period_of(at, self.period)
        self.counts[(section, metric, platform, category or "", period)] += n

    def inside(self, at: datetime | None) -> bool:
        return at is not None and (self.since is None or at >= self.since) and (
            self.until is None or at < self.until)

    def took(self, metric: str, platform: str, start: datetime, done: datetime) -> None:
        self.hours[(metric, platform, period_of(done, self.period))].append(
            (done - start).total_seconds() / 3600.0)


def build_transparency(store: Store, platforms: Sequence[str] | None = None,
                       since: datetime | None = None, until: datetime | None = None,
                       period: str = "month", *, now: datetime | None = None
                       ) -> TransparencyReport:
    """The report for ``platforms`` (``None``: every platform; an auditor passes those it
    is granted) from ``since`` (inclusive) to ``until`` (exclusive), counted per
    ``period`` (day, week, month, quarter, year). A time without a zone is UTC. Appeals
    and reviews count where they were done before ``until`` (or ``now``)."""
    now = utc(now) or datetime.now(UTC)
    period_of(now, period)  # an unknown period fails here
    since, until = utc(since), utc(until)
    if since is not None and until is not None and until <= since:
        raise InputError("the range ends before it starts", where="until")
    scope = None if platforms is None else tuple(sorted(set(platforms)))
    t = _Tally(period, since, until, min(until, now) if until else now)
    for p in (None,) if scope is None else scope:
        _decisions(t, period_counts(store, period, platform=p, since=since, until=until))
    with store.read() as conn:
        appeals = _appeals(conn, t, scope)
        _cases(conn, t, scope)
        _sanctions(conn, t, scope)
        reviews = _reviews(conn, t, scope)
        candidates = set(appeals) | _reviewed_automated(conn, t, reviews)
    _accuracy(t, store, scope, candidates, appeals, reviews)
    figures = [Figure(*k, v) for k, v in sorted(t.counts.items()) if v]
    plats = scope if scope is not None else tuple(sorted({f.platform for f in figures}
                                                         | {k[1] for k in t.hours}))
    figures += _stats(figures, t, plats)
    figures.sort(key=lambda f: (SECTIONS.index(f.section), f.metric, f.platform, f.category,
                                f.period))
    periods = {f.period for f in figures} - {ALL}
    return TransparencyReport(plats, period, since, until, now, tuple(sorted(periods)),
                              figures)


def _decisions(t: _Tally, rows: Iterable[dict[str, Any]]) -> None:
    """Sections 1-3 from the period counts."""
    for r in rows:
        kind, action, source, n = r["kind"], r["action"], r["source"], r["count"]
        cell = (r["platform"], r["category"], r["period"])
        restricts = (kind, action) in ACTION_MAP
        if source in NOTICE_SOURCES and action not in REVERSALS:
            t.add("notices", f"{source}.{kind}.{action}", *cell, n)
        elif source == "own_initiative" and action not in REVERSALS:
            t.add("own_initiative", f"{kind}.{action}", *cell, n)
            if restricts:
                t.add("own_initiative", f"detection.{r['detection']}", *cell, n)
        if restricts and source != "appeal":
            t.add("automated", f"decided.{r['decided']}", *cell, n)


def _scoped(col: Any, scope: Sequence[str] | None) -> ColumnElement[bool]:
    return true() if scope is None else col.in_(list(scope))


def _during(col: Any, t: _Tally) -> ColumnElement[bool]:
    return and_(true() if t.since is None else col >= t.since,
                true() if t.until is None else col < t.until)


def _cases(conn: Connection, t: _Tally, scope: Sequence[str] | None) -> None:
    """Notices received (report cases opened), and the times from a review or report
    case's opening to its decision."""
    q = select(cases.c.platform, cases.c.kind, cases.c.category, cases.c.trusted,
               cases.c.created_at, cases.c.closed_at, cases.c.outcome_decision).where(
        cases.c.kind.in_(["review", "report"]), _scoped(cases.c.platform, scope),
        or_(_during(cases.c.created_at, t), _during(cases.c.closed_at, t)))
    for c in conn.execute(q).mappings():
        opened, closed = utc(c["created_at"]), utc(c["closed_at"])
        assert opened is not None
        if c["kind"] == "report" and t.inside(opened):
            source = "trusted_flagger" if c["trusted"] else "user_report"
            t.add("notices", f"received.{source}", c["platform"], c["category"], opened)
        if closed is not None and c["outcome_decision"] and t.inside(closed):
            t.took("decision", c["platform"], opened, closed)
            t.took("decision_on_review" if c["kind"] == "review" else "action_on_notice",
                   c["platform"], opened, closed)


def _appeals(conn: Connection, t: _Tally, scope: Sequence[str] | None
             ) -> dict[str, tuple[str, datetime]]:
    """Section 4; returns each appealed decision's outcome and its time, for appeals
    resolved before the end of the range."""
    q = select(cases.c.platform, cases.c.category, cases.c.created_at, cases.c.closed_at,
               cases.c.outcome, cases.c.decision_id, decisions.c.kind.label("appealed")
               ).select_from(cases.outerjoin(decisions, decisions.c.id == cases.c.decision_id)
               ).where(cases.c.kind == "appeal", _scoped(cases.c.platform, scope))
    resolved: dict[str, tuple[str, datetime]] = {}
    for c in conn.execute(q).mappings():
        opened, closed = utc(c["created_at"]), utc(c["closed_at"])
        assert opened is not None
        plat, cat, kind = c["platform"], c["category"], c["appealed"] or "item"
        done = closed is not None and closed < t.end and c["outcome"] is not None
        if t.inside(opened):
            t.add("complaints", f"received.{kind}", plat, cat, opened)
            if not done:
                t.add("complaints", f"pending.{kind}", plat, cat, opened)
        if done and closed is not None:
            resolved[c["decision_id"]] = (c["outcome"], closed)
            if t.inside(closed):
                t.add("complaints", f"{c['outcome']}.{kind}", plat, cat, closed)
                t.took("appeal_resolution", plat, opened, closed)
    return resolved


def _sanctions(conn: Connection, t: _Tally, scope: Sequence[str] | None) -> None:
    """Section 5: every sanction issued in the range, by kind, by ladder step (0: a
    coordinated-posting group sanction), the restricting ones by kind and duration (timed
    or permanent); and those lifted on appeal."""
    q = select(sanctions.c.platform, sanctions.c.kind, sanctions.c.step, sanctions.c.at,
               sanctions.c.expires_at, decisions.c.category,
               sanction_lifts.c.at.label("lifted")).select_from(
        sanctions.outerjoin(decisions, decisions.c.id == sanctions.c.decision_id)
        .outerjoin(sanction_lifts, sanction_lifts.c.sanction_id == sanctions.c.id)).where(
        _scoped(sanctions.c.platform, scope), _during(sanctions.c.at, t))
    for s in conn.execute(q).mappings():
        at = utc(s["at"])
        assert at is not None
        cell = (s["platform"], s["category"], at)
        t.add("suspensions", f"kind.{s['kind']}", *cell)
        t.add("suspensions", f"step.{s['step']}", *cell)
        if s["kind"] != "warn":  # a warning restricts nothing, for no time
            timed = "timed" if s["expires_at"] is not None else "permanent"
            t.add("suspensions", f"duration.{s['kind']}.{timed}", *cell)
        lifted = utc(s["lifted"])
        if lifted is not None and lifted < t.end:
            t.add("suspensions", "lifted", *cell)


def _reviews(conn: Connection, t: _Tally, scope: Sequence[str] | None
             ) -> dict[tuple[str, str], list[tuple[datetime, str]]]:
    """Reviewers' decisions on items before the end of the range, oldest first."""
    q = select(decisions.c.platform, decisions.c.item_id, decisions.c.at, decisions.c.action
               ).where(decisions.c.automated.is_(False), decisions.c.kind == "item",
                       decisions.c.rule.like("review.%"), decisions.c.at < t.end,
                       _scoped(decisions.c.platform, scope)).order_by(decisions.c.at)
    out: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for plat, item_id, at, action in conn.execute(q):
        if item_id is not None:
            out[(plat, item_id)].append((utc(at) or t.end, action))
    return out


def _reviewed_automated(conn: Connection, t: _Tally,
                        reviews: dict[tuple[str, str], list[tuple[datetime, str]]]) -> set[str]:
    """The automated decisions in the range on items a reviewer decided on."""
    by_platform: dict[str, list[str]] = defaultdict(list)
    for plat, item_id in reviews:
        by_platform[plat].append(item_id)
    found: set[str] = set()
    for plat, ids in by_platform.items():
        ids.sort()
        for i in range(0, len(ids), 900):
            q = select(decisions.c.id).where(
                decisions.c.platform == plat, decisions.c.item_id.in_(ids[i : i + 900]),
                decisions.c.automated.is_(True), decisions.c.kind == "item",
                _during(decisions.c.at, t))
            found.update(conn.execute(q).scalars())
    return found


def _accuracy(t: _Tally, store: Store, scope: Sequence[str] | None, ids: set[str],
              appeals: dict[str, tuple[str, datetime]],
              reviews: dict[tuple[str, str], list[tuple[datetime, str]]]) -> None:
    """Section 3's indicators: each fully automated restriction in the range that a person
    looked at, by what they found. An appeal's outcome counts first; otherwise the first
    reviewer's decision on the item after it: a weaker action overturns it."""
    for s in scan_ids(store, ids):
        r = s.row
        if (s.origin.decided != "automated" or (r["kind"], r["action"]) not in ACTION_MAP
                or not t.inside(r["at"]) or (scope is not None and r["platform"] not in scope)):
            continue
        verdict = None
        if r["id"] in appeals:
            verdict = f"{appeals[r['id']][0]}_on_appeal"
        elif r["kind"] == "item":
            later = [a for at, a in reviews.get((r["platform"], r["item_id"]), [])
                     if at >= r["at"]]
            if later:
                weaker = EDIT_RANK.get(later[0], 0) < EDIT_RANK.get(r["action"], 0)
                verdict = "overturned_by_reviewer" if weaker else "confirmed_by_reviewer"
        if verdict in VERDICTS:
            t.add("automated", verdict, r["platform"], r["category"], r["at"])


def _stats(counts: list[Figure], t: _Tally, plats: Sequence[str]) -> list[Figure]:
    """Shares and medians, for each platform and for all of them."""
    out: list[Figure] = []
    cats = sorted({f.category for f in counts if f.section == "automated"})
    for plat in [*plats, ALL]:
        for cat in [*cats, ALL] if plat == ALL else [ALL]:
            def n(section: str, prefix: str, plat: str = plat, cat: str = cat) -> int:
                return int(sum(f.value for f in counts if f.section == section
                               and f.metric.startswith(prefix)
                               and plat in (ALL, f.platform) and cat in (ALL, f.category)))

            def share(section: str, metric: str, part: float, whole: float,
                      plat: str = plat, cat: str = cat) -> None:
                if whole:
                    out.append(Figure(section, metric, plat, cat, ALL, round(part / whole, 4)))

            restricted = n("automated", "decided.")
            for how in ("automated", "partly", "human"):
                share("automated", f"share.decided_{how}", n("automated", f"decided.{how}"),
                      restricted)
            looked = sum(n("automated", v) for v in VERDICTS)
            share("automated", "share.reviewed", looked, n("automated", "decided.automated"))
            share("automated", "share.overturned",
                  n("automated", "overturned_on_appeal")
                  + n("automated", "overturned_by_reviewer"), looked)
            if cat == ALL:
                share("complaints", "share.overturned", n("complaints", "overturned."),
                      n("complaints", "overturned.") + n("complaints", "upheld."))
    pooled: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for (metric, plat, period), hours in t.hours.items():
        for key in ((metric, plat, period), (metric, plat, ALL), (metric, ALL, period),
                    (metric, ALL, ALL)):
            pooled[key] += hours
    for (metric, plat, period), hours in sorted(pooled.items()):
        out.append(Figure("median_times", f"median_hours.{metric}", plat, ALL, period,
                          round(statistics.median(hours), 2)))
    return out


# -- CSV --------------------------------------------------------------------------------------


def _cells(f: Figure) -> tuple[str, str, str, str, str]:
    return f.section, f.metric, f.platform, f.category, f.period


def _value(f: Figure) -> str:
    return str(int(f.value)) if not f.aggregate else repr(float(f.value))


def write_csv(report: TransparencyReport, path: str | Path) -> None:
    """The report as one tidy CSV: a header (:data:`CSV_COLUMNS`), then one line per
    figure; rows with ``*`` in platform, category or period are shares and medians, every
    other row a count."""
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for f in report.figures:
            w.writerow([*_cells(f), _value(f)])


def render_html(report: TransparencyReport) -> str:
    """The report as one self-contained HTML page: inline CSS, inline SVG charts, no
    script, every piece of data escaped."""
    from vigil.transparency_html import page

    return page(report)
