"""A clean-up campaign's size on one machine, and how the Dask engine scales.

    python benchmarks/sweep_scale.py [--items 500000] [--scaling-items 40000]
                                     [--skip-full] [--json PATH]

1. **Full sweep** (the seed campaign's size): ``--items`` demo-corpus items (en+zh posts,
   comments and articles, spam rings, 10 % violations; ``vigil.demo_corpus``) written as
   JSONL, swept into an empty SQLite store by ``vigil sweep FILE`` (local engine, the
   default detectors, relations on): wall time, items/s, peak RSS of the process, and the
   campaign's numbers. Floor, same file, same machine, same run: ``vigil audit FILE``
   (the plain batch loop without checkpoints or partitions).
2. **Scaling** on the first ``--scaling-items`` items, the detectors' stage (the batch
   function ``score_frame`` over the same parts, results collected in order, models
   loaded before the clock starts): a plain loop in this process; a
   ``multiprocessing`` pool of 1 and 2 processes; Dask local clusters of 1 and 2 worker
   processes. Ratios: Dask 2 / Dask 1 (scaling) and Dask 2 / pool 2 (the engine's cost).
   Then the same sweep end to end (scoring and the single writer) with the local and
   the Dask engine (2 workers): the writer is serial, so this ratio is what a sweep
   gains on this machine.

Both phases print the machine; numbers vary with its load (printed too).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import _machine

from vigil.demo_corpus import generate
from vigil.policy import load_policy
from vigil.store import Store
from vigil.sweeps import (
    Part,
    Sweep,
    SweepConfig,
    dask_frames,
    detectors_for,
    load_part,
    local_frames,
    plan_files,
    score_frame,
    warm,
)

VIGIL = Path(sys.executable).with_name("vigil")
ROUNDS = 2


def machine() -> str:
    return _machine.machine("dask", "distributed", "pandas", "sqlalchemy", "numpy")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_corpus(path: Path, n: int) -> None:
    rows = generate(seed=5, n_items=n, n_accounts=max(300, n // 10))
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({k: v for k, v in r.items() if not k.startswith("_")},
                                ensure_ascii=False) + "\n")


def timed_child(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; its wall time and peak RSS (sampled every 0.2 s with psutil)."""
    import psutil

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as errs:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=errs, text=True)
        ps, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            with suppress(psutil.Error):
                peak = max(peak, ps.memory_info().rss)
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        errs.seek(0)
        out.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{errs.read()[-3000:]}")
        return {"wall_s": wall, "peak_rss_mib": peak / 2**20, "stdout": out.read()[-2000:]}


def full(n: int, d: Path) -> dict[str, Any]:
    src = d / "items.jsonl"
    t0 = time.perf_counter()
    write_corpus(src, n)
    print(f"corpus: {n:,} items written in {time.perf_counter() - t0:.1f} s "
          f"({src.stat().st_size / 2**20:.0f} MiB)", flush=True)
    res: dict[str, Any] = {"items": n}
    floor = timed_child([str(VIGIL), "audit", str(src), "--db", f"sqlite:///{d}/audit.db",
                         "-q"])
    floor["items_per_s"] = n / floor["wall_s"]
    res["floor_vigil_audit"] = floor
    print(f"floor `vigil audit`: {floor['wall_s']:.0f} s, {floor['items_per_s']:,.0f} items/s, "
          f"peak RSS {floor['peak_rss_mib']:,.0f} MiB (load {loadavg()})", flush=True)
    rep = d / "sweep.json"
    sw = timed_child([str(VIGIL), "sweep", str(src), "--db", f"sqlite:///{d}/sweep.db",
                      "-q", "--json", str(rep)])
    sw["items_per_s"] = n / sw["wall_s"]
    report = json.loads(rep.read_text())
    sw["headline"] = report["headline"]
    sw["tally"] = report["tally"]
    res["sweep_local"] = sw
    print(f"`vigil sweep` (local): {sw['wall_s']:.0f} s, {sw['items_per_s']:,.0f} items/s, "
          f"peak RSS {sw['peak_rss_mib']:,.0f} MiB (load {loadavg()})", flush=True)
    print(f"  {report['headline']}")
    print(f"  sweep / plain loop: {sw['items_per_s'] / floor['items_per_s']:.2f}×")
    return res


_CFG: SweepConfig | None = None


def _init(cfg: SweepConfig) -> None:
    global _CFG
    _CFG = cfg
    detectors_for(cfg)


def _score(part: Part) -> Any:
    """A part scored in a pool process, the frame sent back (as Dask's workers do)."""
    assert _CFG is not None
    return score_frame(load_part(part, _CFG), _CFG)


def scaling(n: int, d: Path) -> dict[str, Any]:
    src = d / "scale.jsonl"
    write_corpus(src, n)
    db = f"sqlite:///{d}/scale.db"
    Store(db).migrate()
    parts = plan_files(src, part_rows=1000)
    cfg = SweepConfig(db=db, sweep_id="bench", claims=False)
    res: dict[str, Any] = {"items": n, "parts": len(parts)}

    def report(name: str, wall: float, load: str | None = None) -> None:
        res[name] = {"wall_s": wall, "items_per_s": n / wall}
        print(f"  {name:<22} {wall:7.1f} s {n / wall:9,.0f} items/s "
              f"(load {load or loadavg()})", flush=True)

    print(f"scaling: {n:,} items in {len(parts)} parts of 1,000; detectors stage only; "
          f"best of {ROUNDS} rounds, engines interleaved")
    detectors_for(cfg)
    ctx = mp.get_context("spawn")
    # one math thread per process, as Dask's nanny sets for its workers
    os.environ.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                        "MKL_NUM_THREADS")})
    from dask.distributed import Client, LocalCluster

    best: dict[str, float] = {}
    loads: dict[str, str] = {}
    with ExitStack() as stack:
        pools = {p: stack.enter_context(ctx.Pool(p, initializer=_init, initargs=(cfg,)))
                 for p in (1, 2)}
        clusters = {}
        for w in (1, 2):
            cluster = stack.enter_context(LocalCluster(
                n_workers=w, threads_per_worker=1, processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
            client.run(warm, cfg)  # models loaded before the clock
            clusters[w] = (cluster, client)
        for p, pool in pools.items():
            pool.map(_init, [cfg] * p)
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            assert sum(len(f) for f in local_frames(parts, cfg)) == n
            best["loop (this process)"] = min(best.get("loop (this process)", 1e9),
                                              time.perf_counter() - t0)
            loads["loop (this process)"] = loadavg()
            for k in (1, 2):
                t0 = time.perf_counter()
                assert sum(len(f) for f in pools[k].imap(_score, parts)) == n
                name = f"multiprocessing {k}"
                best[name] = min(best.get(name, 1e9), time.perf_counter() - t0)
                loads[name] = loadavg()
                cluster, client = clusters[k]
                t0 = time.perf_counter()
                assert sum(len(f) for f in dask_frames(
                    parts, cfg, scheduler=cluster.scheduler_address)) == n
                name = f"dask {k} worker(s)"
                best[name] = min(best.get(name, 1e9), time.perf_counter() - t0)
                loads[name] = loadavg()
    for name, wall in best.items():
        report(name, wall, loads[name])
    res["dask_scaling_2_over_1"] = res["dask 1 worker(s)"]["wall_s"] / res[
        "dask 2 worker(s)"]["wall_s"]
    res["dask2_over_pool2"] = res["multiprocessing 2"]["wall_s"] / res[
        "dask 2 worker(s)"]["wall_s"]
    res["pool_scaling_2_over_1"] = res["multiprocessing 1"]["wall_s"] / res[
        "multiprocessing 2"]["wall_s"]
    print(f"  Dask 2 workers / 1 worker: {res['dask_scaling_2_over_1']:.2f}× "
          f"(pool 2/1: {res['pool_scaling_2_over_1']:.2f}×); Dask 2 reaches "
          f"{res['dask2_over_pool2'] * 100:.0f} % of the 2-process pool's throughput")

    print("end to end (scoring + the single writer, relations on):")
    for engine in ("local", "dask"):
        store = Store(f"sqlite:///{d}/e2e-{engine}.db")
        store.migrate()
        sweep = Sweep.create(store, load_policy(), source=str(src), claims=False,
                             part_rows=1000)
        t0 = time.perf_counter()
        if engine == "dask":
            sweep.run(lambda ps, c: dask_frames(ps, c, workers=2), engine="dask")
        else:
            sweep.run(local_frames)
        report(f"sweep {engine}", time.perf_counter() - t0)
        store.close()
    res["e2e_dask_over_local"] = res["sweep local"]["wall_s"] / res["sweep dask"]["wall_s"]
    print(f"  Dask (2 workers) / local end to end: {res['e2e_dask_over_local']:.2f}× "
          "(the writer is serial and shares the two cores)")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=500_000)
    ap.add_argument("--scaling-items", type=int, default=40_000)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    out: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if not args.skip_scaling:
            out["scaling"] = scaling(args.scaling_items, d)
        if not args.skip_full:
            out["full"] = full(args.items, d)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
