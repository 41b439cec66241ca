"""Read views for the HTTP API: an item's verdict with its decisions, one decision."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from vigil.store.auditlog import utc
from vigil.store.tables import decisions, items

CHUNK = 500


def _decision(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "platform": r["platform"], "account": r["account"],
            "item_id": r["item_id"], "kind": r["kind"], "action": r["action"],
            "category": r["category"], "rule": r["rule"],
            "policy_version": r["policy_version"], "automated": bool(r["automated"]),
            "actor": r["actor"], "at": utc(r["at"]), "reverses": r["reverses"],
            "reasons": json.loads(r["reasons"])}


def verdict(row: Any, decision_rows: Sequence[Any]) -> dict[str, Any]:
    """An item's verdict as :func:`item_verdicts` reads it back, from its ``items`` row and
    the rows of its decisions (oldest first), as written or as read."""
    return {"id": row["external_id"], "platform": row["platform"], "account": row["account"],
            "action": row["action"], "review": bool(row["review"]),
            "category": row["category"], "scores": json.loads(row["scores"]),
            "content_hash": row["content_hash"], "policy_version": row["policy_version"],
            "audited_at": utc(row["audited_at"]),
            "decisions": [_decision(d) for d in decision_rows]}


def item_verdicts(conn: Connection, platform: str, ids: Sequence[str]
                  ) -> dict[str, dict[str, Any]]:
    """The stored verdict of each of ``ids`` on ``platform`` (absent ones are left out),
    with the decisions about it, oldest first."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = list(ids[i : i + CHUNK])
        q = select(items.c.external_id, items.c.platform, items.c.account, items.c.action,
                   items.c.review, items.c.category, items.c.scores, items.c.content_hash,
                   items.c.policy_version, items.c.audited_at).where(
            items.c.platform == platform, items.c.external_id.in_(chunk))
        for r in conn.execute(q).mappings():
            out[r["external_id"]] = verdict(r, ())
        q = select(decisions).where(decisions.c.platform == platform,
                                    decisions.c.item_id.in_(chunk)).order_by(decisions.c.at)
        for r in conn.execute(q).mappings():
            if r["item_id"] in out:
                out[r["item_id"]]["decisions"].append(_decision(r))
    return out


def decision(conn: Connection, decision_id: str) -> dict[str, Any] | None:
    r = conn.execute(select(decisions).where(decisions.c.id == decision_id)).mappings().first()
    return None if r is None else _decision(r)
