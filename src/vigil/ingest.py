"""Audit items into a store, batch by batch: skip what is already stored unchanged, give
the core loop the accounts' history, record everything a batch decided in one
transaction. Used by the CLI, and later by the API and sweeps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from vigil.audit import AccountState, AuditContext, AuditResult, audit
from vigil.detectors import Detector, Signal
from vigil.items import Item
from vigil.policy import Policy
from vigil.relations import Relations, group_sanctions
from vigil.review import priority, severity_of
from vigil.store import Store


@dataclass(slots=True)
class Tally:
    """Counts of what an ingestion run did."""

    new: int = 0
    edited: int = 0
    unchanged: int = 0
    duplicates: int = 0
    reaudited: int = 0
    decisions: int = 0
    strikes: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    sanctions: Counter[str] = field(default_factory=Counter)

    @property
    def audited(self) -> int:
        return self.new + self.edited


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for it in items:
        batch.append(it)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def audit_batch(
    store: Store,
    batch: Sequence[Item],
    policy: Policy,
    detectors: Sequence[Detector],
    tally: Tally | None = None,
    now: datetime | None = None,
    relations: Relations | None = None,
    *,
    signals: dict[tuple[str, str], list[Signal]] | None = None,
    force: bool = False,
    after: Callable[[Connection, list[AuditResult]], None] | None = None,
    write: bool = True,
    accounts: dict[tuple[str, str], AccountState] | None = None,
    verdicts: dict[tuple[str, str], dict[str, Any]] | None = None,
) -> list[AuditResult]:
    """Audit one batch into ``store``; idempotent on (platform, item id).

    With ``relations``, items are also checked against every stored item (plagiarism,
    coordinated posting); stored items that a relation found only now are audited again
    in the same transaction (their results come last).

    For sweeps: ``signals`` are the detectors' findings computed elsewhere (by a sweep
    worker; the detectors are then not run again), ``force`` audits items stored unchanged
    too (a new policy) but rewrites them only when something is decided, ``after`` runs
    inside the batch's transaction with the results (a checkpoint), and ``write=False``
    records nothing (a dry run) but keeps account history in ``accounts``, which
    overrides the store's.

    ``verdicts`` receives the stored verdict (see ``Store.item_verdicts``) of each item
    this batch stored for the first time."""
    tally = tally if tally is not None else Tally()
    now = now or datetime.now(UTC)
    latest: dict[tuple[str, str], Item] = {}
    for it in batch:
        key = (it.platform, it.id)
        if key in latest:
            tally.duplicates += 1
        latest[key] = it
    existing = store.existing(latest)
    todo: list[Item] = []
    for key, it in latest.items():
        before = existing.get(key)
        if before is not None and before.content_hash == it.content_hash and not force:
            tally.unchanged += 1
            continue
        todo.append(it)
    if not todo:
        return []
    plan = relations.plan(todo, policy, now) if relations is not None else None
    again: list[Item] = []
    if plan is not None and plan.reaudit:
        again = store.load_items(list(plan.reaudit))
        existing.update(store.existing((it.platform, it.id) for it in again))
    extra = dict(plan.signals) if plan is not None else {}
    if plan is not None:
        extra.update(plan.reaudit)
    if signals is not None:
        for it in todo + again:
            key = (it.platform, it.id)
            extra[key] = signals.get(key, []) + extra.get(key, [])
        detectors = ()
    states = store.account_states((it.platform, it.account) for it in todo + again)
    if accounts is not None:
        states.update((k, accounts[k]) for k in list(states) if k in accounts)
        states.update((k, accounts[k]) for it in todo + again
                      if (k := (it.platform, it.account)) in accounts)
    ctx = AuditContext(
        detectors=detectors,
        now=now,
        accounts=states,
        previous={k: e.action for k, e in existing.items()},
        extra=extra,
    )
    results = audit(todo + again, policy, ctx)
    if accounts is not None:
        accounts.update(ctx.accounts)
    reaudited = frozenset((it.platform, it.id) for it in again)
    group = group_sanctions(plan, policy, now, store.sanction_ids) if plan is not None else []
    if write:
        # a forced (sweep) audit rewrites a stored item only when it decided something
        kept = results if not force else [
            r for r in results if r.decision is not None or r.sanction_decision is not None
            or (r.item.platform, r.item.id) not in existing]
        store.record(kept, existing, now, relations=plan, reaudited=reaudited, group=group,
                     cases=review_cases(kept, policy, now),
                     after=None if after is None else lambda conn: after(conn, results),
                     verdicts=verdicts)
    tally.decisions += len(group)
    for _, sanction in group:
        tally.sanctions[sanction.kind] += 1
    if relations is not None and plan is not None and write:
        relations.commit(plan)
    for r in results:
        if (r.item.platform, r.item.id) in reaudited:
            tally.reaudited += 1
        elif (r.item.platform, r.item.id) in existing:
            tally.edited += 1
        else:
            tally.new += 1
        if r.decision is not None:
            tally.actions[r.decision.action] += 1
        tally.decisions += len(r.decisions)
        tally.strikes += r.strike is not None
        if r.sanction is not None:
            tally.sanctions[r.sanction.kind] += 1
    return results


def review_cases(results: Sequence[AuditResult], policy: Policy, now: datetime
                 ) -> list[dict[str, Any]]:
    """A review case for each item whose new decision sends it to human review."""
    from vigil.store.review import new_case

    out = []
    for r in results:
        d, v = r.decision, r.verdict
        if d is None or not v.review:
            continue
        out.append(new_case(
            r.item.platform, r.item.id, r.item.account, "review", v.queue or "standard",
            v.category, priority(severity_of(policy, v.category), r.item.reach),
            str(d.reasons.get("facts", "")), now, case_id=f"c{d.id}"))
    return out
