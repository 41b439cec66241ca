"""How fast is vigil.normalize? Prints texts/s for each view on generated en/zh posts.

    .venv/bin/python benchmarks/normalize_speed.py [--n 4000] [--repeat 5]

The texts are 80-200 characters: plain English, plain Chinese (with full-width
punctuation, some traditional characters), mixes of both, and a share of evasions (leet,
zero-width characters, full-width letters, homoglyphs, spaced letters, repeats). The
baseline is ``unicodedata.normalize("NFKC", t).casefold()`` on the same texts, measured in
the same run. One process, one core; best of ``--repeat`` rounds.
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

from vigil.normalize import normalize

EN = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "free", "money", "click", "here", "now", "follow", "me", "great", "post", "thanks", "for", "sharing", "this", "is", "amazing", "win", "a", "prize", "today", "limited", "offer", "what", "do", "you", "think", "about", "the", "game", "last", "night", "really", "good", "see", "you", "soon", "hello", "all"]
ZH = list(
    "我们今天天气很好大家一起去看电影吧这个产品非常好用欢迎加微信联系免费领取红包"
    "色情网站发财機會請聯繫客服點擊鏈接獲取優惠"
)
PUNCT_ZH = ["，", "。", "！", "？", "……", "：", "“", "”"]
EMOJI = ["😀", "🔥", "👍", "❤️", "🎉"]
EVASIONS = [
    "fr33",
    "$ex",
    "h4te",
    "b!tch",
    "f\u200bu\u200bc\u200bk",
    "ＦＲＥＥ",
    "frее",
    "f r e e",
    "s.e.x",
    "fuuuuck",
    "加 微 信",
    "微*信",
    "ꜰʀᴇᴇ",
]
EXTRAS = ["https://example.com/a?b=1", "13800138000", "@someone", "#tag", "2024"]


def make_texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        kind = i % 3  # 0: English, 1: Chinese, 2: mixed
        target = rng.randint(80, 200)
        parts: list[str] = []
        size = 0
        while size < target:
            r = rng.random()
            if r < 0.08:
                piece = rng.choice(EVASIONS)
            elif r < 0.12:
                piece = rng.choice(EXTRAS)
            elif r < 0.15:
                piece = rng.choice(EMOJI)
            elif kind == 0 or (kind == 2 and r < 0.55):
                piece = rng.choice(EN)
            else:
                piece = "".join(rng.choices(ZH, k=rng.randint(2, 8))) + rng.choice(PUNCT_ZH)
            parts.append(piece)
            size += len(piece) + 1
        texts.append(" ".join(parts)[:target])
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=4000, help="number of generated texts")
    ap.add_argument("--repeat", type=int, default=5, help="rounds; the best is reported")
    args = ap.parse_args()

    texts = make_texts(args.n)
    normalize("warm-up 加微信 frее")  # load the tables outside the timed runs
    groups = {
        "English": texts[0::3],
        "Chinese": texts[1::3],
        "mixed": texts[2::3],
    }
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"machine: processor={platform.processor() or platform.machine()!r} "
          f"cpu_count={os.cpu_count()} python={sys.version.split()[0]}")
    print(f"{len(texts)} texts, mean {mean_len:.0f} chars; best of {args.repeat} rounds, one core")
    print(f"{'texts':8} {'profile':34} {'texts/s':>10} {'us/text':>8}")

    def both(t: str) -> None:
        normalize(t, aggressive=False)
        normalize(t, aggressive=True)

    profiles: list[tuple[str, Callable[[str], object]]] = [
        ("baseline NFKC + casefold", lambda t: unicodedata.normalize("NFKC", t).casefold()),
        ("folded (aggressive=False)", lambda t: normalize(t, aggressive=False)),
        ("match (aggressive=True)", lambda t: normalize(t, aggressive=True)),
        ("both views (as Prepared uses them)", both),
    ]
    for gname, gtexts in [("all", texts), *groups.items()]:
        for pname, fn in profiles:
            r = rate(fn, gtexts, args.repeat)
            print(f"{gname:8} {pname:34} {r:10,.0f} {1e6 / r:8.1f}")


if __name__ == "__main__":
    main()
