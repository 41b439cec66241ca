"""SpamPatternDetector: links, contact details and promo language, scored by noisy-OR."""

from __future__ import annotations

import pytest

from vigil.detectors import Prepared, Signal
from vigil.detectors.spam_patterns import SHORTENERS, VERSION, SpamPatternDetector
from vigil.items import Item


@pytest.fixture(scope="module")
def det() -> SpamPatternDetector:
    return SpamPatternDetector()


def spam(det: SpamPatternDetector, text: str, lang: str | None = None) -> Signal | None:
    [signals] = det.detect([Prepared(Item("t", "a", text, lang=lang))])
    assert len(signals) <= 1
    return signals[0] if signals else None


def score(det: SpamPatternDetector, text: str) -> float:
    signal = spam(det, text)
    return signal.score if signal else 0.0


def notes(signal: Signal | None) -> dict[str, str]:
    assert signal is not None
    return {e.note: e.text for e in signal.evidence}


def assert_spans_match(text: str, signal: Signal) -> None:
    for ev in signal.evidence:
        if ev.start is not None:
            assert text[ev.start : ev.end] == ev.text


QUIET = [
    "see the docs at https://python.org",
    "call me at 5pm",
    "the year 2024 was a good one",
    "Meeting moved to room 3.14, e.g. after lunch",
    "I use wechat everyday to talk to my family",
    "我用微信和家人聊天",
    "awww... so cute",
    "I went home.It was late",
    "free coffee in the kitchen today",
    "公园今天免费开放，欢迎大家来玩",
    "version 2.0.1 fixed the bug in line 42",
    "my score was 98% on the test",
    "",
]


@pytest.mark.parametrize("text", QUIET)
def test_ordinary_text_stays_low(det: SpamPatternDetector, text: str) -> None:
    assert score(det, text) < 0.3


def test_a_lone_link_stays_low_and_short_links_weigh_more(det: SpamPatternDetector) -> None:
    plain = score(det, "interesting read: https://example.com/article/42")
    short = score(det, "interesting read: bit.ly/3xYzAbc")
    risky = score(det, "interesting read: http://great-deals.top/a")
    assert 0 < plain < 0.3
    assert plain < short < 0.5
    assert plain < risky < 0.5
    many = score(det, " ".join(f"https://site{i}.org/page" for i in range(8)))
    assert many < 0.35  # a list of links is not spam by itself


CONTACT_PLUS_PROMO = [
    "加微信 abc12345 免费领取会员",
    "VX：lily2024 兼职刷单，日赚500",
    "v信 wx_8888abc 限时优惠",
    "QQ 12345678 招代理 返利",
    "q群：88886666 点击领取红包",
    "telegram @cryptoking888 double your BTC, act now",
    "t.me/freecoins 100% free airdrop",
    "Limited offer! WhatsApp +1 415 555 0100 now",
    "claim your prize, call 09061701461",
    "earn $500 a day from home, email jobs@quickcash.biz",
    "免费领取iPhone，联系13812345678",
    "line id: promo_girl 限时优惠",
]


@pytest.mark.parametrize("text", CONTACT_PLUS_PROMO)
def test_contact_plus_promo_is_high(det: SpamPatternDetector, text: str) -> None:
    signal = spam(det, text)
    assert signal is not None and signal.score >= 0.9, signal
    assert_spans_match(text, signal)


@pytest.mark.parametrize(
    "text",
    [
        "LIMITED TIME OFFER, act now",
        "100% free, claim now",
        "限时优惠，点击领取",
        "sub4sub, check out my channel",
    ],
)
def test_promo_alone_is_medium(det: SpamPatternDetector, text: str) -> None:
    assert 0.35 <= score(det, text) < 0.75  # review band, below automatic restriction


def test_promo_with_an_ordinary_link_is_link_bait(det: SpamPatternDetector) -> None:
    s = score(det, "Limited offer, act now: https://shop.example.com/sale")
    assert 0.75 <= s < 0.9


@pytest.mark.parametrize(
    ("text", "note", "span"),
    [
        ("wechat: lily_2024", "wechat handle", "wechat: lily_2024"),
        ("加我 微信号：abc_123", "wechat handle", "微信号：abc_123"),
        ("ＶＸ：ａｂｃ１２３４５", "wechat handle", "ＶＸ：ａｂｃ１２３４５"),
        ("加v abc123", "wechat handle", "加v abc123"),
        ("QQ 12345678", "qq handle", "QQ 12345678"),
        ("扣扣：987654321", "qq handle", "扣扣：987654321"),
        ("join t.me/free_signals", "telegram handle", "t.me/free_signals"),
        ("telegram @moonshot99", "telegram handle", "telegram @moonshot99"),
        ("WhatsApp +44 7911 123456", "whatsapp handle", "WhatsApp +44 7911 123456"),
        ("wa.me/447911123456", "whatsapp handle", "wa.me/447911123456"),
        ("line id: mylineid", "line handle", "line id: mylineid"),
        ("call 138 1234 5678", "phone number", "138 1234 5678"),
        ("call 13812345678", "phone number", "13812345678"),
        ("ring +86 138-1234-5678", "phone number", "+86 138-1234-5678"),
        ("call (415) 555-0100", "phone number", "(415) 555-0100"),
        ("call 415-555-0100", "phone number", "415-555-0100"),
        ("office 010-12345678", "phone number", "010-12345678"),
        ("mail bob.smith@example.co.uk", "e-mail address", "bob.smith@example.co.uk"),
        ("go to bit\u200b.ly/abc", "short link", "bit\u200b.ly/abc"),
        ("see example.cn for details", "link", "example.cn"),
        ("see www.example.com.", "link", "www.example.com"),
        ("访问abc.com领取", "link", "abc.com"),
        ("abc点com", "disguised link", "abc点com"),
        ("go to freebies(.)com", "disguised link", "freebies(.)com"),
        ("earn $500 a day", "earnings claim", "earn $500 a day"),
        ("日赚500元", "earnings claim", "日赚500"),
        ("txt WIN to 87121", "sms short code", "txt WIN to 87121"),
        ("全场5折", "discount", "5折"),
        ("LIMITED OFFER", "promo: limited offer", "LIMITED OFFER"),
        ("加微信了解", "contact: 加微信", "加微信"),
    ],
)
def test_findings_map_back_to_the_original(
    det: SpamPatternDetector, text: str, note: str, span: str
) -> None:
    signal = spam(det, text)
    found = notes(signal)
    assert found.get(note) == span, found
    assert signal is not None
    assert_spans_match(text, signal)


@pytest.mark.parametrize(
    "text",
    [
        "the year 2024",
        "in 1999 and 2000",
        "version 3.14.15",
        "order #123456",
        "it costs 12.50",
        "tweet http://t.co/vxKCG4yGXF",  # "vx" inside a link is no WeChat id
    ],
)
def test_no_phone_or_handle_in_plain_numbers(det: SpamPatternDetector, text: str) -> None:
    signal = spam(det, text)
    found = notes(signal) if signal else {}
    assert not any(n.endswith("handle") or n == "phone number" for n in found), found


def test_money_counts_only_next_to_promo(det: SpamPatternDetector) -> None:
    assert "money amount" not in notes(spam(det, "the ticket was $50, call 555-123-4567"))
    assert "money amount" in notes(spam(det, "claim now, only $5"))


def test_shouting_adds_a_little(det: SpamPatternDetector) -> None:
    calm = score(det, "Limited offer on all shoes")
    loud = score(det, "LIMITED OFFER ON ALL SHOES!!!")
    assert calm < loud < calm + 0.2
    assert score(det, "WHAT A GAME TONIGHT, UNBELIEVABLE!!!") < 0.3


def test_scores_are_monotone_in_evidence(det: SpamPatternDetector) -> None:
    steps = [
        "great shoes",
        "great shoes, limited offer",
        "great shoes, limited offer, act now",
        "great shoes, limited offer, act now, wechat: shoes_4u",
    ]
    scores = [score(det, t) for t in steps]
    assert scores == sorted(scores)
    assert scores[0] == 0.0
    assert scores[-1] >= 0.9
    assert all(0.0 <= s <= 0.99 for s in scores)


def test_metadata_and_batch(det: SpamPatternDetector) -> None:
    assert det.name == "spam_patterns"
    assert det.version == VERSION
    assert det.categories == ("spam",)
    assert det.cost == 1
    assert "bit.ly" in SHORTENERS and "t.cn" in SHORTENERS
    texts = ["hello", "加微信 abc12345 免费领取", "https://python.org"]
    out = det.detect([Prepared(Item(str(i), "a", t)) for i, t in enumerate(texts)])
    assert [len(signals) for signals in out] == [0, 1, 1]
    assert out[1][0].detector == "spam_patterns"
    assert out[1][0].version == VERSION
    assert det.detect([]) == []


def test_evidence_is_ordered_and_bounded(det: SpamPatternDetector) -> None:
    text = " ".join(f"https://site{i}.xyz/a" for i in range(30)) + " act now"
    signal = spam(det, text)
    assert signal is not None
    starts = [e.start for e in signal.evidence if e.start is not None]
    assert starts == sorted(starts)
    assert len(signal.evidence) <= 13
