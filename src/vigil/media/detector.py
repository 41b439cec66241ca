"""The media detector: attached images matched against hash banks.

Each image (given as bytes or a path; URLs are never fetched) is hashed with MD5 and PDQ
(its eight orientations) and looked up in every enabled bank. A match is a signal of the
bank's category with the bank, the hash and the distance as evidence; its score is 1.0
for an exact MD5 and falls from 1.0 to 0.95 as the PDQ distance reaches the bank's
threshold, so under the default policy a match is acted on (and child-safety matches
also go to the urgent review queue, as every child-safety hit does).

*Allow* banks hold known-benign images: an image that matches one has its other matches
dropped — except child-safety matches, which are never dismissed automatically: they
drop to :data:`ALLOWED_CHILD_SAFETY_SCORE` (the review band) and still go to the urgent
queue, with the allow bank named in the evidence.

With a store, the detector sees bank changes: before a batch with images it compares the
banks' generations (one small query) and rebuilds only the banks that changed.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.detectors import Evidence, Example, Prepared, Signal
from vigil.items import Media
from vigil.media.hashing import VIEWS, ImageHashes, MediaError, hash_media
from vigil.media.index import BankSpec, Match, MatchIndex

if TYPE_CHECKING:
    from vigil.store import Store

#: What a child-safety match still scores when the image is also in an allow bank.
ALLOWED_CHILD_SAFETY_SCORE = 0.5
#: The score of a PDQ match at exactly the bank's threshold (1.0 at distance 0).
EDGE_SCORE = 0.95
MAX_EVIDENCE = 10
#: Batches with at least this many images hash them on several threads.
PARALLEL_FROM = 4
CATEGORIES: tuple[str, ...] = ("sexual", "child_safety", "violence", "hate", "harassment",
                               "spam")


def match_score(m: Match) -> float:
    if m.signal_type == "md5" or m.threshold == 0:
        return 1.0
    return round(1.0 - (1.0 - EDGE_SCORE) * m.distance / m.threshold, 4)


class MediaDetector:
    """Images matched against hash banks (see the module's docstring)."""

    name = "media_hash"
    version = "pdq-md5-1"
    categories = CATEGORIES
    cost = 4

    def __init__(self, index: MatchIndex | None = None, store: Store | None = None, *,
                 base: Path | None = None, paths: bool = True, threads: int | None = None
                 ) -> None:
        self.index = index or MatchIndex()
        self.store = store
        self.base = base
        #: whether media given by file path are read (not for items from the network:
        #: a path in a message must not make the server read its own files)
        self.paths = paths
        #: threads hashing the images of a batch
        self.threads = threads or min(4, os.cpu_count() or 1)
        #: media that could not be read or hashed, by reason
        self.errors: Counter[str] = Counter()
        self._seen: dict[str, int] | None = None

    # -- banks --------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Rebuild the banks that changed in the store since they were loaded (added,
        imported into, enabled, disabled, re-thresholded). Returns whether anything did."""
        if self.store is None:
            return False
        from vigil.store.banks import Banks

        banks = Banks(self.store)
        now = banks.generations()
        if now == self._seen:
            return False
        wanted = {b.name: b for b in banks.all() if b.enabled}
        for name in list(self.index.banks):
            if name not in wanted:
                self.index.drop_bank(name)
        have = {n: s.generation for n, s in self.index.banks.items()}
        for name, b in wanted.items():
            if have.get(name) != b.generation:
                spec = BankSpec(b.name, b.category, b.threshold, b.allow, b.generation)
                self.index.set_bank(spec, ((st, sig) for st, sig, _ in banks.signals(name)))
        self._seen = now
        return True

    # -- detection ----------------------------------------------------------------------

    def _hash_one(self, m: Media) -> ImageHashes | MediaError:
        try:
            if not self.paths and m.path is not None:
                raise MediaError("media given by path are not read from this source",
                                 "given by file path (not read from this source)")
            return hash_media(m, base=self.base)
        except MediaError as exc:
            return exc

    def _hashes(self, media: Sequence[Media]) -> list[ImageHashes | None]:
        """Each image's hashes (None when it cannot be read), in order; several images
        are hashed on a few threads (decoding and PDQ partly run outside the GIL)."""
        if len(media) >= PARALLEL_FROM:
            with ThreadPoolExecutor(self.threads) as pool:
                got = list(pool.map(self._hash_one, media))
        else:
            got = [self._hash_one(m) for m in media]
        out: list[ImageHashes | None] = []
        for h in got:
            if isinstance(h, MediaError):
                self.errors[h.reason] += 1
                out.append(None)
            else:
                out.append(h)
        return out

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        if not batch:
            return []
        out: list[list[Signal]] = [[] for _ in batch]
        with_media = [i for i, p in enumerate(batch) if p.item.media]
        if not with_media:
            return out
        self.refresh()
        if not len(self.index):
            return out
        refs: list[tuple[int, str]] = []
        media: list[Media] = []
        for i in with_media:
            for m in batch[i].item.media:
                if m.kind == "image":
                    refs.append((i, m.ref()))
                    media.append(m)
        images = self._hashes(media)
        found = self.index.match(images)
        per_item: dict[int, list[tuple[str, ImageHashes, list[Match]]]] = {}
        for (i, ref), h, matches in zip(refs, images, found, strict=True):
            if matches and h is not None:
                per_item.setdefault(i, []).append((ref, h, matches))
        for i, hits in per_item.items():
            out[i] = self._signals(hits)
        return out

    def _signals(self, hits: list[tuple[str, ImageHashes, list[Match]]]) -> list[Signal]:
        by_cat: dict[str, list[tuple[float, Evidence]]] = {}
        for ref, h, matches in hits:
            allowed = [m for m in matches if m.allow]
            for m in matches:
                if m.allow:
                    continue
                score = match_score(m)
                note = (f"image matches bank {m.bank!r} (exact MD5)" if m.signal_type == "md5"
                        else f"image matches bank {m.bank!r} (PDQ distance {m.distance} of "
                             f"at most {m.threshold})")
                if allowed:
                    if m.category != "child_safety":
                        continue
                    score = min(score, ALLOWED_CHILD_SAFETY_SCORE)
                    note += (f"; also in allow bank {allowed[0].bank!r}: sent to urgent "
                             "review, never dismissed automatically")
                ev = Evidence(text=ref, note=note, ref={
                    "media": ref, "bank": m.bank, "signal_type": m.signal_type,
                    "signal": m.signal, "distance": m.distance, "threshold": m.threshold,
                    "view": VIEWS[m.orientation], "md5": h.md5, "pdq": h.pdq,
                    "quality": h.quality})
                by_cat.setdefault(m.category, []).append((score, ev))
        out = []
        for cat in sorted(by_cat):
            found = sorted(by_cat[cat], key=lambda se: (-se[0], se[1].text, se[1].note))
            out.append(Signal(cat, found[0][0], self.name, self.version,
                              tuple(ev for _, ev in found[:MAX_EVIDENCE])))
        return out

    def examples(self) -> list[Example]:
        return [Example("a holiday photo from the beach", quiet=frozenset(CATEGORIES),
                        why="text alone never matches a hash bank")]


def load_media_detector(store: Store, *, paths: bool = True) -> MediaDetector:
    """The media detector over the store's enabled banks; it follows their changes, so
    banks created while it runs are matched too. ``paths=False`` for items that come
    from the network (the API, the stream worker)."""
    det = MediaDetector(store=store, paths=paths)
    det.refresh()
    return det


__all__ = ["ALLOWED_CHILD_SAFETY_SCORE", "MediaDetector", "load_media_detector",
           "match_score"]
