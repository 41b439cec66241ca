"""Would a rumour-style text classifier help as a weak misinformation signal?

Measures, with 5-fold cross-validation, a TF-IDF + logistic-regression "sounds like a
rumour" classifier on the two labelled sets we have: the CED Weibo rumour set (Chinese,
character 1-3-grams) and LIAR (English PolitiFact statements, word 1-2-grams; binary:
pants-fire/false/barely-true vs the rest). Beside each: the majority-class floor.

Both datasets are research-only, so nothing trained here may ship; this benchmark is the
evidence for the decision recorded in docs/claims.md (no rumour classifier is shipped).

    python benchmarks/rumour_classifier.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine

csv.field_size_limit(1 << 24)


def load(path: Path) -> tuple[list[str], np.ndarray]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], np.array([r["category"] == "misinformation"
                                                for r in rows], dtype=int)


def measure(name: str, texts: list[str], y: np.ndarray, **vec: object) -> None:
    model = make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=2, **vec),  # type: ignore[arg-type]
                          LogisticRegression(C=3.0, max_iter=2000,
                                             class_weight="balanced"))
    folds = StratifiedKFold(5, shuffle=True, random_state=20261125)
    t0 = time.perf_counter()
    p = cross_val_predict(model, texts, y, cv=folds, method="predict_proba")[:, 1]
    secs = time.perf_counter() - t0
    majority = max(y.mean(), 1 - y.mean())
    print(f"| {name} | {len(y):,} | {y.mean():.2f} | {accuracy_score(y, p >= 0.5):.3f} | "
          f"{majority:.3f} | {f1_score(y, p >= 0.5):.3f} | {roc_auc_score(y, p):.3f} | "
          f"{secs:.0f} s |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path,
                    default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    args = ap.parse_args()
    print(f"machine: {machine('scikit-learn')}")
    print("| dataset | rows | share rumour | accuracy (5-fold) | majority floor | F1 | "
          "ROC-AUC | time |")
    print("|---|---|---|---|---|---|---|---|")
    texts, y = load(args.data / "weibo_rumor_ced" / "weibo_rumor_ced.csv")
    measure("Weibo CED (zh, char 1-3)", texts, y, analyzer="char", ngram_range=(1, 3))
    texts, y = load(args.data / "liar" / "liar.csv")
    measure("LIAR binary (en, word 1-2)", texts, y, analyzer="word", ngram_range=(1, 2))


if __name__ == "__main__":
    main()
