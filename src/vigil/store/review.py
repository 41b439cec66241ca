"""Cases, claims, reviewer decisions and appeals in the store (see ``vigil.review``). Each
operation is one transaction; every case change, decision, strike, sanction and lift is
logged."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from vigil.audit import AUTOMATED_ACTOR, AccountState, Decision, _id, strike_and_sanction
from vigil.items import Sanction, Strike
from vigil.policy import Policy
from vigil.review import (
    ESCALATION_BONUS,
    Reviewer,
    priority,
    reviewer_reasons,
    severity_of,
)
from vigil.store import auditlog, outbox
from vigil.store.auditlog import utc
from vigil.store.tables import (
    cases,
    decisions,
    items,
    sanction_lifts,
    sanctions,
    strikes,
)


class CaseError(Exception):
    """A case operation that cannot be done now (``status``: the HTTP status to answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _case_row(r: Any) -> dict[str, Any]:
    d = dict(r)
    for k in ("locked_until", "created_at", "closed_at"):
        d[k] = utc(d[k])
    d["trusted"] = bool(d["trusted"])
    return d


def _log(conn: Connection, kind: str, row: dict[str, Any], now: datetime) -> None:
    auditlog.append(conn, [(kind, row)], now)


def new_case(platform: str, item_id: str | None, account: str, kind: str, queue: str,
             category: str | None, prio: float, reason: str, now: datetime,
             reporter: str | None = None, trusted: bool = False,
             decision_id: str | None = None, case_id: str | None = None) -> dict[str, Any]:
    """A case row; its id is random unless given (cases opened by a decision take an id
    derived from it, so an audit run twice writes the same records)."""
    return {"id": case_id or secrets.token_hex(12), "platform": platform, "item_id": item_id,
            "account": account, "kind": kind, "queue": queue, "category": category,
            "priority": prio, "status": "open", "assignee": None, "locked_until": None,
            "reporter": reporter, "trusted": trusted, "reason": reason,
            "decision_id": decision_id, "outcome": None, "outcome_decision": None,
            "created_at": now, "closed_at": None}


def open_item_case(conn: Connection, row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Insert a case for an item unless one is already open for it (then the stronger
    claim wins: trusted flag and priority are raised). Returns the open case."""
    return open_item_cases(conn, [row], now)[0]


def open_item_cases(conn: Connection, rows: Sequence[dict[str, Any]], now: datetime
                    ) -> list[dict[str, Any]]:
    """:func:`open_item_case` for many rows at once (one lookup, one insert, one log
    append: a batch's review cases)."""
    open_: dict[tuple[str, str], dict[str, Any]] = {}
    by: dict[str, list[str]] = {}
    for row in rows:
        if row["item_id"] is not None and row["kind"] != "appeal":
            by.setdefault(row["platform"], []).append(row["item_id"])
    for platform, ids in by.items():
        for k in range(0, len(ids), 900):
            q = select(cases).where(cases.c.platform == platform,
                                    cases.c.item_id.in_(ids[k:k + 900]),
                                    cases.c.status == "open", cases.c.kind != "appeal")
            for r in conn.execute(q).mappings():
                open_[(platform, r["item_id"])] = _case_row(r)
    out: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    log: list[tuple[str, dict[str, Any]]] = []
    for row in rows:
        key = (row["platform"], row["item_id"])
        case = open_.get(key) if row["item_id"] is not None and row["kind"] != "appeal" \
            else None
        if case is None:
            new.append(row)
            log.append(("case", dict(row)))
            if row["item_id"] is not None and row["kind"] != "appeal":
                open_[key] = row
            out.append(row)
            continue
        urgent = row["queue"] == "urgent" and case["queue"] != "urgent"
        if row["priority"] > case["priority"] or (row["trusted"] and not case["trusted"]) \
                or urgent:
            # an urgent finding (child safety) moves an open case to the urgent queue
            case.update(priority=max(row["priority"], case["priority"]),
                        trusted=case["trusted"] or row["trusted"],
                        queue="urgent" if urgent else case["queue"])
            if not any(case is n for n in new):
                conn.execute(update(cases).where(cases.c.id == case["id"]).values(
                    priority=case["priority"], trusted=case["trusted"], queue=case["queue"]))
            log.append(("case", dict(case)))
        out.append(case)
    if new:
        conn.execute(cases.insert(), new)
    auditlog.append(conn, log, now)
    return out


def get(conn: Connection, case_id: str) -> dict[str, Any] | None:
    r = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
    return None if r is None else _case_row(r)


def queue(conn: Connection, platforms: Sequence[str] | None, queue_name: str | None,
          kind: str | None, status: str, limit: int) -> list[dict[str, Any]]:
    q = select(cases).where(cases.c.status == status)
    if platforms is not None:
        q = q.where(cases.c.platform.in_(list(platforms)))
    if queue_name:
        q = q.where(cases.c.queue == queue_name)
    if kind:
        q = q.where(cases.c.kind == kind)
    q = q.order_by(cases.c.trusted.desc(), cases.c.priority.desc(), cases.c.created_at,
                   cases.c.id).limit(limit)
    return [_case_row(r) for r in conn.execute(q).mappings()]


def _held(case: dict[str, Any], reviewer: Reviewer, now: datetime) -> bool:
    until = case["locked_until"]
    return case["assignee"] == reviewer.actor and until is not None and until > now


def _locked_by_other(case: dict[str, Any], reviewer: Reviewer, now: datetime) -> bool:
    until = case["locked_until"]
    return case["assignee"] not in (None, reviewer.actor) and until is not None and until > now


def claim(conn: Connection, case_id: str, reviewer: Reviewer, minutes: float,
          now: datetime) -> dict[str, Any]:
    case = _open(conn, case_id)
    if _locked_by_other(case, reviewer, now):
        raise CaseError(409, f"claimed by another reviewer until "
                             f"{case['locked_until']:%Y-%m-%dT%H:%M:%SZ}")
    case.update(assignee=reviewer.actor, locked_until=now + timedelta(minutes=minutes))
    conn.execute(update(cases).where(cases.c.id == case_id).values(
        assignee=case["assignee"], locked_until=case["locked_until"]))
    _log(conn, "case", case, now)
    return case


def _open(conn: Connection, case_id: str) -> dict[str, Any]:
    # lock the row where the database can (PostgreSQL); SQLite's write lock covers it
    r = conn.execute(select(cases).where(cases.c.id == case_id).with_for_update()
                     ).mappings().first()
    if r is None:
        raise CaseError(404, "not found")
    case = _case_row(r)
    if case["status"] != "open":
        raise CaseError(409, "the case is closed")
    return case


def escalate(conn: Connection, case_id: str, reviewer: Reviewer, reason: str,
             now: datetime) -> dict[str, Any]:
    case = _open(conn, case_id)
    if not _held(case, reviewer, now):
        raise CaseError(409, "claim the case first")
    case.update(queue="escalated", priority=case["priority"] + ESCALATION_BONUS,
                assignee=None, locked_until=None,
                reason=f"{case['reason']}\nescalated by {reviewer.actor}: {reason}")
    conn.execute(update(cases).where(cases.c.id == case_id).values(
        queue=case["queue"], priority=case["priority"], assignee=None, locked_until=None,
        reason=case["reason"]))
    _log(conn, "case", case, now)
    return case


def _close(conn: Connection, case: dict[str, Any], outcome: str, decision_id: str,
           now: datetime) -> None:
    case.update(status="closed", outcome=outcome, outcome_decision=decision_id,
                closed_at=now, locked_until=None)
    conn.execute(update(cases).where(cases.c.id == case["id"]).values(
        status="closed", outcome=outcome, outcome_decision=decision_id, closed_at=now,
        locked_until=None))
    _log(conn, "case", case, now)


def _decision_rows(ds: Sequence[Decision]) -> list[dict[str, Any]]:
    from vigil.store import _decision_row

    return [_decision_row(d) for d in ds]


def _account(conn: Connection, platform: str, account: str
             ) -> tuple[list[Strike], list[Sanction]]:
    from vigil.store import sanction_from_row, strike_from_row

    st = [strike_from_row(r) for r in conn.execute(select(strikes).where(
        strikes.c.platform == platform, strikes.c.account == account)
        .order_by(strikes.c.at)).mappings()]
    sa = [sanction_from_row(r) for r in conn.execute(select(sanctions).where(
        sanctions.c.platform == platform, sanctions.c.account == account)
        .order_by(sanctions.c.at)).mappings()]
    return st, apply_lifts(conn, sa)


def apply_lifts(conn: Connection, found: list[Sanction]) -> list[Sanction]:
    """Sanctions as in force: one lifted by an appeal ends at its lift."""
    if not found:
        return found
    lifted = dict(conn.execute(select(sanction_lifts.c.sanction_id, sanction_lifts.c.at)
                               .where(sanction_lifts.c.sanction_id.in_(
                                   [s.id for s in found]))).all())
    return [replace(s, expires_at=utc(lifted[s.id])) if s.id in lifted else s for s in found]


def write_decisions(conn: Connection, now: datetime, ds: Sequence[Decision] = (),
           sts: Sequence[Strike] = (), sns: Sequence[Sanction] = (),
           lifts: Sequence[dict[str, Any]] = (), reverses: dict[str, str] | None = None
           ) -> None:
    """Insert decisions (with the decisions they reverse), strikes, sanctions and lifts,
    log each, and queue the webhooks the decisions call for."""
    from vigil.store import _sanction_row, _strike_row

    log: list[tuple[str, dict[str, Any]]] = []
    rows = _decision_rows(ds)
    for row in rows:
        row["reverses"] = (reverses or {}).get(row["id"])
    if rows:
        conn.execute(decisions.insert(), rows)
        log += [("decision", r) for r in rows]
        outbox.enqueue(conn, rows, now)
    srows = [_strike_row(s) for s in sts]
    if srows:
        conn.execute(strikes.insert(), srows)
        log += [("strike", r) for r in srows]
    nrows = [_sanction_row(s) for s in sns]
    if nrows:
        conn.execute(sanctions.insert(), nrows)
        log += [("sanction", r) for r in nrows]
    if lifts:
        conn.execute(sanction_lifts.insert(), list(lifts))
        log += [("lift", dict(r)) for r in lifts]
    auditlog.append(conn, log, now)


def _set_item_action(conn: Connection, platform: str, item_id: str, action: str,
                     now: datetime) -> None:
    conn.execute(update(items).where(items.c.platform == platform,
                                     items.c.external_id == item_id)
                 .values(action=action, review=False, audited_at=now))
    r = conn.execute(select(items).where(items.c.platform == platform,
                                         items.c.external_id == item_id)).mappings().one()
    _log(conn, "item", dict(r), now)


def decide(conn: Connection, case_id: str, reviewer: Reviewer, action: str,
           category: str | None, reason: str, policy: Policy, now: datetime) -> str:
    """A reviewer's decision on a review or report case: the item's new action, a strike
    and the ladder's sanction where the policy gives them. Returns the decision id."""
    case = _open(conn, case_id)
    if case["kind"] == "appeal":
        raise CaseError(409, "an appeal is resolved with an outcome, not an action")
    if not _held(case, reviewer, now):
        raise CaseError(409, "claim the case first")
    category = category or case["category"]
    if action != "allow" and category not in policy.categories:
        raise CaseError(422, f"category: give one of {', '.join(policy.categories)}")
    platform, item_id, account = case["platform"], case["item_id"], case["account"]
    rule = f"review.{action}"
    did = _id(platform, item_id or "", case_id, "review", action)
    decision = Decision(
        id=did, platform=platform, account=account, item_id=item_id, kind="item",
        action=action, category=category if action != "allow" else None, rule=rule,
        policy_version=policy.version, automated=False, actor=reviewer.actor,
        reasons=reviewer_reasons(action, category, rule, reason, policy, reviewer,
                                 case=case_id),
        at=now)
    out_d: list[Decision] = [decision]
    out_st: list[Strike] = []
    out_sn: list[Sanction] = []
    weight = policy.categories[category].strike if category in policy.categories else 0.0
    if action in policy.data.strikes.on_actions and weight > 0:
        st, sn = _account(conn, platform, account)
        strike, sanction, sdecision = strike_and_sanction(
            AccountState(platform, account, st, sn), item_id or "", category or "", weight,
            did, now, now, policy, AUTOMATED_ACTOR, f"a reviewer removed item {item_id}")
        out_st.append(strike)
        if sanction is not None and sdecision is not None:
            out_sn.append(sanction)
            out_d.append(sdecision)
    write_decisions(conn, now, out_d, out_st, out_sn)
    if item_id is not None:
        _set_item_action(conn, platform, item_id, action, now)
    _close(conn, case, action, did, now)
    return did


def appeal(conn: Connection, decision: dict[str, Any], statement: str, appellant: str | None,
           policy: Policy, now: datetime) -> dict[str, Any]:
    """Open an appeal case against a decision (the caller checked the window)."""
    existing = conn.execute(select(cases).where(
        cases.c.kind == "appeal", cases.c.decision_id == decision["id"])).mappings().first()
    if existing is not None:
        raise CaseError(409, "this decision has already been appealed")
    row = new_case(decision["platform"], decision["item_id"], decision["account"], "appeal",
                   "appeals", decision["category"],
                   priority(severity_of(policy, decision["category"]), 0), statement, now,
                   reporter=appellant, decision_id=decision["id"])
    return open_item_case(conn, row, now)


def resolve(conn: Connection, case_id: str, reviewer: Reviewer, outcome: str, reason: str,
            policy: Policy, now: datetime) -> str:
    """Resolve an appeal: a reviewer other than the one who decided. Overturning reverses
    the decision's item action (the item is reinstated), its strikes (a negative strike
    each) and the sanctions they caused (lifted), each a new decision."""
    case = _open(conn, case_id)
    if case["kind"] != "appeal":
        raise CaseError(409, "not an appeal: decide it with an action")
    if not _held(case, reviewer, now):
        raise CaseError(409, "claim the case first")
    r = conn.execute(select(decisions).where(decisions.c.id == case["decision_id"])
                     ).mappings().one()
    if r["actor"] == reviewer.actor:
        raise CaseError(403, "a different reviewer must resolve an appeal of your decision")
    platform, account, item_id = r["platform"], r["account"], r["item_id"]
    base = {"appealed": r["id"], "case": case_id}
    if outcome == "upheld":
        did = _id(r["id"], "appeal", "upheld")
        write_decisions(conn, now, [Decision(
            id=did, platform=platform, account=account, item_id=item_id, kind=r["kind"],
            action="uphold", category=r["category"], rule="appeal.upheld",
            policy_version=policy.version, automated=False, actor=reviewer.actor,
            reasons=reviewer_reasons("uphold", r["category"], "appeal.upheld", reason,
                                     policy, reviewer, **base), at=now)])
        _close(conn, case, "upheld", did, now)
        return did
    did = _id(r["id"], "appeal", "overturned")
    ds: list[Decision] = []
    lifts: list[dict[str, Any]] = []
    negative: list[Strike] = []
    to_lift: list[str] = []
    if r["kind"] == "item":
        ds.append(Decision(
            id=did, platform=platform, account=account, item_id=item_id, kind="item",
            action="reinstate", category=r["category"], rule="appeal.overturned",
            policy_version=policy.version, automated=False, actor=reviewer.actor,
            reasons=reviewer_reasons("reinstate", r["category"], "appeal.overturned",
                                     reason, policy, reviewer, **base), at=now))
        from vigil.store import strike_from_row

        for strow in conn.execute(select(strikes).where(strikes.c.decision_id == r["id"])
                                  ).mappings():
            s = strike_from_row(strow)
            negative.append(replace(s, id=_id(s.id, "reversed"), weight=-s.weight, at=now,
                                    decision_id=did))
            to_lift.append(_id(s.id, "sanction"))  # the ladder decision this strike caused
    else:
        to_lift.append(r["id"])
    for sd in to_lift:
        srow = conn.execute(select(sanctions).where(sanctions.c.decision_id == sd)
                            ).mappings().first()
        if srow is None:
            continue
        lift_id = did if r["kind"] == "account" else _id(did, "lift", srow["id"])
        if lift_id != did:
            ds.append(Decision(
                id=lift_id, platform=platform, account=account, item_id=item_id,
                kind="account", action="lift", category=r["category"],
                rule="appeal.overturned", policy_version=policy.version, automated=False,
                actor=reviewer.actor,
                reasons=reviewer_reasons("lift", r["category"], "appeal.overturned",
                                         f"{srow['kind']} lifted: the decision that caused "
                                         f"it was overturned on appeal. {reason}", policy,
                                         reviewer, **base), at=now))
        lifts.append({"sanction_id": srow["id"], "decision_id": lift_id, "at": now})
    if r["kind"] == "account":
        ds.insert(0, Decision(
            id=did, platform=platform, account=account, item_id=item_id, kind="account",
            action="lift", category=r["category"], rule="appeal.overturned",
            policy_version=policy.version, automated=False, actor=reviewer.actor,
            reasons=reviewer_reasons("lift", r["category"], "appeal.overturned", reason,
                                     policy, reviewer, **base), at=now))
    reversed_ids = {did: r["id"]}
    for lift in lifts:
        if lift["decision_id"] != did:
            srow = conn.execute(select(sanctions.c.decision_id).where(
                sanctions.c.id == lift["sanction_id"])).scalar_one()
            reversed_ids[lift["decision_id"]] = srow
    write_decisions(conn, now, ds, negative, (), lifts, reversed_ids)
    if r["kind"] == "item" and item_id is not None:
        _set_item_action(conn, platform, item_id, "allow", now)
    _close(conn, case, "overturned", did, now)
    return did

