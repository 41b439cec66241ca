"""The misinformation detector: an item that repeats a claim fact-checkers rated false or
misleading gets a ``misinformation`` signal whose evidence is the fact check (claim,
rating, publisher, URL, similarity).

Matching a claim rated true, mixed or unrated never produces a signal. An item that
matches a false claim while reading as a debunk ("fact check: ... is false", "别信谣言")
keeps only ``DEBUNK_KEEP`` of its score, and its evidence says so: fact-checkers and
people correcting a rumour are not spreading it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vigil.claims.base import FactCheck
from vigil.claims.match import Claim, ClaimIndex
from vigil.detectors import Evidence, Example, Prepared, Signal
from vigil.embeddings import Embedder
from vigil.store import Store
from vigil.store import claims as claimstore

#: The name claim vectors are stored under; a new embedding model gets a new name.
VECTOR_MODEL = "use-m3-v1"

DEBUNK_KEEP = 0.5
_DEBUNK = re.compile(
    r"(?i)\b(?:fact[- ]?check(?:ed|ing|s)?|debunk(?:ed|ing|s)?|hoax(?:es)?|myths?|"
    r"(?:is|are|was|were|that's|thats|it's|its)\s+(?:not true|false|fake|untrue|a lie)|"
    r"isn'?t true|aren'?t true|no evidence|not real|fake news|misinformation|"
    r"disinformation|rumou?rs?|don'?t (?:believe|share|fall for)|do not (?:believe|share)|"
    r"false claims?|falsely claim\w*|baseless|debunk)\b"
    r"|辟谣|谣言|不实|假消息|假新闻|别信|不要信|不要相信|勿信|勿传|不要转发|别转|澄清|并非事实|"
    r"不是真的|纯属谣言|假的"
)


def reads_as_debunk(text: str) -> bool:
    """Does the text signal that it corrects or rejects a claim rather than repeats it?"""
    return bool(_DEBUNK.search(text))


@dataclass(frozen=True, slots=True)
class _Hit:
    fact: FactCheck
    score: float
    lexical: float
    semantic: float


class ClaimDetector:
    """Flags items that repeat a claim rated false or misleading in the fact-check base."""

    name = "claims"
    categories: tuple[str, ...] = ("misinformation",)
    cost = 3

    def __init__(self, index: ClaimIndex, facts: Mapping[str, FactCheck], *, top: int = 5,
                 min_score: float = 0.3) -> None:
        self.index = index
        self.facts = dict(facts)
        self.top = top
        self.min_score = min_score
        # the version names the fusion weights, so a refit shows in every decision
        weights = np.concatenate([index.weights, np.asarray(index.cross_weights)])
        digest = hashlib.sha256(weights.astype("<f8").tobytes()).hexdigest()[:8]
        self.version = f"1.{index.version}.{digest}"

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        if not batch:
            return []
        results = self.index.search_many([p.item.text for p in batch], top=self.top)
        out: list[list[Signal]] = []
        for p, matches in zip(batch, results, strict=True):
            hits = [_Hit(self.facts[m.claim_id], m.score, m.lexical, m.semantic)
                    for m in matches if m.claim_id in self.facts]
            bad = [h for h in hits if h.fact.actionable and h.score >= self.min_score]
            if not bad:
                out.append([])
                continue
            score = bad[0].score
            debunk = reads_as_debunk(p.item.text)
            if debunk:
                score *= DEBUNK_KEEP
            evidence = tuple(_evidence(h, debunk) for h in bad[:3])
            out.append([Signal("misinformation", round(float(score), 4), self.name,
                               self.version, evidence)])
        return out

    def examples(self) -> list[Example]:
        """Each actionable claim's own text must match it; unrelated small talk must not.
        The examples come from the loaded base, so they hold for any operator's base."""
        actionable = [f for f in self.facts.values() if f.actionable][:3]
        true = [f for f in self.facts.values() if f.rating == "true"][:2]
        ex = [Example(f.text, fires=frozenset({"misinformation"}), lang=f.lang,
                      why="a claim rated false, repeated word for word") for f in actionable]
        ex += [Example(f.text, quiet=frozenset({"misinformation"}), lang=f.lang,
                       why="a claim rated true") for f in true]
        ex.append(Example("Lovely weather for a picnic in the park today.",
                          quiet=frozenset({"misinformation"}), why="unrelated"))
        return ex


def _evidence(h: _Hit, debunk: bool) -> Evidence:
    f = h.fact
    note = f"repeats a claim rated {f.rating_text or f.rating}"
    if f.publisher:
        note += f" by {f.publisher}"
    if debunk:
        note += "; the item reads as a debunk: score damped"
    return Evidence(
        text=f.text,
        note=note,
        ref={"claim_id": f.claim_id, "rating": f.rating, "rating_text": f.rating_text,
             "publisher": f.publisher, "url": f.url, "similarity": round(h.score, 4),
             "lexical": round(h.lexical, 4), "semantic": round(h.semantic, 4)},
    )


# -- building from the store -------------------------------------------------------------


def _claim(f: FactCheck) -> Claim:
    return Claim(f.claim_id, f.text, f.title, f.lang)


def _vectors(store: Store, facts: Sequence[FactCheck], embedder: Embedder | None,
             progress: Callable[[int, int], None] | None, batch: int = 2048
             ) -> tuple[int, dict[str, np.ndarray]]:
    """The stored vectors of ``facts``, computing (and storing, batch by batch) those that
    are missing or outdated; returns how many were computed, and the vectors by id."""
    with store.read() as conn:
        have = claimstore.get_vectors(conn, VECTOR_MODEL)
    vecs = {f.claim_id: have[f.claim_id][1] for f in facts
            if have.get(f.claim_id, ("",))[0] == f.text_hash}
    todo = [f for f in facts if f.claim_id not in vecs]
    if not todo:
        return 0, vecs
    enc = embedder or Embedder()
    for i in range(0, len(todo), batch):
        chunk = todo[i : i + batch]
        new = ClaimIndex.embed_claims([_claim(f) for f in chunk], enc)
        with store.begin() as conn:
            claimstore.put_vectors(conn, VECTOR_MODEL,
                                   [(f.claim_id, f.text_hash, v)
                                    for f, v in zip(chunk, new, strict=True)])
        vecs.update((f.claim_id, v) for f, v in zip(chunk, new, strict=True))
        if progress is not None:
            progress(min(i + batch, len(todo)), len(todo))
    return len(todo), vecs


def sync_vectors(store: Store, embedder: Embedder | None = None,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Compute and store the embeddings of active claims that have none (or an outdated
    one); returns how many were computed. Safe to interrupt: each batch is committed."""
    return _vectors(store, [f for f, _ in store.claims()], embedder, progress)[0]


def load_detector(store: Store, embedder: Embedder | None = None,
                  progress: Callable[[int, int], None] | None = None) -> ClaimDetector | None:
    """The misinformation detector over the store's active claims, or None when the base
    is empty. Missing embeddings are computed (and stored) first."""
    facts = {f.claim_id: f for f, _ in store.claims()}
    if not facts:
        return None
    embedder = embedder or Embedder()
    _, vecs = _vectors(store, list(facts.values()), embedder, progress)
    matrix = np.stack([vecs[i] for i in facts])
    index = ClaimIndex.from_vectors([_claim(f) for f in facts.values()], matrix, embedder)
    return ClaimDetector(index, facts)
