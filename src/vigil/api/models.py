"""Request and response bodies of the HTTP API (they make ``/openapi.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ItemIn(BaseModel):
    """One item to audit; its platform is the API key's."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    account: str = Field(min_length=1, max_length=255)
    text: str = Field(max_length=200_000)
    created_at: datetime | None = None
    lang: str | None = Field(default=None, max_length=16)
    url: str | None = Field(default=None, max_length=2048)
    reach: int = Field(default=0, ge=0)
    kind: Literal["post", "article", "comment", "profile", "message"] = "post"
    reply_to: str | None = Field(default=None, max_length=255)


class DecisionOut(BaseModel):
    id: str
    kind: Literal["item", "account"]
    action: str
    category: str | None
    rule: str | None
    automated: bool
    at: datetime
    notice: str = Field(description="Where the statement of reasons is.")


class VerdictOut(BaseModel):
    """An item's current standing: the strongest action taken, whether it waits for human
    review, the scores, and every decision about it."""

    id: str
    platform: str
    account: str
    action: Literal["allow", "label", "restrict", "remove"]
    review: bool
    category: str | None
    scores: dict[str, float]
    policy_version: str
    content_hash: str
    audited_at: datetime
    decisions: list[DecisionOut]


class EvidenceOut(BaseModel):
    category: str | None = None
    detector: str | None = None
    text: str = ""
    note: str = ""
    ref: dict[str, Any] | None = None


class NoticeOut(BaseModel):
    """The statement of reasons for one decision, as the platform shows it to the user."""

    decision: str
    platform: str
    account: str
    item: str | None
    action: str
    category: str | None
    rule: str | None
    facts: str
    evidence: list[EvidenceOut]
    automated: bool
    policy_version: str
    decided_at: datetime
    appeal: str
    appeal_until: datetime


class Health(BaseModel):
    status: Literal["ok"]
    store: Literal["ok"]
