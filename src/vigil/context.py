"""Reported speech: words inside quotation marks are being quoted, usually to report or
condemn them, not said by the author. ``audit.detect`` scores such items a second time with
the quotations blanked out; a harm that lives only inside the quotes is damped, and its
evidence says so."""

from __future__ import annotations

import re
from dataclasses import replace

from vigil.detectors import Signal

#: Categories whose words are commonly quoted to report or condemn them.
CONTEXT_CATEGORIES = frozenset({"hate", "harassment", "violence", "sexual"})
#: A quoted-only harm keeps at most this share of its score.
QUOTE_KEEP = 0.4
#: Items are looked at again only when some context category scored at least this.
RECHECK_FROM = 0.3

_OPEN = r"(?:(?<=^)|(?<=[\s(\[:：,，]))"
_CLOSE = r"(?=$|[\s)\].,!?;:，。！？；：])"
_QUOTED = re.compile(
    "|".join([
        rf'{_OPEN}"([^"\n]{{2,400}})"{_CLOSE}',
        rf"{_OPEN}'([^'\n]{{2,400}}?)'{_CLOSE}",
        r"“([^”\n]{2,400})”",
        r"‘([^’\n]{2,400})’",
        r"「([^」\n]{2,400})」",
        r"『([^』\n]{2,400})』",
        r"《([^》\n]{2,400})》",
    ])
)


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the text inside quotation marks (the quote marks excluded)."""
    spans = []
    for m in _QUOTED.finditer(text):
        g = next(i for i in range(1, (m.lastindex or 0) + 1) if m.group(i) is not None)
        spans.append(m.span(g))
    return spans


def without_quotes(text: str) -> str | None:
    """The text with every quotation blanked (same length, so offsets hold), or None when
    it quotes nothing — or nothing but quotes."""
    spans = quoted_spans(text)
    if not spans:
        return None
    chars = list(text)
    for s, e in spans:
        chars[s:e] = " " * (e - s)
    out = "".join(chars)
    return out if out.strip(" \"'“”‘’「」『』《》") else None


def damp_quoted(signals: list[Signal], unquoted: dict[str, float]) -> list[Signal]:
    """Lower each context signal to what the text scores without its quotations (but keep
    ``QUOTE_KEEP`` of it: quoting can also endorse)."""
    out = []
    for s in signals:
        rest = unquoted.get(s.category, 0.0)
        if s.category in CONTEXT_CATEGORIES and s.score > rest:
            s = _damped(s, max(rest, s.score * QUOTE_KEEP),
                        "inside a quotation (reported speech): score damped")
        out.append(s)
    return out


def _damped(s: Signal, score: float, why: str) -> Signal:
    """``s`` with a lower score, each piece of its evidence saying why."""
    ev = tuple(replace(e, note=f"{e.note}; {why}" if e.note else why) for e in s.evidence)
    return replace(s, score=round(score, 4), evidence=ev)


# -- who is addressed -------------------------------------------------------------------

#: Harassment is abuse aimed at someone; with no one addressed or named it keeps this
#: share of its score (swearing at the weather is not harassment).
UNTARGETED_KEEP = 0.5
_TARGET_EN = re.compile(
    r"(?i)(?:@\w+|\b(?:you|your|yours|yourself|you're|youre|ya|u|ur|he|him|his|she|her|"
    r"they|them|their|this guy|that guy|this girl|that girl|these people|those people)\b)"
)
_TARGET_ZH = re.compile(r"@\S+|你|您|他|她|它们|他们|她们|这人|那人|此人|楼主")
_NOT_A_TARGET_ZH = re.compile(r"他妈|她妈|你妈的|tmd", re.I)


def addresses_someone(text: str) -> bool:
    """Does the text address or name a person (a pronoun, an @mention)?"""
    if _TARGET_EN.search(text):
        return True
    return bool(_TARGET_ZH.search(_NOT_A_TARGET_ZH.sub("", text)))


def damp_untargeted(signals: list[Signal], text: str) -> list[Signal]:
    """Lower harassment signals of a text that addresses no one."""
    if addresses_someone(text):
        return signals
    out = []
    for s in signals:
        if s.category == "harassment":
            s = _damped(s, s.score * UNTARGETED_KEEP,
                        "no one is addressed or named: not aimed at a person; score damped")
        out.append(s)
    return out
