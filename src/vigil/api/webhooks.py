"""``/v1/webhook`` (a platform's endpoint and secret) and ``/v1/deliveries`` (what was
sent, what failed)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from vigil.api.auth import platform_of, role
from vigil.api.models import ERRORS
from vigil.store.keys import ApiKey

router = APIRouter(responses=ERRORS)
AdminKey = Annotated[ApiKey, Depends(role("admin"))]
DeliveryReader = Annotated[ApiKey, Depends(role("admin", "auditor"))]


class WebhookIn(BaseModel):
    url: str = Field(pattern=r"^https?://", max_length=2048)


class WebhookOut(BaseModel):
    platform: str
    url: str
    secret: str | None = Field(default=None, description="Shown once, when it is set.")


class DeliveryOut(BaseModel):
    id: str
    platform: str
    event: str
    decision_id: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


@router.put("/v1/webhook", response_model=WebhookOut,
            summary="Set the platform's webhook (a new signing secret is returned once)")
def set_webhook(body: WebhookIn, request: Request, key: AdminKey) -> WebhookOut:
    pf = platform_of(key, None)
    secret = secrets.token_urlsafe(32)
    request.app.state.vigil.store.set_webhook(pf, body.url, secret)
    return WebhookOut(platform=pf, url=body.url, secret=secret)


@router.get("/v1/webhook", response_model=WebhookOut, summary="The platform's webhook",
            responses={404: {"description": "None set"}})
def get_webhook(request: Request, key: AdminKey) -> WebhookOut:
    pf = platform_of(key, None)
    hook = request.app.state.vigil.store.webhook(pf)
    if hook is None:
        raise HTTPException(404, "not found")
    return WebhookOut(platform=pf, url=hook["url"])


@router.get("/v1/deliveries", response_model=list[DeliveryOut],
            summary="Webhook deliveries, newest first")
def list_deliveries(request: Request, key: DeliveryReader, platform: str | None = None,
                    status: Literal["pending", "delivered", "failed"] | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50
                    ) -> list[dict[str, Any]]:
    pf = platform_of(key, platform)
    found: list[dict[str, Any]] = request.app.state.vigil.store.deliveries([pf], status,
                                                                           limit)
    return found
