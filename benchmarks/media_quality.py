"""Known-media matching quality: recall of edited copies and false matches, for PDQ with its
dihedral hashes and re-registered views (``vigil.media``), beside the floors it builds on.

    .venv/bin/python benchmarks/media_quality.py [--images 1000] [--workers 2]
                                                   [--cost-images 40] [--json PATH]

Construction (everything seeded; the same arguments give the same numbers):

- **Bank.** ``--images`` generated scenes (``vigil.media.synthetic.scene(seed)``, seeds
  10000.., disjoint from the tests' 0..23), banked the way a bank holds them: the plain
  PDQ hash (``hash_image(b, dihedral=False)``) and the MD5 of each, in one ``MatchIndex``
  bank at the default distance (31).
- **Copies (positives).** Every ``TRANSFORMS`` edit of every banked image, and the image
  itself unchanged (the same bytes). A copy is *recalled* when the index's match (the
  closest hash of the bank, what the detector reports) is its own original; it is a
  *wrong match* when any query hash of it lies within the distance of another original
  (an exact range search over the bank, so a wrong hit is counted even when the right
  one is closer).
- **Non-banked images (negatives).** ``--images`` more scenes (the next seeds), never
  banked: a false match is one that matches anything.

Query modes, each measured on the same images in the same run:

- ``md5``: exact bytes only (the image's MD5 against the bank's MD5s).
- ``pdq``: plus the image's plain PDQ hash (``hash_image(b, dihedral=False)``).
- ``pdq+dihedral``: plus the eight orientations (``hash_image(b, views=False)``).
- ``full``: plus the re-registered views (``hash_image(b)``, the detector's query).

Every mode keeps the MD5 look-up, so the ladder shows what each part adds. Distances are
the least Hamming distance from any of the mode's query hashes to the copy's own original.
The ``--workers`` processes hash each image once (``hash_image(b)``) and take every
mode's hashes from it (the plain hash is the first dihedral one); hashing cost is then
timed apart, in one process with nothing beside it: each mode's own call
(``hashlib.md5``, ``hash_image(b, dihedral=False)``, ``hash_image(b, views=False)``,
``hash_image(b)``) on ``--cost-images`` banked images with their edits and as many
non-banked images, which also checks that those calls give the derived hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import _machine
import numpy as np

from vigil.media.hashing import PDQ_MATCH_DISTANCE, ImageHashes, hash_image
from vigil.media.index import BankSpec, MatchIndex
from vigil.media.synthetic import TRANSFORMS, scene

SEED0 = 10_000
MODES = ("md5", "pdq", "pdq+dihedral", "full")
UNCHANGED = "none (same bytes)"
NON_BANKED = "non-banked image"
POP = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _query(data: bytes) -> dict[str, ImageHashes]:
    """The image's hashes in every mode. One ``hash_image`` call gives them all: the
    plain PDQ hash is the first dihedral one and ``views=False`` only leaves the views
    out (:func:`cost_sample` checks this against the separate calls)."""
    full = hash_image(data)
    return {"md5": ImageHashes(full.md5, None, 0),
            "pdq": replace(full, dihedral=(), views=()),
            "pdq+dihedral": replace(full, views=()),
            "full": full}


def _timed(data: bytes) -> tuple[dict[str, ImageHashes], dict[str, float]]:
    """Each mode's own hashing call, timed."""
    hs: dict[str, ImageHashes] = {}
    secs: dict[str, float] = {}
    t = time.perf_counter()
    hs["md5"] = ImageHashes(hashlib.md5(data, usedforsecurity=False).hexdigest(), None, 0)
    secs["md5"] = time.perf_counter() - t
    for mode, kw in (("pdq", {"dihedral": False}), ("pdq+dihedral", {"views": False}),
                     ("full", {})):
        t = time.perf_counter()
        hs[mode] = hash_image(data, **kw)
        secs[mode] = time.perf_counter() - t
    return hs, secs


def cost_sample(k: int, n: int) -> dict[str, Any]:
    """Hashing cost per mode, one process alone (no worker beside it), on the first ``k``
    banked images, their edits and the first ``k`` non-banked ones; and a check that the
    separate calls give the hashes :func:`_query` derives."""
    secs: dict[str, list[float]] = {m: [] for m in MODES}
    same = 0
    total = 0
    for i in range(k):
        orig = scene(SEED0 + i)
        for data in (orig, *(edit(orig) for edit in TRANSFORMS.values()),
                     scene(SEED0 + n + i)):
            hs, s = _timed(data)
            derived = _query(data)
            total += 1
            same += all(hs[m].queries == derived[m].queries and hs[m].md5 == derived[m].md5
                        for m in MODES)
            for m in MODES:
                secs[m].append(s[m])
    return {"images": total, "derived_equal_to_separate_calls": same,
            "ms_per_image": {m: 1000 * float(np.mean(v)) for m, v in secs.items()},
            "ms_p99": {m: 1000 * float(np.percentile(v, 99)) for m, v in secs.items()}}


def work(i: int, n: int) -> dict[str, Any]:
    """Banked image ``i``: its bank hashes and every copy's query hashes; and non-banked
    image ``i``'s query hashes."""
    orig = scene(SEED0 + i)
    bank = hash_image(orig, dihedral=False)
    queries = {UNCHANGED: _query(orig)}
    for name, edit in TRANSFORMS.items():
        queries[name] = _query(edit(orig))
    queries[NON_BANKED] = _query(scene(SEED0 + n + i))
    return {"bank": bank, "queries": queries}


def _codes(hexes: list[str]) -> np.ndarray:
    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:5.1f}%" if n else "   - "


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    import faiss

    n = len(rows)
    bank = [r["bank"] for r in rows]
    low_bank = sum(b.pdq is None for b in bank)
    index = MatchIndex("flat")
    spec = BankSpec("originals", "sexual", PDQ_MATCH_DISTANCE, False)
    index.set_bank(spec, [("pdq", b.pdq) for b in bank if b.pdq is not None]
                   + [("md5", b.md5) for b in bank])
    # who each bank hash is (the exact range search is over the same hashes)
    bank_rows = [i for i, b in enumerate(bank) if b.pdq is not None]
    bank_codes = _codes([bank[i].pdq for i in bank_rows])  # type: ignore[misc]
    flat = faiss.IndexBinaryFlat(256)
    flat.add(bank_codes)
    by_pdq: dict[str, set[int]] = {}
    by_md5: dict[str, set[int]] = {}
    for i, b in enumerate(bank):
        by_md5.setdefault(b.md5, set()).add(i)
        if b.pdq is not None:
            by_pdq.setdefault(b.pdq, set()).add(i)

    variants = [UNCHANGED, *TRANSFORMS, NON_BANKED]
    results: dict[str, dict[str, Any]] = {}
    for v in variants:
        results[v] = {}
        for mode in MODES:
            hs = [r["queries"][v][mode] for r in rows]
            found = index.match(hs)
            # every original within the distance of any query hash (or with the same MD5)
            near: list[set[int]] = [set(by_md5.get(h.md5, ())) for h in hs]
            qrows: list[str] = []
            owner: list[int] = []
            for i, h in enumerate(hs):
                for q in h.queries:
                    qrows.append(q)
                    owner.append(i)
            # and the closest original other than its own (the margin to a false match)
            other = np.full(n, 257, dtype=np.int32)
            if qrows:
                qc = _codes(qrows)
                lims, _, ids = flat.range_search(qc, PDQ_MATCH_DISTANCE + 1)
                for q in range(len(qrows)):
                    for j in range(int(lims[q]), int(lims[q + 1])):
                        near[owner[q]].add(bank_rows[int(ids[j])])
                dk, ik = flat.search(qc, 2)
                for q in range(len(qrows)):
                    i = owner[q]
                    for d, j in zip(dk[q], ik[q], strict=True):
                        if j >= 0 and (v == NON_BANKED or bank_rows[int(j)] != i):
                            other[i] = min(other[i], int(d))
                            break
            for i in range(n):  # the index and the range search agree on what matched
                assert bool(found[i]) == bool(near[i]), (v, mode, i)
            res: dict[str, Any] = {"queries": n,
                                   "low_quality": sum(mode != "md5" and h.pdq is None
                                                      for h in hs)}
            if mode != "md5" and qrows:
                ok = other[other <= 256]
                res["nearest_other_min"] = int(ok.min())
                res["nearest_other_p1"] = float(np.percentile(ok, 1))
                res["nearest_other_median"] = float(np.median(ok))
            if v == NON_BANKED:
                res["matched_anything"] = sum(bool(f) for f in found)
            else:
                recalled = 0
                for i, f in enumerate(found):
                    m = f[0] if f else None
                    if m is None:
                        continue
                    own = (by_md5 if m.signal_type == "md5" else by_pdq)[m.signal]
                    recalled += i in own
                res["recalled"] = recalled
                res["wrong"] = sum(bool(near[i] - {i}) for i in range(n))
                dists = []
                for i, h in enumerate(hs):
                    own_pdq = bank[i].pdq
                    if own_pdq is None or not h.queries:
                        continue
                    x = _codes(list(h.queries)) ^ _codes([own_pdq])
                    dists.append(int(POP[x].sum(axis=1, dtype=np.int32).min()))
                if dists:
                    res["distance_mean"] = float(np.mean(dists))
                    res["distance_max"] = int(np.max(dists))
                    res["distance_p95"] = float(np.percentile(dists, 95))
            results[v][mode] = res
    copies = [v for v in variants if v != NON_BANKED]
    totals: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        q_pos = n * len(copies)
        wrong = sum(results[v][mode]["wrong"] for v in copies)
        fm_neg = results[NON_BANKED][mode]["matched_anything"]
        totals[mode] = {
            "edited_copies": n * len(TRANSFORMS),
            "edited_recalled": sum(results[v][mode]["recalled"] for v in TRANSFORMS),
            "copies_with_wrong_match": wrong,
            "copies": q_pos,
            "non_banked_matched": fm_neg,
            "non_banked": n,
            "false_match_queries": wrong + fm_neg,
            "false_match_rate": (wrong + fm_neg) / (q_pos + n),
        }
    return {"bank_low_quality": low_bank, "per_variant": results, "totals": totals}


def report(ev: dict[str, Any], cost: dict[str, Any], n: int) -> None:
    res = ev["per_variant"]
    print(f"\nbank: {n:,} originals (plain PDQ + MD5), distance <= {PDQ_MATCH_DISTANCE}; "
          f"{ev['bank_low_quality']} below PDQ quality")
    print("\ncopies of banked images (recall: the index's match is its own original; wrong: "
          "another original within the distance)")
    print(f"{'edit':<18} {'mode':<13} {'recall':>13} {'wrong':>6} {'dist mean':>9} "
          f"{'p95':>5} {'max':>4} {'low q':>5} {'other min':>9}")
    for v, by_mode in res.items():
        if v == NON_BANKED:
            continue
        for k, mode in enumerate(MODES):
            r = by_mode[mode]
            dist = (f"{r['distance_mean']:9.1f} {r['distance_p95']:5.0f} {r['distance_max']:4d}"
                    if mode != "md5" and "distance_mean" in r else f"{'-':>9} {'-':>5} {'-':>4}")
            rec = f"{r['recalled']:>5} {_pct(r['recalled'], r['queries'])}"
            print(f"{v if k == 0 else '':<18} {mode:<13} {rec:>13} {r['wrong']:>6} {dist} "
                  f"{r['low_quality'] if mode != 'md5' else '-':>5} "
                  f"{r.get('nearest_other_min', '-'):>9}")
    print("  (dist: to its own original, the least over the mode's query hashes; other min: "
          "the least distance from any\n   of a copy's query hashes to another original)")
    print(f"\nnon-banked images ({n:,} other scenes): how many match anything, and the "
          "distance to the closest original")
    print(f"  {'mode':<13} {'matched':>13} {'closest: min':>13} {'p1':>5} {'median':>7}")
    for mode in MODES:
        r = res[NON_BANKED][mode]
        near = (f"{r['nearest_other_min']:>13} {r['nearest_other_p1']:5.0f} "
                f"{r['nearest_other_median']:7.0f}" if mode != "md5" else f"{'-':>13}")
        print(f"  {mode:<13} {r['matched_anything']:>5} {_pct(r['matched_anything'], n)} "
              f"{near}")
    print("\nsummary per query mode")
    print(f"{'mode':<13} {'edited copies recalled':>24} {'false-match queries':>26} "
          f"{'hash ms/image':>14}")
    for mode in MODES:
        t = ev["totals"][mode]
        rec = (f"{t['edited_recalled']:,}/{t['edited_copies']:,} "
               f"{_pct(t['edited_recalled'], t['edited_copies'])}")
        fm = (f"{t['false_match_queries']:,}/{t['copies'] + t['non_banked']:,} "
              f"{100 * t['false_match_rate']:.3f}%")
        print(f"{mode:<13} {rec:>24} {fm:>26} {cost['ms_per_image'][mode]:7.2f} "
              f"(p99 {cost['ms_p99'][mode]:.1f})")
    print("  (false-match queries: copies matching another original + non-banked images "
          "matching anything)")
    print(f"  (hash ms/image: each mode's own hashing call, one process alone, on "
          f"{cost['images']:,} images (originals, edits, non-banked); the derived hashes "
          f"equal the separate calls' for {cost['derived_equal_to_separate_calls']:,} of "
          f"them)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=1000, help="banked images (and as many "
                    "non-banked ones)")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes generating, editing and hashing the images")
    ap.add_argument("--cost-images", type=int, default=40,
                    help="banked images whose edits (and as many non-banked images) are "
                         "hashed again, alone, to time each mode")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    n = args.images
    t_all = time.perf_counter()
    machine = _machine.machine("numpy", "pdqhash", "faiss-cpu", "pillow")
    print(f"machine: {machine}; load average {os.getloadavg()[0]:.1f}")
    print(f"images: {n:,} banked (seeds {SEED0}..{SEED0 + n - 1}) + {n:,} non-banked "
          f"(seeds {SEED0 + n}..{SEED0 + 2 * n - 1}); edits: {', '.join(TRANSFORMS)}; "
          f"{args.workers} worker(s)")
    t = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        rows = list(pool.map(work, range(n), [n] * n, chunksize=max(1, n // 50)))
    t_make = time.perf_counter() - t
    print(f"generated, edited and hashed in {t_make:.0f} s")
    ev = evaluate(rows)
    del rows
    t = time.perf_counter()
    cost = cost_sample(min(args.cost_images, n), n)
    print(f"hashing cost sample in {time.perf_counter() - t:.0f} s")
    report(ev, cost, n)
    total = time.perf_counter() - t_all
    print(f"\ntotal run time {total:.0f} s; load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    if args.json:
        out = {"machine": machine, "args": {"images": n, "workers": args.workers,
                                            "cost_images": args.cost_images,
                                            "seed0": SEED0},
               "threshold": PDQ_MATCH_DISTANCE, **ev, "hash_cost": cost,
               "total_s": total}
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
