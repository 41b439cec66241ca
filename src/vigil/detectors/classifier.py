"""Trained text classifiers: calibrated probabilities per category, English and Chinese.

One linear model per (language, category) over TF-IDF n-grams of the normalised text
(word uni/bigrams for English, character 1–3-grams for Chinese), Platt-calibrated on
held-out folds. The artefact is plain arrays (``vigil/data/models/text.npz``), rebuilt by
``vigil train``; no pickles, so it loads on any scikit-learn version.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from vigil.detectors import Evidence, Example, Prepared, Signal
from vigil.detectors._features import Block, transform
from vigil.lang import detect_lang

#: Scores below this are not reported at all.
EMIT_FROM = 0.01
#: Evidence (the n-grams that drove the score) is attached from this probability on.
EVIDENCE_FROM = 0.3
MAX_EVIDENCE = 3
_WORD = re.compile(r"(?u)\b\w+\b")


@dataclass(slots=True)
class _Stage2:
    coef: np.ndarray
    intercept: float
    w1: float
    w2: float
    bias: float
    lo: float
    hi: float


@dataclass(slots=True)
class _LangModel:
    blocks: list[Block]
    categories: tuple[str, ...]
    weights: np.ndarray  # features × categories
    intercepts: np.ndarray
    platt: np.ndarray  # categories × 2 (a, b)
    stage2: list[_Stage2 | None]

    def transform(self, texts: list[str]) -> Any:
        return transform(self.blocks, texts)

    def gram(self, j: int) -> tuple[str, str]:
        for b in reversed(self.blocks):
            if j >= b.offset:
                return b.vocab[j - b.offset], b.analyzer
        raise IndexError(j)


def model_version(artefact: bytes) -> str:
    """A model's version: the format generation and the hash of the artefact's bytes."""
    return "1." + hashlib.sha256(artefact).hexdigest()[:12]


def default_model_path() -> Path:
    return Path(str(resources.files("vigil") / "data" / "models" / "text.npz"))


class ClassifierDetector:
    """Calibrated per-category probabilities from the trained linear models."""

    name = "classifier"
    cost = 2

    def __init__(self, path: str | Path | None = None, *, stage2: bool = True) -> None:
        from vigil import embeddings

        self.path = Path(path) if path is not None else default_model_path()
        raw = self.path.read_bytes()
        self.version = model_version(raw)
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(str(arrays["meta"]))
        self.langs_: dict[str, _LangModel] = {}
        for lang, blocks_params in meta["langs"].items():
            models = [m for m in meta["models"] if m["lang"] == lang]
            if not models:
                continue
            blocks, offset = [], 0
            for k, params in enumerate(blocks_params):
                vocab = str(arrays[f"{lang}.{k}.vocab"]).split("\n")
                blocks.append(Block(params, vocab, arrays[f"{lang}.{k}.idf"], offset))
                offset += len(vocab)
            cats = tuple(m["category"] for m in models)
            weights = np.stack(
                [arrays[f"{lang}.{c}.coef"].astype(np.float32) for c in cats], axis=1
            )
            s2: list[_Stage2 | None] = []
            for m in models:
                st = m.get("stage2")
                s2.append(None if st is None else _Stage2(
                    arrays[f"{lang}.{m['category']}.emb_coef"], st["intercept"],
                    *st["stack"], *st["band"]))
            self.langs_[lang] = _LangModel(
                blocks, cats, weights,
                np.array([m["intercept"] for m in models], dtype=np.float32),
                np.array([m["platt"] for m in models], dtype=np.float32),
                s2,
            )
        self.categories = tuple(sorted({c for m in self.langs_.values() for c in m.categories}))
        wants = any(s is not None for m in self.langs_.values() for s in m.stage2)
        self.embedder_ = (embeddings.Embedder() if stage2 and wants and embeddings.available()
                          else None)

    def _route(self, p: Prepared) -> str:
        """Chinese text to the Chinese models, everything else to the English ones."""
        text = p.item.text
        if p.item.lang is None and text.isascii():
            return "en"
        lang = detect_lang(text, p.item.lang)
        return "zh" if lang == "zh" and "zh" in self.langs_ else "en"

    def probabilities(self, batch: Sequence[Prepared]) -> list[dict[str, float]]:
        """Calibrated probability per category for each item (the categories its
        language's models cover)."""
        out: list[dict[str, float]] = [{} for _ in batch]
        for lang, rows, _, probs in self._score(batch):
            m = self.langs_[lang]
            for r, pr in zip(rows, probs, strict=True):
                out[r] = {c: float(v) for c, v in zip(m.categories, pr, strict=True)}
        return out

    def _score(self, batch: Sequence[Prepared]) -> list[tuple[str, list[int], Any, np.ndarray]]:
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(batch):
            groups.setdefault(self._route(p), []).append(i)
        res = []
        for lang, rows in groups.items():
            m = self.langs_[lang]
            X = m.transform([batch[i].match.text for i in rows])
            z = np.asarray(X @ m.weights) + m.intercepts
            probs = 1.0 / (1.0 + np.exp(-(m.platt[:, 0] * z + m.platt[:, 1])))
            if self.embedder_ is not None:
                self._second_stage(m, [batch[i] for i in rows], z, probs)
            res.append((lang, rows, X, probs))
        return res

    def _second_stage(self, m: _LangModel, items: Sequence[Prepared], z: np.ndarray,
                      probs: np.ndarray) -> None:
        """Where the first stage is unsure, stack it with the sentence-embedding head."""
        assert self.embedder_ is not None
        bands = {c: (probs[:, c] >= s.lo) & (probs[:, c] <= s.hi)
                 for c, s in enumerate(m.stage2) if s is not None}
        if not bands:
            return
        need = np.flatnonzero(np.logical_or.reduce(list(bands.values())))
        if need.size == 0:
            return
        E = self.embedder_.encode([items[int(k)].folded.text for k in need])
        where = {int(k): r for r, k in enumerate(need)}
        for c, mask in bands.items():
            s = m.stage2[c]
            assert s is not None
            ks = np.flatnonzero(mask)
            z2 = E[[where[int(k)] for k in ks]] @ s.coef + s.intercept
            logit = s.w1 * z[ks, c] + s.w2 * z2 + s.bias
            probs[ks, c] = 1.0 / (1.0 + np.exp(-logit))

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        out: list[list[Signal]] = [[] for _ in batch]
        for lang, rows, X, probs in self._score(batch):
            m = self.langs_[lang]
            for k, r in enumerate(rows):
                row = slice(X.indptr[k], X.indptr[k + 1])
                words: list[re.Match[str]] | None = None
                for c, cat in enumerate(m.categories):
                    pr = float(probs[k, c])
                    if pr < EMIT_FROM:
                        continue
                    ev: tuple[Evidence, ...] = ()
                    if pr >= EVIDENCE_FROM:
                        if words is None:
                            words = list(_WORD.finditer(batch[r].match.text))
                        ev = self._evidence(batch[r], m, X.indices[row], X.data[row], c,
                                            words)
                    out[r].append(Signal(cat, round(pr, 4), self.name, self.version, ev))
        return out

    def _evidence(self, p: Prepared, m: _LangModel, idx: np.ndarray, data: np.ndarray,
                  c: int, words: list[re.Match[str]]) -> tuple[Evidence, ...]:
        """The n-grams that pushed this score up most, as spans of the original text."""
        contrib = data * m.weights[idx, c]
        top = np.argpartition(-contrib, MAX_EVIDENCE)[:MAX_EVIDENCE] \
            if len(contrib) > MAX_EVIDENCE else np.arange(len(contrib))
        order = top[np.argsort(-contrib[top])]
        norm = p.match
        found: list[Evidence] = []
        seen: set[tuple[int, int]] = set()
        for j in order:
            if contrib[j] <= 0:
                break
            gram, analyzer = m.gram(int(idx[j]))
            span = _locate(norm.text, gram, analyzer, words)
            if span is None:
                continue
            s, e = norm.to_original(*span)
            if (s, e) in seen or s >= e:
                continue
            seen.add((s, e))
            found.append(Evidence(norm.original[s:e], s, e, note=f"model n-gram: {gram}"))
        return tuple(found)

    def examples(self) -> list[Example]:
        return [
            Example("Congratulations! You won a free iPhone, text WIN to 80080 to claim now",
                    fires=frozenset({"spam"})),
            Example("you are a worthless fucking idiot", fires=frozenset({"harassment"})),
            Example("I will find you and kill you", fires=frozenset({"violence"})),
            Example("see you at the meeting tomorrow at 10",
                    quiet=frozenset({"spam", "harassment", "hate", "violence", "sexual"})),
            Example("你就是个傻逼，滚", fires=frozenset({"harassment"}), lang="zh"),
            Example("今天天气不错，我们去公园散步吧",
                    quiet=frozenset({"spam", "harassment", "hate", "violence", "sexual"}),
                    lang="zh"),
        ]


def _locate(text: str, gram: str, analyzer: str, toks: list[re.Match[str]]
            ) -> tuple[int, int] | None:
    if analyzer in ("char", "char_wb"):
        gram = gram.strip()
        if not gram:
            return None
        i = text.find(gram)
        return (i, i + len(gram)) if i >= 0 else None
    words = gram.split(" ")
    for i in range(len(toks) - len(words) + 1):
        if all(toks[i + k].group() == w for k, w in enumerate(words)):
            return toks[i].start(), toks[i + len(words) - 1].end()
    return None
