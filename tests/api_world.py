"""The callers and the seeded world of ``test_api_matrix.py``: two platforms, their keys,
auditors, refused callers, and the items, decisions, cases and deliveries each route is
tried on."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import KeywordDetector
from vigil.api import Settings, create_app
from vigil.store import Store

PLATFORMS = ("chirp", "weiqun")
WRITERS = ("platform", "admin")
READERS = ("platform", "moderator", "admin", "auditor")
QUEUE_READERS = ("moderator", "admin", "auditor")
REVIEWERS = ("moderator", "admin")
ADMINS = ("admin",)
DELIVERY_READERS = ("admin", "auditor")
NEVER = "no-such-item-4d1c"          # an item id that exists on no platform
NO_ID = "0" * 24                     # a decision / case id that does not exist

# (id, account, text) per platform; the first one is spam (KeywordDetector: "buynow" →
# spam 0.95 → remove, plus an account warning). "shared-id" exists on both platforms.
SEED: dict[str, list[tuple[str, str, str]]] = {
    "chirp": [
        ("chirp-spam-8e21", "acct-chirp-alice", "chirp-only secret: buynow at alice-shop 8e21"),
        ("chirp-clean-8e21", "acct-chirp-carol", "chirp-only private lunch note 8e21"),
        ("shared-id", "acct-chirp-dave", "chirp side of the shared id 8e21"),
    ],
    "weiqun": [
        ("weiqun-spam-5b07", "acct-weiqun-bob", "weiqun-only secret: buynow at bob-mall 5b07"),
        ("weiqun-clean-5b07", "acct-weiqun-erin", "weiqun-only private tea note 5b07"),
        ("shared-id", "acct-weiqun-fang", "weiqun side of the shared id 5b07"),
    ],
}
# Routes that change a case or open one get a fresh target per (platform, caller): an
# item (spam, so it has a decision to appeal), reported so that it has an open case.
PURPOSES = ("claim", "escalate", "decide", "report", "appeal")


# ---------------------------------------------------------------------------- callers


@dataclass(frozen=True)
class Principal:
    """What a request authenticates as."""

    role: str
    platforms: tuple[str, ...]

    def sees(self, platform: str) -> bool:
        return "*" in self.platforms or platform in self.platforms

    @property
    def several(self) -> bool:
        """A key covering several platforms, which must pass ?platform=."""
        return len(self.platforms) != 1 or self.platforms[0] == "*"


@dataclass(frozen=True)
class Caller:
    """A row of the matrix. ``role``/``platforms`` describe the live key behind the token
    (``role`` None: there is none); ``scheme`` is the Authorization scheme it is sent with."""

    name: str
    role: str | None = None
    platforms: tuple[str, ...] = ()
    scheme: str = "Bearer"

    def principal(self, via: str) -> Principal | None:
        if self.role is None or (via == "header" and self.scheme != "Bearer"):
            return None
        return Principal(self.role, self.platforms)


CALLERS = [
    *(Caller(f"{pf}-{role}", role, (pf,)) for pf in PLATFORMS
      for role in ("platform", "moderator", "admin")),
    Caller("auditor-chirp", "auditor", ("chirp",)),
    Caller("auditor-both", "auditor", ("chirp", "weiqun")),
    Caller("auditor-all", "auditor", ("*",)),
    Caller("no-key"),
    Caller("malformed-key"),
    Caller("unknown-key"),
    Caller("wrong-secret"),
    Caller("revoked-key"),
    # chirp-admin's valid token, but as "Authorization: Basic ...": not a bearer key
    Caller("basic-scheme", "admin", ("chirp",), scheme="Basic"),
]
BY_NAME = {c.name: c for c in CALLERS}
VALID = [c for c in CALLERS if c.principal("header") is not None]


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    store: Store
    app: FastAPI
    client: TestClient
    tokens: dict[str, str | None]
    item_decision: dict[str, str] = field(default_factory=dict)      # platform -> id
    account_decision: dict[str, str] = field(default_factory=dict)   # platform -> id
    case: dict[str, str] = field(default_factory=dict)               # platform -> id
    # (platform, purpose, caller name) -> item id / its item decision / its case
    own_item: dict[tuple[str, str, str], str] = field(default_factory=dict)
    own_decision: dict[tuple[str, str, str], str] = field(default_factory=dict)
    own_case: dict[tuple[str, str, str], str] = field(default_factory=dict)
    secrets: dict[str, set[str]] = field(default_factory=dict)       # platform -> strings
    credentials: set[str] = field(default_factory=set)  # tokens, their secrets, hashes

    def request(self, caller: Caller, method: str, url: str, *, via: str = "header",
                params: dict[str, str] | None = None, json: Any = None) -> Response:
        token = self.tokens[caller.name]
        headers: dict[str, str] = {}
        params = dict(params or {})
        if token is not None:
            if via == "header":
                headers["Authorization"] = f"{caller.scheme} {token}"
            else:
                params["key"] = token
        return self.client.request(method, url, headers=headers, params=params, json=json)


def _bearer(token: str | None) -> dict[str, str]:
    assert token is not None
    return {"Authorization": f"Bearer {token}"}


def _seed(w: World, pf: str) -> None:
    """The platform's webhook (so decisions queue deliveries), its items (by its platform
    key), a report on its spam item, and the reserved items and cases."""
    auth = _bearer(w.tokens[f"{pf}-platform"])
    r = w.client.put("/v1/webhook", json={"url": f"https://{pf}-only-hook.invalid/seed"},
                     headers=_bearer(w.tokens[f"{pf}-admin"]))
    assert r.status_code == 200, r.text
    hook_secret = r.json()["secret"]
    rows = [{"id": i, "account": a, "text": t} for i, a, t in SEED[pf]]
    for purpose in PURPOSES:
        for c in CALLERS:
            key = (pf, purpose, c.name)
            item = f"{pf}-{purpose}-for-{c.name}"
            w.own_item[key] = item
            rows.append({"id": item, "account": f"acct-{item}",
                         "text": f"{pf}-only buynow reserved for {purpose} by {c.name}"})
    r = w.client.post("/v1/items", json=rows, headers=auth)
    assert r.status_code == 200, r.text
    verdicts = {v["id"]: v for v in r.json()}
    spam = verdicts[SEED[pf][0][0]]
    assert (spam["action"], spam["category"]) == ("remove", "spam")
    kinds = {d["kind"]: d["id"] for d in spam["decisions"]}
    assert set(kinds) == {"item", "account"}
    w.item_decision[pf], w.account_decision[pf] = kinds["item"], kinds["account"]
    for key, item in w.own_item.items():
        if key[0] == pf:
            w.own_decision[key] = next(d["id"] for d in verdicts[item]["decisions"]
                                       if d["kind"] == "item")

    def report(item: str) -> str:
        r = w.client.post("/v1/reports", headers=auth, json={
            "item_id": item, "reason": f"{pf}-only report reason about {item}"})
        assert r.status_code == 200, r.text
        assert r.json()["platform"] == pf
        return str(r.json()["id"])

    w.case[pf] = report(SEED[pf][0][0])
    for key, item in w.own_item.items():
        if key[0] == pf and key[1] in ("claim", "escalate", "decide"):
            w.own_case[key] = report(item)

    s: set[str] = set()
    for v in verdicts.values():
        s |= {v["id"], v["account"], v["content_hash"], *(d["id"] for d in v["decisions"])}
    s |= {t for _, _, t in SEED[pf]} | {str(row["text"]) for row in rows}
    s |= {w.case[pf], *(c for k, c in w.own_case.items() if k[0] == pf)}
    s |= {f"{pf}-only", hook_secret}   # in every reserved text, report reason, webhook URL
    s.discard("shared-id")   # exists on both platforms: only its account and text are secret
    w.secrets[pf] = s


@pytest.fixture(name="world", scope="module")
def world_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("api-matrix")
    store = Store(f"sqlite:///{path}/api.db")
    app = create_app(store, Settings(), detectors=[KeywordDetector()])
    tokens: dict[str, str | None] = {}
    for c in CALLERS:
        if c.role is not None and c.scheme == "Bearer":
            tokens[c.name] = store.create_api_key(c.role, c.platforms, c.name)[1]
    tokens["basic-scheme"] = tokens["chirp-admin"]
    tokens["no-key"] = None
    tokens["malformed-key"] = "not-a-vigil-key"
    tokens["unknown-key"] = "vgl_0123456789ab_" + "A" * 43
    admin_id = str(tokens["chirp-admin"]).split("_")[1]
    tokens["wrong-secret"] = f"vgl_{admin_id}_" + "B" * 43
    revoked, revoked_token = store.create_api_key("admin", ["chirp"], "revoked")
    tokens["revoked-key"] = revoked_token
    client = TestClient(app)
    w = World(store, app, client, tokens)

    # the revoked key worked until it was revoked
    assert client.get("/v1/templates", headers=_bearer(revoked_token)).status_code == 200
    assert store.revoke_api_key(revoked.id)

    for pf in PLATFORMS:
        _seed(w, pf)
    for token in [*tokens.values(), revoked_token]:
        if token is not None and token.startswith("vgl_"):
            w.credentials |= {token, token.split("_", 2)[2],
                              hashlib.sha256(token.encode()).hexdigest()}
    yield w
    client.close()
    store.close()


