"""Every route of the HTTP API × every kind of caller × both tenants.

Two platforms ("chirp", "weiqun") each get a platform, a moderator and an admin key; there
are auditor keys for chirp, for both and for "*", and callers that must be refused (no
key, a malformed one, an unknown one, a wrong secret, a revoked key, a valid token sent
with another auth scheme). Each (route, caller) pair has one expected status: 401 without
a valid key, 403 for the wrong role, 404 for another tenant's data (exactly as for data
that does not exist), 422 where a key covering several platforms must say which, 200
otherwise. Denied responses must not leak anything; the table must name every route the
app serves, so a new route fails here until it is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import Response

from tests.api_world import (  # noqa: F401 - world_fixture provides the `world` fixture
    ADMINS,
    BY_NAME,
    CALLERS,
    DELIVERY_READERS,
    NEVER,
    NO_ID,
    PLATFORMS,
    QUEUE_READERS,
    READERS,
    REVIEWERS,
    SEED,
    VALID,
    WRITERS,
    Caller,
    Principal,
    World,
    _bearer,
    world_fixture,
)

# ---------------------------------------------------------------------------- the table

Expect = Callable[[Principal | None], int]
Build = Callable[[World, Caller], tuple[str, dict[str, str], Any]]   # url, params, json


def public(_: Principal | None) -> int:
    return 200


def keyed(roles: tuple[str, ...], then: Callable[[Principal], int] = lambda p: 200) -> Expect:
    def expect(p: Principal | None) -> int:
        if p is None:
            return 401
        if p.role not in roles:
            return 403
        return then(p)
    return expect


def item_read(item_platform: str | None, asked: str | None) -> Callable[[Principal], int]:
    """GET /v1/items/{id}[?platform=asked] of an item stored on ``item_platform``."""
    def then(p: Principal) -> int:
        if asked is None:
            if p.several:
                return 422
            return 200 if p.platforms[0] == item_platform else 404
        if not p.sees(asked):
            return 404
        return 200 if asked == item_platform else 404
    return then


def queue_read(asked: str | None) -> Callable[[Principal], int]:
    """A listing (GET /v1/cases, /v1/deliveries) [?platform=asked]."""
    def then(p: Principal) -> int:
        if asked is None:
            return 422 if p.several else 200
        return 200 if p.sees(asked) else 404
    return then


def seen(platform: str | None) -> Callable[[Principal], int]:
    """Something stored on ``platform`` (None: nowhere), checked with key.sees."""
    return lambda p: 200 if platform is not None and p.sees(platform) else 404


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    route: str      # the route's path template, as the app lists it
    build: Build
    expect: Expect
    via: str = "header"   # or "query": the token as ?key=


def _get(url: str, params: dict[str, str] | None = None) -> Build:
    return lambda w, c: (url, dict(params or {}), None)


def _post(url: str, body: Any) -> Build:
    return lambda w, c: (url, {}, body)


def _item(item: str, asked: str | None = None) -> Build:
    return lambda w, c: (f"/v1/items/{item}", {"platform": asked} if asked else {}, None)


def _notice(kind: str, platform: str | None) -> Build:
    def build(w: World, c: Caller) -> tuple[str, dict[str, str], Any]:
        if platform is None:
            return f"/v1/decisions/{NO_ID}/notice", {}, None
        ids = w.item_decision if kind == "item" else w.account_decision
        return f"/v1/decisions/{ids[platform]}/notice", {}, None
    return build


def _post_item(w: World, c: Caller) -> tuple[str, dict[str, str], Any]:
    # "platform" in the body is ignored: an item goes to the key's own platform
    return "/v1/items", {}, {"id": f"posted-by-{c.name}", "account": "acct-matrix",
                             "text": "a quiet post from the matrix", "platform": "weiqun"}


def _case(platform: str | None) -> Build:
    return lambda w, c: (f"/v1/cases/{w.case[platform] if platform else NO_ID}", {}, None)


def _case_op(op: str, platform: str, body: Any = None) -> Build:
    """POST /v1/cases/{id}/{op} on the case reserved for this caller; escalate and decide
    first claim it with the same credentials (refused along with them where they are)."""
    def build(w: World, c: Caller) -> tuple[str, dict[str, str], Any]:
        case = w.own_case[(platform, op, c.name)]
        if op != "claim":
            w.request(c, "POST", f"/v1/cases/{case}/claim")
        return f"/v1/cases/{case}/{op}", {}, body
    return build


def _report(platform: str) -> Build:
    return lambda w, c: ("/v1/reports", {}, {
        "item_id": w.own_item[(platform, "report", c.name)], "reason": "matrix report"})


def _appeal(platform: str) -> Build:
    return lambda w, c: ("/v1/appeals", {}, {
        "decision_id": w.own_decision[(platform, "appeal", c.name)],
        "statement": "matrix appeal"})


MODERATION = {"input": ["buynow here", "a fine day"]}
ANALYZE = {"comment": {"text": "buynow here"}, "requestedAttributes": {"SPAM": {}}}
CHIRP_SPAM, WEIQUN_SPAM = SEED["chirp"][0][0], SEED["weiqun"][0][0]
ITEM = "/v1/items/{item_id}"
NOTICE = "/v1/decisions/{decision_id}/notice"
CASE = "/v1/cases/{case_id}"
DECIDE = {"action": "remove", "reason": "matrix decision"}
ESCALATE = {"reason": "matrix escalation"}

CASES = [
    Case("post item", "POST", "/v1/items", _post_item, keyed(WRITERS)),
    Case("chirp item", "GET", ITEM, _item(CHIRP_SPAM), keyed(READERS, item_read("chirp", None))),
    Case("weiqun item", "GET", ITEM, _item(WEIQUN_SPAM),
         keyed(READERS, item_read("weiqun", None))),
    Case("missing item", "GET", ITEM, _item(NEVER), keyed(READERS, item_read(None, None))),
    Case("chirp item ?platform=chirp", "GET", ITEM, _item(CHIRP_SPAM, "chirp"),
         keyed(READERS, item_read("chirp", "chirp"))),
    Case("weiqun item ?platform=weiqun", "GET", ITEM, _item(WEIQUN_SPAM, "weiqun"),
         keyed(READERS, item_read("weiqun", "weiqun"))),
    Case("weiqun item ?platform=chirp", "GET", ITEM, _item(WEIQUN_SPAM, "chirp"),
         keyed(READERS, item_read("weiqun", "chirp"))),
    Case("missing item ?platform=weiqun", "GET", ITEM, _item(NEVER, "weiqun"),
         keyed(READERS, item_read(None, "weiqun"))),
    Case("chirp item ?platform=*", "GET", ITEM, _item(CHIRP_SPAM, "*"),
         keyed(READERS, item_read("chirp", "*"))),
    Case("chirp item notice", "GET", NOTICE, _notice("item", "chirp"),
         keyed(READERS, seen("chirp"))),
    Case("chirp account notice", "GET", NOTICE, _notice("account", "chirp"),
         keyed(READERS, seen("chirp"))),
    Case("weiqun item notice", "GET", NOTICE, _notice("item", "weiqun"),
         keyed(READERS, seen("weiqun"))),
    Case("weiqun account notice", "GET", NOTICE, _notice("account", "weiqun"),
         keyed(READERS, seen("weiqun"))),
    Case("missing notice", "GET", NOTICE, _notice("item", None), keyed(READERS, seen(None))),
    Case("case queue", "GET", "/v1/cases", _get("/v1/cases"),
         keyed(QUEUE_READERS, queue_read(None))),
    Case("case queue ?platform=chirp", "GET", "/v1/cases",
         _get("/v1/cases", {"platform": "chirp"}), keyed(QUEUE_READERS, queue_read("chirp"))),
    Case("case queue ?platform=weiqun", "GET", "/v1/cases",
         _get("/v1/cases", {"platform": "weiqun"}), keyed(QUEUE_READERS, queue_read("weiqun"))),
    Case("chirp case", "GET", CASE, _case("chirp"), keyed(QUEUE_READERS, seen("chirp"))),
    Case("weiqun case", "GET", CASE, _case("weiqun"), keyed(QUEUE_READERS, seen("weiqun"))),
    Case("missing case", "GET", CASE, _case(None), keyed(QUEUE_READERS, seen(None))),
    *(Case(f"{op} {pf} case", "POST", f"{CASE}/{op}", _case_op(op, pf, body),
           keyed(REVIEWERS, seen(pf)))
      for op, body in (("claim", None), ("escalate", ESCALATE), ("decide", DECIDE))
      for pf in PLATFORMS),
    *(Case(f"report {pf} item", "POST", "/v1/reports", _report(pf),
           keyed(WRITERS, item_read(pf, None))) for pf in PLATFORMS),
    *(Case(f"appeal {pf} decision", "POST", "/v1/appeals", _appeal(pf),
           keyed(WRITERS, seen(pf))) for pf in PLATFORMS),
    Case("reason templates", "GET", "/v1/templates", _get("/v1/templates"), keyed(READERS)),
    Case("set webhook", "PUT", "/v1/webhook", lambda w, c: ("/v1/webhook", {}, {
        "url": f"https://{c.platforms[0] if c.platforms else 'no'}-only-hook.invalid/"
               f"set-by-{c.name}"}), keyed(ADMINS)),
    Case("read webhook", "GET", "/v1/webhook", _get("/v1/webhook"), keyed(ADMINS)),
    Case("deliveries", "GET", "/v1/deliveries", _get("/v1/deliveries"),
         keyed(DELIVERY_READERS, queue_read(None))),
    *(Case(f"deliveries ?platform={pf}", "GET", "/v1/deliveries",
           _get("/v1/deliveries", {"platform": pf}), keyed(DELIVERY_READERS, queue_read(pf)))
      for pf in PLATFORMS),
    Case("openai moderations", "POST", "/v1/moderations", _post("/v1/moderations", MODERATION),
         keyed(READERS)),
    Case("perspective analyze", "POST", "/v1alpha1/comments:analyze",
         _post("/v1alpha1/comments:analyze", ANALYZE), keyed(READERS)),
    Case("perspective analyze ?key=", "POST", "/v1alpha1/comments:analyze",
         _post("/v1alpha1/comments:analyze", ANALYZE), keyed(READERS), via="query"),
    Case("healthz", "GET", "/healthz", _get("/healthz"), public),
    Case("metrics", "GET", "/metrics", _get("/metrics"),
         keyed(("auditor",), lambda p: 200 if "*" in p.platforms else 403)),
    Case("openapi", "GET", "/openapi.json", _get("/openapi.json"), public),
    Case("swagger ui", "GET", "/docs", _get("/docs"), public),
    Case("swagger oauth2 redirect", "GET", "/docs/oauth2-redirect",
         _get("/docs/oauth2-redirect"), public),
    Case("redoc", "GET", "/redoc", _get("/redoc"), public),
]
CASE_BY_ID = {c.id: c for c in CASES}
assert len(CASE_BY_ID) == len(CASES)


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, HEAD aside (Starlette adds it to GET
    routes). Routers included with ``include_router`` are flattened."""
    try:  # recent FastAPI keeps included routers as nodes of app.routes
        from fastapi.routing import iter_route_contexts
        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # older FastAPI: app.routes is already flat
        routes = list(app.routes)
    out: set[tuple[str, str]] = set()
    for r in routes:
        path, methods = getattr(r, "path", None), getattr(r, "methods", None)
        assert path and methods, f"{r!r}: not an HTTP route with a path; add it to the matrix"
        out |= {(m, path) for m in (set(methods) - {"HEAD"} or set(methods))}
    return out


# ---------------------------------------------------------------------------- the tests


def test_every_route_is_in_the_table(world: World) -> None:
    served = served_routes(world.app)
    covered = {(c.method, c.route) for c in CASES}
    assert served - covered == set(), "routes missing from the matrix CASES table"
    assert covered - served == set(), "matrix entries for routes the app does not serve"


def _leaks(text: str, needles: set[str]) -> list[str]:
    return sorted(n for n in needles if n in text)


def _everything(r: Response) -> str:
    return r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items())


def _platforms_in(body: Any) -> set[str]:
    rows = body if isinstance(body, list) else [body]
    return {row["platform"] for row in rows if isinstance(row, dict) and "platform" in row}


@pytest.mark.parametrize("caller_name", [c.name for c in CALLERS])
@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_matrix(world: World, case_id: str, caller_name: str) -> None:
    case, caller = CASE_BY_ID[case_id], BY_NAME[caller_name]
    principal = caller.principal(case.via)
    url, params, body = case.build(world, caller)
    r = world.request(caller, case.method, url, via=case.via, params=params, json=body)
    expected = case.expect(principal)
    assert r.status_code == expected, f"{case.method} {url} {params}: {r.status_code} {r.text}"

    everything = _everything(r)
    # never a credential, in any response
    assert _leaks(everything, world.credentials) == []
    unseen = [pf for pf in PLATFORMS if principal is None or not principal.sees(pf)]
    if r.status_code >= 400:
        # nothing stored, on any platform, in a refusal (it names no item, account, text)
        assert _leaks(everything, set().union(*world.secrets.values())) == []
        assert r.headers["content-type"] == "application/json"
        assert set(r.json()) == {"detail"}
    elif case.route != "/metrics":   # /metrics: see test_metrics_stay_within_the_tenant
        assert _leaks(everything, set().union(*(world.secrets[pf] for pf in unseen))) == []
    if r.status_code == 401:
        assert r.headers.get("www-authenticate") == "Bearer"
    if r.status_code == 200 and r.headers["content-type"] == "application/json":
        assert principal is not None or case.expect is public
        assert all(principal is not None and principal.sees(pf)
                   for pf in _platforms_in(r.json()))

    if case.route == "/v1/items":
        stored = {pf: world.store.item_verdicts(pf, [body["id"]]) for pf in PLATFORMS}
        if r.status_code == 200:
            assert principal is not None
            own = principal.platforms[0]
            assert r.json()["platform"] == own
            assert [pf for pf, v in stored.items() if v] == [own]
        else:  # a refused write writes nothing
            assert stored == {pf: {} for pf in PLATFORMS}
    elif r.status_code == 200 and case.route in (ITEM, NOTICE, CASE):
        got = r.json()
        pf = params.get("platform") or ("weiqun" if "weiqun" in case.id else "chirp")
        assert got["platform"] == pf
        if case.route != NOTICE:
            assert got["id"] == url.rsplit("/", 1)[1]
    elif r.status_code == 200 and case.route in ("/v1/cases", "/v1/deliveries"):
        pf = params.get("platform") or (principal.platforms[0] if principal else "")
        assert r.json() and _platforms_in(r.json()) == {pf}
    elif r.status_code == 200 and case.route == "/v1/webhook":
        assert principal is not None and r.json()["platform"] == principal.platforms[0]
        # the signing secret is shown when it is set, never when it is read
        assert (r.json()["secret"] is None) == (case.method == "GET")


def test_the_leak_detector_finds_what_it_looks_for(world: World) -> None:
    """A positive control for the needles above: a tenant's own reads do contain them."""
    owner = BY_NAME["chirp-admin"]
    for url in (f"/v1/items/{CHIRP_SPAM}", f"/v1/decisions/{world.item_decision['chirp']}"
                "/notice", f"/v1/cases/{world.case['chirp']}", "/v1/deliveries",
                "/v1/webhook"):
        r = world.request(owner, "GET", url)
        assert r.status_code == 200, (url, r.text)
        assert _leaks(r.text, world.secrets["chirp"]), url
        assert not _leaks(r.text, world.secrets["weiqun"]), url


def _same_404(responses: list[Response]) -> None:
    first = responses[0]
    for r in responses:
        assert r.status_code == 404, (r.request.url, r.text)
        assert r.content == first.content
        assert sorted(r.headers.items()) == sorted(first.headers.items())


@pytest.mark.parametrize("caller_name", [c.name for c in VALID])
def test_other_tenants_data_looks_exactly_like_missing_data(world: World,
                                                            caller_name: str) -> None:
    """A 404 for "exists on another platform" is byte-identical to one for "does not
    exist at all" (and for a platform that does not exist)."""
    caller = BY_NAME[caller_name]
    p = caller.principal("header")
    assert p is not None

    def get(url: str, **params: str) -> Response:
        return world.request(caller, "GET", url, params=params)

    def post(url: str, body: Any) -> Response:
        return world.request(caller, "POST", url, json=body)

    groups: list[list[Response]] = []
    hidden = [pf for pf in PLATFORMS if not p.sees(pf)]
    for other in hidden:
        spam = SEED[other][0][0]
        groups.append([get(f"/v1/items/{spam}", platform=other),
                       get(f"/v1/items/{NEVER}", platform=other),
                       get(f"/v1/items/{spam}", platform="no-such-platform"),
                       get(f"/v1/items/{NEVER}", platform="no-such-platform"),
                       get(f"/v1/items/{spam}", platform="*"),
                       # and a 404 from a platform the key does see
                       get(f"/v1/items/{spam}", platform=p.platforms[0]),
                       get(f"/v1/items/{NEVER}", platform=p.platforms[0])])
        groups.append([get(f"/v1/decisions/{world.item_decision[other]}/notice"),
                       get(f"/v1/decisions/{world.account_decision[other]}/notice"),
                       get(f"/v1/decisions/{NO_ID}/notice"),
                       get("/v1/decisions/x/notice")])
        if not p.several:
            groups.append([get(f"/v1/items/{spam}"), get(f"/v1/items/{NEVER}")])
        if p.role in QUEUE_READERS:
            groups.append([get(f"/v1/cases/{world.case[other]}"), get(f"/v1/cases/{NO_ID}")])
            groups.append([get("/v1/cases", platform=other),
                           get("/v1/cases", platform="no-such-platform")])
        if p.role in DELIVERY_READERS:
            groups.append([get("/v1/deliveries", platform=other),
                           get("/v1/deliveries", platform="no-such-platform")])
        if p.role in REVIEWERS:
            mine = (other, "claim", caller.name)
            for op, body in (("claim", None), ("escalate", ESCALATE), ("decide", DECIDE)):
                groups.append([post(f"/v1/cases/{world.case[other]}/{op}", body),
                               post(f"/v1/cases/{world.own_case[mine]}/{op}", body),
                               post(f"/v1/cases/{NO_ID}/{op}", body)])
        if p.role in WRITERS:
            groups.append([post("/v1/reports", {"item_id": spam, "reason": "r"}),
                           post("/v1/reports", {"item_id": NEVER, "reason": "r"})])
            groups.append([post("/v1/appeals", {"decision_id": world.item_decision[other],
                                                "statement": "s"}),
                           post("/v1/appeals", {"decision_id": NO_ID, "statement": "s"})])
    if not hidden:   # sees everything: the chirp copy of a weiqun item is still "missing"
        groups.append([get(f"/v1/items/{WEIQUN_SPAM}", platform="chirp"),
                       get(f"/v1/items/{NEVER}", platform="chirp"),
                       get(f"/v1/items/{NEVER}", platform="no-such-platform")])
    for group in groups:
        _same_404(group)
        for r in group:
            assert _leaks(_everything(r), set().union(*world.secrets.values())) == []


@pytest.mark.parametrize("caller_name", ["chirp-platform", "chirp-moderator", "weiqun-admin",
                                         "auditor-chirp", "auditor-both", "auditor-all"])
def test_shared_item_id_reads_the_callers_own_platform(world: World, caller_name: str) -> None:
    caller = BY_NAME[caller_name]
    p = caller.principal("header")
    assert p is not None
    for pf in PLATFORMS:
        params = {"platform": pf} if p.several else {}
        if not p.several and p.platforms[0] != pf:
            continue
        r = world.request(caller, "GET", "/v1/items/shared-id", params=params)
        assert r.status_code == (200 if p.sees(pf) else 404), r.text
        if r.status_code == 200:
            got = r.json()
            assert (got["platform"], got["account"]) == (pf, SEED[pf][2][1])
            other = next(o for o in PLATFORMS if o != pf)
            assert _leaks(r.text, world.secrets[other]) == []


def test_idempotency_keys_are_per_api_key(world: World) -> None:
    """The same Idempotency-Key from two tenants is two requests: weiqun's replay must not
    hand back chirp's stored answer."""
    item = {"id": "idem-item", "account": "acct-idem", "text": "idempotent hello"}
    answers = {}
    for pf in PLATFORMS:
        r = world.client.post("/v1/items", json=item, headers={
            **_bearer(world.tokens[f"{pf}-platform"]), "Idempotency-Key": "same-key"})
        assert r.status_code == 200, r.text
        assert r.headers.get("idempotent-replayed") is None
        answers[pf] = r.json()
        assert answers[pf]["platform"] == pf
    r = world.client.post("/v1/items", json=item, headers={
        **_bearer(world.tokens["weiqun-platform"]), "Idempotency-Key": "same-key"})
    assert r.headers.get("idempotent-replayed") == "true"
    assert r.json() == answers["weiqun"]


# ------------------------------------------------------ findings (each was a bug, now fixed)


def _query_key_cases() -> list[tuple[str, str]]:
    """(case, a caller the case admits) for every keyed route but the Perspective one."""
    out = []
    for case in CASES:
        if case.via != "header" or case.expect is public:
            continue
        if case.route == "/v1alpha1/comments:analyze":
            continue
        admitted = [c for c in VALID if case.expect(c.principal("query")) == 200]
        if admitted:
            out.append((case.id, admitted[0].name))
    return out


@pytest.mark.parametrize(("case_id", "caller_name"), _query_key_cases())
def test_query_key_is_only_for_the_perspective_drop_in(world: World, case_id: str,
                                                       caller_name: str) -> None:
    case, caller = CASE_BY_ID[case_id], BY_NAME[caller_name]
    url, params, body = case.build(world, caller)
    r = world.request(caller, case.method, url, via="query", params=params, json=body)
    assert r.status_code == 401, f"{case.method} {url} accepted ?key=: {r.status_code}"


@pytest.mark.parametrize("caller_name", ["chirp-admin", "auditor-chirp"])
def test_metrics_stay_within_the_tenant(world: World, caller_name: str) -> None:
    """The metrics span every platform: a key of one platform does not get them."""
    r = world.request(BY_NAME[caller_name], "GET", "/metrics")
    assert r.status_code == 403
    assert 'platform="weiqun"' not in r.text


@pytest.mark.parametrize("platform", ["chirp,weiqun", "chirp,*"])
def test_a_platform_key_cannot_smuggle_a_second_platform(world: World, platform: str) -> None:
    try:
        key, token = world.store.create_api_key("platform", [platform], "smuggler")
    except ValueError:
        return
    r = world.client.get(f"/v1/items/{WEIQUN_SPAM}", params={"platform": "weiqun"},
                         headers=_bearer(token))
    assert key.platforms == (platform,) and r.status_code == 404, (key.platforms, r.text)
