"""The per-character tables behind :mod:`vigil.normalize`, loaded once on first use.

The fold map (steps 1-3: invisibles, NFKC, traditional -> simplified, Latin look-alikes)
and the match map (step 5: casefold, diacritics), the non-Latin homoglyphs
(``data/confusables.tsv``) and the set of characters that steps 1-3 change.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import chain
from pathlib import Path

from vigil._textedit import _char_class, _CharMap

# Not format characters (Cf) but just as invisible.
_INVISIBLE = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
# Render as an empty cell: a space, so "f⠀r⠀e⠀e" reads like "f r e e".
_BLANKS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
# Negative circled and negative squared Latin capitals have no NFKC decomposition.
# Regional indicator symbols (🇦-🇿, the letters of flag emoji) are used to spell words too.
_ENCLOSED = {chr(base + i): chr(0x41 + i)
             for base in (0x1F150, 0x1F170, 0x1F1E6) for i in range(26)}
# Combining marks that NFKC may compose (diacritics); they belong to the token they mark.
_MARK_RANGES = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"


def _joins(c: str) -> bool:
    """Whether NFKC may merge ``c`` into the character before it."""
    return bool(unicodedata.combining(c)) or "\u1161" <= c <= "\u11c2"  # Hangul V/T jamo


@dataclass(frozen=True, slots=True)
class _Tables:
    fold: _CharMap
    match: _CharMap
    homoglyphs: dict[int, str]
    homoglyph_any: re.Pattern[str]
    homoglyph_only: re.Pattern[str]
    # Every character that steps 1-3 change, bar NFKC's own: a class for the Basic
    # Multilingual Plane (fast), a set for the rest (``re`` checks those one by one).
    special: re.Pattern[str]
    special_astral: frozenset[str]


@cache
def _tables() -> _Tables:
    """Load the data files once, on the first text that is not pure ASCII."""
    t2s = _load_t2s()
    latin: dict[str, str] = dict(_ENCLOSED)
    other: dict[str, str] = {}
    data = resources.files("vigil") / "data" / "confusables.tsv"
    for line in data.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            cp, target, name = line.split("\t")[:3]
            (latin if name.startswith("LATIN ") else other)[chr(int(cp, 16))] = target

    def fold_one(c: str) -> str:
        out = []
        for ch in unicodedata.normalize("NFKC", c):
            if ch in _BLANKS:
                out.append(" ")
            elif ch not in _INVISIBLE and unicodedata.category(ch) != "Cf":
                out.append(t2s.get(ch) or latin.get(ch) or ch)
        return "".join(out)

    keys = _char_class(other)[1:-1]
    # Format characters live in planes 0, 1 and 14 (scanning them takes ~10 ms).
    planes = chain(range(0x20000), range(0xE0000, 0xE1000))
    formats = (c for c in map(chr, planes) if unicodedata.category(c) == "Cf")
    special = set(chain(t2s, latin, _BLANKS, _INVISIBLE, formats))
    astral = frozenset(c for c in special if c > "\uffff")
    return _Tables(
        fold=_CharMap(fold_one, _joins),
        match=_CharMap(_match_one, _joins),
        homoglyphs={ord(c): t for c, t in other.items()},
        homoglyph_any=re.compile(f"[{keys}]"),
        homoglyph_only=re.compile(f"[{keys}0-9_{_MARK_RANGES}]+"),
        special=re.compile(_char_class(special - astral)),
        special_astral=astral,
    )


def _load_t2s() -> dict[str, str]:
    """Traditional -> simplified, one character to one character, first candidate."""
    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("opencc-python-reimplemented is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "dictionary" / "TSCharacters.txt"
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        trad, _, simp = line.partition("\t")
        first = simp.split(" ", 1)[0]
        if len(trad) == 1 and len(first) == 1 and first != trad:
            table[trad] = first
    for trad, simp in table.items():  # follow chains (薴 -> 苧 -> 苎) so folding is idempotent
        while simp in table and table[simp] != simp:
            simp = table[simp]
        table[trad] = simp
    return table


_MARK = re.compile(f"[{_MARK_RANGES}]")
_ONLY_MARKS = re.compile(f"[{_MARK_RANGES}]+")
_STROKED = {"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ƶ": "z"}


def _match_one(c: str) -> str:
    """Step 5 for one character: casefold, Latin diacritics, generic combining marks."""
    out = []
    for ch in c.casefold():
        if _MARK.match(ch):
            continue
        if not ch.isascii():
            nfd = unicodedata.normalize("NFD", ch)
            base = nfd[0]
            if len(nfd) > 1 and base.isascii() and base.isalpha() and _ONLY_MARKS.fullmatch(nfd, 1):
                ch = base
            else:
                ch = _STROKED.get(ch, ch)
        out.append(ch)
    return "".join(out)
