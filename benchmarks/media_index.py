"""The media match index at scale: faiss ``IndexBinaryFlat`` ("flat", the default) and
``IndexBinaryMultiHash`` ("mih") over 1M PDQ hashes, beside a plain numpy scan; then the
media detector end to end, and banks loaded from a store.

    .venv/bin/python benchmarks/media_index.py [--hashes 1000000] [--queries 2000]
        [--single 500] [--floor-images 8] [--e2e-images 256] [--store-hashes 100000]
        [--workers 2] [--json PATH]

Data (seeded): ``--hashes`` random 256-bit codes, with the real PDQ hashes of ``--planted``
generated scenes (``vigil.media.synthetic.scene``) put at random positions among them.
Query images: ``--queries`` images, half of them an edit (``TRANSFORMS``, cycled) of a
planted scene, half scenes that are not in the index; each image is its 15 query hashes
(``hash_image(b)``: 8 orientations + 7 re-registered views), as the detector sends them.

1. Per kind, each in a fresh process (``spawn``) so that one's memory does not hide
   another's: (a) the faiss index alone, built from the uint8 codes: build time, RSS
   growth, bytes per hash; (b) a ``MatchIndex`` bank fed hex strings the way
   ``MediaDetector.refresh`` feeds it from a store (the bank keeps the hex strings
   too): build time, RSS growth, bytes per hash; then ``MatchIndex.match`` latency per
   image for batches of 1 image (the first ``--single`` images, p50/p99) and of 64
   images (all ``--queries``, p50/p99 per batch and ms per image). The matches of the
   two kinds are compared image by image (bank, hash, distance, view).
2. Floor: a plain numpy scan of the same codes, XOR and a 256-entry popcount table over
   the uint8 codes, for the first ``--floor-images`` images (each of its 15 hashes
   against every code; slow, hence a subset); its closest match within the distance is
   compared with the index's.
3. End to end, in a fresh process: ``MediaDetector(index).detect`` over batches of 64
   items each carrying one PNG (``--e2e-images`` of the query images) against the
   flat 1M-hash index, split into hashing (``hash_media``) and index (``match``) time.
   Then a sqlite store in a temporary folder: ``Banks(store).add`` of ``--store-hashes``
   random hashes in one call (each is audit-logged), and ``MediaDetector(store=store)
   .refresh()`` loading them.

faiss uses ``faiss.omp_get_max_threads()`` threads (printed); numpy and the hashing use
one core.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import _machine
import numpy as np
from _machine import peak_rss_bytes, rss_bytes

from vigil.media.hashing import PDQ_MATCH_DISTANCE, ImageHashes, hash_image
from vigil.media.index import BankSpec, Match, MatchIndex
from vigil.media.synthetic import TRANSFORMS, scene

SEED = 7
PLANT0 = 50_000  # planted scenes' seeds
QUERY0 = 60_000  # seeds of query scenes not in the index
BATCH = 64
POP = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
EDITS = list(TRANSFORMS)
SPEC = BankSpec("bench", "sexual", PDQ_MATCH_DISTANCE, False)


# -- timing ---------------------------------------------------------------------------


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        return ex.submit(fn, *args).result()


# -- data -------------------------------------------------------------------------------


def planted_hash(j: int) -> str:
    h = hash_image(scene(PLANT0 + j), dihedral=False)
    assert h.pdq is not None
    return h.pdq


def query_bytes(i: int, planted: int) -> bytes:
    """Query image ``i``: even ones an edit of a planted scene, odd ones a scene not in
    the index."""
    if i % 2:
        return scene(QUERY0 + i)
    k = i // 2
    return TRANSFORMS[EDITS[k % len(EDITS)]](scene(PLANT0 + k % planted))


def query_hashes(i: int, planted: int) -> ImageHashes:
    return hash_image(query_bytes(i, planted))


def codes(n: int, planted: Sequence[str]) -> np.ndarray:
    """``n`` random codes with the planted hashes at random positions (same every call)."""
    rng = np.random.default_rng(SEED)
    out = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    pos = rng.choice(n, len(planted), replace=False)
    out[pos] = np.frombuffer(bytes.fromhex("".join(planted)), dtype=np.uint8).reshape(-1, 32)
    return out


def _key(ms: list[Match]) -> list[tuple[str, str, str, int, int]]:
    return [(m.bank, m.signal_type, m.signal, m.distance, m.orientation) for m in ms]


# -- 1. the index per kind ----------------------------------------------------------------


def run_faiss_alone(kind: str, n: int, planted: list[str]) -> dict[str, Any]:
    import faiss

    c = codes(n, planted)
    rss0 = rss_bytes()
    t = time.perf_counter()
    if kind == "mih":
        idx = faiss.IndexBinaryMultiHash(256, 16, 16)
        idx.nflip = PDQ_MATCH_DISTANCE // 16
    else:
        idx = faiss.IndexBinaryFlat(256)
    idx.add(c)
    build = time.perf_counter() - t
    rss1 = rss_bytes()
    return {"build_s": build, "rss_growth_bytes": rss1 - rss0,
            "bytes_per_hash": (rss1 - rss0) / n, "rss_peak_bytes": peak_rss_bytes(),
            "ntotal": int(idx.ntotal), "threads": faiss.omp_get_max_threads()}


def run_index(kind: str, n: int, planted: list[str], queries: list[ImageHashes],
              single: int) -> dict[str, Any]:
    import faiss

    buf = codes(n, planted).tobytes().hex()
    index = MatchIndex(kind)
    rss0 = rss_bytes()
    t = time.perf_counter()
    # hex strings made one at a time, as rows come from a store: the bank keeps them
    index.set_bank(SPEC, (("pdq", buf[64 * i : 64 * i + 64]) for i in range(n)))
    build = time.perf_counter() - t
    rss1 = rss_bytes()
    del buf
    index.match(queries[:4])  # warm-up
    one = []
    for h in queries[:single]:
        t = time.perf_counter()
        index.match([h])
        one.append(time.perf_counter() - t)
    batches = []
    found: list[list[tuple[str, str, str, int, int]]] = []
    for s in range(0, len(queries), BATCH):
        chunk = queries[s : s + BATCH]
        t = time.perf_counter()
        res = index.match(chunk)
        batches.append((time.perf_counter() - t, len(chunk)))
        found.extend(_key(r) for r in res)
    full = [s for s, k in batches if k == BATCH] or [s for s, _ in batches]
    return {
        "build_s": build, "rss_growth_bytes": rss1 - rss0, "bytes_per_hash": (rss1 - rss0) / n,
        "rss_peak_bytes": peak_rss_bytes(), "threads": faiss.omp_get_max_threads(),
        "batch1_images": len(one), "batch1_p50_ms": 1000 * pct(one, 50),
        "batch1_p99_ms": 1000 * pct(one, 99), "batch1_mean_ms": 1000 * float(np.mean(one)),
        "batch64_batches": len(batches), "batch64_p50_ms": 1000 * pct(full, 50),
        "batch64_p99_ms": 1000 * pct(full, 99),
        "batch64_ms_per_image": 1000 * sum(s for s, _ in batches) / len(queries),
        "images_matched": sum(bool(f) for f in found), "matches": found,
    }


# -- 2. the numpy floor ------------------------------------------------------------------


def run_floor(n: int, planted: list[str], queries: list[ImageHashes]) -> dict[str, Any]:
    c = codes(n, planted)
    per_image = []
    keys: list[list[tuple[str, str, str, int, int]]] = []
    for h in queries:
        t = time.perf_counter()
        best: tuple[int, int, str] | None = None  # (distance, view, hash): as MatchIndex
        for o, q in enumerate(h.queries):
            qc = np.frombuffer(bytes.fromhex(q), dtype=np.uint8)
            d = POP[c ^ qc].sum(axis=1, dtype=np.int32)
            for pos in np.flatnonzero(d <= PDQ_MATCH_DISTANCE):
                cand = (int(d[pos]), o, c[pos].tobytes().hex())
                if best is None or cand < best:
                    best = cand
        per_image.append(time.perf_counter() - t)
        keys.append([] if best is None else [(SPEC.name, "pdq", best[2], best[0], best[1])])
    return {"images": len(queries), "ms_per_image": 1000 * float(np.mean(per_image)),
            "p50_ms": 1000 * pct(per_image, 50), "p99_ms": 1000 * pct(per_image, 99),
            "images_matched": sum(bool(k) for k in keys), "matches": keys}


# -- 3. end to end and the store -----------------------------------------------------------


def run_e2e(n: int, planted: list[str], images: int, store_hashes: int) -> dict[str, Any]:
    import faiss

    from vigil.detectors import Prepared
    from vigil.items import Item, Media
    from vigil.media.detector import MediaDetector
    from vigil.store import Store
    from vigil.store.banks import Banks

    class TimedDetector(MediaDetector):
        hash_s = 0.0

        def _hashes(self, item_media: Sequence[object]) -> list[tuple[str, Any]]:
            t = time.perf_counter()
            out = super()._hashes(item_media)
            self.hash_s += time.perf_counter() - t
            return out

    buf = codes(n, planted).tobytes().hex()
    index = MatchIndex("flat")
    t = time.perf_counter()
    index.set_bank(SPEC, (("pdq", buf[64 * i : 64 * i + 64]) for i in range(n)))
    build = time.perf_counter() - t
    del buf
    match = index.match
    index_s = [0.0]

    def timed_match(imgs: Sequence[ImageHashes | None]) -> list[list[Match]]:
        t = time.perf_counter()
        out = match(imgs)
        index_s[0] += time.perf_counter() - t
        return out

    index.match = timed_match  # type: ignore[method-assign]
    items = [Prepared(Item(f"i{i}", "acct", "a picture", media=(Media(data=query_bytes(
        i, len(planted))),))) for i in range(images)]
    det = TimedDetector(index)
    det.detect(items[:2])  # warm-up (imports)
    det.hash_s, index_s[0] = 0.0, 0.0
    flagged = 0
    t = time.perf_counter()
    for s in range(0, images, BATCH):
        flagged += sum(bool(sig) for sig in det.detect(items[s : s + BATCH]))
    wall = time.perf_counter() - t
    e2e = {"index_build_s": build, "images": images, "wall_s": wall,
           "images_per_s": images / wall, "hash_ms_per_image": 1000 * det.hash_s / images,
           "index_ms_per_image": 1000 * index_s[0] / images,
           "other_ms_per_image": 1000 * (wall - det.hash_s - index_s[0]) / images,
           "items_flagged": flagged, "threads": faiss.omp_get_max_threads()}
    del items, det, index
    gc.collect()

    rng = np.random.default_rng(SEED + 1)
    hx = rng.integers(0, 256, (store_hashes, 32), dtype=np.uint8).tobytes().hex()
    sigs = [("pdq", hx[64 * i : 64 * i + 64], "") for i in range(store_hashes)]
    del hx
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "media.db"
        store = Store(f"sqlite:///{db}")
        store.migrate()
        banks = Banks(store)
        banks.create("bench", "sexual")
        t = time.perf_counter()
        tally = banks.add("bench", sigs)
        add_s = time.perf_counter() - t
        del sigs
        sdet = MediaDetector(store=store)
        t = time.perf_counter()
        sdet.refresh()
        refresh_s = time.perf_counter() - t
        loaded = len(sdet.index)
        t = time.perf_counter()
        again = sdet.refresh()
        unchanged_s = time.perf_counter() - t
        db_bytes = db.stat().st_size
        store.close()
    st = {"hashes": store_hashes, "added": tally.added, "add_s": add_s,
          "add_hashes_per_s": store_hashes / add_s, "refresh_s": refresh_s,
          "refresh_hashes_per_s": loaded / refresh_s, "loaded": loaded,
          "refresh_unchanged_ms": 1000 * unchanged_s, "refresh_unchanged_rebuilt": again,
          "db_bytes": db_bytes}
    return {"e2e": e2e, "store": st}


# -- report --------------------------------------------------------------------------------


def mib(b: float) -> str:
    return f"{b / 2**20:,.1f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hashes", type=int, default=1_000_000, help="hashes in the index")
    ap.add_argument("--planted", type=int, default=200, help="real scene hashes among them")
    ap.add_argument("--queries", type=int, default=2000, help="query images (batches of 64)")
    ap.add_argument("--single", type=int, default=500,
                    help="of them, queried one image at a time")
    ap.add_argument("--floor-images", type=int, default=8, help="images for the numpy scan")
    ap.add_argument("--e2e-images", type=int, default=256, help="images through detect")
    ap.add_argument("--store-hashes", type=int, default=100_000,
                    help="hashes added to a store bank")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes making and hashing the query images")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    import faiss

    n, nq = args.hashes, args.queries
    t_all = time.perf_counter()
    machine = _machine.machine("numpy", "faiss-cpu", "pdqhash", "sqlalchemy")
    print(f"machine: {machine}; load average {os.getloadavg()[0]:.1f}")
    print(f"faiss threads: {faiss.omp_get_max_threads()}; index: {n:,} hashes ({args.planted} "
          f"real scene hashes planted), distance <= {PDQ_MATCH_DISTANCE}")
    t = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        planted = list(pool.map(planted_hash, range(args.planted)))
        queries = list(pool.map(query_hashes, range(nq), [args.planted] * nq,
                                chunksize=max(1, nq // 40)))
    assert all(h.pdq is not None and len(h.queries) == 15 for h in queries)
    print(f"query images: {nq:,} ({(nq + 1) // 2:,} edits of planted scenes, {nq // 2:,} "
          f"not in the index), 15 hashes each; made and hashed in "
          f"{time.perf_counter() - t:.0f} s")

    kinds: dict[str, dict[str, Any]] = {}
    for kind in ("flat", "mih"):
        alone = in_fresh_process(run_faiss_alone, kind, n, planted)
        res = in_fresh_process(run_index, kind, n, planted, queries, min(args.single, nq))
        kinds[kind] = {"faiss_alone": alone, "match_index": res}
        print(f"  {kind} done ({time.perf_counter() - t_all:.0f} s)")
    floor = in_fresh_process(run_floor, n, planted, queries[: args.floor_images])
    print(f"  numpy floor done ({time.perf_counter() - t_all:.0f} s)")
    end = in_fresh_process(run_e2e, n, planted, args.e2e_images, args.store_hashes)
    print(f"  end to end and store done ({time.perf_counter() - t_all:.0f} s)")

    same = sum(a == b for a, b in zip(kinds["flat"]["match_index"]["matches"],
                                      kinds["mih"]["match_index"]["matches"], strict=True))
    fl = floor["matches"]
    same_floor = sum(a == b for a, b in zip(fl, kinds["flat"]["match_index"]["matches"],
                                            strict=False))

    print(f"\nindex of {n:,} hashes; latency per MatchIndex.match call (15 hashes an image)")
    print(f"{'':<26} {'build s':>8} {'RSS growth':>12} {'B/hash':>7} {'batch 1 p50':>12} "
          f"{'p99 ms':>7} {'batch 64 p50':>13} {'p99 ms':>7} {'ms/image':>9}")
    for kind, r in kinds.items():
        a, m = r["faiss_alone"], r["match_index"]
        print(f"{kind + ' (faiss index alone)':<26} {a['build_s']:8.2f} "
              f"{mib(a['rss_growth_bytes']):>12} {a['bytes_per_hash']:7.1f}")
        print(f"{kind + ' (MatchIndex bank)':<26} {m['build_s']:8.2f} "
              f"{mib(m['rss_growth_bytes']):>12} {m['bytes_per_hash']:7.1f} "
              f"{m['batch1_p50_ms']:12.2f} {m['batch1_p99_ms']:7.2f} "
              f"{m['batch64_p50_ms']:13.1f} {m['batch64_p99_ms']:7.1f} "
              f"{m['batch64_ms_per_image']:9.2f}")
    print(f"{'numpy scan (uint8 LUT)':<26} {'-':>8} {'-':>12} {32.0:7.1f} "
          f"{floor['p50_ms']:12.1f} {floor['p99_ms']:7.1f} {'-':>13} {'-':>7} "
          f"{floor['ms_per_image']:9.1f}")
    f1 = kinds["flat"]["match_index"]
    m1 = kinds["mih"]["match_index"]
    print(f"  batch 1: first {f1['batch1_images']:,} images one at a time; batch 64: all "
          f"{nq:,} in {f1['batch64_batches']} batches; numpy scan: {floor['images']} images "
          f"(one core)")
    print(f"  images matched: flat {f1['images_matched']:,}, mih {m1['images_matched']:,} of "
          f"{nq:,}; flat and mih give the same matches for {same:,} of {nq:,} images; the "
          f"numpy scan agrees with flat on {same_floor} of {floor['images']}")
    print(f"  speed-up over the numpy scan (ms/image, batch 64): flat "
          f"{floor['ms_per_image'] / f1['batch64_ms_per_image']:.0f}x, mih "
          f"{floor['ms_per_image'] / m1['batch64_ms_per_image']:.0f}x; faiss threads "
          f"{f1['threads']}; peak RSS flat {mib(f1['rss_peak_bytes'])}, mih "
          f"{mib(m1['rss_peak_bytes'])}")

    e, s = end["e2e"], end["store"]
    print(f"\nend to end: MediaDetector(index).detect, {e['images']} items with one PNG each "
          f"(480x360 or edits), batches of {BATCH}, flat index of {n:,}")
    print(f"  {e['images_per_s']:.1f} images/s ({1000 * e['wall_s'] / e['images']:.1f} "
          f"ms/image): hashing {e['hash_ms_per_image']:.1f} ms, index "
          f"{e['index_ms_per_image']:.1f} ms, other {e['other_ms_per_image']:.1f} ms; "
          f"{e['items_flagged']} items flagged")
    print(f"\nstore (sqlite, temporary folder): Banks.add of {s['hashes']:,} hashes in one call: "
          f"{s['add_s']:.1f} s ({s['add_hashes_per_s']:,.0f} hashes/s, audit-logged); "
          f"database {mib(s['db_bytes'])}")
    print(f"  MediaDetector(store=store).refresh() loading them: {s['refresh_s']:.2f} s "
          f"({s['refresh_hashes_per_s']:,.0f} hashes/s, {s['loaded']:,} loaded); a refresh "
          f"with nothing changed: {s['refresh_unchanged_ms']:.1f} ms")
    total = time.perf_counter() - t_all
    print(f"\ntotal run time {total:.0f} s; load average at the end "
          f"{os.getloadavg()[0]:.1f}")
    if args.json:
        for r in kinds.values():
            r["match_index"].pop("matches")
        floor.pop("matches")
        out = {"machine": machine, "args": vars(args) | {"json": str(args.json)},
               "kinds": kinds, "numpy_floor": floor, "same_matches_flat_mih": same,
               "same_matches_floor_flat": same_floor, **end, "total_s": total}
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
