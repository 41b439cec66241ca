"""Detectors look at a batch of items and emit signals.

A detector is anything with ``name``, ``version``, ``categories``, ``cost`` and
``detect(batch) -> list[list[Signal]]`` (one list per item, same order), plus
``examples()`` that :func:`check_detector` runs. Detectors are pure: the only state they
keep is what they loaded at construction (a lexicon, a model, an index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

from vigil.items import Item
from vigil.normalize import Normalized, normalize_both

CATEGORIES: tuple[str, ...] = (
    "spam",
    "sexual",
    "harassment",
    "hate",
    "violence",
    "misinformation",
    "plagiarism",
    "child_safety",
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a signal fired: a span of the ORIGINAL text and/or a reference (claim, item...)."""

    text: str
    start: int | None = None
    end: int | None = None
    note: str = ""
    ref: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        if self.start is not None:
            d["start"] = self.start
            d["end"] = self.end
        if self.note:
            d["note"] = self.note
        if self.ref:
            d["ref"] = dict(self.ref)
        return d


@dataclass(frozen=True, slots=True)
class Signal:
    """One finding about one item."""

    category: str
    score: float
    detector: str
    version: str
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "score": round(self.score, 4),
            "detector": self.detector,
            "version": self.version,
            "evidence": [e.to_dict() for e in self.evidence],
        }


def best_scores(signals: Sequence[Signal]) -> dict[str, float]:
    """The highest score per category among ``signals``."""
    best: dict[str, float] = {}
    for s in signals:
        if s.score > best.get(s.category, -1.0):
            best[s.category] = s.score
    return best


class Prepared:
    """An item with its normalised views, computed once and shared by every detector."""

    __slots__ = ("__dict__", "item")

    def __init__(self, item: Item) -> None:
        self.item = item

    @cached_property
    def _views(self) -> tuple[Normalized, Normalized]:
        return normalize_both(self.item.text, lang=self.item.lang)

    @property
    def match(self) -> Normalized:
        """Aggressive view for term matching: folded, de-obfuscated, repeats collapsed."""
        return self._views[1]

    @property
    def folded(self) -> Normalized:
        """Light view for patterns (URLs, phone numbers): width/compat folding, invisibles
        removed, homoglyphs folded, case kept."""
        return self._views[0]


@dataclass(frozen=True, slots=True)
class Example:
    """A detector's own example: what must and must not fire on ``text``."""

    text: str
    fires: frozenset[str] = frozenset()
    quiet: frozenset[str] = frozenset()
    lang: str | None = None
    why: str = ""


@runtime_checkable
class Detector(Protocol):
    name: str
    version: str
    categories: tuple[str, ...]
    cost: int

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]: ...

    def examples(self) -> list[Example]: ...


@dataclass(slots=True)
class Conformance:
    """What :func:`check_detector` found; ``ok`` when ``failures`` is empty."""

    detector: str
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


FIRE_AT = 0.5


def check_detector(detector: Detector) -> Conformance:
    """Run a detector's own examples and the contract every detector must keep."""
    report = Conformance(detector.name)
    fail = report.failures
    for attr in ("name", "version", "categories", "cost"):
        if not hasattr(detector, attr):
            fail.append(f"missing attribute {attr!r}")
    unknown = set(detector.categories) - set(CATEGORIES)
    if unknown:
        fail.append(f"categories not in the vocabulary: {sorted(unknown)}")
    if detector.detect([]) != []:
        fail.append("detect([]) must return []")
    examples = detector.examples()
    if not examples:
        fail.append("ships no examples")
    items = [
        Item(id=f"ex{i}", account="example", text=ex.text, lang=ex.lang)
        for i, ex in enumerate(examples)
    ]
    batch = [Prepared(it) for it in items]
    out = detector.detect(batch)
    again = detector.detect([Prepared(it) for it in items])
    if len(out) != len(batch):
        fail.append(f"detect returned {len(out)} lists for {len(batch)} items")
        return report
    if out != again:
        fail.append("detect is not deterministic")
    for ex, item, signals in zip(examples, items, out, strict=True):
        report.checked += 1
        fired = set()
        for s in signals:
            if s.category not in detector.categories:
                fail.append(f"{ex.text!r}: signal category {s.category!r} not declared")
            if not 0.0 <= s.score <= 1.0:
                fail.append(f"{ex.text!r}: score {s.score} outside [0, 1]")
            if s.detector != detector.name or s.version != detector.version:
                fail.append(f"{ex.text!r}: signal names {s.detector}@{s.version}")
            for ev in s.evidence:
                if ev.start is not None:
                    end = ev.end if ev.end is not None else ev.start
                    if item.text[ev.start : end] != ev.text:
                        fail.append(
                            f"{ex.text!r}: evidence {ev.text!r} does not match original "
                            f"text[{ev.start}:{end}] = {item.text[ev.start:end]!r}"
                        )
            if s.score >= FIRE_AT:
                fired.add(s.category)
        for cat in ex.fires - fired:
            fail.append(f"{ex.text!r}: expected {cat} to fire ({ex.why})".rstrip(" ()"))
        for cat in ex.quiet & fired:
            fail.append(f"{ex.text!r}: {cat} fired but should not ({ex.why})".rstrip(" ()"))
    return report


__all__ = [
    "CATEGORIES",
    "Conformance",
    "Detector",
    "Evidence",
    "Example",
    "Prepared",
    "Signal",
    "best_scores",
    "check_detector",
]


def default_detectors() -> list[Detector]:
    """The detectors a default install runs."""
    from vigil.detectors.classifier import ClassifierDetector
    from vigil.detectors.lexicon import LexiconDetector
    from vigil.detectors.spam_patterns import SpamPatternDetector

    return [SpamPatternDetector(), LexiconDetector(), ClassifierDetector()]


__all__ += ["default_detectors"]
