"""The cases of ``plagiarism_quality.py``: originals from real texts, copies with
controlled edits, excerpts, quotations, held-out same-topic texts, MSRP pairs."""

from __future__ import annotations

import csv
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vigil.neardup import shingle_hashes

LEVELS = (0.0, 0.05, 0.10, 0.20, 0.30)
VARIANTS = ("plain", "shuffle", "ad", "shuffle+ad")

ADS = {
    "en": (
        "Limited offer: earn $500 a day working from home, visit www.fastcash-now.biz or "
        "WhatsApp +1 555 0199 today!",
        "Buy cheap followers and likes now at promo-boost dot com and use code VIP50 for "
        "half price this week only.",
        "Hot singles in your area are waiting for you, click the link in my bio and sign up "
        "free before midnight.",
        "Join our crypto signals group with guaranteed 300% returns, DM me on Telegram "
        "@moonprofits to get in now.",
    ),
    "zh": (
        "限时优惠！在家兼职日赚五百元，加微信领取名额，先到先得，错过再等一年！",
        "低价代购名牌包包手表，正品保证，全国包邮，私信咨询客服享八折优惠。",
        "专业刷粉刷赞，一元一千粉，秒到账不掉粉，需要的朋友赶紧联系我。",
        "内部股票消息稳赚不赔，每天推荐涨停牛股，扫码进群免费体验三天。",
    ),
}

WORDS = re.compile(r"[^\W_]+")
_EN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_EN_SENT = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
_ZH_SENT = re.compile(r"[^。！？!?；\n]+[。！？!?；]*")


# -- data ------------------------------------------------------------------------------------


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass
class Doc:
    key: str
    text: str
    group: str
    lang: str
    hashes: np.ndarray = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.hashes)


def sentences(text: str, lang: str) -> list[str]:
    if lang == "zh":
        return [s.strip() for s in _ZH_SENT.findall(text) if s.strip()]
    return [s.strip() for s in _EN_SENT.split(text) if s and s.strip()]


def join(sents: Sequence[str], lang: str) -> str:
    return ("" if lang == "zh" else " ").join(sents)


def exact_overlap(a: np.ndarray, b: np.ndarray) -> int:
    return len(np.intersect1d(a, b, assume_unique=True))


def dedupe(docs: list[Doc], rng: random.Random) -> tuple[list[Doc], int]:
    """Greedy: drop a text sharing >= half of its shingles (or of a kept text's) with a
    kept text. Inverted index over the kept texts' exact shingle hashes."""
    docs = list(docs)
    rng.shuffle(docs)
    postings: dict[int, list[int]] = defaultdict(list)
    kept: list[Doc] = []
    for d in docs:
        hs = d.hashes.tolist()
        shared = Counter(j for h in hs for j in postings.get(h, ()))
        if any(c * 2 >= min(d.size, kept[j].size) for j, c in shared.items()) or not d.size:
            continue
        for h in hs:
            postings[h].append(len(kept))
        kept.append(d)
    return kept, len(docs) - len(kept)


def load_originals(data: Path) -> dict[str, list[Doc]]:
    en = [Doc(f"en:{r['id']}", r["text"], r["category"], "en", shingle_hashes(r["text"]))
          for r in rows(data / "openai_moderation_eval/openai_moderation_samples.csv")
          if len(r["text"]) >= 150]
    zh = [Doc(f"zh:{r['id']}", r["text"], r["label"], "zh", shingle_hashes(r["text"]))
          for r in rows(data / "weibo_rumor_ced/weibo_rumor_ced.csv") if len(r["text"]) >= 60]
    return {"en": en, "zh": zh}


def split(docs: list[Doc], frac: float, rng: random.Random) -> tuple[list[Doc], list[Doc]]:
    by_group: dict[str, list[Doc]] = defaultdict(list)
    for d in docs:
        by_group[d.group].append(d)
    indexed, held = [], []
    for g in sorted(by_group):
        ds = by_group[g]
        rng.shuffle(ds)
        k = round(frac * len(ds)) if len(ds) > 1 else 0
        held += ds[:k]
        indexed += ds[k:]
    return indexed, held


# -- edits -----------------------------------------------------------------------------------


def substitute(text: str, lang: str, p: float, vocab: Sequence[str],
               rng: random.Random) -> str:
    """Replace a share ``p`` of the words (en) or 2-character chunks of Han runs (zh)."""
    if lang == "en":
        spans = [m.span() for m in _EN_WORD.finditer(text)]
    else:
        spans = []
        for m in _HAN.finditer(text):
            spans += [(i, min(i + 2, m.end())) for i in range(m.start(), m.end(), 2)]
    k = round(p * len(spans))
    if not k:
        return text
    pick = sorted(rng.sample(range(len(spans)), k))
    out, last = [], 0
    for i in pick:
        a, b = spans[i]
        old = text[a:b]
        new = old
        while new == old or (lang == "zh" and len(new) != len(old)):
            new = rng.choice(vocab)
            if lang == "zh" and len(old) == 1:
                new = new[0]
        out += [text[last:a], new]
        last = b
    out.append(text[last:])
    return "".join(out)


def shuffle_sents(sents: list[str], rng: random.Random) -> list[str]:
    if len(sents) < 2:
        return list(sents)
    order = list(range(len(sents)))
    for _ in range(20):
        rng.shuffle(order)
        if order != sorted(order):
            break
    return [sents[i] for i in order]


def insert(sents: list[str], extra: str, rng: random.Random) -> list[str]:
    pos = rng.randint(0, len(sents))
    return [*sents[:pos], extra, *sents[pos:]]


def vocabulary(docs: Iterable[Doc], lang: str) -> list[str]:
    words: set[str] = set()
    for d in docs:
        if lang == "en":
            words.update(w.lower() for w in _EN_WORD.findall(d.text))
        else:
            for run in _HAN.findall(d.text):
                words.update(run[i : i + 2] for i in range(0, len(run) - 1, 2))
    return sorted(words)


# -- queries ---------------------------------------------------------------------------------


@dataclass
class Query:
    kind: str  # copy | excerpt | heldout | quote | msrp_sent | msrp_art
    lang: str
    text: str
    level: float = 0.0
    variant: str = ""
    source: str | None = None  # true source (positives), quoted / paired item (negatives)
    self_key: str | None = None
    label: str = ""
    hashes: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    matches: list[Any] = field(default_factory=list, repr=False)

    @property
    def size(self) -> int:
        return len(self.hashes)

    @property
    def positive(self) -> bool:
        return self.kind in ("copy", "excerpt")

    @property
    def neg_group(self) -> str:
        return f"msrp_sent:{self.label}" if self.kind == "msrp_sent" else self.kind


def make_copies(sources: list[Doc], vocab: dict[str, list[str]], seed: int) -> list[Query]:
    out = []
    for d in sources:
        for level in LEVELS:
            rng = random.Random(f"{seed}:sub:{d.key}:{level}")
            base = sentences(substitute(d.text, d.lang, level, vocab[d.lang], rng), d.lang)
            for variant in VARIANTS:
                r = random.Random(f"{seed}:var:{d.key}:{level}:{variant}")
                s = shuffle_sents(base, r) if "shuffle" in variant else list(base)
                if "ad" in variant:
                    s = insert(s, r.choice(ADS[d.lang]), r)
                out.append(Query("copy", d.lang, join(s, d.lang), level, variant, d.key))
    return out


def make_excerpts(docs: list[Doc], n: int, rng: random.Random) -> list[Query]:
    out = []
    pool = [d for d in docs if len(sentences(d.text, d.lang)) >= 4]
    rng.shuffle(pool)
    for d in pool:
        if len(out) >= n:
            break
        s = sentences(d.text, d.lang)
        k = max(1, round(0.3 * len(s)))
        start = rng.randint(0, len(s) - k)
        text = join(s[start : start + k], d.lang)
        while len(shingle_hashes(text)) < 20 and k < len(s) - 1:
            k += 1
            start = min(start, len(s) - k)
            text = join(s[start : start + k], d.lang)
        if len(shingle_hashes(text)) >= 20:
            out.append(Query("excerpt", d.lang, text, source=d.key, variant=f"{k}/{len(s)}"))
    return out


def make_quotes(held: list[Doc], indexed: list[Doc], rng: random.Random) -> list[Query]:
    by_group: dict[tuple[str, str], list[Doc]] = defaultdict(list)
    for d in indexed:
        by_group[d.lang, d.group].append(d)

    def quotable(s: str, lang: str) -> bool:
        n = len(_EN_WORD.findall(s)) if lang == "en" else sum(map(len, _HAN.findall(s)))
        return 8 <= n <= 30 if lang == "en" else 12 <= n <= 50

    out = []
    for h in held:
        sents = sentences(h.text, h.lang)
        if len(sents) < 3:
            continue
        pool = by_group[h.lang, h.group] or [d for d in indexed if d.lang == h.lang]
        for _ in range(50):
            src = rng.choice(pool)
            cands = [s for s in sentences(src.text, src.lang) if quotable(s, src.lang)]
            if cands:
                q = rng.choice(cands)
                q = f"“{q}”" if h.lang == "zh" else f'"{q}"'
                out.append(Query("quote", h.lang, join(insert(sents, q, rng), h.lang),
                                 source=src.key, label=h.key))
                break
    return out


def make_msrp(data: Path, seed: int) -> tuple[list[Doc], list[Query], list[Doc], list[Query]]:
    pairs = rows(data / "msrp_paraphrase/msrp_paraphrase.csv")
    sent_docs: dict[str, Doc] = {}
    for r in pairs:
        k = f"m:{r['id1']}"
        if k not in sent_docs:
            sent_docs[k] = Doc(k, r["text"], "msrp", "en", shingle_hashes(r["text"]))
    sent_q = [Query("msrp_sent", "en", r["text2"], source=f"m:{r['id1']}",
                    self_key=f"m:{r['id2']}", label=r["label"]) for r in pairs]
    order = list(range(len(pairs)))
    random.Random(f"{seed}:msrp").shuffle(order)
    art_docs, art_q = [], []
    for a in range(len(order) // 5):
        grp = [pairs[i] for i in order[5 * a : 5 * a + 5]]
        text = " ".join(r["text"] for r in grp)
        art_docs.append(Doc(f"a:{a}", text, "msrp", "en", shingle_hashes(text)))
        n_para = sum(r["label"] == "1" for r in grp)
        art_q.append(Query("msrp_art", "en", " ".join(r["text2"] for r in grp),
                           source=f"a:{a}", label=str(n_para)))
    return list(sent_docs.values()), sent_q, art_docs, art_q


