"""``vigil serve`` (the HTTP API) and ``vigil keys`` (its API keys)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigil._cli_common import DbOpt, PolicyOpt, _fail, _open_store, err, out
from vigil.errors import PolicyError, StoreError

keys_app = typer.Typer(help="API keys for the HTTP API (stored hashed).", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(
        help="platform (service account), moderator, admin, or auditor (read-only).")],
    platform: Annotated[list[str], typer.Option(
        help="The key's platform; an auditor key may repeat it, or give '*' for all.")],
    name: Annotated[str, typer.Option(help="A label for people (who or what uses it).")] = "",
    db: DbOpt = None,
) -> None:
    """Create a key and print it ONCE: only its hash is stored."""
    store = _open_store(db)
    try:
        key, token = store.create_api_key(role, platform, name)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    err.print(f"created {key.role} key {key.id} for {', '.join(key.platforms)}; it is shown "
              "once, store it now:", highlight=False)
    sys.stdout.write(token + "\n")


@keys_app.command("list")
def keys_list(
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl.")] = "table",
) -> None:
    """Every key (never the secret): id, role, platforms, name, created, revoked."""
    if fmt not in ("table", "jsonl"):
        raise _fail("--format must be table or jsonl")
    rows = _open_store(db).api_keys()
    if fmt == "jsonl":
        for k in rows:
            sys.stdout.write(json.dumps({
                "id": k.id, "role": k.role, "platforms": list(k.platforms), "name": k.name,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}) + "\n")
        return
    t = Table()
    for col in ("id", "role", "platforms", "name", "created", "revoked"):
        t.add_column(col)
    for k in rows:
        t.add_row(k.id, k.role, ",".join(k.platforms), k.name,
                  f"{k.created_at:%Y-%m-%d %H:%M}",
                  f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
    out.print(t)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (`vigil keys list`).")],
    db: DbOpt = None,
) -> None:
    """Revoke a key: it stops working at once (logged)."""
    if not _open_store(db).revoke_api_key(key_id):
        raise _fail(f"no live key {key_id!r}")
    out.print(f"revoked {key_id}", highlight=False)


def serve_cmd(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    db: DbOpt = None,
    policy: PolicyOpt = None,
    rate_per_minute: Annotated[float, typer.Option(min=1, help="Requests a minute per key.")
                               ] = 6000,
    metrics_public: Annotated[bool, typer.Option(
        help="Serve /metrics without a key (private networks).")] = False,
    worker: Annotated[bool, typer.Option(
        help="Send webhooks and expire sanctions inside the server (else run "
             "`vigil worker`).")] = True,
    group_items: Annotated[int, typer.Option(
        min=1, help="Most items of concurrent requests audited together in one "
                    "transaction (1: one request at a time).")] = 64,
) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    import uvicorn

    from vigil.api import Settings, create_app

    try:
        app = create_app(_open_store(db), Settings(
            policy=str(policy) if policy else None, rate_per_minute=rate_per_minute,
            metrics_public=metrics_public, worker=worker, group_items=group_items))
    except (PolicyError, StoreError) as exc:
        raise _fail(str(exc), 1) from None
    uvicorn.run(app, host=host, port=port, log_level="info")


def worker_cmd(
    db: DbOpt = None,
    policy: PolicyOpt = None,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between rounds.")] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    nats_url: Annotated[str | None, typer.Option(
        "--nats", help="Also audit items from this NATS JetStream server "
                       "(nats://127.0.0.1:4222).")] = None,
    stream: Annotated[str, typer.Option(help="JetStream stream of items.")] = "VIGIL_ITEMS",
    subject: Annotated[str, typer.Option(
        help="Items arrive on <subject>.<platform>.")] = "vigil.items",
    durable: Annotated[str, typer.Option(help="Durable consumer name.")] = "vigil-audit",
    decisions_subject: Annotated[str, typer.Option(
        help="Verdicts are published on <subject>.<platform>.")] = "vigil.decisions",
    batch: Annotated[int, typer.Option(min=1, help="Messages audited per transaction.")
                     ] = 256,
) -> None:
    """Send due webhooks (with retries) and record expired sanctions as decisions; with
    --nats, also consume items from NATS JetStream (acknowledged only after their
    decisions are committed) and publish each item's verdict."""
    import time
    from datetime import UTC, datetime

    import httpx

    from vigil.policy import load_policy
    from vigil.webhooks import Worker

    if nats_url:
        _stream_worker(db, policy, interval, nats_url, stream, subject, durable,
                       decisions_subject, batch)
        return
    try:
        pol = load_policy(policy)
        w = Worker(_open_store(db), pol, interval)
        with httpx.Client() as client:
            while True:
                expired, t = w.run_once(datetime.now(UTC), client)
                if once or expired or t.delivered or t.retried or t.failed:
                    out.print(f"{expired} sanctions expired; webhooks: {t.delivered} "
                              f"delivered, {t.retried} to retry, {t.failed} failed",
                              highlight=False)
                if once:
                    return
                time.sleep(interval)
    except (PolicyError, StoreError) as exc:
        raise _fail(str(exc), 1) from None
    except KeyboardInterrupt:
        return


def _stream_worker(db: str | None, policy: Path | None, interval: float, url: str,
                   stream: str, subject: str, durable: str, decisions_subject: str,
                   batch: int) -> None:
    import asyncio

    from vigil.cli import _detectors
    from vigil.policy import load_policy
    from vigil.relations import Relations
    from vigil.stream import StreamSettings, StreamWorker
    from vigil.webhooks import Worker

    try:
        pol = load_policy(policy)
        store = _open_store(db)
        store.record_policy(pol)
        background = Worker(store, pol, interval)
        settings = StreamSettings(url=url, stream=stream, subject=subject, durable=durable,
                                  decisions_subject=decisions_subject, batch=batch)
        sw = StreamWorker(store, pol, _detectors(store, media_paths=False), settings,
                          Relations(store))
    except (PolicyError, StoreError) as exc:
        raise _fail(str(exc), 1) from None
    background.start()
    out.print(f"consuming {subject}.> from {url} (stream {stream}, consumer {durable}); "
              f"verdicts to {decisions_subject}.<platform>", highlight=False)
    try:
        asyncio.run(sw.run())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise _fail(f"NATS at {url}: {exc}", 1) from None
    finally:
        background.stop()
        t = sw.tally
        out.print(f"{t.messages:,} messages: {t.items:,} items audited in {t.batches:,} "
                  f"batches, {t.rejected:,} rejected, {t.published:,} verdicts published",
                  highlight=False)


def webhooks_set_cmd(
    platform: Annotated[str, typer.Option(help="The platform.")],
    url: Annotated[str, typer.Option(help="Where to POST (http:// or https://).")],
    db: DbOpt = None,
) -> None:
    """Set a platform's webhook; prints the new signing secret once."""
    import secrets as _secrets

    if not url.startswith(("http://", "https://")):
        raise _fail("--url must start with http:// or https://")
    token = _secrets.token_urlsafe(32)
    _open_store(db).set_webhook(platform, url, token)
    err.print(f"webhook for {platform} set; its signing secret is shown once:",
              highlight=False)
    sys.stdout.write(token + "\n")
