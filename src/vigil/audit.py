"""The core loop: ``audit(batch, policy, context)``.

normalize → detect (cheap detectors first) → evaluate → decisions, strikes, sanctions.
Pure: account history comes in through the context, records go out in the results; the
store (or a test, or a sweep worker) decides what to do with them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from vigil.context import (
    CONTEXT_CATEGORIES,
    RECHECK_FROM,
    damp_quoted,
    damp_untargeted,
    without_quotes,
)
from vigil.detectors import Detector, Prepared, Signal, best_scores
from vigil.items import Item, Sanction, Strike
from vigil.policy import Policy, Verdict, evaluate
from vigil.sanctions import plan_sanction

AUTOMATED_ACTOR = "vigil"
#: How far an item has gone, for deciding whether an edit escalates: sending an item to
#: review is more than allowing it and less than labelling it.
EDIT_RANK = {"allow": 0, "review": 1, "label": 2, "restrict": 3, "remove": 4}
MAX_EVIDENCE = 10


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict or sanction as recorded. Never edited; a reversal is a new decision.

    ``kind`` is ``item`` (action on content) or ``account`` (a sanction). ``reasons`` is the
    statement of reasons shown to the user and the auditor.
    """

    id: str
    platform: str
    account: str
    item_id: str | None
    kind: str
    action: str
    category: str | None
    rule: str | None
    policy_version: str
    automated: bool
    actor: str
    reasons: dict[str, Any]
    at: datetime


@dataclass(slots=True)
class AccountState:
    """An account's recorded history, as far as the ladder needs it."""

    platform: str
    account: str
    strikes: list[Strike] = field(default_factory=list)
    sanctions: list[Sanction] = field(default_factory=list)


@dataclass(slots=True)
class AuditContext:
    """What ``audit`` needs besides the batch and the policy.

    ``accounts`` holds the history of the batch's accounts (missing = no history) and is
    updated in place as strikes and sanctions are decided, so consecutive batches see each
    other. ``previous`` maps (platform, item id) to the action already recorded for an
    item being re-audited after an edit: an unchanged action records nothing new.
    """

    detectors: Sequence[Detector]
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    accounts: dict[tuple[str, str], AccountState] = field(default_factory=dict)
    previous: dict[tuple[str, str], str] = field(default_factory=dict)
    actor: str = AUTOMATED_ACTOR
    #: Signals found outside the detectors, by (platform, item id): relations between
    #: items (plagiarism, coordinated posting; see ``vigil.relations``).
    extra: dict[tuple[str, str], list[Signal]] = field(default_factory=dict)


@dataclass(slots=True)
class AuditResult:
    """Everything ``audit`` concluded about one item."""

    item: Item
    signals: list[Signal]
    verdict: Verdict
    decision: Decision | None = None
    strike: Strike | None = None
    sanction: Sanction | None = None
    sanction_decision: Decision | None = None

    @property
    def decisions(self) -> list[Decision]:
        return [d for d in (self.decision, self.sanction_decision) if d is not None]


def _id(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def _run(batch: Sequence[Item], detectors: Sequence[Detector]) -> list[list[Signal]]:
    prepared = [Prepared(it) for it in batch]
    out: list[list[Signal]] = [[] for _ in batch]
    for det in sorted(detectors, key=lambda d: d.cost):
        for acc, found in zip(out, det.detect(prepared), strict=True):
            acc.extend(found)
    return out


def detect(batch: Sequence[Item], detectors: Sequence[Detector], *, context: bool = True
           ) -> list[list[Signal]]:
    """Run every detector over the batch, cheapest first; one signal list per item.

    With ``context`` (see ``vigil.context``): harassment in a text that addresses no one is
    damped (swearing is not abuse unless aimed at someone), and items whose abuse, hate,
    violence or sexual content may sit inside quotation marks are scored again with the
    quotations blanked, so harm found only in quoted words is damped (reported speech)."""
    out = _run(batch, detectors)
    if not context:
        return out
    out = [damp_untargeted(sigs, item.text) if any(s.category == "harassment" for s in sigs)
           else sigs for item, sigs in zip(batch, out, strict=True)]
    redo: list[int] = []
    blanked: list[Item] = []
    for i, (item, sigs) in enumerate(zip(batch, out, strict=True)):
        if not any(s.category in CONTEXT_CATEGORIES and s.score >= RECHECK_FROM for s in sigs):
            continue
        text = without_quotes(item.text)
        if text is not None:
            redo.append(i)
            blanked.append(replace(item, text=text))
    if not redo:
        return out
    for i, sigs in zip(redo, _run(blanked, detectors), strict=True):
        out[i] = damp_quoted(out[i], best_scores(sigs))
    return out


def _evidence(verdict: Verdict) -> list[dict[str, Any]]:
    ev: list[dict[str, Any]] = []
    for f in verdict.findings:
        for s in f.signals:
            for e in s.evidence:
                d = e.to_dict()
                d["category"] = f.category
                d["detector"] = s.detector
                ev.append(d)
    return ev[:MAX_EVIDENCE]


def statement_of_reasons(item: Item, verdict: Verdict, policy: Policy) -> dict[str, Any]:
    """The statement of reasons for an item decision: what, why, under which rule, how to
    appeal. It names the policy version, the rule, the signals and their evidence."""
    top = verdict.primary
    assert top is not None
    if top.action == "allow":
        facts = (
            f"{top.category} score {top.score:.2f} is in the review band "
            f"(from {top.threshold:.2f}); sent to human review, no action taken yet"
        )
    else:
        facts = (
            f"{top.category} score {top.score:.2f} reached the {top.action} threshold "
            f"{top.threshold:.2f} (rule {top.rule})"
        )
    return {
        "action": verdict.action,
        "category": verdict.category,
        "rule": verdict.rule,
        "facts": facts,
        "policy": {"name": policy.name, "version": policy.version},
        "automated": True,
        "review": {"queue": verdict.queue} if verdict.review else None,
        "findings": [
            {"category": f.category, "score": round(f.score, 4), "action": f.action,
             "rule": f.rule, "detectors": sorted({s.detector for s in f.signals})}
            for f in verdict.findings
        ],
        "evidence": _evidence(verdict),
        "signals": [s.to_dict() for f in verdict.findings for s in f.signals],
        "content_hash": item.content_hash,
        "appeal": appeal_text(policy),
    }


def audit(batch: Sequence[Item], policy: Policy, context: AuditContext) -> list[AuditResult]:
    """Audit a batch: detect, evaluate, and decide item actions, strikes and sanctions.

    Account steps run in time order (``created_at``) within the batch so that an account
    with several violations climbs the ladder in the order they happened.
    """
    signals = detect(batch, context.detectors)
    if context.extra:
        signals = [sigs + context.extra.get((item.platform, item.id), [])
                   for item, sigs in zip(batch, signals, strict=True)]
    results = [
        AuditResult(item, sigs, evaluate(sigs, policy))
        for item, sigs in zip(batch, signals, strict=True)
    ]
    now = context.now
    order = sorted(
        range(len(batch)), key=lambda i: (batch[i].created_at or now, i)
    )
    strike_on: set[str] = set(policy.data.strikes.on_actions)
    for i in order:
        _decide(results[i], policy, context, strike_on)
    return results


def _decide(r: AuditResult, policy: Policy, ctx: AuditContext, strike_on: set[str]) -> None:
    item, verdict, now = r.item, r.verdict, ctx.now
    if verdict.action == "allow" and not verdict.review:
        return
    action = verdict.action if verdict.action != "allow" else "review"
    key = (item.platform, item.id)
    previous = ctx.previous.get(key)
    if previous is not None and EDIT_RANK.get(previous, 0) >= EDIT_RANK[action]:
        return  # an edit that changes nothing the platform must do
    # the action is part of the id: an item audited again (a relation found later) may
    # escalate under the same content and policy
    decision_id = _id(item.platform, item.id, item.content_hash, policy.version, "item",
                      action)
    r.decision = Decision(
        id=decision_id,
        platform=item.platform,
        account=item.account,
        item_id=item.id,
        kind="item",
        action=action,
        category=verdict.category,
        rule=verdict.rule,
        policy_version=policy.version,
        automated=True,
        actor=ctx.actor,
        reasons=statement_of_reasons(item, verdict, policy),
        at=now,
    )
    assert verdict.category is not None
    weight = policy.categories[verdict.category].strike
    if verdict.action not in strike_on or weight <= 0:
        return
    akey = (item.platform, item.account)
    state = ctx.accounts.setdefault(akey, AccountState(item.platform, item.account))
    r.strike, r.sanction, r.sanction_decision = strike_and_sanction(
        state, item.id, verdict.category, weight, decision_id,
        min(item.created_at or now, now), now, policy, ctx.actor,
        f"item {item.id} was removed for {verdict.category}")


def appeal_text(policy: Policy) -> str:
    """How to appeal, as every statement of reasons says it."""
    return (f"You can appeal this decision within {policy.data.appeal_window_days} days; "
            "a different reviewer will look at it.")


def strike_and_sanction(state: AccountState, item_id: str, category: str, weight: float,
                        decision_id: str, strike_at: datetime, now: datetime, policy: Policy,
                        actor: str, cause: str
                        ) -> tuple[Strike, Sanction | None, Decision | None]:
    """The strike an item decision gives its account and the sanction the ladder then calls
    for (with its decision), each appended to ``state``. ``cause`` ends the sanction's
    facts ("... after <cause>")."""
    strike = Strike(id=_id(decision_id, "strike"), platform=state.platform,
                    account=state.account, item_id=item_id, category=category,
                    weight=weight, at=strike_at, decision_id=decision_id)
    state.strikes.append(strike)
    plan = plan_sanction(state.strikes, state.sanctions, strike_at, now, policy)
    if plan is None:
        return strike, None, None
    sanction_decision_id = _id(strike.id, "sanction")
    sanction = Sanction(
        id=_id(sanction_decision_id, plan.kind), platform=state.platform,
        account=state.account, kind=plan.kind, step=plan.step, at=plan.starts,
        expires_at=plan.expires_at, decision_id=sanction_decision_id,
        reason=f"strike total {plan.points:.2f} reached rung {plan.step} (at {plan.rung_at:g})",
    )
    state.sanctions.append(sanction)
    days = None
    if plan.expires_at is not None:
        days = round((plan.expires_at - plan.starts).total_seconds() / 86400.0, 2)
    rule = f"ladder.{plan.step}.{plan.kind}"
    decision = Decision(
        id=sanction_decision_id, platform=state.platform, account=state.account,
        item_id=item_id, kind="account", action=plan.kind, category=category, rule=rule,
        policy_version=policy.version, automated=True, actor=actor,
        reasons={
            "action": plan.kind,
            "category": category,
            "rule": rule,
            "facts": (
                f"account's decayed strike total {plan.points:.2f} reached ladder step "
                f"{plan.step} ({plan.kind} at {plan.rung_at:g}) after {cause}"
            ),
            "policy": {"name": policy.name, "version": policy.version},
            "automated": True,
            "strike_points": round(plan.points, 4),
            "days": days,
            "expires_at": plan.expires_at.isoformat() if plan.expires_at else None,
            "trigger": {"item": item_id, "decision": decision_id},
            "appeal": appeal_text(policy),
        },
        at=now,
    )
    return strike, sanction, decision
