"""What every console page shares: the templates, the signed-in user, CSRF-checked forms,
role and tenant checks.

A request is signed in by the ``vigil_session`` cookie (HttpOnly, SameSite=Strict, Secure
when configured): a random token whose SHA-256 names a row of ``user_sessions``. Every
POST form carries the session's CSRF token (``csrf``); the login form, before there is a
session, carries one that must equal the ``vigil_login_csrf`` cookie. A page names the
roles it admits (:func:`need`: 403 otherwise); an object of a platform the user is not
granted answers exactly as one that does not exist (404).
"""

from __future__ import annotations

import hmac
import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vigil.console import text as textmod
from vigil.store.users import Session, User
from vigil.store.users import session as find_session

SESSION_COOKIE = "vigil_session"
LOGIN_CSRF_COOKIE = "vigil_login_csrf"
MAX_FORM_BYTES = 64 * 1024


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass
class ConsoleConfig:
    """Console settings: ``secure_cookies`` sets the cookies' Secure flag (serve the
    console over HTTPS when it is on)."""

    secure_cookies: bool = False


def environment() -> Environment:
    env = Environment(loader=PackageLoader("vigil.console", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["short"] = lambda s, n=12: (s or "")[:n]
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f} %"
    env.filters["urlq"] = lambda s: quote(str(s), safe="")
    return env


def _when(dt: datetime | None) -> str:
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Shown:
    """Renders texts on one page: highlighted evidence, slurs masked when the user keeps
    the wellness setting on (each masked term its own reveal group)."""

    def __init__(self, mask: bool) -> None:
        self.mask = mask
        self._n = itertools.count()

    def __call__(self, text: str | None, evidence: Any = ()) -> Markup:
        return textmod.render(text or "", evidence, mask=self.mask,
                              prefix=f"t{next(self._n)}-")

    def plain(self, text: str | None) -> str:
        return textmod.plain(text or "", mask=self.mask)


def render(request: Request, template: str, session: Session | None,
           status_code: int = 200, **data: Any) -> HTMLResponse:
    env: Environment = request.app.state.console_env
    user = session.user if session is not None else None
    ctx = {"user": user, "csrf": session.csrf if session is not None else "",
           "path": request.url.path, "show": Shown(user.wellness if user else True),
           **data}
    return HTMLResponse(env.get_template(template).render(ctx), status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _now() -> datetime:
    return datetime.now(UTC)


def current_session(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with request.app.state.vigil.store.read() as conn:
        return find_session(conn, token, _now())


def signed_in(request: Request) -> Session:
    """A dependency: the live session, or a redirect to the login form."""
    found = current_session(request)
    if found is None:
        path = request.url.path
        if request.method != "GET":
            path = "/"
        elif request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path)
    return found


Signed = Annotated[Session, Depends(signed_in)]


async def form_data(request: Request) -> dict[str, str]:
    """The posted form (application/x-www-form-urlencoded); the last value of a repeated
    field wins."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, "form too large")
    ctype = request.headers.get("content-type", "").split(";")[0].strip()
    if body and ctype != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise HTTPException(400, "the form is not UTF-8") from None


FormData = Annotated[dict[str, str], Depends(form_data)]


@dataclass(frozen=True)
class Posted:
    """A signed-in POST whose CSRF token checked out."""

    session: Session
    form: Mapping[str, str]

    @property
    def user(self) -> User:
        return self.session.user


def posted(session: Signed, form: FormData) -> Posted:
    if not hmac.compare_digest(form.get("csrf", "").encode(), session.csrf.encode()):
        raise HTTPException(403, "the form's CSRF token is missing or stale: reload the page")
    return Posted(session, form)


Post = Annotated[Posted, Depends(posted)]


def need(session: Session, *roles: str) -> User:
    """The user, when its role is one of ``roles`` (403 otherwise)."""
    if session.user.role not in roles:
        raise HTTPException(403, f"this page is for {', '.join(roles)} users")
    return session.user


def seen(user: User, platform: str | None) -> None:
    """404 unless ``user`` is granted ``platform``."""
    if platform is None or not user.sees(platform):
        raise HTTPException(404, "not found")


def scope_of(user: User, asked: str | None) -> list[str] | None:
    """The platforms a listing covers: the one asked for (which the user must be granted),
    else all the user's (None: every platform)."""
    if asked:
        seen(user, asked)
        return [asked]
    return user.scope()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int | None = None) -> None:
    config: ConsoleConfig = request.app.state.console_config
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=config.secure_cookies)


def clear_cookie(response: Response, request: Request, name: str) -> None:
    config: ConsoleConfig = request.app.state.console_config
    response.delete_cookie(name, path="/", httponly=True, samesite="strict",
                           secure=config.secure_cookies)


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to after login (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def home_of(user: User) -> str:
    return "/dashboard" if user.role == "auditor" else "/queue"


def int_arg(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value))) if value else default
    except ValueError:
        return default

