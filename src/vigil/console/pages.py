"""Signing in and out, the home redirect, the user's settings."""

from __future__ import annotations

import hmac
from contextlib import suppress
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from vigil.console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    FormData,
    Post,
    Signed,
    clear_cookie,
    current_session,
    home_of,
    new_login_csrf,
    redirect,
    render,
    safe_next,
    set_cookie,
)
from vigil.store import users as userstore
from vigil.store.users import SESSION_HOURS

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    found = current_session(request)
    return redirect(home_of(found.user) if found is not None else "/login")


def _login_form(request: Request, next_path: str, status: int = 200,
                error: str = "") -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", None, status_code=status, login_csrf=token,
                      next_path=next_path, error=error)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    found = current_session(request)
    if found is not None:
        return redirect(safe_next(next, home_of(found.user)))
    return _login_form(request, safe_next(next, ""))


@router.post("/login")
def login(request: Request, form: FormData) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    next_path = safe_next(form.get("next"), "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return _login_form(request, next_path, 403,
                           "The form expired. Sign in again.")
    store = request.app.state.vigil.store
    failures = request.app.state.vigil.login_failures
    name = form.get("username", "").strip()
    buckets = (f"user:{name.lower()}",
               f"addr:{request.client.host if request.client else '-'}")
    wait = max(failures.wait(b) for b in buckets)
    if wait:  # too many failed attempts for this name or from this address
        response = _login_form(request, next_path, 429,
                               "Too many failed sign-ins. Try again in "
                               f"{max(1, round(wait / 60))} minute(s).")
        response.headers["Retry-After"] = str(wait)
        return response
    now = datetime.now(UTC)
    with store.read() as conn:
        user = userstore.authenticate(conn, name, form.get("password", ""))
    if user is None:
        for b in buckets:
            with suppress(HTTPException):
                failures.take(None, b)
        # unknown user, wrong password and disabled user read the same
        return _login_form(request, next_path, 401, "Wrong user name or password.")
    with store.begin() as conn:
        token, _ = userstore.open_session(conn, user.username, now)
    response = redirect(safe_next(next_path, home_of(user)))
    set_cookie(response, request, SESSION_COOKIE, token, max_age=int(SESSION_HOURS * 3600))
    clear_cookie(response, request, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, post: Post) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    with request.app.state.vigil.store.begin() as conn:
        userstore.close_session(conn, token)
    response = redirect("/login")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@router.get("/settings")
def settings_page(request: Request, session: Signed, saved: str | None = None) -> Response:
    return render(request, "settings.html", session, saved=bool(saved))


@router.post("/settings")
def save_settings(request: Request, post: Post) -> Response:
    on = post.form.get("wellness") == "on"
    with request.app.state.vigil.store.begin() as conn:
        userstore.set_wellness(conn, post.user.username, on, datetime.now(UTC))
    return redirect("/settings?saved=1")
