"""Obfuscation-robust term matching: one Aho-Corasick automaton over every lexicon.

A lexicon is a plain UTF-8 file ``<category>.<lang>.txt`` (``lang`` is ``en``, ``zh`` or
``any``) with one term per line, ``term<TAB>score``; the score is in (0, 1] and defaults
to 0.9 when omitted; lines starting with ``#`` and blank lines are skipped. The bundled
lists live in the package data ``vigil/data/lexicons``.

Every term goes through the same :func:`~vigil.normalize.normalize` as the text it is
matched against (the aggressive "match" view), so terms are written in plain form and
still match zero-width, leetspeak, spaced, homoglyph, repeated-letter and traditional
Chinese variants. Matching then runs on ``Prepared.match.text``:

- a term whose first (last) character is a letter or digit of a script written with
  spaces (Latin, Cyrillic...) needs a non-letter/digit or the text edge before (after)
  it, so "ass" does not fire in "class" nor "hell" in "hello"; CJK characters need no
  boundary and also count as one for an adjacent Latin term ("你个sb");
- a one-word term that loses letters when repeats collapse ("ass" -> "as",
  "nigger" -> "niger") must cover at least as many characters of the original text as
  it has, so the words "as" and "Niger" stay quiet while "a$$", "asss" and "niiiger"
  still match; list the shorter spelling as a term of its own to catch it too;
- a match inside a longer match of the same category counts only once, as the longer
  one ("fuck you" rather than "fuck you" + "fuck").

Scoring, per category: the highest score among the distinct terms that matched, raised
by a damped noisy-OR for every further distinct term,
``s <- s + (1 - s) * BOOST * t`` (BOOST = 0.25), never above 0.99 from boosting.
A term's lexicon language does not limit where it applies: posts mix languages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import ahocorasick

from vigil.detectors import CATEGORIES, Evidence, Example, Prepared, Signal
from vigil.errors import InputError
from vigil.normalize import normalize

LANGS: tuple[str, ...] = ("en", "zh", "any")
DEFAULT_SCORE = 0.9
BOOST = 0.25
BOOST_CAP = 0.99
MAX_EVIDENCE = 10
"""Evidence spans kept per category and item (the score already counts every match)."""
RULES = "1"
"""Bump when matching or scoring changes; the version is ``RULES.<hash of the terms>``."""

LexiconSource = Path | str | Traversable


@dataclass(frozen=True, slots=True)
class Term:
    """One lexicon entry as written (before normalisation)."""

    category: str
    lang: str
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the automaton stores for one normalised key."""

    length: int
    left: bool  # needs a word boundary before
    right: bool  # needs a word boundary after
    hits: tuple[tuple[str, float, str, int], ...]  # category, score, term, min. span


def bundled_lexicons() -> list[Traversable]:
    """The lexicon files shipped in ``vigil/data/lexicons``, sorted by name."""
    root = resources.files("vigil").joinpath("data", "lexicons")
    return sorted(
        (f for f in root.iterdir() if f.is_file() and f.name.endswith(".txt")),
        key=lambda f: f.name,
    )


def parse_lexicon(text: str, *, category: str, lang: str, where: str = "") -> list[Term]:
    """Parse one lexicon file's text; raise :class:`InputError` naming the bad line."""
    _check_name(category, lang, where)
    terms = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        term, tab, score_text = line.partition("\t")
        term = term.strip()
        score = DEFAULT_SCORE
        if tab:
            try:
                score = float(score_text.strip())
            except ValueError:
                raise InputError(
                    f"score {score_text.strip()!r} is not a number", where=where, line=number
                ) from None
        if not 0.0 < score <= 1.0:
            raise InputError(f"score {score} is not in (0, 1]", where=where, line=number)
        if not term:
            raise InputError("empty term", where=where, line=number)
        terms.append(Term(category, lang, term, score))
    return terms


def load_lexicon(path: LexiconSource) -> list[Term]:
    """Read one ``<category>.<lang>.txt`` file, or every such file in a directory."""
    source: Traversable = Path(path) if isinstance(path, str) else path
    if source.is_dir():
        return [
            t
            for f in sorted(source.iterdir(), key=lambda f: f.name)
            if f.is_file() and f.name.endswith(".txt")
            for t in load_lexicon(f)
        ]
    parts = source.name.split(".")
    if len(parts) != 3 or parts[2] != "txt":
        raise InputError("lexicon file must be named <category>.<lang>.txt", where=str(path))
    return parse_lexicon(
        source.read_text(encoding="utf-8"), category=parts[0], lang=parts[1], where=str(path)
    )


def _check_name(category: str, lang: str, where: str) -> None:
    if category not in CATEGORIES:
        raise InputError(f"unknown category {category!r}; known: {CATEGORIES}", where=where)
    if lang not in LANGS:
        raise InputError(f"unknown lexicon language {lang!r}; known: {LANGS}", where=where)


def is_cjk(c: str) -> bool:
    o = ord(c)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, kana, CJK symbols, ext. A, unified ideographs
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= o <= 0x3FFFF  # ext. B and later
    )


def is_word_char(c: str) -> bool:
    """A letter or digit of a script that separates words with spaces."""
    return c.isalnum() and not is_cjk(c)


def _version(terms: Iterable[Term]) -> str:
    h = hashlib.blake2b(digest_size=6)
    for t in sorted(terms, key=lambda t: (t.category, t.lang, t.text, t.score)):
        h.update(f"{t.category}\t{t.lang}\t{t.text}\t{t.score!r}\n".encode())
    return f"{RULES}.{h.hexdigest()}"


class LexiconDetector:
    """Match lexicon terms in the aggressive normalised view of each item.

    ``paths`` are lexicon files or directories of them; ``terms`` gives
    ``{category: [(term, score), ...]}`` directly. With neither, the bundled lexicons are
    used; with only ``terms``, only those (combine with :func:`bundled_lexicons` to
    extend the bundled lists).
    """

    name = "lexicon"
    cost = 1

    def __init__(
        self,
        paths: Sequence[LexiconSource] | None = None,
        *,
        terms: Mapping[str, Sequence[tuple[str, float]]] | None = None,
    ) -> None:
        self.paths = paths
        self.terms = terms
        loaded: list[Term] = []
        sources = bundled_lexicons() if paths is None and terms is None else (paths or ())
        for source in sources:
            loaded.extend(load_lexicon(source))
        for category, entries in (terms or {}).items():
            _check_name(category, "any", "terms=")
            for term, score in entries:
                if not 0.0 < score <= 1.0:
                    raise InputError(f"score {score} is not in (0, 1]", where=f"terms={term!r}")
                loaded.append(Term(category, "any", term, float(score)))
        self.terms_: tuple[Term, ...] = tuple(loaded)
        self.version: str = _version(loaded)
        self.categories: tuple[str, ...] = tuple(
            c for c in CATEGORIES if any(t.category == c for t in loaded)
        )
        self.automaton_: Any = self._build(loaded)

    @staticmethod
    def _build(terms: Sequence[Term]) -> Any:
        # key -> {category: (score, term as written, shortest original span)}
        table: dict[str, dict[str, tuple[float, str, int]]] = {}
        for t in terms:
            key = normalize(t.text, lang=None if t.lang == "any" else t.lang).text.strip()
            if len(key) < 2:
                raise InputError(
                    f"term {t.text!r} normalises to {key!r}: too short to match safely",
                    where=f"{t.category}.{t.lang}",
                )
            written = t.text.strip()
            shrunk = " " not in key and len(key) < len(written) and is_word_char(key[0])
            min_span = len(written) if shrunk else 0
            per_cat = table.setdefault(key, {})
            old = per_cat.get(t.category)
            if old is None:
                per_cat[t.category] = (t.score, t.text, min_span)
            else:  # same key twice: the higher score, the looser span
                best = (t.score, t.text) if t.score > old[0] else old[:2]
                per_cat[t.category] = (*best, min(old[2], min_span))
        if not table:
            return None
        automaton = ahocorasick.Automaton()
        for key, per_cat in table.items():
            hits = tuple((c, s, text, span) for c, (s, text, span) in sorted(per_cat.items()))
            entry = _Entry(len(key), is_word_char(key[0]), is_word_char(key[-1]), hits)
            automaton.add_word(key, entry)
        automaton.make_automaton()
        return automaton

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        return [self._detect_one(p) for p in batch]

    def _detect_one(self, prepared: Prepared) -> list[Signal]:
        if self.automaton_ is None:
            return []
        norm = prepared.match
        text = norm.text
        n = len(text)
        found: dict[str, list[tuple[int, int, float, str]]] = {}
        entry: _Entry
        for last, entry in self.automaton_.iter(text):
            start = last - entry.length + 1
            end = last + 1
            if entry.left and start > 0 and is_word_char(text[start - 1]):
                continue
            if entry.right and end < n and is_word_char(text[end]):
                continue
            for category, score, term, min_span in entry.hits:
                if min_span:
                    s, e = norm.to_original(start, end)
                    if e - s < min_span:
                        continue
                found.setdefault(category, []).append((start, end, score, term))
        if not found:
            return []
        original = norm.original
        signals = []
        for category in self.categories:
            matches = found.get(category)
            if not matches:
                continue
            kept = _outermost(matches)
            best: dict[str, float] = {}
            for _, _, score, term in kept:
                best[term] = max(score, best.get(term, 0.0))
            evidence = []
            seen: set[tuple[int, int]] = set()
            for start, end, _, term in kept:
                s, e = norm.to_original(start, end)
                if (s, e) in seen:
                    continue
                seen.add((s, e))
                evidence.append(Evidence(original[s:e], s, e, f"lexicon: {term}"))
                if len(evidence) == MAX_EVIDENCE:
                    break
            signals.append(
                Signal(category, _combine(best.values()), self.name, self.version, tuple(evidence))
            )
        return signals

    def examples(self) -> list[Example]:
        return EXAMPLES


def _outermost(
    matches: list[tuple[int, int, float, str]],
) -> list[tuple[int, int, float, str]]:
    """Drop matches that lie inside a longer match (same category), ordered by start."""
    matches.sort(key=lambda m: (m[0], -m[1]))
    kept = []
    reach = -1
    for m in matches:
        if m[1] <= reach:
            continue
        kept.append(m)
        reach = m[1]
    return kept


def _combine(scores: Iterable[float]) -> float:
    ordered = sorted(scores, reverse=True)
    top = score = ordered[0]
    for s in ordered[1:]:
        score += (1.0 - score) * BOOST * s
    return round(max(top, min(score, BOOST_CAP)), 4)


EXAMPLES: list[Example] = [
    Example(
        "you are a f\u200bucking idiot",
        fires=frozenset({"harassment"}),
        why="zero-width space inside the word",
    ),
    Example("fr33 p0rn videos, no signup", fires=frozenset({"sexual"}), why="leetspeak"),
    Example("I will k.i.l.l you tomorrow", fires=frozenset({"violence"}), why="dotted letters"),
    Example(
        "fu\u0441k you",  # Cyrillic es in a Latin word
        fires=frozenset({"harassment"}),
        why="homoglyph in a mixed-script word",
    ),
    Example("FUUUUCK YOUUUU", fires=frozenset({"harassment"}), why="repeated letters"),
    Example(
        "加 微 信 领取福利，兼职刷单日结",
        fires=frozenset({"spam"}),
        lang="zh",
        why="separated CJK characters",
    ),
    Example("我要殺了你", fires=frozenset({"violence"}), lang="zh", why="traditional characters"),
    Example(
        "how old are you? don't tell your parents we talk",
        fires=frozenset({"child_safety"}),
        why="grooming pattern",
    ),
    Example(
        "our class reads the classics in the assembly hall",
        quiet=frozenset({"harassment", "sexual"}),
        why="terms inside longer words",
    ),
    Example(
        "Scunthorpe United won 2-0 at home",
        quiet=frozenset({"harassment", "sexual"}),
        why="the Scunthorpe problem",
    ),
    Example("hello there, how are you?", quiet=frozenset(CATEGORIES), why="ordinary greeting"),
    Example(
        "今天天气很好，我们下午去公园散步，顺便买点水果。",
        quiet=frozenset(CATEGORIES),
        lang="zh",
        why="ordinary Chinese sentence",
    ),
    Example("傻逼，滚你妈的", fires=frozenset({"harassment"}), lang="zh", why="Chinese abuse"),
]
