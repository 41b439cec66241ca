"""Plagiarism and coordination through the store: ingestion cost and restart cost.

    python benchmarks/relations_store.py [--n 200000] [--batch 1000] [--db URL]

Items from the same synthetic corpus as ``neardup_scale.py`` (recombined windows of real
texts, 20 % Chinese, 5 % near-copies by other accounts), each with an account and a time.
Measured in the same run, into fresh SQLite stores (or ``--db`` PostgreSQL, emptied first):

1. the floor: ``audit_batch`` with no detectors and no relations (read existing, evaluate,
   write items + hash-chain the log) — the pipeline's cost without any detection;
2. the same with relations (``vigil.relations``: fingerprint, query the index, plagiarism
   and coordination decisions, fingerprints and artefact rows written in the batch's
   transaction);
3. restart: a new ``Relations`` loading the platform's index from the store (seconds,
   items/s, RSS growth).

The difference of (2) and (1) is what relations cost per item at that index size.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _machine
from neardup_scale import Corpus, rss_bytes

from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import load_policy
from vigil.relations import Relations
from vigil.store import Store

START = datetime(2026, 1, 1, tzinfo=UTC)


def items(corpus: Corpus, start: int, stop: int) -> list[Item]:
    texts, _ = corpus.chunk(start, stop)
    # one item a second; 20,000 accounts
    return [Item(id=str(i), account=f"a{(i * 7919) % 20_000}", text=t, platform="bench",
                 created_at=START + timedelta(seconds=i))
            for i, t in zip(range(start, stop), texts, strict=True)]


def ingest(store: Store, corpus: Corpus, n: int, batch: int, relations: Relations | None
           ) -> dict[str, Any]:
    pol = load_policy()
    tally = Tally()
    gen = 0.0
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        g = time.perf_counter()
        part = items(corpus, start, min(start + batch, n))
        gen += time.perf_counter() - g
        audit_batch(store, part, pol, [], tally, now=START + timedelta(days=400),
                    relations=relations)
    secs = time.perf_counter() - t0 - gen
    return {"items": n, "seconds": secs, "items_per_s": n / secs,
            "actions": dict(tally.actions), "reaudited": tally.reaudited}


def fresh_store(url: str | None, tmp: Path, name: str) -> Store:
    store = Store(url or f"sqlite:///{tmp / name}.db")
    if url:
        from sqlalchemy import text

        with store.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    store.migrate()
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="items (default 200,000)")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--db", help="a PostgreSQL URL instead of temporary SQLite files "
                                 "(its public schema is DROPPED)")
    ap.add_argument("--data", default=os.environ.get("VIGIL_DATA", "../shared/data"))
    ap.add_argument("--json", help="write the numbers to this file")
    args = ap.parse_args()
    print("machine:", _machine.machine("numpy", "sqlalchemy"))
    corpus = Corpus(Path(args.data), seed=7)
    out: dict[str, Any] = {"machine": _machine.machine("numpy", "sqlalchemy"), "n": args.n,
                           "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        floor = fresh_store(args.db, Path(tmp), "floor")
        out["floor"] = ingest(floor, corpus, args.n, args.batch, None)
        floor.close()
        store = fresh_store(args.db, Path(tmp), "relations")
        out["relations"] = ingest(store, corpus, args.n, args.batch, Relations(store))
        before = rss_bytes()
        t0 = time.perf_counter()
        rel = Relations(store)
        loaded = rel.loaded("bench")
        secs = time.perf_counter() - t0
        out["reload"] = {"items": len(loaded.index), "seconds": secs,
                         "items_per_s": len(loaded.index) / secs,
                         "rss_growth_bytes_per_item": (rss_bytes() - before) / max(
                             len(loaded.index), 1)}
        out["clusters"] = len(store.clusters(limit=1_000_000))
        if not args.db:
            out["db_bytes"] = sum(f.stat().st_size for f in Path(tmp).glob("relations.db*"))
        store.close()
    f, r, ld = out["floor"], out["relations"], out["reload"]
    print(f"{args.n:,} items in batches of {args.batch:,} into "
          f"{'PostgreSQL' if args.db else 'SQLite'}")
    print(f"  floor (no detectors, no relations)  {f['items_per_s']:>9,.0f} items/s")
    print(f"  with relations                      {r['items_per_s']:>9,.0f} items/s   "
          f"({r['items_per_s'] / f['items_per_s']:.2f}x the floor; relations cost "
          f"{1e6 * (r['seconds'] - f['seconds']) / args.n:,.0f} us/item)")
    print(f"    decided: {r['actions']}; {r['reaudited']:,} stored items audited again; "
          f"{out['clusters']:,} clusters")
    print(f"  restart: index of {ld['items']:,} loaded in {ld['seconds']:.1f} s "
          f"({ld['items_per_s']:,.0f} items/s), RSS +{ld['rss_growth_bytes_per_item']:,.0f} "
          "bytes/item")
    if "db_bytes" in out:
        print(f"  store size with relations: {out['db_bytes'] / 2**20:,.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
