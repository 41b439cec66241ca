"""Crash test: ``kill -9`` a sweep at random points, resume each time, and compare the
final store with an uninterrupted run's.

    python benchmarks/sweep_crash.py [--items 100000] [--kills 5] [--seed 1] [--json PATH]

Writes ``--items`` demo-corpus items as JSONL, then:

1. ``vigil sweep FILE`` into an empty SQLite store, uninterrupted;
2. the same command into a second store, killed with SIGKILL at ``--kills`` random points
   (a random row count is waited for, then a random 0–2 s more, so the kill lands
   anywhere: mid-batch, mid-commit, while loading models), each time followed by
   ``vigil sweep --resume``; the last resume runs to the end;
3. every table of the two stores is compared (``Store.digest``: items, decisions,
   strikes, sanctions, cases, outbox, fingerprints, clusters, the audit log and its
   head — all but the sweep's own run bookkeeping), and the log of the resumed store is
   verified. Both runs pass the same ``--at``, so decisions carry the same time.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _machine
from sqlalchemy import select

from vigil.demo_corpus import generate
from vigil.store import Store
from vigil.store.tables import sweeps

VIGIL = Path(sys.executable).with_name("vigil")
AT = "2026-12-01T00:00:00+00:00"


def cursor(db: str) -> tuple[int, str | None]:
    """The sweep's committed rows and its id (0, None before it is recorded)."""
    try:
        store = Store(db)
        with store.read() as conn:
            got = conn.execute(select(sweeps.c.cursor, sweeps.c.id)).first()
        store.close()
        return (int(got[0]), str(got[1])) if got else (0, None)
    except Exception:  # not created yet, or being migrated
        return 0, None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"machine: {_machine.machine('sqlalchemy', 'dask')}")
    res: dict[str, Any] = {"items": args.items, "kills": []}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "items.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for r in generate(seed=9, n_items=args.items, n_accounts=max(300, args.items // 10)):
                fh.write(json.dumps({k: v for k, v in r.items() if not k.startswith("_")},
                                    ensure_ascii=False) + "\n")
        base = [str(VIGIL), "sweep", str(src), "--at", AT, "-q"]
        whole, broken = f"sqlite:///{d}/whole.db", f"sqlite:///{d}/broken.db"
        t0 = time.perf_counter()
        subprocess.run([*base, "--db", whole], check=True, capture_output=True)
        res["uninterrupted_s"] = time.perf_counter() - t0
        print(f"uninterrupted: {res['uninterrupted_s']:.0f} s", flush=True)

        targets = sorted(rng.sample(range(1, args.items), args.kills))
        t0 = time.perf_counter()
        cmd = [*base, "--db", broken]
        for k, target in enumerate(targets):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            while proc.poll() is None and cursor(broken)[0] < target:
                time.sleep(0.05)
            time.sleep(rng.uniform(0, 1))
            if proc.poll() is not None:
                raise SystemExit(f"the sweep ended before kill {k + 1}: "
                                 f"{proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            at, sweep_id = cursor(broken)
            res["kills"].append({"target": target, "cursor_after": at})
            print(f"kill -9 #{k + 1}: {at:,} rows committed (waited for {target:,})",
                  flush=True)
            cmd = [str(VIGIL), "sweep", "--resume", "-q", "--db", broken]
            if sweep_id:
                cmd += ["--id", sweep_id]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        res["interrupted_s"] = time.perf_counter() - t0
        a, b = Store(whole), Store(broken)
        da, db_ = a.digest(), b.digest()
        same = da == db_
        differ = sorted(k for k in da if da[k] != db_.get(k))
        verified = b.verify_log()
        res.update(identical=same, differing_tables=differ, tables=len(da),
                   log_ok=verified.ok, log_rows=verified.rows)
        print(f"resumed {args.kills} times: {res['interrupted_s']:.0f} s in all")
        print(f"final stores identical: {same} ({len(da)} tables compared"
              + (f"; differ: {', '.join(differ)}" if differ else "") + ")")
        print(f"audit log of the resumed store: {'intact' if verified.ok else 'BROKEN'} "
              f"({verified.rows:,} rows checked)")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    if not res["identical"] or not res["log_ok"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
