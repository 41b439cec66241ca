"""vigil.audit: the pure core loop (no store): detect, evaluate, decide."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import ClassVar

import pytest

from tests.conftest import BASE, KeywordDetector, make_items
from vigil.audit import (
    AUTOMATED_ACTOR,
    MAX_EVIDENCE,
    AccountState,
    AuditContext,
    AuditResult,
    audit,
    detect,
    statement_of_reasons,
)
from vigil.detectors import Evidence, Example, Prepared, Signal, default_detectors
from vigil.items import Item, Sanction
from vigil.policy import Policy, evaluate, load_policy, parse_policy

NOW = BASE + timedelta(days=1)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def ctx(**kw: object) -> AuditContext:
    kw.setdefault("detectors", [KeywordDetector()])
    kw.setdefault("now", NOW)
    return AuditContext(**kw)  # type: ignore[arg-type]


def item(id: str, text: str, account: str = "u1", hours: float = 0,
         platform: str = "chirp") -> Item:
    return Item(id=id, account=account, text=text, platform=platform,
                created_at=BASE + timedelta(hours=hours))


def by_id(results: Sequence[AuditResult]) -> dict[str, AuditResult]:
    return {r.item.id: r for r in results}


class Recorder:
    """A detector that records when it was called and emits one fixed signal per item."""

    categories: tuple[str, ...] = ("spam",)

    def __init__(self, name: str, cost: int, log: list[str], score: float = 0.1,
                 lists: int | None = None) -> None:
        self.name, self.version, self.cost = name, "1", cost
        self.log, self.score, self.lists = log, score, lists

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        self.log.append(self.name)
        out = [[Signal("spam", self.score, self.name, self.version)] for _ in batch]
        return out if self.lists is None else out[: self.lists]

    def examples(self) -> list[Example]:
        return []


class ManyEvidence:
    name, version, cost = "many", "1", 0
    categories: tuple[str, ...] = ("spam",)
    N: ClassVar[int] = MAX_EVIDENCE + 5

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        return [
            [Signal("spam", 0.95, self.name, self.version,
                    tuple(Evidence(f"w{i}", note=str(i)) for i in range(self.N)))]
            for _ in batch
        ]

    def examples(self) -> list[Example]:
        return []


# -- which items get decisions ---------------------------------------------------------


def test_decisions_only_for_actions_or_review(policy: Policy) -> None:
    batch = [
        item("clean", "a fine day", hours=0),
        item("removed", "buynow please", hours=1),
        item("review", "a cheapdeal maybe", hours=2),
        item("label", "you idiot", account="u2", hours=3),
        item("clean2", "nothing to see", account="u3", hours=4),
    ]
    results = audit(batch, policy, ctx())
    assert [r.item.id for r in results] == [it.id for it in batch]  # input order kept
    got = by_id(results)
    assert got["clean"].decision is None and got["clean"].decisions == []
    assert got["clean2"].decision is None
    assert got["clean"].verdict.action == "allow"
    assert got["removed"].decision is not None
    assert got["removed"].decision.action == "remove"
    assert got["label"].decision is not None
    assert got["label"].decision.action == "label"
    assert got["review"].decision is not None
    assert got["review"].decision.action == "review"
    assert got["clean"].signals == [] and got["clean"].strike is None


def test_review_band_decision_has_no_strike(policy: Policy) -> None:
    (r,) = audit([item("p1", "cheapdeal")], policy, context := ctx())
    d = r.decision
    assert d is not None
    assert d.action == "review"
    assert d.kind == "item"
    assert d.category == "spam"
    assert d.rule == "spam.review"
    assert d.reasons["review"] == {"queue": "standard"}
    assert r.strike is None and r.sanction is None and r.sanction_decision is None
    assert context.accounts == {}


def test_label_gives_no_strike(policy: Policy) -> None:
    (r,) = audit([item("p1", "you idiot")], policy, context := ctx())
    assert r.decision is not None and r.decision.action == "label"
    assert r.strike is None
    assert context.accounts == {}


def test_child_safety_review_is_urgent_and_unstruck(policy: Policy) -> None:
    (r,) = audit([item("p1", "groomer")], policy, ctx())
    assert r.decision is not None
    assert r.decision.action == "review"
    assert r.decision.reasons["review"] == {"queue": "urgent"}
    assert r.strike is None


def test_removed_item_gets_a_strike(policy: Policy) -> None:
    it = item("p1", "buynow", hours=3)
    (r,) = audit([it], policy, context := ctx())
    d, s = r.decision, r.strike
    assert d is not None and s is not None
    assert d.kind == "item"
    assert d.action == "remove"
    assert d.rule == "spam.remove"
    assert d.category == "spam"
    assert d.policy_version == policy.version
    assert d.automated is True
    assert d.actor == AUTOMATED_ACTOR
    assert d.at == NOW
    assert (d.platform, d.account, d.item_id) == ("chirp", "u1", "p1")
    assert s.weight == policy.categories["spam"].strike == 1.0
    assert s.at == it.created_at
    assert s.category == "spam"
    assert s.decision_id == d.id
    assert (s.platform, s.account, s.item_id) == ("chirp", "u1", "p1")
    # one strike reaches the warn rung
    assert r.sanction is not None and r.sanction.kind == "warn"
    assert context.accounts[("chirp", "u1")].strikes == [s]


def test_strike_weight_is_the_categorys(policy: Policy) -> None:
    (r,) = audit([item("p1", "vermin")], policy, ctx())
    assert r.decision is not None and r.decision.category == "hate"
    assert r.strike is not None
    assert r.strike.weight == policy.categories["hate"].strike == 2.0


def test_strike_for_an_item_without_time_or_from_the_future_is_dated_now(
        policy: Policy) -> None:
    undated = Item(id="a", account="u1", text="buynow", platform="chirp")
    future = item("b", "buynow", account="u2", hours=48)  # after NOW
    got = by_id(audit([undated, future], policy, ctx()))
    assert got["a"].strike is not None and got["a"].strike.at == NOW
    assert got["b"].strike is not None and got["b"].strike.at == NOW


def test_sanction_decision(policy: Policy) -> None:
    # hate weighs 2: two removals reach restrict (2.5) on the second
    batch = [item("p1", "vermin", hours=0), item("p2", "vermin", hours=1)]
    first, second = audit(batch, policy, ctx())
    assert first.sanction is not None and first.sanction.kind == "warn"
    s, sd = second.sanction, second.sanction_decision
    assert s is not None and sd is not None
    assert s.kind == "restrict"
    assert s.step == 2
    assert s.at == NOW
    assert s.expires_at == NOW + timedelta(days=7)
    assert s.decision_id == sd.id
    assert sd.kind == "account"
    assert sd.action == "restrict"
    assert sd.rule == "ladder.2.restrict"
    assert sd.item_id == "p2"
    assert sd.policy_version == policy.version
    assert sd.reasons["days"] == 7
    assert sd.reasons["expires_at"] == (NOW + timedelta(days=7)).isoformat()
    assert sd.reasons["trigger"] == {"item": "p2", "decision": second.decision.id}  # type: ignore[union-attr]
    assert "180 days" in sd.reasons["appeal"]
    assert second.decisions == [second.decision, sd]


# -- ordering within a batch -----------------------------------------------------------


def _ladder_run(batch: Sequence[Item], policy: Policy) -> dict[str, tuple[object, ...]]:
    out: dict[str, tuple[object, ...]] = {}
    for r in audit(batch, policy, ctx()):
        out[r.item.id] = (
            r.strike.at if r.strike else None,
            r.sanction.kind if r.sanction else None,
            r.sanction.step if r.sanction else None,
        )
    return out


def test_items_of_an_account_are_processed_in_time_order(policy: Policy) -> None:
    ordered = [item(f"p{i}", "buynow", hours=i) for i in range(6)]
    ordered += [item(f"q{i}", "buynow", account="u2", hours=i + 0.5) for i in range(3)]
    ordered += [item("c", "a fine day", hours=2.5)]
    expected = _ladder_run(ordered, policy)
    kinds = [expected[f"p{i}"][1] for i in range(6)]
    # the oldest violation is warned; later ones climb the ladder
    assert kinds[0] == "warn"
    ranks = {"warn": 1, "restrict": 2, "suspend": 3, "shut_down": 4}
    assert [ranks[k] for k in kinds] == sorted(ranks[k] for k in kinds)  # type: ignore[index]
    assert kinds[-1] == "suspend"
    rng = random.Random(7)
    for _ in range(5):
        shuffled = list(ordered)
        rng.shuffle(shuffled)
        assert _ladder_run(shuffled, policy) == expected


def test_reversed_batch_gives_the_same_sanctions(policy: Policy) -> None:
    ordered = [item(f"p{i}", "vermin", hours=i) for i in range(4)]
    fwd = by_id(audit(ordered, policy, ctx()))
    back = by_id(audit(ordered[::-1], policy, ctx()))
    for key in fwd:
        fs, bs = fwd[key].sanction, back[key].sanction
        assert (fs.kind if fs else None) == (bs.kind if bs else None)
    assert fwd["p0"].sanction is not None and fwd["p0"].sanction.kind == "warn"


# -- ids -------------------------------------------------------------------------------


def _ids(results: Sequence[AuditResult]) -> list[str]:
    out = []
    for r in results:
        out += [d.id for d in r.decisions]
        out += [x.id for x in (r.strike, r.sanction) if x is not None]
    return out


def test_decision_ids_are_deterministic(policy: Policy) -> None:
    batch = make_items(30, accounts=4, every=2)
    a = _ids(audit(batch, policy, ctx()))
    b = _ids(audit(batch, policy, ctx(now=NOW + timedelta(hours=3))))
    assert a and a == b
    assert len(set(a)) == len(a)


def test_decision_ids_depend_on_policy_version(policy: Policy) -> None:
    other = parse_policy(policy.text.replace("appeal_window_days: 180", "appeal_window_days: 90"))
    assert other.version != policy.version
    batch = make_items(12, accounts=3, every=2)
    a = audit(batch, policy, ctx())
    b = audit(batch, other, ctx())
    ids_a, ids_b = _ids(a), _ids(b)
    assert len(ids_a) == len(ids_b) > 0
    assert not set(ids_a) & set(ids_b)
    assert {d.policy_version for r in b for d in r.decisions} == {other.version}


def test_decision_ids_depend_on_content(policy: Policy) -> None:
    (a,) = audit([item("p1", "buynow")], policy, ctx())
    (b,) = audit([item("p1", "buynow now")], policy, ctx())
    assert a.decision is not None and b.decision is not None
    assert a.decision.id != b.decision.id


# -- statement of reasons --------------------------------------------------------------


def test_statement_of_reasons_for_a_removal(policy: Policy) -> None:
    text = "Ｈéllo ☃ friends — buynow and cheapdeal"
    it = item("p1", text)
    (r,) = audit([it], policy, ctx())
    assert r.decision is not None
    reasons = r.decision.reasons
    assert reasons["policy"] == {"name": "vigil-default", "version": policy.version}
    assert reasons["action"] == "remove"
    assert reasons["rule"] == "spam.remove"
    assert reasons["category"] == "spam"
    assert reasons["automated"] is True
    assert reasons["review"] is None
    assert reasons["facts"] == (
        "spam score 0.95 reached the remove threshold 0.90 (rule spam.remove)"
    )
    assert reasons["content_hash"] == it.content_hash
    assert "within 180 days" in reasons["appeal"]
    # both spam signals are in the evidence, each span indexes the original text
    assert {e["text"] for e in reasons["evidence"]} == {"buynow", "cheapdeal"}
    for e in reasons["evidence"]:
        assert text[e["start"]:e["end"]] == e["text"]
        assert e["category"] == "spam"
        assert e["detector"] == "keywords"
    assert reasons["findings"] == [
        {"category": "spam", "score": 0.95, "action": "remove", "rule": "spam.remove",
         "detectors": ["keywords"]}
    ]
    assert [s["score"] for s in reasons["signals"]] == [0.95, 0.6]


def test_statement_of_reasons_for_review(policy: Policy) -> None:
    (r,) = audit([item("p1", "some cheapdeal")], policy, ctx())
    assert r.decision is not None
    reasons = r.decision.reasons
    assert reasons["action"] == "allow"
    assert reasons["rule"] == "spam.review"
    assert "review band" in reasons["facts"]
    assert "0.60" in reasons["facts"] and "from 0.50" in reasons["facts"]
    assert reasons["review"] == {"queue": "standard"}


def test_appeal_window_comes_from_the_policy(policy: Policy) -> None:
    other = parse_policy(policy.text.replace("appeal_window_days: 180", "appeal_window_days: 30"))
    (r,) = audit([item("p1", "buynow")], other, ctx())
    assert r.decision is not None
    assert "within 30 days" in r.decision.reasons["appeal"]
    assert r.sanction_decision is not None
    assert "within 30 days" in r.sanction_decision.reasons["appeal"]


def test_evidence_is_capped(policy: Policy) -> None:
    (r,) = audit([item("p1", "x")], policy, ctx(detectors=[ManyEvidence()]))
    assert r.decision is not None
    ev = r.decision.reasons["evidence"]
    assert len(ev) == MAX_EVIDENCE
    assert [e["note"] for e in ev] == [str(i) for i in range(MAX_EVIDENCE)]


def test_evidence_indexes_the_original_text_with_real_detectors(policy: Policy) -> None:
    text = "Ｈｅｌｌｏ — you are an 1d10t, buy now at http://x.co call +1 555 123 4567"
    it = item("p1", text)
    results = audit([it], policy, ctx(detectors=default_detectors()))
    (r,) = results
    assert r.decision is not None
    spans = [e for e in r.decision.reasons["evidence"] if "start" in e]
    assert spans
    for e in spans:
        assert text[e["start"]:e["end"]] == e["text"]


def test_statement_of_reasons_directly(policy: Policy) -> None:
    it = item("p1", "vermin")
    v = evaluate([Signal("hate", 0.97, "k", "1")], policy)
    reasons = statement_of_reasons(it, v, policy)
    assert reasons["rule"] == "hate.remove"
    assert reasons["facts"].startswith("hate score 0.97 reached the remove threshold 0.95")


# -- edits: previous actions -----------------------------------------------------------


@pytest.mark.parametrize("previous", ["remove", "restrict", "label"])
def test_edit_that_does_not_escalate_records_nothing(policy: Policy, previous: str) -> None:
    # the edited text is only labelled (or less): no new decision
    context = ctx(previous={("chirp", "p1"): previous})
    (r,) = audit([item("p1", "you idiot, edited")], policy, context)
    assert r.verdict.action == "label"
    assert r.decision is None and r.strike is None


def test_edit_to_the_same_removal_gives_no_second_strike(policy: Policy) -> None:
    context = ctx(previous={("chirp", "p1"): "remove"})
    (r,) = audit([item("p1", "buynow, edited")], policy, context)
    assert r.verdict.action == "remove"
    assert r.decision is None and r.strike is None and r.sanction is None
    assert context.accounts == {}


def test_edit_that_escalates_is_decided(policy: Policy) -> None:
    context = ctx(previous={("chirp", "p1"): "label"})
    (r,) = audit([item("p1", "you idiot buynow")], policy, context)
    assert r.decision is not None and r.decision.action == "remove"
    assert r.strike is not None


def test_previous_applies_only_to_its_own_item(policy: Policy) -> None:
    context = ctx(previous={("other", "p1"): "remove", ("chirp", "p2"): "remove"})
    (r,) = audit([item("p1", "buynow")], policy, context)
    assert r.decision is not None and r.strike is not None


def test_clean_item_edited_into_the_review_band_goes_to_review(policy: Policy) -> None:
    context = ctx(previous={("chirp", "p1"): "allow"})
    (r,) = audit([item("p1", "now with a cheapdeal")], policy, context)
    assert r.verdict.review is True
    assert r.decision is not None
    assert r.decision.action == "review"


# -- account state in the context ------------------------------------------------------


def test_context_accounts_updated_in_place(policy: Policy) -> None:
    context = ctx()
    audit([item("p1", "buynow", hours=0), item("p2", "a fine day", account="u9")], policy,
          context)
    assert set(context.accounts) == {("chirp", "u1")}  # clean accounts get no state
    state = context.accounts[("chirp", "u1")]
    assert [s.item_id for s in state.strikes] == ["p1"]
    assert [s.kind for s in state.sanctions] == ["warn"]
    # the next batch sees the first one's history
    (r,) = audit([item("p3", "vermin", hours=1)], policy, context)
    assert r.sanction is not None and r.sanction.kind == "restrict"  # 1 + 2 >= 2.5
    assert context.accounts[("chirp", "u1")] is state
    assert [s.item_id for s in state.strikes] == ["p1", "p3"]
    assert [s.kind for s in state.sanctions] == ["warn", "restrict"]


def test_existing_history_is_used_and_extended(policy: Policy) -> None:
    first = AuditContext(detectors=[KeywordDetector()], now=NOW)
    audit([item("p0", "vermin vermin")], policy, first)  # strike weight 2, same time
    history = first.accounts[("chirp", "u1")]
    state = AccountState("chirp", "u1", list(history.strikes), list(history.sanctions))
    context = ctx(accounts={("chirp", "u1"): state})
    (r,) = audit([item("p1", "vermin")], policy, context)
    assert r.sanction is not None and r.sanction.kind == "suspend"  # 2 + 2 = 4
    assert len(state.strikes) == 2 and len(state.sanctions) == 2


def test_shut_down_account_gets_no_more_sanctions(policy: Policy) -> None:
    shut = Sanction("x", "chirp", "u1", "shut_down", 4, BASE - timedelta(days=1), None, "d")
    state = AccountState("chirp", "u1", [], [shut])
    context = ctx(accounts={("chirp", "u1"): state})
    (r,) = audit([item("p1", "vermin vermin")], policy, context)
    assert r.decision is not None and r.strike is not None
    assert r.sanction is None and r.sanction_decision is None
    assert state.sanctions == [shut]


def test_accounts_are_per_platform(policy: Policy) -> None:
    context = ctx()
    audit([item("p1", "vermin", platform="a"), item("p1", "vermin", platform="b")], policy,
          context)
    assert set(context.accounts) == {("a", "u1"), ("b", "u1")}
    assert all(len(s.strikes) == 1 for s in context.accounts.values())


def test_custom_actor(policy: Policy) -> None:
    (r,) = audit([item("p1", "buynow")], policy, ctx(actor="sweep-7"))
    assert r.decision is not None and r.decision.actor == "sweep-7"
    assert r.sanction_decision is not None and r.sanction_decision.actor == "sweep-7"


# -- detect ----------------------------------------------------------------------------


def test_detectors_run_cheapest_first(policy: Policy) -> None:
    log: list[str] = []
    dets = [Recorder("dear", 9, log), Recorder("cheap", 0, log), Recorder("mid", 3, log)]
    out = detect([item("a", "x"), item("b", "y")], dets)
    assert log == ["cheap", "mid", "dear"]
    assert [[s.detector for s in sigs] for sigs in out] == [["cheap", "mid", "dear"]] * 2
    log.clear()
    audit([item("a", "x")], policy, ctx(detectors=dets))
    assert log == ["cheap", "mid", "dear"]


def test_detect_one_list_per_item() -> None:
    batch = [item("a", "buynow"), item("b", "clean"), item("c", "vermin idiot")]
    out = detect(batch, [KeywordDetector()])
    assert len(out) == 3
    assert [s.category for s in out[0]] == ["spam"]
    assert out[1] == []
    assert sorted(s.category for s in out[2]) == ["harassment", "hate"]
    assert detect([], [KeywordDetector()]) == []
    assert detect(batch, []) == [[], [], []]


def test_detect_raises_on_wrong_number_of_lists() -> None:
    bad = Recorder("bad", 0, [], lists=1)
    with pytest.raises(ValueError):
        detect([item("a", "x"), item("b", "y")], [bad])
    with pytest.raises(ValueError):
        audit([item("a", "x"), item("b", "y")], load_policy(), ctx(detectors=[bad]))


def test_audit_result_signals_and_verdict(policy: Policy) -> None:
    (r,) = audit([item("p1", "idiot cheapdeal")], policy, ctx())
    assert sorted(s.category for s in r.signals) == ["harassment", "spam"]
    assert r.verdict == evaluate(r.signals, policy)


def test_audit_is_repeatable(policy: Policy) -> None:
    batch = make_items(20, accounts=3, every=2)
    a = audit(batch, policy, ctx())
    b = audit([replace(it) for it in batch], policy, ctx())
    assert [r.decisions for r in a] == [r.decisions for r in b]
    assert [r.strike for r in a] == [r.strike for r in b]
    assert [r.sanction for r in a] == [r.sanction for r in b]
