"""``/healthz`` and ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vigil.api.auth import Credentials, key_of
from vigil.api.models import ERRORS, Health
from vigil.errors import StoreError

router = APIRouter()


@router.get("/healthz", response_model=Health, summary="Liveness and store reachability",
            responses={503: {"description": "The store does not answer"}})
def healthz(request: Request) -> Health:
    try:
        request.app.state.vigil.store.ping()
    except StoreError:
        raise HTTPException(503, "store unavailable") from None
    return Health(status="ok", store="ok")


@router.get("/metrics", summary="Prometheus metrics (an auditor key covering every "
            "platform, unless public)",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}},
                       401: ERRORS[401], 403: ERRORS[403], 429: ERRORS[429]})
def metrics(request: Request, cred: Credentials) -> Response:
    vigil = request.app.state.vigil
    if not vigil.settings.metrics_public:
        key = key_of(request, cred)
        # the metrics span every platform: only the operator's (or regulator's) view
        if key.role != "auditor" or "*" not in key.platforms:
            raise HTTPException(403, "this route is for auditor keys covering every "
                                     "platform ('*')")
    return Response(generate_latest(vigil.metrics.registry), media_type=CONTENT_TYPE_LATEST)
