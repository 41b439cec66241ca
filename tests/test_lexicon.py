"""LexiconDetector: obfuscation-robust term matching with evidence in the original text."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.detectors import CATEGORIES, Prepared, Signal
from vigil.detectors.lexicon import (
    DEFAULT_SCORE,
    LexiconDetector,
    bundled_lexicons,
    load_lexicon,
    parse_lexicon,
)
from vigil.errors import InputError
from vigil.items import Item


@pytest.fixture(scope="module")
def bundled() -> LexiconDetector:
    return LexiconDetector()


def run(detector: LexiconDetector, text: str, lang: str | None = None) -> dict[str, Signal]:
    [signals] = detector.detect([Prepared(Item("t", "a", text, lang=lang))])
    return {s.category: s for s in signals}


def spans(signal: Signal) -> list[str]:
    return [e.text for e in signal.evidence]


# (text, category, evidence exactly as written in the original)
OBFUSCATED = [
    ("you are a f\u200bucking idiot", "harassment", "f\u200bucking idiot"),
    ("fr33 p0rn here", "sexual", "fr33 p0rn"),
    ("I will k.i.l.l you", "violence", "I will k.i.l.l you"),
    ("I will k i l l you", "violence", "I will k i l l you"),
    ("fu\u0441k you", "harassment", "fu\u0441k you"),  # Cyrillic es
    ("FUUUUCK YOUUUU!!", "harassment", "FUUUUCK YOUUUU"),
    ("ＦＵＣＫ ＹＯＵ", "harassment", "ＦＵＣＫ ＹＯＵ"),
    ("what a sh!thead", "harassment", "sh!thead"),
    ("Fúck óff", "harassment", "Fúck óff"),
    ("加 微 信 领取福利", "spam", "加 微 信"),
    ("加*微*信", "spam", "加*微*信"),
    ("我要殺了你", "violence", "我要殺了你"),
    ("免費領取", "spam", "免費領取"),
    ("你这个傻 逼", "harassment", "傻 逼"),
    ("niiiigger", "hate", "niiiigger"),
]


@pytest.mark.parametrize(("text", "category", "evidence"), OBFUSCATED)
def test_obfuscated_variants_fire_with_exact_original_spans(
    bundled: LexiconDetector, text: str, category: str, evidence: str
) -> None:
    signals = run(bundled, text)
    assert category in signals, signals
    signal = signals[category]
    assert signal.score >= 0.5
    assert evidence in spans(signal)
    for ev in signal.evidence:
        assert ev.start is not None and ev.end is not None
        assert text[ev.start : ev.end] == ev.text
        assert ev.note.startswith("lexicon: ")


QUIET = [
    "our class reads the classics in the assembly hall",
    "Scunthorpe United won 2-0 at home",
    "hello there, hell of a day",
    "as soon as possible, pass the glass",
    "the cocktail party is at the Dickens museum",
    "Niger and Nigeria signed a trade deal",
    "the analyst assessed the shitake harvest",
    "I'd kill for a coffee right now",
    "he was killed in the war, the news said",
    "今天天气很好，我们下午去公园散步，顺便买点水果。",
    "我妈妈做的饭很好吃，周末一起回家吧。",
    "他跟国外男性交往了两年",
    "这部电影的特效很棒，值得一看。",
    "",
]


@pytest.mark.parametrize("text", QUIET)
def test_ordinary_text_stays_quiet(bundled: LexiconDetector, text: str) -> None:
    fired = {c: s.score for c, s in run(bundled, text).items() if s.score >= 0.5}
    assert fired == {}


def test_categories_and_metadata(bundled: LexiconDetector) -> None:
    assert bundled.name == "lexicon"
    assert bundled.cost == 1
    assert set(bundled.categories) == {
        "spam",
        "sexual",
        "harassment",
        "hate",
        "violence",
        "child_safety",
    }
    assert set(bundled.categories) <= set(CATEGORIES)
    assert bundled.version.startswith("1.")


def test_bundled_lists_have_both_languages_and_sane_scores() -> None:
    names = {f.name for f in bundled_lexicons()}
    for category in ("spam", "sexual", "harassment", "hate", "violence", "child_safety"):
        assert f"{category}.en.txt" in names
        assert f"{category}.zh.txt" in names
    for f in bundled_lexicons():
        terms = load_lexicon(f)
        assert 30 <= len(terms) <= 150, f.name
        assert all(0.0 < t.score <= 1.0 for t in terms)
        if f.name.startswith("child_safety"):
            assert max(t.score for t in terms) <= 0.85  # to review, not automatic removal


def test_custom_terms_replace_the_bundled_lists() -> None:
    det = LexiconDetector(terms={"spam": [("cheap watches", 0.7)]})
    assert det.categories == ("spam",)
    assert run(det, "CHEAP  WATCHES here")["spam"].score == 0.7
    assert run(det, "fuck you") == {}


def test_boundaries_apply_to_latin_terms_not_cjk() -> None:
    det = LexiconDetector(terms={"harassment": [("ass", 0.7), ("hell", 0.5), ("笨蛋", 0.6)]})
    assert run(det, "kiss my ass")["harassment"].evidence[0].text == "ass"
    assert "harassment" in run(det, "a$$")
    assert "harassment" in run(det, "go to hell!")
    assert "harassment" in run(det, "HELLLL")
    for quiet in ("class", "assassin", "hello", "shell", "as if"):
        assert run(det, quiet) == {}, quiet
    # CJK terms match inside running text, and a Latin term next to CJK still matches
    assert run(det, "你这个笨蛋啊")["harassment"].evidence[0].text == "笨蛋"
    det2 = LexiconDetector(terms={"harassment": [("sb", 0.6)]})
    assert "harassment" in run(det2, "你个sb")
    assert run(det2, "sbc") == {}


def test_collapsed_one_word_terms_need_the_full_length() -> None:
    det = LexiconDetector(terms={"hate": [("nigger", 0.8)]})
    assert run(det, "Niger") == {}
    assert "hate" in run(det, "nigger")
    # listing the short spelling explicitly catches it as well
    det = LexiconDetector(terms={"hate": [("nigger", 0.8), ("niger", 0.5)]})
    assert run(det, "Niger")["hate"].score == 0.8


def test_several_distinct_terms_boost_the_score_slightly() -> None:
    det = LexiconDetector(terms={"violence": [("burn it down", 0.6), ("death to", 0.6)]})
    one = run(det, "burn it down")["violence"].score
    two = run(det, "burn it down, death to them")["violence"].score
    same_twice = run(det, "burn it down, burn it down")["violence"].score
    assert one == 0.6
    assert same_twice == 0.6
    assert 0.6 < two < 0.75
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"] * 3
    words = [f"{w} {v}" for w, v in zip(words, ["one", "two", "six"] * 8, strict=True)]
    loud = LexiconDetector(terms={"spam": [(w, 0.95) for w in words]})
    assert run(loud, ", ".join(words))["spam"].score == 0.99  # capped


def test_a_term_inside_a_longer_match_counts_once() -> None:
    det = LexiconDetector(terms={"harassment": [("fuck", 0.45), ("fuck you", 0.8)]})
    signal = run(det, "fuck you")["harassment"]
    assert signal.score == 0.8
    assert spans(signal) == ["fuck you"]
    assert [e.note for e in signal.evidence] == ["lexicon: fuck you"]


def test_every_occurrence_is_evidence_in_order() -> None:
    det = LexiconDetector(terms={"spam": [("buy now", 0.6)]})
    text = "Buy now! really, b.u.y now"
    signal = run(det, text)["spam"]
    assert [(e.start, e.end) for e in signal.evidence] == [(0, 7), (17, 26)]
    assert spans(signal) == ["Buy now", "b.u.y now"]


def test_a_term_in_two_categories_fires_both() -> None:
    det = LexiconDetector(
        terms={"sexual": [("suck my dick", 0.85)], "harassment": [("suck my dick", 0.7)]}
    )
    signals = run(det, "suck my dick")
    assert signals["sexual"].score == 0.85
    assert signals["harassment"].score == 0.7


def test_terms_from_files_and_directories(tmp_path: Path) -> None:
    lexicons = tmp_path / "lex"
    lexicons.mkdir()
    (lexicons / "spam.en.txt").write_text(
        "# my list\n\ncheap watches\t0.7\nreplica bags\n", encoding="utf-8"
    )
    (lexicons / "hate.zh.txt").write_text("低等民族\t0.8\n", encoding="utf-8")
    (lexicons / "README.md").write_text("not a lexicon", encoding="utf-8")
    by_file = LexiconDetector([lexicons / "spam.en.txt"])
    assert by_file.categories == ("spam",)
    assert run(by_file, "replica bags!")["spam"].score == DEFAULT_SCORE
    by_dir = LexiconDetector([str(lexicons)])
    assert by_dir.categories == ("spam", "hate")
    assert run(by_dir, "他们是低等民族")["hate"].score == 0.8
    both = LexiconDetector([lexicons], terms={"violence": [("i will find you", 0.6)]})
    assert both.categories == ("spam", "hate", "violence")


def test_bundled_lists_can_be_extended() -> None:
    det = LexiconDetector(bundled_lexicons(), terms={"spam": [("cheap watches", 0.7)]})
    assert "spam" in run(det, "cheap watches")
    assert "harassment" in run(det, "fuck you")
    assert len(det.terms_) == len(LexiconDetector().terms_) + 1


def test_version_follows_the_terms(tmp_path: Path) -> None:
    a = LexiconDetector(terms={"spam": [("cheap watches", 0.7)]})
    same = LexiconDetector(terms={"spam": [("cheap watches", 0.7)]})
    rescored = LexiconDetector(terms={"spam": [("cheap watches", 0.8)]})
    added = LexiconDetector(terms={"spam": [("cheap watches", 0.7), ("replica bags", 0.7)]})
    assert a.version == same.version
    assert len({a.version, rescored.version, added.version}) == 3
    assert LexiconDetector().version == LexiconDetector().version
    f = tmp_path / "spam.en.txt"
    f.write_text("cheap watches\t0.7\n", encoding="utf-8")
    before = LexiconDetector([f]).version
    f.write_text("cheap watches\t0.7\nreplica bags\t0.7\n", encoding="utf-8")
    assert LexiconDetector([f]).version != before
    signal = run(a, "cheap watches")["spam"]
    assert (signal.detector, signal.version) == ("lexicon", a.version)


def test_parse_lexicon_format() -> None:
    terms = parse_lexicon("# comment\n\n  spaced term \t 0.5 \nplain\n", category="spam", lang="en")
    assert [(t.text, t.score) for t in terms] == [("spaced term", 0.5), ("plain", 0.9)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("term\tlots", "not a number"), ("term\t0", "not in"), ("term\t1.5", "not in")],
)
def test_bad_lines_name_the_file_and_line(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as err:
        parse_lexicon(f"ok\n{text}\n", category="spam", lang="en", where="spam.en.txt")
    assert err.value.line == 2
    assert err.value.where == "spam.en.txt"


def test_bad_names_and_terms_are_rejected(tmp_path: Path) -> None:
    for name in ("politics.en.txt", "spam.fr.txt", "spam.txt"):
        path = tmp_path / name
        path.write_text("x y\n", encoding="utf-8")
        with pytest.raises(InputError):
            LexiconDetector([path])
    with pytest.raises(InputError, match="unknown category"):
        LexiconDetector(terms={"politics": [("vote", 0.5)]})
    with pytest.raises(InputError, match="not in"):
        LexiconDetector(terms={"spam": [("cheap", 0.0)]})
    with pytest.raises(InputError, match="too short"):
        LexiconDetector(terms={"sexual": [("xxx", 0.5)]})  # collapses to "x"


def test_empty_lexicon_detects_nothing() -> None:
    det = LexiconDetector(terms={})
    assert det.categories == ()
    assert det.detect([Prepared(Item("t", "a", "fuck you"))]) == [[]]
    assert det.detect([]) == []


def test_batch_order_is_kept(bundled: LexiconDetector) -> None:
    texts = ["hello", "fuck you", "我要杀了你", "nice day"]
    out = bundled.detect([Prepared(Item(str(i), "a", t)) for i, t in enumerate(texts)])
    assert [sorted(s.category for s in signals) for signals in out] == [
        [],
        ["harassment"],
        ["violence"],
        [],
    ]


def test_child_safety_grooming_goes_to_review_range(bundled: LexiconDetector) -> None:
    alone = run(bundled, "how old are you?")
    assert alone["child_safety"].score < 0.3  # a common question on its own
    together = run(bundled, "how old are you? don't tell your parents about us")
    assert 0.6 <= together["child_safety"].score < 0.9
    zh = run(bundled, "你几岁了？别告诉你爸妈", lang="zh")
    assert 0.6 <= zh["child_safety"].score < 0.9
