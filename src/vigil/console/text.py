"""Item text for reviewers: evidence spans highlighted in the original text, and slurs
masked until revealed (the reviewer-wellness setting).

Evidence offsets point into the ORIGINAL text (normalisation keeps them so), so the
highlight lands on what the author wrote, however it was obfuscated. Slurs are found by
the same obfuscation-robust matcher as the lexicon detector, over the short terms (one or
two words) of the bundled harassment and hate lexicons, so "n1gg3r" is masked as well as
the plain spelling. A masked term is rendered as dots; its text waits in ``data-term``
for a click (``static/console.js``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from vigil.detectors import Prepared
from vigil.detectors.lexicon import LexiconDetector, bundled_lexicons, load_lexicon
from vigil.items import Item

MASK_CATEGORIES = ("harassment", "hate")
MASK_CHAR = "•"


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text with the same evidence notes and mask."""

    text: str
    notes: tuple[str, ...] = ()
    mask: int | None = None  # masked term number; segments of one term share it


@functools.cache
def _masker() -> LexiconDetector:
    """A lexicon matcher over the short slur and abuse terms (built on first use)."""
    terms: dict[str, list[tuple[str, float]]] = {}
    for source in bundled_lexicons():
        category = source.name.split(".")[0]
        if category not in MASK_CATEGORIES:
            continue
        for t in load_lexicon(source):
            word = t.text.strip()
            short = len(word.split()) <= 2 if t.lang != "zh" else len(word) <= 4
            if short:
                terms.setdefault(category, []).append((word, t.score))
    return LexiconDetector(terms=terms)


def slur_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the original text to mask, merged and in order."""
    if not text.strip():
        return []
    sigs = _masker().detect([Prepared(Item(id="mask", account="", text=text))])[0]
    spans = [(e.start, e.end) for s in sigs for e in s.evidence
             if e.start is not None and e.end is not None and e.end > e.start]
    return merge(spans)


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def segments(text: str, evidence: Sequence[tuple[int, int, str]] = (),
             masks: Sequence[tuple[int, int]] = ()) -> list[Segment]:
    """Cut ``text`` where an evidence span or a mask starts or ends. ``evidence`` holds
    (start, end, note); out-of-range spans are clipped, empty ones dropped."""
    n = len(text)
    ev = [(max(0, s), min(n, e), note) for s, e, note in evidence if min(n, e) > max(0, s)]
    mk = [(max(0, s), min(n, e)) for s, e in masks if min(n, e) > max(0, s)]
    cuts = sorted({0, n, *(p for s, e, _ in ev for p in (s, e)),
                   *(p for s, e in mk for p in (s, e))})
    out: list[Segment] = []
    for a, b in itertools.pairwise(cuts):
        if b <= a:
            continue
        notes = tuple(dict.fromkeys(note for s, e, note in ev if s <= a and b <= e))
        mask = next((i for i, (s, e) in enumerate(mk) if s <= a and b <= e), None)
        out.append(Segment(text[a:b], notes, mask))
    return out


def _mask_html(text: str, group: str) -> str:
    return (f'<span class="mask" role="button" tabindex="0" data-mask="{group}" '
            f'data-term="{escape(text)}" title="masked term: click to reveal" '
            f'aria-label="masked term, press to reveal">{MASK_CHAR * len(text)}</span>')


def render(text: str, evidence: Sequence[tuple[int, int, str]] = (), *, mask: bool = True,
           prefix: str = "m") -> Markup:
    """``text`` as HTML: evidence spans in ``<mark>`` (their notes as the tooltip), slurs
    masked when ``mask``. ``prefix`` keeps mask groups of several texts on one page
    apart."""
    masks = slur_spans(text) if mask else []
    parts: list[str] = []
    for seg in segments(text, evidence, masks):
        body = (_mask_html(seg.text, f"{prefix}{seg.mask}") if seg.mask is not None
                else str(escape(seg.text)))
        if seg.notes:
            title = "; ".join(plain(n, mask=mask) for n in seg.notes)
            body = f'<mark title="{escape(title)}">{body}</mark>'
        parts.append(body)
    return Markup("".join(parts))


def plain(text: str, *, mask: bool = True) -> str:
    """``text`` with slurs replaced by dots (for tooltips and other plain-text places)."""
    if not mask:
        return text
    out, last = [], 0
    for s, e in slur_spans(text):
        out.append(text[last:s])
        out.append(MASK_CHAR * (e - s))
        last = e
    out.append(text[last:])
    return "".join(out)
