"""Measuring detectors: ``vigil eval`` on any labelled file, the floor model beside ours,
and the cross-validated quality report (docs/quality.md)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.audit import detect
from vigil.detectors import CATEGORIES, Detector, best_scores
from vigil.errors import InputError
from vigil.items import Item
from vigil.policy import Policy, evaluate


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    category: str
    lang: str | None


def read_labelled(path: Path) -> list[Labelled]:
    """A CSV or JSONL file with ``text`` and ``category`` (``none`` for clean rows)."""
    rows: list[Labelled] = []
    if path.suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"invalid JSON: {exc.msg}", where=str(path), line=n) from None
                rows.append(_labelled(d, path, n))
    elif path.suffix == ".csv":
        csv.field_size_limit(1 << 24)
        with path.open(encoding="utf-8", newline="") as fh:
            for n, d in enumerate(csv.DictReader(fh), 2):
                rows.append(_labelled(d, path, n))
    else:
        raise InputError("needs a .csv or .jsonl file", where=str(path))
    return rows


def _labelled(d: dict[str, Any], path: Path, n: int) -> Labelled:
    text, cat = d.get("text"), d.get("category")
    if not isinstance(text, str) or not text:
        raise InputError("field 'text': missing or empty", where=str(path), line=n)
    if not isinstance(cat, str) or (cat != "none" and cat not in CATEGORIES):
        raise InputError(f"field 'category': {cat!r} is not a category or 'none'",
                         where=str(path), line=n)
    lang = d.get("lang")
    return Labelled(text, cat, lang if isinstance(lang, str) and lang else None)


def score_and_flag(texts: Sequence[str], langs: Sequence[str | None],
                   detectors: Sequence[Detector], policy: Policy, batch: int = 512
                   ) -> tuple[list[dict[str, float]], list[set[str]]]:
    """Per text: the highest score per category, and the categories the policy acts on or
    sends to review."""
    scores: list[dict[str, float]] = []
    flags: list[set[str]] = []
    for i in range(0, len(texts), batch):
        items = [Item(id=str(i + k), account="", text=t, lang=lang)
                 for k, (t, lang) in enumerate(zip(texts[i:i + batch], langs[i:i + batch],
                                                   strict=True))]
        for sigs in detect(items, detectors):
            scores.append(best_scores(sigs))
            flags.append({f.category for f in evaluate(sigs, policy).findings})
    return scores, flags


def metrics(y: np.ndarray, score: np.ndarray, flag: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

    auc = float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else math.nan
    return {
        "n": float(len(y)), "positives": float(y.sum()),
        "precision": float(precision_score(y, flag, zero_division=0)),
        "recall": float(recall_score(y, flag, zero_division=0)),
        "f1": float(f1_score(y, flag, zero_division=0)), "roc_auc": auc,
    }


def eval_rows(rows: Sequence[Labelled], detectors: Sequence[Detector], policy: Policy
              ) -> dict[str, dict[str, float]]:
    """Per category present in ``rows``: precision, recall, F1 (of the policy's flags) and
    ROC-AUC (of the scores). A row counts as positive only for its own category."""
    scores, flags = score_and_flag([r.text for r in rows], [r.lang for r in rows], detectors,
                                   policy)
    out: dict[str, dict[str, float]] = {}
    for cat in sorted({r.category for r in rows} - {"none"}):
        y = np.array([r.category == cat for r in rows], dtype=int)
        s = np.array([sc.get(cat, 0.0) for sc in scores])
        f = np.array([cat in fl for fl in flags], dtype=int)
        out[cat] = metrics(y, s, f)
    return out


# -- the floor --------------------------------------------------------------------------

def floor_model() -> Any:
    """The floor every detector must beat: character n-gram TF-IDF + logistic regression
    on the raw text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10),
    )


def floor_cv(texts: Sequence[str], y: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold probabilities of the floor, 5-fold stratified."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    skf = StratifiedKFold(5, shuffle=True, random_state=seed)
    probs: np.ndarray = cross_val_predict(floor_model(), list(texts), y, cv=skf,
                                          method="predict_proba")[:, 1]
    return probs


def fmt(v: float, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)

