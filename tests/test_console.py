"""The console: signing in (sessions, CSRF), every route × every kind of user × both
tenants (a table that fails when a route is added without a row), the review flow through
the pages, reviewer wellness, the policy diff and shadow mode, the audit log's
verification, the dashboard's numbers and the ``vigil users`` commands."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Mount

from tests.conftest import KeywordDetector
from vigil.api import Settings, create_app
from vigil.items import Item
from vigil.review import Reviewer
from vigil.store import Store
from vigil.store import users as userstore

PLATFORMS = ("chirp", "weiqun")
PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 6, 1, tzinfo=UTC)
OPS = ("claim", "escalate", "decide")
SPARE = 4
CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass(frozen=True)
class Person:
    """A console user of the matrix (``role`` None: nobody is signed in)."""

    name: str
    role: str | None = None
    platforms: tuple[str, ...] = ()

    def sees(self, platform: str) -> bool:
        return "*" in self.platforms or platform in self.platforms


PEOPLE = [
    Person("chirp-mod", "moderator", ("chirp",)),
    Person("weiqun-mod", "moderator", ("weiqun",)),
    Person("both-mod", "moderator", ("chirp", "weiqun")),
    Person("chirp-admin", "admin", ("chirp",)),
    Person("root-admin", "admin", ("*",)),
    Person("chirp-auditor", "auditor", ("chirp",)),
    Person("all-auditor", "auditor", ("*",)),
    Person("nobody"),
]
BY_NAME = {p.name: p for p in PEOPLE}
SIGNED = [p for p in PEOPLE if p.role is not None]


def login(app: FastAPI, name: str, password: str = PASSWORD,
          base_url: str = "http://testserver") -> tuple[TestClient, Response]:
    """A client of its own (its own cookies) after posting the login form."""
    client = TestClient(app, base_url=base_url)
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token, page.text
    r = client.post("/login", data={"csrf": token.group(1), "username": name,
                                    "password": password}, follow_redirects=False)
    return client, r


def csrf_of(client: TestClient) -> str:
    found = CSRF.search(client.get("/settings").text)
    assert found
    return found.group(1)


@dataclass
class World:
    store: Store
    app: FastAPI
    clients: dict[str, TestClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)
    case: dict[str, str] = field(default_factory=dict)          # platform -> a review case
    appeal: dict[str, str] = field(default_factory=dict)        # platform -> an appeal case
    account: dict[str, str] = field(default_factory=dict)       # platform -> an account
    cluster: dict[str, str] = field(default_factory=dict)       # platform -> a cluster
    own_case: dict[tuple[str, str, str], str] = field(default_factory=dict)
    spare: dict[str, list[str]] = field(default_factory=dict)   # platform -> review cases
    secrets: dict[str, set[str]] = field(default_factory=dict)  # platform -> its strings
    policy_version: str = ""

    def request(self, person: str, method: str, url: str,
                form: dict[str, str] | None = None, *, csrf: bool = True) -> Response:
        client = self.clients[person]
        if method == "GET":
            return client.get(url, follow_redirects=False)
        data = dict(form or {})
        if csrf:
            data["csrf"] = self.csrf.get(person, "")
        return client.post(url, data=data, follow_redirects=False)

    def claim_for(self, person: str, case_id: str) -> None:
        """Claim a case in the store as ``person``'s reviewer (as the claim button does)."""
        self.store.claim_case(case_id, Reviewer(f"user.{person}", person), 15)


def _items(pf: str) -> list[Item]:
    out = [
        # review band (spam 0.6), with a masked term and a span to highlight
        Item(id=f"{pf}-review", account=f"{pf}-only-alice", platform=pf,
             text=f"{pf}-only note: cheapdeal for you, dickhead", created_at=T0),
        # removed at once (spam 0.95): a decision to appeal
        Item(id=f"{pf}-spam", account=f"{pf}-only-bob", platform=pf,
             text=f"{pf}-only buynow at the mall", created_at=T0 + timedelta(hours=1)),
    ]
    for op in OPS:
        for p in SIGNED:
            out.append(Item(id=f"{pf}-{op}-{p.name}", account=f"{pf}-only-{op}-{p.name}",
                            platform=pf, text=f"{pf}-only cheapdeal kept for {op} by {p.name}",
                            created_at=T0 + timedelta(hours=2)))
    for k in range(SPARE):  # for the tests that are not part of the matrix
        out.append(Item(id=f"{pf}-spare-{k}", account=f"{pf}-only-spare", platform=pf,
                        text=f"{pf}-only cheapdeal spare {k}", created_at=T0))
    for k in range(5):  # five accounts, one link, one hour: a cluster
        out.append(Item(id=f"{pf}-ring-{k}", account=f"{pf}-only-ring-{k}", platform=pf,
                        text=f"great offers at https://{pf}-only-promo.example/deal now {k}",
                        created_at=T0 + timedelta(hours=3, minutes=k)))
    return out


def build_world(url: str) -> World:
    store = Store(url)
    app = create_app(store, Settings(claims=False), detectors=[KeywordDetector()])
    state = app.state.vigil
    w = World(store, app, policy_version=state.policy.version)
    now = datetime.now(UTC)
    for pf in PLATFORMS:
        state.audit(_items(pf))
        open_cases = {c["item_id"]: c["id"] for c in store.cases([pf], limit=1000)}
        w.case[pf] = open_cases[f"{pf}-review"]
        for op in OPS:
            for p in SIGNED:
                w.own_case[(pf, op, p.name)] = open_cases[f"{pf}-{op}-{p.name}"]
        w.spare[pf] = [open_cases[f"{pf}-spare-{k}"] for k in range(SPARE)]
        spam = store.item_verdicts(pf, [f"{pf}-spam"])[f"{pf}-spam"]
        decision = next(d for d in spam["decisions"] if d["kind"] == "item")
        w.appeal[pf] = store.appeal(store.decision(decision["id"]) or {}, "it was a joke",
                                    "bob", state.policy)["id"]
        w.account[pf] = f"{pf}-only-alice"
        found = store.clusters(pf)
        assert found, "the ring of five accounts forms a cluster"
        w.cluster[pf] = found[0]["id"]
        w.secrets[pf] = {f"{pf}-only", w.case[pf], w.appeal[pf], w.cluster[pf]}
    with store.begin() as conn:
        for p in SIGNED:
            assert p.role is not None
            userstore.create(conn, p.name, p.role, p.platforms, PASSWORD, now)
        userstore.create(conn, "gone", "moderator", ("chirp",), PASSWORD, now)
        userstore.disable(conn, "gone", now)
    for p in SIGNED:
        client, r = login(app, p.name)
        assert r.status_code == 303, r.text
        w.clients[p.name] = client
        w.csrf[p.name] = csrf_of(client)
    w.clients["nobody"] = TestClient(app)
    return w


@pytest.fixture(name="world", scope="module")
def world_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("console")
    w = build_world(f"sqlite:///{path}/console.db")
    yield w
    for c in w.clients.values():
        c.close()
    w.store.close()


# ---------------------------------------------------------------------------- the matrix

Outcome = int | str   # a status, "done" (303 elsewhere) or "login" (303 to the login form)
Expect = Callable[[Person], Outcome]
Build = Callable[[World, Person], tuple[str, dict[str, str] | None]]   # url, form (POST)
NO_ID = "0" * 24
REVIEWERS = ("moderator", "admin")
EVERYONE = ("moderator", "admin", "auditor")
LOG_READERS = ("admin", "auditor")


def page(roles: tuple[str, ...], platform: str | None = None, *, missing: bool = False,
         success: Outcome = 200) -> Expect:
    """Signed in, of one of ``roles``, granted ``platform`` (when the page is about one),
    the page exists (``missing``: it never does) → ``success``."""
    def expect(p: Person) -> Outcome:
        if p.role is None:
            return "login"
        if p.role not in roles:
            return 403
        if missing or (platform is not None and not p.sees(platform)):
            return 404
        return success
    return expect


def public(_: Person) -> Outcome:
    return 200


def home(p: Person) -> Outcome:
    return "login" if p.role is None else "done"


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    route: str     # the route's path template, as the console lists it
    build: Build
    expect: Expect


def _get(url: str) -> Build:
    return lambda w, p: (url, None)


def _case(kind: str, pf: str | None) -> Build:
    def build(w: World, p: Person) -> tuple[str, dict[str, str] | None]:
        if pf is None:
            return f"/cases/{NO_ID}", None
        return f"/cases/{(w.case if kind == 'review' else w.appeal)[pf]}", None
    return build


def _case_op(op: str, pf: str) -> Build:
    forms = {"claim": {}, "escalate": {"reason": "matrix escalation"},
             "decide": {"action": "remove", "template": "spam/promo"}}

    def build(w: World, p: Person) -> tuple[str, dict[str, str] | None]:
        case = w.own_case.get((pf, op, p.name), w.case[pf])
        if op != "claim" and p.role is not None:
            w.claim_for(p.name, case)
        return f"/cases/{case}/{op}", forms[op]
    return build


def _account(pf: str, of: str) -> Build:
    return lambda w, p: (f"/accounts/{pf}/{w.account[of]}", None)


def _cluster(pf: str | None) -> Build:
    return lambda w, p: (f"/clusters/{w.cluster[pf] if pf else NO_ID}", None)


def _policy_diff(w: World, p: Person) -> tuple[str, dict[str, str] | None]:
    v = w.policy_version
    return f"/policy?a={v}&b={v}", None


#: the reports page's downloads -> their media type
REPORT_FILES = {"transparency.html": "text/html", "transparency.csv": "text/csv",
                "counts.csv": "text/csv", "counts.json": "application/json"}
CASE, ACCOUNT, CLUSTER = "/cases/{case_id}", "/accounts/{platform}/{account}", \
    "/clusters/{cluster_id}"
ROWS = [
    Row("home", "GET", "/", _get("/"), home),
    Row("settings", "GET", "/settings", _get("/settings"), page(EVERYONE)),
    Row("save settings", "POST", "/settings", lambda w, p: ("/settings", {"wellness": "on"}),
        page(EVERYONE, success="done")),
    Row("queue", "GET", "/queue", _get("/queue"), page(REVIEWERS)),
    *(Row(f"queue of {pf}", "GET", "/queue", _get(f"/queue?platform={pf}"),
          page(REVIEWERS, pf)) for pf in (*PLATFORMS, "nosuch")),
    Row("queue filtered", "GET", "/queue",
        _get("/queue?source=trusted&category=spam&age=gt1d"), page(REVIEWERS)),
    *(Row(f"{pf} case", "GET", CASE, _case("review", pf), page(REVIEWERS, pf))
      for pf in PLATFORMS),
    *(Row(f"{pf} appeal", "GET", CASE, _case("appeal", pf), page(REVIEWERS, pf))
      for pf in PLATFORMS),
    Row("missing case", "GET", CASE, _case("review", None), page(REVIEWERS, missing=True)),
    *(Row(f"{op} {pf} case", "POST", f"{CASE}/{op}", _case_op(op, pf),
          page(REVIEWERS, pf, success="done")) for op in OPS for pf in PLATFORMS),
    Row("appeals", "GET", "/appeals", _get("/appeals"), page(REVIEWERS)),
    Row("appeals of weiqun", "GET", "/appeals", _get("/appeals?platform=weiqun"),
        page(REVIEWERS, "weiqun")),
    *(Row(f"{pf} account", "GET", ACCOUNT, _account(pf, pf), page(REVIEWERS, pf))
      for pf in PLATFORMS),
    Row("weiqun account under chirp", "GET", ACCOUNT, _account("chirp", "weiqun"),
        page(REVIEWERS, missing=True)),
    Row("missing account", "GET", ACCOUNT, _get("/accounts/chirp/nobody-at-all"),
        page(REVIEWERS, missing=True)),
    Row("clusters", "GET", "/clusters", _get("/clusters"), page(EVERYONE)),
    Row("clusters of weiqun", "GET", "/clusters", _get("/clusters?platform=weiqun"),
        page(EVERYONE, "weiqun")),
    *(Row(f"{pf} cluster", "GET", CLUSTER, _cluster(pf), page(REVIEWERS, pf))
      for pf in PLATFORMS),
    Row("missing cluster", "GET", CLUSTER, _cluster(None), page(REVIEWERS, missing=True)),
    Row("policy", "GET", "/policy", _get("/policy"), page(EVERYONE)),
    Row("policy diff", "GET", "/policy", _policy_diff, page(EVERYONE)),
    Row("policy diff of unknown versions", "GET", "/policy", _get("/policy?a=x&b=y"),
        page(EVERYONE, missing=True)),
    Row("log", "GET", "/log", _get("/log"), page(LOG_READERS)),
    Row("log older", "GET", "/log", _get("/log?before=10"), page(LOG_READERS)),
    Row("verify log", "POST", "/log/verify", lambda w, p: ("/log/verify", {}),
        page(LOG_READERS)),
    Row("dashboard", "GET", "/dashboard", _get("/dashboard"), page(EVERYONE)),
    Row("dashboard of weiqun", "GET", "/dashboard", _get("/dashboard?platform=weiqun"),
        page(EVERYONE, "weiqun")),
    Row("reports", "GET", "/reports", _get("/reports"), page(LOG_READERS)),
    *(Row(f"reports of {pf}", "GET", "/reports",
          _get(f"/reports?platform={pf}&since=2026-01-01&until=2026-12-31&period=week"),
          page(LOG_READERS, pf)) for pf in (*PLATFORMS, "nosuch")),
    *(Row(f"{what} of {pf or 'mine'}", "GET", f"/reports/{what}",
          _get(f"/reports/{what}?platform={pf}&period=quarter"),
          page(LOG_READERS, pf or None)) for what in REPORT_FILES
      for pf in ("", "weiqun", "nosuch")),
    Row("static css", "GET", "/static", _get("/static/console.css"), public),
    Row("static js", "GET", "/static", _get("/static/console.js"), public),
]
ROW_BY_ID = {r.id: r for r in ROWS}
assert len(ROW_BY_ID) == len(ROWS)
#: routes with tests of their own below (signing in and out changes the session)
SEPARATE = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}


def console_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the console serves ("GET" for a mount)."""
    console = app.state.vigil_console
    try:
        from fastapi.routing import iter_route_contexts
        routes: list[Any] = [getattr(c, "route", c) for c in
                             iter_route_contexts(console.routes)]
    except ImportError:
        routes = list(console.routes)
    out: set[tuple[str, str]] = set()
    for r in routes:
        path, methods = getattr(r, "path", None), getattr(r, "methods", None)
        assert path, f"{r!r}: a route without a path; add it to the matrix"
        if isinstance(r, Mount):
            out.add(("GET", path))
        else:
            assert methods
            out |= {(m, path) for m in (set(methods) - {"HEAD"} or set(methods))}
    return out


def test_every_console_route_is_in_the_table(world: World) -> None:
    served = console_routes(world.app) - {("GET", "/openapi.json"), ("GET", "/docs"),
                                          ("GET", "/redoc"), ("GET", "/docs/oauth2-redirect")}
    covered = {(r.method, r.route) for r in ROWS} | SEPARATE
    assert served - covered == set(), "console routes missing from the ROWS table"
    assert covered - served == set(), "table rows for routes the console does not serve"
    assert not {("GET", "/openapi.json"), ("GET", "/docs")} & console_routes(world.app)


def outcome(r: Response) -> Outcome:
    if r.status_code == 303:
        return "login" if r.headers["location"].startswith("/login") else "done"
    return r.status_code


@pytest.mark.parametrize("person", [p.name for p in PEOPLE])
@pytest.mark.parametrize("row_id", [r.id for r in ROWS])
def test_matrix(world: World, row_id: str, person: str) -> None:
    row, p = ROW_BY_ID[row_id], BY_NAME[person]
    url, form = row.build(world, p)
    r = world.request(person, row.method, url, form)
    expected = row.expect(p)
    assert outcome(r) == expected, f"{row.method} {url}: {r.status_code} " \
                                    f"{r.headers.get('location')} {r.text[:300]}"
    if isinstance(expected, int) and expected >= 400:
        # a refusal names nothing stored, on any platform
        assert not [s for pf in PLATFORMS for s in world.secrets[pf] if s in r.text]
    elif r.status_code == 200:
        hidden = [pf for pf in PLATFORMS if not p.sees(pf)]
        leaked = [s for pf in hidden for s in world.secrets[pf] if s in r.text]
        assert leaked == [], f"{url} shows another platform's data to {person}"
    assert not re.search(r"(built-in|bound) method", r.text)  # no dict.items
    download = url.split("?")[0].removeprefix("/reports/")
    if r.status_code == 200 and download in REPORT_FILES:
        assert r.headers["content-type"].startswith(REPORT_FILES[download])
        assert r.headers["content-disposition"].startswith('attachment; filename="')
    elif r.status_code == 200 and not url.startswith("/static"):
        assert r.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("person", ["chirp-mod", "chirp-admin", "weiqun-mod"])
def test_another_platforms_objects_look_exactly_like_missing_ones(world: World,
                                                                  person: str) -> None:
    p = BY_NAME[person]
    other = next(pf for pf in PLATFORMS if not p.sees(pf))
    groups = [
        [f"/cases/{world.case[other]}", f"/cases/{world.appeal[other]}", f"/cases/{NO_ID}"],
        [f"/accounts/{other}/{world.account[other]}", f"/accounts/{other}/nobody",
         "/accounts/nosuch/nobody"],
        [f"/clusters/{world.cluster[other]}", f"/clusters/{NO_ID}"],
        [f"/queue?platform={other}", "/queue?platform=nosuch"],
    ]
    for urls in groups:
        got = [world.request(person, "GET", u) for u in urls]
        assert {r.status_code for r in got} == {404}
        assert len({r.content for r in got}) == 1, urls
        assert len({tuple(sorted(r.headers.items())) for r in got}) == 1, urls
    for op in OPS:
        r = world.request(person, "POST", f"/cases/{world.case[other]}/{op}",
                          {"reason": "x", "action": "allow"})
        assert r.status_code == 404


# ---------------------------------------------------------------------------- sessions


def _decide_flow(w: World) -> None:
    """Claim from the queue, decide with a template: the store, the account page and the
    log all show it."""
    client, csrf = w.clients["chirp-mod"], w.csrf["chirp-mod"]
    case = w.case["chirp"]
    queue = client.get("/queue").text
    assert f'action="/cases/{case}/claim"' in queue
    r = client.post(f"/cases/{case}/decide", data={"csrf": csrf, "action": "remove",
                                                   "template": "spam/promo"},
                    follow_redirects=False)
    assert r.status_code == 409 and "claim the case first" in r.text
    r = client.post(f"/cases/{case}/claim", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case}"
    held = w.store.case(case)
    assert held is not None and held["assignee"] == "reviewer:user.chirp-mod"
    # another reviewer cannot take it while it is held
    r = w.request("chirp-admin", "POST", f"/cases/{case}/claim", {})
    assert r.status_code == 409 and "claimed by another reviewer" in r.text
    page_ = client.get(f"/cases/{case}").text
    assert 'data-key="r"' in page_ and "Remove (r)" in page_
    r = client.post(f"/cases/{case}/decide", data={"csrf": csrf, "action": "remove",
                                                   "template": "spam/promo",
                                                   "reason": "seen it before"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    closed = w.store.case(case)
    assert closed is not None and (closed["status"], closed["outcome"]) == ("closed",
                                                                            "remove")
    did = closed["outcome_decision"]
    d = w.store.decision(did)
    assert d is not None
    assert (d["action"], d["category"], d["actor"], d["automated"]) == (
        "remove", "spam", "reviewer:user.chirp-mod", False)
    assert d["reasons"]["facts"] == ("Unsolicited commercial promotion or contact-information"
                                     " bait. seen it before")
    verdict = w.store.item_verdicts("chirp", ["chirp-review"])["chirp-review"]
    assert (verdict["action"], verdict["review"]) == ("remove", False)
    account = client.get(f"/accounts/chirp/{w.account['chirp']}").text
    assert f'data-decision="{did}"' in account and "reviewer:user.chirp-mod" in account
    log = w.clients["root-admin"].get("/log").text
    assert did in log and "remove spam by reviewer:user.chirp-mod" in log
    assert w.store.verify_log().ok


def test_claim_then_decide_changes_the_store(world: World) -> None:
    _decide_flow(world)


@pytest.mark.slow
def test_claim_then_decide_on_both_databases(store_url: str) -> None:
    w = build_world(store_url)
    try:
        _decide_flow(w)
    finally:
        w.store.close()


def test_an_appeal_is_resolved_from_its_case_page(world: World) -> None:
    case = world.appeal["weiqun"]
    client, csrf = world.clients["weiqun-mod"], world.csrf["weiqun-mod"]
    page_ = client.get(f"/cases/{case}").text
    assert "The decision appealed" in page_ and "it was a joke" in page_
    client.post(f"/cases/{case}/claim", data={"csrf": csrf})
    r = client.post(f"/cases/{case}/decide", data={"csrf": csrf, "action": "remove",
                                                   "template": "spam/promo"},
                    follow_redirects=False)
    assert r.status_code == 422 and "upheld or overturned" in r.text
    r = client.post(f"/cases/{case}/decide", data={"csrf": csrf, "outcome": "overturned",
                                                   "template": "none/no_violation"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    verdict = world.store.item_verdicts("weiqun", ["weiqun-spam"])["weiqun-spam"]
    assert verdict["action"] == "allow"
    assert "overturned" in client.get("/appeals").text


def test_escalate_moves_the_case_to_the_escalation_queue(world: World) -> None:
    case = world.spare["weiqun"][1]
    world.claim_for("both-mod", case)
    r = world.request("both-mod", "POST", f"/cases/{case}/escalate", {"reason": ""})
    assert r.status_code == 422
    r = world.request("both-mod", "POST", f"/cases/{case}/escalate",
                      {"reason": "needs a second look"})
    assert r.status_code == 303
    found = world.store.case(case)
    assert found is not None and found["queue"] == "escalated"


def test_a_decision_needs_a_reason(world: World) -> None:
    case = world.spare["chirp"][0]
    world.claim_for("root-admin", case)
    r = world.request("root-admin", "POST", f"/cases/{case}/decide", {"action": "remove"})
    assert r.status_code == 422 and "give a reason" in r.text
    r = world.request("root-admin", "POST", f"/cases/{case}/decide",
                      {"action": "remove", "template": "spam/nonsense"})
    assert r.status_code == 422 and "unknown template" in r.text
    r = world.request("root-admin", "POST", f"/cases/{case}/decide",
                      {"action": "delete", "template": "spam/promo"})
    assert r.status_code == 422
    found = world.store.case(case)
    assert found is not None and found["status"] == "open"


def test_queue_filters(world: World) -> None:
    client = world.clients["both-mod"]
    appeals = client.get("/queue", params={"source": "appeal"}).text
    assert world.appeal["chirp"] in appeals and world.own_case[
        ("chirp", "claim", "chirp-mod")] not in appeals
    reviews = client.get("/queue", params={"source": "review", "platform": "weiqun"}).text
    assert world.own_case[("weiqun", "claim", "chirp-mod")] in reviews
    assert world.appeal["weiqun"] not in reviews and "chirp-only" not in reviews
    # the seeded cases were opened just now: none has waited over a week
    assert "No open cases match." in client.get("/queue", params={"age": "gt7d"}).text
    assert "No open cases match." in client.get("/queue",
                                                params={"category": "violence"}).text


def test_the_case_page_shows_evidence_signals_history_and_shortcuts(world: World) -> None:
    case = world.spare["chirp"][2]
    text = world.clients["chirp-admin"].get(f"/cases/{case}").text
    assert '<mark title="spam: keyword cheapdeal">cheapdeal</mark>' in text
    assert "keywords" in text and "0.60" in text            # the signal and its score
    assert "Account history" in text
    assert 'id="keys"' in text and "<kbd>c</kbd>" in text and "<kbd>j / k</kbd>" in text


def test_the_case_page_shows_the_cluster_and_near_duplicates(world: World) -> None:
    # the ring's items got a coordination signal in the review band: each has a case
    case = next(c for c in world.store.cases(["chirp"], limit=1000)
                if c["item_id"] == "chirp-ring-2")
    text = world.clients["chirp-mod"].get(f"/cases/{case['id']}").text
    assert f"/clusters/{world.cluster['chirp']}" in text
    # near-identical texts of other accounts (the same fingerprint group)
    assert "chirp-ring-1" in text and "chirp-ring-3" in text
