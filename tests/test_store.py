"""The store, against SQLite and PostgreSQL: idempotent ingestion, append-only decisions,
one transaction per batch, and an audit log that catches every hand edit."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select, update

from tests.conftest import BASE, KeywordDetector, make_items
from vigil.audit import AuditContext, audit
from vigil.errors import StoreError
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import load_policy
from vigil.store import Store
from vigil.store.tables import audit_log, decisions, items, log_head, sanctions, strikes

NOW = BASE + timedelta(days=30)


def counts(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (items, decisions, strikes, sanctions, audit_log)
        }


def run(store: Store, batch: list[Item], detectors: list[KeywordDetector]) -> Tally:
    pol = load_policy()
    store.record_policy(pol, NOW)
    tally = Tally()
    for i in range(0, len(batch), 50):
        audit_batch(store, batch[i : i + 50], pol, detectors, tally, now=NOW)
    return tally


def test_ingestion_is_idempotent(store: Store, detectors: list[KeywordDetector]) -> None:
    batch = make_items(200)
    first = run(store, batch, detectors)
    assert first.new == 200 and first.strikes > 0 and sum(first.sanctions.values()) > 0
    before = counts(store)
    again = run(store, batch, detectors)
    assert (again.new, again.edited, again.unchanged, again.decisions) == (0, 0, 200, 0)
    assert counts(store) == before


def test_duplicate_in_one_batch_is_stored_once(store: Store, detectors) -> None:
    it = make_items(1)[0]
    t = run(store, [it, it], detectors)
    assert (t.new, t.duplicates) == (1, 1)
    assert counts(store)["items"] == 1


def test_edit_reaudits_but_never_undoes_an_action(store: Store, detectors) -> None:
    original = Item(id="e1", account="a", text="buynow buynow", platform="chirp",
                    created_at=BASE)
    run(store, [original], detectors)
    n_decisions = counts(store)["decisions"]
    tame = Item(id="e1", account="a", text="now about the weather", platform="chirp",
                created_at=BASE)
    t = run(store, [tame], detectors)
    assert t.edited == 1 and t.decisions == 0
    with store.read() as conn:
        row = conn.execute(select(items.c.text, items.c.action)).one()
    assert row.text == "now about the weather" and row.action == "remove"
    assert counts(store)["decisions"] == n_decisions
    assert store.verify_log().ok


def test_edit_that_escalates_records_a_new_decision(store: Store, detectors) -> None:
    run(store, [Item(id="e2", account="a", text="a cheapdeal", platform="chirp")], detectors)
    with store.read() as conn:
        assert conn.execute(select(decisions.c.action)).scalars().all() == ["review"]
    run(store, [Item(id="e2", account="a", text="buynow", platform="chirp")], detectors)
    with store.read() as conn:
        acts = conn.execute(select(decisions.c.action).order_by(decisions.c.action)).scalars()
        assert sorted(acts) == ["remove", "review", "warn"]


def test_ladder_is_the_same_across_batches_and_in_one(store_url: str, detectors) -> None:
    batch = make_items(120, accounts=4, every=2)
    a = Store(store_url)
    a.migrate()
    pol = load_policy()
    audit_batch(a, batch, pol, detectors, now=NOW)
    with a.read() as conn:
        one = sorted(conn.execute(select(sanctions.c.account, sanctions.c.kind,
                                         sanctions.c.step)).all())
        conn.close()
    with a.begin() as conn:
        for t in (sanctions, strikes, decisions, items, audit_log, log_head):
            conn.execute(delete(t))
    for i in range(0, 120, 7):
        audit_batch(a, batch[i : i + 7], pol, detectors, now=NOW)
    with a.read() as conn:
        many = sorted(conn.execute(select(sanctions.c.account, sanctions.c.kind,
                                          sanctions.c.step)).all())
    assert one == many
    kinds = {k for _, k, _ in one}
    assert kinds == {"warn", "restrict", "suspend", "shut_down"}
    a.close()


def test_a_failed_batch_leaves_nothing_behind(store: Store, detectors) -> None:
    pol = load_policy()
    batch = make_items(30)
    victim = batch[9]  # carries "buynow": gets a decision with a predictable id
    found = audit([victim], pol, AuditContext(detectors=detectors, now=NOW))[0].decision
    assert found is not None
    clash = found.id
    with store.begin() as conn:
        conn.execute(insert(decisions).values(
            id=clash, platform="chirp", account="x", item_id=None, kind="item",
            action="remove", category=None, rule=None, policy_version="v",
            automated=True, actor="test", reasons="{}", at=NOW))
    with pytest.raises(StoreError):
        audit_batch(store, batch, pol, detectors, now=NOW)
    c = counts(store)
    assert (c["items"], c["strikes"], c["sanctions"], c["audit_log"]) == (0, 0, 0, 0)


def test_log_verifies_when_untouched(store: Store, detectors) -> None:
    run(store, make_items(100), detectors)
    res = store.verify_log()
    assert res.ok, res.problems
    c = counts(store)
    assert res.entries == c["audit_log"] == c["items"] + c["decisions"] + c["strikes"] + \
        c["sanctions"] + 1  # + the policy


@pytest.mark.parametrize("tamper", [
    "edit_decision", "edit_item_text", "delete_strike", "edit_sanction_expiry",
    "insert_decision", "edit_log_digest", "delete_log_middle", "delete_log_tail",
])
def test_log_verify_names_the_tampered_row(store: Store, detectors, tamper: str) -> None:
    run(store, make_items(60), detectors)
    with store.read() as conn:
        d_id = conn.execute(select(decisions.c.id).order_by(decisions.c.id)).scalars().first()
        s_id = conn.execute(select(strikes.c.id).order_by(strikes.c.id)).scalars().first()
        sc_id = conn.execute(select(sanctions.c.id).order_by(sanctions.c.id)).scalars().first()
        last = conn.execute(select(func.max(audit_log.c.seq))).scalar_one()
    with store.begin() as conn:
        if tamper == "edit_decision":
            conn.execute(update(decisions).where(decisions.c.id == d_id).values(action="allow"))
            expect = f"decision {d_id}"
        elif tamper == "edit_item_text":
            conn.execute(update(items).where(items.c.external_id == "p7").values(text="x"))
            expect = "item chirp/p7"
        elif tamper == "delete_strike":
            conn.execute(delete(strikes).where(strikes.c.id == s_id))
            expect = f"strike {s_id}"
        elif tamper == "edit_sanction_expiry":
            conn.execute(update(sanctions).where(sanctions.c.id == sc_id)
                         .values(expires_at=NOW + timedelta(days=1)))
            expect = f"sanction {sc_id}"
        elif tamper == "insert_decision":
            conn.execute(insert(decisions).values(
                id="forged", platform="chirp", account="u1", item_id="p1", kind="item",
                action="remove", category="spam", rule="spam.remove", policy_version="v",
                automated=False, actor="someone", reasons="{}", at=NOW))
            expect = "decision forged"
        elif tamper == "edit_log_digest":
            conn.execute(update(audit_log).where(audit_log.c.seq == 5).values(digest="0" * 64))
            expect = "#5"
        elif tamper == "delete_log_middle":
            conn.execute(delete(audit_log).where(audit_log.c.seq == 10))
            expect = "#10"
        else:
            conn.execute(delete(audit_log).where(audit_log.c.seq > last - 3))
            expect = f"#{last - 3}"
    res = store.verify_log()
    assert not res.ok
    assert expect in res.problems[0], res.problems


def test_decisions_carry_statement_of_reasons(store: Store, detectors) -> None:
    import json

    run(store, [Item(id="r1", account="a", text="you idiot, buynow", platform="chirp",
                     created_at=BASE)], detectors)
    with store.read() as conn:
        row = conn.execute(select(decisions).where(decisions.c.kind == "item")).mappings().one()
    reasons = json.loads(row["reasons"])
    pol = load_policy()
    assert reasons["policy"]["version"] == pol.version == row["policy_version"]
    assert row["rule"] == "spam.remove" and reasons["automated"] is True
    texts = {e["text"] for e in reasons["evidence"]}
    assert texts == {"buynow", "idiot"}
    ev = next(e for e in reasons["evidence"] if e["text"] == "idiot")
    assert "you idiot, buynow"[ev["start"]:ev["end"]] == "idiot"
    assert "appeal" in reasons["appeal"]
    assert row["detectors"] == "keywords"


def test_migrations_build_exactly_the_declared_tables(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from vigil.store.tables import metadata

    with store.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_reader_does_not_hold_the_write_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite: a read snapshot (an API key lookup, a verdict read) runs beside a writer."""
    s = Store(f"sqlite:///{tmp_path}/rw.db")
    s.migrate()
    _, token = s.create_api_key("platform", ["chirp"])
    with s.read() as conn:
        before = conn.execute(select(func.count()).select_from(items)).scalar_one()
        started = time.monotonic()
        run(s, make_items(3), [KeywordDetector()])  # writes while the snapshot is open
        assert time.monotonic() - started < 5
        # the snapshot still sees the store as it was
        assert conn.execute(select(func.count()).select_from(items)).scalar_one() == before
    assert s.api_key(token) is not None
    s.close()
