"""The fact-check base in the store: import (idempotent), list, remove, and the claims'
embeddings. Every change to a claim is a logged action: removal keeps the row (with
``removed_at``) so the log still covers what earlier decisions matched."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select, update

from vigil.claims.base import FactCheck
from vigil.store import auditlog
from vigil.store.tables import claim_vectors, claims

CHUNK = 500


@dataclass(slots=True)
class ImportTally:
    """What an import did: ``new`` claims, ``updated`` (text or rating changed, or a removed
    claim brought back), ``unchanged``, ``duplicates`` (the same id twice in one file; the
    last one wins)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0


def _row(fc: FactCheck, now: datetime) -> dict[str, Any]:
    return {
        "claim_id": fc.claim_id, "text": fc.text, "rating": fc.rating,
        "rating_text": fc.rating_text, "publisher": fc.publisher, "url": fc.url,
        "title": fc.title, "reviewed": fc.reviewed, "lang": fc.lang, "source": fc.source,
        "content_hash": fc.content_hash, "imported_at": now, "removed_at": None,
    }


def from_row(r: Any) -> FactCheck:
    reviewed = r["reviewed"]
    if isinstance(reviewed, datetime):
        reviewed = reviewed.date()
    return FactCheck(
        claim_id=r["claim_id"], text=r["text"], rating=r["rating"],
        rating_text=r["rating_text"], publisher=r["publisher"], url=r["url"],
        title=r["title"], reviewed=reviewed if isinstance(reviewed, date) else None,
        lang=r["lang"], source=r["source"],
    )


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def import_claims(conn: Connection, facts: Iterable[FactCheck], now: datetime,
                  tally: ImportTally) -> None:
    """Insert new claims and update changed ones (logged) in the caller's transaction."""
    latest: dict[str, FactCheck] = {}
    for fc in facts:
        if fc.claim_id in latest:
            tally.duplicates += 1
        latest[fc.claim_id] = fc
    ids = list(latest)
    known: dict[str, tuple[str, bool]] = {}
    for chunk in _chunks(ids):
        q = select(claims.c.claim_id, claims.c.content_hash, claims.c.removed_at
                   ).where(claims.c.claim_id.in_(chunk))
        for cid, h, removed in conn.execute(q):
            known[cid] = (h, removed is not None)
    new_rows, changed_rows = [], []
    for cid, fc in latest.items():
        row = _row(fc, now)
        before = known.get(cid)
        if before is None:
            new_rows.append(row)
        elif before[0] != row["content_hash"] or before[1]:
            changed_rows.append(row)
        else:
            tally.unchanged += 1
    if new_rows:
        for chunk in _chunks(new_rows):
            conn.execute(claims.insert(), list(chunk))
    for row in changed_rows:
        conn.execute(update(claims).where(claims.c.claim_id == row["claim_id"]).values(**row))
    auditlog.append(conn, [("claim", r) for r in (*new_rows, *changed_rows)], now)
    tally.new += len(new_rows)
    tally.updated += len(changed_rows)


def remove_claims(conn: Connection, ids: Sequence[str], now: datetime) -> list[str]:
    """Mark claims removed (logged); returns the ids that were active."""
    rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        q = select(claims).where(claims.c.claim_id.in_(chunk), claims.c.removed_at.is_(None))
        rows.extend(dict(r) for r in conn.execute(q).mappings())
    for row in rows:
        row["removed_at"] = now
        conn.execute(update(claims).where(claims.c.claim_id == row["claim_id"])
                     .values(removed_at=now))
    auditlog.append(conn, [("claim", r) for r in rows], now)
    return [r["claim_id"] for r in rows]


def list_claims(conn: Connection, *, rating: Sequence[str] = (), lang: str | None = None,
                search: str | None = None, removed: bool = False, limit: int | None = None,
                offset: int = 0) -> list[tuple[FactCheck, datetime | None]]:
    """Claims (with their removal time), oldest import first."""
    q = select(claims)
    if not removed:
        q = q.where(claims.c.removed_at.is_(None))
    if rating:
        q = q.where(claims.c.rating.in_(list(rating)))
    if lang:
        q = q.where(claims.c.lang == lang)
    if search:
        q = q.where(func.lower(claims.c.text).contains(search.lower(), autoescape=True))
    q = q.order_by(claims.c.imported_at, claims.c.claim_id).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    return [(from_row(r), auditlog.utc(r["removed_at"])) for r in conn.execute(q).mappings()]


def count_claims(conn: Connection) -> dict[str, int]:
    """Active claims by rating."""
    q = (select(claims.c.rating, func.count()).where(claims.c.removed_at.is_(None))
         .group_by(claims.c.rating))
    return {r: int(n) for r, n in conn.execute(q)}


def put_vectors(conn: Connection, model: str, rows: Sequence[tuple[str, str, np.ndarray]]
                ) -> None:
    """Store (claim id, text hash, vector) rows, replacing older vectors of those ids.
    A vector may be several embeddings stacked (e.g. text and title); it is kept flat."""
    ids = [r[0] for r in rows]
    for chunk in _chunks(ids):
        conn.execute(claim_vectors.delete().where(claim_vectors.c.claim_id.in_(chunk)))
    payload = [{"claim_id": cid, "text_hash": h, "model": model,
                "vector": np.asarray(v, dtype="<f2").tobytes()} for cid, h, v in rows]
    for chunk in _chunks(payload):
        conn.execute(claim_vectors.insert(), list(chunk))


def get_vectors(conn: Connection, model: str) -> dict[str, tuple[str, np.ndarray]]:
    """claim id → (text hash it was computed from, flat float32 vector) for ``model``."""
    q = select(claim_vectors.c.claim_id, claim_vectors.c.text_hash,
               claim_vectors.c.vector).where(claim_vectors.c.model == model)
    return {cid: (h, np.frombuffer(bytes(v), dtype="<f2").astype(np.float32))
            for cid, h, v in conn.execute(q.execution_options(yield_per=5000))}
