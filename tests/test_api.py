"""The HTTP API: items, verdicts, notices, idempotency, limits, metrics, the drop-in
endpoints (driven by the official ``openai`` client), API keys and their CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import openai
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import KeywordDetector
from tests.test_cli import invoke
from vigil.api import Settings, create_app
from vigil.store import Store
from vigil.store.tables import api_keys


def make(store: Store, **settings: object) -> tuple[FastAPI, TestClient]:
    app = create_app(store, Settings(**settings), detectors=[KeywordDetector()])  # type: ignore[arg-type]
    return app, TestClient(app)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(store: Store) -> tuple[TestClient, str]:
    _, c = make(store)
    _, token = store.create_api_key("platform", ["chirp"], "svc")
    return c, token


def test_one_item_gets_its_verdict_and_a_list_gets_them_in_order(client) -> None:
    c, tok = client
    r = c.post("/v1/items", json={"id": "1", "account": "a", "text": "buynow cheap"},
               headers=auth(tok))
    assert r.status_code == 200
    v = r.json()
    assert (v["id"], v["platform"], v["action"], v["category"]) == ("1", "chirp", "remove",
                                                                     "spam")
    assert v["scores"]["spam"] == 0.95
    (d,) = [d for d in v["decisions"] if d["kind"] == "item"]
    assert d["action"] == "remove" and d["notice"] == f"/v1/decisions/{d['id']}/notice"
    r = c.post("/v1/items", headers=auth(tok), json=[
        {"id": "3", "account": "b", "text": "hello"},
        {"id": "2", "account": "b", "text": "you idiot"}])
    assert [(x["id"], x["action"]) for x in r.json()] == [("3", "allow"), ("2", "label")]
    assert c.get("/v1/items/2", headers=auth(tok)).json()["action"] == "label"


def test_times_are_iso_8601_or_unix_seconds(client) -> None:
    c, tok = client
    for i, when in enumerate(("2026-06-01T12:00:00Z", "2026-06-01T12:00:00", 1780315200)):
        r = c.post("/v1/items", json={"id": f"t{i}", "account": "a", "text": "hello there",
                                      "created_at": when}, headers=auth(tok))
        assert r.status_code == 200, r.text
    for bad in (True, 1e300, -1e20):
        r = c.post("/v1/items", json={"id": "t9", "account": "a", "text": "hi",
                                      "created_at": bad}, headers=auth(tok))
        assert r.status_code == 422 and "created_at" in json.dumps(r.json())


def test_sending_an_item_again_changes_nothing_and_an_edit_is_audited(client) -> None:
    c, tok = client
    item = {"id": "9", "account": "a", "text": "cheapdeal today"}
    first = c.post("/v1/items", json=item, headers=auth(tok)).json()
    again = c.post("/v1/items", json=item, headers=auth(tok)).json()
    assert first == again
    edited = c.post("/v1/items", json={**item, "text": "buynow"}, headers=auth(tok)).json()
    assert edited["action"] == "remove" and edited["content_hash"] != first["content_hash"]
    assert len(edited["decisions"]) > len(first["decisions"])


def test_idempotency_key_replays_the_first_answer(client) -> None:
    c, tok = client
    h = {**auth(tok), "Idempotency-Key": "req-1"}
    first = c.post("/v1/items", json={"id": "5", "account": "a", "text": "hi"}, headers=h)
    replay = c.post("/v1/items", json={"id": "5", "account": "a", "text": "hi"}, headers=h)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    other = c.post("/v1/items", json={"id": "6", "account": "a", "text": "hi"}, headers=h)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]


def test_the_notice_is_a_statement_of_reasons(store: Store, client) -> None:
    c, tok = client
    v = c.post("/v1/items", json={"id": "1", "account": "a", "text": "buynow"},
               headers=auth(tok)).json()
    notice_url = next(d["notice"] for d in v["decisions"] if d["kind"] == "item")
    n = c.get(notice_url, headers=auth(tok)).json()
    assert (n["item"], n["action"], n["category"], n["rule"]) == ("1", "remove", "spam",
                                                                  "spam.remove")
    assert n["automated"] is True and "0.95" in n["facts"]
    assert n["evidence"][0]["text"] == "buynow" and n["evidence"][0]["detector"] == "keywords"
    assert "appeal" in n["appeal"]
    from datetime import datetime

    days = datetime.fromisoformat(n["appeal_until"]) - datetime.fromisoformat(n["decided_at"])
    assert days == timedelta(days=180)


def test_rate_limit_answers_429_with_retry_after(store: Store) -> None:
    _, c = make(store, rate_per_minute=60, burst=2)
    _, tok = store.create_api_key("platform", ["chirp"])
    codes = [c.get("/v1/items/x", headers=auth(tok)).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    r = c.get("/v1/items/x", headers=auth(tok))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    # another key has its own bucket
    _, other = store.create_api_key("platform", ["chirp"])
    assert c.get("/v1/items/x", headers=auth(other)).status_code == 404


def test_batches_count_against_the_rate_limit(store: Store) -> None:
    _, c = make(store, rate_per_minute=60, burst=10)
    _, tok = store.create_api_key("platform", ["chirp"])
    items = [{"id": str(i), "account": "a", "text": "hi"} for i in range(11)]
    assert c.post("/v1/items", json=items, headers=auth(tok)).status_code == 429


def test_too_large_requests_get_413(store: Store) -> None:
    _, c = make(store, max_body_bytes=4096, max_batch=3)
    _, tok = store.create_api_key("platform", ["chirp"])
    r = c.post("/v1/items", headers=auth(tok),
               json={"id": "1", "account": "a", "text": "x" * 10_000})
    assert r.status_code == 413 and "4,096 bytes" in r.json()["detail"]
    r = c.post("/v1/items", headers=auth(tok),
               json=[{"id": str(i), "account": "a", "text": "hi"} for i in range(4)])
    assert r.status_code == 413 and "at most 3 items" in r.json()["detail"]


def test_bad_items_name_the_field(client) -> None:
    c, tok = client
    r = c.post("/v1/items", json={"id": "1", "text": "no account"}, headers=auth(tok))
    assert r.status_code == 422
    assert any(e["loc"][-1] == "account" for e in r.json()["detail"])


def test_metrics_and_health(store: Store, client) -> None:
    c, tok = client
    c.post("/v1/items", json={"id": "1", "account": "a", "text": "buynow"}, headers=auth(tok))
    c.post("/v1/items", json={"id": "2", "account": "a", "text": "cheapdeal"},
           headers=auth(tok))
    assert c.get("/healthz").json() == {"status": "ok", "store": "ok"}
    assert c.get("/metrics", headers=auth(tok)).status_code == 403
    _, admin = store.create_api_key("admin", ["chirp"])
    assert c.get("/metrics", headers=auth(admin)).status_code == 403  # one platform's admin
    _, operator = store.create_api_key("auditor", ["*"])
    text = c.get("/metrics", headers=auth(operator)).text
    assert 'vigil_items_audited_total{action="remove",category="spam",platform="chirp"} 1.0' \
        in text
    assert "vigil_review_queue_depth 1.0" in text
    assert 'vigil_http_request_seconds_count{method="POST",route="/v1/items",status="200"} ' \
           "2.0" in text
    _, open_c = make(store, metrics_public=True)
    assert open_c.get("/metrics").status_code == 200


def test_openai_client_works_against_the_moderations_endpoint(store: Store) -> None:
    _, c = make(store)
    _, tok = store.create_api_key("platform", ["chirp"])
    ai = openai.OpenAI(api_key=tok, base_url="http://testserver/v1", http_client=c)
    res = ai.moderations.create(input=["you idiot", "lovely morning", "those vermin"],
                                model="vigil")
    insult, fine, hate = res.results
    assert insult.flagged and insult.categories.harassment
    assert insult.category_scores.harassment == pytest.approx(0.75)
    assert not fine.flagged and fine.category_scores.hate == 0.0
    assert hate.flagged and hate.categories.hate and not hate.categories.sexual
    assert not insult.categories.self_harm  # not detected by Vigil: never flagged
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="vgl_nope_nope", base_url="http://testserver/v1",
                      http_client=c).moderations.create(input="hi")


def test_perspective_shape_with_key_in_the_query(client) -> None:
    c, tok = client
    body = {"comment": {"text": "you idiot"},
            "requestedAttributes": {"INSULT": {}, "THREAT": {}, "SPAM": {"scoreThreshold": 0.5}}}
    r = c.post(f"/v1alpha1/comments:analyze?key={tok}", json=body)
    assert r.status_code == 200
    scores = r.json()["attributeScores"]
    assert scores["INSULT"]["summaryScore"] == {"value": 0.75, "type": "PROBABILITY"}
    assert scores["THREAT"]["summaryScore"]["value"] == 0.0
    assert "SPAM" not in scores  # under its scoreThreshold
    r = c.post(f"/v1alpha1/comments:analyze?key={tok}",
               json={**body, "requestedAttributes": {"FLIRTATION": {}}})
    assert r.status_code == 422 and "FLIRTATION" in json.dumps(r.json()["detail"])


def test_keys_cli_prints_once_stores_a_hash_and_revokes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/keys.db"
    code, out, _ = invoke("keys", "create", "--role", "platform", "--platform", "chirp",
                          "--name", "svc", "--db", db)
    assert code == 0
    token = out.strip()
    assert token.startswith("vgl_")
    store = Store(db)
    with store.read() as conn:
        (stored,) = conn.execute(select(api_keys.c.hash)).scalars().all()
    assert token not in stored and len(stored) == 64
    assert store.api_key(token) is not None
    code, out, _ = invoke("keys", "list", "--db", db, "--format", "jsonl")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["role"] == "platform" and token not in out
    assert invoke("keys", "revoke", row["id"], "--db", db)[0] == 0
    assert store.api_key(token) is None
    assert invoke("keys", "revoke", row["id"], "--db", db)[0] != 0
    code, _, err = invoke("keys", "create", "--role", "platform", "--platform", "*",
                          "--db", db)
    assert code != 0 and "exactly one platform" in err
    assert store.verify_log().ok


def test_a_key_revoked_elsewhere_stops_within_a_second(store: Store) -> None:
    import time

    _, c = make(store)
    key, tok = store.create_api_key("platform", ["chirp"])
    assert c.get("/v1/items/x", headers=auth(tok)).status_code == 404
    other = Store(store.url)  # another process's store, as `vigil keys revoke` opens
    assert other.revoke_api_key(key.id)
    other.close()
    time.sleep(1.1)
    assert c.get("/v1/items/x", headers=auth(tok)).status_code == 401


class SlowKeywords(KeywordDetector):
    """The keyword detector taking 50 ms a batch, recording each batch's size."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def detect(self, batch):  # type: ignore[no-untyped-def]
        import time

        self.sizes.append(len(batch))
        time.sleep(0.05)
        return super().detect(batch)


def test_concurrent_requests_are_audited_together_and_each_gets_its_own_verdict(
        tmp_path: Path) -> None:
    import threading

    from vigil.items import Item

    store = Store(f"sqlite:///{tmp_path}/g.db")
    det = SlowKeywords()
    app = create_app(store, Settings(), detectors=[det])
    state = app.state.vigil
    det.sizes.clear()  # the warm-up batch
    requests = [[Item(id=f"i{k}", account=f"a{k}", text="buynow" if k % 2 else "hello",
                      platform="chirp")] for k in range(12)]
    # the same item twice, second version different: never in one group
    requests.append([Item(id="i0", account="a0", text="hello again buynow", platform="chirp")])
    threads = [threading.Thread(target=state.audit, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(det.sizes) >= 13 and len(det.sizes) < 13  # grouped: fewer audits than requests
    assert max(det.sizes) > 1
    found = store.item_verdicts("chirp", [f"i{k}" for k in range(12)])
    assert [found[f"i{k}"]["action"] for k in range(1, 12, 2)] == ["remove"] * 6
    assert found["i0"]["action"] == "remove"  # the edit was audited after the first version
    assert any(d["action"] == "remove" for d in found["i0"]["decisions"])


def test_a_failed_group_audit_fails_every_request_in_it(tmp_path: Path) -> None:
    from vigil.items import Item

    class Broken(KeywordDetector):
        def detect(self, batch):  # type: ignore[no-untyped-def]
            if any(p.item.text == "boom" for p in batch):
                raise RuntimeError("detector failed")
            return super().detect(batch)

    store = Store(f"sqlite:///{tmp_path}/g.db")
    app = create_app(store, Settings(), detectors=[Broken()])
    with pytest.raises(RuntimeError, match="detector failed"):
        app.state.vigil.audit([Item(id="x", account="a", text="boom", platform="chirp")])
    # and the next audit still runs
    app.state.vigil.audit([Item(id="y", account="a", text="fine", platform="chirp")])
    assert "y" in store.item_verdicts("chirp", ["y"])


def test_a_new_items_answer_is_what_reading_it_back_gives(store: Store, client) -> None:
    """New items are answered from what their audit wrote, not read back: the answer is
    byte for byte the stored verdict (GET), decisions and sanctions included; repeats and
    edits (read back) too."""
    c, tok = client
    posted: dict[str, bytes] = {}
    for k in range(6):  # one account removed again and again: strikes, then sanctions
        r = c.post("/v1/items", json={"id": f"s{k}", "account": "spammer",
                                      "text": f"buynow {k}"}, headers=auth(tok))
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        posted[f"s{k}"] = r.content
    r = c.post("/v1/items", headers=auth(tok), json=[
        {"id": "l1", "account": "b", "text": "hello"},
        {"id": "l2", "account": "b", "text": "you idiot"},
        {"id": "l1", "account": "b", "text": "hello, edited in the same request buynow"},
        {"id": "s0", "account": "spammer", "text": "buynow 0"},  # unchanged
        {"id": "s1", "account": "spammer", "text": "buynow vermin"}])  # an edit
    assert r.status_code == 200
    answers = r.json()
    for x, raw in zip(("l1", "l2", "l1", "s0", "s1"), answers, strict=True):
        got = c.get(f"/v1/items/{x}", headers=auth(tok))
        assert json.loads(got.content) == raw
    assert answers[0] == answers[2] and answers[0]["action"] == "remove"
    sanctioned = [x for x, raw in posted.items()
                  if any(d["kind"] == "account" for d in json.loads(raw)["decisions"])]
    assert sanctioned, "the ladder should have sanctioned the account"
    for x, raw in posted.items():
        if x != "s1":  # edited since
            assert c.get(f"/v1/items/{x}", headers=auth(tok)).content == raw
    again = c.post("/v1/items", json={"id": "s2", "account": "spammer", "text": "buynow 2"},
                   headers=auth(tok))
    assert again.content == posted["s2"]


def test_a_new_item_is_answered_without_reading_it_back(store: Store, monkeypatch) -> None:
    _, c = make(store)
    _, tok = store.create_api_key("platform", ["chirp"], "svc")
    reads: list[list[str]] = []
    real = store.item_verdicts
    monkeypatch.setattr(store, "item_verdicts",
                        lambda pf, ids: reads.append(list(ids)) or real(pf, ids))
    item = {"id": "n1", "account": "a", "text": "buynow"}
    assert c.post("/v1/items", json=item, headers=auth(tok)).json()["action"] == "remove"
    assert reads == []
    c.post("/v1/items", json=[item, {"id": "n2", "account": "a", "text": "hi"}],
           headers=auth(tok))
    assert reads == [["n1"]]  # stored unchanged: read back


def test_the_server_checkpoints_sqlites_log_between_audits(store: Store) -> None:
    import threading

    sqlite = store.url.startswith("sqlite")
    assert store.checkpoint() is sqlite  # PostgreSQL has nothing to checkpoint
    app, _ = make(store)
    with TestClient(app):  # the lifespan starts the thread and stops it
        running = [t for t in threading.enumerate() if t.name == "vigil-checkpoint"]
        assert len(running) == int(sqlite)
    assert not [t for t in running if t.is_alive()]
