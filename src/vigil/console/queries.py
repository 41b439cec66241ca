"""Read queries behind the console's review pages: the queue with its filters, one item
with its decisions, an account's history, near-duplicates and clusters of an item.

Each takes a read connection (``store.read()``) and the platforms the viewer covers
(``None``: every platform)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, true

from vigil.store.auditlog import utc
from vigil.store.review import apply_lifts
from vigil.store.tables import (
    cases,
    cluster_members,
    clusters,
    decisions,
    fingerprints,
    items,
    sanctions,
    strikes,
)

#: Where a case came from, as the queue filters name it.
SOURCES = ("review", "report", "trusted", "appeal")
#: Age filters: (name, label, older than, younger than).
AGES: dict[str, tuple[str, timedelta | None, timedelta | None]] = {
    "lt1h": ("waiting under an hour", None, timedelta(hours=1)),
    "lt1d": ("waiting under a day", None, timedelta(days=1)),
    "gt1d": ("waiting over a day", timedelta(days=1), None),
    "gt7d": ("waiting over a week", timedelta(days=7), None),
}
SNIPPET = 160


def _in(col: ColumnElement[str], scope: Sequence[str] | None) -> ColumnElement[bool]:
    return col.in_(list(scope)) if scope is not None else true()


def _case(r: Any) -> dict[str, Any]:
    d = dict(r)
    for k in ("locked_until", "created_at", "closed_at"):
        if k in d:
            d[k] = utc(d[k])
    d["trusted"] = bool(d["trusted"])
    return d


def queue(conn: Connection, scope: Sequence[str] | None, now: datetime | None = None, *,
          category: str | None = None, source: str | None = None, age: str | None = None,
          status: str = "open", kind: str | None = None, limit: int = 100
          ) -> list[dict[str, Any]]:
    """Cases, trusted flaggers first, then priority, then age (as ``store.cases``), with
    the item's text for a preview."""
    q = (select(cases, items.c.text.label("item_text"), items.c.action.label("item_action"))
         .join(items, and_(items.c.platform == cases.c.platform,
                           items.c.external_id == cases.c.item_id), isouter=True)
         .where(cases.c.status == status, _in(cases.c.platform, scope)))
    if category:
        q = q.where(cases.c.category == category)
    if kind:
        q = q.where(cases.c.kind == kind)
    if source == "trusted":
        q = q.where(cases.c.trusted.is_(True))
    elif source == "report":
        q = q.where(cases.c.kind == "report", cases.c.trusted.is_(False))
    elif source in ("review", "appeal"):
        q = q.where(cases.c.kind == source)
    if age in AGES and now is not None:
        _, older, younger = AGES[age]
        if older is not None:
            q = q.where(cases.c.created_at <= now - older)
        if younger is not None:
            q = q.where(cases.c.created_at > now - younger)
    order = ([cases.c.closed_at.desc()] if status == "closed" else
             [cases.c.trusted.desc(), cases.c.priority.desc(), cases.c.created_at])
    q = q.order_by(*order, cases.c.id).limit(limit)
    out = []
    for r in conn.execute(q).mappings():
        d = _case(r)
        d["source"] = ("trusted" if d["trusted"] else d["kind"])
        d["item_text"] = (d["item_text"] or "")[:SNIPPET]
        out.append(d)
    return out


def queue_categories(conn: Connection, scope: Sequence[str] | None) -> list[str]:
    q = (select(cases.c.category).distinct()
         .where(cases.c.status == "open", cases.c.category.is_not(None),
                _in(cases.c.platform, scope)).order_by(cases.c.category))
    return [c for (c,) in conn.execute(q)]


def neighbours(conn: Connection, scope: Sequence[str] | None, case_id: str,
               limit: int = 500) -> tuple[str | None, str | None]:
    """The open cases before and after ``case_id`` in the viewer's queue order."""
    ids = [c["id"] for c in queue(conn, scope, limit=limit)]
    if case_id not in ids:
        return None, ids[0] if ids else None
    i = ids.index(case_id)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)


def _decision(r: Any) -> dict[str, Any]:
    d = dict(r)
    d["at"] = utc(d["at"])
    d["automated"] = bool(d["automated"])
    d["reasons"] = json.loads(d["reasons"])
    return d


def item(conn: Connection, platform: str, item_id: str) -> dict[str, Any] | None:
    r = conn.execute(select(items).where(items.c.platform == platform,
                                         items.c.external_id == item_id)).mappings().first()
    if r is None:
        return None
    d = dict(r)
    d["scores"] = json.loads(d["scores"])
    d["media"] = json.loads(d["media"]) if d["media"] else []
    d["created_at"], d["audited_at"] = utc(d["created_at"]), utc(d["audited_at"])
    return d


def item_decisions(conn: Connection, platform: str, item_id: str) -> list[dict[str, Any]]:
    q = (select(decisions).where(decisions.c.platform == platform,
                                 decisions.c.item_id == item_id)
         .order_by(decisions.c.at, decisions.c.id))
    return [_decision(r) for r in conn.execute(q).mappings()]


def evidence_of(found: dict[str, Any], ds: Sequence[dict[str, Any]]
                ) -> tuple[list[tuple[int, int, str]], list[dict[str, Any]],
                           list[dict[str, Any]]]:
    """From the decisions about an item as it reads now (same content hash): the spans
    to highlight (start, end, note), the evidence without a span, and the signals."""
    spans: dict[tuple[int, int, str], None] = {}
    refs: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in ds:
        reasons = d["reasons"]
        if reasons.get("content_hash") not in (None, found["content_hash"]):
            continue  # offsets of an earlier version of the text
        for e in reasons.get("evidence", []):
            note = f"{e.get('category', '')}: {e.get('note') or e.get('detector', '')}"
            if isinstance(e.get("start"), int) and isinstance(e.get("end"), int):
                spans[(e["start"], e["end"], note)] = None
            key = json.dumps(e, sort_keys=True)
            if e.get("ref") and key not in seen:
                seen.add(key)
                refs.append(e)
        for s in reasons.get("signals", []):
            key = json.dumps([s.get("category"), s.get("detector"), s.get("score")])
            if key not in seen:
                seen.add(key)
                signals.append(s)
    return list(spans), refs, signals


def near_duplicates(conn: Connection, platform: str, item_id: str,
                    refs: Sequence[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """Items of the same near-identical text group (fingerprint root), and the originals
    the plagiarism evidence names."""
    ids: dict[str, str] = {}
    for e in refs:
        ref = e.get("ref") or {}
        if e.get("category") == "plagiarism" and ref.get("item"):
            ids[str(ref["item"])] = "original"
    root = conn.execute(select(fingerprints.c.root).where(
        fingerprints.c.platform == platform, fingerprints.c.item_id == item_id)).scalar()
    if root is not None:
        q = (select(fingerprints.c.item_id).where(
            fingerprints.c.platform == platform,
            or_(fingerprints.c.root == root, fingerprints.c.item_id == root),
            fingerprints.c.item_id != item_id).order_by(fingerprints.c.at).limit(limit))
        for (other,) in conn.execute(q):
            ids.setdefault(other, "near-identical text")
    if not ids:
        return []
    q = select(items.c.external_id, items.c.account, items.c.text, items.c.action,
               items.c.created_at).where(items.c.platform == platform,
                                         items.c.external_id.in_(list(ids)))
    out = []
    for r in conn.execute(q).mappings():
        d = dict(r)
        d["how"] = ids[d["external_id"]]
        d["created_at"] = utc(d["created_at"])
        d["text"] = d["text"][:SNIPPET]
        out.append(d)
    out.sort(key=lambda d: (d["how"] != "original", d["created_at"] or datetime.min))
    return out


def item_clusters(conn: Connection, platform: str, item_id: str) -> list[dict[str, Any]]:
    q = (select(clusters).join(cluster_members, and_(
        cluster_members.c.platform == clusters.c.platform,
        cluster_members.c.key == clusters.c.key))
        .where(cluster_members.c.platform == platform, cluster_members.c.item_id == item_id)
        .distinct())
    return [dict(r) for r in conn.execute(q).mappings()]


def account(conn: Connection, platform: str, account_id: str, limit: int = 100
            ) -> dict[str, Any] | None:
    """An account's items (newest first), decisions, strikes and sanctions (as in force)."""
    from vigil.store import sanction_from_row, strike_from_row

    n = conn.execute(select(func.count()).select_from(items).where(
        items.c.platform == platform, items.c.account == account_id)).scalar_one()
    ds = [_decision(r) for r in conn.execute(
        select(decisions).where(decisions.c.platform == platform,
                                decisions.c.account == account_id)
        .order_by(decisions.c.at.desc(), decisions.c.id).limit(limit)).mappings()]
    if not n and not ds:
        return None
    by_action: dict[str, int] = dict(conn.execute(select(items.c.action, func.count()).where(
        items.c.platform == platform, items.c.account == account_id)
        .group_by(items.c.action)).all())
    recent = []
    for r in conn.execute(select(items.c.external_id, items.c.text, items.c.action,
                                 items.c.category, items.c.review, items.c.created_at)
                          .where(items.c.platform == platform, items.c.account == account_id)
                          .order_by(items.c.created_at.desc()).limit(limit)).mappings():
        d = dict(r)
        d["created_at"] = utc(d["created_at"])
        d["text"] = d["text"][:SNIPPET]
        recent.append(d)
    st = [strike_from_row(r) for r in conn.execute(select(strikes).where(
        strikes.c.platform == platform, strikes.c.account == account_id)
        .order_by(strikes.c.at)).mappings()]
    sn = apply_lifts(conn, [sanction_from_row(r) for r in conn.execute(select(sanctions).where(
        sanctions.c.platform == platform, sanctions.c.account == account_id)
        .order_by(sanctions.c.at)).mappings()])
    return {"platform": platform, "account": account_id, "items": int(n),
            "by_action": {str(k): int(v) for k, v in by_action.items()}, "recent": recent,
            "decisions": ds, "strikes": st, "sanctions": sn}


def appealed(conn: Connection, decision_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The decisions appeals are about, by id."""
    if not decision_ids:
        return {}
    q = select(decisions).where(decisions.c.id.in_(list(decision_ids)))
    return {r["id"]: _decision(r) for r in conn.execute(q).mappings()}
