"""Editing text while keeping, for each character, the span of the original it came from.

A view under edit is ``(text, starts, ends)``: ``starts[i]`` and ``ends[i]`` give the
span of the original text behind ``text[i]``. The helpers here replace, delete or map
characters and keep those offsets in step; :mod:`vigil.normalize` builds its steps on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

# A view while it is being built: text, starts, ends.
_View = tuple[str, Sequence[int], Sequence[int]]

_IDENTITY: tuple[int, ...] = tuple(range(4097))


def _identity(n: int) -> tuple[Sequence[int], Sequence[int]]:
    """Starts and ends of an unchanged text of length ``n``.

    Slices of one shared tuple: copying them later is a memcpy, where ``range`` would
    allocate every int above 256 anew.
    """
    global _IDENTITY
    if n >= len(_IDENTITY):
        if n > 1 << 20:
            return range(n), range(1, n + 1)
        _IDENTITY = tuple(range(max(n + 1, 2 * len(_IDENTITY))))
    identity = _IDENTITY
    return identity[:n], identity[1 : n + 1]


_Edit = tuple[int, int, str]


def _splice(text: str, st: Sequence[int], en: Sequence[int], edits: Sequence[_Edit]) -> _View:
    """Replace ``text[a:b]`` by ``rep`` for each (sorted, disjoint) edit ``(a, b, rep)``.

    Every character of ``rep`` maps to the whole original span of ``text[a:b]``.
    """
    parts: list[str] = []
    prev = 0
    for a, b, rep in edits:
        parts += (text[prev:a], rep)
        prev = b
    parts.append(text[prev:])
    return ("".join(parts), *_edit_offsets(st, en, edits))


def _edit_offsets(
    st: Sequence[int], en: Sequence[int], edits: Sequence[_Edit]
) -> tuple[list[int], list[int]]:
    """The offsets after :func:`_splice`'s edits."""
    nst, nen = list(st), list(en)
    for a, b, rep in reversed(edits):  # back to front, so a and b still index nst, nen
        if len(rep) == 1:  # keep one: the start of the first, the end of the last
            del nst[a + 1 : b]
            del nen[a : b - 1]
        elif not rep:
            del nst[a:b]
            del nen[a:b]
        else:
            nst[a:b] = [st[a]] * len(rep)
            nen[a:b] = [en[b - 1]] * len(rep)
    return nst, nen


def _delete(
    text: str, st: Sequence[int], en: Sequence[int], spans: Sequence[tuple[int, int]]
) -> _View:
    """Remove ``text[a:b]`` for each (sorted, disjoint) span; a lighter :func:`_splice`."""
    parts: list[str] = []
    prev = 0
    for a, b in spans:
        parts.append(text[prev:a])
        prev = b
    parts.append(text[prev:])
    nst, nen = list(st), list(en)
    for a, b in reversed(spans):
        del nst[a:b]
        del nen[a:b]
    return "".join(parts), nst, nen


_CACHE_LIMIT = 1 << 16


class _CharClass:
    """A growing set of characters, searched with a compiled ``[...]+`` while it has at
    most ``limit`` members (and character by character after that); the caller passes
    ``limit`` on each search."""

    __slots__ = ("_rx", "_size", "chars")

    def __init__(self) -> None:
        self.chars: set[str] = set()
        self._rx: re.Pattern[str] | None = None
        self._size = 0

    def _pattern(self, limit: int) -> re.Pattern[str] | None:
        if len(self.chars) > limit:
            return None
        if len(self.chars) != self._size:
            self._rx = re.compile(_char_class(self.chars) + "+")
            self._size = len(self.chars)
        return self._rx

    def present(self, text: str, limit: int) -> bool:
        if not self.chars:
            return False
        rx = self._pattern(limit)
        return not self.chars.isdisjoint(text) if rx is None else rx.search(text) is not None

    def spans(self, text: str, limit: int) -> list[tuple[int, int]]:
        """The runs of members in ``text``."""
        if not self.chars:
            return []
        rx = self._pattern(limit)
        if rx is not None:
            return [m.span() for m in rx.finditer(text)]
        spans = []
        i, n = 0, len(text)
        while i < n:
            j = i
            while j < n and text[j] in self.chars:
                j += 1
            if j > i:
                spans.append((i, j))
            i = j + 1
        return spans


def _char_class(chars: Iterable[str]) -> str:
    """``[...]`` matching ``chars``, consecutive code points merged into ranges (``re``
    checks astral members one by one, so fewer members keep it fast)."""
    cps = sorted(map(ord, chars))
    parts = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(re.escape(chr(cps[i])))
        if j > i:
            parts.append("-" + re.escape(chr(cps[j])))
        i = j + 1
    return "[" + "".join(parts) + "]"


class _CharMap(dict[int, str]):
    """A ``str.translate`` table filled on first sight of each character.

    ``irregular`` holds the characters whose image is not exactly one character, and
    ``joiners`` the characters that ``joins`` says the fold may merge with the one before
    them (or whose image holds one); only around those must offsets be rebuilt.
    """

    __slots__ = ("_fold", "_joins", "irregular", "joiners")

    def __init__(self, fold: Callable[[str], str], joins: Callable[[str], bool]) -> None:
        super().__init__()
        self._fold = fold
        self._joins = joins
        self.irregular = _CharClass()
        self.joiners = _CharClass()

    def __missing__(self, cp: int) -> str:
        c = chr(cp)
        out = self._fold(c)
        joins = self._joins
        # classify before caching, so whoever sees the entry also sees the class
        if joins(c) or any(map(joins, out)):
            self.joiners.chars.add(c)
        if len(out) != 1:
            self.irregular.chars.add(c)
        if len(self) < _CACHE_LIMIT:  # bounded: hostile input cannot grow it without end
            self[cp] = out
        return out


def _map_chars(
    text: str,
    st: Sequence[int],
    en: Sequence[int],
    cmap: _CharMap,
    limit: int,
    out: str | None = None,
) -> _View:
    """Apply ``cmap`` to every character, keeping offsets (fast when it is one-to-one).

    ``limit`` goes to ``cmap.irregular.spans``; ``out`` is ``text.translate(cmap)`` when
    the caller has it already.
    """
    if out is None:
        out = text.translate(cmap)
    spans = cmap.irregular.spans(text, limit)
    if not spans:
        return out, st, en
    # Each run of irregular characters ("……") is one edit: what it turns into maps to the
    # whole run. A run that vanishes (zero-width, variation selector, combining marks)
    # joins the character before it, so "❤️" or "k̸" still map back whole. Regular
    # characters map one to one: ``out`` lines up with ``text`` up to the ``shift`` that
    # the edits before them introduced.
    edits: list[_Edit] = []
    parts: list[str] = []
    prev = shift = 0
    for a, b in spans:
        rep = text[a:b].translate(cmap)
        if not rep and a > prev:
            a -= 1
            rep = out[a + shift]
        parts += (out[prev + shift : a + shift], rep)
        edits.append((a, b, rep))
        shift += len(rep) - b + a
        prev = b
    parts.append(out[prev + shift :])
    return ("".join(parts), *_edit_offsets(st, en, edits))
