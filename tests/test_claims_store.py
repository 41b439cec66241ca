"""The fact-check base in the store (SQLite and PostgreSQL): idempotent import, updates and
removals as logged actions, hand edits caught by the log, embeddings kept beside."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import update

from vigil.claims.base import FactCheck
from vigil.store import Store
from vigil.store import claims as claimstore
from vigil.store.tables import claims

NOW = datetime(2026, 11, 1, tzinfo=UTC)
FACTS = [
    FactCheck("c1", "5G masts spread the coronavirus", "false", "False", "Checks",
              "https://x/1", "5G myth", date(2020, 4, 6), "en", "f.json"),
    FactCheck("c2", "Drinking hot water kills the virus", "misleading", "Mostly false"),
    FactCheck("c3", "吃碘盐可以预防核辐射", "false", "谣言", lang="zh"),
    FactCheck("c4", "Handwashing reduces infections", "true", "True"),
]


def test_import_is_idempotent_and_logged(store: Store) -> None:
    first = store.import_claims(FACTS, NOW)
    assert (first.new, first.updated, first.unchanged) == (4, 0, 0)
    again = store.import_claims(FACTS, NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)
    v = store.verify_log()
    assert v.ok and v.entries == 4
    assert [fc for fc, _ in store.claims()] == FACTS
    assert store.claim_counts() == {"false": 2, "misleading": 1, "true": 1}


def test_rating_change_updates_the_claim_as_a_new_log_entry(store: Store) -> None:
    store.import_claims(FACTS, NOW)
    changed = replace(FACTS[3], rating="mixed", rating_text="Half true")
    t = store.import_claims([changed, changed], NOW)
    assert (t.new, t.updated, t.duplicates) == (0, 1, 1)
    [(got, _)] = store.claims(search="handwashing")
    assert got.rating == "mixed"
    v = store.verify_log()
    assert v.ok and v.entries == 5


def test_remove_keeps_the_record_and_reimport_restores_it(store: Store) -> None:
    store.import_claims(FACTS, NOW)
    assert store.remove_claims(["c1", "nope"], NOW) == ["c1"]
    assert store.remove_claims(["c1"], NOW) == []
    assert [fc.claim_id for fc, _ in store.claims()] == ["c2", "c3", "c4"]
    every = store.claims(removed=True)
    assert [(fc.claim_id, gone is not None) for fc, gone in every][:1] == [("c1", True)]
    assert store.verify_log().ok
    t = store.import_claims(FACTS[:1], NOW)
    assert t.updated == 1 and next(fc.claim_id for fc, _ in store.claims()) == "c1"


def test_filters(store: Store) -> None:
    store.import_claims(FACTS, NOW)
    assert [fc.claim_id for fc, _ in store.claims(rating=["false"])] == ["c1", "c3"]
    assert [fc.claim_id for fc, _ in store.claims(lang="zh")] == ["c3"]
    assert [fc.claim_id for fc, _ in store.claims(search="HOT WATER")] == ["c2"]
    assert [fc.claim_id for fc, _ in store.claims(search="100%")] == []
    assert len(store.claims(limit=2)) == 2


def test_hand_edited_claim_is_caught(store: Store) -> None:
    store.import_claims(FACTS, NOW)
    with store.begin() as conn:
        conn.execute(update(claims).where(claims.c.claim_id == "c4").values(rating="false"))
    v = store.verify_log()
    assert not v.ok and "claim c4" in v.problems[0] and "edited" in v.problems[0]


def test_vectors_roundtrip_and_replace(store: Store) -> None:
    store.import_claims(FACTS, NOW)
    vec = np.linspace(-1, 1, 8, dtype=np.float32)
    with store.begin() as conn:
        claimstore.put_vectors(conn, "m", [("c1", "h1", vec), ("c2", "h2", -vec)])
        claimstore.put_vectors(conn, "m", [("c1", "h1b", vec * 0.5)])
    with store.read() as conn:
        got = claimstore.get_vectors(conn, "m")
        assert claimstore.get_vectors(conn, "other") == {}
    assert set(got) == {"c1", "c2"} and got["c1"][0] == "h1b"
    np.testing.assert_allclose(got["c1"][1], vec * 0.5, atol=1e-3)
    np.testing.assert_allclose(got["c2"][1], -vec, atol=1e-3)
