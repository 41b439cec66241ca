"""Generate the synthetic, labelled sample corpus that ``make demo`` audits.

All text comes from templates and word lists written for Vigil (``data/demo_phrases.json``),
none from a real data set. Three platforms (``chirp`` en microblog, ``weiqun`` zh, ``forumly``
bilingual forum with articles); ~83 % ordinary posts including hard negatives; spam rings
sharing handles and posting in bursts; repeat offenders who climb the sanction ladder; ~30 %
of violating items obfuscated. Rows carry ``_truth`` (category or ``"none"``) and, when
obfuscated, ``_evasion``; the auditor ignores both. Deterministic for a seed::

    python -m vigil.demo_corpus -o examples/sample_corpus.jsonl \\
        --broken examples/broken_sample.jsonl
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import random
import re
import string
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["broken_lines", "generate", "main", "summarize", "write_jsonl"]

BASE = datetime(2026, 6, 1, tzinfo=UTC)
SPAN_DAYS = 120
_DAY = 86400
_SPAN_S = SPAN_DAYS * _DAY

# platform -> (share of accounts, probability an account writes English, kind weights)
PLATFORMS: dict[str, tuple[float, float, dict[str, float]]] = {
    "chirp": (0.40, 0.90, {"post": 0.72, "comment": 0.28}),
    "weiqun": (0.35, 0.08, {"post": 0.62, "comment": 0.38}),
    "forumly": (0.25, 0.55, {"post": 0.30, "comment": 0.45, "article": 0.25}),
}
VIOLATION_RATE = 0.165
# Share of violating items per category; spam takes the rest (~55 %).
SHARES = {"harassment": 0.20, "sexual": 0.09, "hate": 0.06, "violence": 0.07,
          "child_safety": 0.025}
CATEGORIES = ("spam", *SHARES)
RING_SPAM_SHARE = 0.92  # of all spam, posted by the rings
EVASION_RATE = 0.30
# How likely a repeat offender picks each category as its "speciality".
_OFFENDER_TASTE = {"harassment": 5.0, "violence": 2.0, "hate": 2.0, "sexual": 1.5,
                   "child_safety": 0.6}
_TOPICS = {"daily": 14, "food": 12, "sports": 9, "tech": 9, "travel": 7, "question": 9,
           "news": 7, "review": 7, "hard_profanity": 4, "hard_idiom": 4, "hard_contact": 3,
           "hard_counter": 3}
_ARTICLE_TOPICS = ("daily", "food", "sports", "tech", "travel", "news", "review")
# Posting hour weights in local time; zh users post on UTC+8.
_HOURS = (1, .6, .4, .3, .3, .5, 1, 2, 3, 3, 3, 3, 4, 3, 3, 3, 3, 4, 5, 6, 6, 5, 4, 2)
_ALNUM = string.ascii_letters + string.digits
_SLOT = re.compile(r"\{(\w+)\}")
_KIND_PREFIX = {"post": "p", "comment": "c", "article": "a"}
_OTHER = {"en": "zh", "zh": "en"}


@functools.lru_cache(maxsize=1)
def _phrases() -> dict[str, Any]:
    path = Path(__file__).with_name("data") / "demo_phrases.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class _Account:
    id: str
    platform: str
    lang: str
    role: str  # plain | ring | offender | slip
    activity: float
    ring: int = -1


@dataclass
class _Plan:
    account: _Account
    truth: str
    t: int  # seconds after BASE
    lang: str


# ------------------------------------------------------------------ text


def _handle(name: str, rng: random.Random) -> str:
    """A made-up contact handle, phone number (fictional ranges) or short link."""
    h: dict[str, list[str]] = _phrases()["handles"]
    if name == "wx":
        return f"{rng.choice(h['wx_prefix'])}{rng.randint(10, 99999)}"
    if name == "qq":
        return str(rng.randint(10**8, 3 * 10**9))
    if name in ("tg", "tg_link"):
        base = rng.choice(h["tg_names"]) + rng.choice(("", "_vip", "_official", "88", "2026"))
        return "@" + base if name == "tg" else "t.me/" + base
    if name == "short_url":
        code = "".join(rng.choice(_ALNUM) for _ in range(rng.randint(6, 7)))
        return rng.choice(("", "https://")) + rng.choice(h["shorteners"]) + code
    if name in ("wa", "cnphone"):
        fmt = rng.choice(h["wa_formats" if name == "wa" else "cn_formats"])
        return re.sub(r"\{(\d)\}", lambda m: "".join(
            str(rng.randrange(10)) for _ in range(int(m.group(1)))), fmt)
    raise KeyError(f"unknown slot {name!r}")


def _fill(tpl: str, lang: str, rng: random.Random,
          handles: Mapping[str, Sequence[str]] | None = None) -> str:
    slots = _phrases()["slots"][lang]

    def pick(m: re.Match[str]) -> str:
        name = m.group(1)
        if handles and name in handles:
            return rng.choice(handles[name])
        if name in slots:
            return str(rng.choice(slots[name]))
        return _handle(name, rng)

    return _SLOT.sub(pick, tpl)


def _article(rng: random.Random, lang: str, topic: str, tail: str = "") -> str:
    p = _phrases()
    tpls = p["templates"][lang]["daily" if topic == "spam" else topic]
    title = _fill(rng.choice(p["titles"][lang][topic]), lang, rng)
    k = min(len(tpls), rng.randint(2, 3) if tail else rng.randint(3, 6))
    sents = [_fill(t, lang, rng) for t in rng.sample(tpls, k)]
    if lang == "zh":
        sents = [x if x[-1] in "。！？～" else x + "。" for x in sents]
    sep = " " if lang == "en" else ""
    half = max(1, len(sents) // 2)
    paras = [title, sep.join(sents[:half]), sep.join(sents[half:])]
    if tail:
        paras.append(tail)
    elif rng.random() < 0.5:
        paras.append(rng.choice(p["article_close"][lang]))
    return "\n\n".join(x for x in paras if x)


def _benign_text(rng: random.Random, lang: str, kind: str) -> str:
    if kind == "article":
        return _article(rng, lang, rng.choice(_ARTICLE_TOPICS))
    weights = dict(_TOPICS)
    if kind == "comment":
        weights["reply"] = 40
    topic = rng.choices(list(weights), weights=list(weights.values()))[0]
    return _fill(rng.choice(_phrases()["templates"][lang][topic]), lang, rng)


# ------------------------------------------------------------------ evasion


def _mangle_word(w: str, how: str, rng: random.Random) -> str:
    ob = _phrases()["obfuscate"]
    if how in ("leet", "homoglyph"):
        table: dict[str, str] = ob[how]
        idx = [i for i, c in enumerate(w) if c.lower() in table and (how == "leet" or c.islower())]
        keep = [i for i in idx if rng.random() < 0.6] or [rng.choice(idx)]
        return "".join(table[c.lower()] if i in keep else c for i, c in enumerate(w))
    if how == "spaced":
        return " ".join(w)
    if how == "separator":
        sep: str = rng.choice(ob["separators"])
        return sep.join(w)
    if how == "repeat":
        vowels = [i for i, c in enumerate(w) if c.lower() in "aeiouy"] or [len(w) - 1]
        i = rng.choice(vowels)
        return w[: i + 1] + w[i] * rng.randint(2, 4) + w[i + 1:]
    # zero-width: one or two U+200B inside the word
    cuts = sorted(rng.sample(range(1, len(w)), min(len(w) - 1, rng.randint(1, 2))))
    parts = [w[a:b] for a, b in zip([0, *cuts], [*cuts, len(w)], strict=True)]
    return "\u200b".join(parts)


def _obfuscate(text: str, lang: str, rng: random.Random) -> tuple[str, str]:
    """Disguise the give-away words of a violating text; returns (text, method)."""
    ob = _phrases()["obfuscate"]
    if lang == "en":
        how = rng.choice(("leet", "spaced", "zero_width", "homoglyph", "repeat", "separator"))
        table = ob.get(how, {})  # leet and homoglyph need a letter they can swap
        words = [m for m in re.finditer(r"[A-Za-z]{3,}", text)
                 if not table or set(m.group()) & table.keys()]
        hits = [m for m in words if m.group().lower() in ob["triggers_en"]]
        hits = hits or [m for m in words if len(m.group()) >= 4] or words
        if not hits:
            return text, "none"
        chosen = rng.sample(hits, min(len(hits), 2 if rng.random() < 0.3 else 1))
        for m in sorted(chosen, key=lambda m: m.start(), reverse=True):
            text = text[: m.start()] + _mangle_word(m.group(), how, rng) + text[m.end():]
        return text, how
    terms = sorted((t for t in ob["triggers_zh"] if t in text), key=len, reverse=True)
    variants = [t for t in ob["zh_variants"] if t in text]
    how = rng.choice(("separator", "spaced", "traditional", "variant", "zero_width"))
    if how == "variant" and not variants:
        how = "separator"
    if how != "traditional" and not variants and not any(len(t) > 1 for t in terms):
        how = "traditional"  # nothing to split (a lone 滚): write it in traditional script
    if how == "traditional":
        trad: dict[str, str] = ob["traditional"]
        return "".join(trad.get(c, c) for c in text), how
    if how == "variant":
        term = max(variants, key=len)
        return text.replace(term, rng.choice(ob["zh_variants"][term]), 1), how
    term = terms[0]
    glue = {"separator": rng.choice(ob["separators"]), "spaced": " "}.get(how, "\u200b")
    return text.replace(term, glue.join(term), 1), how


# ------------------------------------------------------------------ who posts what, when


def _accounts(rng: random.Random, n: int) -> list[_Account]:
    n_ring, n_off = max(1, round(n / 15)), max(1, round(n / 20))
    roles = ["ring"] * n_ring + ["offender"] * n_off + ["plain"] * (n - n_ring - n_off)
    rng.shuffle(roles)
    ring_of = [0] * round(n_ring * 0.4) + [1] * round(n_ring * 0.35)
    ring_of += [2] * (n_ring - len(ring_of))  # ring sizes 40/35/25 %
    names = list(PLATFORMS)
    out = []
    for i, role in enumerate(roles, 1):
        ring = ring_of.pop(0) if role == "ring" else -1
        if ring >= 0:
            platform = names[(1, 0, 2)[ring]]  # weiqun (zh), chirp (en), forumly (both)
        else:
            platform = rng.choices(names, weights=[v[0] for v in PLATFORMS.values()])[0]
        lang = "en" if rng.random() < PLATFORMS[platform][1] else "zh"
        if ring in (0, 1):
            lang = ("zh", "en")[ring]
        activity = 0.3 if ring >= 0 else min(40.0, rng.paretovariate(1.2))
        out.append(_Account(f"{platform}_u{i:04d}", platform, lang, role, activity, ring))
    return out


def _when(rng: random.Random, lang: str) -> int:
    """A posting time with a day/night rhythm in the author's time zone."""
    hour = rng.choices(range(24), weights=_HOURS)[0]
    tz = 8 if lang == "zh" else rng.choice((-7, -5, 0, 1))
    return ((rng.randrange(SPAN_DAYS) * 24 + hour - tz) * 3600 + rng.randrange(3600)) % _SPAN_S


def _violations(rng: random.Random, accounts: list[_Account], n_viol: int) -> list[_Plan]:
    left = Counter({c: round(n_viol * s) for c, s in SHARES.items()})
    left["spam"] = n_viol - sum(left.values())
    plans: list[_Plan] = []
    # 1. Spam rings: bursts of near-identical posts around a few campaign times.
    ring_accts = [a for a in accounts if a.role == "ring"]
    n_ring = min(left["spam"], round(left["spam"] * RING_SPAM_SHARE))
    weights = [rng.uniform(0.5, 1.5) for _ in ring_accts]
    picked = rng.choices(ring_accts, weights=weights, k=n_ring)
    campaigns = {r: [rng.randrange(_SPAN_S - _DAY) for _ in range(max(3, n_ring // 15))]
                 for r in range(3)}
    for a in picked:
        t = rng.choice(campaigns[a.ring]) + rng.randrange(3 * 3600)
        plans.append(_Plan(a, "spam", t, a.lang))
    left["spam"] -= n_ring
    # 2. Repeat offenders: 4-12 violations each, spread over weeks.
    harmful = [c for c in CATEGORIES if c != "spam"]
    for a in (a for a in accounts if a.role == "offender"):
        avail = [c for c in harmful if left[c] > 0]
        if not avail:
            break
        main_cat = rng.choices(avail, weights=[_OFFENDER_TASTE[c] for c in avail])[0]
        k = rng.randint(4, 12)
        start = rng.randrange(50 * _DAY)
        span = rng.randrange(21 * _DAY, _SPAN_S - start - _DAY)
        for j in range(k):
            avail = [c for c in harmful if left[c] > 0]
            if not avail:
                break
            cat = main_cat if left[main_cat] > 0 and rng.random() < 0.7 else rng.choices(
                avail, weights=[left[c] for c in avail])[0]
            left[cat] -= 1
            t = start + int(span * (j + rng.uniform(0.1, 0.9)) / k)
            plans.append(_Plan(a, cat, t, a.lang if rng.random() < 0.9 else _OTHER[a.lang]))
    # 3. Slips: the rest, one to three items each on otherwise ordinary accounts.
    pool = [a for a in accounts if a.role == "plain"]
    rng.shuffle(pool)
    pool = pool or [a for a in accounts if a.role == "offender"]
    i = 0
    for cat in CATEGORIES:
        while left[cat] > 0:
            a = pool[i % len(pool)]
            i += 1
            a.role = "slip" if a.role == "plain" else a.role
            m = min(left[cat], rng.choices((1, 2, 3), weights=(0.45, 0.3, 0.25))[0])
            for _ in range(m):
                lang = a.lang if rng.random() < 0.9 else _OTHER[a.lang]
                plans.append(_Plan(a, cat, _when(rng, lang), lang))
            left[cat] -= m
    return plans


def _kind(rng: random.Random, platform: str, truth: str) -> str:
    kinds = dict(PLATFORMS[platform][2])
    if truth in ("harassment", "violence", "child_safety"):
        return "comment" if rng.random() < 0.65 else "post"
    if truth == "spam" and "article" in kinds:
        kinds["article"] = 0.12
    elif truth != "none":
        kinds.pop("article", None)
    return rng.choices(list(kinds), weights=list(kinds.values()))[0]


def _reach(rng: random.Random, kind: str, role: str) -> int:
    """Heavy-tailed audience: median in the tens, a few items go viral (> 50k)."""
    if rng.random() < 0.003:
        return int(math.exp(rng.uniform(math.log(50_001), math.log(2_000_000))))
    scale = {"article": 3.0, "comment": 0.25}.get(kind, 1.0) * (0.5 if role == "ring" else 1)
    return int(rng.lognormvariate(3.4, 1.6) * scale)


# ------------------------------------------------------------------ the corpus


def generate(seed: int = 7, n_items: int = 3000, n_accounts: int = 300) -> list[dict[str, Any]]:
    """The sample corpus: ``n_items`` rows by ``n_accounts`` accounts, oldest first.

    Deterministic for ``seed``. Rows have id, platform, account, text, created_at (ISO 8601,
    UTC), lang, reach, kind, sometimes url and reply_to, and ``_truth``/``_evasion``.
    """
    if n_accounts < 10 or n_items < n_accounts:
        raise ValueError("need at least 10 accounts and one item per account")
    rng = random.Random(seed)
    tpl = _phrases()["templates"]
    accounts = _accounts(rng, n_accounts)
    plans = _violations(rng, accounts, round(n_items * VIOLATION_RATE))
    n_benign = n_items - len(plans)
    if n_benign >= len(accounts):  # everyone posts something ordinary, the active more
        authors = accounts + rng.choices(accounts, weights=[a.activity for a in accounts],
                                         k=n_benign - len(accounts))
    else:
        authors = rng.sample(accounts, n_benign)
    for a in authors:
        lang = a.lang if rng.random() < 0.93 else _OTHER[a.lang]
        plans.append(_Plan(a, "none", _when(rng, lang), lang))

    # Each ring repeats a few favourite templates with its shared handles.
    rings: dict[int, tuple[dict[str, list[str]], dict[str, list[str]]]] = {}
    for ring_no in range(3):
        tg = [_handle("tg", rng) for _ in range(2)]
        handles = {"wx": [_handle("wx", rng) for _ in range(2)], "qq": [_handle("qq", rng)],
                   "tg": tg, "tg_link": ["t.me/" + h[1:] for h in tg],
                   "wa": [_handle("wa", rng) for _ in range(2)],
                   "cnphone": [_handle("cnphone", rng)],
                   "short_url": [_handle("short_url", rng) for _ in range(2)]}
        rings[ring_no] = handles, {lg: rng.sample(tpl[lg]["spam"], 3) for lg in ("en", "zh")}

    evade = set(rng.sample(range(n_items - n_benign), round((n_items - n_benign) * EVASION_RATE)))
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(plans):
        a = p.account
        kind = _kind(rng, a.platform, p.truth)
        evasion = None
        if p.truth == "none":
            text = _benign_text(rng, p.lang, kind)
        else:
            ring = rings.get(a.ring) if p.truth == "spam" else None
            pool = tpl[p.lang][p.truth]
            if ring and rng.random() < 0.75:
                pool = ring[1][p.lang]
            text = _fill(rng.choice(pool), p.lang, rng, ring[0] if ring else None)
            if i in evade:
                text, evasion = _obfuscate(text, p.lang, rng)
            if kind == "article":
                text = _article(rng, p.lang, "spam", tail=text)
        stamp = (BASE + timedelta(seconds=p.t)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append({"platform": a.platform, "account": a.id, "text": text, "created_at": stamp,
                     "lang": p.lang, "reach": _reach(rng, kind, a.role), "kind": kind,
                     "_truth": p.truth, **({"_evasion": evasion} if evasion else {})})

    # Oldest first; ids count up per platform; comments answer a recent post or article.
    rows.sort(key=lambda r: (r["created_at"], r["account"], r["text"]))
    counters: Counter[str] = Counter()
    recent: dict[str, list[str]] = {name: [] for name in PLATFORMS}
    out = []
    for r in rows:
        pf, kind = r["platform"], r["kind"]
        counters[pf] += 1
        rid = f"{_KIND_PREFIX[kind]}-{counters[pf]:06d}"
        extra = {}
        if kind != "comment" and rng.random() < 0.12:
            extra["url"] = f"https://{pf}.example/{r['account']}/{rid}"
        if kind == "comment" and recent[pf] and rng.random() < 0.9:
            extra["reply_to"] = rng.choice(recent[pf][-30:])
        elif kind != "comment":
            recent[pf].append(rid)
        public = {k: v for k, v in r.items() if not k.startswith("_")}
        out.append({"id": rid, **public, **extra, **{k: r[k] for k in r if k not in public}})
    return out


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write one JSON object per line (UTF-8, ``\\n`` endings); returns the row count."""
    lines = [json.dumps(row, ensure_ascii=False) + "\n" for row in rows]
    with Path(path).open("w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(lines)
    return len(lines)


def broken_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """20 JSONL lines from ``rows``; lines 3, 8, 13 and 17 are malformed, each differently:
    invalid JSON, missing text, a bad created_at, and an array instead of an object."""
    lines = [json.dumps(dict(r), ensure_ascii=False) for r in rows[:20]]
    lines[2] = lines[2][:-12]
    lines[7] = json.dumps({k: v for k, v in rows[7].items() if k != "text"}, ensure_ascii=False)
    lines[12] = json.dumps({**rows[12], "created_at": "2026-13-45T25:61:00Z"},
                           ensure_ascii=False)
    lines[16] = json.dumps([rows[16]["id"], rows[16]["text"]], ensure_ascii=False)
    return lines


def summarize(rows: Sequence[Mapping[str, Any]]) -> dict[str, Counter[str]]:
    """Counts by truth, platform, language, platform/language, kind and evasion method."""
    viol = Counter(r["account"] for r in rows if r.get("_truth", "none") != "none")
    return {
        "truth": Counter(r.get("_truth", "none") for r in rows),
        "platform": Counter(r["platform"] for r in rows),
        "lang": Counter(r["lang"] for r in rows),
        "platform/lang": Counter(f"{r['platform']}/{r['lang']}" for r in rows),
        "kind": Counter(r["kind"] for r in rows),
        "evasion": Counter(r["_evasion"] for r in rows if "_evasion" in r),
        "accounts": Counter({"total": len({r["account"] for r in rows}),
                             "with a violation": len(viol),
                             "with >= 4 violations": sum(1 for n in viol.values() if n >= 4)}),
    }


def _report(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for name, counts in summarize(rows).items():
        total = sum(counts.values()) if name != "accounts" else 0
        parts = [f"{k} {v}" + (f" ({100 * v / total:.1f} %)" if total else "")
                 for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        lines.append(f"{name:>13}: " + ", ".join(parts))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m vigil.demo_corpus",
        description="Write the synthetic, labelled sample corpus for the Vigil demo (JSONL). "
        "Rows carry _truth (intended category) for measuring detection; output is the "
        "same for the same seed.")
    ap.add_argument("-o", "--output", default="examples/sample_corpus.jsonl",
                    help="where to write the corpus (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    ap.add_argument("--items", type=int, default=3000, help="rows (default: %(default)s)")
    ap.add_argument("--accounts", type=int, default=300,
                    help="accounts, at least 10 (default: %(default)s)")
    ap.add_argument("--broken", metavar="PATH",
                    help="also write 20 lines, 4 of them malformed, for the rejects demo")
    args = ap.parse_args(argv)
    try:
        rows = generate(args.seed, args.items, args.accounts)
    except ValueError as e:
        ap.error(str(e))
    write_jsonl(args.output, rows)
    print(f"wrote {len(rows)} rows to {args.output}")
    if args.broken:
        Path(args.broken).write_text("\n".join(broken_lines(rows)) + "\n", encoding="utf-8")
        print(f"wrote 20 lines (4 malformed) to {args.broken}")
    print(_report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
