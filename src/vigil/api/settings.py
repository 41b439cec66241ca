"""Server settings: built by the caller and passed to ``create_app`` (nothing is read at
import time)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What a Vigil server needs besides its store.

    ``rate_per_minute`` and ``burst``: each API key's token bucket (a request takes one
    token; an item in a batch counts as one request). ``max_body_bytes``: larger requests
    get 413. ``max_batch``: most items in one ``POST /v1/items``. ``metrics_public``:
    serve ``/metrics`` without a key (for a scraper on a private network); otherwise it
    needs an admin or auditor key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str | None = None
    rate_per_minute: float = Field(default=6000.0, gt=0)
    burst: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_batch: int = Field(default=5000, ge=1)
    claims: bool = True
    relations: bool = True
    metrics_public: bool = False
    claim_minutes: float = Field(default=15.0, gt=0)
    #: run the worker (webhook deliveries, sanction expiry) inside the server
    worker: bool = False
    worker_interval_s: float = Field(default=2.0, gt=0)
    #: most items of concurrent requests audited together in one transaction (group
    #: commit); 1 audits one request at a time
    group_items: int = Field(default=64, ge=1)
