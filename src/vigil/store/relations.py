"""Relations between items in the store: near-duplicate fingerprints, artefact members,
coordinated-posting clusters (see ``vigil.relations``). Written in a batch's transaction;
every change to a cluster is a logged action."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, select, union_all, update

from vigil.items import Item, Media
from vigil.relations import Member, RelationPlan, cluster_id
from vigil.store import auditlog
from vigil.store.auditlog import utc
from vigil.store.tables import cluster_members, clusters, fingerprints, items

CHUNK = 500


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


# Built once: SQLAlchemy otherwise rebuilds each expression and its cache key per call,
# which costs about as much as running a one-row statement.
_STORED = union_all(*(
    select(t.c.item_id).where(t.c.platform == bindparam("platform"),
                              t.c.item_id.in_(bindparam("ids", expanding=True)))
    for t in (fingerprints, cluster_members))).limit(1)
_DELETE = [delete(t).where(t.c.platform == bindparam("platform"),
                           t.c.item_id.in_(bindparam("ids", expanding=True)))
           for t in (fingerprints, cluster_members)]
_INSERT_FINGERPRINTS = fingerprints.insert()
_INSERT_MEMBERS = cluster_members.insert()
_FLAG = update(cluster_members).where(
    cluster_members.c.platform == bindparam("w_platform"),
    cluster_members.c.key == bindparam("w_key"),
    cluster_members.c.item_id == bindparam("w_item_id")).values(flagged=True)
_STATS = select(func.count(func.distinct(cluster_members.c.account)), func.count(),
                func.min(cluster_members.c.at), func.max(cluster_members.c.at)).where(
    cluster_members.c.platform == bindparam("platform"),
    cluster_members.c.key == bindparam("key"), cluster_members.c.flagged.is_(True))
_CLUSTER = select(clusters).where(clusters.c.id == bindparam("id"))
_INSERT_CLUSTER = clusters.insert()
_UPDATE_CLUSTER = update(clusters).where(clusters.c.id == bindparam("w_id"))
_MEMBERS = select(cluster_members).where(
    cluster_members.c.platform == bindparam("platform"),
    cluster_members.c.key.in_(bindparam("keys", expanding=True)),
    cluster_members.c.at >= bindparam("lo"), cluster_members.c.at <= bindparam("hi"))


def write(conn: Connection, plan: RelationPlan, now: datetime) -> None:
    """Write what a batch's relation plan holds, in the caller's transaction."""
    by_platform: dict[str, list[str]] = {}
    for row in plan.fingerprints:
        by_platform.setdefault(row["platform"], []).append(row["item_id"])
    for platform, ids in by_platform.items():
        for chunk in _chunks(ids):
            params = {"platform": platform, "ids": list(chunk)}
            # an item stored before has rows to replace; a new one (most) has none, and
            # one probe costs less than the deletes
            if conn.execute(_STORED, params).first() is not None:
                for stmt in _DELETE:
                    conn.execute(stmt, params)
    for chunk in _chunks(plan.fingerprints):
        conn.execute(_INSERT_FINGERPRINTS, list(chunk))
    for chunk in _chunks(plan.members):
        conn.execute(_INSERT_MEMBERS, list(chunk))
    if plan.flag:
        conn.execute(_FLAG, [{"w_platform": platform, "w_key": key, "w_item_id": item_id}
                             for platform, key, item_id in plan.flag])
    log: list[tuple[str, dict[str, Any]]] = []
    for platform, key in dict.fromkeys(plan.clusters):
        stats = conn.execute(_STATS, {"platform": platform, "key": key}).one()
        if not stats[1]:
            continue
        cid = cluster_id(platform, key)
        row = {"id": cid, "platform": platform, "kind": key.split(":", 1)[0], "key": key,
               "accounts": int(stats[0]), "items": int(stats[1]), "first_at": utc(stats[2]),
               "last_at": utc(stats[3]), "window_hours": plan.window_hours,
               "policy_version": plan.policy_version, "detected_at": now}
        before = conn.execute(_CLUSTER, {"id": cid}).mappings().first()
        if before is None:
            conn.execute(_INSERT_CLUSTER, [row])
        else:
            row["detected_at"] = utc(before["detected_at"])
            unchanged = all(utc(before[k]) == row[k] if isinstance(row[k], datetime)
                            else before[k] == row[k] for k in row)
            if unchanged:
                continue
            conn.execute(_UPDATE_CLUSTER, {**row, "w_id": cid})
        log.append(("cluster", row))
    auditlog.append(conn, log, now)


def fingerprint_rows(conn: Connection, platform: str) -> Iterator[Any]:
    q = (select(fingerprints.c.item_id, fingerprints.c.account, fingerprints.c.at,
                fingerprints.c.scheme, fingerprints.c.size, fingerprints.c.sig,
                fingerprints.c.root)
         .where(fingerprints.c.platform == platform)
         .order_by(fingerprints.c.at, fingerprints.c.item_id)
         .execution_options(yield_per=20_000))
    yield from conn.execute(q)


def members(conn: Connection, platform: str, keys: Sequence[str], lo: datetime,
            hi: datetime) -> list[Member]:
    out: list[Member] = []
    for chunk in _chunks(keys):
        params = {"platform": platform, "keys": list(chunk), "lo": lo, "hi": hi}
        for r in conn.execute(_MEMBERS, params).mappings():
            at = utc(r["at"])
            assert at is not None
            out.append(Member(r["key"], r["item_id"], r["account"], at, bool(r["flagged"])))
    return out


def _media(refs: str | None) -> tuple[Media, ...]:
    out = []
    for ref in json.loads(refs) if refs else []:
        kind, _, val = ref.partition(":")
        if kind == "path":
            out.append(Media(path=val))
        elif kind == "url":
            out.append(Media(url=val))
    return tuple(out)


def load_items(conn: Connection, keys: Sequence[tuple[str, str]]) -> list[Item]:
    """Stored items by (platform, id), as audited (media kept by reference; media given as
    bytes are not kept, so they are not looked at again)."""
    out: list[Item] = []
    grouped: dict[str, list[str]] = {}
    for platform, item_id in keys:
        grouped.setdefault(platform, []).append(item_id)
    for platform, ids in grouped.items():
        for chunk in _chunks(ids):
            q = select(items).where(items.c.platform == platform,
                                    items.c.external_id.in_(chunk))
            out.extend(_item(r) for r in conn.execute(q).mappings())
    return out


def _item(r: Any) -> Item:
    return Item(id=r["external_id"], account=r["account"], text=r["text"],
                platform=r["platform"], created_at=utc(r["created_at"]), lang=r["lang"],
                url=r["url"], reach=r["reach"], media=_media(r["media"]), kind=r["kind"],
                reply_to=r["reply_to"])


def list_clusters(conn: Connection, platform: str | None = None, kind: str | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    q = select(clusters).order_by(clusters.c.accounts.desc(), clusters.c.last_at.desc())
    if platform:
        q = q.where(clusters.c.platform == platform)
    if kind:
        q = q.where(clusters.c.kind == kind)
    return [dict(r) for r in conn.execute(q.limit(limit)).mappings()]


def cluster_detail(conn: Connection, cid: str) -> tuple[dict[str, Any], list[dict[str, Any]]
                                                        ] | None:
    head = conn.execute(select(clusters).where(clusters.c.id == cid)).mappings().first()
    if head is None:
        return None
    q = (select(cluster_members.c.item_id, cluster_members.c.account, cluster_members.c.at,
                items.c.action, items.c.text)
         .join(items, and_(items.c.platform == cluster_members.c.platform,
                           items.c.external_id == cluster_members.c.item_id), isouter=True)
         .where(cluster_members.c.platform == head["platform"],
                cluster_members.c.key == head["key"], cluster_members.c.flagged.is_(True))
         .order_by(cluster_members.c.at))
    return dict(head), [dict(r) for r in conn.execute(q).mappings()]


def item_ids(conn: Connection, platform: str) -> list[str]:
    """A platform's item ids, oldest first."""
    q = (select(items.c.external_id).where(items.c.platform == platform)
         .order_by(items.c.created_at, items.c.external_id))
    return [i for (i,) in conn.execute(q)]


def platforms(conn: Connection) -> list[str]:
    return [p for (p,) in conn.execute(select(items.c.platform).distinct()
                                       .order_by(items.c.platform))]
