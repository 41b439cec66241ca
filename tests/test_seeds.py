"""The hand-written seed training examples in ``vigil/data/seeds``: schema, coverage of the
thin categories and the hard negatives, and no (near-)duplicates within a language."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

import pytest

LANGS = ("en", "zh")
ALLOWED = frozenset({"spam", "sexual", "harassment", "hate", "violence", "child_safety"})
NEGATIVE = "(negative)"

# The minimum number of lines carrying each label, per language (NEGATIVE: labels == []).
MINIMUMS: dict[str, dict[str, int]] = {
    "en": {"violence": 120, "sexual": 120, "hate": 80, "harassment": 80,
           "child_safety": 20, NEGATIVE: 400},
    "zh": {"violence": 120, "sexual": 120, "hate": 80, "harassment": 80, "spam": 150,
           "child_safety": 20, NEGATIVE: 400},
}

SHINGLE = 5
MAX_JACCARD = 0.7  # character 5-gram Jaccard between any two lines of one language


@cache
def rows(lang: str) -> list[dict[str, Any]]:
    ref = resources.files("vigil").joinpath("data", "seeds", f"{lang}.jsonl")
    out = []
    for n, line in enumerate(ref.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{lang}.jsonl:{n}: blank line"
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:  # pragma: no cover - failure path
            pytest.fail(f"{lang}.jsonl:{n}: not JSON: {exc}")
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_schema(lang: str) -> None:
    for n, row in enumerate(rows(lang), 1):
        where = f"{lang}.jsonl:{n}"
        assert isinstance(row, dict), where
        assert set(row) == {"text", "lang", "labels"}, where
        text, labels = row["text"], row["labels"]
        assert row["lang"] == lang, where
        assert isinstance(text, str) and text == text.strip() and text, where
        assert "\n" not in text and "\r" not in text, where
        assert isinstance(labels, list), where
        assert all(isinstance(x, str) for x in labels), where
        assert len(set(labels)) == len(labels), f"{where}: repeated label"
        assert set(labels) <= ALLOWED, f"{where}: unknown label {set(labels) - ALLOWED}"


def label_counts(lang: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for row in rows(lang):
        counts.update(row["labels"] or [NEGATIVE])
    return counts


@pytest.mark.parametrize("lang", LANGS)
def test_minimum_counts(lang: str) -> None:
    counts = label_counts(lang)
    short = {k: (counts[k], need) for k, need in MINIMUMS[lang].items() if counts[k] < need}
    assert not short, f"{lang}: below minimum (have, need): {short}"


@pytest.mark.parametrize("lang", LANGS)
def test_no_exact_duplicates(lang: str) -> None:
    texts = Counter(row["text"] for row in rows(lang))
    dups = [t for t, c in texts.items() if c > 1]
    assert not dups, dups


def shingles(text: str) -> frozenset[str]:
    t = re.sub(r"\s+", " ", text.casefold())
    return frozenset(t[i : i + SHINGLE] for i in range(max(1, len(t) - SHINGLE + 1)))


@pytest.mark.parametrize("lang", LANGS)
def test_no_near_duplicates(lang: str) -> None:
    """All pairs, pruned by size: J(a, b) <= min(|a|,|b|) / max(|a|,|b|)."""
    items = sorted(((shingles(r["text"]), r["text"]) for r in rows(lang)),
                   key=lambda x: len(x[0]))
    close = []
    for i, (a, ta) in enumerate(items):
        for b, tb in items[i + 1 :]:
            if len(a) < MAX_JACCARD * len(b):
                break
            inter = len(a & b)
            if inter / (len(a) + len(b) - inter) >= MAX_JACCARD:
                close.append((ta, tb))
    assert not close, close[:10]
