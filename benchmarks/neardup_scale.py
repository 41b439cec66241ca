"""Near-duplicate index (``vigil.neardup``) at scale: build throughput, memory, query latency
and recall of planted near-copies, with datasketch's ``MinHashLSH`` as the floor.

    .venv/bin/python benchmarks/neardup_scale.py [--n 1000000] [--peer-n 100000]
                                                 [--data DIR] [--seed 7] [--json PATH]

Corpus: ``--n`` synthetic posts and articles recombined from real texts under ``--data``
(English: moderation samples, tweets, LIAR statements, MSRP news, Snopes claims, SMS,
YouTube comments; Chinese: COLD, ToxiCN, SWSR and Weibo comments, Chinese SMS). Each item
is 2-10 random windows (3-12 words, or 4-16 Han characters) of the pooled texts, 3% are
articles of 15-40 windows; about 20% are Chinese. At least two windows, so that two items
rarely overlap by chance (with one 4-20-word window allowed, from a ~1M-word pool, 44% of
held-out posts had a Jaccard >= 0.5 match at 1M items; now about 7%, mostly planted).
About 5% are near-copies of an earlier item (1-3 words or characters replaced, deleted or
inserted). Item ``i`` is a pure function of ``(seed, i)``, so texts are made lazily, one
chunk at a time, and a copy's source is re-made when needed rather than kept.

1. Build, in chunks of 1000 items: ``shingle_hashes``, ``MinHasher.signatures`` and
   ``NearDupIndex.add``, timed apart (items/s each, and end to end); making the texts is
   not counted. Also how ``add`` slows as the index grows (first and last tenth of the
   chunks, slowest chunk: the merges of the sorted runs).
2. Memory: process RSS (``/proc/self/status``) before and after the build, peak RSS, and
   ``index.nbytes()``; bytes per item.
3. Queries on the full index, with posts not in it (the next items of the corpus, so about
   5% repeat an indexed item): 1000 single-signature ``query`` calls (p50/p99 latency) and
   batches of 1000 (items/s); recall of the planted near-copies: the share of the copies in
   the index whose source comes back from ``query(..., min_jaccard=0.5)``, also split by
   the pair's exact shingle Jaccard.
4. Floor: datasketch ``MinHashLSH(num_perm=128, params=(42, 3))`` with in-memory (dict)
   storage, fed the same signatures (``LeanMinHash(seed=SEED, hashvalues=sig,
   scheme="affine32")``) for the first ``--peer-n`` items, beside our index built on the
   same items in the same run: insert items/s, RSS growth, bytes/item (the LSH alone, and
   with the ``LeanMinHash`` objects kept, since the LSH does not store signatures and
   scoring needs them), single-query p50/p99 (candidates only, and candidates scored with
   Jaccard >= 0.5), and the ratios. The two indexes' candidate sets are compared too.

Each measured build runs in a fresh process (``spawn``), so the memory of one does not hide
or inflate another. One core per process; the parts run one after another.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import _machine
import numpy as np
from _machine import peak_rss_bytes, rss_bytes

from vigil.neardup import BANDS, NUM_PERM, ROWS, SEED, MinHasher, NearDupIndex, shingle_hashes

CHUNK = 1000
QUERIES = 1000  # single-signature queries
QUERY_BATCHES = 10  # batched queries: this many batches of CHUNK held-out items
MIN_JACCARD = 0.5
ZH_SHARE = 0.2
COPY_SHARE = 0.05
ARTICLE_SHARE = 0.03

EN_SOURCES = (
    ("openai_moderation_eval/openai_moderation_samples.csv", ("text",)),
    ("davidson_hate_offensive/davidson_labeled_data.csv", ("text",)),
    ("liar/liar.csv", ("text",)),
    ("msrp_paraphrase/msrp_paraphrase.csv", ("text", "text2")),
    ("clef2020_checkthat_claim_retrieval/verified_claims.csv", ("text",)),
    ("sms_spam_collection/sms_spam_collection.csv", ("text",)),
    ("youtube_spam_collection/youtube_spam_collection.csv", ("text",)),
    ("ethos_hate_violence/ethos.csv", ("text",)),
    ("jigsaw_toxic_sample/jigsaw_toxic_sample.csv", ("text",)),
)
ZH_SOURCES = (
    ("cold_chinese_offensive/cold.csv", ("text",)),
    ("toxicn_chinese_toxic/toxicn.csv", ("text",)),
    ("swsr_chinese_sexism/swsr_comments.csv", ("text",)),
    ("weibo_rumor_ced/weibo_rumor_ced.csv", ("text",)),
    ("chinese_sms_spam_10k/chinese_sms_spam.csv", ("text",)),
)
REQUIRED = ("openai_moderation_eval/openai_moderation_samples.csv",
            "cold_chinese_offensive/cold.csv")
ZH_PUNCT = "，，，。！？、"


# -- corpus ------------------------------------------------------------------------------


def _texts(data: Path, sources: tuple[tuple[str, tuple[str, ...]], ...]) -> Iterator[str]:
    csv.field_size_limit(1 << 24)
    for rel, cols in sources:
        path = data / rel
        if not path.exists():
            if rel in REQUIRED:
                raise SystemExit(f"missing {path} (pass --data DIR)")
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for c in cols:
                    if (row.get(c) or "").strip():
                        yield row[c]


class Corpus:
    """Item ``i`` = ``(text, source)``: a recombination of windows of the pooled real texts,
    or (``source >= 0``) a near-copy of item ``source``, made from ``(seed, i)`` alone."""

    def __init__(self, data: Path, seed: int) -> None:
        self.seed = seed
        interned: dict[str, str] = {}
        self.words = [interned.setdefault(w, w) for t in _texts(data, EN_SOURCES)
                      for w in t.split()]
        self.vocab = list(interned)
        self.han = "".join("".join(t.split()) for t in _texts(data, ZH_SOURCES))

    def item(self, i: int) -> tuple[str, int]:
        r = random.Random(self.seed << 40 | i)
        if i >= CHUNK and r.random() < COPY_SHARE:
            src = r.randrange(i)
            return self._mutate(self.item(src)[0], r), src
        zh = r.random() < ZH_SHARE
        if r.random() < ARTICLE_SHARE:
            k = r.randint(15, 40)
        else:
            k = min(2 + int(r.expovariate(1 / 1.5)), 10)
        parts = []
        for _ in range(k):
            if zh:
                n = r.randint(4, 16)
                s = r.randrange(len(self.han) - n)
                parts.append(self.han[s : s + n] + r.choice(ZH_PUNCT))
            else:
                n = r.randint(3, 12)
                s = r.randrange(len(self.words) - n)
                parts.append(" ".join(self.words[s : s + n]))
        return ("" if zh else " ").join(parts), -1

    def _mutate(self, text: str, r: random.Random) -> str:
        zh = not text.isascii() and sum(1 for ch in text[:40] if "\u4e00" <= ch <= "\u9fff") > 5
        toks = list(text) if zh else text.split()
        for _ in range(r.randint(1, 3)):
            op, pos = r.random(), r.randrange(len(toks))
            new = self.han[r.randrange(len(self.han))] if zh else r.choice(self.vocab)
            if op < 0.6:
                toks[pos] = new
            elif op < 0.8 and len(toks) > 3:
                del toks[pos]
            else:
                toks.insert(pos, new)
        return ("" if zh else " ").join(toks)

    def chunk(self, start: int, stop: int) -> tuple[list[str], list[int]]:
        items = [self.item(i) for i in range(start, stop)]
        return [t for t, _ in items], [s for _, s in items]


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 1.0


def pct(values: list[float] | np.ndarray, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else 0.0


def timed_singles(call: Callable[[int], Any], n: int) -> list[float]:
    """Seconds of ``call(k)`` for k in range(n), one at a time."""
    out = []
    for k in range(n):
        t0 = time.perf_counter()
        call(k)
        out.append(time.perf_counter() - t0)
    return out


# -- part 1-3: the full-size build -------------------------------------------------------


def run_scale(data: str, seed: int, n: int, peer_n: int, peer_file: str) -> dict[str, Any]:
    corpus = Corpus(Path(data), seed)
    hasher = MinHasher()
    index = NearDupIndex(NUM_PERM, BANDS, ROWS)
    keep = peer_n + QUERIES  # the first items, saved for the peer comparison
    t_gen = t_sh = t_sig = 0.0
    add_s: list[float] = []
    copies: list[tuple[int, int, float]] = []  # (copy, source, exact Jaccard)
    n_zh = 0
    shingles = np.empty(n, np.int32)
    rss0 = rss_bytes()
    progress = max(n // 10 // CHUNK, 1) * CHUNK
    with open(peer_file, "wb") as peer_out:
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            t0 = time.perf_counter()
            texts, sources = corpus.chunk(start, stop)
            t1 = time.perf_counter()
            hashes = [shingle_hashes(t) for t in texts]
            t2 = time.perf_counter()
            sigs = hasher.signatures(hashes)
            t3 = time.perf_counter()
            sizes = [len(h) for h in hashes]
            index.add(range(start, stop), sigs, sizes)
            t4 = time.perf_counter()
            t_gen += t1 - t0
            t_sh += t2 - t1
            t_sig += t3 - t2
            add_s.append(t4 - t3)
            shingles[start:stop] = sizes
            if start < keep:
                m = min(stop, keep) - start
                peer_out.write(np.ascontiguousarray(sigs[:m]).tobytes())
                peer_out.write(np.asarray(sizes[:m], np.int32).tobytes())
            # not timed: language share, exact Jaccard of each planted copy and its source
            n_zh += sum(1 for t in texts if not t.isascii()
                        and sum(1 for ch in t[:40] if "\u4e00" <= ch <= "\u9fff") > 5)
            for k, src in enumerate(sources):
                if src >= 0:
                    src_h = shingle_hashes(corpus.item(src)[0])
                    copies.append((start + k, src, exact_jaccard(hashes[k], src_h)))
            if stop % progress == 0:
                print(f"  ... {stop:,} items, {time.perf_counter() - t0:.3f} s last chunk",
                      file=sys.stderr, flush=True)
    rss1 = rss_bytes()
    nbytes = index.nbytes()
    build = t_sh + t_sig + sum(add_s)
    tenth = max(len(add_s) // 10, 1)

    # held-out posts (the next items of the corpus) as queries
    q_texts, q_src = corpus.chunk(n, n + QUERY_BATCHES * CHUNK)
    q_hashes = [shingle_hashes(t) for t in q_texts]
    q_sigs = hasher.signatures(q_hashes)
    q_sizes = [len(h) for h in q_hashes]
    single = timed_singles(lambda k: index.query(q_sigs[k : k + 1], q_sizes[k : k + 1],
                                                 min_jaccard=MIN_JACCARD), QUERIES)
    n_cand = [len(c) for c in index.candidates(q_sigs[:QUERIES])]
    t0 = time.perf_counter()
    found = []
    for b in range(QUERY_BATCHES):
        sl = slice(b * CHUNK, (b + 1) * CHUNK)
        found += index.query(q_sigs[sl], q_sizes[sl], min_jaccard=MIN_JACCARD)
    t_batch = time.perf_counter() - t0
    q_hit = sum(1 for f in found if f)
    q_copy_hit = sum(1 for f, s in zip(found, q_src, strict=True)
                     if s >= 0 and any(m.key == s for m in f))

    # recall of the planted copies inside the index
    hits = np.zeros(len(copies), bool)
    jac = np.array([j for _, _, j in copies])
    for b in range(0, len(copies), CHUNK):
        part = copies[b : b + CHUNK]
        sigs = np.stack([index.signature(c) for c, _, _ in part])
        sizes = [int(shingles[c]) for c, _, _ in part]
        res = index.query(sigs, sizes, min_jaccard=MIN_JACCARD)
        hits[b : b + len(part)] = [any(m.key == s for m in r)
                                   for (_, s, _), r in zip(part, res, strict=True)]
    bins = {}
    for name, lo, hi in (("J>=0.8", 0.8, 1.01), ("0.6<=J<0.8", 0.6, 0.8),
                         ("0.5<=J<0.6", 0.5, 0.6), ("J<0.5", 0.0, 0.5)):
        sel = (jac >= lo) & (jac < hi)
        bins[name] = {"copies": int(sel.sum()), "found": int(hits[sel].sum())}
    return {
        "n": n,
        "chinese_share": n_zh / n,
        "copies": len(copies),
        "shingles_mean": float(shingles.mean()),
        "shingles_p50": pct(shingles, 50),
        "shingles_p99": pct(shingles, 99),
        "en_words_pool": len(corpus.words),
        "zh_chars_pool": len(corpus.han),
        "generate_items_per_s": n / t_gen,
        "shingle_items_per_s": n / t_sh,
        "signature_items_per_s": n / t_sig,
        "add_items_per_s": n / sum(add_s),
        "add_first_tenth_items_per_s": tenth * CHUNK / sum(add_s[:tenth]),
        "add_last_tenth_items_per_s": tenth * CHUNK / sum(add_s[-tenth:]),
        "add_slowest_chunk_ms": max(add_s) * 1000,
        "add_p50_chunk_ms": pct(add_s, 50) * 1000,
        "end_to_end_items_per_s": n / build,
        "build_s": build,
        "rss_before_bytes": rss0,
        "rss_after_bytes": rss1,
        "rss_peak_bytes": peak_rss_bytes(),
        "rss_growth_per_item": (rss1 - rss0) / n,
        "index_nbytes": nbytes,
        "index_nbytes_per_item": nbytes / n,
        "single_query_p50_ms": pct(single, 50) * 1000,
        "single_query_p99_ms": pct(single, 99) * 1000,
        "single_query_mean_ms": float(np.mean(single)) * 1000,
        "candidates_per_query_mean": float(np.mean(n_cand)),
        "candidates_per_query_p99": pct(n_cand, 99),
        "batch_query_items_per_s": len(found) / t_batch,
        "held_out_queries": len(found),
        "held_out_with_match": q_hit,
        "held_out_copies": sum(1 for s in q_src if s >= 0),
        "held_out_copies_source_found": q_copy_hit,
        "recall": float(hits.mean()) if len(hits) else 0.0,
        "recall_found": int(hits.sum()),
        "recall_by_exact_jaccard": bins,
        "copy_exact_jaccard_p50": pct(jac, 50),
    }


# -- part 4: the same signatures in both indexes, at --peer-n ----------------------------


def _peer_data(peer_file: str, peer_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Signatures and shingle counts of the first ``peer_n + QUERIES`` items, as written
    by ``run_scale`` (signature rows, then sizes, per chunk)."""
    raw = np.fromfile(peer_file, dtype=np.uint8)
    sigs, sizes, off = [], [], 0
    for start in range(0, peer_n + QUERIES, CHUNK):
        m = min(CHUNK, peer_n + QUERIES - start)
        sigs.append(raw[off : off + m * NUM_PERM * 4].view(np.uint32).reshape(m, NUM_PERM))
        off += m * NUM_PERM * 4
        sizes.append(raw[off : off + m * 4].view(np.int32))
        off += m * 4
    return np.concatenate(sigs), np.concatenate(sizes)


def run_ours(peer_file: str, peer_n: int) -> dict[str, Any]:
    sigs, sizes = _peer_data(peer_file, peer_n)
    q_sigs, q_sizes = sigs[peer_n:], sizes[peer_n:]
    rss0 = rss_bytes()
    index = NearDupIndex(NUM_PERM, BANDS, ROWS)
    t0 = time.perf_counter()
    for start in range(0, peer_n, CHUNK):
        stop = min(start + CHUNK, peer_n)
        index.add(range(start, stop), sigs[start:stop], sizes[start:stop])
    t_add = time.perf_counter() - t0
    rss1 = rss_bytes()
    cand = timed_singles(lambda k: index.candidates(q_sigs[k : k + 1]), QUERIES)
    query = timed_singles(lambda k: index.query(q_sigs[k : k + 1], q_sizes[k : k + 1],
                                                min_jaccard=MIN_JACCARD), QUERIES)
    return {
        "n": peer_n,
        "insert_items_per_s": peer_n / t_add,
        "rss_growth_bytes": rss1 - rss0,
        "bytes_per_item": (rss1 - rss0) / peer_n,
        "bytes_per_item_with_signatures": (rss1 - rss0) / peer_n,
        "index_nbytes_per_item": index.nbytes() / peer_n,
        "candidates_p50_ms": pct(cand, 50) * 1000,
        "candidates_p99_ms": pct(cand, 99) * 1000,
        "query_p50_ms": pct(query, 50) * 1000,
        "query_p99_ms": pct(query, 99) * 1000,
    }


def run_datasketch(peer_file: str, peer_n: int) -> dict[str, Any]:
    from datasketch import LeanMinHash, MinHashLSH

    sigs, _ = _peer_data(peer_file, peer_n)

    def lean(sig: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=SEED, hashvalues=sig, scheme="affine32")

    rss0 = rss_bytes()
    lsh = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    t_make = t_ins = 0.0
    for start in range(0, peer_n, CHUNK):
        t0 = time.perf_counter()
        mhs = [lean(s) for s in sigs[start : min(start + CHUNK, peer_n)]]
        t1 = time.perf_counter()
        for k, mh in enumerate(mhs):
            lsh.insert(start + k, mh)
        t_ins += time.perf_counter() - t1
        t_make += t1 - t0
    rss1 = rss_bytes()
    store = [lean(s) for s in sigs[:peer_n]]  # what scoring candidates needs
    rss2 = rss_bytes()
    queries = [lean(s) for s in sigs[peer_n:]]
    cand = timed_singles(lambda k: lsh.query(queries[k]), QUERIES)

    def scored(k: int) -> list[Any]:
        q = queries[k]
        return [key for key in lsh.query(q) if q.jaccard(store[key]) >= MIN_JACCARD]

    query = timed_singles(scored, QUERIES)
    # do the two indexes find the same candidates? (ours hashes bands to 64 bits)
    index = NearDupIndex(NUM_PERM, BANDS, ROWS)
    index.add(range(peer_n), sigs[:peer_n], np.ones(peer_n, np.int32))
    ours = index.candidates(sigs[peer_n:])
    same = sum(1 for k in range(QUERIES) if set(ours[k].tolist()) == set(lsh.query(queries[k])))
    return {
        "n": peer_n,
        "insert_items_per_s": peer_n / t_ins,
        "insert_with_leanminhash_items_per_s": peer_n / (t_ins + t_make),
        "rss_growth_bytes": rss1 - rss0,
        "bytes_per_item": (rss1 - rss0) / peer_n,
        "bytes_per_item_with_signatures": (rss2 - rss0) / peer_n,
        "candidates_p50_ms": pct(cand, 50) * 1000,
        "candidates_p99_ms": pct(cand, 99) * 1000,
        "query_p50_ms": pct(query, 50) * 1000,
        "query_p99_ms": pct(query, 99) * 1000,
        "same_candidates": same,
    }


def in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        return ex.submit(fn, *args).result()


# -- report ------------------------------------------------------------------------------


def mib(b: float) -> str:
    return f"{b / 2**20:,.1f} MiB"


def report_scale(s: dict[str, Any]) -> None:
    n = s["n"]
    print(f"corpus: {n:,} items, {s['chinese_share']:.1%} Chinese, {s['copies']:,} planted "
          f"near-copies ({s['copies'] / n:.1%}); shingles/item mean {s['shingles_mean']:.1f}, "
          f"p50 {s['shingles_p50']:.0f}, p99 {s['shingles_p99']:.0f}")
    print(f"        pools: {s['en_words_pool']:,} English words, {s['zh_chars_pool']:,} "
          f"Chinese characters; making texts: {s['generate_items_per_s']:,.0f} items/s "
          "(not counted below)")
    print(f"\n== build, chunks of {CHUNK} ==")
    print(f"{'stage':<34}{'items/s':>12}{'s per 1M':>12}")
    for name, key in (("shingle_hashes", "shingle_items_per_s"),
                      ("MinHasher.signatures", "signature_items_per_s"),
                      ("NearDupIndex.add", "add_items_per_s"),
                      ("end to end (the three)", "end_to_end_items_per_s")):
        print(f"{name:<34}{s[key]:>12,.0f}{1e6 / s[key]:>12.1f}")
    print(f"add: first tenth of chunks {s['add_first_tenth_items_per_s']:,.0f} items/s, last "
          f"tenth {s['add_last_tenth_items_per_s']:,.0f} items/s; chunk p50 "
          f"{s['add_p50_chunk_ms']:.1f} ms, slowest {s['add_slowest_chunk_ms']:.0f} ms (merge)")
    print("\n== memory ==")
    print(f"RSS before build        {mib(s['rss_before_bytes']):>14}")
    grow = s["rss_after_bytes"] - s["rss_before_bytes"]
    print(f"RSS after build         {mib(s['rss_after_bytes']):>14}   +{mib(grow)}, "
          f"{s['rss_growth_per_item']:,.0f} bytes/item")
    print(f"peak RSS (VmHWM)        {mib(s['rss_peak_bytes']):>14}")
    print(f"index.nbytes()          {mib(s['index_nbytes']):>14}   "
          f"{s['index_nbytes_per_item']:,.0f} bytes/item (numpy arrays only)")
    print(f"\n== queries, index of {n:,} items, held-out posts ==")
    print(f"single query (1 signature/call, {QUERIES}): p50 {s['single_query_p50_ms']:.3f} ms, "
          f"p99 {s['single_query_p99_ms']:.3f} ms, mean {s['single_query_mean_ms']:.3f} ms; "
          f"candidates/query mean {s['candidates_per_query_mean']:.1f}, "
          f"p99 {s['candidates_per_query_p99']:.0f}")
    print(f"batched query ({QUERY_BATCHES} x {CHUNK}): {s['batch_query_items_per_s']:,.0f} "
          f"items/s; {s['held_out_with_match']:,}/{s['held_out_queries']:,} with a match "
          f"(Jaccard >= {MIN_JACCARD}); source found for {s['held_out_copies_source_found']}"
          f"/{s['held_out_copies']} held-out near-copies")
    print(f"recall of planted near-copies (query(min_jaccard={MIN_JACCARD}) returns the "
          f"source): {s['recall_found']:,}/{s['copies']:,} = {s['recall']:.1%}; exact "
          f"shingle Jaccard of the pairs: median {s['copy_exact_jaccard_p50']:.2f}")
    for name, b in s["recall_by_exact_jaccard"].items():
        share = b["found"] / b["copies"] if b["copies"] else 0.0
        print(f"    {name:<12} {b['found']:>8,}/{b['copies']:<8,} = {share:6.1%}")


def report_peer(ours: dict[str, Any], ds: dict[str, Any]) -> dict[str, float]:
    n = ours["n"]
    print(f"\n== floor: datasketch MinHashLSH(num_perm={NUM_PERM}, params=({BANDS}, {ROWS})), "
          f"dict storage, same signatures, {n:,} items ==")
    print(f"{'':<46}{'vigil':>12}{'datasketch':>12}   vigil vs datasketch")
    ratios: dict[str, float] = {}

    def row(label: str, key: str, kind: str, ds_key: str = "") -> None:
        """``kind``: "rate" (higher is better), "time" or "memory" (lower is better)."""
        a, b = ours[key], ds[ds_key or key]
        r = a / b if kind == "rate" else b / a
        ratios[ds_key or key] = r
        good, bad = ("less memory", "more memory") if kind == "memory" else ("faster", "slower")
        fmt = ".3f" if kind == "time" else ",.0f"
        verdict = f"{r:,.1f}x {good}" if r >= 1 else f"{1 / r:,.1f}x {bad}"
        print(f"{label:<46}{format(a, fmt):>12}{format(b, fmt):>12}   {verdict}")

    row("insert, items/s (signatures given)", "insert_items_per_s", "rate")
    row("  + making LeanMinHash objects, items/s", "insert_items_per_s", "rate",
        "insert_with_leanminhash_items_per_s")
    row("RSS growth, bytes/item (index)", "bytes_per_item", "memory")
    row("  + signatures kept (LeanMinHash), bytes/item", "bytes_per_item_with_signatures",
        "memory")
    row("single query, candidates only: p50 ms", "candidates_p50_ms", "time")
    row("single query, candidates only: p99 ms", "candidates_p99_ms", "time")
    row(f"single query, Jaccard >= {MIN_JACCARD}: p50 ms", "query_p50_ms", "time")
    row(f"single query, Jaccard >= {MIN_JACCARD}: p99 ms", "query_p99_ms", "time")
    print(f"vigil RSS growth {mib(ours['rss_growth_bytes'])} (index.nbytes() "
          f"{ours['index_nbytes_per_item']:,.0f} bytes/item, signatures included); "
          f"datasketch {mib(ds['rss_growth_bytes'])} without signatures")
    print(f"same candidate sets for {ds['same_candidates']}/{QUERIES} queries "
          "(vigil hashes each band to 64 bits, datasketch keys on the band's bytes)")
    return ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    here = Path(__file__).resolve().parent.parent
    ap.add_argument("--n", type=int, default=1_000_000, help="items in the full index")
    ap.add_argument("--peer-n", type=int, default=100_000,
                    help="items for the datasketch comparison (at most n - 1000)")
    ap.add_argument("--data", type=Path, default=here.parent / "shared" / "data",
                    help="folder holding the data sets (default: ../shared/data)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.n < 2 * CHUNK + QUERIES:
        ap.error(f"--n must be at least {2 * CHUNK + QUERIES}")
    peer_n = min(args.peer_n, args.n - QUERIES)
    t_all = time.perf_counter()
    machine = _machine.machine("numpy", "datasketch")
    print(f"machine: {machine}; load average {os.getloadavg()[0]:.1f}")
    print(f"index: NUM_PERM={NUM_PERM}, BANDS={BANDS}, ROWS={ROWS}; seed {args.seed}")
    if peer_n != args.peer_n:
        print(f"note: --peer-n lowered to {peer_n:,} (n - {QUERIES} queries)")
    with tempfile.TemporaryDirectory() as tmp:
        peer_file = str(Path(tmp) / "peer.bin")
        scale = in_fresh_process(run_scale, str(args.data), args.seed, args.n, peer_n,
                                 peer_file)
        report_scale(scale)
        ours = in_fresh_process(run_ours, peer_file, peer_n)
        ds = in_fresh_process(run_datasketch, peer_file, peer_n)
    ratios = report_peer(ours, ds)
    total = time.perf_counter() - t_all
    print(f"\ntotal run time {total:.0f} s; load average at the end "
          f"{os.getloadavg()[0]:.1f} (more than 1 means other work shared the 2 cores)")
    if args.json:
        peer = {"vigil": ours, "datasketch": ds, "ratios_ours_vs_datasketch": ratios,
                "ratio_note": "vigil/datasketch for items/s, datasketch/vigil for ms and "
                              "bytes: > 1 means vigil is better"}
        out = {"machine": machine, "args": {"n": args.n, "peer_n": peer_n, "seed": args.seed},
               "scale": scale, "peer": peer, "total_s": total}
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
