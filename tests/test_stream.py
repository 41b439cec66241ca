"""The NATS JetStream worker against the local server on 127.0.0.1:4222: items in,
decisions committed, verdicts published, acknowledgement only after the commit, and a
crash between commit and acknowledgement redelivers without deciding anything twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import make_items
from vigil.policy import load_policy
from vigil.store import Store
from vigil.store.tables import decisions, items
from vigil.stream import StreamSettings, StreamWorker, parse

NATS = os.environ.get("VIGIL_TEST_NATS", "nats://127.0.0.1:4222")


@pytest.fixture
def settings() -> Iterator[StreamSettings]:
    """Streams and subjects of this test alone, deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    s = StreamSettings(url=NATS, stream=f"T_ITEMS_{tag}", subject=f"t{tag}.items",
                       durable=f"d{tag}", decisions_stream=f"T_DEC_{tag}",
                       decisions_subject=f"t{tag}.decisions", batch=16, wait_s=0.3)
    yield s

    async def clean() -> None:
        import nats

        nc = await nats.connect(NATS)
        js = nc.jetstream()
        for name in (s.stream, s.decisions_stream):
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
        await nc.close()

    asyncio.run(clean())


def body(it: object) -> bytes:
    return json.dumps({"id": it.id, "account": it.account, "text": it.text,  # type: ignore[attr-defined]
                       "created_at": it.created_at.isoformat(), "reach": it.reach}  # type: ignore[attr-defined]
                      ).encode()


async def publish(s: StreamSettings, messages: list[tuple[str, bytes]]) -> None:
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(s.url)
    js = nc.jetstream()
    for name, subject in ((s.stream, s.subject), (s.decisions_stream, s.decisions_subject)):
        try:
            await js.stream_info(name)
        except Exception:
            await js.add_stream(StreamConfig(name=name, subjects=[f"{subject}.>"]))
    for subject, data in messages:
        await js.publish(subject, data)
    await nc.close()


async def verdicts(s: StreamSettings) -> list[dict]:  # type: ignore[type-arg]
    import nats

    nc = await nats.connect(s.url)
    js = nc.jetstream()
    info = await js.stream_info(s.decisions_stream)
    out = []
    for seq in range(1, info.state.last_seq + 1):
        msg = await js.get_msg(s.decisions_stream, seq)
        out.append({"subject": msg.subject, **json.loads(msg.data)})
    await nc.close()
    return out


def count(store: Store, table: object, *where: object) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)  # type: ignore[arg-type]
                                .where(*where)).scalar_one())


def test_parse_takes_the_platform_from_the_subject_and_rejects_bad_lines() -> None:
    got, bad = parse(b'{"id": "1", "account": "a", "text": "hi"}\n{"id": "2"}',
                     "vigil.items.chirp", "vigil.items")
    assert [(i.platform, i.id) for i in got] == [("chirp", "1")]
    assert bad[0].line == 2 and "field" in bad[0].reason
    got, _ = parse(b'{"id": "1", "account": "a", "text": "hi", "platform": "own"}',
                   "vigil.items.chirp", "vigil.items")
    assert got[0].platform == "own"
    assert parse(b"", "vigil.items.x", "vigil.items")[1][0].reason == "empty message"


def test_the_worker_audits_items_from_jetstream_and_publishes_verdicts(
        tmp_path: Path, settings: StreamSettings, detectors: list) -> None:  # type: ignore[type-arg]
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    a = make_items(30, platform="chirp", every=3)
    b = make_items(10, platform="blog", every=2, word="vermin")
    msgs = [(f"{settings.subject}.chirp", body(it)) for it in a]
    msgs += [(f"{settings.subject}.blog", body(it)) for it in b]
    msgs.append((f"{settings.subject}.chirp", b"{broken"))
    asyncio.run(publish(settings, msgs))
    w = StreamWorker(store, load_policy(), detectors, settings)
    t = asyncio.run(w.run(max_messages=41))
    assert (t.messages, t.items, t.rejected) == (41, 40, 1)
    assert count(store, items) == 40
    assert count(store, decisions, decisions.c.platform == "chirp",
                 decisions.c.action == "remove") == 10
    assert count(store, decisions, decisions.c.platform == "blog",
                 decisions.c.action == "remove") == 5
    got = asyncio.run(verdicts(settings))
    assert len(got) == 40 == t.published
    by = {(v["platform"], v["id"]): v for v in got}
    assert by[("chirp", "p3")]["action"] == "remove"
    assert by[("chirp", "p3")]["decisions"][0]["action"] == "remove"
    assert by[("chirp", "p1")]["action"] == "allow"
    assert {v["subject"] for v in got} == {f"{settings.decisions_subject}.chirp",
                                           f"{settings.decisions_subject}.blog"}
    # everything was acknowledged: a second worker on the same durable consumer gets nothing
    again = asyncio.run(run_for(StreamWorker(store, load_policy(), detectors, settings), 1.5))
    assert again.messages == 0  # type: ignore[attr-defined]


async def run_for(worker: StreamWorker, seconds: float) -> object:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    return await worker.run(stop=stop)


def test_a_crash_before_the_ack_redelivers_without_deciding_twice(
        tmp_path: Path, settings: StreamSettings, detectors: list) -> None:  # type: ignore[type-arg]
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    its = make_items(12, platform="chirp", every=2)
    asyncio.run(publish(settings, [(f"{settings.subject}.chirp", body(it)) for it in its]))
    fast = replace(settings, ack_wait_s=1.0)

    def crash(n: int) -> None:
        raise RuntimeError("killed between commit and ack")

    with pytest.raises(RuntimeError):
        asyncio.run(StreamWorker(store, load_policy(), detectors, fast,
                                 before_ack=crash).run(max_messages=12))
    committed = count(store, decisions)
    assert count(store, items) > 0 and committed > 0
    # the messages come back after ack_wait; the second run decides nothing new
    t = asyncio.run(StreamWorker(store, load_policy(), detectors, fast).run(max_messages=12))
    assert t.messages == 12
    assert count(store, items) == 12
    assert count(store, decisions, decisions.c.action == "remove") == 6
    assert count(store, decisions) == committed
    with store.read() as conn:
        ids = [r for (r,) in conn.execute(select(decisions.c.id))]
    assert len(ids) == len(set(ids))
    # verdicts published twice for the redelivered items carry the same message id and
    # JetStream kept one of each
    got = asyncio.run(verdicts(settings))
    assert sorted(v["id"] for v in got) == sorted(it.id for it in its)
