"""The audit log: append-only, hash-chained, covering every recorded row.

Each entry names a row (``kind``, ``ref``) and the digest of its content; its ``hash`` is
``sha256(prev_hash | seq | kind | ref | digest | at)``. ``verify`` walks the chain and then
recomputes the digest of every row the log covers, so an edited or deleted log entry, an
edited or deleted row, and a row inserted behind Vigil's back are all found.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, select

from vigil.store.tables import LOGGED, audit_log, log_head

GENESIS = "0" * 64

# built once (every audit appends): SQLAlchemy skips rebuilding them and their cache keys
_HEAD = select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1).with_for_update()
_APPEND = audit_log.insert()
_MOVE_HEAD = log_head.update().where(log_head.c.id == 1).values(
    seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def utc(dt: datetime | None) -> datetime | None:
    """Times are stored as UTC; a naive time read back (SQLite) is UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _canon(v: Any) -> str:
    """A value as text, the same before insert and after reading back from either
    database (SQLite returns naive times, PostgreSQL aware ones)."""
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if v is None:
        return "\x00"
    if t is bool:
        return "T" if v else "F"
    if t is float:
        return repr(v)
    if isinstance(v, datetime):
        if v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds")  # type: ignore[no-any-return]
    return str(v)


def row_digest(row: Mapping[str, Any] | RowMapping, columns: Iterable[str]) -> str:
    """Digest of a row's content, the same whether computed before insert or read back.

    Each value is length-prefixed, so no value can bleed into its neighbour."""
    parts = []
    for c in columns:
        s = _canon(row[c])
        parts.append(f"{len(s)}:{s}")
    blob = "|".join(parts)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def ref_of(kind: str, row: Mapping[str, Any] | RowMapping) -> str:
    _, keys = LOGGED[kind]
    return "/".join(str(row[k]) for k in keys)


def entry_hash(prev: str, seq: int, kind: str, ref: str, digest: str, at: datetime) -> str:
    blob = f"{prev}|{seq}|{kind}|{ref}|{digest}|{_canon(at)}"
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def lock_head(conn: Connection) -> tuple[int, str]:
    """Lock the chain head for this transaction and return (last seq, last hash)."""
    row = conn.execute(_HEAD).first()
    if row is None:
        conn.execute(log_head.insert().values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(row.seq), str(row.hash)


def append(
    conn: Connection, entries: Sequence[tuple[str, Mapping[str, Any]]], at: datetime
) -> int:
    """Append one entry per (kind, row) in order, in the caller's transaction."""
    if not entries:
        return 0
    seq, prev = lock_head(conn)
    rows = []
    for kind, row in entries:
        table, _ = LOGGED[kind]
        seq += 1
        ref = ref_of(kind, row)
        digest = row_digest(row, table.columns.keys())
        h = entry_hash(prev, seq, kind, ref, digest, at)
        rows.append(
            {"seq": seq, "at": at, "kind": kind, "ref": ref, "digest": digest,
             "prev_hash": prev, "hash": h}
        )
        prev = h
    conn.execute(_APPEND, rows)
    conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return len(rows)


@dataclass(slots=True)
class Verification:
    """What ``verify`` found. ``ok`` when nothing is wrong; ``problems`` are in log order,
    the first one first."""

    entries: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection, *, limit: int = 20) -> Verification:
    """Check the chain and every logged row. Stops collecting after ``limit`` problems."""
    out = Verification()
    expected: dict[tuple[str, str], tuple[int, str]] = {}
    prev, want_seq = GENESIS, 1
    q = select(audit_log).order_by(audit_log.c.seq).execution_options(yield_per=5000)
    for e in conn.execute(q):
        out.entries += 1
        if e.seq != want_seq:
            out.problems.append(
                f"log entry #{want_seq} is missing (next entry is #{e.seq}): log rows deleted"
            )
            want_seq = e.seq
        if e.prev_hash != prev:
            out.problems.append(
                f"log entry #{e.seq} ({e.kind} {e.ref}) does not link to the entry before it"
            )
        at = utc(e.at)
        assert at is not None
        if entry_hash(e.prev_hash, e.seq, e.kind, e.ref, e.digest, at) != e.hash:
            out.problems.append(f"log entry #{e.seq} ({e.kind} {e.ref}) was edited")
        prev, want_seq = e.hash, want_seq + 1
        expected[(e.kind, e.ref)] = (e.seq, e.digest)
        if len(out.problems) >= limit:
            return out
    head = conn.execute(select(log_head.c.seq, log_head.c.hash)).first()
    if head is not None and (head.seq != want_seq - 1 or head.hash != prev):
        out.problems.append(
            f"the log ends at #{want_seq - 1} but its head says #{head.seq}: "
            "the newest entries were deleted"
        )
    bad: list[tuple[int, str]] = []
    for kind, (table, _) in LOGGED.items():
        cols = table.columns.keys()
        for row in conn.execute(select(table).execution_options(yield_per=5000)).mappings():
            out.rows += 1
            ref = ref_of(kind, row)
            want = expected.pop((kind, ref), None)
            if want is None:
                bad.append((1 << 62, f"{kind} {ref} is not in the audit log: inserted by hand"))
            elif row_digest(row, cols) != want[1]:
                bad.append((want[0], f"{kind} {ref} (log entry #{want[0]}) was edited"))
    for (kind, ref), (seq, _) in expected.items():
        bad.append((seq, f"{kind} {ref} (log entry #{seq}) was deleted"))
    bad.sort()
    out.problems.extend(msg for _, msg in bad[: max(0, limit - len(out.problems))])
    return out
