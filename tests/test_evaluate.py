"""vigil.policy.evaluate: from one item's signals to a verdict."""

from __future__ import annotations

import pytest

from tests.test_policy import SMALL, default_text
from vigil.detectors import Signal
from vigil.policy import Policy, evaluate, load_policy, parse_policy


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def sig(category: str, score: float, detector: str = "t") -> Signal:
    return Signal(category, score, detector, "1")


# -- evaluate --------------------------------------------------------------------------


def test_no_signals_allow(policy: Policy) -> None:
    v = evaluate([], policy)
    assert v.action == "allow"
    assert v.review is False
    assert v.queue is None
    assert v.category is None
    assert v.rule is None
    assert v.findings == ()
    assert v.primary is None
    assert v.scores == {}
    assert v.policy_version == policy.version


@pytest.mark.parametrize("category, score", [("spam", 0.49), ("hate", 0.1),
                                             ("child_safety", 0.29), ("misinformation", 0.0)])
def test_below_review_from_allow_without_findings(policy: Policy, category: str,
                                                  score: float) -> None:
    v = evaluate([sig(category, score)], policy)
    assert v.action == "allow"
    assert v.review is False
    assert v.findings == ()
    assert v.category is None


@pytest.mark.parametrize("score", [0.5, 0.6, 0.7499])
def test_review_band(policy: Policy, score: float) -> None:
    v = evaluate([sig("spam", score)], policy)
    assert v.action == "allow"
    assert v.review is True
    assert v.queue == "standard"
    assert v.category == "spam"
    assert v.rule == "spam.review"
    (f,) = v.findings
    assert f.action == "allow"
    assert f.review is True
    assert f.rule == "spam.review"
    assert f.threshold == 0.5
    assert f.score == score
    assert v.primary is f


@pytest.mark.parametrize(
    "category, score, action, threshold",
    [
        ("spam", 0.75, "restrict", 0.75),
        ("spam", 0.8999, "restrict", 0.75),
        ("spam", 0.9, "remove", 0.9),
        ("spam", 1.0, "remove", 0.9),
        ("sexual", 0.6, "label", 0.6),
        ("sexual", 0.85, "remove", 0.85),
        ("harassment", 0.7, "label", 0.7),
        ("hate", 0.95, "remove", 0.95),
        ("violence", 0.93, "remove", 0.93),
        ("misinformation", 0.8, "label", 0.8),
        ("plagiarism", 0.95, "restrict", 0.85),
    ],
)
def test_at_or_above_threshold(policy: Policy, category: str, score: float, action: str,
                               threshold: float) -> None:
    v = evaluate([sig(category, score)], policy)
    assert v.action == action
    assert v.review is False
    assert v.queue is None
    assert v.category == category
    assert v.rule == f"{category}.{action}"
    (f,) = v.findings
    assert f.action == action
    assert f.threshold == threshold
    assert f.review is False


def test_strongest_action_across_categories_wins(policy: Policy) -> None:
    v = evaluate([sig("harassment", 0.75), sig("spam", 0.95), sig("misinformation", 0.65)],
                 policy)
    assert v.action == "remove"
    assert v.category == "spam"
    assert v.rule == "spam.remove"
    assert [f.category for f in v.findings] == ["spam", "harassment", "misinformation"]
    assert v.scores == {"spam": 0.95, "harassment": 0.75, "misinformation": 0.65}
    # misinformation is in its review band, so the item also goes to review
    assert v.review is True
    assert v.queue == "standard"


def test_tie_on_action_goes_to_the_more_severe_category(policy: Policy) -> None:
    for signals in ([sig("spam", 0.99), sig("hate", 0.96)],
                    [sig("hate", 0.96), sig("spam", 0.99)]):
        v = evaluate(signals, policy)
        assert v.action == "remove"
        assert v.category == "hate"  # severity 4 beats spam's 2, despite the lower score
        assert v.rule == "hate.remove"
        assert [f.category for f in v.findings] == ["hate", "spam"]


def test_tie_on_action_and_severity_goes_to_the_higher_score(policy: Policy) -> None:
    # sexual and harassment are both severity 3; both labelled
    v = evaluate([sig("sexual", 0.65), sig("harassment", 0.8)], policy)
    assert v.action == "label"
    assert v.category == "harassment"


def test_child_safety_always_reviewed_urgently_even_when_removed(policy: Policy) -> None:
    v = evaluate([sig("child_safety", 0.95)], policy)
    assert v.action == "remove"
    assert v.rule == "child_safety.remove"
    assert v.review is True
    assert v.queue == "urgent"
    assert v.findings[0].review is True


def test_child_safety_review_band_is_urgent(policy: Policy) -> None:
    v = evaluate([sig("child_safety", 0.3)], policy)
    assert v.action == "allow"
    assert v.review is True
    assert v.queue == "urgent"
    assert v.rule == "child_safety.review"


def test_urgent_queue_wins_over_standard(policy: Policy) -> None:
    for signals in ([sig("spam", 0.6), sig("child_safety", 0.5)],
                    [sig("child_safety", 0.5), sig("spam", 0.6)]):
        v = evaluate(signals, policy)
        assert v.review is True
        assert v.queue == "urgent"


def test_removal_without_always_review_is_not_reviewed(policy: Policy) -> None:
    v = evaluate([sig("hate", 0.99)], policy)
    assert v.action == "remove"
    assert v.review is False
    assert v.queue is None


def test_unknown_category_signals_are_ignored(policy: Policy) -> None:
    v = evaluate([sig("weather", 0.99), sig("spam", 0.3)], policy)
    assert v.action == "allow"
    assert v.findings == ()
    small = parse_policy(SMALL)
    v2 = evaluate([sig("hate", 0.99), sig("spam", 0.6)], small)
    assert v2.action == "allow"
    assert v2.review is True
    assert [f.category for f in v2.findings] == ["spam"]
    assert v2.policy_version == small.version


def test_max_score_per_category_counts_and_all_signals_are_kept(policy: Policy) -> None:
    a, b, c = sig("spam", 0.6, "a"), sig("spam", 0.92, "b"), sig("spam", 0.3, "c")
    other = sig("harassment", 0.72, "d")
    v = evaluate([a, other, b, c], policy)
    assert v.action == "remove"
    spam = v.primary
    assert spam is not None and spam.category == "spam"
    assert spam.score == 0.92
    assert spam.threshold == 0.9
    assert spam.signals == (b, a, c)  # all of them, strongest first
    harassment = next(f for f in v.findings if f.category == "harassment")
    assert harassment.signals == (other,)


def test_evaluate_does_not_mutate_its_input(policy: Policy) -> None:
    signals = [sig("spam", 0.3), sig("spam", 0.95)]
    before = list(signals)
    evaluate(signals, policy)
    assert signals == before


def test_verdict_names_the_policy_version(policy: Policy) -> None:
    other = parse_policy(default_text().replace("remove: 0.85}", "remove: 0.8}", 1))
    assert other.version != policy.version
    assert evaluate([sig("spam", 0.95)], other).policy_version == other.version
    assert evaluate([sig("spam", 0.95)], policy).policy_version == policy.version
