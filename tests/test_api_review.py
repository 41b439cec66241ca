"""Review queues, claims, reviewer decisions, reports and appeals through the HTTP API."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from tests.conftest import KeywordDetector
from vigil.api import Settings, create_app
from vigil.policy import load_policy
from vigil.reports import account_summary
from vigil.store import Store


class World:
    def __init__(self, store: Store, **settings: object) -> None:
        self.store = store
        self.c = TestClient(create_app(store, Settings(**settings),  # type: ignore[arg-type]
                                       detectors=[KeywordDetector()]))
        self.svc = store.create_api_key("platform", ["chirp"], "svc")[1]
        self.mod1 = store.create_api_key("moderator", ["chirp"], "ana")[1]
        self.mod2 = store.create_api_key("moderator", ["chirp"], "ben")[1]
        self.other = store.create_api_key("moderator", ["weiqun"], "cy")[1]

    def call(self, method: str, url: str, token: str, **kw: object) -> object:
        return self.c.request(method, url, headers={"Authorization": f"Bearer {token}"},
                              **kw)  # type: ignore[arg-type]

    def post(self, url: str, token: str, body: object = None) -> object:
        return self.call("POST", url, token, json=body)

    def item(self, i: str, text: str, account: str = "u1", reach: int = 0) -> object:
        return self.post("/v1/items", self.svc,
                         {"id": i, "account": account, "text": text, "reach": reach})


def test_a_review_band_verdict_opens_a_case_that_a_reviewer_decides(store: Store) -> None:
    w = World(store)
    w.item("1", "cheapdeal inside")  # spam 0.6: review band
    assert w.call("GET", "/v1/cases", w.svc).status_code == 403  # type: ignore[attr-defined]
    assert w.call("GET", "/v1/cases", w.other).json() == []  # type: ignore[attr-defined]
    (case,) = w.call("GET", "/v1/cases", w.mod1).json()  # type: ignore[attr-defined]
    assert (case["kind"], case["item_id"], case["category"], case["status"]) == (
        "review", "1", "spam", "open")
    cid = case["id"]
    decide = {"action": "remove", "template": "promo", "reason": "a ring"}
    assert w.post(f"/v1/cases/{cid}/decide", w.mod1, decide).status_code == 409  # unclaimed
    assert w.post(f"/v1/cases/{cid}/claim", w.mod1).json()["assignee"].startswith("reviewer:")
    r = w.post(f"/v1/cases/{cid}/claim", w.mod2)
    assert r.status_code == 409 and "another reviewer" in r.json()["detail"]
    assert w.post(f"/v1/cases/{cid}/decide", w.mod2, decide).status_code == 409
    assert w.post(f"/v1/cases/{cid}/claim", w.other).status_code == 404  # other platform
    r = w.post(f"/v1/cases/{cid}/decide", w.mod1, decide)
    assert r.status_code == 200
    notice = w.call("GET", r.json()["notice"], w.svc).json()
    assert notice["automated"] is False and notice["action"] == "remove"
    assert notice["facts"].startswith("Unsolicited commercial promotion") and "a ring" in \
        notice["facts"]
    v = w.call("GET", "/v1/items/1", w.svc).json()
    assert v["action"] == "remove" and v["review"] is False
    assert w.call("GET", "/v1/cases", w.mod1).json() == []
    closed = w.call("GET", f"/v1/cases/{cid}", w.mod1).json()
    assert closed["status"] == "closed" and closed["outcome"] == "remove"
    assert store.verify_log().ok


def test_an_overturned_appeal_reinstates_and_reverses_strike_and_sanction(store: Store) -> None:
    w = World(store)
    v = w.item("1", "buynow now").json()  # automated removal: strike, warn
    (removal,) = [d for d in v["decisions"] if d["kind"] == "item"]
    (acct,) = account_summary(store, "u1", "chirp", _now(), 90)
    assert acct.strike_points > 0 and [s.kind for s in acct.sanctions] == ["warn"]
    r = w.post("/v1/appeals", w.svc, {"decision_id": removal["id"], "statement": "satire"})
    assert r.status_code == 200 and r.json()["kind"] == "appeal"
    assert w.post("/v1/appeals", w.svc, {"decision_id": removal["id"],
                                         "statement": "again"}).status_code == 409
    cid = r.json()["id"]
    w.post(f"/v1/cases/{cid}/claim", w.mod1)
    r = w.post(f"/v1/cases/{cid}/decide", w.mod1, {"outcome": "overturned",
                                                   "reason": "satire, not spam"})
    assert r.status_code == 200
    assert w.call("GET", "/v1/items/1", w.svc).json()["action"] == "allow"
    (acct,) = account_summary(store, "u1", "chirp", _now(), 90)
    assert abs(acct.strike_points) < 1e-6 and acct.status == "active"
    kinds = [(d["action"], d["kind"]) for d in
             w.call("GET", "/v1/items/1", w.svc).json()["decisions"]]
    assert ("reinstate", "item") in kinds and ("lift", "account") in kinds
    assert store.verify_log().ok


def test_a_reviewer_cannot_resolve_the_appeal_of_their_own_decision(store: Store) -> None:
    w = World(store)
    w.item("1", "cheapdeal")
    (case,) = w.call("GET", "/v1/cases", w.mod1).json()  # type: ignore[attr-defined]
    w.post(f"/v1/cases/{case['id']}/claim", w.mod1)
    did = w.post(f"/v1/cases/{case['id']}/decide", w.mod1,
                 {"action": "remove", "template": "scam"}).json()["decision"]
    appeal = w.post("/v1/appeals", w.svc, {"decision_id": did, "statement": "no"}).json()
    w.post(f"/v1/cases/{appeal['id']}/claim", w.mod1)
    r = w.post(f"/v1/cases/{appeal['id']}/decide", w.mod1, {"outcome": "upheld",
                                                            "reason": "still spam"})
    assert r.status_code == 403 and "different reviewer" in r.json()["detail"]
    time.sleep(0)  # mod1 still holds the claim: mod2 must wait for it to time out
    assert w.post(f"/v1/cases/{appeal['id']}/claim", w.mod2).status_code == 409


def test_claims_time_out(store: Store) -> None:
    w = World(store, claim_minutes=0.0005)  # 30 ms
    w.item("1", "cheapdeal")
    (case,) = w.call("GET", "/v1/cases", w.mod1).json()  # type: ignore[attr-defined]
    w.post(f"/v1/cases/{case['id']}/claim", w.mod1)
    time.sleep(0.1)
    assert w.post(f"/v1/cases/{case['id']}/claim", w.mod2).status_code == 200


def test_trusted_flaggers_come_first_and_reach_raises_priority(store: Store) -> None:
    w = World(store)
    w.item("low", "cheapdeal", reach=0)
    w.item("high", "cheapdeal", account="u2", reach=1_000_000)
    w.item("flagged", "a quiet post", account="u3")
    r = w.post("/v1/reports", w.svc, {"item_id": "flagged", "reason": "it is a scam",
                                      "category": "spam", "trusted_flagger": True})
    assert r.status_code == 200 and r.json()["trusted"] and r.json()["kind"] == "report"
    order = [c["item_id"] for c in w.call("GET", "/v1/cases", w.mod1).json()]
    assert order == ["flagged", "high", "low"]
    assert w.post("/v1/reports", w.svc, {"item_id": "nope", "reason": "x"}).status_code == 404


def test_escalation_moves_the_case_to_the_escalated_queue(store: Store) -> None:
    w = World(store)
    w.item("1", "cheapdeal")
    (case,) = w.call("GET", "/v1/cases", w.mod1).json()  # type: ignore[attr-defined]
    assert w.post(f"/v1/cases/{case['id']}/escalate", w.mod1,
                  {"reason": "legal"}).status_code == 409
    w.post(f"/v1/cases/{case['id']}/claim", w.mod1)
    r = w.post(f"/v1/cases/{case['id']}/escalate", w.mod1, {"reason": "legal question"})
    assert r.json()["queue"] == "escalated" and r.json()["assignee"] is None
    (esc,) = w.call("GET", "/v1/cases?queue=escalated", w.mod2).json()  # type: ignore
    assert esc["priority"] > case["priority"]


def test_appeal_window_and_bad_reasons(store: Store, tmp_path: Path) -> None:
    data = yaml.safe_load(load_policy().text)
    data["appeal_window_days"] = 0
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data))
    w = World(store, policy=str(path))
    v = w.item("1", "buynow").json()
    did = next(d["id"] for d in v["decisions"] if d["kind"] == "item")
    time.sleep(0.01)
    r = w.post("/v1/appeals", w.svc, {"decision_id": did, "statement": "please"})
    assert r.status_code == 422 and "window" in r.json()["detail"]
    w.item("2", "cheapdeal", account="u9")
    case = next(c for c in w.call("GET", "/v1/cases", w.mod1).json() if c["item_id"] == "2")
    w.post(f"/v1/cases/{case['id']}/claim", w.mod1)
    r = w.post(f"/v1/cases/{case['id']}/decide", w.mod1, {"action": "remove",
                                                          "template": "nonsense"})
    assert r.status_code == 422 and "unknown template" in r.json()["detail"]
    r = w.post(f"/v1/cases/{case['id']}/decide", w.mod1, {"action": "remove"})
    assert r.status_code == 422 and "give a reason" in r.json()["detail"]


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)
