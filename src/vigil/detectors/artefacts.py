"""Contact channels and links in an item, in a canonical form that two posts sharing one
agree on: what coordinated-posting detection (``vigil.relations``) groups accounts by.
Uses the spam patterns' own expressions, so a handle the spam detector sees is the handle
a cluster is keyed on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigil.detectors import Prepared
from vigil.detectors.spam_patterns import (
    _DIGIT,
    _EMAIL,
    _LINK_CUE,
    _PHONE,
    _URL,
    _domain,
    _Found,
    _handles,
    _lower,
)


@dataclass(frozen=True, slots=True)
class Artefact:
    """A contact channel or link found in a text, in a canonical form that two posts
    sharing it agree on: ``url`` (host without ``www.`` plus path, no query or fragment),
    ``phone`` (digits only), ``handle`` (``kind:id``), ``email``. ``start``/``end`` point
    into the ORIGINAL text."""

    kind: str
    value: str
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


_HANDLE_ID = re.compile(r"[a-z0-9_.+-]{3,}$")


def _canonical_url(url: str) -> str:
    host = _domain(url)
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return f"{host}/{path}" if path else host


def contact_artefacts(prepared: Prepared) -> list[Artefact]:
    """The links, phone numbers, messaging handles and e-mail addresses in an item, each
    once, canonical (see :class:`Artefact`). Used to find many accounts sharing one."""
    norm = prepared.folded
    low = _lower(norm.text)
    if not low:
        return []
    found: list[tuple[str, str, int, int]] = []
    taken = _Found()
    for kind, m in _handles(low):
        ident = m.group("id") or m.group("id2") if kind == "wechat" else m.group()
        tail = _HANDLE_ID.search(re.sub(r"[\s().-]", "", ident or "").lstrip("@"))
        if tail is None:
            continue
        taken.add(m.start(), m.end(), kind)
        found.append(("handle", f"{kind}:{tail.group()}", m.start(), m.end()))
    if "@" in low:
        for m in _EMAIL.finditer(low):
            if not taken.overlaps(m.start(), m.end()):
                taken.add(m.start(), m.end(), "email")
                found.append(("email", m.group(), m.start(), m.end()))
    if _DIGIT.search(low):
        for m in _PHONE.finditer(low):
            digits = "".join(c for c in m.group() if c.isdigit())
            if len(digits) >= 8 and not taken.overlaps(m.start(), m.end()):
                taken.add(m.start(), m.end(), "phone")
                found.append(("phone", digits, m.start(), m.end()))
    if _LINK_CUE.search(low):
        for m in _URL.finditer(low):
            start, end = m.start(), m.end()
            while end > start and low[end - 1] in ".,;:!?)]}'\"":
                end -= 1
            if end > start and not taken.overlaps(start, end):
                taken.add(start, end, "url")
                found.append(("url", _canonical_url(low[start:end]), start, end))
    out: dict[str, Artefact] = {}
    for kind, value, start, end in sorted(found, key=lambda f: f[2]):
        s, e = norm.to_original(start, end)
        art = Artefact(kind, value, s, e, norm.original[s:e])
        out.setdefault(art.key, art)
    return list(out.values())
