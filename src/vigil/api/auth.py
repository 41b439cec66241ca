"""Who is calling: the API key in ``Authorization: Bearer <key>`` (or ``?key=`` for the
Perspective drop-in, as its clients send it), its role, its platforms.

Every route names the roles it admits (:func:`role`); a platform's data is only reached
through :func:`platform_of`, which refuses a platform the key does not cover. Errors say
what is wrong with the request, never what exists on another platform: an item or decision
of another platform is simply "not found"."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from vigil.store.keys import ApiKey

#: The one route that also takes ``?key=`` (Perspective's clients send it so).
QUERY_KEY_PATH = "/v1alpha1/comments:analyze"
#: Declares ``?key=`` in the OpenAPI description of that route (read in current_key).
query_key = APIKeyQuery(name="key", auto_error=False,
                        description="The API key, as Perspective clients send it.")
bearer = HTTPBearer(auto_error=False, description="An API key: `vigil keys create`.")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_key(request: Request, cred: Credentials) -> ApiKey:
    """The request's live key (401 without one), after taking its rate-limit token.

    A coroutine, as the role checks below: FastAPI runs a plain ``def`` dependency in its
    thread pool, a thread hop per dependency per request, while this reads the database
    at most once a second per key (``VigilState.api_key``)."""
    return key_of(request, cred)


def key_of(request: Request, cred: HTTPAuthorizationCredentials | None) -> ApiKey:
    """:func:`current_key` for a route that asks for a key only in some cases."""
    token = cred.credentials if cred is not None else None
    if token is None and request.url.path == QUERY_KEY_PATH:
        token = request.query_params.get("key")
    if not token:
        raise HTTPException(401, "missing API key (Authorization: Bearer <key>)",
                            headers={"WWW-Authenticate": "Bearer"})
    key: ApiKey | None = request.app.state.vigil.api_key(token)
    if key is None:
        raise HTTPException(401, "unknown or revoked API key",
                            headers={"WWW-Authenticate": "Bearer"})
    request.app.state.vigil.limiter.take(request, key.id)
    request.state.key_id = key.id
    return key


def role(*roles: str) -> Callable[..., Coroutine[None, None, ApiKey]]:
    """A dependency admitting keys of these roles (403 otherwise)."""

    async def check(key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
        if key.role not in roles:
            raise HTTPException(403, f"this route is for {', '.join(roles)} keys")
        return key

    return check


def platform_of(key: ApiKey, asked: str | None) -> str:
    """The platform a request acts on: the key's own, or for a key covering several (an
    auditor's), the one asked for, which it must cover."""
    if asked is None:
        if len(key.platforms) == 1 and key.platforms[0] != "*":
            return key.platforms[0]
        raise HTTPException(422, "this key covers several platforms: pass ?platform=")
    if not key.sees(asked):
        raise HTTPException(404, "not found")
    return asked


#: A key of any role.
AnyKey = Annotated[ApiKey, Depends(role("platform", "moderator", "admin", "auditor"))]
#: A key that may send items: the platform's service account or its admin.
WriterKey = Annotated[ApiKey, Depends(role("platform", "admin"))]
