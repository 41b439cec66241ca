"""Webhooks: signed, retried with backoff, idempotent ids, failures visible; timed
sanctions expire as decisions. Deliveries go to a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import KeywordDetector
from vigil.api import Settings, create_app
from vigil.policy import load_policy
from vigil.reports import build_report
from vigil.store import Store
from vigil.webhooks import deliver_due, expire_sanctions, verify


class Receiver:
    """A loopback HTTP server that records what it gets and answers the given codes."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.got: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.got.append(({k: v for k, v in self.headers.items()}, body))
                code = outer.codes.pop(0) if outer.codes else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def setup(store: Store, receiver: Receiver) -> tuple[TestClient, str, str, dict[str, str]]:
    c = TestClient(create_app(store, Settings(), detectors=[KeywordDetector()]))
    admin = store.create_api_key("admin", ["chirp"])[1]
    svc = store.create_api_key("platform", ["chirp"])[1]
    r = c.put("/v1/webhook", json={"url": receiver.url},
              headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200
    secret = r.json()["secret"]
    assert c.get("/v1/webhook", headers={"Authorization": f"Bearer {admin}"}).json()[
        "secret"] is None  # shown once
    return c, svc, secret, {"Authorization": f"Bearer {admin}"}


def test_actions_are_delivered_signed_and_retried_with_the_same_id(store: Store) -> None:
    rx = Receiver([500])
    try:
        c, svc, secret, admin = setup(store, rx)
        c.post("/v1/items", json={"id": "1", "account": "u", "text": "buynow"},
               headers={"Authorization": f"Bearer {svc}"})
        c.post("/v1/items", json={"id": "2", "account": "v", "text": "hello"},
               headers={"Authorization": f"Bearer {svc}"})  # allowed: nothing to send
        now = datetime.now(UTC)
        with httpx.Client() as http:
            first = deliver_due(store, now, http)
            assert (first.delivered, first.retried) == (1, 1)
            assert deliver_due(store, now + timedelta(seconds=5), http).delivered == 0
            later = deliver_due(store, now + timedelta(seconds=11), http)
            assert later.delivered == 1
        events = [(h["Vigil-Event"], h["Vigil-Delivery"]) for h, _ in rx.got]
        assert sorted({e for e, _ in events}) == ["account.sanctioned", "item.removed"]
        retried = [d for e, d in events if events.count((e, d)) == 2]
        assert len(retried) == 2  # the failed one came again with the same id
        for headers, body in rx.got:
            ts = int(headers["Vigil-Signature"].split(",")[0][2:])
            assert verify(secret, headers["Vigil-Signature"], body, ts)
            assert not verify("wrong", headers["Vigil-Signature"], body, ts)
            payload = json.loads(body)
            assert payload["id"] == headers["Vigil-Delivery"]
            assert payload["notice"].startswith("/v1/decisions/")
        removed = next(json.loads(b) for h, b in rx.got if h["Vigil-Event"] == "item.removed")
        assert removed["decision"]["item_id"] == "1"
        done = c.get("/v1/deliveries", headers=admin).json()
        assert {d["status"] for d in done} == {"delivered"}
    finally:
        rx.close()


def test_failures_are_visible_never_silent(store: Store) -> None:
    rx = Receiver([500] * 10)
    try:
        c, svc, _, admin = setup(store, rx)
        c.post("/v1/items", json={"id": "1", "account": "u", "text": "you idiot"},
               headers={"Authorization": f"Bearer {svc}"})  # label: one delivery
        failed: list[str] = []
        now = datetime.now(UTC)
        with httpx.Client() as http:
            for i in range(3):
                deliver_due(store, now + timedelta(hours=i), http, max_attempts=3,
                            on_failure=failed.append)
        assert failed == ["chirp"]
        (d,) = c.get("/v1/deliveries?status=failed", headers=admin).json()
        assert d["event"] == "item.labelled" and d["attempts"] == 3
        assert d["last_error"] == "HTTP 500"
        assert build_report(store).webhooks == {"failed": 1}
        other = store.create_api_key("admin", ["weiqun"])[1]
        assert c.get("/v1/deliveries", headers={"Authorization": f"Bearer {other}"}
                     ).json() == []
    finally:
        rx.close()


def test_an_unreachable_endpoint_is_retried(store: Store) -> None:
    store.set_webhook("chirp", "http://127.0.0.1:9/nothing-listens", "s")
    c = TestClient(create_app(store, Settings(), detectors=[KeywordDetector()]))
    svc = store.create_api_key("platform", ["chirp"])[1]
    c.post("/v1/items", json={"id": "1", "account": "u", "text": "you idiot"},
           headers={"Authorization": f"Bearer {svc}"})
    with httpx.Client() as http:
        t = deliver_due(store, datetime.now(UTC), http)
    assert t.retried == 1
    (d,) = store.deliveries(["chirp"])
    assert d["status"] == "pending" and "ConnectError" in d["last_error"]


def test_timed_sanctions_expire_as_decisions(store: Store) -> None:
    rx = Receiver([])
    try:
        c, svc, _, _ = setup(store, rx)
        for i in range(3):  # three removals: warn, then restrict for 7 days
            c.post("/v1/items", json={"id": str(i), "account": "u", "text": "buynow"},
                   headers={"Authorization": f"Bearer {svc}"})
        policy = load_policy()
        now = datetime.now(UTC)
        assert expire_sanctions(store, policy, now) == 0
        assert expire_sanctions(store, policy, now + timedelta(days=8)) == 1
        assert expire_sanctions(store, policy, now + timedelta(days=9)) == 0
        with httpx.Client() as http:
            deliver_due(store, now + timedelta(days=8), http)
        assert "sanction.expired" in [h["Vigil-Event"] for h, _ in rx.got]
        assert store.verify_log().ok
    finally:
        rx.close()
