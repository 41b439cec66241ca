"""TF-IDF features at inference time, without scikit-learn.

Reproduces scikit-learn's ``TfidfVectorizer`` (lowercase, ``word`` / ``char`` /
``char_wb`` analyzers, ``sublinear_tf``, L2 norm) for a fixed vocabulary and idf, so the
shipped models load fast and score fast: word-bounded character n-grams are computed
once per distinct word and cached, plain character n-grams (Chinese) are found in one pass
by an Aho-Corasick automaton over the vocabulary. ``tests/test_classifier.py`` checks the output
equals scikit-learn's.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from typing import Any

import ahocorasick
import numpy as np
from scipy import sparse

_WHITE = re.compile(r"\s\s+")
_CACHE_LIMIT = 200_000


class Block:
    """One feature block: an analyzer, its n-gram range, vocabulary and idf."""

    def __init__(self, params: dict[str, Any], vocab: Sequence[str], idf: np.ndarray,
                 offset: int) -> None:
        self.analyzer: str = params["analyzer"]
        self.min_n, self.max_n = (int(x) for x in params["ngram_range"])
        self.sublinear: bool = bool(params.get("sublinear_tf", False))
        self.token = re.compile(params.get("token_pattern", r"(?u)\b\w\w+\b"))
        self.vocab = list(vocab)
        self.index = {g: i for i, g in enumerate(self.vocab)}
        self.idf = idf.astype(np.float32)
        self.offset = offset
        self._word_cache: dict[str, list[int]] = {}
        self._automaton: Any = None

    def _matcher(self) -> Any:
        """An Aho-Corasick automaton over the vocabulary (built on first use): every
        n-gram of a ``char`` block in one pass, in C."""
        if self._automaton is None:
            a = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for i, g in enumerate(self.vocab):
                a.add_word(g, i)
            a.make_automaton()
            self._automaton = a
        return self._automaton

    def __len__(self) -> int:
        return len(self.vocab)

    def grams(self, text: str) -> list[int]:
        """Vocabulary indices of every n-gram occurrence in ``text`` (already lowercase)."""
        index = self.index
        if self.analyzer == "word":
            toks = self.token.findall(text)
            out = [i for t in toks if (i := index.get(t, -1)) >= 0] if self.min_n == 1 else []
            for n in range(max(2, self.min_n), self.max_n + 1):
                for k in range(len(toks) - n + 1):
                    i = index.get(" ".join(toks[k : k + n]), -1)
                    if i >= 0:
                        out.append(i)
            return out
        text = _WHITE.sub(" ", text)
        if self.analyzer == "char":
            if not text or not self.vocab:
                return []
            return [i for _, i in self._matcher().iter(text)]
        out = []
        cache = self._word_cache
        for w in text.split():
            got = cache.get(w)
            if got is None:
                got = self._wb(w)
                if len(cache) < _CACHE_LIMIT:
                    cache[w] = got
            out.extend(got)
        return out

    def _wb(self, word: str) -> list[int]:
        w = " " + word + " "
        index, out = self.index, []
        wl = len(w)
        for n in range(self.min_n, self.max_n + 1):
            # as scikit-learn: a padded word no longer than n counts once, as itself
            for k in range(max(1, wl - n + 1)):
                i = index.get(w[k : k + n], -1)
                if i >= 0:
                    out.append(i)
            if n >= wl:
                break
        return out


def transform(blocks: Sequence[Block], texts: Sequence[str]) -> sparse.csr_matrix:
    """Rows of L2-normalised TF-IDF per block, the blocks side by side (CSR, float32).

    Vectorised over the batch: n-gram ids are gathered per text, counted by building a
    sparse matrix (duplicates sum), then weighted and normalised in numpy."""
    lows = [t.lower() for t in texts]
    mats = []
    for b in blocks:
        cols = array("q")
        indptr = array("q", [0])
        for low in lows:
            cols.extend(b.grams(low))
            indptr.append(len(cols))
        ind = np.frombuffer(cols, dtype=np.int64) if cols else np.zeros(0, dtype=np.int64)
        m = sparse.csr_matrix(
            (np.ones(len(ind), dtype=np.float32), ind, np.frombuffer(indptr, dtype=np.int64)),
            shape=(len(texts), len(b)),
        )
        m.sum_duplicates()
        if b.sublinear:
            np.log(m.data, out=m.data)
            m.data += 1.0
        m.data *= b.idf[m.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        m.data /= np.repeat(norms, np.diff(m.indptr)).astype(np.float32)
        mats.append(m)
    out = mats[0] if len(mats) == 1 else sparse.hstack(mats, format="csr")
    return sparse.csr_matrix(out, dtype=np.float32)
