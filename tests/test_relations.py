"""Plagiarism and coordinated posting through the real ingestion path, on SQLite and
PostgreSQL: who is flagged, who is not, what the evidence names, what survives a restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from tests.conftest import BASE
from vigil.detectors import Prepared
from vigil.detectors.artefacts import contact_artefacts
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import Policy, load_policy, parse_policy
from vigil.relations import Relations, rebuild
from vigil.store import Store
from vigil.store.tables import fingerprints, items

ARTICLE = (
    "The city council voted on Tuesday to expand the night bus network to the eastern "
    "suburbs. Officials cited rising demand from shift workers and students who study late. "
    "The new routes start in March and will run every twenty minutes until two in the "
    "morning, paid for by a small rise in parking fees."
)
ARTICLE_ZH = (
    "市政府周二宣布扩大夜间公交网络，覆盖东部郊区。官员表示，夜班工人和学生的需求不断增加。"
    "新线路将于三月开通，每二十分钟一班，运行到凌晨两点，费用来自停车费的小幅上涨。"
)
OTHER = (
    "Our reading group met again this week and argued for two hours about whether the "
    "ending of the novel was earned or simply convenient for the author. Nobody changed "
    "their mind, but the cake was excellent and we picked a shorter book for next month."
)
NOW = BASE + timedelta(days=60)


def item(i: str, account: str, text: str, hours: float, platform: str = "chirp") -> Item:
    return Item(id=i, account=account, text=text, platform=platform,
                created_at=BASE + timedelta(hours=hours))


def run(store: Store, batch: list[Item], rel: Relations | None = None,
        policy: Policy | None = None) -> tuple[Relations, Tally, dict[str, dict[str, Any]]]:
    rel = rel or Relations(store)
    tally = Tally()
    results = audit_batch(store, batch, policy or load_policy(), [], tally, now=NOW,
                          relations=rel)
    return rel, tally, {r.item.id: {s.detector: s for s in r.signals} for r in results}


def scores(store: Store) -> dict[str, str]:
    with store.read() as conn:
        return {i: s for i, s in conn.execute(select(items.c.external_id, items.c.scores))}


def test_a_copy_by_another_account_names_the_original(store: Store) -> None:
    edited = ARTICLE.replace("Tuesday", "Wednesday").replace("small", "modest")
    _, _, out = run(store, [item("orig", "alice", ARTICLE, 0),
                            item("copy", "bob", edited + " Follow me for more news!", 5)])
    assert "plagiarism_index" not in out["orig"]  # the original author is never flagged
    sig = out["copy"]["plagiarism_index"]
    assert sig.category == "plagiarism" and sig.score >= 0.75
    ref = sig.evidence[0].ref
    assert ref is not None
    assert ref["item"] == "orig" and ref["account"] == "alice"
    assert ref["at"] == BASE.isoformat() and 0.75 <= ref["similarity"] <= 1.0


def test_chinese_copies_are_found_too(store: Store) -> None:
    _, _, out = run(store, [item("o", "alice", ARTICLE_ZH, 0),
                            item("c", "bob", ARTICLE_ZH.replace("三月", "四月") + "关注我", 1)])
    assert out["c"]["plagiarism_index"].evidence[0].ref["item"] == "o"  # type: ignore[index]


def test_reposting_your_own_text_is_not_plagiarism(store: Store) -> None:
    _, _, out = run(store, [item("a1", "alice", ARTICLE, 0), item("a2", "alice", ARTICLE, 3)])
    assert "plagiarism_index" not in out["a2"]


def test_the_earliest_author_is_the_original_even_when_reposted(store: Store) -> None:
    # alice wrote it, bob copied it, alice reposts: only bob's item is plagiarism
    _, _, out = run(store, [item("a1", "alice", ARTICLE, 0), item("b1", "bob", ARTICLE, 1),
                            item("a2", "alice", ARTICLE, 2)])
    assert "plagiarism_index" in out["b1"]
    assert "plagiarism_index" not in out["a2"] and "plagiarism_index" not in out["a1"]


def test_quoting_a_passage_in_a_longer_text_is_not_plagiarism(store: Store) -> None:
    quote = (OTHER + " " + OTHER.replace("week", "month").replace("cake", "tea") +
             ' As the council put it: "the new routes start in March".')
    _, _, out = run(store, [item("o", "alice", ARTICLE, 0), item("q", "bob", quote, 1)])
    assert "plagiarism_index" not in out["q"]


def test_short_common_phrases_are_never_copies(store: Store) -> None:
    _, _, out = run(store, [item("1", "a", "Good morning everyone, have a great day!", 0),
                            item("2", "b", "Good morning everyone, have a great day!", 1)])
    assert "plagiarism_index" not in out["2"]


def test_earlier_batches_and_a_restart_are_remembered(store: Store) -> None:
    run(store, [item("orig", "alice", ARTICLE, 0)])
    # a new Relations loads the index from the store, as after a restart
    _, _, out = run(store, [item("copy", "bob", ARTICLE + " so true", 9)])
    assert out["copy"]["plagiarism_index"].evidence[0].ref["item"] == "orig"  # type: ignore[index]


def test_an_original_that_arrives_late_flags_the_copy_already_stored(store: Store) -> None:
    rel, _, first = run(store, [item("copy", "bob", ARTICLE, 5)])
    assert "plagiarism_index" not in first["copy"]
    _, tally, out = run(store, [item("orig", "alice", ARTICLE, 0)], rel)
    assert "plagiarism_index" not in out["orig"]
    assert tally.reaudited == 1 and "plagiarism_index" in out["copy"]
    assert "plagiarism" in scores(store)["copy"]
    assert store.verify_log().ok


def test_platforms_never_see_each_other(store: Store) -> None:
    _, _, out = run(store, [item("o", "alice", ARTICLE, 0, platform="chirp"),
                            item("c", "bob", ARTICLE, 1, platform="weiqun")])
    assert "plagiarism_index" not in out["c"]


def ring(n: int, hours_apart: float, start: int = 0, handle: str = "abc12345") -> list[Item]:
    pitches = ["cheap followers", "fast likes", "best prices", "easy money", "free gifts",
               "real fans", "quick growth", "hot deals"]
    return [item(f"s{i}", f"u{i}", f"{pitches[i % len(pitches)]}! add wechat {handle}",
                 (i - start) * hours_apart + start) for i in range(start, start + n)]


def test_accounts_sharing_a_handle_within_the_window_form_a_cluster(store: Store) -> None:
    pol = load_policy()  # 5 accounts within 24 h
    rel, _, out = run(store, ring(4, 1.0), policy=pol)
    assert not any("coordination" in sigs for sigs in out.values())
    assert store.clusters() == []
    _, tally, out = run(store, ring(1, 1.0, start=4), rel, pol)
    # the fifth account completes the burst: it and the four stored items are flagged
    assert set(out) == {f"s{i}" for i in range(5)} and tally.reaudited == 4
    sig = out["s4"]["coordination"]
    assert sig.category == "spam" and sig.score == pol.data.coordination.artefact_score
    ev = sig.evidence[0]
    assert ev.text == "add wechat abc12345" and ev.ref is not None
    assert ev.ref["kind"] == "handle" and ev.ref["accounts"] == 5
    (cluster,) = store.clusters()
    assert cluster["id"] == ev.ref["cluster"] and cluster["accounts"] == 5
    assert cluster["items"] == 5 and cluster["kind"] == "handle"
    _, members = store.cluster(cluster["id"])  # type: ignore[misc]
    assert [m["item_id"] for m in members] == [f"s{i}" for i in range(5)]
    assert all("spam" in s for s in scores(store).values())
    # a later batch adds nothing new for the flagged members
    _, tally, _ = run(store, [item("x", "z", "unrelated words here", 6)], None, pol)
    assert tally.reaudited == 0
    assert store.verify_log().ok


def test_the_same_handle_spread_over_weeks_is_no_cluster(store: Store) -> None:
    _, _, out = run(store, ring(6, 48.0))
    assert not any("coordination" in sigs for sigs in out.values())
    assert store.clusters() == []


def test_near_identical_text_from_many_accounts_forms_a_text_cluster(store: Store) -> None:
    batch = [item(f"t{i}", f"acct{i}", OTHER.replace("cake", f"cake{'!' * i}"), i * 0.1)
             for i in range(5)]
    _, _, out = run(store, batch)
    kinds = {out[f"t{i}"]["coordination"].evidence[0].ref["kind"]  # type: ignore[index]
             for i in range(5)}
    assert kinds == {"text"}


def test_ignored_domains_and_policy_settings(store: Store) -> None:
    data = yaml.safe_load(load_policy().text)
    data["coordination"].update(min_accounts=3, window_hours=2, ignore_domains=["example.org"])
    pol = parse_policy(yaml.safe_dump(data), "test")
    batch = [item(f"l{i}", f"u{i}", f"look https://www.example.org/page {i}",
                  i * 0.5) for i in range(4)]
    batch += [item(f"m{i}", f"v{i}", f"look https://shop.example.com/x?ref={i}", i * 0.5)
              for i in range(3)]
    _, _, out = run(store, batch, policy=pol)
    assert not any("coordination" in out[f"l{i}"] for i in range(4))
    assert all("coordination" in out[f"m{i}"] for i in range(3))
    (cluster,) = store.clusters()
    assert cluster["key"] == "url:shop.example.com/x"


def test_rebuild_recomputes_the_same_fingerprints(store: Store) -> None:
    run(store, [item("o", "alice", ARTICLE, 0), item("c", "bob", ARTICLE + " wow", 1),
                item("z", "carol", ARTICLE_ZH, 2)])

    def rows() -> list[tuple[Any, ...]]:
        with store.read() as conn:
            return sorted(tuple(r) for r in conn.execute(
                select(fingerprints.c.item_id, fingerprints.c.sig, fingerprints.c.root,
                       fingerprints.c.size)))

    before = rows()
    assert [r[2] for r in before] == ["o", "o", "z"]
    assert rebuild(store, load_policy(), "chirp") == 3
    assert rows() == before


def test_contact_artefacts_are_canonical() -> None:
    def keys(text: str) -> list[str]:
        return [a.key for a in contact_artefacts(Prepared(Item("1", "a", text)))]

    assert keys("Visit HTTPS://WWW.Shop.xyz/Deal/?ref=9 now") == ["url:shop.xyz/deal"]
    assert keys("call +1 (555) 123-4567 or 555.123.4567") == ["phone:15551234567",
                                                               "phone:5551234567"]
    assert keys("加微信 abc12345") == keys("add wechat: ABC12345") == ["handle:wechat:abc12345"]
    assert keys("mail bob@example.com") == ["email:bob@example.com"]
    assert keys("nothing to see") == []


@pytest.mark.parametrize("bad", ["min_accounts: 1", "window_hours: 0", "artefacts: [fax]"])
def test_bad_coordination_settings_are_refused(bad: str) -> None:
    from vigil.errors import PolicyError

    data = yaml.safe_load(load_policy().text)
    key, _, value = bad.partition(": ")
    data["coordination"][key] = yaml.safe_load(value)
    text = yaml.safe_dump(data)
    with pytest.raises(PolicyError, match="coordination"):
        parse_policy(text, "test")


def test_policy_can_sanction_a_cluster_as_a_group(store: Store) -> None:
    data = yaml.safe_load(load_policy().text)
    data["coordination"].update(account_sanction="suspend", account_sanction_days=7)
    pol = parse_policy(yaml.safe_dump(data), "test")
    rel, tally, _ = run(store, ring(5, 1.0), policy=pol)
    assert tally.sanctions["suspend"] == 5
    states = store.account_states(("chirp", f"u{i}") for i in range(6))
    for i in range(5):
        (s,) = states[("chirp", f"u{i}")].sanctions
        assert s.kind == "suspend" and s.expires_at == NOW + timedelta(days=7)
        assert "cluster" in s.reason
    # a sixth account joins the burst: only it is sanctioned now
    _, tally, _ = run(store, ring(1, 1.0, start=5), rel, pol)
    assert tally.sanctions["suspend"] == 1
    assert len(store.account_states([("chirp", "u5")])[("chirp", "u5")].sanctions) == 1
    assert store.verify_log().ok


def test_a_group_sanction_needs_its_days() -> None:
    from vigil.errors import PolicyError

    data = yaml.safe_load(load_policy().text)
    data["coordination"]["account_sanction"] = "suspend"
    with pytest.raises(PolicyError, match="account_sanction_days"):
        parse_policy(yaml.safe_dump(data), "test")
