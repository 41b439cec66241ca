"""The match index over hash banks: exact MD5 look-ups and a Hamming-distance index for
PDQ (a faiss binary index), one per bank so each bank keeps its own match distance and a
changed bank is rebuilt alone.

faiss's brute-force binary index (``IndexBinaryFlat``) is the default: on 1M hashes it
answers an image's 15 range queries in under 10 ms with 32 bytes a hash, and measured
faster here than its multi-index hashing (``IndexBinaryMultiHash``, what HMA uses), which
takes ~11x the memory (benchmarks/media_index.py). Both are exact. A bank keeps its
hashes only as the index's 32-byte codes (hex is made again for matches).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vigil.media.hashing import ImageHashes

INDEX_KINDS = ("flat", "mih")


@dataclass(frozen=True, slots=True)
class BankSpec:
    """What the index needs to know of a bank."""

    name: str
    category: str
    threshold: int
    allow: bool
    generation: int = 0


@dataclass(frozen=True, slots=True)
class Match:
    """One image matched one bank: the closest hash, its distance (0 for MD5) and which
    view of the image matched (an index into ``vigil.media.hashing.VIEWS``; 0 = as
    sent)."""

    bank: str
    category: str
    allow: bool
    signal_type: str
    signal: str
    distance: int
    threshold: int
    orientation: int = 0


def _codes(hexes: Sequence[str]) -> np.ndarray:
    if not hexes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, 32)


@dataclass(slots=True)
class _BankIndex:
    spec: BankSpec
    #: the bank's PDQ hashes as faiss takes them: 32 bytes each, in signal order
    codes: np.ndarray = field(default_factory=lambda: _codes([]))
    md5: set[str] = field(default_factory=set)
    faiss_index: object | None = None

    def signal(self, pos: int) -> str:
        return bytes(self.codes[pos]).hex()

    def build(self, kind: str) -> None:
        import faiss

        if not len(self.codes):
            self.faiss_index = None
            return
        idx: faiss.IndexBinary
        if kind == "mih":
            mih = faiss.IndexBinaryMultiHash(256, 16, 16)
            mih.nflip = self.spec.threshold // 16
            idx = mih
        else:
            idx = faiss.IndexBinaryFlat(256)
        idx.add(self.codes)
        self.faiss_index = idx

    def search(self, codes: np.ndarray) -> list[tuple[int, int, int]]:
        """(query row, hash position, distance) of every hash within the threshold."""
        if self.faiss_index is None or not len(codes):
            return []
        lims, dist, ids = self.faiss_index.range_search(  # type: ignore[attr-defined]
            codes, self.spec.threshold + 1)
        out = []
        for q in range(len(codes)):
            for j in range(int(lims[q]), int(lims[q + 1])):
                out.append((q, int(ids[j]), int(dist[j])))
        return out


def _unique_rows(codes: np.ndarray) -> np.ndarray:
    """``codes`` without repeated rows, first occurrences in their order."""
    if len(codes) < 2:
        return codes
    keys = np.ascontiguousarray(codes).view(np.dtype((np.void, codes.shape[1]))).ravel()
    _, first = np.unique(keys, return_index=True)
    return codes[np.sort(first)]


class MatchIndex:
    """Banks' hashes, queried by batches of images."""

    def __init__(self, kind: str = "flat") -> None:
        if kind not in INDEX_KINDS:
            raise ValueError(f"index kind {kind!r}: one of {INDEX_KINDS}")
        self.kind = kind
        self._banks: dict[str, _BankIndex] = {}

    def __len__(self) -> int:
        return sum(len(b.codes) + len(b.md5) for b in self._banks.values())

    @property
    def banks(self) -> dict[str, BankSpec]:
        return {n: b.spec for n, b in self._banks.items()}

    def set_bank(self, spec: BankSpec, signals: Iterable[tuple[str, str]]) -> None:
        """Put (or replace) a bank with its (signal_type, signal) hashes."""
        b = _BankIndex(spec)
        chunks: list[np.ndarray] = []
        pending: list[str] = []
        for st, sig in signals:
            if st == "md5":
                b.md5.add(sig)
            elif st == "pdq":
                pending.append(sig)
                if len(pending) >= 65_536:
                    chunks.append(_codes(pending))
                    pending = []
        chunks.append(_codes(pending))
        b.codes = _unique_rows(np.concatenate(chunks))
        b.build(self.kind)
        self._banks[spec.name] = b

    def drop_bank(self, name: str) -> None:
        self._banks.pop(name, None)

    def match(self, images: Sequence[ImageHashes | None]) -> list[list[Match]]:
        """Every bank each image matches (the closest hash per bank), one list per image,
        ordered by bank name. MD5 matches are exact (distance 0); PDQ matches compare
        every query hash of the image (its orientations and re-registered views) within
        the bank's threshold.
        Images without a PDQ hash (low quality) match on MD5 only."""
        rows: list[str] = []
        owner: list[tuple[int, int]] = []
        for i, h in enumerate(images):
            if h is None or h.pdq is None:
                continue
            for o, hx in enumerate(h.queries):
                rows.append(hx)
                owner.append((i, o))
        codes = _codes(rows)
        out: list[list[Match]] = [[] for _ in images]
        for name in sorted(self._banks):
            b = self._banks[name]
            best: dict[int, Match] = {}
            for i, h in enumerate(images):
                if h is not None and h.md5 in b.md5:
                    best[i] = Match(name, b.spec.category, b.spec.allow, "md5", h.md5, 0,
                                    b.spec.threshold)
            for q, pos, d in b.search(codes):
                i, o = owner[q]
                cur = best.get(i)
                sig = b.signal(pos)
                if cur is None or (cur.signal_type == "pdq" and (d, o, sig) < (
                        cur.distance, cur.orientation, cur.signal)):
                    best[i] = Match(name, b.spec.category, b.spec.allow, "pdq", sig, d,
                                    b.spec.threshold, o)
            for i, m in best.items():
                out[i].append(m)
        return out


__all__ = ["INDEX_KINDS", "BankSpec", "Match", "MatchIndex"]
