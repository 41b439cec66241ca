"""vigil.policy: loading and validating policy YAML, versions, and evaluate()."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from vigil.detectors import CATEGORIES, Signal
from vigil.errors import PolicyError, PolicyProblem
from vigil.policy import Policy, load_policy, parse_policy

EIGHT = {
    "spam", "sexual", "harassment", "hate", "violence", "misinformation", "plagiarism",
    "child_safety",
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy()


def default_text() -> str:
    return (resources.files("vigil") / "data" / "policy" / "default.yaml").read_text("utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    for n, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in text")


def problems_of(text: str, source: str = "p.yaml") -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source)
    problems = info.value.problems
    assert problems, "a PolicyError must carry at least one problem"
    # the exception's message lists every problem
    for p in problems:
        assert str(p) in str(info.value)
    return problems


def only_problem(text: str) -> PolicyProblem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def sig(category: str, score: float, detector: str = "t") -> Signal:
    return Signal(category, score, detector, "1")


# -- the bundled default ---------------------------------------------------------------


def test_default_loads_with_the_eight_categories(policy: Policy) -> None:
    assert policy.name == "vigil-default"
    assert set(policy.categories) == EIGHT
    assert set(CATEGORIES) == EIGHT
    assert policy.source == "default.yaml"
    assert policy.text == default_text()
    assert re.fullmatch(r"[0-9a-f]{12}", policy.version)


def test_default_policy_content(policy: Policy) -> None:
    cs = policy.categories["child_safety"]
    assert cs.always_review is True
    assert cs.review_queue == "urgent"
    assert cs.severity == 5
    assert policy.categories["spam"].thresholds == {"restrict": 0.75, "remove": 0.9}
    assert policy.categories["hate"].strike == 2.0
    assert policy.categories["misinformation"].strike == 0.0
    assert [(r.sanction, r.at, r.days) for r in policy.data.ladder] == [
        ("warn", 1.0, None), ("restrict", 2.5, 7.0), ("suspend", 4.0, 30.0),
        ("shut_down", 6.0, None),
    ]
    assert policy.data.strikes.on_actions == ["remove"]
    assert policy.data.strikes.half_life_days == 90.0
    assert policy.data.appeal_window_days == 180
    # every category except child_safety goes to the standard queue
    assert {c for c, r in policy.categories.items() if r.review_queue != "standard"} == {
        "child_safety"
    }


def test_load_policy_by_path_equals_bundled(tmp_path: Path, policy: Policy) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(default_text(), encoding="utf-8")
    mine = load_policy(p)
    assert mine.version == policy.version
    assert mine.source == str(p)
    assert load_policy(str(p)).version == policy.version


def test_load_policy_missing_file_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "policy.yaml"
    with pytest.raises(PolicyError) as info:
        load_policy(missing)
    (problem,) = info.value.problems
    assert problem.file == str(missing)
    assert str(missing) in str(info.value)
    assert "no such file" in problem.why.lower()


# -- versions --------------------------------------------------------------------------

SMALL = """\
name: t
categories:
  spam:
    severity: 2
    thresholds: {restrict: 0.75, remove: 0.9}
    review_from: 0.5
ladder:
  - {sanction: warn, at: 1}
  - {sanction: suspend, at: 3, days: 10}
"""

SMALL_RELAID = """\
# the same policy, written differently

ladder:
  - at: 1
    sanction: warn       # a comment
  - days: 10
    at: 3
    sanction: suspend
categories:
  spam:
    review_from: 0.50
    thresholds:
      remove: 0.9
      restrict: 0.75
    severity: 2


name: t   # trailing comment
"""


def test_version_ignores_comments_whitespace_and_key_order() -> None:
    a = parse_policy(SMALL)
    b = parse_policy(SMALL_RELAID)
    assert a.data == b.data
    assert a.version == b.version


def test_default_version_ignores_its_comments(policy: Policy) -> None:
    stripped = "\n".join(
        line for line in default_text().splitlines() if not line.lstrip().startswith("#")
    )
    assert stripped != default_text()
    assert parse_policy(stripped).version == policy.version


def test_version_ignores_int_versus_float_spelling() -> None:
    a = parse_policy(SMALL)
    b = parse_policy(SMALL.replace("at: 3, days: 10", "at: 3.0, days: 10.0"))
    assert a.data == b.data
    assert a.version == b.version


@pytest.mark.parametrize(
    "old, new",
    [
        ("remove: 0.9}", "remove: 0.91}"),
        ("review_from: 0.5", "review_from: 0.55"),
        ("severity: 2", "severity: 3"),
        ("at: 3, days: 10", "at: 3, days: 11"),
        ("name: t", "name: t2"),
    ],
)
def test_version_changes_when_content_changes(old: str, new: str) -> None:
    assert old in SMALL
    changed = SMALL.replace(old, new)
    assert parse_policy(changed).version != parse_policy(SMALL).version


def test_version_of_changed_default_threshold(policy: Policy) -> None:
    text = default_text().replace("{restrict: 0.75, remove: 0.9}", "{restrict: 0.75, remove: 0.92}")
    assert text != default_text()
    changed = parse_policy(text)
    assert changed.version != policy.version
    assert changed.categories["spam"].thresholds["remove"] == 0.92


def test_version_is_stable_across_loads(policy: Policy) -> None:
    assert load_policy().version == policy.version
    assert parse_policy(default_text(), "elsewhere.yaml").version == policy.version


# -- validation problems: file, line, key, why -----------------------------------------


def cat(body: str, name: str = "spam") -> str:
    """A policy with one category whose body is ``body`` (indented by the caller)."""
    return f"name: t\ndescription: test\ncategories:\n  {name}:\n{body}"


def test_threshold_above_one() -> None:
    text = cat("    severity: 2\n    thresholds: {label: 0.5, remove: 1.5}\n")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'thresholds:')}"
    assert p.key == "categories.spam.thresholds"
    assert "remove" in p.why
    assert "(0, 1]" in p.why
    assert "1.5" in p.why


def test_threshold_zero_is_rejected() -> None:
    p = only_problem(cat("    severity: 2\n    thresholds: {label: 0}\n"))
    assert p.key == "categories.spam.thresholds"
    assert "(0, 1]" in p.why


def test_stronger_action_with_lower_threshold() -> None:
    text = cat("    severity: 2\n    thresholds:\n      label: 0.8\n      remove: 0.7\n")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'spam:')}"
    assert p.key == "categories.spam"
    assert "stronger action" in p.why
    assert "remove (0.7) < label (0.8)" in p.why


def test_stronger_action_order_is_by_rank_not_by_yaml_order() -> None:
    # written strongest first, but the thresholds increase with strength: valid
    ok = parse_policy(cat("    severity: 2\n    thresholds: {remove: 0.9, label: 0.5}\n"))
    assert ok.categories["spam"].thresholds == {"remove": 0.9, "label": 0.5}
    # restrict below label is wrong even when label is written last
    p = only_problem(cat("    severity: 2\n    thresholds: {restrict: 0.4, label: 0.6}\n"))
    assert "restrict (0.4) < label (0.6)" in p.why


def test_equal_thresholds_are_allowed() -> None:
    ok = parse_policy(cat("    severity: 2\n    thresholds: {label: 0.8, remove: 0.8}\n"))
    assert ok.categories["spam"].thresholds == {"label": 0.8, "remove": 0.8}


def test_review_from_above_lowest_threshold() -> None:
    text = cat("    severity: 2\n    thresholds: {label: 0.6, remove: 0.9}\n    review_from: 0.7\n")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'spam:')}"
    assert p.key == "categories.spam"
    assert "review_from" in p.why
    assert "lowest" in p.why
    # equal to the lowest threshold is allowed (an empty review band)
    parse_policy(text.replace("review_from: 0.7", "review_from: 0.6"))


def test_review_from_out_of_range() -> None:
    p = only_problem(cat("    severity: 2\n    review_from: 1.5\n"))
    assert p.key == "categories.spam.review_from"
    assert "1" in p.why


def test_category_needs_threshold_or_review_from() -> None:
    text = cat("    severity: 2\n")
    p = only_problem(text)
    assert p.key == "categories.spam"
    assert p.file == f"p.yaml:{line_of(text, 'spam:')}"
    assert "threshold" in p.why and "review_from" in p.why
    # review_from alone is enough
    only_review = parse_policy(cat("    severity: 2\n    review_from: 0.4\n"))
    assert only_review.categories["spam"].thresholds == {}


def test_misspelt_key() -> None:
    text = cat("    severity: 2\n    review_from: 0.5\n    tresholds: {remove: 0.9}\n")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'tresholds')}"
    assert p.key == "categories.spam.tresholds"
    assert "not permitted" in p.why


def test_misspelt_top_level_key() -> None:
    text = SMALL + "appeal_window: 30\n"
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'appeal_window')}"
    assert p.key == "appeal_window"
    assert "not permitted" in p.why


def test_unknown_action_in_thresholds() -> None:
    text = cat("    severity: 2\n    thresholds:\n      label: 0.5\n      ban: 0.9\n")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'ban:')}"
    assert p.key.startswith("categories.spam.thresholds.ban")
    assert "'label', 'restrict' or 'remove'" in p.why


def test_unknown_action_key_is_a_clean_dotted_key() -> None:
    p = only_problem(cat("    severity: 2\n    thresholds: {ban: 0.9}\n"))
    assert p.key == "categories.spam.thresholds.ban"


def test_ladder_at_not_increasing() -> None:
    text = SMALL.replace(
        "  - {sanction: suspend, at: 3, days: 10}\n",
        "  - {sanction: suspend, at: 3, days: 10}\n  - {sanction: shut_down, at: 3}\n",
    )
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'ladder:')}"
    assert p.key == "ladder"
    assert "must increase" in p.why
    assert "shut_down" in p.why
    # a decreasing step is caught too
    p2 = only_problem(SMALL.replace("at: 3, days", "at: 0.5, days"))
    assert p2.key == "ladder"
    assert "suspend at 0.5 <= 1" in p2.why


def test_suspend_without_days() -> None:
    text = SMALL.replace("{sanction: suspend, at: 3, days: 10}", "{sanction: suspend, at: 3}")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'sanction: suspend')}"
    assert p.key == "ladder.1"
    assert "suspend needs 'days'" in p.why


def test_restrict_without_days() -> None:
    text = SMALL.replace("{sanction: suspend, at: 3, days: 10}", "{sanction: restrict, at: 3}")
    p = only_problem(text)
    assert p.key == "ladder.1"
    assert "restrict needs 'days'" in p.why


def test_warn_with_days() -> None:
    text = SMALL.replace("{sanction: warn, at: 1}", "{sanction: warn, at: 1, days: 3}")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'sanction: warn')}"
    assert p.key == "ladder.0"
    assert "warn cannot be timed" in p.why


def test_shut_down_with_days() -> None:
    text = SMALL.replace("{sanction: suspend, at: 3, days: 10}",
                         "{sanction: shut_down, at: 3, days: 10}")
    p = only_problem(text)
    assert p.key == "ladder.1"
    assert "shut_down cannot be timed" in p.why


def test_unknown_sanction() -> None:
    text = SMALL.replace("sanction: warn", "sanction: scold")
    p = only_problem(text)
    assert p.key == "ladder.0.sanction"
    assert p.file == f"p.yaml:{line_of(text, 'scold')}"
    assert "warn" in p.why and "shut_down" in p.why


@pytest.mark.parametrize("severity, why", [(0, "greater than or equal to 1"),
                                            (6, "less than or equal to 5")])
def test_severity_out_of_range(severity: int, why: str) -> None:
    text = cat(f"    review_from: 0.4\n    severity: {severity}\n")
    p = only_problem(text)
    assert p.file == f"p.yaml:{line_of(text, 'severity:')}"
    assert p.key == "categories.spam.severity"
    assert why in p.why


def test_missing_severity_points_at_the_category() -> None:
    text = cat("    review_from: 0.4\n")
    p = only_problem(text)
    assert p.key == "categories.spam.severity"
    assert p.file == f"p.yaml:{line_of(text, 'spam:')}"
    assert "required" in p.why.lower()


def test_missing_name() -> None:
    p = only_problem("categories:\n  spam: {severity: 1, review_from: 0.3}\n")
    assert p.key == "name"
    assert p.file == "p.yaml:1"
    assert "required" in p.why.lower()


def test_bad_category_name() -> None:
    text = cat("    severity: 2\n    review_from: 0.4\n", name="Bad-Name")
    p = only_problem(text)
    assert p.key == "categories"
    assert p.file == f"p.yaml:{line_of(text, 'categories:')}"
    assert "lower_snake_case" in p.why
    assert "Bad-Name" in p.why


def test_yaml_syntax_error_gives_the_line() -> None:
    text = "name: t\ncategories:\n  spam:\n    severity: 2\n   thresholds: {remove: 0.9}\n"
    p = only_problem(text)
    assert p.file == "p.yaml"
    assert "line 5" in str(p)
    assert "not valid YAML" in p.why


def test_yaml_tab_gives_the_line() -> None:
    p = only_problem("name: t\n\tcategories: {}\n")
    assert str(p).startswith("p.yaml: line 2:")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "", "# only a comment\n",
                                  "42\n"])
def test_top_level_not_a_mapping(text: str) -> None:
    p = only_problem(text)
    assert p.file == "p.yaml"
    assert p.key == "(document)"
    assert "mapping" in p.why


def test_several_problems_reported_together() -> None:
    text = """\
name: t
categories:
  spam:
    severity: 2
    tresholds: {remove: 0.9}
    review_from: 0.5
  hate:
    severity: 9
    thresholds: {remove: 0.8}
  sexual:
    severity: 3
    thresholds: {label: 0.6, remove: 1.2}
ladder:
  - {sanction: warn, at: 1, days: 3}
  - {sanction: suspend, at: 2}
appeal_window_days: -1
"""
    problems = problems_of(text)
    got = {p.key: p for p in problems}
    assert set(got) == {
        "categories.spam.tresholds",
        "categories.hate.severity",
        "categories.sexual.thresholds",
        "ladder.0",
        "ladder.1",
        "appeal_window_days",
    }
    assert got["categories.spam.tresholds"].file == f"p.yaml:{line_of(text, 'tresholds')}"
    assert got["categories.hate.severity"].file == f"p.yaml:{line_of(text, 'severity: 9')}"
    assert got["categories.sexual.thresholds"].file == f"p.yaml:{line_of(text, '1.2')}"
    assert got["ladder.0"].file == f"p.yaml:{line_of(text, 'days: 3')}"
    assert got["ladder.1"].file == f"p.yaml:{line_of(text, 'at: 2}')}"
    assert got["appeal_window_days"].file == f"p.yaml:{line_of(text, 'appeal_window')}"


def test_problems_name_the_given_source() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(cat("    severity: 7\n    review_from: 0.1\n"), "/etc/vigil/strict.yaml")
    (p,) = info.value.problems
    assert p.file == "/etc/vigil/strict.yaml:5"
    assert str(info.value).startswith("/etc/vigil/strict.yaml:5: categories.spam.severity: ")


def test_error_in_a_file_loaded_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    text = default_text().replace("severity: 4\n    thresholds: {remove: 0.95}",
                                  "severity: 4\n    thresholds: {remove: 95}", 1)
    assert text != default_text()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    (p,) = info.value.problems
    assert p.file == f"{path}:{line_of(text, 'remove: 95')}"
    assert p.key == "categories.hate.thresholds"
