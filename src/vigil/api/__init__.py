"""The HTTP API: ``create_app(store, settings)`` builds a FastAPI app; nothing (engine,
models, settings) is created at import time.

Routes: ``POST /v1/items`` and ``GET /v1/items/{id}`` (audit, read a verdict),
``GET /v1/decisions/{id}/notice`` (the statement of reasons), the drop-in
``POST /v1/moderations`` (OpenAI's moderation API) and ``POST /v1alpha1/comments:analyze``
(Perspective's), ``/healthz`` and ``/metrics`` (Prometheus). Every route checks the API
key's role and platform; see :mod:`vigil.api.auth`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from vigil.api.limits import BodyLimit, RateLimiter
from vigil.api.settings import Settings
from vigil.audit import AuditResult
from vigil.detectors import Detector
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import Policy, load_policy
from vigil.relations import Relations
from vigil.store import Store
from vigil.store.keys import ApiKey

KEY_TTL_S = 1.0
#: How often the server copies SQLite's write-ahead log into the database (Checkpointer)
CHECKPOINT_EVERY_S = 0.25


class Metrics:
    """The app's Prometheus metrics, in a registry of its own."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "vigil_http_request_seconds", "HTTP request latency", ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.items = Counter("vigil_items_audited_total", "Items audited, by outcome",
                             ["platform", "category", "action"], registry=self.registry)
        self.queue = Gauge("vigil_review_queue_depth", "Items waiting for human review",
                           registry=self.registry)
        self.queue.set_function(lambda: float(store.review_pending()))
        self.webhook_failures = Counter(
            "vigil_webhook_failures_total", "Webhook deliveries given up after every retry",
            ["platform"], registry=self.registry)
        self.webhooks_pending = Gauge("vigil_webhook_pending", "Deliveries waiting to be sent",
                                      registry=self.registry)
        self.webhooks_pending.set_function(
            lambda: float(store.delivery_counts().get("pending", 0)))


@dataclass(slots=True)
class _Waiter:
    """A request waiting for its items to be audited."""

    items: list[Item]
    done: bool = False
    error: BaseException | None = None
    tally: Tally | None = None
    verdicts: dict[tuple[str, str], dict[str, Any]] | None = None


#: Failed console sign-ins allowed per user name and per client address before they must
#: wait; the allowance refills over 15 minutes.
LOGIN_FAILURES = 10


class VigilState:
    """What the routes share: the store, settings, policy, detectors, the relation index,
    the rate limiter and the metrics. One audit runs at a time (the relation index and
    SQLite take one writer), over every request waiting for it (``audit``)."""

    def __init__(self, store: Store, settings: Settings,
                 detectors: Sequence[Detector] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.policy: Policy = load_policy(settings.policy)
        store.record_policy(self.policy)
        if detectors is None:
            from vigil.pipeline import store_detectors

            detectors = store_detectors(store, claims=settings.claims, media_paths=False)
        self.detectors = list(detectors)
        self.relations = Relations(store) if settings.relations else None
        self._warm_up()
        self.limiter = RateLimiter(settings.rate_per_minute, settings.burst)
        #: failed console sign-ins, per user name and per client address
        self.login_failures = RateLimiter(LOGIN_FAILURES / 15.0, LOGIN_FAILURES)
        self._keys: dict[str, tuple[float, ApiKey]] = {}
        self._keys_seen_revocations = store.key_revocations
        self.metrics = Metrics(store)
        self._cond = threading.Condition()
        self._queue: deque[_Waiter] = deque()
        self._auditing = False

    def api_key(self, token: str) -> ApiKey | None:
        """The live key for ``token``. A found key is remembered for ``KEY_TTL_S`` (one
        database read per key a second, not per request); a key revoked through this
        store stops at once, one revoked by another process within that time; unknown
        tokens are never remembered."""
        now = time.monotonic()
        if self.store.key_revocations != self._keys_seen_revocations:
            self._keys.clear()  # a key was revoked through this store: forget them all
            self._keys_seen_revocations = self.store.key_revocations
        hit = self._keys.get(token)
        if hit is not None and now - hit[0] < KEY_TTL_S:
            return hit[1]
        key = self.store.api_key(token)
        if key is None:
            self._keys.pop(token, None)
            return None
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[token] = (now, key)
        return key

    def _warm_up(self) -> None:
        """Load what the first requests would otherwise load under the audit lock: the
        models behind the detectors and every platform's near-duplicate index."""
        from vigil.audit import detect

        detect([Item(id="warm-up", account="", text="warm up 预热 the models")],
               self.detectors)
        for det in self.detectors:
            embedder = getattr(det, "embedder_", None)
            if embedder is not None:
                embedder.encode(["warm up"])
        if self.relations is not None:
            for platform in self.store.platforms():
                self.relations.loaded(platform)

    def audit(self, batch: list[Item],
              verdicts: dict[tuple[str, str], dict[str, Any]] | None = None) -> Tally:
        """Audit a request's items. Requests that arrive while an audit runs are audited
        together in the next one (group commit): one transaction, one relation-index
        pass, so concurrent single-item requests share the fixed cost of an audit
        instead of queueing behind each other. A group never holds the same item twice
        (a later version waits for the next group, as it would have alone). The tally
        returned is the group's. ``verdicts`` receives the stored verdict of each of the
        batch's items that this audit stored for the first time (see
        ``Store.record``)."""
        mine = _Waiter(batch)
        with self._cond:
            self._queue.append(mine)
            while not mine.done:
                if self._auditing:
                    self._cond.wait()
                    continue
                self._auditing = True
                group = self._take_group()
                self._cond.release()
                tally, error = Tally(), None
                found: dict[tuple[str, str], dict[str, Any]] = {}
                try:
                    results = audit_batch(self.store, [it for w in group for it in w.items],
                                          self.policy, self.detectors, tally,
                                          relations=self.relations, verdicts=found)
                    self._count(results)
                except BaseException as exc:  # handed to every request of the group
                    error = exc
                finally:
                    self._cond.acquire()
                    self._auditing = False
                    for w in group:
                        w.done, w.error, w.tally, w.verdicts = True, error, tally, found
                    self._cond.notify_all()
        if mine.error is not None:
            raise mine.error
        assert mine.tally is not None
        if verdicts is not None and mine.verdicts:
            for it in batch:
                key = (it.platform, it.id)
                if key in mine.verdicts:
                    verdicts[key] = mine.verdicts[key]
        return mine.tally

    def _take_group(self) -> list[_Waiter]:
        group = [self._queue.popleft()]
        keys = {(it.platform, it.id) for it in group[0].items}
        size = len(group[0].items)
        while self._queue:
            nxt = self._queue[0]
            ks = {(it.platform, it.id) for it in nxt.items}
            if size + len(nxt.items) > self.settings.group_items or ks & keys:
                break
            group.append(self._queue.popleft())
            keys |= ks
            size += len(nxt.items)
        return group

    def _count(self, results: Sequence[AuditResult]) -> None:
        for r in results:
            self.metrics.items.labels(r.item.platform, r.verdict.category or "none",
                                      r.verdict.action if not r.verdict.review
                                      or r.verdict.action != "allow" else "review").inc()


class Checkpointer:
    """A thread that checkpoints a SQLite store's write-ahead log every ``interval_s``
    (``Store.checkpoint``), so that no audit's commit pays for it: SQLite otherwise copies
    the log inside whichever commit takes it past 1000 pages (a few ms, every hundred or so
    single-item audits: the p99). Does nothing on PostgreSQL."""

    def __init__(self, store: Store, interval_s: float) -> None:
        self.store = store
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.store.checkpoint():  # a SQLite file: keep doing it
            self._thread = threading.Thread(target=self._run, name="vigil-checkpoint",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.store.checkpoint()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class Timing:
    """ASGI middleware: each HTTP request's latency, up to its response's start, by method,
    route and status, into ``vigil_http_request_seconds`` (a plain ASGI wrapper: Starlette's
    ``BaseHTTPMiddleware`` costs a task group and a stream per request)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                path = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.latency.labels(scope["method"], path,
                                            str(message["status"])).observe(
                    time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)


def create_app(store: Store, settings: Settings | None = None,
               detectors: Sequence[Detector] | None = None) -> FastAPI:
    """A Vigil API over ``store`` (migrated here). ``detectors`` replaces the default set
    (tests use small deterministic ones)."""
    from vigil.api import dropin, items, ops, review, webhooks

    settings = settings or Settings()
    store.migrate()
    state = VigilState(store, settings, detectors)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        checkpoints = Checkpointer(store, CHECKPOINT_EVERY_S)
        checkpoints.start()
        worker = None
        if settings.worker:
            from vigil.webhooks import Worker

            worker = Worker(store, state.policy, settings.worker_interval_s,
                            on_failure=lambda pf: state.metrics.webhook_failures.labels(
                                pf).inc())
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        checkpoints.stop()

    app = FastAPI(title="Vigil", version="1", lifespan=lifespan,
                  description="Content auditing and account enforcement.")
    app.state.vigil = state
    app.include_router(items.router, tags=["items"])
    app.include_router(review.router, tags=["review"])
    app.include_router(webhooks.router, tags=["webhooks"])
    app.include_router(dropin.router, tags=["drop-in"])
    app.include_router(ops.router, tags=["operations"])
    from vigil.console import mount

    mount(app, state)  # the console's pages (/, /login, /queue, ...): docs/console.md

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # name the field and the problem, never echo the input back (it may not even be
        # encodable, and it is the caller's data)
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))} for e in exc.errors()]})

    app.add_middleware(Timing, metrics=state.metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


__all__ = ["Settings", "create_app"]
