"""The audit log as the console pages it: newest first, each entry with the platform and
a short description of the row it covers, limited to what the viewer may see.

An entry's platform comes from its row: items name it in their reference
(``platform/id``), decisions, strikes, sanctions, cases and clusters in their table, a
lift through its sanction. Policy versions and fact-check claims are shared by every
platform and shown to everyone; API keys, users and sweeps only to a viewer covering
every platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from vigil.store.auditlog import utc
from vigil.store.tables import (
    audit_log,
    cases,
    clusters,
    decisions,
    sanction_lifts,
    sanctions,
    strikes,
)

SHARED = ("policy", "claim")
BY_ID = {"decision": decisions, "strike": strikes, "sanction": sanctions, "case": cases,
         "cluster": clusters}
SCAN = 2000  # entries read per page at most, for a viewer of a few platforms


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at: datetime
    kind: str
    ref: str
    digest: str
    hash: str
    platform: str | None
    what: str
    link: str | None


def _describe(kind: str, ref: str, row: dict[str, Any] | None) -> tuple[str, str | None]:
    if kind == "item":
        _platform, _, item_id = ref.partition("/")
        return f"item {item_id}", None
    if row is None:
        return ref, None
    if kind == "decision":
        who = "automated" if row["automated"] else row["actor"]
        what = f"{row['action']} {row['category'] or ''} by {who}".replace("  ", " ")
        return what, f"/accounts/{row['platform']}/{row['account']}"
    if kind in ("strike", "sanction"):
        label = row["kind"] if kind == "sanction" else f"strike {row['category']}"
        return f"{label} on {row['account']}", f"/accounts/{row['platform']}/{row['account']}"
    if kind == "case":
        return f"{row['kind']} case {row['status']}", f"/cases/{row['id']}"
    if kind == "cluster":
        return f"{row['kind']} cluster of {row['accounts']} accounts", f"/clusters/{row['id']}"
    return ref, None


def _rows(conn: Connection, entries: Sequence[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The rows behind ``entries`` that hold a platform, by (kind, ref)."""
    wanted: dict[str, list[str]] = {}
    for e in entries:
        if e.kind in BY_ID or e.kind == "lift":
            wanted.setdefault(e.kind, []).append(e.ref)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, refs in wanted.items():
        if kind == "lift":
            q = (select(sanction_lifts.c.sanction_id.label("ref"), sanctions.c.platform,
                        sanctions.c.account, sanctions.c.kind)
                 .join(sanctions, sanctions.c.id == sanction_lifts.c.sanction_id)
                 .where(sanction_lifts.c.sanction_id.in_(refs)))
        else:
            table = BY_ID[kind]
            q = select(table.c.id.label("ref"), table).where(table.c.id.in_(refs))
        for r in conn.execute(q).mappings():
            found[(kind, r["ref"])] = dict(r)
    return found


def page(conn: Connection, scope: Sequence[str] | None, before: int | None,
         size: int = 50) -> tuple[list[Entry], int | None, int]:
    """Up to ``size`` entries older than ``before`` (newest first); returns them, the
    cursor of the next (older) page or None, and the newest entry's number."""
    newest = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc())
                          .limit(1)).scalar() or 0
    out: list[Entry] = []
    cursor = before if before is not None else newest + 1
    scanned = 0
    while len(out) < size and cursor > 1 and scanned < SCAN:
        chunk = list(conn.execute(
            select(audit_log).where(audit_log.c.seq < cursor)
            .order_by(audit_log.c.seq.desc()).limit(size if scope is None else 200)))
        if not chunk:
            cursor = 0
            break
        rows = _rows(conn, chunk)
        for e in chunk:
            cursor = e.seq
            scanned += 1
            row = rows.get((e.kind, e.ref))
            if e.kind == "item":
                platform: str | None = e.ref.partition("/")[0]
            else:
                platform = row["platform"] if row is not None else None
            if scope is not None and not (
                    e.kind in SHARED or (platform is not None and platform in scope)):
                continue
            what, link = _describe(e.kind, e.ref, row)
            at = utc(e.at)
            assert at is not None
            out.append(Entry(e.seq, at, e.kind, e.ref, e.digest, e.hash, platform, what,
                             link))
            if len(out) == size:
                break
    return out, (cursor if cursor > 1 else None), int(newest)
