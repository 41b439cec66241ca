"""Latency and throughput of the HTTP API (``vigil serve``) with the default detectors,
beside an HTTP floor and the in-process audit, measured in the same run on the same machine.

    python benchmarks/api_latency.py [--concurrency 8] [--requests 2000] [--warmup 100]
                                     [--serial 300] [--json PATH]

Starts ``vigil serve`` on a temporary SQLite store as a separate process (with a platform
API key and a rate limit high enough never to answer 429), then from this process:

1. single-item ``POST /v1/items`` at a fixed concurrency (one keep-alive connection per
   client): p50/p90/p99/max latency in ms and requests/s, checked against the target
   (single-item verdict p99 <= 15 ms with the default detectors);
2. the same single-item requests one at a time (concurrency 1): the service time, no
   queueing;
3. batches of 100 and 1000 items in one ``POST /v1/items``: items/s;
4. the floor: ``GET /healthz`` (no key, one ``SELECT 1``) at the same concurrencies, i.e.
   HTTP + uvicorn + FastAPI overhead, and, after the server has stopped, the in-process
   cost of ``vigil.ingest.audit_batch`` for one item (same detectors, policy and relation
   index as the server, no HTTP), so the HTTP share is visible as a ratio.

Items are short demo-corpus posts and comments (``vigil.demo_corpus``, en+zh, spam rings
included), every one with a unique id. The client and the server share the machine's
cores; the CPU each side spent per request is printed so contention is visible.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _machine
import httpx

from vigil.demo_corpus import generate
from vigil.detectors import default_detectors
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import load_policy
from vigil.relations import Relations
from vigil.store import Store

TARGET_P99_MS = 15.0
PLATFORM = "bench"
FIELDS = ("id", "account", "text", "created_at", "lang", "url", "reach", "kind", "reply_to")
VIGIL = Path(sys.executable).with_name("vigil")


def machine() -> str:
    return (_machine.machine("fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy",
                             "httpx") + f"; SQLite {sqlite3.sqlite_version}")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def corpus(n: int) -> list[dict[str, Any]]:
    """``n`` short posts and comments (articles left out) as request bodies, unique ids."""
    rows = generate(seed=11, n_items=min(20000, max(1000, n + n // 10 + 100)),
                    n_accounts=max(300, n // 10))
    base = [{k: r[k] for k in FIELDS if k in r} for r in rows if r.get("kind") != "article"]
    out: list[dict[str, Any]] = []
    k = 0
    while len(out) < n:
        for r in base:
            if k:
                r = {**r, "id": f"{r['id']}-{k}"}
                if "reply_to" in r:
                    r["reply_to"] = f"{r['reply_to']}-{k}"
            out.append(r)
            if len(out) == n:
                break
        k += 1
    return out


def as_item(body: dict[str, Any]) -> Item:
    created = body.get("created_at")
    return Item(id=body["id"], account=body["account"], text=body["text"], platform=PLATFORM,
                created_at=datetime.fromisoformat(created.replace("Z", "+00:00"))
                if created else None,
                lang=body.get("lang"), url=body.get("url"), reach=body.get("reach", 0),
                kind=body.get("kind", "post"), reply_to=body.get("reply_to"))


def pct(sorted_s: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted seconds, in ms."""
    i = min(len(sorted_s) - 1, max(0, math.ceil(q * len(sorted_s)) - 1))
    return sorted_s[i] * 1000


def summary(lat: list[float], wall: float, units: int = 0) -> dict[str, float]:
    s = sorted(lat)
    out = {"n": len(s), "p50_ms": pct(s, 0.50), "p90_ms": pct(s, 0.90),
           "p99_ms": pct(s, 0.99), "max_ms": s[-1] * 1000, "mean_ms": sum(s) / len(s) * 1000,
           "per_s": len(s) / wall, "wall_s": wall}
    if units:
        out["items_per_s"] = units / wall
    return out


def line(d: dict[str, float]) -> str:
    return (f"p50 {d['p50_ms']:7.2f}  p90 {d['p90_ms']:7.2f}  p99 {d['p99_ms']:7.2f}  "
            f"max {d['max_ms']:8.2f} ms  | {d['per_s']:7,.0f} req/s")


def busy_cpu() -> float:
    """CPU seconds the machine's processes have used since boot (user, nice, system, irq,
    softirq; not idle, iowait or steal)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``vigil serve`` in a child process; its log goes to a file."""

    def __init__(self, vigil: Path, db: str, port: int, log: Path,
                 group_items: int | None = None) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._log = log.open("wb")
        cmd = [str(vigil), "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port),
               "--rate-per-minute", "10000000"]
        if group_items is not None:
            cmd += ["--group-items", str(group_items)]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        self._tick = os.sysconf("SC_CLK_TCK")
        self.cpu_total = 0.0

    def wait_ready(self, timeout: float = 180.0) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"vigil serve exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"vigil serve not ready after {timeout:.0f} s:\n{self.tail()}")

    def cpu(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        f = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / self._tick

    def tail(self, n: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.cpu_total = self.cpu()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class RequestFailed(Exception):
    """A request of the load got another answer than 200."""


async def drive(client: httpx.AsyncClient, concurrency: int, n: int,
                send: Callable[[int], Any]) -> tuple[list[float], float]:
    """``n`` requests (``send(i)`` makes the i-th) from ``concurrency`` clients, each
    sending its next as soon as its last is answered. Returns latencies and wall time."""
    lat: list[float] = []
    nxt = iter(range(n))

    async def worker() -> None:
        for i in nxt:
            t0 = time.perf_counter()
            r = await send(i)
            lat.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RequestFailed(f"{r.request.method} {r.request.url.path} (request {i}): "
                                    f"HTTP {r.status_code}: {r.text[:500]}")

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return lat, time.perf_counter() - t0


async def drive_open(rate: float, n: int, send: Callable[[int], Any]
                     ) -> tuple[list[float], float]:
    """``n`` requests arriving at a steady ``rate`` a second whatever the answers (an open
    loop, as independent users make); each latency counts from its scheduled start."""
    lat: list[float] = []
    t0 = time.perf_counter()

    async def one(i: int, due: float) -> None:
        r = await send(i)
        lat.append(time.perf_counter() - due)
        if r.status_code != 200:
            raise RequestFailed(f"{r.request.method} {r.request.url.path} (request {i}): "
                                f"HTTP {r.status_code}: {r.text[:500]}")

    tasks = []
    for i in range(n):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return lat, time.perf_counter() - t0


async def http_phases(server: Server, token: str, bodies: list[dict[str, Any]],
                      args: argparse.Namespace, only_single: bool = False) -> dict[str, Any]:
    res: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=max(args.concurrency, 1),
                          max_keepalive_connections=max(args.concurrency, 1))
    headers = {"Authorization": f"Bearer {token}"}
    pos = 0

    def take(n: int) -> list[dict[str, Any]]:
        nonlocal pos
        chunk = bodies[pos : pos + n]
        pos += n
        return chunk

    async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits,
                                 timeout=120) as client:

        async def phase(name: str, concurrency: int, n: int, send: Callable[[int], Any],
                        units: int = 0) -> dict[str, float]:
            cpu_s, cpu_c, busy = server.cpu(), time.process_time(), busy_cpu()
            lat, wall = await drive(client, concurrency, n, send)
            d = summary(lat, wall, units)
            srv, cli = server.cpu() - cpu_s, time.process_time() - cpu_c
            d["server_cpu_ms_per_req"] = srv / n * 1000
            d["client_cpu_ms_per_req"] = cli / n * 1000
            d["other_cpu_cores"] = max(0.0, busy_cpu() - busy - srv - cli) / wall
            d["concurrency"] = concurrency
            res[name] = d
            return d

        def cpu_note(d: dict[str, float]) -> str:
            return (f"    CPU per request: server {d['server_cpu_ms_per_req']:.2f} ms, "
                    f"client {d['client_cpu_ms_per_req']:.2f} ms; other processes used "
                    f"{d['other_cpu_cores']:.0%} of a core meanwhile")

        def items_sender(chunk: list[dict[str, Any]]) -> Callable[[int], Any]:
            return lambda i: client.post("/v1/items", json=chunk[i])

        if args.warmup:
            w = take(args.warmup)
            await phase("warmup", args.concurrency, len(w), items_sender(w))
            print(f"warmup: {len(w):,} single-item requests, "
                  f"{res['warmup']['wall_s']:.1f} s (the first ones load the relation index "
                  "and the embedding model)")

        print(f"\n[1] single-item POST /v1/items, {args.concurrency} concurrent clients, "
              f"{args.requests:,} requests")
        one = take(args.requests)
        d = await phase("single", args.concurrency, len(one), items_sender(one))
        print(f"    {line(d)}")
        print(cpu_note(d))
        if args.rate:
            n_open = int(args.rate * args.open_seconds)
            print(f"\n[1b] single-item POST /v1/items arriving at {args.rate:g}/s "
                  f"(open loop, {n_open:,} requests over {args.open_seconds:g} s; latency "
                  "from each request's scheduled start)")
            chunk = take(n_open)
            cpu_s, busy = server.cpu(), busy_cpu()
            lat, wall = await drive_open(args.rate, n_open,
                                         lambda i: client.post("/v1/items", json=chunk[i]))
            d = summary(lat, wall)
            d["server_cpu_ms_per_req"] = (server.cpu() - cpu_s) / n_open * 1000
            d["other_cpu_cores"] = max(0.0, busy_cpu() - busy) / wall
            d["rate"] = args.rate
            res["single_open"] = d
            print(f"    {line(d)}")
            print(f"    server CPU per request {d['server_cpu_ms_per_req']:.2f} ms")
        if only_single:
            return res
        if args.serial:
            print(f"\n[2] single-item POST /v1/items, 1 client, {args.serial:,} requests "
                  "(service time, no queueing)")
            ser = take(args.serial)
            d = await phase("single_serial", 1, len(ser), items_sender(ser))
            print(f"    {line(d)}")
            print(cpu_note(d))

        print("\n[3] batch POST /v1/items, 1 client")
        for size, count in ((100, args.batches100), (1000, args.batches1000)):
            if not count:
                continue
            chunks = [take(size) for _ in range(count)]
            if any(len(c) < size for c in chunks):
                raise SystemExit("corpus too small for the batches")
            d = await phase(f"batch_{size}", 1, count,
                            lambda i, c=chunks: client.post("/v1/items", json=c[i]),
                            units=size * count)
            print(f"    {count:>3} x {size:>4} items: {d['items_per_s']:7,.0f} items/s  "
                  f"(p50 {d['p50_ms']:.0f} ms, max {d['max_ms']:.0f} ms a request; server "
                  f"CPU {d['server_cpu_ms_per_req'] / size:.2f} ms/item; other processes "
                  f"{d['other_cpu_cores']:.0%} of a core)")

        print(f"\n[4] floor: GET /healthz (no key, one SELECT 1), {args.requests:,} requests")

        def health(i: int) -> Any:
            return client.get("/healthz")

        d = await phase("healthz", args.concurrency, args.requests, health)
        print(f"    {args.concurrency} concurrent: {line(d)}")
        print(f"    {cpu_note(d).strip()}")
        if args.serial:
            d = await phase("healthz_serial", 1, args.serial, health)
            print(f"    1 client:     {line(d)}")
            print(f"    {cpu_note(d).strip()}")
    return res


def in_process(bodies: list[dict[str, Any]], n: int, batch: int) -> dict[str, Any]:
    """``audit_batch`` of one item at a time (then one batch) into a fresh store, with the
    server's detectors, policy and relation index: the audit cost without HTTP."""
    items = [as_item(b) for b in bodies]
    policy = load_policy()
    detectors = default_detectors()
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{d}/inproc.db")
        store.migrate()
        store.record_policy(policy)
        relations = Relations(store)
        # warm up like the server: the classifier loads its second stage on first use
        warm = items[-50:]
        audit_batch(store, warm, policy, detectors, Tally(), relations=relations)
        items = items[:-50]
        lat: list[float] = []
        busy, own = busy_cpu(), time.process_time()
        t0 = time.perf_counter()
        for it in items[:n]:
            t = time.perf_counter()
            audit_batch(store, [it], policy, detectors, Tally(), relations=relations)
            lat.append(time.perf_counter() - t)
        res["single"] = summary(lat, time.perf_counter() - t0)
        own = time.process_time() - own
        res["single"]["cpu_ms_per_item"] = own / n * 1000
        res["single"]["other_cpu_cores"] = (max(0.0, busy_cpu() - busy - own)
                                            / res["single"]["wall_s"])
        chunk = items[n : n + batch]
        if chunk:
            t0 = time.perf_counter()
            audit_batch(store, chunk, policy, detectors, Tally(), relations=relations)
            wall = time.perf_counter() - t0
            res[f"batch_{len(chunk)}"] = {"items_per_s": len(chunk) / wall, "wall_s": wall}
        store.close()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=50.0,
                    help="open-loop arrivals a second for phase 1b (0: skip)")
    ap.add_argument("--open-seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--serial", type=int, default=300,
                    help="requests at concurrency 1 (and in-process audits); 0 skips them")
    ap.add_argument("--batches100", type=int, default=10, help="batches of 100 items")
    ap.add_argument("--batches1000", type=int, default=3, help="batches of 1000 items")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    ap.add_argument("--baseline-group-items", type=int, default=1,
                    help="also run phases 1 and 1b against a server auditing at most this "
                         "many items together (1: one request at a time, the old way); "
                         "0 skips it")
    ap.add_argument("--vigil", type=Path, default=VIGIL,
                    help="the vigil executable to run as `VIGIL serve ...` (default: this "
                         "venv's)")
    args = ap.parse_args()
    if args.concurrency < 1 or args.requests < 1:
        ap.error("--concurrency and --requests must be at least 1")
    started = time.perf_counter()
    cores = os.cpu_count() or 1
    load_before = loadavg()
    busy0, own0 = busy_cpu(), time.process_time()
    print(f"machine: {machine()}")
    print(f"load average (1/5/15 min) at start: {load_before}")
    print(f"note: the load generator (this process) and the server share these {cores} cores; "
          "CPU per request is shown for each side")
    need = (args.warmup + args.requests + args.serial + 100 * args.batches100
            + 1000 * args.batches1000 + int(args.rate * args.open_seconds))
    bodies = corpus(need)
    mean_len = sum(len(b["text"]) for b in bodies) / len(bodies)
    print(f"items: {need:,} demo-corpus posts and comments (en+zh), mean {mean_len:.0f} "
          f"characters, unique ids; target: single-item p99 <= {TARGET_P99_MS:g} ms")

    result: dict[str, Any] = {"machine": machine(), "cores": cores,
                              "loadavg_start": load_before, "args": {
                                  k: (str(v) if isinstance(v, Path) else v)
                                  for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory() as d:
        db = f"sqlite:///{d}/api.db"
        store = Store(db)
        store.migrate()
        _, token = store.create_api_key("platform", [PLATFORM], "bench")
        store.close()
        server = Server(args.vigil, db, free_port(), Path(d) / "server.log")
        try:
            ready = server.wait_ready()
            print(f"vigil serve (pid {server.proc.pid}, rate limit 10,000,000/min, burst "
                  f"default) ready in {ready:.1f} s (loads the default detectors)\n")
            result["server_ready_s"] = ready
            try:
                result["http"] = asyncio.run(http_phases(server, token, bodies, args))
            except RequestFailed as exc:
                raise SystemExit(f"error: {exc}") from None
        finally:
            server.stop()

    http = result["http"]
    if args.baseline_group_items:
        print(f"\n[baseline] the same phases 1 and 1b, server with --group-items "
              f"{args.baseline_group_items} (fresh store)")
        with tempfile.TemporaryDirectory() as d:
            db = f"sqlite:///{d}/api.db"
            store = Store(db)
            store.migrate()
            _, token = store.create_api_key("platform", [PLATFORM], "bench")
            store.close()
            base = Server(args.vigil, db, free_port(), Path(d) / "server.log",
                          group_items=args.baseline_group_items)
            try:
                base.wait_ready()
                result["baseline"] = asyncio.run(http_phases(base, token, bodies, args,
                                                             only_single=True))
            except RequestFailed as exc:
                raise SystemExit(f"error: {exc}") from None
            finally:
                base.stop()
    if args.serial:
        print(f"\n[5] floor: in-process vigil.ingest.audit_batch, one item a call, "
              f"{args.serial:,} items (no HTTP; fresh store, same detectors, policy, "
              "relation index)")
        inproc = in_process(bodies[: args.serial + 1050], args.serial, 1000)
        result["in_process"] = inproc
        ips = inproc["single"]
        print(f"    {line(ips).replace('req/s', 'items/s')}")
        print(f"    CPU per item {ips['cpu_ms_per_item']:.2f} ms (all threads); other "
              f"processes used {ips['other_cpu_cores']:.0%} of a core meanwhile")
        if "batch_1000" in inproc:
            print(f"    one batch of 1000 items: {inproc['batch_1000']['items_per_s']:,.0f} "
                  "items/s")

    print("\nsummary")
    single = http["single"]
    result["target_p99_ms"] = TARGET_P99_MS
    for phase, what, flag in (
            ("single", f"at {args.concurrency} concurrent", "target_met"),
            ("single_open", f"at {args.rate:g} requests/s arriving (open loop)",
             "target_met_open"),
            ("single_serial", "at 1 client (no queueing)", "target_met_serial")):
        if phase in http:
            p99 = http[phase]["p99_ms"]
            result[flag] = p99 <= TARGET_P99_MS
            print(f"  target single-item p99 <= {TARGET_P99_MS:g} ms {what}: "
                  f"{'MET' if result[flag] else 'NOT MET'} (p99 {p99:.2f} ms)")
    if "baseline" in result:
        b = result["baseline"]
        for phase, what in (("single", f"{args.concurrency} clients"),
                            ("single_open", f"{args.rate:g}/s open loop")):
            if phase in b and phase in http:
                print(f"  group commit vs one request at a time, {what}: p99 "
                      f"{http[phase]['p99_ms']:.2f} vs {b[phase]['p99_ms']:.2f} ms "
                      f"({b[phase]['p99_ms'] / http[phase]['p99_ms']:.2f}x lower), "
                      f"{http[phase]['per_s']:,.0f} vs {b[phase]['per_s']:,.0f} req/s")
    hz = http["healthz"]
    print(f"  HTTP floor (/healthz) p50 at {args.concurrency} concurrent: {hz['p50_ms']:.2f} ms "
          f"= {hz['p50_ms'] / single['p50_ms']:.0%} of a single-item audit's p50 "
          f"({single['p50_ms']:.2f} ms)")
    if "in_process" in result and "single_serial" in http:
        ip = result["in_process"]["single"]
        ser, hs = http["single_serial"], http["healthz_serial"]
        print(f"  1 client: HTTP single-item p50 {ser['p50_ms']:.2f} ms = "
              f"{ser['p50_ms'] / ip['p50_ms']:.2f}x the in-process audit_batch p50 "
              f"({ip['p50_ms']:.2f} ms): HTTP + API add {ser['p50_ms'] - ip['p50_ms']:+.2f} ms; "
              f"/healthz p50 {hs['p50_ms']:.2f} ms")
        print(f"  CPU per single item: server {ser['server_cpu_ms_per_req']:.2f} ms over HTTP "
              f"vs {ip['cpu_ms_per_item']:.2f} ms in-process "
              f"({ser['server_cpu_ms_per_req'] / ip['cpu_ms_per_item']:.2f}x)")
        if "batch_1000" in http and "batch_1000" in result["in_process"]:
            hb, ib = http["batch_1000"], result["in_process"]["batch_1000"]
            ratio = ib["items_per_s"] / hb["items_per_s"]
            print(f"  batch of 1000: HTTP {hb['items_per_s']:,.0f} items/s vs in-process "
                  f"{ib['items_per_s']:,.0f} items/s ({ratio:.2f}x)")
    load_after = loadavg()
    result["loadavg_end"] = load_after
    total = time.perf_counter() - started
    other = max(0.0, busy_cpu() - busy0 - (time.process_time() - own0) - server.cpu_total)
    result["other_processes_cpu_s"] = other
    print(f"\nCPU used by other processes during the run: {other:.1f} s "
          f"({other / total:.0%} of one core on average; high values mean a noisy run)")
    result["total_s"] = total
    result["at"] = datetime.now(UTC).isoformat()
    print(f"load average at end: {load_after}; total {total:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
