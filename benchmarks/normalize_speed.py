"""How fast is vigil.normalize? Prints texts/s for each view on generated en/zh posts.

    .venv/bin/python benchmarks/normalize_speed.py [--n 6000] [--repeat 5]

Posts are 80-200 characters, English, Chinese (full-width punctuation; a fifth written in
traditional characters) and mixed, in turn. Ordinary posts: 15% carry one or two evasions
(leet, zero-width characters, full-width letters, homoglyphs, spaced letters, repeats,
split Chinese), 30% an emoji. The "evasive" group carries four to eight evasions each.
The baseline is ``unicodedata.normalize("NFKC", t).casefold()`` on the same texts,
measured in the same run. One process, one core; best of ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
import unicodedata
from collections.abc import Callable

from vigil.normalize import normalize, normalize_both

SENTENCES = (
    "the quick brown fox jumps over lazy dog free money click here now follow me great "
    "post thanks for sharing this is amazing win a prize today limited offer what do you "
    "think about the game last night really good see you soon hello all"
)
EN = SENTENCES.split()
ZH_SIMPLIFIED = (
    "我们今天天气很好大家一起去看电影吧这个产品非常好用欢迎加微信联系免费领取红包"
    "色情网站发财机会请联系客服点击链接获取优惠的了是不在有人这中大为上个国"
)
ZH_TRADITIONAL = "我們今天天氣很好大家一起去看電影吧這個產品非常好用歡迎加微信聯繫免費領取紅包"
PUNCT_ZH = ["，", "，", "，", "。", "。", "！", "？", "……", "：", "“", "”", "、"]
EMOJI = ["😀", "🔥", "👍", "❤️", "🎉"]
EVASIONS = [
    "fr33",
    "$ex",
    "h4te",
    "b!tch",
    "f\u200bu\u200bc\u200bk",
    "ＦＲＥＥ",
    "frее",  # Cyrillic е
    "f r e e",
    "s.e.x",
    "fuuuuck",
    "加 微 信",
    "微*信",
    "ꜰʀᴇᴇ",
]
EXTRAS = ["https://example.com/a?b=1", "13800138000", "@someone", "#tag", "2024"]


def make_texts(n: int, seed: int = 7, evasive: bool = False) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        kind = i % 3  # 0: English, 1: Chinese, 2: mixed
        zh = ZH_TRADITIONAL if rng.random() < 0.2 else ZH_SIMPLIFIED
        target = rng.randint(80, 200)
        parts: list[str] = []
        size = 0
        while size < target:
            if kind == 0 or (kind == 2 and rng.random() < 0.5):
                piece = rng.choice(EN) + " "
            else:
                piece = "".join(rng.choices(zh, k=rng.randint(4, 12))) + rng.choice(PUNCT_ZH)
            if rng.random() < 0.05:
                piece += rng.choice(EXTRAS) + " "
            parts.append(piece)
            size += len(piece)
        extras = []
        if evasive:
            extras = rng.choices(EVASIONS, k=rng.randint(4, 8))
        elif rng.random() < 0.15:
            extras = rng.choices(EVASIONS, k=rng.randint(1, 2))
        if rng.random() < 0.3:
            extras.append(rng.choice(EMOJI))
        for extra in extras:
            parts.insert(rng.randrange(len(parts) + 1), f" {extra} ")
        texts.append("".join(parts)[:target].strip())
    return texts


def rate(fn: Callable[[str], object], texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=6000, help="number of ordinary posts")
    ap.add_argument("--repeat", type=int, default=5, help="rounds; the best is reported")
    args = ap.parse_args()

    texts = make_texts(args.n)
    groups = {
        "all": texts,
        "English": texts[0::3],
        "Chinese": texts[1::3],
        "mixed": texts[2::3],
        "evasive": make_texts(max(args.n // 3, 1), seed=8, evasive=True),
    }
    normalize("warm-up 加微信 frее")  # load the tables outside the timed runs
    mean_len = sum(map(len, texts)) / len(texts)
    print(
        f"machine: processor={platform.processor() or platform.machine()!r} "
        f"cpu_count={os.cpu_count()} python={sys.version.split()[0]}"
    )
    print(f"{len(texts)} posts, mean {mean_len:.0f} chars; best of {args.repeat} rounds, one core")

    def both(t: str) -> None:
        normalize(t, aggressive=False)
        normalize(t, aggressive=True)

    profiles: list[tuple[str, Callable[[str], object]]] = [
        ("baseline NFKC + casefold", lambda t: unicodedata.normalize("NFKC", t).casefold()),
        ("folded (aggressive=False)", lambda t: normalize(t, aggressive=False)),
        ("match (aggressive=True)", lambda t: normalize(t, aggressive=True)),
        ("both views, two calls", both),
        ("both views, normalize_both", normalize_both),
    ]
    print(f"{'posts':8} {'profile':28} {'texts/s':>10} {'us/text':>8}")
    for gname, gtexts in groups.items():
        for pname, fn in profiles:
            r = rate(fn, gtexts, args.repeat)
            print(f"{gname:8} {pname:28} {r:10,.0f} {1e6 / r:8.1f}")


if __name__ == "__main__":
    main()
