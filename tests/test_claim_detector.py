"""The misinformation detector end to end: the example fact-check base
(``examples/factchecks.jsonld``) in a real store, its embeddings stored and reused, and our
own cases (``tests/data/claim_cases.jsonl``): repeats, paraphrases and cross-lingual
repeats of claims rated false must be flagged with the right fact check as evidence;
debunks, repeats of true claims and posts on the same topic must not."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from vigil.audit import detect
from vigil.claims.base import read_factchecks
from vigil.claims.detector import ClaimDetector, load_detector, reads_as_debunk, sync_vectors
from vigil.detectors import check_detector
from vigil.embeddings import Embedder
from vigil.items import Item
from vigil.policy import evaluate, load_policy
from vigil.store import Store

ROOT = Path(__file__).resolve().parents[1]
BASE_FILE = ROOT / "examples" / "factchecks.jsonld"
CASES = [json.loads(line) for line in
         (ROOT / "tests" / "data" / "claim_cases.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> ClaimDetector:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('claims')}/c.db")
    store.migrate()
    store.import_claims(read_factchecks(BASE_FILE))
    det = load_detector(store, embedder)
    assert det is not None
    return det


def flagged(det: ClaimDetector, texts: list[str]) -> list[tuple[bool, str | None, float]]:
    """(policy flags misinformation, best evidence claim id, score) per text."""
    pol = load_policy()
    items = [Item(id=str(i), account="a", text=t) for i, t in enumerate(texts)]
    out = []
    for sigs in detect(items, [det]):
        v = evaluate(sigs, pol)
        mis = [s for s in sigs if s.category == "misinformation"]
        best = mis[0].evidence[0].ref if mis and mis[0].evidence else None
        out.append((any(f.category == "misinformation" for f in v.findings),
                    str(best["claim_id"]) if best else None,
                    mis[0].score if mis else 0.0))
    return out


def test_detector_keeps_the_contract(detector: ClaimDetector) -> None:
    report = check_detector(detector)
    assert report.ok, report.failures
    assert report.checked >= 5


def test_cases_per_kind(detector: ClaimDetector) -> None:
    got = flagged(detector, [c["text"] for c in CASES])
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong = []
    for case, (flag, claim, score) in zip(CASES, got, strict=True):
        ok = flag == case["flag"] and (not case["flag"] or claim == case["claim"])
        total[case["kind"]] += 1
        right[case["kind"]] += ok
        if not ok:
            wrong.append((case["kind"], case["text"], claim, round(score, 3)))
    acc = {k: right[k] / total[k] for k in total}
    assert sum(right.values()) / len(CASES) >= 0.9, wrong
    for kind in ("repeat", "debunk", "true_claim", "same_topic"):
        assert acc[kind] >= 0.85, (kind, wrong)


def test_evidence_names_the_fact_check(detector: ClaimDetector) -> None:
    [sigs] = detect([Item(id="1", account="a",
                          text="5G phone masts spread the coronavirus, wake up")], [detector])
    [sig] = sigs
    ev = sig.evidence[0]
    assert ev.ref is not None
    assert ev.ref["claim_id"] == "en-5g" and ev.ref["rating"] == "false"
    assert ev.ref["publisher"] == "Example Fact Desk"
    assert ev.ref["url"] == "https://factcheck.example/en-5g"
    assert 0.0 < ev.ref["similarity"] <= 1.0 and "rated False" in ev.note


def test_true_claims_never_signal(detector: ClaimDetector) -> None:
    texts = [f.text for f in detector.facts.values() if f.rating == "true"]
    assert texts
    for _, _, score in flagged(detector, texts):
        assert score == 0.0


def test_debunk_cues() -> None:
    assert reads_as_debunk("Fact check: this is false")
    assert reads_as_debunk("辟谣：吃碘盐不能防辐射")
    assert not reads_as_debunk("5G masts spread the virus, share this")


def test_vectors_are_stored_once_and_reused(tmp_path: Path, embedder: Embedder) -> None:
    store = Store(f"sqlite:///{tmp_path}/v.db")
    store.migrate()
    store.import_claims(read_factchecks(BASE_FILE))
    calls: list[int] = []

    class Counting:
        def encode(self, texts: Any) -> Any:
            calls.append(len(texts))
            return embedder.encode(texts)

    assert sync_vectors(store, Counting()) == 28  # type: ignore[arg-type]
    assert sync_vectors(store, Counting()) == 0  # type: ignore[arg-type]
    assert calls == [28]
    # a claim whose text changes is embedded again; one removed is not matched
    [fc] = [f for f, _ in store.claims() if f.claim_id == "en-moon"]
    from dataclasses import replace

    store.import_claims([replace(fc, text="The moon landing was staged")])
    assert sync_vectors(store, Counting()) == 1
    store.remove_claims(["en-5g"])
    det = load_detector(store, embedder)
    assert det is not None and "en-5g" not in det.facts
    [sigs] = detect([Item(id="1", account="a", text="5G phone masts spread the coronavirus")],
                    [det])
    assert all(ev.ref and ev.ref["claim_id"] != "en-5g" for s in sigs for ev in s.evidence)


def test_empty_base_gives_no_detector(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/e.db")
    store.migrate()
    assert load_detector(store) is None


def test_version_names_the_fusion_weights() -> None:
    from vigil.claims.match import WEIGHTS, ClaimIndex

    shipped = ClaimDetector(ClaimIndex(), {})
    other = ClaimDetector(ClaimIndex(weights=[w + 0.1 for w in WEIGHTS]), {})
    assert shipped.version != other.version
    assert shipped.version == ClaimDetector(ClaimIndex(), {}).version
