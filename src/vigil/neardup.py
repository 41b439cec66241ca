"""Near-duplicate index: MinHash signatures over shingles of normalised text, banded LSH.

Shingles are taken from the aggressive normalised view (``vigil.normalize``: folded,
de-obfuscated), so punctuation, case, spacing and leetspeak edits do not change them:
English (and other space-separated text) gives word bigrams, Chinese gives character
bigrams of each run of Han characters. A text is the *set* of its shingles, so reordering
sentences changes only the few shingles that cross a sentence boundary.

Signatures are datasketch MinHash signatures (scheme ``affine32``: each shingle's CRC-32
pre-mixed with the MurmurHash3 finaliser, then ``a·h + b mod 2³²`` for each permutation),
computed for a whole batch at once with numpy; a test keeps them identical to
``datasketch.MinHash.update_batch``, so stored signatures can be read by datasketch too.

The index keeps ``BANDS`` bands of ``ROWS`` signature values per item, each band hashed to
64 bits, in sorted numpy arrays (a large sorted run plus a small sorted run that new items
go to and that is merged in when it grows), so 1M items cost about 12 bytes per band each
instead of a Python set per bucket (datasketch's ``MinHashLSH`` in-memory storage, which
``benchmarks/neardup_scale.py`` measures as the floor). Candidates are then scored from the
full signatures: Jaccard resemblance, and with the shingle counts, containment — how much
of the new item lies inside the older one, which is what copying is (a long original that
quotes a short passage has low containment in the passage's source).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from vigil.normalize import normalize

NUM_PERM = 128
BANDS = 42
ROWS = 3
SEED = 20261125
MAX_MATCHES = 256
#: Names the shingling and signature scheme; stored with each signature so that a change
#: is noticed (and ``vigil index rebuild`` recomputes them).
SCHEME = f"minhash-affine32-p{NUM_PERM}-w2c2-v1"

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_M1 = np.uint32(0x85EBCA6B)
_M2 = np.uint32(0xC2B2AE35)
_GOLDEN = 0x9E3779B97F4A7C15


def _band_mix(rows: int) -> np.ndarray:
    """Odd 64-bit multipliers, one per row of a band (a splitmix64 sequence)."""
    out, x = [], 0
    for _ in range(rows):
        x = (x + _GOLDEN) & (2**64 - 1)
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


def shingle_tokens(text: str, *, normalized: bool = False) -> list[str]:
    """The shingles of ``text`` (normalised first, unless it is ``normalized`` already:
    ``Prepared.match.text``): word bigrams of the non-Han text and character bigrams of each
    Han run. A text of one word or one character gives itself."""
    norm = text if normalized else normalize(text).text
    out: list[str] = []
    han_runs = _HAN.findall(norm)
    for run in han_runs:
        if len(run) == 1:
            out.append(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    rest = _HAN.sub(" ", norm) if han_runs else norm
    words = _WORD.findall(rest)
    if len(words) == 1:
        out.append(words[0])
    out.extend(f"{words[i]} {words[i + 1]}" for i in range(len(words) - 1))
    return out


def shingle_hashes(text: str, *, normalized: bool = False) -> np.ndarray:
    """The distinct 32-bit hashes (CRC-32) of ``text``'s shingles (in no order)."""
    hs = {zlib.crc32(s.encode("utf-8")) for s in shingle_tokens(text, normalized=normalized)}
    out: np.ndarray = np.fromiter(hs, dtype=np.uint32, count=len(hs))
    return out


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * _M1
    h = h ^ (h >> np.uint32(13))
    h = h * _M2
    out: np.ndarray = h ^ (h >> np.uint32(16))
    return out


class MinHasher:
    """Batch MinHash with datasketch's permutations (``affine32`` scheme)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED) -> None:
        self.num_perm = num_perm
        self.seed = seed
        perms = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self.a = np.asarray(perms[0], dtype=np.uint32)
        self.b = np.asarray(perms[1], dtype=np.uint32)

    def signatures(self, hashes: Sequence[np.ndarray], chunk: int = 1 << 14) -> np.ndarray:
        """One signature row (uint32[num_perm]) per hash set; an empty set gives all-max.

        Works permutation-major — a (perms × shingles) block per run of items of about
        ``chunk`` shingles, reduced along its rows — which keeps the block in cache."""
        out = np.full((len(hashes), self.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        lengths = np.fromiter((len(h) for h in hashes), dtype=np.int64, count=len(hashes))
        a, b = self.a[:, None], self.b[:, None]
        i = 0
        while i < len(hashes):
            j, total = i, 0
            while j < len(hashes) and (total == 0 or total + lengths[j] <= chunk):
                total += int(lengths[j])
                j += 1
            rows = [k for k in range(i, j) if lengths[k]]
            if rows:
                hv = _fmix32(np.concatenate([hashes[k] for k in rows]).astype(np.uint32))
                phv = a * hv[None, :] + b
                starts = np.concatenate(([0], np.cumsum(lengths[rows])[:-1]))
                out[rows] = np.minimum.reduceat(phv, starts, axis=1).T
            i = j
        return out

    def signature(self, hashes: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.signatures([hashes])[0]
        return out


def band_keys(sigs: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """64-bit hash of each band of each signature: uint64[n, bands]."""
    n = sigs.shape[0]
    cut = sigs[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    mixed = (cut * _band_mix(rows)).sum(axis=2, dtype=np.uint64)
    mixed ^= np.arange(bands, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
    mixed ^= mixed >> np.uint64(31)
    out: np.ndarray = mixed
    return out


@dataclass(frozen=True, slots=True)
class Match:
    """One indexed item near a query: estimated Jaccard resemblance, containment of the
    query in it (``query_in``: share of the query's shingles found in the indexed item) and
    of it in the query (``in_query``)."""

    key: Hashable
    jaccard: float
    query_in: float
    in_query: float


def containments(jaccard: np.ndarray, size_q: int | np.ndarray, size_o: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(|Q∩O|/|Q|, |Q∩O|/|O|) from the resemblance and the two set sizes."""
    inter = jaccard * (size_q + size_o) / (1.0 + jaccard)
    q = np.minimum(1.0, inter / np.maximum(size_q, 1))
    o = np.minimum(1.0, inter / np.maximum(size_o, 1))
    return q, o


def _merge_sorted(k1: np.ndarray, r1: np.ndarray, k2: np.ndarray, r2: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Merge two sorted key arrays (and their rows) in linear time."""
    if not len(k1):
        return k2, r2
    pos = np.searchsorted(k1, k2, side="right")
    return np.insert(k1, pos, k2), np.insert(r1, pos, r2)


class _Run:
    """One sorted run of band keys: per band, the sorted keys and the rows they point at.
    (Per-band arrays keep each binary search inside a few MiB; one array of all bands
    measured 2.6× slower for batched queries at 1M items.)"""

    __slots__ = ("keys", "rows")

    def __init__(self, bands: int) -> None:
        self.keys = [np.empty(0, np.uint64) for _ in range(bands)]
        self.rows = [np.empty(0, np.int64) for _ in range(bands)]

    def __len__(self) -> int:
        return len(self.rows[0])

    def extend(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Add items' band keys (``keys``: uint64[n, bands]) for ``rows``."""
        for b in range(len(self.keys)):
            order = np.argsort(keys[:, b], kind="stable")
            self.keys[b], self.rows[b] = _merge_sorted(
                self.keys[b], self.rows[b], keys[order, b], rows[order])

    def lookup(self, keys: np.ndarray) -> list[np.ndarray]:
        """Rows sharing at least one band with each query row (may repeat)."""
        n = keys.shape[0]
        if not len(self):
            return [np.empty(0, np.int64) for _ in range(n)]
        found: list[list[np.ndarray]] = [[] for _ in range(n)]
        if n == 1:  # one query (one audited item): scalar searches, a second only on a hit
            q = keys[0]
            for b, kb in enumerate(self.keys):
                at = int(kb.searchsorted(q[b]))
                if at < len(kb) and kb[at] == q[b]:
                    to = int(kb.searchsorted(q[b], side="right"))
                    found[0].append(self.rows[b][at:to])
            return [np.concatenate(found[0]) if found[0] else np.empty(0, np.int64)]
        for b in range(len(self.keys)):
            lo = np.searchsorted(self.keys[b], keys[:, b], side="left")
            hi = np.searchsorted(self.keys[b], keys[:, b], side="right")
            for q in np.nonzero(hi > lo)[0]:
                found[q].append(self.rows[b][lo[q] : hi[q]])
        return [np.concatenate(f) if f else np.empty(0, np.int64) for f in found]


class NearDupIndex:
    """An in-memory LSH index of MinHash signatures, keyed by any hashable.

    ``add`` appends; adding a key again replaces it (an edited item). ``query`` returns the
    indexed items whose estimated resemblance to each query reaches ``min_jaccard`` or whose
    estimated containment of the query reaches ``min_containment``.

    Small additions (one audited item at a time) first go to an unsorted buffer of at most
    ``buffer_at`` items, scanned whole by each query, and reach the fresh run together:
    inserting into the ``bands`` sorted arrays costs the same for one item as for a
    hundred. Where an item's band keys are kept never changes what a query finds.
    """

    def __init__(self, num_perm: int = NUM_PERM, bands: int = BANDS, rows: int = ROWS,
                 merge_at: int = 32_768, buffer_at: int = 256) -> None:
        if bands * rows > num_perm:
            raise ValueError(f"{bands} bands × {rows} rows exceed {num_perm} permutations")
        self.num_perm, self.bands, self.rows = num_perm, bands, rows
        self.merge_at = merge_at
        self._sigs = np.empty((0, num_perm), np.uint32)
        self._sizes = np.empty(0, np.int32)
        self._ranks = np.empty(0, np.float64)
        self._alive = np.empty(0, bool)
        self._n = 0
        self.keys: list[Hashable] = []
        self._row_of: dict[Hashable, int] = {}
        self._main = _Run(bands)
        self._fresh = _Run(bands)
        self.buffer_at = buffer_at
        self._buf_keys = np.empty((buffer_at, bands), np.uint64)
        self._buf_rows = np.empty(buffer_at, np.int64)
        self._buf_n = 0

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, key: object) -> bool:
        return key in self._row_of

    def row(self, key: Hashable) -> int | None:
        return self._row_of.get(key)

    def signature(self, key: Hashable) -> np.ndarray | None:
        r = self._row_of.get(key)
        return None if r is None else self._sigs[r]

    def _grow(self, need: int) -> None:
        cap = self._sigs.shape[0]
        if need <= cap:
            return
        new = max(need, cap * 2, 1024)
        sigs = np.empty((new, self.num_perm), np.uint32)
        sigs[:cap] = self._sigs
        sizes = np.zeros(new, np.int32)
        sizes[:cap] = self._sizes
        ranks = np.zeros(new, np.float64)
        ranks[:cap] = self._ranks
        alive = np.zeros(new, bool)
        alive[:cap] = self._alive
        self._sigs, self._sizes, self._ranks, self._alive = sigs, sizes, ranks, alive

    def add(self, keys: Sequence[Hashable], sigs: np.ndarray, sizes: Sequence[int],
            ranks: Sequence[float] | None = None) -> np.ndarray:
        """Index ``keys`` with their signatures and shingle counts; returns their rows.
        ``ranks`` order equally similar matches (lower first; default: the order of
        indexing). Give them (e.g. the items' times) when an index rebuilt in another
        order must answer exactly as this one does."""
        n = len(keys)
        if not n:
            return np.empty(0, np.int64)
        for k in keys:
            old = self._row_of.pop(k, None)
            if old is not None:
                self._alive[old] = False
        start = self._n
        self._grow(start + n)
        rows = np.arange(start, start + n, dtype=np.int64)
        self._sigs[start : start + n] = sigs
        self._sizes[start : start + n] = np.asarray(sizes, dtype=np.int32)
        self._ranks[start : start + n] = (rows.astype(np.float64) if ranks is None
                                          else np.asarray(ranks, dtype=np.float64))
        self._alive[start : start + n] = True
        self._n += n
        self.keys.extend(keys)
        for k, r in zip(keys, rows, strict=True):
            self._row_of[k] = int(r)
        # a key repeated within ``keys``: only its last row stays alive
        for r in rows:
            if self._row_of.get(self.keys[r]) != r:
                self._alive[r] = False
        # an empty text (emoji or media only) resembles every other empty text: not indexed
        banded = np.asarray(sizes) > 0
        if banded.any():
            self._band(band_keys(sigs[banded], self.bands, self.rows), rows[banded])
        if len(self._fresh) >= self.merge_at:
            self._merge()
        return rows

    def _band(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Index rows' band keys: in the buffer while they fit, else (with the buffer's) in
        the fresh run."""
        b, m = self._buf_n, len(rows)
        if b + m <= self.buffer_at:
            self._buf_keys[b : b + m] = keys
            self._buf_rows[b : b + m] = rows
            self._buf_n = b + m
            return
        if b:
            keys = np.concatenate((self._buf_keys[:b], keys))
            rows = np.concatenate((self._buf_rows[:b], rows))
            self._buf_n = 0
        self._fresh.extend(keys, rows)

    def _buffered(self, keys: np.ndarray) -> list[np.ndarray] | None:
        """Buffered rows sharing a band with each query row (``None``: buffer empty)."""
        b = self._buf_n
        if not b:
            return None
        bk, br = self._buf_keys[:b], self._buf_rows[:b]
        out: list[np.ndarray] = []
        step = max(1, (1 << 20) // (b * self.bands))  # about 1 MB of comparisons at a time
        for s in range(0, keys.shape[0], step):
            hit = (keys[s : s + step, None, :] == bk[None, :, :]).any(axis=2)
            out.extend(br[h] for h in hit)
        return out

    def remove(self, key: Hashable) -> bool:
        r = self._row_of.pop(key, None)
        if r is None:
            return False
        self._alive[r] = False
        return True

    def _merge(self) -> None:
        """Fold the fresh run into the main one, dropping replaced rows. With a fixed
        ``merge_at`` of about sqrt(batch × items) the two costs (inserting each batch into
        the fresh run, merging it into the main run) balance."""
        main, fresh = self._main, self._fresh
        for b in range(self.bands):
            mk, mr = main.keys[b], main.rows[b]
            live = self._alive[mr]
            if not live.all():
                mk, mr = mk[live], mr[live]
            live = self._alive[fresh.rows[b]]
            main.keys[b], main.rows[b] = _merge_sorted(mk, mr, fresh.keys[b][live],
                                                       fresh.rows[b][live])
        self._fresh = _Run(self.bands)

    def candidates(self, sigs: np.ndarray) -> list[np.ndarray]:
        """Distinct live rows sharing a band with each query signature."""
        keys = band_keys(sigs, self.bands, self.rows)
        out = []
        buffered = self._buffered(keys)
        for i, (a, b) in enumerate(zip(self._main.lookup(keys), self._fresh.lookup(keys),
                                       strict=True)):
            parts = (a, b) if buffered is None else (a, b, buffered[i])
            rows = np.unique(np.concatenate(parts))
            out.append(rows[self._alive[rows]])
        return out

    def query(self, sigs: np.ndarray, sizes: Sequence[int], *,
              min_jaccard: float | None = None, min_containment: float | None = None,
              limit: int | None = MAX_MATCHES) -> list[list[Match]]:
        """Matches for each query signature, best resemblance first: the candidates whose
        estimated resemblance reaches ``min_jaccard`` or whose estimated containment of the
        query reaches ``min_containment`` (every candidate when neither is given).

        Candidates come from the bands, that is by *resemblance*: an item that contains
        the query but is much longer (a short excerpt of a long article) shares few bands
        and is found only when the resemblance is high enough (about 0.3 gives a 2 in 3
        chance; ``benchmarks/plagiarism_quality.py`` measures it).

        At most ``limit`` matches per query are kept — the most similar, earliest indexed
        first among equals — so a text copied ten thousand times (a spam wave) costs a
        bounded amount per new copy and still finds the first one."""
        out: list[list[Match]] = []
        for sig, size, rows in zip(sigs, sizes, self.candidates(sigs), strict=True):
            if not len(rows) or not size:
                out.append([])
                continue
            jac = (self._sigs[rows] == sig[None, :]).mean(axis=1)
            # most similar first, then lowest rank, then key: the same answer whatever
            # order the rows were indexed in (given ranks)
            rk = self._ranks[rows]
            order = np.lexsort((rk, -jac))
            ties = (np.diff(jac[order]) == 0) & (np.diff(rk[order]) == 0)
            if ties.any():  # equal similarity and rank (same time): by key
                order = np.lexsort((self._key_order(rows), rk, -jac))
            if limit is not None:
                order = order[:limit]
            rows, jac = rows[order], jac[order]
            q_in, in_q = containments(jac, int(size), self._sizes[rows].astype(np.float64))
            keep = np.full(len(rows), min_jaccard is None and min_containment is None)
            if min_jaccard is not None:
                keep |= jac >= min_jaccard
            if min_containment is not None:
                keep |= q_in >= min_containment
            found = [Match(self.keys[r], float(j), float(a), float(b))
                     for r, j, a, b, k in zip(rows, jac, q_in, in_q, keep, strict=True) if k]
            out.append(found)
        return out

    def _key_order(self, rows: np.ndarray) -> np.ndarray:
        """Each row's position among ``rows`` ordered by key (as text)."""
        names = [str(self.keys[r]) for r in rows]
        pos = np.empty(len(rows), np.int64)
        pos[sorted(range(len(rows)), key=names.__getitem__)] = np.arange(len(rows))
        return pos

    def nbytes(self) -> int:
        """Bytes held in numpy arrays (signatures, sizes, band runs)."""
        total = (self._sigs.nbytes + self._sizes.nbytes + self._alive.nbytes
                 + self._buf_keys.nbytes + self._buf_rows.nbytes)
        for run in (self._main, self._fresh):
            total += sum(a.nbytes for a in run.keys) + sum(a.nbytes for a in run.rows)
        return total
