"""Webhooks to the platforms, and the worker that sends them and expires timed sanctions.

Every decision the platform must act on (an item labelled, restricted, removed or
reinstated; an account sanctioned, a sanction lifted or expired; an appeal upheld) becomes
a row in the delivery outbox in the decision's own transaction. The worker POSTs each as
JSON with

- ``Vigil-Delivery``: the delivery id (the same on every retry: use it to drop duplicates),
- ``Vigil-Event``: e.g. ``item.removed``,
- ``Vigil-Signature``: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
  platform's webhook secret>``,

and retries anything but a 2xx with exponential backoff (10 s, 20 s, 40 s... at most an
hour) up to ``max_attempts``; then the delivery is ``failed``. Nothing is silent: failures
are listed by ``GET /v1/deliveries?status=failed``, counted in ``vigil report`` and in the
``vigil_webhook_failures_total`` metric.

Timed sanctions end by themselves (``Sanction.in_force``); :func:`expire_sanctions` records
each end as a decision (``expire``), which also notifies the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, exists, select

from vigil.audit import AUTOMATED_ACTOR, Decision, _id
from vigil.policy import Policy
from vigil.store import Store
from vigil.store.review import write_decisions
from vigil.store.tables import decisions, sanction_lifts, sanctions

BACKOFF_S = 10.0
MAX_BACKOFF_S = 3600.0
MAX_ATTEMPTS = 8
TIMEOUT_S = 10.0
log = logging.getLogger("vigil.worker")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance_s: float = 300.0
           ) -> bool:
    """What a platform runs on receipt: the signature matches and is recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), header)


@dataclass(slots=True)
class DeliveryTally:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(store: Store, now: datetime, client: httpx.Client,
                max_attempts: int = MAX_ATTEMPTS, limit: int = 100,
                on_failure: Callable[[str], None] | None = None) -> DeliveryTally:
    """Send every due delivery once; record the outcome and schedule retries."""
    tally = DeliveryTally()
    for d in store.due_deliveries(now, limit):
        body = d["payload"].encode()
        ts = int(now.timestamp())
        headers = {"Content-Type": "application/json", "Vigil-Delivery": d["id"],
                   "Vigil-Event": d["event"], "Vigil-Signature": sign(d["secret"], ts, body),
                   "User-Agent": "vigil-webhooks/1"}
        error: str | None = None
        try:
            resp = client.post(d["url"], content=body, headers=headers, timeout=TIMEOUT_S)
            if 200 <= resp.status_code < 300:
                store.mark_delivery(d["id"], status="delivered", attempts=d["attempts"] + 1,
                                    delivered_at=now, last_error=None)
                tally.delivered += 1
                continue
            error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = d["attempts"] + 1
        if attempts >= max_attempts:
            store.mark_delivery(d["id"], status="failed", attempts=attempts, last_error=error)
            tally.failed += 1
            if on_failure is not None:
                on_failure(d["platform"])
        else:
            wait = min(BACKOFF_S * 2 ** (attempts - 1), MAX_BACKOFF_S)
            store.mark_delivery(d["id"], attempts=attempts, last_error=error,
                                next_at=now + timedelta(seconds=wait))
            tally.retried += 1
    return tally


def expire_sanctions(store: Store, policy: Policy, now: datetime) -> int:
    """Record an ``expire`` decision for every timed sanction whose time is up (and that
    no appeal lifted first); returns how many."""

    done_q = exists().where(and_(decisions.c.reverses == sanctions.c.decision_id,
                                 decisions.c.action == "expire"))
    lifted_q = exists().where(sanction_lifts.c.sanction_id == sanctions.c.id)
    q = select(sanctions).where(sanctions.c.expires_at.is_not(None),
                                sanctions.c.expires_at <= now, ~done_q, ~lifted_q)
    with store.begin() as conn:
        found: list[Decision] = []
        reverses: dict[str, str] = {}
        for s in conn.execute(q).mappings():
            rule = "sanction.expired"
            found.append(Decision(
                id=_id(s["id"], "expired"), platform=s["platform"], account=s["account"],
                item_id=None, kind="account", action="expire", category=None, rule=rule,
                policy_version=policy.version, automated=True, actor=AUTOMATED_ACTOR,
                reasons={"action": "expire", "rule": rule, "automated": True,
                         "facts": f"the {s['kind']} of this account ended at "
                                  f"{s['expires_at']:%Y-%m-%d %H:%M} UTC, as decided",
                         "sanction": s["id"],
                         "policy": {"name": policy.name, "version": policy.version}},
                at=now))
            reverses[found[-1].id] = s["decision_id"]
        if found:
            write_decisions(conn, now, found, reverses=reverses)
    return len(found)


class Worker:
    """A background thread: every ``interval_s``, expire due sanctions and send due
    webhooks. ``vigil worker`` runs one; ``vigil serve`` runs one inside the server."""

    def __init__(self, store: Store, policy: Policy, interval_s: float = 2.0,
                 on_failure: Callable[[str], None] | None = None) -> None:
        self.store, self.policy, self.interval_s = store, policy, interval_s
        self.on_failure = on_failure
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime, client: httpx.Client) -> tuple[int, DeliveryTally]:
        expired = expire_sanctions(self.store, self.policy, now)
        return expired, deliver_due(self.store, now, client, on_failure=self.on_failure)

    def start(self) -> None:
        def loop() -> None:
            from datetime import UTC

            with httpx.Client() as client:
                while not self._stop.is_set():
                    try:
                        self.run_once(datetime.now(UTC), client)
                    except Exception:  # keep the loop alive; the work is retried next tick
                        log.exception("worker tick failed; retrying in %.0f s",
                                      self.interval_s)
                    self._stop.wait(self.interval_s)

        self._thread = threading.Thread(target=loop, name="vigil-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

