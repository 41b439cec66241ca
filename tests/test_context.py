"""Reported speech: harm found only inside quotation marks is damped, with a note."""

from __future__ import annotations

import pytest

from tests.conftest import KeywordDetector
from vigil.audit import detect
from vigil.context import QUOTE_KEEP, quoted_spans, without_quotes
from vigil.items import Item


@pytest.mark.parametrize(("text", "quoted"), [
    ('He called me a "dirty immigrant" and I reported him', ["dirty immigrant"]),
    ("I had to look up what 'vermin' means", ["vermin"]),
    ("don't say it's fine, it isn't", []),
    ("新闻里说有人骂“滚回去”，太过分了", ["滚回去"]),
    ("她说「你们都是垃圾」然后走了", ["你们都是垃圾"]),
    ("no quotes at all", []),
    ('two "first one" and "second one" quotes', ["first one", "second one"]),
])
def test_quoted_spans(text: str, quoted: list[str]) -> None:
    assert [text[s:e] for s, e in quoted_spans(text)] == quoted


def test_without_quotes_keeps_offsets() -> None:
    text = 'they said "buynow" loudly'
    blank = without_quotes(text)
    assert blank is not None and len(blank) == len(text) and "buynow" not in blank
    assert without_quotes('"only a quote"') is None
    assert without_quotes("nothing quoted") is None


def test_quoted_only_harm_is_damped_and_explained() -> None:
    det = [KeywordDetector()]
    quoted = Item(id="1", account="a", text='Someone wrote "they are vermin" and got banned')
    direct = Item(id="2", account="a", text="they are vermin")
    both = Item(id="3", account="a", text='vermin, as I said: "vermin"')
    out = {it.id: sigs for it, sigs in zip([quoted, direct, both],
                                           detect([quoted, direct, both], det), strict=True)}
    q = next(s for s in out["1"] if s.category == "hate")
    assert q.score == pytest.approx(0.97 * QUOTE_KEEP)
    assert "quotation" in q.evidence[0].note
    assert quoted.text[q.evidence[0].start:q.evidence[0].end] == "vermin"
    assert next(s for s in out["2"] if s.category == "hate").score == 0.97
    assert next(s for s in out["3"] if s.category == "hate").score == 0.97  # said, not only quoted


def test_context_can_be_switched_off() -> None:
    it = Item(id="1", account="a", text='Someone wrote "they are vermin"')
    (sigs,) = detect([it], [KeywordDetector()], context=False)
    assert next(s for s in sigs if s.category == "hate").score == 0.97


@pytest.mark.parametrize(("text", "addressed"), [
    ("you idiot", True), ("@sam what an idiot", True), ("he is an idiot", True),
    ("what an idiot move, the printer jammed again", False),
    ("你个傻逼", True), ("这破电脑又死机了，真他妈烦", False), ("他妈的又下雨", False),
    ("他就是个傻逼", True),
])
def test_addresses_someone(text: str, addressed: bool) -> None:
    from vigil.context import addresses_someone

    assert addresses_someone(text) is addressed


def test_untargeted_harassment_is_damped() -> None:
    from vigil.context import UNTARGETED_KEEP

    det = [KeywordDetector()]
    aimed = Item(id="1", account="a", text="you idiot")
    nobody = Item(id="2", account="a", text="what an idiot design")
    a, n = detect([aimed, nobody], det)
    assert next(s for s in a if s.category == "harassment").score == 0.75
    damped = next(s for s in n if s.category == "harassment")
    assert damped.score == pytest.approx(0.75 * UNTARGETED_KEEP)
    assert "not aimed at a person" in damped.evidence[0].note
