"""Sweeps: re-audit a platform's history (or an export) under a chosen policy — the
clean-up campaign — resumably, on one machine or on a Dask cluster.

A sweep is cut into *parts* (a range of the stored items it snapshotted, a slice of a
JSONL file, row groups of a Parquet file), numbered by a global row sequence. Three steps:

1. ``load_part(part, config)`` reads a part into a DataFrame of items (:data:`COLUMNS`);
2. ``score_frame(frame, config)`` — the batch function, a DataFrame in and a DataFrame
   out — runs the detectors on it (pure; the models load once per process). It is
   engine-neutral: the local engine calls it in-process, Dask calls it through
   ``map_partitions``; Spark's ``mapInPandas`` or Ray's ``map_batches`` could call it
   unchanged (``docs/sweeps.md``);
3. the driver applies the scored frames *in sequence order*, in batches, with the
   account steps (strike totals, the ladder, coordinated clusters) taken from the store
   and the results written with the sweep's checkpoint in the same transaction. Account
   steps therefore never depend on which worker scored what: they are one grouping step
   over the committed history.

Exact resumption: a batch's decisions, strikes, sanctions, log entries and the sweep's
cursor and tally commit together, decisions carry the sweep's fixed time, and batch
boundaries depend only on the part plan, so ``kill -9`` at any point followed by
``vigil sweep --resume`` ends in the same store as an uninterrupted run.

Semantics: a sweep *escalates* — an item whose verdict under the sweep's policy is
stronger than its recorded action gets a new decision (and strikes, sanctions); a weaker
verdict is counted (``relaxed``) but never reinstates anything by itself. Stored items
are swept by their content detectors (and claim matching); plagiarism and coordination
signals come from ingestion and are not recomputed for them. Items from an export are
stored as they are audited, relations included, as ``vigil audit`` does.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, or_, select, update

from vigil.audit import AUTOMATED_ACTOR, EDIT_RANK, AccountState, AuditResult
from vigil.detectors import Signal
from vigil.errors import InputError, StoreError
from vigil.ingest import Tally, audit_batch
from vigil.policy import Policy, parse_policy
from vigil.reports import STANDING
from vigil.sanctions import SANCTION_RANK
from vigil.store import Store, auditlog
from vigil.store.tables import decisions, items, policies, sweep_items, sweep_runs, sweeps
from vigil.sweeps.frames import (
    COLUMNS,
    LOADS,
    PART_ROWS,
    Frames,
    Part,
    SweepConfig,
    _opt,
    _signal,
    dask_frames,
    detectors_for,
    frame_meta,
    items_of,
    load_part,
    local_frames,
    plan_files,
    score_frame,
    warm,
)

if TYPE_CHECKING:
    import pandas as pd

    from vigil.relations import Relations

__all__ = ["COLUMNS", "LOADS", "PART_ROWS", "Frames", "Part", "Sweep", "SweepConfig",
           "SweepReport", "SweepTally", "dask_frames", "detectors_for", "frame_meta",
           "items_of", "load_part", "local_frames", "plan_files", "score_frame", "warm"]

BATCH = 1_000
ACTED = frozenset({"label", "restrict", "remove"})

# ------------------------------------------------------------------ the sweep


@dataclass(slots=True)
class SweepTally:
    """What a sweep did (or, dry, would do); kept in the store with the checkpoint."""

    rows: int = 0
    items: int = 0
    rejects: int = 0
    skipped: int = 0
    unchanged: int = 0
    escalated: Counter[str] = field(default_factory=Counter)  # "allow→remove": n
    relaxed: int = 0
    decisions: int = 0
    strikes: int = 0
    sanctions: Counter[str] = field(default_factory=Counter)  # sanction decisions by kind
    removed: Counter[str] = field(default_factory=Counter)  # items removed, by category
    actions: Counter[str] = field(default_factory=Counter)  # new actions, "category:action"
    reviewed: Counter[str] = field(default_factory=Counter)  # tp, fp, fn, tn
    reaudited: int = 0

    def to_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: it rebuilds a Counter from its (key, count) pairs
        return {f: dict(v) if isinstance(v, Counter) else v
                for f in self.__dataclass_fields__ if (v := getattr(self, f)) is not None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> SweepTally:
        d = json.loads(s)
        t = cls()
        for k, v in d.items():
            setattr(t, k, Counter(v) if isinstance(getattr(t, k), Counter) else v)
        return t

    def copy(self) -> SweepTally:
        return SweepTally.from_json(self.to_json())

    def precision_recall(self) -> tuple[float | None, float | None, int]:
        r = self.reviewed
        tp, fp, fn = r["tp"], r["fp"], r["fn"]
        n = sum(r.values())
        p = tp / (tp + fp) if tp + fp else None
        rc = tp / (tp + fn) if tp + fn else None
        return p, rc, n


@dataclass(slots=True)
class SweepReport:
    """A sweep's result: its progress, tally, the accounts it sanctioned and its runs."""

    id: str
    status: str
    dry_run: bool
    policy_version: str
    total: int
    cursor: int
    tally: SweepTally
    started_at: datetime
    spec: dict[str, Any]
    #: accounts by the strongest sanction this sweep gave them (enforced sweeps)
    accounts: dict[str, int] = field(default_factory=dict)
    #: each run (wall clock): started_at, finished_at (None: interrupted), engine, rows
    runs: list[dict[str, Any]] = field(default_factory=list)

    def headline(self) -> str:
        """The campaign's numbers in one line, as a press release would give them."""
        t = self.tally
        verb = "would be" if self.dry_run else ""
        acc = self.accounts or dict(t.sanctions)
        parts = [f"{acc.get(k, 0):,} {STANDING[k]}" for k in
                 ("shut_down", "suspend", "restrict", "warn")]
        removed = sum(t.removed.values())
        head = f"{t.items:,} items swept: " + ", ".join(parts)
        return (head + f" accounts{' (sanctions)' if not self.accounts else ''}; "
                f"{removed:,} items {verb + ' ' if verb else ''}removed").replace("  ", " ")

    def to_dict(self) -> dict[str, Any]:
        p, r, n = self.tally.precision_recall()
        return {"id": self.id, "status": self.status, "dry_run": self.dry_run,
                "policy_version": self.policy_version, "total": self.total,
                "done": self.cursor, "spec": self.spec, "tally": self.tally.to_dict(),
                "accounts_by_sanction": self.accounts, "headline": self.headline(),
                "reviewed": {"items": n, "precision": p, "recall": r},
                "started_at": self.started_at.isoformat(), "runs": self.runs}


class Sweep:
    """One sweep in a store: create it (``Sweep.create``) or find it (``Sweep.load``),
    then ``run`` it with an engine; it can be run again after any interruption."""

    def __init__(self, store: Store, row: dict[str, Any]) -> None:
        self.store = store
        self.id: str = row["id"]
        self.dry_run: bool = bool(row["dry_run"])
        self.spec: dict[str, Any] = json.loads(row["spec"])
        self.parts = [Part(**p) for p in json.loads(row["parts"])]
        self.total: int = row["total"]
        self.cursor: int = row["cursor"]
        self.tally = SweepTally.from_json(row["tally"])
        self.now: datetime = _utc(row["now"])
        self.status: str = row["status"]
        self.started_at: datetime = _utc(row["started_at"])
        self.policy_version: str = row["policy_version"]
        with store.read() as conn:
            body = conn.execute(select(policies.c.body, policies.c.source).where(
                policies.c.version == self.policy_version)).one()
        self.policy: Policy = parse_policy(body[0], body[1])
        self._accounts: dict[tuple[str, str], AccountState] = {}

    # -- creating and finding -----------------------------------------------------------

    @classmethod
    def create(cls, store: Store, policy: Policy, *, source: str | None = None,
               platforms: Sequence[str] = (), since: datetime | None = None,
               until: datetime | None = None, categories: Sequence[str] = (),
               dry_run: bool = False, batch_size: int = BATCH, part_rows: int = PART_ROWS,
               default_platform: str | None = None, claims: bool = True,
               detectors: str | None = None, now: datetime | None = None) -> Sweep:
        """Plan a sweep and record it (with a snapshot of the stored items it covers when
        there is no ``source``). Nothing is audited yet."""
        now = now or datetime.now(UTC)
        unknown = [c for c in categories if c not in policy.categories]
        if unknown:
            raise InputError(f"unknown categories {', '.join(unknown)}: the policy has "
                             f"{', '.join(sorted(policy.categories))}")
        store.record_policy(policy, now)
        spec = {"source": str(Path(source).resolve()) if source else None,
                "platforms": list(platforms), "categories": list(categories),
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "batch_size": batch_size, "part_rows": part_rows,
                "default_platform": default_platform or "default", "claims": claims,
                "detectors": detectors}
        sweep_id = hashlib.blake2b(
            f"{now.isoformat()}\x1f{json.dumps(spec, sort_keys=True)}\x1f{policy.version}"
            .encode(), digest_size=8).hexdigest()
        parts = plan_files(source, part_rows) if source else []
        try:
            with store.begin() as conn:
                total = (_snapshot(conn, sweep_id, platforms, since, until, now)
                         if not source else sum(p.rows for p in parts))
                if not source:
                    parts = [Part(k, a, min(part_rows, total - a), "store")
                             for k, a in enumerate(range(0, total, part_rows))]
                conn.execute(insert(sweeps), [{
                    "id": sweep_id, "status": "running", "dry_run": dry_run,
                    "policy_version": policy.version, "spec": json.dumps(spec),
                    "parts": json.dumps([asdict(p) for p in parts]), "total": total,
                    "cursor": 0, "tally": SweepTally().to_json(), "now": now,
                    "started_at": now, "updated_at": now}])
                _log(conn, sweep_id, now)
        except Exception as exc:
            if isinstance(exc, InputError):
                raise
            raise StoreError(f"cannot record sweep: {exc}") from exc
        return cls.load(store, sweep_id)

    @classmethod
    def load(cls, store: Store, sweep_id: str | None = None) -> Sweep:
        """A sweep by id, or the newest unfinished one."""
        with store.read() as conn:
            q = select(sweeps)
            if sweep_id:
                q = q.where(sweeps.c.id == sweep_id)
            else:
                q = q.where(sweeps.c.status == "running").order_by(
                    sweeps.c.started_at.desc(), sweeps.c.id).limit(1)
            row = conn.execute(q).mappings().first()
        if row is None:
            raise InputError(f"no sweep {sweep_id}" if sweep_id else "no unfinished sweep")
        return cls(store, dict(row))

    @staticmethod
    def recent(store: Store, limit: int = 20) -> list[SweepReport]:
        with store.read() as conn:
            ids = [r for (r,) in conn.execute(select(sweeps.c.id).order_by(
                sweeps.c.started_at.desc()).limit(limit))]
        return [Sweep.load(store, i).report() for i in ids]

    # -- running ------------------------------------------------------------------------

    @property
    def config(self) -> SweepConfig:
        s = self.spec
        return SweepConfig(db=self.store.url, sweep_id=self.id, claims=s["claims"],
                           default_platform=s["default_platform"],
                           platforms=tuple(s["platforms"]) if s["source"] else (),
                           since=s["since"] if s["source"] else None,
                           until=s["until"] if s["source"] else None,
                           detectors=s.get("detectors"))

    def remaining(self) -> list[Part]:
        return [p for p in self.parts if p.end > self.cursor]

    def run(self, frames: Callable[[Sequence[Part], SweepConfig], Frames] = local_frames,
            progress: Callable[[int, int], None] | None = None,
            relations: Relations | None = None,
            rejects: Callable[[dict[str, Any]], None] | None = None,
            engine: str = "local") -> SweepReport:
        """Apply the remaining parts in order, batch by batch, each batch committed with
        the checkpoint. A dry run writes only its tally and starts over when resumed (its
        projected account history lives in memory); over an export, its items are
        checked against the stored ones for plagiarism and coordination, not against
        each other's earlier batches (they are never stored)."""
        if self.status == "done":
            return self.report()
        if self.dry_run and self.cursor:
            self._checkpoint_only(0, SweepTally())
        batch = int(self.spec["batch_size"])
        cats = frozenset(self.spec["categories"])
        if relations is None and self.spec["source"]:
            from vigil.relations import Relations

            relations = Relations(self.store)
        todo = self.remaining()
        started = self._run_started(engine)
        try:
            self._parts(todo, frames, batch, cats, relations, rejects, progress)
        finally:
            self._run_ended(started, self.cursor == self.total)
        self._finish()
        return self.report()

    def _parts(self, todo: list[Part],
               frames: Callable[[Sequence[Part], SweepConfig], Frames], batch: int,
               cats: frozenset[str], relations: Relations | None,
               rejects: Callable[[dict[str, Any]], None] | None,
               progress: Callable[[int, int], None] | None) -> None:
        for part, frame in zip(todo, frames(todo, self.config), strict=True):
            frame = frame[frame["seq"] >= self.cursor]
            start = max(part.first, self.cursor)
            while start < part.end:
                stop = min(start + batch, part.end)
                chunk = frame[(frame["seq"] >= start) & (frame["seq"] < stop)]
                self._apply(chunk, stop, cats, relations, rejects)
                start = stop
                if progress is not None:
                    progress(self.cursor, self.total)

    def _apply(self, chunk: pd.DataFrame, stop: int, cats: frozenset[str],
               relations: Relations | None,
               rejects: Callable[[dict[str, Any]], None] | None) -> None:
        tally = self.tally.copy()
        tally.rows += stop - self.cursor
        found = items_of(chunk)
        bad = [r for r in chunk.itertuples(index=False) if _opt(r.reject) is not None]
        tally.rejects += len(bad)
        tally.skipped += int(chunk["skip"].sum())
        sigs: dict[tuple[str, str], list[Signal]] = {}
        for r in chunk.itertuples(index=False):
            if _opt(r.signals) is None:
                continue
            got = [_signal(d) for d in json.loads(r.signals)]
            sigs[(r.platform, r.id)] = [s for s in got if not cats or s.category in cats]
        batch = [it for _, it in found]
        keys = [(it.platform, it.id) for it in batch]
        if not self.spec["source"]:
            for key, got in _relation_signals(self.store, keys).items():
                sigs[key] = sigs.get(key, []) + [s for s in got
                                                 if not cats or s.category in cats]
        before = self.store.existing(keys)
        reviewed = self.store.reviewed_actions(keys)

        def after(conn: Connection | None, results: list[AuditResult]) -> None:
            _count(tally, results, before, reviewed, set(keys))
            if conn is not None:
                _save(conn, self.id, stop, tally, self.now)

        if batch:
            results = audit_batch(
                self.store, batch, self.policy, (), Tally(), self.now, relations,
                signals=sigs, force=True, after=None if self.dry_run else after,
                write=not self.dry_run,
                accounts=self._accounts if self.dry_run else None)
            if self.dry_run:
                after(None, results)
                self._checkpoint_only(stop, tally)
        else:
            self._checkpoint_only(stop, tally)
        self.tally, self.cursor = tally, stop
        if rejects is not None:
            for r in bad:
                rejects({"source": r.source, "line": int(r.line), "reason": r.reject,
                         "raw": r.raw})

    def _checkpoint_only(self, cursor: int, tally: SweepTally) -> None:
        with self.store.begin() as conn:
            _save(conn, self.id, cursor, tally, self.now)
        self.cursor, self.tally = cursor, tally

    def _finish(self) -> None:
        with self.store.begin() as conn:
            conn.execute(update(sweeps).where(sweeps.c.id == self.id).values(status="done"))
            _log(conn, self.id, self.now)
            conn.execute(sweep_items.delete().where(sweep_items.c.sweep_id == self.id))
        self.status = "done"

    def _run_started(self, engine: str) -> datetime:
        at = datetime.now(UTC)
        with self.store.begin() as conn:
            conn.execute(insert(sweep_runs), [{
                "sweep_id": self.id, "started_at": at, "engine": engine,
                "from_row": self.cursor, "to_row": self.cursor, "finished_at": None}])
        return at

    def _run_ended(self, started: datetime, finished: bool) -> None:
        with self.store.begin() as conn:
            conn.execute(update(sweep_runs).where(
                sweep_runs.c.sweep_id == self.id, sweep_runs.c.started_at == started).values(
                to_row=self.cursor, finished_at=datetime.now(UTC) if finished else None))

    def runs(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(select(sweep_runs).where(sweep_runs.c.sweep_id == self.id)
                                .order_by(sweep_runs.c.started_at)).mappings().all()
        return [{"started_at": _utc(r["started_at"]).isoformat(),
                 "finished_at": _utc(r["finished_at"]).isoformat() if r["finished_at"]
                 else None, "engine": r["engine"], "rows": r["to_row"] - r["from_row"],
                 "seconds": (_utc(r["finished_at"]) - _utc(r["started_at"])).total_seconds()
                 if r["finished_at"] else None} for r in rows]

    def report(self) -> SweepReport:
        return SweepReport(self.id, self.status, self.dry_run, self.policy_version,
                           self.total, self.cursor, self.tally, self.started_at,
                           self.spec, {} if self.dry_run else self._accounts_by_sanction(),
                           self.runs())

    def _accounts_by_sanction(self) -> dict[str, int]:
        """Accounts by the strongest sanction decided by this sweep (its decisions carry
        its policy version and its time)."""
        best: dict[tuple[str, str], str] = {}
        with self.store.read() as conn:
            q = select(decisions.c.platform, decisions.c.account, decisions.c.action).where(
                decisions.c.kind == "account", decisions.c.at == self.now,
                decisions.c.policy_version == self.policy_version,
                decisions.c.actor == AUTOMATED_ACTOR)
            for platform, account, action in conn.execute(q):
                cur = best.get((platform, account))
                if action in SANCTION_RANK and (
                        cur is None or SANCTION_RANK[action] > SANCTION_RANK[cur]):
                    best[(platform, account)] = action
        return dict(Counter(best.values()))


def _relation_signals(store: Store, keys: Sequence[tuple[str, str]]
                      ) -> dict[tuple[str, str], list[Signal]]:
    """Plagiarism and coordination signals stored items got at ingestion (they relate an
    item to others, so a sweep carries them over from the item's latest automated
    decision rather than recomputing them)."""
    from vigil.relations import COORDINATION_DETECTOR, PLAGIARISM_DETECTOR

    wanted = {PLAGIARISM_DETECTOR, COORDINATION_DETECTOR}
    latest: dict[tuple[str, str], tuple[datetime, str, str]] = {}
    with store.read() as conn:
        by: dict[str, list[str]] = {}
        for p, i in keys:
            by.setdefault(p, []).append(i)
        for platform, ids in by.items():
            for k in range(0, len(ids), 900):
                q = select(decisions.c.item_id, decisions.c.at, decisions.c.id,
                           decisions.c.reasons).where(
                    decisions.c.platform == platform, decisions.c.kind == "item",
                    decisions.c.item_id.in_(ids[k:k + 900]),
                    decisions.c.automated.is_(True),
                    or_(*(decisions.c.detectors.like(f"%{d}%") for d in sorted(wanted))))
                for item_id, at, did, reasons in conn.execute(q):
                    key = (platform, item_id)
                    if key not in latest or (_utc(at), did) > latest[key][:2]:
                        latest[key] = (_utc(at), did, reasons)
    out: dict[tuple[str, str], list[Signal]] = {}
    for key, (_, _, reasons) in latest.items():
        got = [_signal(d) for d in json.loads(reasons).get("signals", ())
               if d.get("detector") in wanted]
        if got:
            out[key] = got
    return out


def _utc(v: datetime) -> datetime:
    return v if v.tzinfo else v.replace(tzinfo=UTC)


def _save(conn: Connection, sweep_id: str, cursor: int, tally: SweepTally,
          now: datetime) -> None:
    conn.execute(update(sweeps).where(sweeps.c.id == sweep_id).values(
        cursor=cursor, tally=tally.to_json(), updated_at=now))
    _log(conn, sweep_id, now)


def _log(conn: Connection, sweep_id: str, at: datetime) -> None:
    """Log the sweep's row as it now reads (its creation, each checkpoint, its end)."""
    row = conn.execute(select(sweeps).where(sweeps.c.id == sweep_id)).mappings().one()
    auditlog.append(conn, [("sweep", dict(row))], at)


def _count(t: SweepTally, results: list[AuditResult], before: dict[tuple[str, str], Any],
           reviewed: dict[tuple[str, str], str], swept: set[tuple[str, str]]) -> None:
    seen: set[tuple[str, str]] = set()
    for r in results:
        key = (r.item.platform, r.item.id)
        if key in seen:
            continue
        seen.add(key)
        if key in swept:
            t.items += 1
        else:  # a stored item a relation found only now, audited again
            t.reaudited += 1
        prev = before[key].action if key in before else None
        v = r.verdict
        new = v.action if v.action != "allow" else ("review" if v.review else "allow")
        if r.decision is not None:
            t.escalated[f"{prev or 'new'}→{r.decision.action}"] += 1
            t.actions[f"{r.decision.category}:{r.decision.action}"] += 1
            if r.decision.action == "remove":
                t.removed[str(r.decision.category)] += 1
        elif prev is not None and EDIT_RANK.get(prev, 0) > EDIT_RANK.get(new, 0):
            t.relaxed += 1
        else:
            t.unchanged += 1
        t.decisions += len(r.decisions)
        t.strikes += r.strike is not None
        if r.sanction is not None:
            t.sanctions[r.sanction.kind] += 1
        truth = reviewed.get(key)
        if truth is not None:
            pos, pred = truth in ACTED, v.action in ACTED
            t.reviewed["tp" if pos and pred else "fp" if pred else "fn" if pos else "tn"] += 1


def _snapshot(conn: Connection, sweep_id: str, platforms: Sequence[str],
              since: datetime | None, until: datetime | None, now: datetime) -> int:
    """Number the stored items in scope (oldest first) into ``sweep_items``."""
    q = select(items.c.platform, items.c.external_id).where(items.c.audited_at <= now)
    if platforms:
        q = q.where(items.c.platform.in_(list(platforms)))
    if since is not None:
        q = q.where(items.c.created_at >= since)
    if until is not None:
        q = q.where(items.c.created_at < until)
    q = q.order_by(func.coalesce(items.c.created_at, items.c.audited_at), items.c.platform,
                   items.c.external_id)
    n = 0
    rows: list[dict[str, Any]] = []
    for platform, eid in conn.execute(q):
        rows.append({"sweep_id": sweep_id, "seq": n, "platform": platform,
                     "external_id": eid})
        n += 1
        if len(rows) >= 10_000:
            conn.execute(insert(sweep_items), rows)
            rows = []
    if rows:
        conn.execute(insert(sweep_items), rows)
    return n
