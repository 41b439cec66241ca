"""Webhook configuration and the delivery outbox (see ``vigil.webhooks``). Deliveries are
written in the transaction of the decision they report, so a crash between deciding and
notifying loses nothing; the worker delivers and retries them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from vigil.audit import _id
from vigil.store.auditlog import utc
from vigil.store.tables import deliveries, webhooks

ITEM_EVENTS = {"label": "item.labelled", "restrict": "item.restricted",
               "remove": "item.removed", "reinstate": "item.reinstated",
               "uphold": "appeal.upheld"}
ACCOUNT_EVENTS = {"warn": "account.sanctioned", "restrict": "account.sanctioned",
                  "suspend": "account.sanctioned", "shut_down": "account.sanctioned",
                  "lift": "sanction.lifted", "expire": "sanction.expired",
                  "uphold": "appeal.upheld"}


def event_of(row: dict[str, Any]) -> str | None:
    table = ITEM_EVENTS if row["kind"] == "item" else ACCOUNT_EVENTS
    return table.get(row["action"])


def enqueue(conn: Connection, decision_rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Outbox rows for the decisions a platform with a webhook must hear about."""
    platforms = {r["platform"] for r in decision_rows if event_of(r)}
    if not platforms:
        return 0
    hooked = set(conn.execute(select(webhooks.c.platform).where(
        webhooks.c.platform.in_(sorted(platforms)))).scalars())
    rows = []
    for r in decision_rows:
        event = event_of(r)
        if event is None or r["platform"] not in hooked:
            continue
        reasons = json.loads(r["reasons"]) if isinstance(r["reasons"], str) else r["reasons"]
        did = _id(r["id"], event)
        payload = {
            "id": did, "event": event, "platform": r["platform"],
            "decision": {"id": r["id"], "kind": r["kind"], "action": r["action"],
                         "category": r["category"], "rule": r["rule"],
                         "item_id": r["item_id"], "account": r["account"],
                         "automated": bool(r["automated"]), "reverses": r.get("reverses"),
                         "at": utc(r["at"]).isoformat() if r["at"] else None,  # type: ignore[union-attr]
                         "expires_at": reasons.get("expires_at")},
            "notice": f"/v1/decisions/{r['id']}/notice",
        }
        rows.append({"id": did, "platform": r["platform"], "event": event,
                     "decision_id": r["id"], "payload": json.dumps(payload, sort_keys=True),
                     "status": "pending", "attempts": 0, "next_at": now, "last_error": None,
                     "created_at": now, "delivered_at": None})
    if rows:
        conn.execute(deliveries.insert(), rows)
    return len(rows)


def set_webhook(conn: Connection, platform: str, url: str, secret: str, now: datetime) -> None:
    conn.execute(delete(webhooks).where(webhooks.c.platform == platform))
    conn.execute(webhooks.insert(), [{"platform": platform, "url": url, "secret": secret,
                                      "created_at": now}])


def webhook(conn: Connection, platform: str) -> dict[str, Any] | None:
    r = conn.execute(select(webhooks.c.platform, webhooks.c.url, webhooks.c.created_at)
                     .where(webhooks.c.platform == platform)).mappings().first()
    return None if r is None else dict(r)


def due(conn: Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
    q = (select(deliveries, webhooks.c.url, webhooks.c.secret)
         .join(webhooks, webhooks.c.platform == deliveries.c.platform)
         .where(deliveries.c.status == "pending", deliveries.c.next_at <= now)
         .order_by(deliveries.c.next_at, deliveries.c.id).limit(limit))
    return [dict(r) for r in conn.execute(q).mappings()]


def mark(conn: Connection, delivery_id: str, **values: Any) -> None:
    conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))


def listing(conn: Connection, platforms: Sequence[str], status: str | None, limit: int
            ) -> list[dict[str, Any]]:
    q = select(deliveries).where(deliveries.c.platform.in_(list(platforms)))
    if status:
        q = q.where(deliveries.c.status == status)
    q = q.order_by(deliveries.c.created_at.desc(), deliveries.c.id).limit(limit)
    out = []
    for r in conn.execute(q).mappings():
        d = dict(r)
        for k in ("next_at", "created_at", "delivered_at"):
            d[k] = utc(d[k])
        d["payload"] = json.loads(d["payload"])
        out.append(d)
    return out


def counts(conn: Connection, platform: str | None = None) -> dict[str, int]:
    q = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
    if platform:
        q = q.where(deliveries.c.platform == platform)
    return {s: int(n) for s, n in conn.execute(q)}
