"""Spam and malicious-marketing patterns: links, contact details, promo language.

Runs on the light "folded" view (``Prepared.folded``: width/compat folding, invisibles
removed, homoglyphs folded, case kept), lower-cased here; evidence spans map back to the
original text. Each kind of finding is a *feature* with a weight, and the ``spam`` score
is their noisy-OR, ``1 - prod(1 - w)``, capped at 0.99:

========================  ======  ==================================================
feature                   weight  fires on
========================  ======  ==================================================
link                      0.15    a URL or bare domain; +0.05 per further link, max 0.3
short link                0.35    a URL shortener (bit.ly, t.cn...)
risky domain              0.25    a TLD that is mostly abuse (.xyz, .top, .tk...)
disguised link            0.4     "abc(.)com", "abc 点 com", "abc dot com"
messenger handle          0.45    WeChat / QQ / Telegram / WhatsApp / Line id (0.6 for 2+)
contact hint              0.3     "加微信", "dm me", "whatsapp me" without an id
phone number              0.25    international, Chinese mobile/landline, US formats
e-mail address            0.2
promo language            <=0.7   noisy-OR of the weights (0.15-0.6) of the promo phrases
                                  and patterns found ("earn $500 a day", "50% off"...)
money with promo          0.3     an amount ("$500", "300元") next to promo (>= 0.35)
shouting                  0.1     mostly capitals; 0.1 more for "!!!"
bait                      0.85    promo (>= 0.35) AND a contact, short/risky/disguised link
link bait                 0.6     promo (>= 0.35) AND only ordinary links
========================  ======  ==================================================

So a lone link stays at 0.15 (people share links), promo language alone lands in the
middle, and a contact channel next to promo language passes 0.9. Change a rule or a
weight, bump :data:`VERSION`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from vigil.detectors import Evidence, Example, Prepared, Signal
from vigil.detectors.lexicon import is_word_char

VERSION = "1.1"

W_LINK, W_LINK_EXTRA, W_LINK_MAX = 0.15, 0.05, 0.3
W_SHORT_LINK = 0.35
W_RISKY_DOMAIN = 0.25
W_DISGUISED_LINK = 0.4
W_HANDLE, W_HANDLES = 0.45, 0.6
W_HINT = 0.3
W_PHONE = 0.25
W_EMAIL = 0.2
PROMO_CAP = 0.7
W_MONEY = 0.3
W_CAPS = 0.1
W_BANGS = 0.1
W_BAIT = 0.85
W_LINK_BAIT = 0.6
BAIT_FROM = 0.35
"""Promo score from which a contact or a link next to it counts as bait."""
SCORE_CAP = 0.99
MAX_EVIDENCE = 12

_SHORTENER_HOSTS = """
bit.ly tinyurl.com goo.gl is.gd ow.ly buff.ly rebrand.ly cutt.ly shorturl.at tiny.cc rb.gy
t.ly s.id v.gd lnkd.in bit.do t.cn dwz.cn url.cn suo.im u.nu qrcd.org
"""
_RISKY_TLD_LIST = "xyz top tk ml ga cf gq icu buzz click link win bid loan work cam pw vip su"
SHORTENERS = frozenset(_SHORTENER_HOSTS.split())
RISKY_TLDS = frozenset(_RISKY_TLD_LIST.split())
# TLDs accepted for a bare domain without a path: common enough, and not English words
# that show up after a missing space ("home.it", "yes.me", "ok.so").
_BARE_TLDS = (
    "com|net|org|info|biz|io|ly|cn|hk|tw|jp|kr|ru|uk|de|fr|ca|au|eu|nl|br|sg|vn|th|edu|"
    "gov|mobi|asia|tech|space|website|site|online|club|shop|store|app|dev|ai|fun|live|"
    "xyz|top|tk|ml|ga|cf|gq|icu|buzz|click|win|bid|loan|cam|pw|vip|cc|tv|ws|gl|gd|su"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_URL_TAIL = r"[^\s<>\"'`，。！？、；：（）【】《》「」]*"
_URL = re.compile(
    rf"(?:https?://|(?<![a-z0-9])www\.(?=[a-z0-9])){_URL_TAIL}"
    rf"|(?<![a-z0-9@._-])(?:{_LABEL}\.)+(?:{_BARE_TLDS})(?![a-z0-9-])(?:[/?#]{_URL_TAIL})?"
    rf"|(?<![a-z0-9@._-])(?:{_LABEL}\.)+[a-z]{{2,6}}/[a-z0-9_-]{_URL_TAIL}"
)
# Cheap test for "might hold a link" (starts with a literal, so re scans fast).
_LINK_CUE = re.compile(rf"\.(?:{_BARE_TLDS})(?![a-z0-9-])|\.[a-z]{{2,6}}/|://|www\.")
_DISGUISED_URL = re.compile(
    r"(?<![a-z0-9])[a-z0-9-]{2,}\s*(?:\(\.\)|\[\.\]|\(dot\)|\[dot\]|\s dot\s|点)\s*"
    r"(?:com|net|org|cn|xyz|top|cc|vip)(?![a-z])"
)
# (kind, cues, pattern): the pattern runs only when one of the cue substrings is present.
_HANDLES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = (
    (
        "wechat",
        ("信", "vx", "wx", "wechat", "weixin", "v:", "v：", "加v", "+v"),
        re.compile(
            r"(?=[加添+a微威薇徽维vw])(?:(?P<pre>加|添加|\+|add\s+(?:my\s+|me\s+on\s+)?)\s*)?"
            r"(?P<kw>微信|威信|薇信|徽信|维信|v信|(?<![a-z0-9/.=?&#_-])(?:vx|wx|weixin|wechat|v(?=\s*[:：])))"
            r"\s*(?P<sep>号|id|:|：|=|\s)*"
            r"(?P<id>[a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![-_a-z0-9])"
            r"|(?P<plus>[加+])\s*v\s*(?P<id2>[a-z][-_a-z0-9]{5,19}|1[3-9]\d{9})(?![-_a-z0-9])"
        ),
    ),
    (
        "qq",
        ("q", "扣扣", "企鹅"),
        re.compile(
            r"(?=[q扣企])(?<![a-z0-9/.=?&#_-])(?:qq|q|扣扣|企鹅)\s*(?:号码|号|群|:|：|\s)*[1-9]\d{4,11}(?!\d)"
        ),
    ),
    (
        "telegram",
        ("t.me", "telegram", "tg", "电报", "飞机"),
        re.compile(
            r"(?=[t电纸飞])(?:(?<![a-z0-9])t\.me/[a-z0-9_+]{3,}"
            r"|(?<![a-z0-9])(?:telegram|tg|电报|纸飞机|飞机)\s*(?:号|id|:|：|\s)*@[a-z][a-z0-9_]{3,31}"
            r"|(?<![a-z0-9])telegram\s*(?:id)?\s*[:：]\s*[a-z][a-z0-9_]{3,31})"
        ),
    ),
    (
        "whatsapp",
        ("wa.me", "whats"),
        re.compile(
            r"(?=w)(?:(?<![a-z0-9])wa\.me/\+?\d{6,15}"
            r"|(?<![a-z0-9])whats\s?app\s*(?:me|us)?\s*(?:at|on)?\s*[:：]?\s*\+?\d[\d\s().-]{5,17}\d)"
        ),
    ),
    (
        "line",
        ("line", "加赖"),
        re.compile(
            r"(?=[l加])(?:(?<![a-z0-9/.=?&#_-])line\s*id|加line|加赖)\s*[:：]?\s*@?[a-z0-9._-]{3,20}"
        ),
    ),
)
_PHONE = re.compile(
    r"(?=[\d+(])(?<![\d+])(?:"
    r"\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){2,4}"
    r"|(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}"
    r"|(?:\+?1[\s.-]?)?\(\d{3}\)\s?\d{3}[\s.-]\d{4}"
    r"|(?:\+?1[\s.-])?\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0\d{2,3}-\d{7,8}"
    r"|0\d{9,10}"
    r"|0\d{3}\s\d{3}\s\d{4}"
    r")(?!\d)"
)
_DIGIT = re.compile(r"\d")
_BANGS = re.compile(r"!{3,}")
_UPPER = re.compile(r"[A-Z]")
_LOWER = re.compile(r"[a-z]")
_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_MONEY = re.compile(
    r"(?=[$€£¥\d])(?:[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?[k万])?"
    r"|\d[\d,]*(?:\.\d+)?\s?(?:元|块|万元|万|美元|美金|dollars?|usd|bucks)(?![a-z]))"
)
# (note, weight, cue, pattern): promo language with numbers in it, which phrases can't
# list; the pattern runs only when the cue substring (if any) is present.
_PROMO_PATTERNS: tuple[tuple[str, float, str | None, re.Pattern[str]], ...] = (
    (
        "earnings claim",
        0.55,
        None,
        re.compile(
            r"(?=[emgr日一每轻躺])(?:(?:earn|make|making|get|receive)\s+(?:up\s+to\s+|over\s+|an?\s+extra\s+)?"
            r"[$€£]\s?\d[\d,.]*\s?k?\+?\s*(?:a|per|/|each|every)\s*(?:day|week|hour|hr|month)"
            r"|(?:日赚|日入|一天赚|每天赚|轻松赚|躺赚)\s*过?\s*\d+)"
        ),
    ),
    (
        "sms short code",
        0.45,
        "to",
        re.compile(
            r"(?=[tsr])(?<![a-z])(?:txt|text|send|reply)\s+(?:\S+\s+){0,4}?to\s+\d{5}(?!\d)"
        ),
    ),
    (
        "premium rate",
        0.35,
        "p",
        re.compile(
            r"(?=\d)(?<![\d.])\d+(?:\s?p\s?(?:/|per\s)?\s?(?:msg|min|wk|week|day)(?![a-z])|ppm)"
        ),
    ),
    ("discount", 0.3, "%", re.compile(r"(?=\d)(?<!\d)\d{1,2}\s?%\s?off(?![a-z])")),
    ("discount", 0.3, "折", re.compile(r"(?=\d)(?<!\d)\d\s?折")),
)
# Promo phrases by weight, "weight  phrase | phrase | ..." (matched on the lower-cased
# folded text, Latin ones at word boundaries). Contact hints count as a contact, not promo.
_PROMO_TABLE = """
0.6  代开发票
0.5  100% free | free money | claim now | you have won | you've won | no credit check
0.5  sub4sub | viagra
0.5  免费领取 | 点击领取 | 日赚
0.45 limited time offer | claim your | cash prize | earn money | extra income
0.45 sub to my channel | subscribe back | check out my channel | follow 4 follow
0.45 follow for follow | like 4 like | like for like | f4f | l4l | you have been selected
0.45 selected to receive | claim code
0.45 点击链接 | 招代理 | 招商加盟 | 博彩
0.4  limited offer | limited time only | act now | free gift | free entry | make money
0.4  passive income | double your | investment opportunity | subscribe to me | sub back
0.4  限时优惠 | 戳链接 | 咨询热线 | 刷单 | 返利 | 领红包 | 无抵押 | 充值送 | 高仿
0.35 act fast | order now | buy now | call now | sign up now | click here | click the link
0.35 click link | click below | exclusive deal | special offer | lowest price | promo code
0.35 discount code | work from home | risk free | risk-free | subscribe to my
0.35 please subscribe | to claim | txt stop
0.35 点击进入 | 详情咨询 | 详询 | 返现 | 退订 | 加群 | 进群 | 先到先得 | 不容错过 | 优惠活动
0.35 报名热线 | 赌场
0.3  join now | totally free | gift card | best price | check out my | airdrop | giveaway
0.3  casino | t&c | t&cs | tncs | ringtone | awarded | jackpot | reply stop | to opt out
0.3  免费送 | 欢迎咨询 | 兼职 | 中奖 | 包邮 | 抢购 | 下载app | 扫码 | 机会难得 | 折起 | 大促
0.3  特惠 | 预约电话 | 欢迎惠顾 | 欢迎选购
0.3  信用贷款 | 微商
0.25 don't miss | free trial | visit my | check out this video | prize | voucher | vouchers
0.25 特价 | 抽奖 | 仅需 | 热线 | 开户
0.2  winner | coupon | guaranteed | win a | to win | unsubscribe
0.2  免费 | 优惠 | 低价 | 月入 | 福利 | 秒杀 | 全场 | 欢迎光临 | 回馈 | 理财产品 | 收益率
0.15 urgent | bonus | congratulations
0.15 限时
0.5  buy followers | buy real followers | buy likes | buy views | buy subscribers
0.5  account has been suspended | account will be suspended | verify your account
0.5  verify your details | confirm your identity | unusual sign-in | unlock your account
0.45 real followers | instagram likes | youtube views | blue tick | verified badge
0.45 miracle pill | miracle pills | fat burner | no prescription | guaranteed returns
0.45 guaranteed profit | trading signals | forex trading | crypto investment
0.4  lose weight fast | weight loss pills | cheap meds | instant loan | payday loan
0.4  bitcoin investment | 100% guaranteed | followers overnight | double your money
0.3  free shipping | lose 10kg | trading forex | i made $
"""
_CONTACT_HINTS = """
加微信 | 加我微信 | 加v | 加vx | 加qq | 私聊 | 私信我 | 联系我 | dm me | inbox me
| whatsapp me | telegram me | text me at | message me on
"""


def _parse_table(table: str) -> tuple[tuple[str, float], ...]:
    rows: list[tuple[str, float]] = []
    for line in table.strip().splitlines():
        weight, _, phrases = line.partition(" ")
        rows.extend((p.strip(), float(weight)) for p in phrases.split("|"))
    return tuple(rows)


PROMO_PHRASES: tuple[tuple[str, float], ...] = _parse_table(_PROMO_TABLE)
CONTACT_HINTS: tuple[str, ...] = tuple(p.strip() for p in _CONTACT_HINTS.split("|"))


@dataclass(slots=True)
class _Found:
    """What one text produced, before scoring."""

    evidence: list[tuple[int, int, str]] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    links: int = 0
    short_link: bool = False
    risky_domain: bool = False
    disguised_link: bool = False
    handles: set[str] = field(default_factory=set)
    hint: bool = False
    phone: bool = False
    email: bool = False
    promo: dict[str, float] = field(default_factory=dict)
    money: bool = False
    caps: bool = False
    bangs: bool = False

    def add(self, start: int, end: int, note: str) -> None:
        self.evidence.append((start, end, note))
        self.spans.append((start, end))

    def overlaps(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.spans)


def _phrase_automaton() -> Any:
    automaton = ahocorasick.Automaton()
    entries: dict[str, tuple[str, float]] = {p: ("promo", w) for p, w in PROMO_PHRASES}
    entries.update({p: ("contact", W_HINT) for p in CONTACT_HINTS})
    for phrase, (kind, weight) in entries.items():
        left, right = is_word_char(phrase[0]), is_word_char(phrase[-1])
        automaton.add_word(phrase, (len(phrase), left, right, kind, weight, phrase))
    automaton.make_automaton()
    return automaton


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower()[:1] or c for c in text)  # keep offsets: one char per char


def _domain(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.split("@")[-1].split(":")[0]
    return host.removeprefix("www.")


class SpamPatternDetector:
    """Score spam from links, contact details and promo language; see the module doc."""

    name = "spam_patterns"
    version = VERSION
    categories: tuple[str, ...] = ("spam",)
    cost = 1

    def __init__(self) -> None:
        self.phrases_: Any = _phrase_automaton()

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        return [self._detect_one(p) for p in batch]

    def _detect_one(self, prepared: Prepared) -> list[Signal]:
        norm = prepared.folded
        text = norm.text
        if not text:
            return []
        low = _lower(text)
        found = _Found()
        self._phrases(low, found)
        has_digit = _DIGIT.search(low) is not None
        self._contacts(low, found, has_digit)
        self._links(low, found)
        if has_digit:
            self._promo_patterns(low, found)
        self._shouting(text, low, found)
        score = _score(found)
        if score <= 0.0:
            return []
        original = norm.original
        evidence = []
        for start, end, note in _outermost(found.evidence)[:MAX_EVIDENCE]:
            s, e = norm.to_original(start, end)
            evidence.append(Evidence(original[s:e], s, e, note))
        if found.caps:
            evidence.append(Evidence("", note="mostly capital letters"))
        return [Signal("spam", score, self.name, self.version, tuple(evidence))]

    def _phrases(self, low: str, found: _Found) -> None:
        n = len(low)
        for last, (length, left, right, kind, weight, phrase) in self.phrases_.iter(low):
            start, end = last - length + 1, last + 1
            if left and start > 0 and is_word_char(low[start - 1]):
                continue
            if right and end < n and is_word_char(low[end]):
                continue
            if kind == "contact":
                found.hint = True
                found.evidence.append((start, end, f"contact: {phrase}"))
            elif phrase not in found.promo:
                found.promo[phrase] = weight
                found.evidence.append((start, end, f"promo: {phrase}"))

    def _contacts(self, low: str, found: _Found, has_digit: bool) -> None:
        for kind, m in _handles(low):
            found.handles.add(kind)
            found.add(m.start(), m.end(), f"{kind} handle")
        if "@" in low:
            for m in _EMAIL.finditer(low):
                if not found.overlaps(m.start(), m.end()):
                    found.email = True
                    found.add(m.start(), m.end(), "e-mail address")
        for m in _PHONE.finditer(low) if has_digit else ():
            digits = sum(c.isdigit() for c in m.group())
            if digits >= 8 and not found.overlaps(m.start(), m.end()):
                found.phone = True
                found.add(m.start(), m.end(), "phone number")

    def _links(self, low: str, found: _Found) -> None:
        if _LINK_CUE.search(low):
            for m in _URL.finditer(low):
                start, end = m.start(), m.end()
                while end > start and low[end - 1] in ".,;:!?)]}'\"":
                    end -= 1
                if found.overlaps(start, end):
                    continue
                domain = _domain(low[start:end])
                note = "link"
                if domain in SHORTENERS:
                    found.short_link = True
                    note = "short link"
                elif domain.rsplit(".", 1)[-1] in RISKY_TLDS:
                    found.risky_domain = True
                    note = "link to a risky domain"
                found.links += 1
                found.add(start, end, note)
        if "点" in low or "dot" in low or "(.)" in low or "[.]" in low:
            for m in _DISGUISED_URL.finditer(low):
                if not found.overlaps(m.start(), m.end()):
                    found.disguised_link = True
                    found.add(m.start(), m.end(), "disguised link")

    def _promo_patterns(self, low: str, found: _Found) -> None:
        for note, weight, cue, pattern in _PROMO_PATTERNS:
            if cue is not None and cue not in low:
                continue
            for m in pattern.finditer(low):
                if note not in found.promo:
                    found.promo[note] = weight
                found.evidence.append((m.start(), m.end(), note))
        if _noisy_or(found.promo.values()) >= BAIT_FROM:
            for m in _MONEY.finditer(low):
                found.money = True
                found.evidence.append((m.start(), m.end(), "money amount"))

    @staticmethod
    def _shouting(text: str, low: str, found: _Found) -> None:
        bangs = _BANGS.search(text)
        if bangs:
            found.bangs = True
            found.evidence.append((bangs.start(), bangs.end(), "exclamation marks"))
        if text != low:
            upper = len(_UPPER.findall(text))
            if upper >= 12 and upper >= 0.7 * (upper + len(_LOWER.findall(text))):
                found.caps = True

    def examples(self) -> list[Example]:
        return EXAMPLES


def _outermost(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans by start, without those inside an earlier, longer one."""
    kept = []
    reach = -1
    for span in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        if span[1] <= reach:
            continue
        kept.append(span)
        reach = span[1]
    return kept


def _handles(low: str) -> Iterator[tuple[str, re.Match[str]]]:
    """(kind, match) for each messaging handle in the lower-cased text."""
    for kind, cues, pattern in _HANDLES:
        if not any(cue in low for cue in cues):
            continue
        for m in pattern.finditer(low):
            if kind != "wechat" or _plausible_wechat(m):
                yield kind, m


def _plausible_wechat(m: re.Match[str]) -> bool:
    """An id after "wechat" counts when introduced ("加", ":", "号") or when it has digits,
    so "I use wechat everyday" is no handle."""
    if m.group("plus"):
        return True
    sep = m.group("sep") or ""
    return (
        bool(m.group("pre"))
        or any(c in sep for c in ":：号id")
        or any(c.isdigit() for c in m.group("id"))
    )


def _score(found: _Found) -> float:
    weights = []
    if found.links:
        weights.append(min(W_LINK + W_LINK_EXTRA * (found.links - 1), W_LINK_MAX))
    if found.short_link:
        weights.append(W_SHORT_LINK)
    if found.risky_domain:
        weights.append(W_RISKY_DOMAIN)
    if found.disguised_link:
        weights.append(W_DISGUISED_LINK)
    if found.handles:
        weights.append(W_HANDLES if len(found.handles) > 1 else W_HANDLE)
    if found.hint:
        weights.append(W_HINT)
    if found.phone:
        weights.append(W_PHONE)
    if found.email:
        weights.append(W_EMAIL)
    promo = 0.0
    if found.promo:
        promo = min(_noisy_or(found.promo.values()), PROMO_CAP)
        weights.append(promo)
    if found.money:
        weights.append(W_MONEY)
    if found.caps:
        weights.append(W_CAPS)
    if found.bangs:
        weights.append(W_BANGS)
    if promo >= BAIT_FROM:
        contact = found.handles or found.hint or found.phone or found.email
        bad_link = found.short_link or found.risky_domain or found.disguised_link
        if contact or bad_link:
            weights.append(W_BAIT)
        elif found.links:
            weights.append(W_LINK_BAIT)
    return round(min(_noisy_or(weights), SCORE_CAP), 4)


def _noisy_or(weights: Iterable[float]) -> float:
    miss = 1.0
    for w in weights:
        miss *= 1.0 - w
    return 1.0 - miss


EXAMPLES: list[Example] = [
    Example(
        "加微信 abc12345 免费领取会员，日赚500元",
        fires=frozenset({"spam"}),
        lang="zh",
        why="messenger handle next to promo language",
    ),
    Example(
        "LIMITED OFFER!!! Earn $500 a day from home, WhatsApp +1 415 555 0100",
        fires=frozenset({"spam"}),
        why="earnings claim with a WhatsApp number",
    ),
    Example(
        "Claim your prize now: bit.ly/3xYzAbc",
        fires=frozenset({"spam"}),
        why="short link next to a claim",
    ),
    Example(
        "telegram @cryptoking888 double your BTC, act now",
        fires=frozenset({"spam"}),
        why="telegram handle with promo",
    ),
    Example(
        "限时优惠！点击链接 http://sale-cn.top/a 抢购",
        fires=frozenset({"spam"}),
        lang="zh",
        why="risky domain with promo",
    ),
    Example(
        "ＱＱ群：１２３４５６７８９ 兼职刷单 返利",
        fires=frozenset({"spam"}),
        lang="zh",
        why="full-width QQ group number with promo",
    ),
    Example(
        "see the docs at https://python.org", quiet=frozenset({"spam"}), why="a lone link is normal"
    ),
    Example("call me at 5pm", quiet=frozenset({"spam"}), why="no number to call"),
    Example("the year 2024 was a good one", quiet=frozenset({"spam"}), why="a year"),
    Example(
        "我用微信和家人聊天",
        quiet=frozenset({"spam"}),
        lang="zh",
        why="mentioning WeChat is not a handle",
    ),
    Example(
        "Meeting moved to room 3.14, e.g. after lunch",
        quiet=frozenset({"spam"}),
        why="dots that are no domain",
    ),
]
