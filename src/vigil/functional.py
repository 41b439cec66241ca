"""Functional test cases for the detectors, in English and Chinese.

Aggregate scores hide the mistakes that matter most: flagging counter-speech, negation
and quoting as hate, and missing abuse that is merely spelled oddly. The bundled case
files (``vigil/data/functional/<lang>.jsonl``, written for Vigil) hold short posts of one
*kind* each, with what a detector stack must and must not flag on them::

    {"id": "en-neg-001", "text": "I don't hate immigrants.", "lang": "en",
     "kind": "negation", "expect": {"hate": false}, "note": ""}

``expect`` names the categories that MUST be flagged (true) or MUST NOT be (false);
categories it does not name are not checked. A case passes when every true expectation is
flagged and no false one is.

:func:`load_cases` reads and validates the files, :func:`run_cases` scores any
``flag_fn(texts, langs) -> flagged categories per text`` against them, and
:func:`flag_fn_from_policy` builds that function from detectors and a policy: a category
counts as flagged when the policy produces a finding for it (an action or review).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from vigil.detectors import CATEGORIES, Detector
from vigil.errors import InputError
from vigil.policy import Policy
from vigil.quality import score_and_flag

#: Case kinds, in report order. The first six are contexts a detector must NOT flag; the
#: rest are controls a detector must get right, so that flagging nothing cannot pass.
KINDS: tuple[str, ...] = (
    "negation",
    "counter_speech",
    "quoting",
    "reclaimed",
    "identity_positive",
    "untargeted_profanity",
    "direct_hate",
    "threat",
    "insult",
    "obfuscated",
    "spam_control",
    "benign",
)
#: Kinds whose cases expect some category to fire.
CONTROL_KINDS: tuple[str, ...] = ("direct_hate", "threat", "insult", "obfuscated", "spam_control")
#: Languages with a bundled case file.
LANGS: tuple[str, ...] = ("en", "zh")

_FIELDS = frozenset({"id", "text", "lang", "kind", "expect", "note"})

#: ``flag_fn(texts, langs)``: the categories flagged on each text, in order.
FlagFn = Callable[[list[str], list[str | None]], list[set[str]]]


@dataclass(frozen=True, slots=True)
class Case:
    """One functional test case: a text and the categories that must (not) be flagged."""

    id: str
    text: str
    lang: str
    kind: str
    expect: dict[str, bool]
    note: str = ""

    def passes(self, flagged: Iterable[str]) -> bool:
        """Whether ``flagged`` (the categories a detector stack flagged) meets ``expect``."""
        got = set(flagged)
        return all((cat in got) == want for cat, want in self.expect.items())


def _case(raw: Any, source: str, line: int, lang: str | None) -> Case:
    def bad(reason: str) -> InputError:
        return InputError(reason, where=source, line=line)

    if not isinstance(raw, dict):
        raise bad("a case must be a JSON object")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise bad(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_FIELDS)}")
    for key in ("id", "text", "lang", "kind"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise bad(f"{key!r} must be a non-empty string")
    if lang is not None and raw["lang"] != lang:
        raise bad(f"case {raw['id']!r} has lang {raw['lang']!r} in the {lang!r} file")
    if raw["kind"] not in KINDS:
        raise bad(f"case {raw['id']!r}: unknown kind {raw['kind']!r}; known: {list(KINDS)}")
    expect = raw.get("expect")
    if not isinstance(expect, dict) or not expect:
        raise bad(f"case {raw['id']!r}: 'expect' must map at least one category to true/false")
    for cat, want in expect.items():
        if cat not in CATEGORIES:
            raise bad(f"case {raw['id']!r}: unknown category {cat!r}; known: {list(CATEGORIES)}")
        if not isinstance(want, bool):
            raise bad(f"case {raw['id']!r}: expect[{cat!r}] must be true or false")
    note = raw.get("note", "")
    if not isinstance(note, str):
        raise bad(f"case {raw['id']!r}: 'note' must be a string")
    return Case(raw["id"], raw["text"], raw["lang"], raw["kind"], dict(expect), note)


def _parse(lines: Iterable[str], source: str, lang: str | None) -> list[tuple[int, Case]]:
    cases: list[tuple[int, Case]] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", where=source, line=n) from None
        case = _case(raw, source, n, lang)
        if case.id in seen:
            raise InputError(
                f"duplicate id {case.id!r} (first on line {seen[case.id]})", where=source, line=n
            )
        seen[case.id] = n
        cases.append((n, case))
    return cases


def parse_cases(
    lines: Iterable[str], source: str = "<cases>", lang: str | None = None
) -> list[Case]:
    """Parse JSONL case lines (blank lines skipped), raising :class:`InputError` naming
    ``source`` and the line at the first problem. With ``lang`` every case must be in it."""
    return [case for _, case in _parse(lines, source, lang)]


def load_cases(langs: Sequence[str] = LANGS) -> list[Case]:
    """Load and validate the bundled case files for ``langs`` (ids unique across files)."""
    if isinstance(langs, str):
        langs = (langs,)
    root = resources.files("vigil").joinpath("data", "functional")
    cases: list[Case] = []
    first: dict[str, str] = {}
    for lang in langs:
        name = f"{lang}.jsonl"
        ref = root.joinpath(name)
        if lang not in LANGS or not ref.is_file():
            raise InputError(f"no functional cases for language {lang!r}; have {list(LANGS)}")
        text = ref.read_text(encoding="utf-8")
        for n, case in _parse(text.splitlines(), name, lang):
            if case.id in first:
                raise InputError(
                    f"duplicate id {case.id!r} (already in {first[case.id]})", where=name, line=n
                )
            first[case.id] = name
            cases.append(case)
    return cases


@dataclass(frozen=True, slots=True)
class Tally:
    """Passed out of total; ``accuracy`` is 0.0 for an empty tally."""

    passed: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def add(self, ok: bool) -> Tally:
        return Tally(self.passed + int(ok), self.total + 1)

    def cell(self) -> str:
        if not self.total:
            return "-"
        return f"{100 * self.accuracy:.1f}% ({self.passed}/{self.total})"


@dataclass(frozen=True, slots=True)
class Failure:
    """A case that did not pass: what was expected and every category that was flagged."""

    id: str
    kind: str
    lang: str
    text: str
    expected: dict[str, bool]
    got: frozenset[str]


@dataclass(frozen=True, slots=True)
class FunctionalReport:
    """Accuracy per kind, per (kind, language), per language and overall, plus failures."""

    by_kind: dict[str, Tally] = field(default_factory=dict)
    by_kind_lang: dict[tuple[str, str], Tally] = field(default_factory=dict)
    by_lang: dict[str, Tally] = field(default_factory=dict)
    overall: Tally = Tally()
    failures: list[Failure] = field(default_factory=list)

    def table(self) -> str:
        """A markdown table: one row per kind, one column per language plus all."""
        langs = [lang for lang in LANGS if lang in self.by_lang]
        langs += sorted(set(self.by_lang) - set(langs))

        def row(cells: list[str]) -> str:
            return "| " + " | ".join(cells) + " |"

        rows = [row(["kind", *langs, "all"]), row(["---", *["---:"] * (len(langs) + 1)])]
        for kind, tally in self.by_kind.items():
            per_lang = [self.by_kind_lang.get((kind, lang), Tally()).cell() for lang in langs]
            rows.append(row([kind, *per_lang, tally.cell()]))
        per_lang = [self.by_lang[lang].cell() for lang in langs]
        rows.append(row(["**overall**", *per_lang, self.overall.cell()]))
        return "\n".join(rows)


def run_cases(cases: Sequence[Case], flag_fn: FlagFn) -> FunctionalReport:
    """Score ``flag_fn`` on ``cases``, calling it once with every text and language."""
    flagged = flag_fn([c.text for c in cases], [c.lang for c in cases])
    if len(flagged) != len(cases):
        raise ValueError(f"flag_fn returned {len(flagged)} results for {len(cases)} texts")
    order = {k: i for i, k in enumerate(KINDS)}
    by_kind: dict[str, Tally] = {}
    by_kind_lang: dict[tuple[str, str], Tally] = {}
    by_lang: dict[str, Tally] = {}
    overall = Tally()
    failures: list[Failure] = []
    for case, got in zip(cases, flagged, strict=True):
        ok = case.passes(got)
        by_kind[case.kind] = by_kind.get(case.kind, Tally()).add(ok)
        key = (case.kind, case.lang)
        by_kind_lang[key] = by_kind_lang.get(key, Tally()).add(ok)
        by_lang[case.lang] = by_lang.get(case.lang, Tally()).add(ok)
        overall = overall.add(ok)
        if not ok:
            failures.append(
                Failure(case.id, case.kind, case.lang, case.text, dict(case.expect), frozenset(got))
            )
    by_kind = dict(sorted(by_kind.items(), key=lambda kv: order.get(kv[0], len(order))))
    return FunctionalReport(by_kind, by_kind_lang, by_lang, overall, failures)


def flag_fn_from_policy(
    detectors: Sequence[Detector], policy: Policy, batch_size: int = 256
) -> FlagFn:
    """A ``flag_fn`` that runs ``detectors`` and flags every category ``policy`` gives a
    finding for: an action stronger than allow, or review."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")

    def flag_fn(texts: list[str], langs: list[str | None]) -> list[set[str]]:
        if len(texts) != len(langs):
            raise ValueError(f"{len(texts)} texts but {len(langs)} languages")
        return score_and_flag(texts, langs, detectors, policy, batch_size)[1]

    return flag_fn


__all__ = [
    "CONTROL_KINDS",
    "KINDS",
    "LANGS",
    "Case",
    "Failure",
    "FlagFn",
    "FunctionalReport",
    "Tally",
    "flag_fn_from_policy",
    "load_cases",
    "parse_cases",
    "run_cases",
]
