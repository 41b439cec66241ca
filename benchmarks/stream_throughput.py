"""Steady-state throughput of the NATS JetStream worker (``vigil worker --nats``).

    python benchmarks/stream_throughput.py [--items 20000] [--batch 256] [--json PATH]

Publishes ``--items`` demo-corpus items (one per message, on their platforms' subjects) to a
fresh stream on the local NATS server (127.0.0.1:4222), then runs the worker in this
process until it has handled them all: each fetch of up to ``--batch`` messages is
audited in one transaction (default detectors, relations on), the verdicts published,
the messages acknowledged. Reported: items/s over the whole run and at steady state
(the first batch, which pays for loading the models, left out). Floor, same items, same
batch size, same run: ``vigil.ingest.audit_batch`` called in a loop on a fresh store
(no broker, no publishing, no acknowledgements).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import _machine

from vigil.demo_corpus import generate
from vigil.detectors import default_detectors
from vigil.ingest import Tally, audit_batch
from vigil.policy import load_policy
from vigil.readers import _jsonl
from vigil.relations import Relations
from vigil.store import Store
from vigil.stream import StreamSettings, StreamWorker


async def publish(s: StreamSettings, bodies: list[tuple[str, bytes]]) -> float:
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(s.url)
    js = nc.jetstream()
    for name, subject in ((s.stream, s.subject), (s.decisions_stream, s.decisions_subject)):
        await js.add_stream(StreamConfig(name=name, subjects=[f"{subject}.>"]))
    t0 = time.perf_counter()
    for k in range(0, len(bodies), 500):
        await asyncio.gather(*(js.publish(subj, data) for subj, data in bodies[k:k + 500]))
    wall = time.perf_counter() - t0
    await nc.close()
    return wall


async def cleanup(s: StreamSettings) -> None:
    import nats

    nc = await nats.connect(s.url)
    js = nc.jetstream()
    for name in (s.stream, s.decisions_stream):
        with contextlib.suppress(Exception):  # already gone
            await js.delete_stream(name)
    await nc.close()


class Timed(StreamWorker):
    """The worker, recording when each batch finished."""

    marks: list[tuple[float, int]]

    async def _handle(self, js: Any, msgs: list[Any]) -> None:
        await super()._handle(js, msgs)
        self.marks.append((time.perf_counter(), self.tally.messages))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--url", default="nats://127.0.0.1:4222")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    print(f"machine: {_machine.machine('nats-py', 'sqlalchemy')}")
    rows = generate(seed=13, n_items=args.items, n_accounts=max(300, args.items // 10))
    tag = uuid.uuid4().hex[:8]
    s = StreamSettings(url=args.url, stream=f"BENCH_{tag}", subject=f"bench{tag}.items",
                       durable=f"bench{tag}", decisions_stream=f"BENCH_DEC_{tag}",
                       decisions_subject=f"bench{tag}.decisions", batch=args.batch,
                       wait_s=0.5)
    bodies = []
    for r in rows:
        platform = r["platform"]  # ids are unique within a platform
        body = {key: v for key, v in r.items() if not key.startswith("_") and key != "platform"}
        bodies.append((f"{s.subject}.{platform}", json.dumps(body, ensure_ascii=False).encode()))
    res: dict[str, Any] = {"items": args.items, "batch": args.batch}
    try:
        res["publish_per_s"] = args.items / asyncio.run(publish(s, bodies))
        print(f"published {args.items:,} messages ({res['publish_per_s']:,.0f}/s)", flush=True)
        policy = load_policy()
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/stream.db")
            store.migrate()
            store.record_policy(policy)
            w = Timed(store, policy, default_detectors(), s, Relations(store))
            w.marks = []
            t0 = time.perf_counter()
            t = asyncio.run(w.run(max_messages=args.items))
            wall = time.perf_counter() - t0
            (t1, n1), (t2, n2) = w.marks[0], w.marks[-1]
            res["stream"] = {"wall_s": wall, "items_per_s": t.items / wall,
                             "steady_items_per_s": (n2 - n1) / (t2 - t1),
                             "batches": t.batches, "rejected": t.rejected,
                             "published": t.published}
            print(f"worker: {t.items:,} items in {t.batches} batches, {wall:.1f} s: "
                  f"{t.items / wall:,.0f} items/s; steady state "
                  f"{res['stream']['steady_items_per_s']:,.0f} items/s; "
                  f"{t.published:,} verdicts published", flush=True)

            floor = Store(f"sqlite:///{tmp}/floor.db")
            floor.migrate()
            floor.record_policy(policy)
            dets, rel = default_detectors(), Relations(floor)
            items = [it for subj, data in bodies
                     for _, it in _jsonl([data], subj.rsplit(".", 1)[1], True)]
            audit_batch(floor, items[: args.batch], policy, dets, Tally(), relations=rel)
            t0 = time.perf_counter()
            for k in range(args.batch, len(items), args.batch):
                audit_batch(floor, items[k:k + args.batch], policy, dets, Tally(),
                            relations=rel)
            fw = time.perf_counter() - t0
            res["floor_audit_batch_items_per_s"] = (len(items) - args.batch) / fw
            ratio = res["stream"]["steady_items_per_s"] / res["floor_audit_batch_items_per_s"]
            res["stream_over_floor"] = ratio
            print(f"floor (audit_batch loop, no broker): "
                  f"{res['floor_audit_batch_items_per_s']:,.0f} items/s; worker at steady "
                  f"state reaches {ratio * 100:.0f} % of it")
    finally:
        asyncio.run(cleanup(s))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
