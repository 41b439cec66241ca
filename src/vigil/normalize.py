"""Text normalisation that survives evasion, with offsets back into the original text.

:func:`normalize` returns a :class:`Normalized` view of a text: the normalised string plus,
for each of its characters, the span of the original that produced it, so evidence found
in a view is reported against what the user actually wrote. A character that is removed
(zero-width, variation selector, combining mark) counts as part of the one before it;
one that is merged away (a repeated letter, a whitespace run) as part of the one kept.
:func:`normalize_both` returns both views, doing the steps they share once.

The *folded* view (``aggressive=False``, for URL, phone and handle patterns; case kept):

1. invisibles removed: format characters (category Cf: zero-width space and joiners, BOM,
   soft hyphen, bidi controls, tag characters), variation selectors, the combining
   grapheme joiner; blank fillers (braille blank, Hangul fillers) become a space;
2. Unicode NFKC, per base character and the combining marks after it: full-width forms,
   ligatures, super- and subscripts, circled and mathematical letters, compatibility
   ideographs; negative squared/circled letters (🅵) become ASCII capitals too;
3. Chinese traditional -> simplified, character by character (OpenCC ``TSCharacters``,
   first candidate, one-to-one mappings only);
4. homoglyphs -> ASCII (``data/confusables.tsv``): Latin look-alikes (small capitals,
   ɑ, ı) everywhere; Cyrillic, Greek, Armenian, Cherokee... look-alikes only inside tokens
   that also hold a Latin letter ("frее" with a Cyrillic е), or, when ``lang`` names a
   language not written in those scripts ("en", "zh"), inside tokens made only of
   look-alikes ("ѕех"). Genuine Russian or Greek words stay as written.

The *match* view (``aggressive=True``, the default, for lexicon terms) does all of that,
then:

5. casefold; diacritics stripped from Latin letters (é -> e, ł -> l); stray combining
   marks (Zalgo text) removed;
6. whitespace runs -> one space, leading and trailing whitespace dropped;
7. whatever separates two Han characters is removed ("加 微 信", "微*信", "色-情"),
   except clause punctuation and line breaks (，。！？；：、 and their ASCII forms);
8. runs of three or more single letters/digits with the same separator between them are
   joined ("f r e e", "f.r.e.e", "f * r * e * e" -> "free"; "I am a man" is left alone);
9. leetspeak folded inside tokens that hold an ASCII letter ("h4te", "fr33", "$ex",
   "b!tch", "ki11" -> "kill"); digit runs of four or more (years, phone numbers) and
   tokens without a letter stay digits; ``@ ! |`` fold only inside a token, ``$`` anywhere;
10. every run of one repeated letter (except Han) collapsed to one ("freeee" -> "fre",
    "hello" -> "helo", "fuuuck" -> "fuck").

Lexicon terms must be passed through :func:`normalize` as well, so both sides agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from vigil._foldtables import _MARK_RANGES, _joins, _Tables, _tables
from vigil._textedit import _delete, _Edit, _identity, _map_chars, _splice, _View


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised view of ``original``.

    ``starts[i]`` and ``ends[i]`` give the span of ``original`` that produced character ``i``
    of ``text``; :meth:`to_original` maps a span of ``text`` back to ``original``.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if start >= end:
            return (self.starts[start] if start < len(self.starts) else len(self.original),) * 2
        return self.starts[start], self.ends[end - 1]


def normalize(text: str, *, lang: str | None = None, aggressive: bool = True) -> Normalized:
    """Normalise ``text`` into the match view (``aggressive``) or the folded view."""
    folded = _folded(text, lang)
    if not aggressive:
        return Normalized(text, folded[0], tuple(folded[1]), tuple(folded[2]))
    t, st, en = _match(*folded)
    return Normalized(text, t, tuple(st), tuple(en))


def normalize_both(text: str, *, lang: str | None = None) -> tuple[Normalized, Normalized]:
    """``(normalize(text, aggressive=False), normalize(text))``, sharing the common work."""
    t, st, en = _folded(text, lang)
    folded = Normalized(text, t, tuple(st), tuple(en))
    t, st, en = _match(t, st, en)
    return folded, Normalized(text, t, tuple(st), tuple(en))


def _folded(text: str, lang: str | None) -> _View:
    """Steps 1-4."""
    n = len(text)
    if text.isascii():
        return text, *_identity(n)
    tables = _tables()
    t, st, en = _fold_chars(text, tables)
    folded = _fold_homoglyphs(t, lang, tables)
    if folded is not t and tables.fold.joiners.present(text, _CLASS_LIMIT):
        return _compose(folded, st, en)  # "а\u0301" with a Cyrillic а is now "a\u0301": "á"
    return folded, st, en


def _match(t: str, st: Sequence[int], en: Sequence[int]) -> _View:
    """Steps 5-10, on the folded view."""
    if t.isascii():
        t = t.lower()
    else:
        t, st, en = _fold_case(t, st, en, _tables())
    t, st, en = _squeeze_spaces(t, st, en)
    t, st, en = _join_han(t, st, en)
    t, st, en = _join_spelled(t, st, en)
    return _collapse_runs(_unleet(t), st, en)


# Searches in a _CharClass use a compiled class up to this many members and go
# character by character above it; read on every call, so it can be lowered at run time.
_CLASS_LIMIT = 1 << 14


# --- folded view -----------------------------------------------------------------------

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Languages written in the scripts that look like Latin: with one of these as ``lang``,
# a word made only of look-alikes is taken as genuine and left alone.
_LOOKALIKE_SCRIPT_LANGS = frozenset(
    {"ab", "ba", "be", "bg", "ce", "chr", "cu", "cv", "el", "hy", "ka", "kk", "ky", "mk"}
    | {"mn", "os", "ru", "sr", "tg", "tt", "uk"}
)


def _fold_chars(text: str, tables: _Tables) -> _View:
    """Steps 1-3: invisibles, NFKC, traditional -> simplified."""
    n = len(text)
    if (
        unicodedata.is_normalized("NFKC", text)
        and not tables.special.search(text)
        and (max(text) <= "\uffff" or tables.special_astral.isdisjoint(text))
    ):
        return text, *_identity(n)  # nothing to fold: skip the translation
    fmap = tables.fold
    out, st, en = _map_chars(text, *_identity(n), fmap, _CLASS_LIMIT, text.translate(fmap))
    if fmap.joiners.present(text, _CLASS_LIMIT):
        return _compose(out, st, en)
    return out, st, en


def _compose(text: str, st: Sequence[int], en: Sequence[int]) -> _View:
    """NFKC each base character together with the combining marks that follow it."""
    edits: list[_Edit] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and _joins(text[j]):
            j += 1
        if j - i > 1:
            cluster = text[i:j]
            composed = unicodedata.normalize("NFKC", cluster)
            if composed != cluster:
                edits.append((i, j, composed))
        i = j
    return _splice(text, st, en, edits) if edits else (text, st, en)


_ASCII_LETTER = re.compile(r"[A-Za-z]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]")
# A token: word characters and the combining marks (``_MARK_RANGES``) on them.
_TOKEN_CHAR = re.compile(f"[\\w{_MARK_RANGES}]")
_TOKEN = re.compile(f"[\\w{_MARK_RANGES}]*")


def _fold_homoglyphs(text: str, lang: str | None, tables: _Tables) -> str:
    """Step 4 (one character to one, so offsets do not move)."""
    if text.isascii():
        return text
    m = tables.homoglyph_any.search(text)
    if m is None:
        return text
    primary = re.split(r"[-_]", lang, maxsplit=1)[0].lower() if lang else ""
    whole_words = bool(primary) and primary not in _LOOKALIKE_SCRIPT_LANGS
    parts: list[str] = []
    copied = 0
    while m:
        # the token around the hit: word characters (every look-alike is one) and marks
        start = m.start()
        while start > 0 and _TOKEN_CHAR.match(text, start - 1):
            start -= 1
        end = _TOKEN.match(text, start).end()  # type: ignore[union-attr]  # always matches
        token = text[start:end]
        if _LATIN_LETTER.search(token) or (whole_words and tables.homoglyph_only.fullmatch(token)):
            parts += (text[copied:start], token.translate(tables.homoglyphs))
            copied = end
        m = tables.homoglyph_any.search(text, end)
    if not parts:
        return text
    parts.append(text[copied:])
    return "".join(parts)


# --- match view ------------------------------------------------------------------------

# Latin letters that may carry a diacritic, and the generic combining marks.
_LATIN_MARKED = re.compile(f"[\u00c0-\u024f\u1e00-\u1eff{_MARK_RANGES}]")


def _fold_case(text: str, st: Sequence[int], en: Sequence[int], tables: _Tables) -> _View:
    """Step 5."""
    folded = text.casefold()
    # casefold never shortens a character, so an unchanged length means one to one
    if len(folded) == len(text) and not _LATIN_MARKED.search(text):
        return folded, st, en
    return _map_chars(text, st, en, tables.match, _CLASS_LIMIT)


# Two or more whitespace characters, or one that is not " " (checked looking back).
_ODD_SPACE = re.compile(r"\s(?:\s+|(?<=[^\S ]))")


def _squeeze_spaces(text: str, st: Sequence[int], en: Sequence[int]) -> _View:
    """Step 6."""
    if "  " not in text and text.isprintable() and text[:1] != " " and text[-1:] != " ":
        return text, st, en  # isprintable() is False for every whitespace but " "
    n = len(text)
    spans = [m.span() for m in _ODD_SPACE.finditer(text)]
    if text[0].isspace() and (not spans or spans[0][0] != 0):
        spans.insert(0, (0, 1))
    if text[-1].isspace() and (not spans or spans[-1][1] != n):
        spans.append((n - 1, n))
    edits = [(a, b, "" if a == 0 or b == n else " ") for a, b in spans]
    return _splice(text, st, en, edits) if edits else (text, st, en)


_HAN_ANY = re.compile(f"[{_HAN}]")
# Clause punctuation and line breaks end a phrase: they are not removed, so a term cannot
# match across two clauses ("不要歧视黑人，都是人类").
_CLAUSE = "，。！？；：、,!?;:\n"
_HAN_GAP = re.compile(rf"[{_HAN}]((?:(?![{_CLAUSE}])[\W_])+)(?=[{_HAN}])")


def _join_han(text: str, st: Sequence[int], en: Sequence[int]) -> _View:
    """Step 7."""
    if text.isascii() or not _HAN_ANY.search(text):
        return text, st, en
    spans = [m.span(1) for m in _HAN_GAP.finditer(text)]
    return _delete(text, st, en, spans) if spans else (text, st, en)


_SEPARATORS = r"\-.,_*|/\\+~·•:=#^"
_SPELLED = re.compile(
    rf"(?<!\w)[^\W_](?P<sep> ?[{_SEPARATORS}] ?| )[^\W_](?:(?P=sep)[^\W_])+(?!\w)"
)
# What precedes the last two letters of every _SPELLED match; cheap to look for because
# it starts with a character set, which ``re`` scans for quickly.
_SPELLED_HINT = re.compile(rf"[ {_SEPARATORS}][^\W_][ {_SEPARATORS}]+[^\W_](?!\w)")


def _join_spelled(text: str, st: Sequence[int], en: Sequence[int]) -> _View:
    """Step 8: "f r e e", "f.r.e.e", "f - r - e - e" -> "free"."""
    if not _SPELLED_HINT.search(text):
        return text, st, en
    spans: list[tuple[int, int]] = []
    for m in _SPELLED.finditer(text):
        step = len(m.group("sep")) + 1
        spans += [(p + 1, p + step) for p in range(m.start(), m.end() - 1, step)]
    return _delete(text, st, en, spans) if spans else (text, st, en)


_LEET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789@$!|")
# A leet character next to a letter; starts with a character set, which re scans fast.
_LEET_HINT = re.compile(r"[0-9@$!|](?:(?<=[a-z].)|(?=[a-z]))")
_LEET_TOKEN = re.compile(r"[a-z0-9@$!|]*")
_LEET_DIGITS = re.compile(r"(?<![0-9])[0-9]{1,3}(?![0-9])")
_DIGIT_TABLE = str.maketrans("01345789", "oieastbg")
_SYMBOL_TABLE = str.maketrans("@$!|", "asil")
_EDGE_SYMBOLS = "@!|"


def _unleet_digits(m: re.Match[str]) -> str:
    run = m.group()
    if len(run) > 1 and run.count("1") == len(run):
        return "l" * len(run)  # "ki11", "he11o": a pair of ones reads as "ll"
    return run.translate(_DIGIT_TABLE)


def _unleet_token(token: str) -> str:
    if not _ASCII_LETTER.search(token):
        return token
    lead = len(token) - len(token.lstrip(_EDGE_SYMBOLS))
    trail = len(token) - len(token.rstrip(_EDGE_SYMBOLS))
    inner = token[lead : len(token) - trail]
    inner = _LEET_DIGITS.sub(_unleet_digits, inner).translate(_SYMBOL_TABLE)
    return token[:lead] + inner + token[len(token) - trail :]


def _unleet(text: str) -> str:
    """Step 9 (one character to one, so offsets do not move)."""
    m = _LEET_HINT.search(text)
    if m is None:
        return text
    parts: list[str] = []
    copied = 0
    while m:
        start = m.start()
        while start > 0 and text[start - 1] in _LEET_CHARS:
            start -= 1
        end = _LEET_TOKEN.match(text, start).end()  # type: ignore[union-attr]  # always matches
        parts += (text[copied:start], _unleet_token(text[start:end]))
        copied = end
        m = _LEET_HINT.search(text, end)
    parts.append(text[copied:])
    return "".join(parts)


# "(.)" is faster for re than a letter class; non-letters are skipped below.
_RUN = re.compile(r"(.)\1\1*")  # same as (.)\1+, which re runs twice as slowly


def _collapse_runs(text: str, st: Sequence[int], en: Sequence[int]) -> _View:
    """Step 10: the letter kept maps to the whole run."""
    if text.isascii():
        edits = [(*m.span(), c) for m in _RUN.finditer(text) if (c := m.group(1)).isalpha()]
    else:
        edits = [
            (*m.span(), c)
            for m in _RUN.finditer(text)
            if (c := m.group(1)).isalpha() and not _HAN_ANY.match(c)
        ]
    return _splice(text, st, en, edits) if edits else (text, st, en)
