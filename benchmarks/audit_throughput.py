"""End-to-end audit throughput into SQLite, beside the detectors alone and a plain insert
loop, measured on the same items in the same run.

    python benchmarks/audit_throughput.py [--items 20000] [--batch 1000]

Prints items/s for: (1) the detectors alone (normalise + detect), (2) the whole pipeline
(read existing, detect, evaluate, decide, sanction, write + hash-chain into SQLite),
(3) a floor: a plain loop inserting the same rows into SQLite with no auditing. The
ratio (1)/(2) is the pipeline's overhead over detection.
"""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import _machine

from vigil.audit import detect
from vigil.demo_corpus import generate
from vigil.detectors import default_detectors
from vigil.detectors.lexicon import LexiconDetector
from vigil.detectors.spam_patterns import SpamPatternDetector
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import Policy, load_policy
from vigil.readers import read_items
from vigil.store import Store


def corpus(n: int) -> list[Item]:
    rows = generate(seed=11, n_items=min(n, 20000), n_accounts=max(300, n // 10))
    lines = io.StringIO("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    base = [it for _, it in read_items(lines, fmt="jsonl") if isinstance(it, Item)]
    out: list[Item] = []
    k = 0
    while len(out) < n:
        for it in base:
            out.append(replace(it, id=f"{it.id}-{k}") if k else it)
            if len(out) == n:
                break
        k += 1
    return out


def machine() -> str:
    return _machine.machine("sqlalchemy", "numpy") + f"; SQLite {sqlite3.sqlite_version}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    items = corpus(args.items)
    batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
    print(f"machine: {machine()}")
    print(f"items: {len(items):,} (demo-corpus style, en+zh), batch {args.batch}")

    policy = load_policy()
    configs = {
        "patterns + lexicon": lambda: [SpamPatternDetector(), LexiconDetector()],
        "all default detectors": default_detectors,
    }
    for name, make in configs.items():
        t0 = time.perf_counter()
        detectors = make()
        print(f"\n[{name}] load: {(time.perf_counter() - t0) * 1000:.0f} ms")
        measure(batches, detectors, policy)
    print(f"\nfloor: plain SQLite insert loop:      {len(items) / floor(batches):10,.0f} items/s")


def measure(batches: list[list[Item]], detectors: list[Any], policy: Policy) -> None:
    n = sum(len(b) for b in batches)
    t0 = time.perf_counter()
    for b in batches:
        detect(b, detectors)
    det_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{d}/bench.db")
        store.migrate()
        store.record_policy(policy)
        tally = Tally()
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        for b in batches:
            audit_batch(store, b, policy, detectors, tally, now=now)
        e2e_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for b in batches:
            audit_batch(store, b, policy, detectors, Tally(), now=now)
        again_s = time.perf_counter() - t0
        store.close()
    print(f"detectors alone (normalise + detect): {n / det_s:10,.0f} items/s")
    print(f"end to end into SQLite:               {n / e2e_s:10,.0f} items/s "
          f"({tally.decisions:,} decisions, {tally.strikes:,} strikes, "
          f"{sum(tally.sanctions.values()):,} sanctions)")
    print(f"re-audit of the same items (skipped): {n / again_s:10,.0f} items/s")
    print(f"pipeline overhead over detection: {e2e_s / det_s:.2f}x the detection time; "
          f"storage share of end-to-end time: {(e2e_s - det_s) / e2e_s:.0%}")


def floor(batches: list[list[Item]]) -> float:
    """Seconds for a plain loop inserting the same rows into SQLite, no auditing."""
    with tempfile.TemporaryDirectory() as d:
        con = sqlite3.connect(f"{d}/floor.db")
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE items (platform TEXT, id TEXT, account TEXT, text TEXT, "
                    "created_at TEXT, PRIMARY KEY (platform, id))")
        t0 = time.perf_counter()
        for b in batches:
            with con:
                con.executemany("INSERT INTO items VALUES (?,?,?,?,?)",
                                [(i.platform, i.id, i.account, i.text,
                                  i.created_at.isoformat() if i.created_at else None)
                                 for i in b])
        secs = time.perf_counter() - t0
        con.close()
    return secs

if __name__ == "__main__":
    main()
