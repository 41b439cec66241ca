"""Period counts for transparency reports, and what they and the DSA statements of reasons
(``vigil.dsa``) read: decisions with their origin.

A decision's :class:`Origin` says where the case came from (Vigil's own initiative, a
user's report, a trusted flagger's report), how the violation was found (Vigil's
detectors, or a person) and who decided (Vigil, a reviewer on an automated flag, a
reviewer alone). :func:`period_counts` counts every recorded decision by period,
platform, kind, category, action, detection, decision and source; the counts add up to
the store's decisions in the range, so nothing is dropped on the way to a report.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import Connection, Select, case, func, or_, select

from vigil.store import Store
from vigil.store.auditlog import utc
from vigil.store.tables import cases, decisions, items

PERIODS = ("day", "week", "month", "quarter", "year")
#: The columns of a count row, in CSV order.
COLUMNS = ("period", "platform", "kind", "category", "action", "detection", "decided",
           "source", "count")


@dataclass(frozen=True, slots=True)
class Origin:
    """How a decision came about. ``source``: own_initiative, user_report, trusted_flagger
    (or appeal, for the resolution of one); ``detection``: automated (Vigil's detectors
    flagged it) or human (a report); ``decided``: automated, partly (a reviewer decided on
    an automated flag, or the ladder sanctioned after a reviewer's decision) or human."""

    source: str
    detection: str
    decided: str


AUTOMATED = Origin("own_initiative", "automated", "automated")


# -- reading decisions with their origin ----------------------------------------------------


@dataclass(slots=True)
class Scanned:
    """A decision row (``reasons`` parsed where read), its origin and, when asked for, its
    item (``None`` for decisions about no item)."""

    row: dict[str, Any]
    origin: Origin
    item: dict[str, Any] | None = None


def _where(q: Select[Any], platform: str | None, since: datetime | None,
           until: datetime | None) -> Select[Any]:
    if platform is not None:
        q = q.where(decisions.c.platform == platform)
    if since is not None:
        q = q.where(decisions.c.at >= utc(since))
    if until is not None:
        q = q.where(decisions.c.at < utc(until))
    return q


def count_decisions(store: Store, *, platform: str | None = None,
                    since: datetime | None = None, until: datetime | None = None) -> int:
    """How many decisions the filters select (``since`` inclusive, ``until`` exclusive;
    a time without a zone is UTC)."""
    with store.read() as conn:
        q = _where(select(func.count()).select_from(decisions), platform, since, until)
        return int(conn.execute(q).scalar_one())


def scan(store: Store, *, platform: str | None = None, since: datetime | None = None,
         until: datetime | None = None, full: bool = True, chunk: int = 500
         ) -> Iterator[Scanned]:
    """Decisions oldest first, each with its :class:`Origin`. ``full``: every statement of
    reasons parsed and the items read; otherwise only what the origin needs."""
    cols = [c for c in decisions.c if c.name != "reasons"]
    needs = or_(decisions.c.automated.is_(False), decisions.c.kind == "account")
    reasons = decisions.c.reasons if full else case((needs, decisions.c.reasons), else_=None)
    q = _where(select(*cols, reasons.label("reasons")), platform, since, until)
    q = q.order_by(decisions.c.at, decisions.c.id).execution_options(yield_per=chunk)
    with store.read() as conn:
        for part in conn.execute(q).mappings().partitions():
            rows = [dict(r) for r in part]
            for r in rows:
                r["reasons"] = json.loads(r["reasons"]) if r["reasons"] else {}
                r["at"] = utc(r["at"])
            found = _item_rows(conn, rows) if full else {}
            for r, origin in zip(rows, _origins(conn, rows), strict=True):
                item = found.get((r["platform"], r["item_id"])) if r["item_id"] else None
                yield Scanned(r, origin, item)


def scan_ids(store: Store, ids: Iterable[str], chunk: int = 900) -> Iterator[Scanned]:
    """The decisions named by ``ids`` (those that exist, in no set order), each with its
    :class:`Origin` and its statement of reasons parsed; items are not read."""
    ordered = sorted(set(ids))
    with store.read() as conn:
        for i in range(0, len(ordered), chunk):
            q = select(decisions).where(decisions.c.id.in_(ordered[i : i + chunk]))
            rows = [dict(r) for r in conn.execute(q).mappings()]
            for r in rows:
                r["reasons"] = json.loads(r["reasons"]) if r["reasons"] else {}
                r["at"] = utc(r["at"])
            for r, origin in zip(rows, _origins(conn, rows), strict=True):
                yield Scanned(r, origin)


def _origins(conn: Connection, rows: list[dict[str, Any]]) -> list[Origin]:
    case_ids = {r["reasons"].get("case") for r in rows if not r["automated"]} - {None}
    triggers = {(r["reasons"].get("trigger") or {}).get("decision")
                for r in rows if r["automated"] and r["kind"] == "account"} - {None}
    by_id: dict[str, Any] = {}
    by_outcome: dict[str, Any] = {}
    cols = (cases.c.id, cases.c.kind, cases.c.trusted, cases.c.outcome_decision)
    for ids, col, into in ((case_ids, cases.c.id, by_id),
                           (triggers, cases.c.outcome_decision, by_outcome)):
        ordered = sorted(ids)
        for i in range(0, len(ordered), 900):
            for c in conn.execute(select(*cols).where(col.in_(ordered[i : i + 900]))
                                  ).mappings():
                into[c[col.name]] = c
    out = []
    for r in rows:
        if not r["automated"]:
            out.append(_case_origin(by_id.get(r["reasons"].get("case"))))
            continue
        trigger = (r["reasons"].get("trigger") or {}).get("decision")
        human = by_outcome.get(str(trigger)) if r["kind"] == "account" else None
        if human is None:
            out.append(AUTOMATED)
        else:  # the ladder, after a reviewer's decision on the triggering item
            o = _case_origin(human)
            out.append(Origin(o.source, o.detection, "partly"))
    return out


def _case_origin(c: Mapping[str, Any] | None) -> Origin:
    """A reviewer's decision on case ``c``: a review case was opened by the detectors (a
    trusted flagger's report may have joined it), a report case by a report."""
    if c is None:
        return Origin("own_initiative", "human", "human")
    if c["kind"] == "appeal":
        return Origin("appeal", "human", "human")
    source = ("trusted_flagger" if c["trusted"]
              else "user_report" if c["kind"] == "report" else "own_initiative")
    if c["kind"] == "review":
        return Origin(source, "automated", "partly")
    return Origin(source, "human", "human")


def _item_rows(conn: Connection, rows: list[dict[str, Any]]
               ) -> dict[tuple[str, str], dict[str, Any]]:
    keys: dict[str, set[str]] = {}
    for r in rows:
        if r["item_id"]:
            keys.setdefault(r["platform"], set()).add(r["item_id"])
    found: dict[tuple[str, str], dict[str, Any]] = {}
    cols = (items.c.platform, items.c.external_id, items.c.created_at, items.c.lang,
            items.c.media, items.c.text)
    for plat, ids in keys.items():
        ordered = sorted(ids)
        for i in range(0, len(ordered), 900):
            q = select(*cols).where(items.c.platform == plat,
                                    items.c.external_id.in_(ordered[i : i + 900]))
            for it in conn.execute(q).mappings():
                found[(plat, it["external_id"])] = dict(it)
    return found


# -- period counts --------------------------------------------------------------------------


def period_of(at: datetime, period: str) -> str:
    """The period ``at`` (UTC) falls in: ``2026-06-01``, ``2026-W23`` (ISO week),
    ``2026-06``, ``2026-Q2`` or ``2026``."""
    u = utc(at)
    assert u is not None
    if period == "day":
        return u.date().isoformat()
    if period == "week":
        year, week, _ = u.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{u.year}-{u.month:02d}"
    if period == "quarter":
        return f"{u.year}-Q{(u.month - 1) // 3 + 1}"
    if period == "year":
        return str(u.year)
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")


def period_counts(store: Store, period: str = "month", *, platform: str | None = None,
                  since: datetime | None = None, until: datetime | None = None
                  ) -> list[dict[str, Any]]:
    """Decisions counted by period × platform × kind (item, account) × category × action
    × detection (automated, human) × decided (automated, partly, human) × source
    (own_initiative, user_report, trusted_flagger, appeal); one dict per non-zero cell,
    with the keys of :data:`COLUMNS`, sorted. ``since`` inclusive, ``until`` exclusive."""
    period_of(datetime.now(UTC), period)  # an unknown period fails before the scan
    counts: Counter[tuple[str, ...]] = Counter()
    for s in scan(store, platform=platform, since=since, until=until, full=False):
        r, o = s.row, s.origin
        counts[(period_of(r["at"], period), r["platform"], r["kind"], r["category"] or "",
                r["action"], o.detection, o.decided, o.source)] += 1
    return [dict(zip(COLUMNS, (*key, n), strict=True)) | {"category": key[3] or None}
            for key, n in sorted(counts.items())]


def write_counts(rows: list[dict[str, Any]], sink: IO[str], fmt: str = "csv",
                 period: str = "month") -> None:
    """Write count rows as CSV (a header, then one line per row; no category is an empty
    cell) or as JSON (``{"period", "total", "columns", "counts": [...]}``)."""
    if fmt == "csv":
        w = csv.DictWriter(sink, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows({**r, "category": r["category"] or ""} for r in rows)
    elif fmt == "json":
        json.dump({"period": period, "total": sum(r["count"] for r in rows),
                   "columns": list(COLUMNS), "counts": rows}, sink, ensure_ascii=False,
                  indent=1)
        sink.write("\n")
    else:
        raise ValueError(f"format must be csv or json, got {fmt!r}")
