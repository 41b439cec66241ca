"""Per-key rate limits (token buckets, 429 with Retry-After) and request size limits (413),
kept in the server process."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

from fastapi import HTTPException, Request

Scope = dict[str, Any]


class RateLimiter:
    """A token bucket per API key: ``burst`` tokens, refilled at ``per_minute``/60 a
    second. :meth:`take` raises 429 with ``Retry-After`` when the bucket is short."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, request: Request | None, key_id: str, cost: float = 1.0) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if cost > tokens:
                self._buckets[key_id] = (tokens, now)
                wait = math.ceil((min(cost, self.burst) - tokens) / self.rate)
                raise HTTPException(
                    429, f"rate limit: {self.rate * 60:g} requests a minute per key",
                    headers={"Retry-After": str(max(wait, 1))})
            self._buckets[key_id] = (tokens - cost, now)

    def wait(self, key_id: str, cost: float = 1.0) -> int:
        """Seconds until ``key_id`` could take ``cost`` (0: now); takes nothing."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        return 0 if tokens >= cost else max(1, math.ceil((cost - tokens) / self.rate))


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` (declared or streamed) gets 413."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._too_large(send)
                return
        seen = 0
        too_large = False

        async def limited() -> Any:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if too_large and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited, guarded_send)
        if too_large and not started:
            await self._too_large(send)

    async def _too_large(self, send: Any) -> None:
        body = json.dumps({"detail": f"request body over {self.max_bytes:,} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
