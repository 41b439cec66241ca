"""Counts for reports: items acted on by platform, category and action; accounts by the
strongest sanction they received; how violations were detected."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from vigil.items import Account
from vigil.sanctions import SANCTION_RANK, account_status, decayed_points
from vigil.store import Store, sanction_from_row, strike_from_row
from vigil.store.auditlog import utc
from vigil.store.review import apply_lifts
from vigil.store.tables import (
    cluster_members,
    clusters,
    decisions,
    items,
    sanctions,
    strikes,
)

#: How an account's strongest sanction is named in reports.
STANDING = {"warn": "warned", "restrict": "restricted", "suspend": "suspended",
            "shut_down": "shut_down"}


TOP_CLUSTERS = 10


@dataclass(slots=True)
class Report:
    items: int = 0
    accounts: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    review_pending: int = 0
    by_category: dict[str, Counter[str]] = field(default_factory=dict)
    by_platform: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    accounts_by_sanction: Counter[str] = field(default_factory=Counter)
    sanctions_issued: Counter[str] = field(default_factory=Counter)
    detection: Counter[str] = field(default_factory=Counter)
    decided_by: Counter[str] = field(default_factory=Counter)
    webhooks: dict[str, int] = field(default_factory=dict)
    clusters: int = 0
    cluster_accounts: int = 0
    top_clusters: list[dict[str, Any]] = field(default_factory=list)

    def headline(self) -> str:
        parts = [f"{self.accounts_by_sanction[k]:,} accounts {STANDING[k].replace('_', ' ')}"
                 for k in ("shut_down", "suspend", "restrict", "warn")]
        parts.append(f"{self.actions['remove']:,} items removed")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline(),
            "items": self.items,
            "accounts": self.accounts,
            "items_by_action": dict(self.actions),
            "review_pending": self.review_pending,
            "items_by_category": {c: dict(v) for c, v in sorted(self.by_category.items())},
            "by_platform": {
                p: {c: dict(v) for c, v in sorted(cats.items())}
                for p, cats in sorted(self.by_platform.items())
            },
            "accounts_by_strongest_sanction": {
                STANDING[k]: self.accounts_by_sanction[k] for k in SANCTION_RANK
            },
            "sanctions_issued": {k: self.sanctions_issued[k] for k in SANCTION_RANK},
            "detection_method": dict(self.detection),
            "decided_by": dict(self.decided_by),
            "webhook_deliveries": dict(self.webhooks),
            "clusters": {
                "count": self.clusters,
                "accounts": self.cluster_accounts,
                "largest": [
                    {"id": c["id"], "platform": c["platform"], "kind": c["kind"],
                     "key": c["key"], "accounts": c["accounts"], "items": c["items"]}
                    for c in self.top_clusters
                ],
            },
        }


def _where_platform(q: Select[Any], col: Any, platform: str | None) -> Select[Any]:
    return q.where(col == platform) if platform else q


def build_report(store: Store, platform: str | None = None) -> Report:
    """Counts over everything in the store (or one platform)."""
    rep = Report()
    with store.read() as conn:
        q = _where_platform(
            select(items.c.platform, items.c.category, items.c.action, items.c.review,
                   func.count()).group_by(items.c.platform, items.c.category,
                                          items.c.action, items.c.review),
            items.c.platform, platform,
        )
        for plat, cat, action, review, n in conn.execute(q):
            rep.items += n
            if action == "allow" and review:
                rep.review_pending += n
                action = "review"
            rep.actions[action] += n
            if cat is None:
                continue
            rep.by_category.setdefault(cat, Counter())[action] += n
            rep.by_platform.setdefault(plat, {}).setdefault(cat, Counter())[action] += n
        q = _where_platform(
            select(func.count(func.distinct(items.c.platform + "/" + items.c.account))),
            items.c.platform, platform,
        )
        rep.accounts = int(conn.execute(q).scalar_one())
        q = _where_platform(
            select(sanctions.c.platform, sanctions.c.account, sanctions.c.kind),
            sanctions.c.platform, platform,
        )
        strongest: dict[tuple[str, str], str] = {}
        for plat, acct, kind in conn.execute(q):
            rep.sanctions_issued[kind] += 1
            cur = strongest.get((plat, acct))
            if cur is None or SANCTION_RANK[kind] > SANCTION_RANK[cur]:
                strongest[(plat, acct)] = kind
        rep.accounts_by_sanction.update(strongest.values())
        q = _where_platform(
            select(decisions.c.kind, decisions.c.detectors, decisions.c.automated,
                   func.count()).group_by(decisions.c.kind, decisions.c.detectors,
                                          decisions.c.automated),
            decisions.c.platform, platform,
        )
        for kind, dets, automated, n in conn.execute(q):
            rep.decided_by["automated" if automated else "human"] += n
            if kind == "item":
                for d in (dets or "none").split(","):
                    rep.detection[d] += n
        q = _where_platform(select(func.count()).select_from(clusters), clusters.c.platform,
                            platform)
        rep.clusters = int(conn.execute(q).scalar_one())
        q = _where_platform(
            select(func.count(func.distinct(cluster_members.c.platform + "/"
                                            + cluster_members.c.account)))
            .where(cluster_members.c.flagged.is_(True)),
            cluster_members.c.platform, platform)
        rep.cluster_accounts = int(conn.execute(q).scalar_one())
    rep.top_clusters = store.clusters(platform, limit=TOP_CLUSTERS)
    rep.webhooks = store.delivery_counts(platform)
    return rep


def decision_rows(
    store: Store,
    *,
    platform: str | None = None,
    category: str | None = None,
    account: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Decisions, oldest first, as dicts with the statement of reasons parsed."""
    q = select(decisions).order_by(decisions.c.at, decisions.c.id)
    for col, val in ((decisions.c.platform, platform), (decisions.c.category, category),
                     (decisions.c.account, account), (decisions.c.action, action)):
        if val is not None:
            q = q.where(col == val)
    if limit:
        q = q.limit(limit)
    with store.read() as conn:
        for row in conn.execute(q.execution_options(yield_per=2000)).mappings():
            reasons = json.loads(row["reasons"])
            yield {
                "id": row["id"],
                "platform": row["platform"],
                "item_id": row["item_id"],
                "account": row["account"],
                "kind": row["kind"],
                "category": row["category"],
                "action": row["action"],
                "rule": row["rule"],
                "policy_version": row["policy_version"],
                "automated": bool(row["automated"]),
                "actor": row["actor"],
                "at": _iso(row["at"]),
                "facts": reasons.get("facts"),
                "evidence": reasons.get("evidence", []),
                "review": reasons.get("review"),
            }


def _iso(dt: datetime | None) -> str | None:
    u = utc(dt)
    return u.isoformat().replace("+00:00", "Z") if u else None


def account_summary(store: Store, account: str, platform: str | None, now: datetime,
                    half_life_days: float) -> list[Account]:
    """The account's standing at ``now`` on each platform it posted on (or ``platform``)."""
    out = []
    with store.read() as conn:
        q = select(items.c.platform, items.c.action, func.count()).where(
            items.c.account == account).group_by(items.c.platform, items.c.action)
        if platform:
            q = q.where(items.c.platform == platform)
        per: dict[str, Counter[str]] = {}
        for plat, action, n in conn.execute(q):
            per.setdefault(plat, Counter())[action] += n
        for plat, counts in sorted(per.items()):
            sk = [strike_from_row(r) for r in conn.execute(
                select(strikes).where(strikes.c.platform == plat, strikes.c.account == account)
                .order_by(strikes.c.at)).mappings()]
            sc = apply_lifts(conn, [sanction_from_row(r) for r in conn.execute(
                select(sanctions).where(sanctions.c.platform == plat,
                                        sanctions.c.account == account)
                .order_by(sanctions.c.at)).mappings()])
            out.append(Account(
                platform=plat, id=account, items=sum(counts.values()),
                items_by_action=dict(counts),
                strike_points=round(decayed_points(sk, now, half_life_days), 3),
                status=account_status(sc, now), strikes=sk, sanctions=sc,
            ))
    return out


def account_dict(a: Account, now: datetime) -> dict[str, Any]:
    """An account's standing as JSON-ready data."""
    return {
        "platform": a.platform,
        "account": a.id,
        "status": a.status,
        "items": a.items,
        "items_by_action": a.items_by_action,
        "strike_points_now": a.strike_points,
        "strikes": [{"item": s.item_id, "category": s.category, "weight": s.weight,
                     "at": _iso(s.at)} for s in a.strikes],
        "sanctions": [{"kind": s.kind, "step": s.step, "at": _iso(s.at),
                       "expires_at": _iso(s.expires_at), "in_force": s.in_force(now),
                       "reason": s.reason} for s in a.sanctions],
    }
