"""Stream ingestion from NATS JetStream: ``vigil worker --nats URL``.

A durable pull consumer takes items (one JSON object per message, or JSON lines; the
`vigil audit` format) from the items stream, audits each fetched batch in one
transaction, publishes every item's stored verdict to ``<decisions>.<platform>``, and
only then acknowledges the messages. Delivery is at least once: a message redelivered
after a crash finds its item stored unchanged, so nothing is decided twice, and its
verdict is published again under the same ``Nats-Msg-Id`` (platform, item, content
hash, action, decision count), which JetStream's duplicate window drops. A message that
cannot be an item is terminated (never redelivered) and counted, with its reason logged.

Subjects: ``<items>.<platform>`` (e.g. ``vigil.items.chirp``); an item's own
``platform`` field, when present, wins.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from vigil.detectors import Detector
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import Policy
from vigil.readers import Reject, _jsonl
from vigil.relations import Relations
from vigil.store import Store

__all__ = ["StreamSettings", "StreamTally", "StreamWorker"]

log = logging.getLogger("vigil.stream")


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """Where the worker reads and writes. Streams are created when missing."""

    url: str = "nats://127.0.0.1:4222"
    stream: str = "VIGIL_ITEMS"
    subject: str = "vigil.items"  # items arrive on <subject>.<platform>
    durable: str = "vigil-audit"
    decisions_stream: str = "VIGIL_DECISIONS"
    decisions_subject: str = "vigil.decisions"  # verdicts go to <subject>.<platform>
    batch: int = 256  # messages fetched (and audited in one transaction) at most
    wait_s: float = 1.0  # how long a fetch waits for the first message
    ack_wait_s: float = 120.0  # unacknowledged this long: redelivered


@dataclass(slots=True)
class StreamTally:
    messages: int = 0
    items: int = 0
    rejected: int = 0
    batches: int = 0
    published: int = 0
    audit: Tally = field(default_factory=Tally)


def _json_default(v: object) -> object:
    return v.isoformat() if isinstance(v, datetime | date) else str(v)


def parse(data: bytes, subject: str, prefix: str) -> tuple[list[Item], list[Reject]]:
    """The items of one message; its platform from the subject unless an item names it."""
    platform = subject[len(prefix) + 1:] if subject.startswith(prefix + ".") else ""
    got_items: list[Item] = []
    bad: list[Reject] = []
    for _, got in _jsonl(data.splitlines(), platform or "default", True):
        (bad if isinstance(got, Reject) else got_items).append(got)  # type: ignore[arg-type]
    if not got_items and not bad:
        bad.append(Reject(1, "empty message", ""))
    return got_items, bad


class StreamWorker:
    """Consume, audit, publish, acknowledge. ``run`` until ``stop`` is set (or, for tests
    and benchmarks, until ``max_messages`` have been handled)."""

    def __init__(self, store: Store, policy: Policy, detectors: Sequence[Detector],
                 settings: StreamSettings | None = None,
                 relations: Relations | None = None,
                 before_ack: Callable[[int], None] | None = None) -> None:
        self.store, self.policy, self.detectors = store, policy, list(detectors)
        self.settings = settings or StreamSettings()
        self.relations = relations
        self.tally = StreamTally()
        self._before_ack = before_ack  # tests: crash between commit and acknowledgement

    async def _streams(self, js: Any) -> None:
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        s = self.settings
        for name, subject in ((s.stream, s.subject), (s.decisions_stream, s.decisions_subject)):
            try:
                await js.stream_info(name)
            except NotFoundError:
                await js.add_stream(StreamConfig(name=name, subjects=[f"{subject}.>"]))

    async def run(self, stop: asyncio.Event | None = None,
                  max_messages: int | None = None) -> StreamTally:
        import nats
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import AckPolicy, ConsumerConfig

        s = self.settings
        stop = stop or asyncio.Event()
        nc = await nats.connect(s.url, name="vigil-worker")
        try:
            js = nc.jetstream()
            await self._streams(js)
            sub = await js.pull_subscribe(
                f"{s.subject}.>", durable=s.durable, stream=s.stream,
                config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=s.ack_wait_s,
                                      max_ack_pending=max(4 * s.batch, 1024)))
            while not stop.is_set():
                if max_messages is not None and self.tally.messages >= max_messages:
                    break
                want = s.batch if max_messages is None else min(
                    s.batch, max_messages - self.tally.messages)
                try:
                    msgs = await sub.fetch(want, timeout=s.wait_s)
                except (NatsTimeout, TimeoutError):  # nothing waiting
                    continue
                await self._handle(js, msgs)
        finally:
            await nc.drain()
        return self.tally

    async def _handle(self, js: Any, msgs: list[Any]) -> None:
        s = self.settings
        batch: list[Item] = []
        good: list[Any] = []
        for m in msgs:
            got, bad = parse(m.data, m.subject, s.subject)
            if bad:
                for r in bad:
                    log.warning("message %s on %s: line %d: %s", m.metadata.sequence.stream,
                                m.subject, r.line, r.reason)
                self.tally.rejected += 1
                await m.term()
                continue
            batch.extend(got)
            good.append(m)
        if batch:
            await asyncio.to_thread(audit_batch, self.store, batch, self.policy,
                                    self.detectors, self.tally.audit, None, self.relations)
            await self._publish(js, batch)
        if self._before_ack is not None:
            self._before_ack(len(good))
        for m in good:
            await m.ack()
        self.tally.messages += len(msgs)
        self.tally.items += len(batch)
        self.tally.batches += 1

    async def _publish(self, js: Any, batch: Sequence[Item]) -> None:
        by: dict[str, list[str]] = {}
        for it in batch:
            by.setdefault(it.platform, []).append(it.id)
        s = self.settings
        for platform, ids in by.items():
            found = await asyncio.to_thread(self.store.item_verdicts, platform, ids)
            acks = []
            for item_id in dict.fromkeys(ids):
                v = found.get(item_id)
                if v is None:
                    continue
                msg_id = (f"{platform}:{item_id}:{v['content_hash']}:{v['action']}:"
                          f"{len(v['decisions'])}")
                body = json.dumps(v, default=_json_default, ensure_ascii=False).encode()
                acks.append(js.publish(f"{s.decisions_subject}.{platform}", body,
                                       headers={"Nats-Msg-Id": msg_id}))
            await asyncio.gather(*acks)
            self.tally.published += len(acks)
