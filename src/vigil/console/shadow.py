"""Policy versions side by side: a unified diff of two versions, and shadow-mode
precision and recall of a version against what reviewers decided.

Shadow mode re-evaluates every reviewed item's STORED scores (the best score per category
kept with the item) under a policy version, without writing anything, and compares the
result with the latest reviewer decision on the item: remove, restrict or label (or an
appeal upheld) mark a violation; allow, or an appeal overturned (reinstate), mark none.
An item counts as flagged by the version when the version would take an action on it
(the review band alone is not an action). Only categories that reached the review band
when the item was audited are stored, so a version looser than the one the items were
audited under cannot be judged on the rest.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, true

from vigil.detectors import Signal
from vigil.errors import PolicyError
from vigil.policy import Policy, evaluate, parse_policy
from vigil.store.auditlog import utc
from vigil.store.tables import decisions, items, policies

VIOLATION = ("label", "restrict", "remove")
CHUNK = 500
MAX_ITEMS = 20_000


def versions(conn: Connection) -> list[dict[str, Any]]:
    q = select(policies.c.version, policies.c.name, policies.c.source,
               policies.c.first_used).order_by(policies.c.first_used.desc())
    out = []
    for r in conn.execute(q).mappings():
        d = dict(r)
        d["first_used"] = utc(d["first_used"])
        out.append(d)
    return out


def body(conn: Connection, version: str) -> str | None:
    found: str | None = conn.execute(
        select(policies.c.body).where(policies.c.version == version)).scalar()
    return found


def diff(old_text: str, new_text: str, old_name: str, new_name: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line): kind is ``add``, ``del``, ``hunk``, ``file`` or
    ``same``."""
    out = []
    for line in difflib.unified_diff(old_text.splitlines(), new_text.splitlines(),
                                     old_name, new_name, lineterm=""):
        if line.startswith(("---", "+++")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, flagged: bool, violation: bool) -> None:
        if flagged and violation:
            self.tp += 1
        elif flagged:
            self.fp += 1
        elif violation:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Shadow:
    version: str
    name: str
    items: int = 0
    overall: Score = field(default_factory=Score)
    same_action: int = 0
    review_band: int = 0
    by_category: dict[str, Score] = field(default_factory=dict)
    error: str = ""

    @property
    def agreement(self) -> float | None:
        return self.same_action / self.items if self.items else None


def ground_truth(conn: Connection, scope: Sequence[str] | None
                 ) -> dict[tuple[str, str], tuple[bool, str, str | None]]:
    """(platform, item) -> (violation, action, category) from the reviewers' latest
    word on each item, oldest decisions first."""
    q = (select(decisions.c.platform, decisions.c.item_id, decisions.c.action,
                decisions.c.category, decisions.c.at, decisions.c.id)
         .where(decisions.c.kind == "item", decisions.c.automated.is_(False),
                decisions.c.item_id.is_not(None),
                decisions.c.platform.in_(list(scope)) if scope is not None else true())
         .order_by(decisions.c.at, decisions.c.id))
    truth: dict[tuple[str, str], tuple[bool, str, str | None]] = {}
    for platform, item_id, action, category, _, _ in conn.execute(q):
        key = (platform, item_id)
        if action in VIOLATION:
            truth[key] = (True, action, category)
        elif action in ("allow", "reinstate"):
            truth[key] = (False, "allow", None)
        elif action == "uphold" and key not in truth:
            truth[key] = (True, "remove", category)
    if len(truth) > MAX_ITEMS:
        truth = dict(list(truth.items())[-MAX_ITEMS:])
    return truth


def stored_scores(conn: Connection, keys: Sequence[tuple[str, str]]
                  ) -> dict[tuple[str, str], dict[str, float]]:
    grouped: dict[str, list[str]] = {}
    for platform, item_id in keys:
        grouped.setdefault(platform, []).append(item_id)
    out: dict[tuple[str, str], dict[str, float]] = {}
    for platform, ids in grouped.items():
        for i in range(0, len(ids), CHUNK):
            q = select(items.c.external_id, items.c.scores).where(
                items.c.platform == platform, items.c.external_id.in_(ids[i : i + CHUNK]))
            for item_id, scores in conn.execute(q):
                out[(platform, item_id)] = {str(k): float(v)
                                            for k, v in json.loads(scores).items()}
    return out


def shadow(policy: Policy, truth: dict[tuple[str, str], tuple[bool, str, str | None]],
           scores: dict[tuple[str, str], dict[str, float]]) -> Shadow:
    out = Shadow(policy.version, policy.name)
    for key, (violation, action, category) in truth.items():
        found = scores.get(key)
        if found is None:
            continue
        verdict = evaluate([Signal(c, s, "stored", "1") for c, s in found.items()], policy)
        flagged = verdict.action != "allow"
        out.items += 1
        out.overall.add(flagged, violation)
        out.same_action += verdict.action == action
        out.review_band += verdict.review and not flagged
        for cat in {category, verdict.category} - {None}:
            assert cat is not None
            out.by_category.setdefault(cat, Score()).add(
                flagged and verdict.category == cat, violation and category == cat)
    out.by_category = dict(sorted(out.by_category.items()))
    return out


def shadow_all(conn: Connection, scope: Sequence[str] | None) -> list[Shadow]:
    """Shadow results of every recorded policy version over the reviewed items in
    ``scope``; empty when nothing has been reviewed."""
    truth = ground_truth(conn, scope)
    if not truth:
        return []
    scores = stored_scores(conn, list(truth))
    out = []
    for v in versions(conn):
        text = body(conn, v["version"]) or ""
        try:
            policy = parse_policy(text, v["source"])
        except PolicyError as exc:
            out.append(Shadow(v["version"], v["name"], error=str(exc)))
            continue
        out.append(shadow(policy, truth, scores))
    return out
