"""vigil.demo_corpus: the synthetic sample corpus behind ``make demo``."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from vigil import demo_corpus
from vigil.demo_corpus import BASE, CATEGORIES, broken_lines, generate, summarize, write_jsonl

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REQUIRED = ("id", "platform", "account", "text", "created_at", "lang", "reach", "kind", "_truth")
# Share of violating rows per category: (low, high).
BANDS = {"spam": (0.45, 0.65), "harassment": (0.14, 0.28), "sexual": (0.05, 0.14),
         "hate": (0.03, 0.10), "violence": (0.04, 0.11), "child_safety": (0.01, 0.04)}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return generate()


def violating(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["_truth"] != "none"]


def test_deterministic_for_a_seed() -> None:
    assert generate(3, 600, 60) == generate(3, 600, 60)


def test_another_seed_gives_another_corpus() -> None:
    a, b = generate(3, 600, 60), generate(4, 600, 60)
    assert [r["text"] for r in a] != [r["text"] for r in b]


def test_sizes(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 3000
    assert len({r["account"] for r in rows}) == 300
    assert len(generate(1, 250, 25)) == 250


def test_ids_unique_per_platform(rows: list[dict[str, Any]]) -> None:
    keys = [(r["platform"], r["id"]) for r in rows]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[pca]-\d{6}", r["id"]) for r in rows)
    assert all(r["account"].startswith(r["platform"] + "_u") for r in rows)


def test_rows_are_well_formed(rows: list[dict[str, Any]]) -> None:
    seen: set[tuple[str, str]] = set()
    end = BASE + timedelta(days=demo_corpus.SPAN_DAYS)
    last = BASE
    for r in rows:
        assert all(k in r for k in REQUIRED), r
        assert isinstance(r["text"], str) and r["text"].strip()
        assert r["created_at"].endswith("Z")
        at = datetime.fromisoformat(r["created_at"])
        assert BASE <= at < end
        assert at >= last  # oldest first
        last = at
        assert r["lang"] in ("en", "zh")
        assert r["kind"] in ("post", "comment", "article")
        assert isinstance(r["reach"], int) and r["reach"] >= 0
        assert r["_truth"] in (*CATEGORIES, "none")
        if "reply_to" in r:  # answers an earlier item on the same platform
            assert r["kind"] == "comment" and (r["platform"], r["reply_to"]) in seen
        seen.add((r["platform"], r["id"]))
    assert any("url" in r for r in rows) and any("reply_to" in r for r in rows)


def test_category_rates(rows: list[dict[str, Any]]) -> None:
    bad = violating(rows)
    assert 0.15 <= len(bad) / len(rows) <= 0.20
    counts = Counter(r["_truth"] for r in bad)
    assert counts.most_common(1)[0][0] == "spam"
    for cat, (lo, hi) in BANDS.items():
        assert lo <= counts[cat] / len(bad) <= hi, (cat, counts[cat])
    assert 5 <= counts["child_safety"] <= 25


def test_evasion_mix(rows: list[dict[str, Any]]) -> None:
    bad = violating(rows)
    evasions = Counter(r["_evasion"] for r in bad if "_evasion" in r)
    assert 0.25 <= sum(evasions.values()) / len(bad) <= 0.35
    assert {"leet", "spaced", "zero_width", "homoglyph", "repeat", "separator",
            "traditional"} <= set(evasions)
    assert not any("_evasion" in r for r in rows if r["_truth"] == "none")
    assert any("\u200b" in r["text"] for r in bad)
    assert any(re.search("[а-яё]", r["text"]) for r in bad)  # Cyrillic homoglyphs


def test_repeat_offenders_and_most_accounts_clean(rows: list[dict[str, Any]]) -> None:
    per = Counter(r["account"] for r in violating(rows))
    assert sum(1 for n in per.values() if n >= 4) >= 10
    # offenders (not spam rings) spread their violations over weeks
    spread = defaultdict(list)
    for r in violating(rows):
        if r["_truth"] != "spam":
            spread[r["account"]].append(datetime.fromisoformat(r["created_at"]))
    weeks = [max(ts) - min(ts) for ts in spread.values() if len(ts) >= 4]
    assert len(weeks) >= 10 and all(w >= timedelta(days=7) for w in weeks)
    assert len(per) < 0.5 * len({r["account"] for r in rows})


def test_spam_rings_share_handles(rows: list[dict[str, Any]]) -> None:
    who: defaultdict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["_truth"] == "spam":
            for h in re.findall(r"@\w{4,}|[a-z]+\d{2,}|\d{9,10}", r["text"]):
                who[h].add(r["account"])
    assert sum(1 for accts in who.values() if len(accts) >= 3) >= 3


def test_languages_and_platforms(rows: list[dict[str, Any]]) -> None:
    langs = defaultdict(set)
    for r in rows:
        langs[r["platform"]].add(r["lang"])
    assert set(langs) == {"chirp", "weiqun", "forumly"}
    assert sum(1 for s in langs.values() if s == {"en", "zh"}) >= 2
    assert any(r["kind"] == "article" and len(r["text"]) > 150 for r in rows)


def test_reach_is_heavy_tailed(rows: list[dict[str, Any]]) -> None:
    reach = [r["reach"] for r in rows]
    assert statistics.median(reach) < 500
    assert sum(1 for x in reach if x > 50_000) >= 1


def test_hard_negatives_are_ordinary(rows: list[dict[str, Any]]) -> None:
    fine = [r["text"] for r in rows if r["_truth"] == "none"]
    assert any("I hate Mondays" in t for t in fine)
    assert any(re.search(r"\bshit\b|fucking|他妈", t) for t in fine)
    assert any("go back to your country" in t for t in fine)  # condemned, not meant


def test_committed_corpus_matches_generator(rows: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    assert write_jsonl(out, rows) == 3000
    committed = EXAMPLES / "sample_corpus.jsonl"
    assert committed.read_bytes() == out.read_bytes(), (
        "examples/sample_corpus.jsonl drifted: regenerate with "
        "python -m vigil.demo_corpus -o examples/sample_corpus.jsonl "
        "--broken examples/broken_sample.jsonl")


def test_broken_sample(rows: list[dict[str, Any]]) -> None:
    lines = (EXAMPLES / "broken_sample.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == broken_lines(rows)
    assert len(lines) == 20
    problems = {}
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            problems[n] = "invalid JSON"
            continue
        if not isinstance(obj, dict):
            problems[n] = "not an object"
        elif "text" not in obj:
            problems[n] = "missing text"
        else:
            try:
                datetime.fromisoformat(obj["created_at"])
            except ValueError:
                problems[n] = "bad created_at"
    assert problems == {3: "invalid JSON", 8: "missing text", 13: "bad created_at",
                        17: "not an object"}


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.jsonl"
    assert demo_corpus.main(["-o", str(out), "--seed", "2", "--items", "200",
                             "--accounts", "20"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 200
    assert "truth:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        demo_corpus.main(["--help"])
    assert e.value.code == 0
    with pytest.raises(SystemExit):
        demo_corpus.main(["-o", str(out), "--accounts", "3"])


def test_summarize(rows: list[dict[str, Any]]) -> None:
    s = summarize(rows)
    assert sum(s["truth"].values()) == sum(s["platform"].values()) == 3000
    assert s["accounts"]["total"] == 300
