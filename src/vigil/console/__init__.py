"""The reviewer and auditor console: server-rendered pages over the same store and
library the API uses.

``mount(app, state)`` attaches it to the API app built by ``vigil.api.create_app``: the
console is an app of its own (its own routes, sessions instead of API keys, HTML errors)
that answers the paths it owns (``/``, ``/login``, ``/queue``, ``/cases/...``, ...), while
everything else goes on to the API. Pages:

- ``/login``, ``/logout``, ``/settings`` (the reviewer-wellness setting)
- ``/queue``: open cases by priority, with filters and claim; ``/cases/{id}``: the item
  with its evidence, signals, account history, near-duplicates and matched claims,
  decide, escalate, resolve an appeal; ``/appeals``; ``/accounts/{platform}/{account}``
- ``/clusters``, ``/clusters/{id}``: coordinated-posting clusters
- ``/policy``: versions, a diff between two, shadow-mode precision and recall
- ``/log``: the audit log, paged, with verification; ``/dashboard``: charts
- ``/reports``: the transparency report and the period counts, with downloads

See ``docs/console.md``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigil.console import pages, records, reports, review
from vigil.console.web import (
    ConsoleConfig,
    LoginRequired,
    current_session,
    environment,
    redirect,
    render,
)

if TYPE_CHECKING:
    from vigil.api import VigilState

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]

ROUTERS = (pages.router, review.router, records.router, reports.router)
STATIC = os.path.join(os.path.dirname(__file__), "static")
SECURITY_HEADERS = {
    # scripts and styles only from the console itself; pictures of reviewed items may be
    # anywhere on the web (they are blurred until revealed)
    "content-security-policy": "default-src 'self'; img-src 'self' data: https: http:; "
                               "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def create_console(state: VigilState, config: ConsoleConfig | None = None) -> FastAPI:
    """The console as an app of its own, over the API's shared state."""
    console = FastAPI(title="Vigil console", docs_url=None, redoc_url=None,
                      openapi_url=None)
    console.state.vigil = state
    console.state.console_env = environment()
    console.state.console_config = config or ConsoleConfig(
        secure_cookies=os.environ.get("VIGIL_SECURE_COOKIES", "") in ("1", "true", "yes"))
    for router in ROUTERS:
        console.include_router(router)
    console.mount("/static", StaticFiles(directory=STATIC), name="static")

    @console.exception_handler(LoginRequired)
    async def login_first(_: Request, exc: LoginRequired) -> Response:
        target = "/login" if exc.next_path in ("/", "") else \
            f"/login?next={quote(exc.next_path, safe='')}"
        return redirect(target)

    @console.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        # "not yours" reads exactly as "not there": a 404 shows nothing of the session
        session = current_session(request) if exc.status_code != 404 else None
        return render(request, "error.html", session, status_code=exc.status_code,
                      status=exc.status_code, message=str(exc.detail))

    @console.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers["cache-control"] = "no-store"
        return response

    return console


def owned_paths() -> frozenset[str]:
    """The first path segments the console answers ("" for ``/``)."""
    out = {"static"}
    for router in ROUTERS:
        for route in router.routes:
            out.add(str(getattr(route, "path", "")).strip("/").split("/", 1)[0])
    return frozenset(out)


class Dispatch:
    """ASGI middleware: requests for the console's paths go to the console, the rest to
    the app it wraps."""

    def __init__(self, app: ASGI, console: ASGI, owned: frozenset[str]) -> None:
        self.app = app
        self.console = console
        self.owned = owned

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            first = str(scope.get("path", "")).strip("/").split("/", 1)[0]
            if first in self.owned:
                await self.console(scope, receive, send)
                return
        await self.app(scope, receive, send)


def mount(app: FastAPI, state: VigilState, config: ConsoleConfig | None = None) -> FastAPI:
    """Serve the console from ``app`` (the API keeps every path the console does not
    own). Returns the console app (also ``app.state.vigil_console``)."""
    console = create_console(state, config)
    app.state.vigil_console = console
    app.add_middleware(Dispatch, console=console, owned=owned_paths())
    return console


__all__ = ["ConsoleConfig", "create_console", "mount"]
