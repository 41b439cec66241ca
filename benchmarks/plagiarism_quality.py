"""Precision and recall of plagiarism detection (``vigil.neardup`` + ``relations.plagiarism_share``)
on real texts with controlled edits, same-topic non-copies, quoting and paraphrase pairs.

    .venv/bin/python benchmarks/plagiarism_quality.py [--data DIR] [--sources 600] [--seed 7]
                                                       [--json PATH]

Construction (everything seeded; the same arguments give the same numbers):

- **Originals.** English: ``openai_moderation_eval`` texts of at least 150 characters;
  Chinese: ``weibo_rumor_ced`` texts of at least 60 characters. Each pool is shuffled and
  de-duplicated greedily: a text sharing at least half of its (exact) shingles with an
  already kept text, or holding half of that text's, is dropped, so that a copy has one
  true source. Per group (English ``category``, Chinese ``label``) 25% are held out (never
  indexed); the rest are indexed together, en and zh in one ``NearDupIndex``.
- **Copies (positives).** ``--sources`` indexed originals per language with at least two
  sentences. Each gets word substitutions of 0/5/10/20/30% of its words (English: words
  replaced by random words of the English pool's vocabulary; Chinese, without a word
  segmenter: each run of Han characters is cut into consecutive 2-character "words" and
  that share of them is replaced by random 2-character strings of the Chinese pool), and
  then four variants: ``plain``, ``shuffle`` (sentence order permuted), ``ad`` (one
  spam/ad sentence inserted at a random sentence boundary), ``shuffle+ad``. A copy is a
  true positive only when the flagged match (highest share) is its source.
- **Excerpts (extra positives, not in the target mix).** A contiguous run of about 30% of
  the sentences of an indexed original with at least four sentences (at least 20
  shingles): a short item lying wholly inside a long one, where containment and
  resemblance differ most.
- **Same-topic non-copies (negatives).** Every held-out text, queried against the index:
  same data set and label/category as indexed texts, but not a copy of any.
- **Quoting (negatives).** A held-out text of at least three sentences with one short
  sentence (English 8-30 words, Chinese 12-50 characters) of an indexed original of the
  same group inserted in quotation marks: the new item is mostly its own.
- **MSRP hard negatives.** (a) sentences: every distinct ``text`` is indexed, every
  ``text2`` queried (itself excluded when the same sentence is also indexed), label 1
  (paraphrase) and 0 reported apart; (b) articles: the pairs are shuffled and cut into
  groups of five; the five ``text`` sentences form an indexed document, the five ``text2``
  a "paraphrased article" query.

A query is flagged iff some indexed item other than itself gives ``plagiarism_share``
not ``None`` (both sizes >= ``min_shingles``, estimated containment ``query_in`` >=
``min_share``). The index is queried once with no threshold (all LSH candidates), and
every rule setting is then applied to the same candidates. Precision is over the target
mix: copies with at most 20% edits (all variants) and the non-copy negatives (held-out and
quoting); MSRP-inclusive precision is reported apart. The same is done with the decision
"Jaccard resemblance >= t" in place of containment. Finally the MinHash estimate of
containment is compared with the exact set containment of each copy in its source.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _machine
import numpy as np
from _plagiarism_cases import (
    ADS,
    LEVELS,
    VARIANTS,
    WORDS,
    Doc,
    Query,
    dedupe,
    exact_overlap,
    load_originals,
    make_copies,
    make_excerpts,
    make_msrp,
    make_quotes,
    sentences,
    split,
    vocabulary,
)

from vigil.neardup import MinHasher, NearDupIndex, shingle_hashes
from vigil.normalize import normalize_both
from vigil.policy import PlagiarismRules
from vigil.relations import plagiarism_share

TARGET_LEVELS = (0.0, 0.05, 0.10, 0.20)
SHARES = (0.3, 0.4, 0.5, 0.6, 0.7)
MIN_SHINGLES = (8, 12, 20)
JACCARDS = (0.3, 0.4, 0.5, 0.6)
DEFAULT = PlagiarismRules()
TARGET_P, TARGET_R = 0.97, 0.90
NEG_GROUPS = ("heldout", "quote")
MSRP_GROUPS = ("msrp_sent:1", "msrp_sent:0", "msrp_art")

def run_queries(index: NearDupIndex, hasher: MinHasher, queries: list[Query]) -> None:
    for q in queries:
        q.hashes = shingle_hashes(q.text)
    step = 2000
    for i in range(0, len(queries), step):
        part = queries[i : i + step]
        sigs = hasher.signatures([q.hashes for q in part])
        found = index.query(sigs, [q.size for q in part])  # no threshold: all candidates
        for q, ms in zip(part, found, strict=True):
            q.matches = [m for m in ms if m.key != q.self_key]


def build_index(docs: list[Doc], hasher: MinHasher) -> NearDupIndex:
    index = NearDupIndex()
    index.add([d.key for d in docs], hasher.signatures([d.hashes for d in docs]),
              [d.size for d in docs])
    return index


# -- decisions and metrics -------------------------------------------------------------------

Decider = Callable[[Query], "str | None"]


def containment_rule(rules: PlagiarismRules, size_of: dict[str, int]) -> Decider:
    def decide(q: Query) -> str | None:
        best, key = -1.0, None
        for m in q.matches:
            s = plagiarism_share(m, q.size, size_of[m.key], rules)
            if s is not None and s > best:
                best, key = s, m.key
        return key
    return decide


def jaccard_rule(t: float, min_shingles: int, size_of: dict[str, int]) -> Decider:
    def decide(q: Query) -> str | None:
        if q.size < min_shingles:
            return None
        best, key = -1.0, None
        for m in q.matches:
            if size_of[m.key] >= min_shingles and m.jaccard >= t and m.jaccard > best:
                best, key = m.jaccard, m.key
        return key
    return decide


def exact_rule(norm_of: dict[str, str]) -> Decider:
    """The floor: flag only a text identical to an indexed one once normalised (case,
    punctuation, spacing, obfuscation folded): what a content-hash lookup catches."""
    def decide(q: Query) -> str | None:
        mine = _norm(q.text)
        for m in q.matches:
            if norm_of.get(str(m.key)) == mine:
                return str(m.key)
        return None
    return decide


def _norm(text: str) -> str:
    return " ".join(WORDS.findall(normalize_both(text)[1].text))


def rate(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate(queries: list[Query], decide: Decider) -> dict[str, Any]:
    """Counts and rates of one decision rule over all queries."""
    hit: Counter[tuple] = Counter()
    tot: Counter[tuple] = Counter()
    wrong: Counter[tuple] = Counter()
    for q in queries:
        got = decide(q)
        if q.kind == "copy":
            keys = [("copy", q.lang, q.level, q.variant)]
        elif q.kind == "excerpt":
            keys = [("excerpt", q.lang)]
        elif q.kind == "msrp_art":
            keys = [("msrp_art",), ("msrp_art_paraphrases", q.label)]
        else:
            keys = [(q.neg_group, q.lang)]
        for k in keys:
            tot[k] += 1
            if q.positive:
                hit[k] += got == q.source
                wrong[k] += got is not None and got != q.source
            else:
                hit[k] += got is not None
                wrong[k] += got is not None and got == q.source  # msrp: flagged its own pair

    def s(c: Counter, pred: Callable[[tuple], bool]) -> int:
        return sum(v for k, v in c.items() if pred(k))

    def is_copy(levels: Sequence[float], lang: str | None = None,
                variant: str | None = None) -> Callable[[tuple], bool]:
        return lambda k: (k[0] == "copy" and k[2] in levels and lang in (None, k[1])
                          and variant in (None, k[3]))

    res: dict[str, Any] = {"cells": {}}
    for k in tot:
        res["cells"][":".join(map(str, k))] = {"n": tot[k], "hit": hit[k], "wrong": wrong[k]}
    tl = is_copy(TARGET_LEVELS)
    tp, n_pos, wr = s(hit, tl), s(tot, tl), s(wrong, tl)
    fp = {g: s(hit, lambda k, g=g: k[0] == g) for g in (*NEG_GROUPS, *MSRP_GROUPS)}
    fn = {g: s(tot, lambda k, g=g: k[0] == g) for g in (*NEG_GROUPS, *MSRP_GROUPS)}
    fp_mix = sum(fp[g] for g in NEG_GROUPS)
    fp_all = fp_mix + sum(fp[g] for g in MSRP_GROUPS)
    res |= {
        "tp": tp, "positives": n_pos, "wrong_source": wr, "fp_negatives": fp_mix,
        "negatives": sum(fn[g] for g in NEG_GROUPS),
        "precision": rate(tp, tp + wr + fp_mix),
        "precision_with_msrp": rate(tp, tp + wr + fp_all),
        "recall": rate(tp, n_pos),
        "recall_en": rate(s(hit, is_copy(TARGET_LEVELS, "en")),
                          s(tot, is_copy(TARGET_LEVELS, "en"))),
        "recall_zh": rate(s(hit, is_copy(TARGET_LEVELS, "zh")),
                          s(tot, is_copy(TARGET_LEVELS, "zh"))),
        "recall_30": rate(s(hit, is_copy((0.3,))), s(tot, is_copy((0.3,)))),
        "recall_by_variant": {v: rate(s(hit, is_copy(TARGET_LEVELS, variant=v)),
                                      s(tot, is_copy(TARGET_LEVELS, variant=v)))
                              for v in VARIANTS},
        "recall_excerpt": rate(s(hit, lambda k: k[0] == "excerpt"),
                               s(tot, lambda k: k[0] == "excerpt")),
        "fpr": {g: rate(fp[g], fn[g]) for g in (*NEG_GROUPS, *MSRP_GROUPS)},
        "fpr_by_lang": {f"{g}:{lang}": rate(s(hit, lambda k, g=g, la=lang: k == (g, la)),
                                            s(tot, lambda k, g=g, la=lang: k == (g, la)))
                        for g in NEG_GROUPS for lang in ("en", "zh")},
    }
    res["meets_targets"] = bool(res["precision"] is not None and res["recall"] is not None
                                and res["precision"] >= TARGET_P and res["recall"] >= TARGET_R)
    return res


# -- printing --------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def table(head: Sequence[str], body: Sequence[Sequence[Any]], indent: str = "  ") -> None:
    cells = [[str(c) for c in r] + [""] * (len(head) - len(r)) for r in [head, *body]]
    w = [max(len(r[i]) for r in cells) for i in range(len(head))]
    for n, r in enumerate(cells):
        print(indent + "  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                                 for i, c in enumerate(r)).rstrip())
        if n == 0:
            print(indent + "  ".join("-" * x for x in w))


def summary_row(name: str, r: dict[str, Any]) -> list[str]:
    f = r["fpr"]
    return [name, fmt(r["precision"]), fmt(r["recall"]), fmt(r["recall_en"]),
            fmt(r["recall_zh"]), fmt(r["recall_30"]), str(r["wrong_source"]),
            fmt(f["heldout"]), fmt(f["quote"]), fmt(f["msrp_sent:1"]), fmt(f["msrp_sent:0"]),
            fmt(f["msrp_art"]), fmt(r["precision_with_msrp"]), fmt(r["recall_excerpt"]),
            "yes" if r["meets_targets"] else "no"]


SUMMARY_HEAD = ["rule", "P", "R<=20", "R en", "R zh", "R@30", "wrong", "FPR held",
                "FPR quote", "MSRP1", "MSRP0", "art", "P+MSRP", "R excpt", "targets"]


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parent.parent
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data",
                    help="folder holding the data sets (default: ../shared/data)")
    ap.add_argument("--sources", type=int, default=600,
                    help="originals per language turned into copies and excerpts (default 600)")
    ap.add_argument("--heldout", type=float, default=0.25, help="share of originals held out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="write all numbers to this JSON file")
    args = ap.parse_args()
    t_start = time.perf_counter()
    print(f"machine: {_machine.machine('numpy', 'datasketch')}")
    seed = args.seed
    hasher = MinHasher()

    pools = load_originals(args.data)
    indexed: list[Doc] = []
    held: list[Doc] = []
    info: dict[str, Any] = {"seed": seed, "sources_per_lang": args.sources,
                            "heldout_share": args.heldout}
    for lang, docs in pools.items():
        kept, dropped = dedupe(docs, random.Random(f"{seed}:dedupe:{lang}"))
        ix, ho = split(kept, args.heldout, random.Random(f"{seed}:split:{lang}"))
        indexed += ix
        held += ho
        info[lang] = {"texts": len(docs), "near_duplicates_dropped": dropped,
                      "indexed": len(ix), "held_out": len(ho),
                      "median_shingles": float(np.median([d.size for d in kept])),
                      "indexed_below_20_shingles": sum(d.size < 20 for d in ix)}
    size_of = {d.key: d.size for d in indexed}
    vocab = {lang: vocabulary(pools[lang], lang) for lang in pools}

    queries: list[Query] = []
    for lang in ("en", "zh"):
        pool = [d for d in indexed if d.lang == lang and len(sentences(d.text, lang)) >= 2]
        rng = random.Random(f"{seed}:sources:{lang}")
        srcs = rng.sample(pool, min(args.sources, len(pool)))
        queries += make_copies(srcs, vocab, seed)
        queries += make_excerpts([d for d in indexed if d.lang == lang], args.sources,
                                 random.Random(f"{seed}:excerpt:{lang}"))
        info[lang]["copy_sources"] = len(srcs)
    queries += [Query("heldout", d.lang, d.text, label=d.key) for d in held]
    queries += make_quotes(held, indexed, random.Random(f"{seed}:quote"))
    t0 = time.perf_counter()
    run_queries(build_index(indexed, hasher), hasher, queries)

    m_docs, m_q, a_docs, a_q = make_msrp(args.data, seed)
    run_queries(build_index(m_docs, hasher), hasher, m_q)
    run_queries(build_index(a_docs, hasher), hasher, a_q)
    for d in m_docs + a_docs:
        size_of[d.key] = d.size
    queries += m_q + a_q
    t_query = time.perf_counter() - t0
    kinds = Counter(q.kind for q in queries)
    info["queries"] = dict(kinds)

    print(f"seed {seed}; {len(queries):,} queries in {t_query:.1f} s (shingle + MinHash + LSH)")
    for lang in ("en", "zh"):
        i = info[lang]
        print(f"{lang}: {i['texts']} texts, {i['near_duplicates_dropped']} near-duplicates "
              f"dropped, {i['indexed']} indexed, {i['held_out']} held out; median "
              f"{i['median_shingles']:.0f} shingles ({i['indexed_below_20_shingles']} indexed "
              f"below 20); {i['copy_sources']} copy sources")
    print("edits: en = words replaced by random words of the English pool; zh = share of "
          "2-character chunks of each Han run replaced by random 2-character strings "
          "(no segmenter: jieba not installed)")
    ad_sizes = {lang: [len(shingle_hashes(a)) for a in ADS[lang]] for lang in ADS}
    print(f"ad sentences: en {ad_sizes['en']} shingles, zh {ad_sizes['zh']} shingles")
    print("queries: " + ", ".join(f"{k} {v:,}" for k, v in kinds.items()))
    by_key = {d.key: d for d in indexed}
    quoted = [exact_overlap(q.hashes, by_key[str(q.source)].hashes) / max(q.size, 1)
              for q in queries if q.kind == "quote"]
    print(f"quoting: share of the new text that is the quoted source's (exact): median "
          f"{np.median(quoted):.2f}, p90 {np.quantile(quoted, 0.9):.2f}, max {max(quoted):.2f}")
    info["quote_share_exact"] = {"median": float(np.median(quoted)),
                                 "p90": float(np.quantile(quoted, 0.9)),
                                 "max": float(max(quoted))}

    results: dict[str, Any] = {"info": info, "containment": {}, "jaccard": {}}
    for ms in MIN_SHINGLES:
        for share in SHARES:
            rules = PlagiarismRules(min_shingles=ms, min_share=share)
            results["containment"][f"{share}/{ms}"] = evaluate(
                queries, containment_rule(rules, size_of))
    for t in JACCARDS:
        results["jaccard"][f"{t}/{DEFAULT.min_shingles}"] = evaluate(
            queries, jaccard_rule(t, DEFAULT.min_shingles, size_of))
    norm_of = {d.key: _norm(d.text) for d in indexed + m_docs + a_docs}
    results["floor_identical"] = evaluate(queries, exact_rule(norm_of))
    default = results["containment"][f"{DEFAULT.min_share}/{DEFAULT.min_shingles}"]

    # exact containment of each copy in its true source, and whether LSH proposed the source
    exact: dict[int, float] = {}
    exact_j: dict[int, float] = {}
    est: dict[int, tuple[float, float, float]] = {}
    for n, q in enumerate(queries):
        if q.kind in ("copy", "excerpt", "quote") and q.source in by_key:
            o = by_key[q.source].hashes
            inter = exact_overlap(q.hashes, o)
            exact[n] = inter / max(q.size, 1)
            exact_j[n] = inter / max(q.size + len(o) - inter, 1)
            m = next((m for m in q.matches if m.key == q.source), None)
            if m is not None:
                est[n] = (m.query_in, m.jaccard, exact_j[n])

    print(f"\n== Copies at the default rules (min_share {DEFAULT.min_share}, min_shingles "
          f"{DEFAULT.min_shingles}): recall (true source flagged) ==")
    print("  cand = source among LSH candidates at all; exact = recall if the decision used "
          "the exact containment in the true source (no MinHash, no LSH)")
    for lang in ("en", "zh"):
        body = []
        for level in LEVELS:
            row: list[str] = [f"{lang} {level:.0%}"]
            for v in VARIANTS:
                c = default["cells"][f"copy:{lang}:{level}:{v}"]
                row.append(fmt(c["hit"] / c["n"]))
            idx = [n for n, q in enumerate(queries)
                   if q.kind == "copy" and q.lang == lang and q.level == level]
            row.append(fmt(np.mean([n in est for n in idx])))
            row.append(fmt(np.mean([exact[n] >= DEFAULT.min_share
                                    and queries[n].size >= DEFAULT.min_shingles
                                    and size_of[queries[n].source] >= DEFAULT.min_shingles
                                    for n in idx])))
            row.append(fmt(float(np.median([exact[n] for n in idx])), 2))
            body.append(row)
        table(["edit", *VARIANTS, "cand", "exact", "med exact share (all variants)"], body)
        print()
    print("  excerpts (about 30% of an original's sentences, no edits), by exact Jaccard "
          "resemblance with the source:")
    dflt = containment_rule(DEFAULT, size_of)
    body = []
    buckets = ((0.0, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 1.01))
    for lang in ("en", "zh"):
        for lo, hi in buckets:
            idx = [n for n, q in enumerate(queries) if q.kind == "excerpt" and q.lang == lang
                   and lo <= exact_j[n] < hi]
            if idx:
                body.append([f"{lang} J {lo:.1f}-{min(hi, 1.0):.1f}", len(idx),
                             fmt(float(np.mean([n in est for n in idx]))),
                             fmt(float(np.mean([dflt(queries[n]) == queries[n].source
                                                for n in idx]))),
                             fmt(float(np.mean([exact[n] for n in idx])), 2)])
    table(["excerpt", "n", "cand", "recall", "mean exact share"], body)

    print("\n== Negatives at the default rules: false-positive rate ==")
    body = []
    for g in NEG_GROUPS:
        for lang in ("en", "zh"):
            c = default["cells"][f"{g}:{lang}"]
            body.append([f"{g} {lang}", c["n"], c["hit"], fmt(c["hit"] / c["n"])])
    for lab in ("1", "0"):
        c = default["cells"][f"msrp_sent:{lab}:en"]
        body.append([f"MSRP sentence, label {lab}", c["n"], c["hit"], fmt(c["hit"] / c["n"]),
                     f"{c['wrong']} on own pair"])
    c = default["cells"]["msrp_art"]
    body.append(["MSRP article (5 pairs)", c["n"], c["hit"], fmt(c["hit"] / c["n"]),
                 f"{c['wrong']} on own pair"])
    for k in range(6):
        c = default["cells"].get(f"msrp_art_paraphrases:{k}")
        if c:
            body.append([f"  with {k}/5 paraphrase pairs", c["n"], c["hit"],
                         fmt(c["hit"] / c["n"])])
    table(["group", "n", "flagged", "FPR", ""], body)
    m_small = np.mean([q.size < DEFAULT.min_shingles for q in m_q])
    print(f"  MSRP sentences below min_shingles={DEFAULT.min_shingles} (never judged): "
          f"{m_small:.1%}")

    print("  negatives flagged, by min_share (min_shingles 12): exact containment of the "
          "query in the flagged item (held-out texts are < 0.5 exact by construction: the "
          "de-duplication cut)")
    body = []
    for share in SHARES:
        dec = containment_rule(PlagiarismRules(min_shingles=DEFAULT.min_shingles,
                                               min_share=share), size_of)
        for g in NEG_GROUPS:
            xs = []
            for q in queries:
                if q.kind == g and (k := dec(q)) is not None:
                    xs.append(exact_overlap(q.hashes, by_key[str(k)].hashes) / q.size)
            body.append([f"{share} {g}", len(xs), fmt(min(xs) if xs else None, 2),
                         fmt(float(np.median(xs)) if xs else None, 2),
                         fmt(max(xs) if xs else None, 2)])
    table(["min_share group", "flagged", "min exact", "median", "max"], body)

    print(f"\n== Sweep: containment decision (plagiarism_share). P over copies <=20% edits "
          f"+ held-out + quoting; targets P>={TARGET_P}, R<=20>={TARGET_R} ==")
    table(SUMMARY_HEAD, [summary_row(k, r) for k, r in results["containment"].items()])
    print("  rule = min_share/min_shingles; R@30 = recall of 30% edits; wrong = copies "
          "flagged against another item; FPR held/quote/MSRP1/MSRP0/art = false-positive "
          "rates; P+MSRP counts MSRP flags as false positives; R excpt = excerpts")

    print(f"\n== Containment vs resemblance (min_shingles {DEFAULT.min_shingles}): "
          "recall <=20% edits by variant ==")
    body = []
    comp = {f"containment >= {sh}": results["containment"][f"{sh}/{DEFAULT.min_shingles}"]
            for sh in (0.4, 0.5, 0.6)}
    comp |= {f"jaccard >= {k.split('/')[0]}": r for k, r in results["jaccard"].items()}
    comp["floor: identical text"] = results["floor_identical"]
    for k, r in comp.items():
        body.append([k, fmt(r["precision"]), fmt(r["recall"]),
                     *(fmt(r["recall_by_variant"][v]) for v in VARIANTS),
                     fmt(r["recall_30"]), fmt(r["recall_excerpt"]), fmt(r["fpr"]["heldout"]),
                     fmt(r["fpr"]["quote"]), fmt(r["fpr"]["msrp_sent:1"]),
                     fmt(r["fpr"]["msrp_sent:0"]), fmt(r["fpr"]["msrp_art"])])
    table(["decision", "P", "R<=20", *VARIANTS, "R@30", "R excpt", "FPR held", "FPR quote",
           "MSRP1", "MSRP0", "art"], body)
    print("  for a copy with substitutions only (|Q| ~ |O|), J = C/(2-C): containment 0.4 / 0.5 "
          "/ 0.6 ~ Jaccard 0.25 / 0.33 / 0.43; with an inserted ad (O inside Q) J = C; an "
          "excerpt has C ~ 1 but J = |Q|/|O|; a partial quote has J < C")

    print("\n== MinHash estimation error: estimated containment (query_in) vs exact, query "
          "against its true source (pairs where LSH proposed the source) ==")
    body = []
    err_info: dict[str, Any] = {}
    groups: list[tuple[str, Callable[[Query], bool]]] = [
        *((f"copy {lv:.0%}", lambda q, lv=lv: q.kind == "copy" and q.level == lv)
          for lv in LEVELS),
        ("copy, all", lambda q: q.kind == "copy"),
        ("excerpt", lambda q: q.kind == "excerpt"),
        ("quote (vs quoted source)", lambda q: q.kind == "quote"),
    ]
    for name, pred in groups:
        idx = [n for n in est if pred(queries[n])]
        if not idx:
            continue
        e_c = np.array([est[n][0] for n in idx])
        x_c = np.array([exact[n] for n in idx])
        e_j = np.array([est[n][1] for n in idx])
        x_j = np.array([est[n][2] for n in idx])
        d = e_c - x_c
        flips = np.mean((e_c >= DEFAULT.min_share) != (x_c >= DEFAULT.min_share))
        body.append([name, len(idx), fmt(float(np.abs(d).mean())),
                     fmt(float(np.quantile(np.abs(d), 0.95))), f"{d.mean():+.3f}",
                     fmt(float(np.abs(e_j - x_j).mean())), f"{flips:.1%}"])
        err_info[name] = {"n": len(idx), "mae_containment": float(np.abs(d).mean()),
                          "p95_abs_containment": float(np.quantile(np.abs(d), 0.95)),
                          "bias_containment": float(d.mean()),
                          "mae_jaccard": float(np.abs(e_j - x_j).mean()),
                          "decision_flips_at_default": float(flips)}
    table(["pairs", "n", "MAE cont", "p95 |err|", "bias", "MAE jacc",
           f"flips @{DEFAULT.min_share}"], body)
    results["minhash_error"] = err_info

    ok = [k for k, r in results["containment"].items() if r["meets_targets"]]
    print(f"\nrules meeting both targets (min_share/min_shingles): {', '.join(ok) or 'none'}")
    elapsed = time.perf_counter() - t_start
    print(f"total time {elapsed:.1f} s")
    results["elapsed_s"] = elapsed
    results["machine"] = _machine.machine("numpy", "datasketch")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
