"""Policy as versioned data, and ``evaluate``: from signals to a verdict with its reasons.

A policy is YAML (see ``vigil/data/policy/default.yaml``). Its version is the hash of its
content (the parsed data, so comments and layout do not matter). Conditions (thresholds)
are kept apart from effects (actions, strikes, the ladder); there is no rule language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigil.detectors import Signal
from vigil.errors import PolicyError, PolicyProblem

#: Item actions from mildest to strongest. ``allow`` is the absence of an action.
ACTIONS: tuple[str, ...] = ("allow", "label", "restrict", "remove")
ACTION_RANK = {a: i for i, a in enumerate(ACTIONS)}
#: Account sanctions from mildest to strongest.
SANCTIONS: tuple[str, ...] = ("warn", "restrict", "suspend", "shut_down")

ItemAction = Literal["label", "restrict", "remove"]
SanctionKind = Literal["warn", "restrict", "suspend", "shut_down"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryRule(_Model):
    """What the policy does about one category."""

    description: str = ""
    severity: int = Field(ge=1, le=5)
    thresholds: dict[ItemAction, float] = Field(default_factory=dict)
    review_from: float | None = Field(default=None, ge=0.0, le=1.0)
    strike: float = Field(default=1.0, ge=0.0)
    always_review: bool = False
    review_queue: str = "standard"

    @field_validator("thresholds")
    @classmethod
    def _in_unit_interval(cls, v: dict[str, float]) -> dict[str, float]:
        for action, t in v.items():
            if not 0.0 < t <= 1.0:
                raise ValueError(f"threshold for {action!r} must be in (0, 1], got {t}")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> CategoryRule:
        ts = [(ACTION_RANK[a], t, a) for a, t in self.thresholds.items()]
        ts.sort()
        for (_, t1, a1), (_, t2, a2) in pairwise(ts):
            if t2 < t1:
                raise ValueError(
                    f"a stronger action needs a higher threshold: {a2} ({t2}) < {a1} ({t1})"
                )
        if self.review_from is not None and ts and self.review_from > min(t for _, t, _ in ts):
            raise ValueError("review_from must not exceed the lowest action threshold")
        if not ts and self.review_from is None:
            raise ValueError("give at least one threshold or review_from")
        return self

    @property
    def lowest_threshold(self) -> float:
        return min(self.thresholds.values(), default=1.01)


class StrikeRules(_Model):
    on_actions: list[ItemAction] = Field(default_factory=lambda: ["remove"])  # type: ignore[arg-type]
    half_life_days: float = Field(default=90.0, gt=0.0)


class Rung(_Model):
    """One step of the account ladder."""

    sanction: SanctionKind
    at: float = Field(gt=0.0)
    days: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _timed(self) -> Rung:
        if self.sanction in ("suspend", "restrict") and self.days is None:
            raise ValueError(f"{self.sanction} needs 'days' (how long it lasts)")
        if self.sanction in ("warn", "shut_down") and self.days is not None:
            raise ValueError(f"{self.sanction} cannot be timed; remove 'days'")
        return self


class PlagiarismRules(_Model):
    """When a near-copy of an earlier item by another account is plagiarism.

    ``min_shingles``: an item (and its original) needs at least this many distinct
    shingles (word or character bigrams) to be judged, so short common phrases are never
    "copied". ``min_share``: the least share of the item's shingles found in the original
    (containment) for a signal; the signal's score is that share.
    """

    enabled: bool = True
    min_shingles: int = Field(default=20, ge=1)
    min_share: float = Field(default=0.5, gt=0.0, le=1.0)


Artefact = Literal["url", "phone", "handle", "email"]


class CoordinationRules(_Model):
    """Coordinated posting: at least ``min_accounts`` distinct accounts posting
    near-identical text (resemblance ≥ ``text_similarity``, texts of at least
    ``min_shingles`` shingles) or the same artefact (link, phone number, messaging handle,
    e-mail address) within ``window_hours`` form a cluster; its items get a ``spam`` signal
    of ``text_score`` or ``artefact_score``. Links to ``ignore_domains`` (and their
    subdomains) never form clusters: everyone shares them."""

    enabled: bool = True
    min_accounts: int = Field(default=5, ge=2)
    window_hours: float = Field(default=24.0, gt=0.0)
    text_similarity: float = Field(default=0.8, gt=0.0, le=1.0)
    min_shingles: int = Field(default=10, ge=1)
    artefacts: list[Artefact] = Field(
        default_factory=lambda: list(get_args(Artefact)))
    text_score: float = Field(default=0.6, ge=0.0, le=1.0)
    artefact_score: float = Field(default=0.6, ge=0.0, le=1.0)
    ignore_domains: list[str] = Field(default_factory=list)
    #: A sanction for every account of a cluster when the cluster is found (the group
    #: sanction), besides the items' own decisions; ``None``: none.
    account_sanction: SanctionKind | None = None
    account_sanction_days: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _timed(self) -> CoordinationRules:
        kind, days = self.account_sanction, self.account_sanction_days
        if kind in ("suspend", "restrict") and days is None:
            raise ValueError(f"account_sanction {kind} needs account_sanction_days")
        if kind not in ("suspend", "restrict") and days is not None:
            raise ValueError("account_sanction_days needs a timed account_sanction "
                             "(restrict or suspend)")
        return self


class PolicyData(_Model):
    name: str
    description: str = ""
    categories: dict[str, CategoryRule]
    strikes: StrikeRules = Field(default_factory=StrikeRules)
    ladder: list[Rung] = Field(default_factory=list)
    appeal_window_days: int = Field(default=180, ge=0)
    plagiarism: PlagiarismRules = Field(default_factory=PlagiarismRules)
    coordination: CoordinationRules = Field(default_factory=CoordinationRules)

    @field_validator("categories")
    @classmethod
    def _known_or_custom(cls, v: dict[str, CategoryRule]) -> dict[str, CategoryRule]:
        for name in v:
            if not name or not name.replace("_", "").isalnum() or name != name.lower():
                raise ValueError(f"category name {name!r} must be lower_snake_case")
        return v

    @field_validator("ladder")
    @classmethod
    def _increasing(cls, v: list[Rung]) -> list[Rung]:
        for a, b in pairwise(v):
            if b.at <= a.at:
                raise ValueError(f"ladder 'at' must increase: {b.sanction} at {b.at} <= {a.at}")
        return v


@dataclass(frozen=True, slots=True)
class Policy:
    """A loaded, validated policy. ``version`` is the hash of its content."""

    data: PolicyData
    version: str
    source: str
    text: str

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def categories(self) -> dict[str, CategoryRule]:
        return self.data.categories


def _version(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (or of its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == key:
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            node = node.value[key] if key < len(node.value) else None
            if node is not None:
                line = node.start_mark.line + 1
        else:
            break
        if node is None:
            break
    return line


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Validate policy YAML; raise :class:`PolicyError` listing every problem."""
    try:
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        raise PolicyError([PolicyProblem(source, where, f"not valid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise PolicyError([PolicyProblem(source, "(document)", "must be a mapping of keys")])
    try:
        data = PolicyData.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if isinstance(p, (str, int)) and p != "[key]"]
            key = ".".join(str(p) for p in loc) or "(document)"
            line = _line_of(node, loc)
            where = f"{source}:{line}" if line else source
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(PolicyProblem(where, key, msg))
        raise PolicyError(problems) from None
    return Policy(data=data, version=_version(data.model_dump(mode="json")), source=source,
                  text=text)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load a policy file, or the bundled default when ``path`` is None."""
    if path is None:
        ref = resources.files("vigil") / "data" / "policy" / "default.yaml"
        return parse_policy(ref.read_text(encoding="utf-8"), "default.yaml")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([PolicyProblem(str(p), "(file)", exc.strerror or str(exc))]) from exc
    return parse_policy(text, str(p))


@dataclass(frozen=True, slots=True)
class Finding:
    """What the policy concluded about one category of one item."""

    category: str
    score: float
    action: str
    rule: str
    threshold: float | None
    review: bool
    signals: tuple[Signal, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the policy concludes for one item, with the reasons behind it."""

    action: str
    review: bool
    queue: str | None
    category: str | None
    rule: str | None
    findings: tuple[Finding, ...]
    policy_version: str

    @property
    def scores(self) -> dict[str, float]:
        return {f.category: f.score for f in self.findings}

    @property
    def primary(self) -> Finding | None:
        for f in self.findings:
            if f.category == self.category:
                return f
        return None


def evaluate(signals: Sequence[Signal], policy: Policy) -> Verdict:
    """Apply ``policy`` to one item's signals.

    Per category the strongest signal counts. The item's action is the strongest action
    across categories (ties go to the more severe category); the item goes to review when
    any category lands in its review band or is ``always_review``.
    """
    best: dict[str, list[Signal]] = {}
    for s in signals:
        best.setdefault(s.category, []).append(s)
    findings: list[Finding] = []
    cats = policy.data.categories
    for category, sigs in best.items():
        rule = cats.get(category)
        if rule is None:
            continue
        sigs.sort(key=lambda s: -s.score)
        score = sigs[0].score
        action, threshold = "allow", None
        for a, t in rule.thresholds.items():
            if score >= t and ACTION_RANK[a] > ACTION_RANK[action]:
                action, threshold = a, t
        in_band = (
            action == "allow" and rule.review_from is not None and score >= rule.review_from
        )
        hit = action != "allow" or in_band
        review = in_band or (rule.always_review and hit)
        if not hit:
            continue
        name = f"{category}.{action if action != 'allow' else 'review'}"
        findings.append(
            Finding(category, score, action, name, threshold or rule.review_from, review,
                    tuple(sigs))
        )
    if not findings:
        return Verdict("allow", False, None, None, None, (), policy.version)
    findings.sort(key=lambda f: (-ACTION_RANK[f.action], -cats[f.category].severity, -f.score))
    top = findings[0]
    review_findings = [f for f in findings if f.review]
    queue = None
    if review_findings:
        queue = max(
            (cats[f.category].review_queue for f in review_findings),
            key=lambda q: q == "urgent",
        )
    return Verdict(
        action=top.action,
        review=bool(review_findings),
        queue=queue,
        category=top.category,
        rule=top.rule,
        findings=tuple(findings),
        policy_version=policy.version,
    )
