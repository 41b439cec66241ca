"""The functional case files (negation, counter-speech, quoting... in en and zh) and the
runner that scores a detector stack against them."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

import pytest

from vigil.detectors import CATEGORIES, Example, Prepared, Signal, default_detectors
from vigil.errors import InputError
from vigil.functional import (
    CONTROL_KINDS,
    KINDS,
    LANGS,
    Case,
    FlagFn,
    FunctionalReport,
    flag_fn_from_policy,
    load_cases,
    parse_cases,
    run_cases,
)
from vigil.policy import load_policy

MIN_PER_KIND_AND_LANG = 30
NEGATIVE_KINDS = tuple(k for k in KINDS if k not in CONTROL_KINDS)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases()


def test_bundled_files_load_and_validate(cases: list[Case]) -> None:
    assert {c.lang for c in cases} == set(LANGS)
    assert {c.kind for c in cases} == set(KINDS)
    assert len({c.id for c in cases}) == len(cases)
    for c in cases:
        assert c.id.startswith(f"{c.lang}-"), c.id
        assert c.expect and set(c.expect) <= set(CATEGORIES), c.id
    assert [c.lang for c in load_cases(("zh",))] == ["zh"] * sum(c.lang == "zh" for c in cases)
    assert load_cases("en") == [c for c in cases if c.lang == "en"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_enough_cases_per_kind_and_language(cases: list[Case], kind: str, lang: str) -> None:
    n = sum(c.kind == kind and c.lang == lang for c in cases)
    assert n >= MIN_PER_KIND_AND_LANG, f"{kind}/{lang}: {n}"


def _key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def test_no_duplicate_texts(cases: list[Case]) -> None:
    counts = Counter(_key(c.text) for c in cases)
    assert [t for t, n in counts.items() if n > 1] == []


def test_expectations_fit_their_kind(cases: list[Case]) -> None:
    for c in cases:
        if c.kind in NEGATIVE_KINDS:
            assert c.expect.get("hate") is False, c.id
            assert True not in c.expect.values(), c.id
        else:
            assert True in c.expect.values(), c.id
    for c in cases:
        if c.kind == "benign":
            assert c.expect == dict.fromkeys(CATEGORIES, False), c.id
        if c.kind in ("counter_speech", "identity_positive", "untargeted_profanity"):
            assert c.expect.get("harassment") is False, c.id
    wanted = {
        "direct_hate": "hate",
        "threat": "violence",
        "insult": "harassment",
        "spam_control": "spam",
    }
    for c in cases:
        if c.kind in wanted:
            assert c.expect == {wanted[c.kind]: True}, c.id
        if c.kind == "obfuscated":
            assert list(c.expect.values()) == [True], c.id
            assert set(c.expect) <= {"hate", "harassment", "violence"}, c.id


PLAIN = re.compile(r"^(?P<how>[^;]+); plain: (?P<plain>.+)$")


def test_every_obfuscated_case_differs_from_its_plain_form(cases: list[Case]) -> None:
    obfuscated = [c for c in cases if c.kind == "obfuscated"]
    techniques: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for c in obfuscated:
        m = PLAIN.match(c.note)
        assert m, f"{c.id}: note must read '<technique>; plain: <plain text>'"
        plain = m["plain"]
        assert c.text != plain, c.id
        assert c.text.casefold() != plain.casefold(), c.id
        assert plain not in c.text, c.id
        techniques[c.lang].add(m["how"])
    # obfuscation, not just one trick repeated: zero-width characters are in the mix
    for c in obfuscated:
        assert not any(ch in c.note for ch in "\u200b\u2060"), c.id
    assert any("\u200b" in c.text for c in obfuscated if c.lang == "en")
    assert any("\u200b" in c.text for c in obfuscated if c.lang == "zh")
    for lang, hows in techniques.items():
        assert len(hows) >= 6, (lang, hows)


def test_zero_width_characters_are_written_as_escapes() -> None:
    from importlib import resources

    root = resources.files("vigil").joinpath("data", "functional")
    for lang in LANGS:
        raw = root.joinpath(f"{lang}.jsonl").read_text(encoding="utf-8")
        assert not any(unicodedata.category(ch) == "Cf" for ch in raw), lang
        assert "\\u200b" in raw, lang


def _line(**overrides: object) -> str:
    import json

    case: dict[str, object] = {
        "id": "x-1",
        "text": "hello",
        "lang": "en",
        "kind": "benign",
        "expect": {"hate": False},
    }
    case.update(overrides)
    return json.dumps({k: v for k, v in case.items() if v is not None})


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (_line(kind="sarcasm"), "unknown kind"),
        (_line(expect={"rudeness": True}), "unknown category"),
        (_line(expect={}), "at least one category"),
        (_line(expect=None), "at least one category"),
        (_line(expect={"hate": "no"}), "true or false"),
        (_line(text=""), "'text' must be a non-empty string"),
        (_line(id=None), "'id' must be a non-empty string"),
        (_line(lang="zh"), "lang 'zh' in the 'en' file"),
        (_line(note=3), "'note' must be a string"),
        (_line(colour="red"), "unknown field"),
    ],
)
def test_invalid_cases_name_the_file_and_line(line: str, why: str) -> None:
    good = _line(id="ok-1")
    with pytest.raises(InputError) as err:
        parse_cases(["", good, line], "cases.jsonl", lang="en")
    assert err.value.line == 3
    assert err.value.where == "cases.jsonl"
    assert why in str(err.value)
    assert "line 3, cases.jsonl" in str(err.value)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(
        InputError, match=r"line 2, f.jsonl: duplicate id 'x-1' \(first on line 1\)"
    ):
        parse_cases([_line(), _line(text="other")], "f.jsonl")


def test_unknown_language_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no functional cases for language 'fr'"):
        load_cases(("en", "fr"))


def _case(id: str, kind: str, lang: str, **expect: bool) -> Case:
    return Case(id, f"text of {id}", lang, kind, expect)


TINY = [
    _case("n1", "negation", "en", hate=False),
    _case("n2", "negation", "zh", hate=False),
    _case("b1", "benign", "en", hate=False, spam=False),
    _case("h1", "direct_hate", "en", hate=True),
    _case("h2", "direct_hate", "zh", hate=True),
    _case("t1", "threat", "zh", violence=True),
]


def _nothing(texts: list[str], langs: list[str | None]) -> list[set[str]]:
    return [set() for _ in texts]


def _everything(texts: list[str], langs: list[str | None]) -> list[set[str]]:
    return [set(CATEGORIES) for _ in texts]


def _always(flags: set[str]) -> FlagFn:
    def flag_fn(texts: list[str], langs: list[str | None]) -> list[set[str]]:
        return [set(flags) for _ in texts]

    return flag_fn


def _two_results(texts: list[str], langs: list[str | None]) -> list[set[str]]:
    return [set(), set()]


def test_flagging_nothing_passes_negatives_and_fails_every_control() -> None:
    report = run_cases(TINY, _nothing)
    assert list(report.by_kind) == ["negation", "direct_hate", "threat", "benign"]
    assert report.by_kind["negation"].accuracy == 1.0
    assert report.by_kind["benign"].accuracy == 1.0
    assert report.by_kind["direct_hate"].accuracy == 0.0
    assert report.by_kind["threat"].accuracy == 0.0
    assert (report.by_kind["direct_hate"].passed, report.by_kind["direct_hate"].total) == (0, 2)
    assert report.by_kind_lang[("negation", "zh")].accuracy == 1.0
    assert report.by_kind_lang[("direct_hate", "zh")].total == 1
    assert ("threat", "en") not in report.by_kind_lang
    assert (report.overall.passed, report.overall.total) == (3, 6)
    assert report.overall.accuracy == 0.5
    assert report.by_lang["en"].accuracy == 2 / 3
    assert report.by_lang["zh"].accuracy == 1 / 3
    assert [f.id for f in report.failures] == ["h1", "h2", "t1"]
    first = report.failures[0]
    assert (first.text, first.expected, first.got) == ("text of h1", {"hate": True}, frozenset())


def test_flagging_everything_fails_negatives_and_passes_controls() -> None:
    report = run_cases(TINY, _everything)
    assert {k: t.accuracy for k, t in report.by_kind.items()} == {
        "negation": 0.0,
        "direct_hate": 1.0,
        "threat": 1.0,
        "benign": 0.0,
    }
    assert [f.id for f in report.failures] == ["n1", "n2", "b1"]


def test_a_case_needs_every_true_and_no_false_expectation() -> None:
    mixed = [_case("m", "obfuscated", "en", hate=True, spam=False)]
    assert run_cases(mixed, _always({"hate"})).overall.accuracy == 1.0
    assert run_cases(mixed, _always({"hate", "spam"})).overall.accuracy == 0.0
    assert run_cases(mixed, _always({"violence"})).overall.accuracy == 0.0
    # categories the case does not name are not checked
    assert run_cases(mixed, _always({"hate", "sexual"})).overall.accuracy == 1.0


def test_table_has_a_row_per_kind_and_an_overall_row() -> None:
    table = run_cases(TINY, _nothing).table()
    lines = table.splitlines()
    assert lines[0] == "| kind | en | zh | all |"
    assert "| negation | 100.0% (1/1) | 100.0% (1/1) | 100.0% (2/2) |" in lines
    assert "| threat | - | 0.0% (0/1) | 0.0% (0/1) |" in lines
    assert lines[-1] == "| **overall** | 66.7% (2/3) | 33.3% (1/3) | 50.0% (3/6) |"
    assert run_cases([], _nothing).table().splitlines()[-1] == "| **overall** | - |"


def test_run_cases_rejects_a_flag_fn_that_loses_texts() -> None:
    with pytest.raises(ValueError, match="2 results for 6 texts"):
        run_cases(TINY, _two_results)


class _Fixed:
    """Emits fixed (category, score) pairs for texts that contain a keyword."""

    name = "fixed"
    version = "1"
    cost = 0
    categories: tuple[str, ...] = ("hate", "spam", "violence")
    RULES: ClassVar[dict[str, tuple[str, float]]] = {
        "REMOVE": ("hate", 0.9),  # above the remove threshold
        "REVIEW": ("violence", 0.6),  # in the review band only
        "QUIET": ("spam", 0.2),  # below review_from: no finding
    }

    def __init__(self) -> None:
        self.batches: list[int] = []

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        self.batches.append(len(batch))
        return [
            [
                Signal(cat, score, self.name, self.version)
                for word, (cat, score) in self.RULES.items()
                if word in p.item.text
            ]
            for p in batch
        ]

    def examples(self) -> list[Example]:
        return []


def test_flag_fn_from_policy_flags_actions_and_reviews_but_not_weak_signals() -> None:
    det = _Fixed()
    flag = flag_fn_from_policy([det], load_policy(), batch_size=2)
    texts = ["REMOVE", "REVIEW", "QUIET", "REMOVE REVIEW QUIET", "nothing"]
    got = flag(texts, ["en", "zh", None, "en", "en"])
    assert got == [{"hate"}, {"violence"}, set(), {"hate", "violence"}, set()]
    assert det.batches == [2, 2, 1]
    assert flag([], []) == []
    with pytest.raises(ValueError):
        flag(["a"], [])
    with pytest.raises(ValueError):
        flag_fn_from_policy([det], load_policy(), batch_size=0)


def test_current_default_detectors(cases: list[Case]) -> None:
    """Scores the detectors a default install runs (``-s`` shows the table).

    The target is >= 90 % for every kind; docs/quality.md says which kinds meet it. This
    test holds what is met and keeps the rest from sliding back."""
    report: FunctionalReport = run_cases(
        cases, flag_fn_from_policy(default_detectors(), load_policy())
    )
    print(f"\nfunctional cases, default detectors ({len(cases)} cases)\n{report.table()}")
    assert list(report.by_kind) == list(KINDS)
    assert {key for key in report.by_kind_lang} == {(k, lang) for k in KINDS for lang in LANGS}
    assert report.overall.total == len(cases)
    assert sum(t.total for t in report.by_kind.values()) == len(cases)
    assert len(report.failures) == report.overall.total - report.overall.passed
    met = ("quoting", "identity_positive", "reclaimed", "threat", "untargeted_profanity")
    for kind in met:
        assert report.by_kind[kind].accuracy >= 0.9, (kind, report.table())
    for kind in KINDS:
        assert report.by_kind[kind].accuracy >= 0.7, (kind, report.table())
    assert report.overall.accuracy >= 0.88, report.table()
