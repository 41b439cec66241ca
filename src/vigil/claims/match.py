"""Claim retrieval: which fact-checked claims does a post repeat?

A :class:`ClaimIndex` holds claims and answers a post with its best matches
(:class:`Match`), each scored in [0, 1]. It runs a three-step cascade, offline on the CPU:

1. **lexical**: BM25 (k1=1.2, b=0.75) over the claim's text and title, on
   :func:`tokens` (the match view of :func:`vigil.normalize.normalize`, English word
   tokens without stop words, Chinese character bigrams); the post is first cleaned by
   :func:`clean_post` (links, the tweet signature's handle and date, ``@`` and ``#``);
2. **semantic**: cosine between the multilingual Universal Sentence Encoder embeddings of
   the post and of the claim's text and title (one vector per claim, computed at build);
3. **fusion**: the union of both top-``CANDIDATES`` lists is scored by a linear model over
   ``FEATURES`` with a "none of these" option fixed at 0, so that
   ``score = exp(s) / (1 + sum of exp(s) over the candidates)``: the probability that the
   post repeats this claim rather than another one or none. A claim written in another
   script than the post (Chinese post, English claim, or the reverse) is scored by
   ``CROSS_WEIGHTS`` over the semantic features alone.

With ``min_lexical`` set, a post whose best claim-word coverage (``cover_claim``) is below
it is not embedded and matches nothing: faster, but blind to paraphrases that share no
word with the claim and to cross-lingual matches. Off by default.

``WEIGHTS`` were fitted by :func:`fit_weights` on licence-clean data only: the project's
own ``vigil/data/claims_train.jsonl`` (150 fact-checked-style claims, 100 English and 50
Chinese, 234 posts that repeat one of them, 39 of those in the other language, and 120
posts that repeat none), 3,000 distractor claims and 300 more no-match posts drawn from
Davidson tweets (MIT), SMS Spam Collection (CC BY 4.0) and COLD (Apache-2.0), with the L2
strength that nested cross-validation chose (0.1). ``benchmarks/claims_fit_weights.py``
refits them, reports them under 5-fold cross-validation on that set, and tests them on
CLEF-2020 CheckThat! task 2 (957 tweets against 10,375 Snopes claims), which is used for
evaluation only (research licence). There they rank below untrained reciprocal-rank
fusion of the BM25 and USE ranks (MAP@5 0.78 vs 0.81; the weights fitted on CLEF itself
earlier reached 0.84 in-sample) but give fewer false alarms (1.5 % of no-match posts
score >= 0.5). About a third of the training posts repeat no claim, so ``score`` is
meant as a ranking score: on a real stream choose a threshold.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from vigil.embeddings import DIM
from vigil.normalize import normalize

#: How many claims each side (lexical, semantic) proposes for fusion.
CANDIDATES = 50
#: Fusion features, in the order of ``WEIGHTS`` (which ends with the bias).
FEATURES: tuple[str, ...] = (
    "log_bm25",       # log(1 + BM25)
    "bm25_rel",       # BM25 / the post's best BM25
    "bm25_rr",        # 1 / (1 + lexical rank), rank capped at CANDIDATES
    "cosine",         # cosine of the post and the claim's text + title
    "cosine_gap",     # cosine - the post's best cosine
    "cosine_rr",      # 1 / (1 + semantic rank), capped
    "cover_claim",    # idf mass of the claim's terms found in the post / the claim's
    "cover_post",     # idf mass of the post's terms found in the claim / the post's
)
#: Fitted by :func:`fit_weights` (L2=0.1) on licence-clean data; see the module docstring.
WEIGHTS: tuple[float, ...] = (-0.035, -0.369, 2.752, 4.592, 0.458, 5.286, 1.339, -0.904, -9.843)
#: The features a post and a claim in different scripts (Han / other) are scored on: no
#: word can match there, so the lexical ones would only count against the pair.
CROSS_FEATURES = (3, 4, 5)
#: Fitted like ``WEIGHTS`` on ``CROSS_FEATURES`` alone (cosine, cosine_gap, cosine_rr, bias).
CROSS_WEIGHTS: tuple[float, ...] = (6.762, 0.504, 5.731, -10.340)
_COSINE, _COVER_CLAIM = FEATURES.index("cosine"), FEATURES.index("cover_claim")
K1, B = 1.2, 0.75
_BATCH = 64  # posts scored together


class Encoder(Protocol):
    """What the index needs of :class:`vigil.embeddings.Embedder`."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Claim:
    """A fact-checked claim as the index sees it."""

    claim_id: str
    text: str
    title: str = ""
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Match:
    """A claim a post may repeat: ``score`` in [0, 1], with its two raw signals
    (``lexical``: share of the claim's idf mass found in the post; ``semantic``: cosine)."""

    claim_id: str
    score: float
    lexical: float
    semantic: float


# -- text --------------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+|pic\.twitter\.com/\S+", re.I)
_SIGNATURE = re.compile(r"\(@\w+\)\s+[A-Z][a-z]+ \d{1,2}, \d{4}\s*$")
_MENTION = re.compile(r"@(\w+)")
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_WORD = re.compile(r"[^\W_]+(?:['’][a-z]+)?")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CLITIC = re.compile(r"['’](?:s|t|re|ve|ll|d|m)$")
_HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def clean_post(text: str) -> str:
    """The post without links and without a tweet signature's ``(@handle) Month D, YYYY``
    (the author's name stays); ``@name`` becomes ``name`` and ``#HashTag`` ``Hash Tag``."""
    t = _URL.sub(" ", html.unescape(text))
    t = _SIGNATURE.sub(" ", t)
    t = _MENTION.sub(r" \1 ", t)
    t = _HASHTAG.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", t)
    return " ".join(t.split())


def tokens(text: str, lang: str | None = None) -> list[str]:
    """Lexical terms: English (and other Latin) words without stop words; each run of Han
    characters as its character bigrams (a lone character as itself)."""
    out: list[str] = []
    for w in _WORD.findall(normalize(text, lang=lang).text):
        for part in _HAN.split(w):
            if part:
                part = _CLITIC.sub("", part)
                if part not in ENGLISH_STOP_WORDS:
                    out.append(part)
        for han in _HAN.findall(w):
            out.extend([han] if len(han) == 1 else [han[i:i + 2] for i in range(len(han) - 1)])
    return out


def is_han(text: str) -> bool:
    """Is ``text`` mostly written in Han characters (one counting as three Latin letters)?"""
    han = len(_HAN_CHAR.findall(text))
    return han > 0 and 3 * han >= len(_LATIN.findall(text))


def _joint(c: Claim) -> str:
    return f"{c.text} {c.title}".strip()


# -- the index ---------------------------------------------------------------------------


class ClaimIndex:
    """Claims, searchable by a post. See the module docstring for how it ranks."""

    version = "1"

    def __init__(self, claims: Iterable[Claim] = (), embedder: Encoder | None = None, *,
                 weights: Sequence[float] = WEIGHTS,
                 cross_weights: Sequence[float] = CROSS_WEIGHTS,
                 min_lexical: float | None = None) -> None:
        if len(weights) != len(FEATURES) + 1:
            raise ValueError(f"weights needs {len(FEATURES) + 1} numbers, got {len(weights)}")
        if len(cross_weights) != len(CROSS_FEATURES) + 1:
            raise ValueError(f"cross_weights needs {len(CROSS_FEATURES) + 1} numbers")
        self.embedder = embedder
        self.weights = np.asarray(weights, dtype=np.float64)
        self.cross_weights = np.asarray(cross_weights, dtype=np.float64)
        self.min_lexical = min_lexical
        self._claims: list[Claim] = []
        self._row: dict[str, int] = {}
        self._vecs = np.zeros((0, DIM), dtype=np.float32)  # float16-rounded, as saved
        self._han = np.zeros(0, dtype=bool)
        self._vocab: dict[str, int] = {}
        self._counts = sp.csr_matrix((0, 0), dtype=np.float32)
        self._lexical_ready = True
        self.add(claims)

    # building

    @staticmethod
    def embed_claims(claims: Sequence[Claim], embedder: Encoder) -> np.ndarray:
        """One float32 row per claim: the embedding of its text and title."""
        return np.asarray(embedder.encode([_joint(c) for c in claims]), dtype=np.float32)

    @classmethod
    def from_vectors(cls, claims: Sequence[Claim], vectors: np.ndarray,
                     embedder: Encoder | None = None, *, weights: Sequence[float] = WEIGHTS,
                     cross_weights: Sequence[float] = CROSS_WEIGHTS,
                     min_lexical: float | None = None) -> ClaimIndex:
        """An index over ``claims`` whose :meth:`embed_claims` rows are already known."""
        index = cls(embedder=embedder, weights=weights, cross_weights=cross_weights,
                    min_lexical=min_lexical)
        index._add(list(claims), np.asarray(vectors, dtype=np.float32))
        return index

    def add(self, claims: Iterable[Claim]) -> None:
        """Add claims (or replace those whose id is already in the index)."""
        new = list(claims)
        if not new:
            return
        self._add(new, self.embed_claims(new, self._need_embedder()))

    def _add(self, new: list[Claim], vecs: np.ndarray) -> None:
        if vecs.shape != (len(new), DIM):
            raise ValueError(f"expected {len(new)} vectors of {DIM}, got {vecs.shape}")
        last = {c.claim_id: k for k, c in enumerate(new)}  # the last of a repeated id wins
        keep = [k for k, c in enumerate(new) if last[c.claim_id] == k]
        new, vecs = [new[k] for k in keep], vecs[keep]
        self.remove(c.claim_id for c in new)
        rows: list[int] = []
        cols: list[int] = []
        for r, c in enumerate(new):
            for t in tokens(_joint(c), c.lang):
                rows.append(r)
                cols.append(self._vocab.setdefault(t, len(self._vocab)))
        width = len(self._vocab)
        counts = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                               shape=(len(new), width))
        counts.sum_duplicates()
        self._counts.resize((len(self._claims), width))
        self._counts = sp.vstack([self._counts, counts], format="csr")
        self._row.update((c.claim_id, len(self._claims) + k) for k, c in enumerate(new))
        self._claims += new
        self._vecs = np.vstack([self._vecs, vecs.astype(np.float16).astype(np.float32)])
        self._han = np.r_[self._han, [is_han(_joint(c)) for c in new]].astype(bool)
        self._lexical_ready = False

    def remove(self, ids: Iterable[str]) -> None:
        """Drop the claims with these ids; unknown ids are ignored."""
        gone = {self._row[i] for i in ids if i in self._row}
        if not gone:
            return
        keep = np.array([k for k in range(len(self._claims)) if k not in gone], dtype=np.intp)
        self._claims = [self._claims[k] for k in keep]
        self._row = {c.claim_id: k for k, c in enumerate(self._claims)}
        self._vecs = self._vecs[keep]
        self._han = self._han[keep]
        self._counts = self._counts[keep]
        self._lexical_ready = False

    def _lexical(self) -> None:
        """BM25 weights (terms x claims) and idf from the term counts."""
        if self._lexical_ready:
            return
        c = self._counts.tocoo()
        n = max(len(self._claims), 1)
        df = np.bincount(c.col, minlength=len(self._vocab))
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._idf_new = math.log1p((n + 0.5) / 0.5)  # a post's term no claim has
        length = np.asarray(self._counts.sum(axis=1)).ravel()
        norm = K1 * (1 - B + B * length / max(float(length.mean()) if n else 1.0, 1e-9))
        w = self._idf[c.col] * c.data * (K1 + 1) / (c.data + norm[c.row])
        shape = self._counts.shape
        self._bm25 = sp.csr_matrix((w, (c.col, c.row)), shape=(shape[1], shape[0]))
        self._shared = sp.csr_matrix((self._idf[c.col], (c.col, c.row)),
                                     shape=(shape[1], shape[0]))
        self._claim_mass = np.maximum(np.asarray(self._shared.sum(axis=0)).ravel(), 1e-9)
        self._lexical_ready = True

    def __len__(self) -> int:
        return len(self._claims)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._row

    def claims(self) -> list[Claim]:
        return list(self._claims)

    def _need_embedder(self) -> Encoder:
        if self.embedder is None:
            from vigil.embeddings import Embedder

            self.embedder = Embedder()
        return self.embedder

    # searching

    def search(self, text: str, top: int = 5) -> list[Match]:
        """The ``top`` claims ``text`` most likely repeats, best first."""
        return self.search_many([text], top)[0]

    def search_many(self, texts: Sequence[str], top: int = 5) -> list[list[Match]]:
        """:meth:`search` for many posts, embedding them in batches."""
        out: list[list[Match]] = []
        for start in range(0, len(texts), _BATCH):
            batch = texts[start:start + _BATCH]
            for text, (cands, feats) in zip(batch, self._candidates(batch), strict=True):
                cross = self._han[cands] != is_han(clean_post(text))
                out.append(self._rank(cands, feats, cross, top))
        return out

    def _rank(self, cands: np.ndarray, feats: np.ndarray, cross: np.ndarray, top: int
              ) -> list[Match]:
        if not len(cands):
            return []
        s = feats @ self.weights[:-1] + self.weights[-1]
        if cross.any():
            w = self.cross_weights
            s[cross] = feats[cross][:, CROSS_FEATURES] @ w[:-1] + w[-1]
        m = max(float(s.max()), 0.0)
        p = np.exp(s - m) / (np.exp(-m) + np.exp(s - m).sum())
        order = np.argsort(-s, kind="stable")[:top]
        return [Match(self._claims[cands[j]].claim_id, float(p[j]),
                      float(feats[j, _COVER_CLAIM]), float(feats[j, _COSINE])) for j in order]

    def _signals(self, texts: Sequence[str]) -> _Signals:
        """Each post's lexical and semantic signals against every claim."""
        self._lexical()
        clean = [clean_post(t) for t in texts]
        q, q_mass = self._query_terms(clean)
        bm25 = (q @ self._bm25).tocsr()
        bm25.sort_indices()
        shared = (q @ self._shared).toarray()
        go = list(range(len(texts)))
        if self.min_lexical is not None:
            best = (shared / self._claim_mass).max(axis=1)
            go = [i for i in go if best[i] >= self.min_lexical]
        cos = np.zeros((len(texts), len(self._claims)), dtype=np.float32)
        if go:
            e = np.asarray(self._need_embedder().encode([clean[i] for i in go]), np.float32)
            cos[go] = e @ self._vecs.T
        return _Signals(bm25, shared, q_mass, cos, go)

    def _candidates(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per post: the candidate claim rows and their ``FEATURES`` rows."""
        empty = (np.zeros(0, np.intp), np.zeros((0, len(FEATURES))))
        out = [empty] * len(texts)
        if not self._claims or not texts:
            return out
        sig = self._signals(texts)
        sem_top = _top(sig.cos[sig.go], min(CANDIDATES, len(self._claims)))
        for i, sem in zip(sig.go, sem_top, strict=True):
            row = slice(sig.bm25.indptr[i], sig.bm25.indptr[i + 1])
            lex = _top_sparse(sig.bm25.indices[row], sig.bm25.data[row], CANDIDATES)
            cands = np.union1d(lex, sem)
            b = np.zeros(len(cands))
            at = np.searchsorted(sig.bm25.indices[row], cands)
            hit = at < row.stop - row.start
            hit[hit] = sig.bm25.indices[row][at[hit]] == cands[hit]
            b[hit] = sig.bm25.data[row][at[hit]]
            c, shared = sig.cos[i, cands], sig.shared[i, cands]
            out[i] = (cands, np.column_stack([
                np.log1p(b),
                b / max(float(sig.bm25.data[row].max(initial=0.0)), 1e-9),
                1.0 / (1.0 + _ranks(cands, lex)),
                c,
                c - float(sig.cos[i].max()),
                1.0 / (1.0 + _ranks(cands, sem)),
                shared / self._claim_mass[cands],
                shared / max(float(sig.q_mass[i]), 1e-9),
            ]))
        return out

    def _query_terms(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        """Binary post x term matrix and each post's total idf mass."""
        rows: list[int] = []
        cols: list[int] = []
        mass = np.zeros(len(texts))
        for r, t in enumerate(texts):
            for term in set(tokens(t)):
                col = self._vocab.get(term)
                if col is None:
                    mass[r] += self._idf_new
                else:
                    rows.append(r)
                    cols.append(col)
                    mass[r] += self._idf[col]
        q = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                          shape=(len(texts), len(self._idf)))
        return q, mass

    # persistence

    def save(self, path: str | Path) -> None:
        """Write the claims (as UTF-8 JSON) and their embeddings (float16) to an ``.npz``."""
        rows = [[c.claim_id, c.text, c.title, c.lang] for c in self._claims]
        blob = json.dumps(rows, ensure_ascii=False).encode("utf-8", "surrogatepass")
        np.savez(path, claims=np.frombuffer(blob, dtype=np.uint8),
                 vectors=self._vecs.astype(np.float16))

    @classmethod
    def load(cls, path: str | Path, embedder: Encoder | None = None, *,
             weights: Sequence[float] = WEIGHTS, cross_weights: Sequence[float] = CROSS_WEIGHTS,
             min_lexical: float | None = None) -> ClaimIndex:
        """An index read back from :meth:`save`; the lexical side is rebuilt."""
        with np.load(path, allow_pickle=False) as z:
            rows = json.loads(z["claims"].tobytes().decode("utf-8", "surrogatepass"))
            claims = [Claim(*map(str, r)) for r in rows]
            vecs = z["vectors"].astype(np.float32).reshape(len(claims), DIM)
        return cls.from_vectors(claims, vecs, embedder, weights=weights,
                                cross_weights=cross_weights, min_lexical=min_lexical)


@dataclass(frozen=True, slots=True)
class _Signals:
    """A batch of posts against every claim: ``bm25`` (sparse: zero where no word is
    shared), ``shared`` (idf mass shared), ``q_mass`` (each post's idf mass), ``cos``, and
    ``go``: the posts past the lexical filter (the others have no cosines)."""

    bm25: sp.csr_matrix
    shared: np.ndarray
    q_mass: np.ndarray
    cos: np.ndarray
    go: list[int]


def _top_sparse(idx: np.ndarray, vals: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` largest values of a sparse row, best first."""
    if len(vals) > k:
        part = np.argpartition(-vals, k - 1)[:k]
        idx, vals = idx[part], vals[part]
    return idx[np.lexsort((idx, -vals))]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Row-wise indices of the ``k`` largest, best first (ties: lower index first)."""
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
        np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


def _ranks(cands: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Rank of each candidate in ``top``, ``CANDIDATES`` when absent."""
    pos = {int(r): k for k, r in enumerate(top)}
    return np.array([pos.get(int(c), CANDIDATES) for c in cands], dtype=np.float64)


# -- fitting the fusion weights ----------------------------------------------------------


def fit_weights(groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = 1e-2
                ) -> np.ndarray:
    """Fusion weights (``FEATURES`` then bias) from posts' candidate features and 0/1
    labels. A post with no positive label teaches "none of these"; one with several
    spreads its target over them. Maximises the likelihood of the softmax over the
    candidates and a none option fixed at 0, with an L2 penalty on standardised weights."""
    groups = [(x, y) for x, y in groups if len(y)]  # no candidates: nothing to learn
    x = np.vstack([g[0] for g in groups]).astype(np.float64)
    y = np.concatenate([g[1] for g in groups]).astype(np.float64)
    sizes = np.array([len(g[1]) for g in groups])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    seg = np.repeat(np.arange(len(groups)), sizes)
    pos = np.add.reduceat(y, starts)
    t = y / np.maximum(pos, 1.0)[seg]  # target: positives share 1; none if no positive
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    x = (x - mu) / sd

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w[:-1] + w[-1]
        m = np.maximum(np.maximum.reduceat(s, starts), 0.0)
        e = np.exp(s - m[seg])
        lse = m + np.log(np.add.reduceat(e, starts) + np.exp(-m))
        g = e / np.exp(lse - m)[seg] - t
        n = len(groups)
        value = (float(lse.sum()) - float(t @ s)) / n + l2 * float(w[:-1] @ w[:-1])
        grad = np.r_[x.T @ g / n + 2 * l2 * w[:-1], g.sum() / n]
        return value, grad

    w = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B").x
    coef = w[:-1] / sd
    return np.concatenate([coef, [w[-1] - float(coef @ mu)]])
