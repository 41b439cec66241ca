"""Console sign-in and sessions: the cookie, bad logins, logout, disabled users, expiry,
where a login returns to, and the CSRF token on every form. Uses the world of
tests/test_console.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import KeywordDetector
from tests.test_console import CSRF, PASSWORD, World, csrf_of, login, outcome, world_fixture
from vigil.api import Settings, create_app
from vigil.store import Store
from vigil.store import users as userstore

__all__ = ["world_fixture"]


def test_login_sets_a_strict_http_only_session_cookie(world: World) -> None:
    client, r = login(world.app, "chirp-mod")
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("vigil_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie
    assert client.get("/queue").status_code == 200
    client, r = login(world.app, "all-auditor")
    assert r.headers["location"] == "/dashboard"


def test_the_secure_flag_is_configurable(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/s.db")
    app = create_app(store, Settings(claims=False, relations=False),
                     detectors=[KeywordDetector()])
    from vigil.console import ConsoleConfig, create_console

    console = create_console(app.state.vigil, ConsoleConfig(secure_cookies=True))
    with store.begin() as conn:
        userstore.create(conn, "ann", "moderator", ("chirp",), PASSWORD, datetime.now(UTC))
    client, r = login(console, "ann", base_url="https://testserver")
    assert r.status_code == 303
    assert client.get("/queue").status_code == 200
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


@pytest.mark.parametrize(("name", "password"), [
    ("chirp-mod", "wrong password here"), ("no-such-user", PASSWORD), ("gone", PASSWORD),
    ("chirp-mod", ""), ("", "")])
def test_a_bad_login_reads_the_same_and_opens_no_session(world: World, name: str,
                                                         password: str) -> None:
    client, r = login(world.app, name, password)
    assert r.status_code == 401
    assert "Wrong user name or password." in r.text
    assert not [c for c in r.headers.get_list("set-cookie") if c.startswith("vigil_session=")]
    assert outcome(client.get("/queue", follow_redirects=False)) == "login"


def test_a_platform_service_account_cannot_be_a_console_user(world: World) -> None:
    with pytest.raises(ValueError, match="cannot sign in"), world.store.begin() as conn:
        userstore.create(conn, "svc", "platform", ("chirp",), PASSWORD, datetime.now(UTC))


def test_logout_ends_the_session_on_the_server(world: World) -> None:
    client, _ = login(world.app, "chirp-admin")
    token = client.cookies["vigil_session"]
    r = client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    again = TestClient(world.app, cookies={"vigil_session": token})
    assert outcome(again.get("/queue", follow_redirects=False)) == "login"


def test_disabling_a_user_ends_its_sessions(world: World) -> None:
    with world.store.begin() as conn:
        userstore.create(conn, "temp-mod", "moderator", ("chirp",), PASSWORD,
                         datetime.now(UTC))
    client, _r = login(world.app, "temp-mod")
    assert client.get("/queue").status_code == 200
    with world.store.begin() as conn:
        assert userstore.disable(conn, "temp-mod", datetime.now(UTC))
    assert outcome(client.get("/queue", follow_redirects=False)) == "login"
    assert login(world.app, "temp-mod")[1].status_code == 401


def test_an_expired_session_is_refused(world: World) -> None:
    with world.store.begin() as conn:
        token, _ = userstore.open_session(conn, "chirp-mod", datetime.now(UTC), hours=-1)
    client = TestClient(world.app, cookies={"vigil_session": token})
    assert outcome(client.get("/queue", follow_redirects=False)) == "login"


def test_login_returns_to_the_page_asked_for_and_only_to_this_site(world: World) -> None:
    client = TestClient(world.app)
    r = client.get(f"/cases/{world.case['chirp']}", follow_redirects=False)
    assert r.headers["location"] == f"/login?next=%2Fcases%2F{world.case['chirp']}"
    for target, lands in ((f"/cases/{world.case['chirp']}", f"/cases/{world.case['chirp']}"),
                          ("//evil.example/x", "/queue"), ("https://evil.example", "/queue")):
        client = TestClient(world.app)
        page_ = client.get("/login", params={"next": target})
        token = CSRF.search(page_.text)
        assert token
        r = client.post("/login", data={"csrf": token.group(1), "username": "chirp-mod",
                                        "password": PASSWORD, "next": target},
                        follow_redirects=False)
        assert r.headers["location"] == lands


# ---------------------------------------------------------------------------- CSRF


def test_posts_without_the_sessions_csrf_token_are_refused(world: World) -> None:
    case = world.spare["chirp"][1]
    before = world.store.case(case)
    for form, csrf in (({}, False), ({"csrf": "forged"}, False),
                       ({"csrf": world.csrf["chirp-admin"]}, False)):
        r = world.request("chirp-mod", "POST", f"/cases/{case}/claim", form, csrf=csrf)
        assert r.status_code == 403, r.text
        assert "CSRF" in r.text
    assert world.store.case(case) == before
    r = world.request("chirp-mod", "POST", "/settings", {"wellness": ""}, csrf=False)
    assert r.status_code == 403


def test_the_login_form_needs_its_csrf_cookie(world: World) -> None:
    client = TestClient(world.app)
    r = client.post("/login", data={"csrf": "x", "username": "chirp-mod",
                                    "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert not [c for c in r.headers.get_list("set-cookie") if c.startswith("vigil_session=")]


def test_a_json_body_is_not_a_form(world: World) -> None:
    client = world.clients["chirp-mod"]
    r = client.post("/settings", json={"csrf": world.csrf["chirp-mod"]},
                    follow_redirects=False)
    assert r.status_code == 415


# ---------------------------------------------------------------------------- review flow
