"""Human review: cases, queues, claims, reviewer decisions, appeals.

A *case* is a unit of review work on one item (or, for an appeal, one decision): opened
when a verdict falls in the review band, when a user or a trusted flagger reports an item,
or when a user appeals. Queues are ordered by priority — severity × reach, trusted flaggers
first — then age. A reviewer *claims* a case (an exclusive lock that times out), then
*decides* it with a reason (templates per category) or *escalates* it. An appeal is
resolved by a *different* reviewer than the one who made the decision; overturning it
reverses the action, the strike and the sanctions it caused, each as a new decision.

This module holds the pure parts (priorities, reason templates, building decisions);
``vigil.store.review`` applies them in one transaction each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.audit import appeal_text
from vigil.policy import Policy

CASE_KINDS = ("review", "report", "appeal")
#: Reviewer outcomes on an item case; "allow" means no violation.
REVIEW_ACTIONS = ("allow", "label", "restrict", "remove")
APPEAL_OUTCOMES = ("upheld", "overturned")
TRUSTED_BONUS = 100.0
ESCALATION_BONUS = 50.0

#: Reason templates per category: reviewers pick one (or write their own text); the
#: chosen text goes into the statement of reasons.
TEMPLATES: dict[str, dict[str, str]] = {
    "spam": {"promo": "Unsolicited commercial promotion or contact-information bait.",
             "scam": "A scam: it asks for money, card details or personal data under false "
                     "pretences."},
    "sexual": {"explicit": "Sexually explicit content.",
               "solicitation": "Sexual solicitation."},
    "harassment": {"insult": "Insults or vulgar abuse aimed at a person.",
                   "bullying": "Repeated targeting of a person."},
    "hate": {"attack": "An attack on people for a protected characteristic.",
             "dehumanising": "Dehumanising language about a protected group."},
    "violence": {"threat": "A threat of violence against a person or group.",
                 "incitement": "A call to violence or to riot."},
    "misinformation": {"false_claim": "Repeats a claim fact-checkers have rated false."},
    "plagiarism": {"copy": "Copies another account's earlier work without attribution."},
    "child_safety": {"sexualisation": "Sexualises minors.",
                     "grooming": "Grooming: an adult seeking sexual contact with a minor."},
    "none": {"no_violation": "No violation of the policy found."},
}


def priority(severity: int, reach: int, trusted: bool = False, escalated: bool = False
             ) -> float:
    """Severity × reach (log-scaled), trusted flaggers first, escalations next."""
    p = severity * (1.0 + math.log10(1 + max(reach, 0)))
    if trusted:
        p += TRUSTED_BONUS
    if escalated:
        p += ESCALATION_BONUS
    return round(p, 4)


def severity_of(policy: Policy, category: str | None) -> int:
    rule = policy.categories.get(category or "")
    return rule.severity if rule is not None else 1


def reason_text(category: str | None, template: str | None, text: str | None) -> str:
    """The reviewer's reason: a template's text (checked), their own words, or both."""
    parts = []
    if template is not None:
        known = TEMPLATES.get(category or "none", {}) | TEMPLATES["none"]
        if template not in known:
            raise ValueError(f"unknown template {template!r} for {category or 'none'}; "
                             f"use one of {', '.join(sorted(known))}")
        parts.append(known[template])
    if text:
        parts.append(text.strip())
    if not parts:
        raise ValueError("give a reason: a template or text")
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Reviewer:
    """Who decides: an API key (and the name it was given)."""

    key_id: str
    name: str = ""

    @property
    def actor(self) -> str:
        return f"reviewer:{self.key_id}"


def reviewer_reasons(action: str, category: str | None, rule: str, facts: str,
                     policy: Policy, reviewer: Reviewer, **extra: Any) -> dict[str, Any]:
    return {
        "action": action, "category": category, "rule": rule, "facts": facts,
        "policy": {"name": policy.name, "version": policy.version},
        "automated": False, "reviewer": reviewer.actor, **extra,
        "appeal": appeal_text(policy),
    }


def appeal_open(decided_at: datetime, now: datetime, policy: Policy) -> bool:
    return (now - decided_at).total_seconds() <= policy.data.appeal_window_days * 86400.0
