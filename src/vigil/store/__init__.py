"""The store: items, decisions, strikes, sanctions, policies and the audit log.

``Store(url)`` opens SQLite (WAL) or PostgreSQL; ``migrate()`` brings the schema to the
newest Alembic revision. Writes are batched; one transaction covers a batch's items, their
decisions, the strikes and the sanctions they trigger, and the log entries for all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from vigil.audit import AccountState, AuditResult, Decision
from vigil.claims.base import FactCheck
from vigil.errors import StoreError
from vigil.items import Item, Sanction, Strike
from vigil.policy import ACTION_RANK, Policy
from vigil.relations import Member, RelationPlan
from vigil.store import auditlog, outbox, views
from vigil.store import claims as claimstore
from vigil.store import relations as relstore
from vigil.store import review as reviewstore
from vigil.store.auditlog import Verification, utc
from vigil.store.claims import ImportTally
from vigil.store.service import ServiceRecords
from vigil.store.tables import decisions, fingerprints, items, policies, sanctions, strikes

DEFAULT_URL = "sqlite:///vigil.db"
READ_ONLY = "vigil_read_only"

# The statements every audit runs, built once: SQLAlchemy then skips building the
# expression and its cache key on each call (about half the cost of a one-row SELECT)
_EXISTING = select(items.c.external_id, items.c.content_hash, items.c.action,
                   items.c.review).where(
    items.c.platform == bindparam("platform"),
    items.c.external_id.in_(bindparam("ids", expanding=True)))
_HISTORY = {table: select(table).where(
    table.c.platform == bindparam("platform"),
    table.c.account.in_(bindparam("accounts", expanding=True))).order_by(table.c.at)
    for table in (strikes, sanctions)}
_INSERT = {table: table.insert() for table in (items, decisions, strikes, sanctions)}
_UPDATE_ITEM = update(items).where(items.c.platform == bindparam("w_platform"),
                                   items.c.external_id == bindparam("w_external_id"))


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``$VIGIL_DB``, else ``sqlite:///vigil.db``."""
    return url or os.environ.get("VIGIL_DB") or DEFAULT_URL


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # a reader: a snapshot without the write lock (WAL lets it run beside a writer)
            conn.exec_driver_sql("BEGIN")
            return
        # Take the write lock up front so the log's chain head cannot be read stale.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@dataclass(frozen=True, slots=True)
class Existing:
    content_hash: str
    action: str


class Store(ServiceRecords):
    """A Vigil store at ``url`` (SQLAlchemy URL; ``postgresql://`` uses psycopg 3)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_url(url)
        self.key_revocations = 0
        try:
            self.engine = _engine(self.url)
        except (SQLAlchemyError, ValueError) as exc:
            raise StoreError(f"cannot open store {self.url!r}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection: one consistent snapshot, never the write lock."""
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            yield conn

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest revision."""
        cfg = Config()
        cfg.set_main_option(
            "script_location", str(resources.files("vigil.store") / "migrations")
        )
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate store {self.url!r}: {exc}") from exc

    # -- writes -------------------------------------------------------------------------

    def record_policy(self, policy: Policy, now: datetime | None = None) -> bool:
        """Record a policy version the first time it is used (a logged action)."""
        now = now or datetime.now(UTC)
        with self.begin() as conn:
            if conn.execute(
                select(policies.c.version).where(policies.c.version == policy.version)
            ).first():
                return False
            row = {"version": policy.version, "name": policy.name, "source": policy.source,
                   "body": policy.text, "first_used": now}
            conn.execute(policies.insert(), [row])
            auditlog.append(conn, [("policy", row)], now)
            return True

    def record(self, results: Sequence[AuditResult], existing: dict[tuple[str, str], Existing],
               now: datetime, relations: RelationPlan | None = None,
               reaudited: frozenset[tuple[str, str]] = frozenset(),
               group: Sequence[tuple[Decision, Sanction]] = (),
               cases: Sequence[dict[str, Any]] = (),
               after: Callable[[Connection], None] | None = None,
               verdicts: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        """Write a batch's results in one transaction: items (new or edited), decisions,
        strikes, sanctions, and a log entry for each; with ``relations``, the batch's
        fingerprints, artefact members and clusters. ``reaudited`` items were audited again
        as stored (for a relation found later): their content columns stay as they are.
        ``group`` holds account decisions and sanctions not tied to one item (a cluster's
        group sanction). ``after`` runs last in the same transaction (a sweep's
        checkpoint). Once the transaction has committed, ``verdicts`` receives the
        verdict of each item stored for the first time, as :meth:`item_verdicts` would
        read it back (the API answers from it instead of reading again)."""
        new_items, changed_items = [], []
        rows: dict[str, list[dict[str, Any]]] = {"decision": [], "strike": [], "sanction": []}
        log: list[tuple[str, dict[str, Any]]] = []
        for r in results:
            row = _item_row(r, now)
            key = (r.item.platform, r.item.id)
            before = existing.get(key)
            if before is None:
                new_items.append(row)
            else:
                # an edit never undoes an action already taken; a reversal is a decision
                if ACTION_RANK.get(before.action, 0) > ACTION_RANK[row["action"]]:
                    row["action"] = before.action
                if before.action == "review":
                    row["review"] = True
                if key in reaudited:
                    # content as stored (media given as bytes cannot be rebuilt); the row
                    # is logged as it reads after the update, below
                    for col in ("media", "content_hash"):
                        row.pop(col)
                changed_items.append(row)
            if key not in reaudited:
                log.append(("item", row))
            for kind, rec in (("decision", r.decision), ("strike", r.strike),
                              ("decision", r.sanction_decision), ("sanction", r.sanction)):
                if rec is not None:
                    rrow = _ROW[kind](rec)
                    rows[kind].append(rrow)
                    log.append((kind, rrow))
        for decision, sanction in group:
            for kind, rec in (("decision", decision), ("sanction", sanction)):
                rrow = _ROW[kind](rec)
                rows[kind].append(rrow)
                log.append((kind, rrow))
        try:
            with self.begin() as conn:
                if new_items:
                    conn.execute(_INSERT[items], new_items)
                for row in changed_items:  # SET: the row's columns
                    conn.execute(_UPDATE_ITEM, {**row, "w_platform": row["platform"],
                                                "w_external_id": row["external_id"]})
                for kind, table in (("decision", decisions), ("strike", strikes),
                                    ("sanction", sanctions)):
                    if rows[kind]:
                        conn.execute(_INSERT[table], rows[kind])
                outbox.enqueue(conn, rows["decision"], now)
                for platform, chunk in _by_platform(sorted(reaudited)):  # log order fixed
                    q = select(items).where(items.c.platform == platform,
                                            items.c.external_id.in_(chunk))
                    log.extend(("item", dict(r)) for r in conn.execute(q).mappings())
                auditlog.append(conn, log, now)
                if cases:
                    reviewstore.open_item_cases(conn, list(cases), now)
                if relations is not None:
                    relstore.write(conn, relations, now)
                if after is not None:
                    after(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record batch: {exc}") from exc
        if verdicts is not None and new_items:
            # a new item's decisions are the ones written now: an item is stored with its
            # first audit, and every later decision about it comes after
            about: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for d in rows["decision"]:
                if d["item_id"] is not None:
                    about.setdefault((d["platform"], d["item_id"]), []).append(d)
            for row in new_items:
                key = (row["platform"], row["external_id"])
                verdicts[key] = views.verdict(row, about.get(key, ()))

    # -- reads --------------------------------------------------------------------------

    def existing(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Existing]:
        """Content hash and current action of the items already stored among ``keys``."""
        found: dict[tuple[str, str], Existing] = {}
        with self.read() as conn:
            for platform, chunk in _by_platform(keys):
                q = conn.execute(_EXISTING, {"platform": platform, "ids": chunk})
                for eid, h, action, review in q:
                    shown = "review" if action == "allow" and review else action
                    found[(platform, eid)] = Existing(h, shown)
        return found

    def reviewed_actions(self, keys: Sequence[tuple[str, str]]
                         ) -> dict[tuple[str, str], str]:
        """The latest reviewer (not automated) item decision of each item among ``keys``:
        the ground truth a sweep's dry run is scored against."""
        out: dict[tuple[str, str], tuple[datetime, str, str]] = {}
        with self.read() as conn:
            for platform, chunk in _by_platform(keys):
                q = select(decisions.c.item_id, decisions.c.action, decisions.c.at,
                           decisions.c.id).where(
                    decisions.c.platform == platform, decisions.c.item_id.in_(chunk),
                    decisions.c.kind == "item", decisions.c.automated.is_(False))
                for item_id, action, at, did in conn.execute(q):
                    key, when = (platform, item_id), utc(at) or at
                    if key not in out or (when, did) > (out[key][0], out[key][2]):
                        out[key] = (when, action, did)
        return {k: v[1] for k, v in out.items()}

    def account_states(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], AccountState]:
        """Strikes and sanctions of the given (platform, account) pairs."""
        states: dict[tuple[str, str], AccountState] = {}
        with self.read() as conn:
            for platform, chunk in _by_platform(set(keys)):
                for table in (strikes, sanctions):
                    q = conn.execute(_HISTORY[table], {"platform": platform,
                                                       "accounts": chunk})
                    for r in q.mappings():
                        st = states.setdefault((platform, r["account"]),
                                               AccountState(platform, r["account"]))
                        if table is strikes:
                            st.strikes.append(strike_from_row(r))
                        else:
                            st.sanctions.append(sanction_from_row(r))
            for st in states.values():
                st.sanctions = reviewstore.apply_lifts(conn, st.sanctions)
        return states

    # -- the fact-check base ----------------------------------------------------------------

    def import_claims(self, facts: Iterable[FactCheck], now: datetime | None = None
                      ) -> ImportTally:
        """Add or update fact-checked claims in one transaction; idempotent."""
        tally = ImportTally()
        try:
            with self.begin() as conn:
                claimstore.import_claims(conn, facts, now or datetime.now(UTC), tally)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot import claims: {exc}") from exc
        return tally

    def remove_claims(self, ids: Sequence[str], now: datetime | None = None) -> list[str]:
        """Mark claims removed (logged, the row is kept); returns those that were active."""
        try:
            with self.begin() as conn:
                return claimstore.remove_claims(conn, ids, now or datetime.now(UTC))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot remove claims: {exc}") from exc

    def claims(self, **filters: Any) -> list[tuple[FactCheck, datetime | None]]:
        """Claims with their removal time; see :func:`vigil.store.claims.list_claims`."""
        with self.read() as conn:
            return claimstore.list_claims(conn, **filters)

    def claim_counts(self) -> dict[str, int]:
        with self.read() as conn:
            return claimstore.count_claims(conn)

    # -- relations between items ------------------------------------------------------------

    def sanction_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are recorded sanctions."""
        found: set[str] = set()
        with self.read() as conn:
            for i in range(0, len(ids), 900):
                q = select(sanctions.c.id).where(sanctions.c.id.in_(ids[i : i + 900]))
                found.update(conn.execute(q).scalars())
        return found

    def fingerprint_rows(self, platform: str) -> Iterator[Any]:
        """Every stored near-duplicate fingerprint of a platform, oldest first."""
        with self.read() as conn:
            yield from relstore.fingerprint_rows(conn, platform)

    def cluster_members(self, platform: str, keys: Sequence[str], lo: datetime,
                        hi: datetime) -> list[Member]:
        with self.read() as conn:
            return relstore.members(conn, platform, keys, lo, hi)

    def load_items(self, keys: Sequence[tuple[str, str]]) -> list[Item]:
        with self.read() as conn:
            return relstore.load_items(conn, keys)

    def iter_items(self, platform: str, chunk: int = 2000) -> Iterator[list[Item]]:
        """A platform's stored items, oldest first, in lists of ``chunk``; each list is read
        in its own short transaction, so the caller may write between them."""
        with self.read() as conn:
            ids = relstore.item_ids(conn, platform)
        for i in range(0, len(ids), chunk):
            part = ids[i : i + chunk]
            found = {it.id: it for it in self.load_items([(platform, x) for x in part])}
            yield [found[x] for x in part if x in found]

    def digest(self, skip: Sequence[str] = ("sweeps", "sweep_items", "sweep_runs",
                                                 "alembic_version")
               ) -> dict[str, str]:
        """A SHA-256 per table of its rows in key order: two stores holding the same
        records have the same digests (a resumed sweep is checked this way)."""
        from vigil.store.tables import metadata

        out: dict[str, str] = {}
        with self.read() as conn:
            for table in metadata.sorted_tables:
                if table.name in skip:
                    continue
                h = hashlib.sha256()
                keys = list(table.primary_key.columns) or list(table.columns)
                for row in conn.execute(select(table).order_by(*keys)):
                    h.update(repr(tuple(utc(v) if isinstance(v, datetime) else v
                                        for v in row)).encode())
                    h.update(b"\n")
                out[table.name] = h.hexdigest()
        return out

    def platforms(self) -> list[str]:
        with self.read() as conn:
            return relstore.platforms(conn)

    def clear_fingerprints(self, platform: str) -> None:
        with self.begin() as conn:
            conn.execute(delete(fingerprints).where(fingerprints.c.platform == platform))

    def put_fingerprints(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            with self.begin() as conn:
                conn.execute(fingerprints.insert(), list(rows))

    def clusters(self, platform: str | None = None, kind: str | None = None,
                 limit: int = 50) -> list[dict[str, Any]]:
        with self.read() as conn:
            return relstore.list_clusters(conn, platform, kind, limit)

    def cluster(self, cid: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        with self.read() as conn:
            return relstore.cluster_detail(conn, cid)

    # -- API views ---------------------------------------------------------------------------

    def item_verdicts(self, platform: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Stored verdicts (with decisions) of ``ids`` on ``platform``."""
        with self.read() as conn:
            return views.item_verdicts(conn, platform, ids)

    def decision(self, decision_id: str) -> dict[str, Any] | None:
        with self.read() as conn:
            return views.decision(conn, decision_id)

    def checkpoint(self) -> bool:
        """SQLite: copy what the write-ahead log holds into the database file, without
        waiting for or blocking readers and writers (``PRAGMA wal_checkpoint(PASSIVE)``).
        SQLite does this itself inside the commit that takes the log past 1000 pages, which
        makes that commit several milliseconds slower; a server calls this between audits
        instead (see ``vigil.api``), so the commits find little or nothing to copy.
        Returns False (and does nothing) on PostgreSQL and on an in-memory database."""
        if not self.url.startswith("sqlite") or ":memory:" in self.url:
            return False
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            raw.close()
        return True

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        try:
            with self.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.url!r} does not answer: {exc}") from exc

    def review_pending(self) -> int:
        """Items waiting for human review (no action taken yet)."""
        with self.read() as conn:
            q = select(func.count()).select_from(items).where(items.c.action == "allow",
                                                              items.c.review.is_(True))
            return int(conn.execute(q).scalar_one())

    def verify_log(self, limit: int = 20) -> Verification:
        with self.read() as conn:
            return auditlog.verify(conn, limit=limit)


def _by_platform(keys: Iterable[tuple[str, str]], n: int = 900
                 ) -> Iterator[tuple[str, list[str]]]:
    """(platform, ids) in chunks of at most ``n`` ids: few enough bound parameters for
    any database."""
    grouped: dict[str, list[str]] = {}
    for platform, key in keys:
        grouped.setdefault(platform, []).append(key)
    for platform, ids in grouped.items():
        for i in range(0, len(ids), n):
            yield platform, ids[i : i + n]


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _item_row(r: AuditResult, now: datetime) -> dict[str, Any]:
    it, v = r.item, r.verdict
    return {
        "platform": it.platform,
        "external_id": it.id,
        "account": it.account,
        "kind": it.kind,
        "text": it.text,
        "created_at": utc(it.created_at),
        "lang": it.lang,
        "url": it.url,
        "reach": it.reach,
        "reply_to": it.reply_to,
        "media": dumps([m.ref() for m in it.media]) if it.media else None,
        "content_hash": it.content_hash,
        "action": v.action,
        "category": v.category,
        "review": v.review,
        "scores": dumps({k: round(s, 4) for k, s in v.scores.items()}),
        "policy_version": v.policy_version,
        "audited_at": now,
    }


def _decision_row(d: Decision) -> dict[str, Any]:
    return {
        "id": d.id, "platform": d.platform, "account": d.account, "item_id": d.item_id,
        "kind": d.kind, "action": d.action, "category": d.category, "rule": d.rule,
        "policy_version": d.policy_version, "automated": d.automated, "actor": d.actor,
        "reasons": dumps(d.reasons), "at": d.at, "reverses": None,
        "detectors": ",".join(sorted({det for f in d.reasons.get("findings", [])
                                      for det in f.get("detectors", [])})) or None,
    }


def _strike_row(s: Strike) -> dict[str, Any]:
    return {"id": s.id, "platform": s.platform, "account": s.account, "item_id": s.item_id,
            "category": s.category, "weight": float(s.weight), "at": s.at,
            "decision_id": s.decision_id}


def _sanction_row(s: Sanction) -> dict[str, Any]:
    return {"id": s.id, "platform": s.platform, "account": s.account, "kind": s.kind,
            "step": s.step, "at": s.at, "expires_at": s.expires_at,
            "decision_id": s.decision_id, "reason": s.reason}


_ROW: dict[str, Any] = {"decision": _decision_row, "strike": _strike_row,
                       "sanction": _sanction_row}


def strike_from_row(r: Any) -> Strike:
    at = utc(r["at"])
    assert at is not None
    return Strike(r["id"], r["platform"], r["account"], r["item_id"], r["category"],
                  float(r["weight"]), at, r["decision_id"])


def sanction_from_row(r: Any) -> Sanction:
    at = utc(r["at"])
    assert at is not None
    return Sanction(r["id"], r["platform"], r["account"], r["kind"], int(r["step"]), at,
                    utc(r["expires_at"]), r["decision_id"], r["reason"])


__all__ = ["DEFAULT_URL", "Existing", "ImportTally", "Store", "resolve_url"]
