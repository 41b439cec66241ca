"""The near-duplicate index: shingles, MinHash signatures (identical to datasketch's), the
banded index against brute force, containment against exact set arithmetic."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from vigil.neardup import (
    NUM_PERM,
    SEED,
    MinHasher,
    NearDupIndex,
    containments,
    shingle_hashes,
    shingle_tokens,
)

ARTICLE = (
    "The city council voted on Tuesday to expand the night bus network to the eastern "
    "suburbs. Officials cited rising demand from shift workers and students. The new "
    "routes start in March and will run every twenty minutes until two in the morning."
)
ZH = ("市政府周二宣布扩大夜间公交网络，覆盖东部郊区。"
      "官员表示，夜班工人和学生的需求不断增加，新线路将于三月开通。")


def _sig(text: str) -> tuple[np.ndarray, int]:
    h = shingle_hashes(text)
    return MinHasher().signature(h), len(h)


def test_signatures_are_datasketch_minhash() -> None:
    hasher = MinHasher()
    texts = [ARTICLE, ZH, "hello", "two words"]
    hashes = [shingle_hashes(t) for t in texts]
    sigs = hasher.signatures(hashes, chunk=16)  # several chunks
    for h, sig in zip(hashes, sigs, strict=True):
        m = MinHash(num_perm=hasher.num_perm, seed=SEED, scheme="affine32",
                    hashfunc=lambda x: x)
        m.update_batch(h.tolist())
        assert np.array_equal(m.hashvalues, sig)


def test_empty_text_has_no_shingles_and_an_all_max_signature() -> None:
    h = shingle_hashes("")
    assert len(h) == 0
    assert (MinHasher().signatures([h]) == np.iinfo(np.uint32).max).all()


def test_shingles_ignore_case_punctuation_spacing_and_obfuscation() -> None:
    base = set(shingle_tokens("Buy cheap followers now"))
    assert set(shingle_tokens("BUY   cheap, followers... NOW!!")) == base
    assert set(shingle_tokens("Buy ch3ap f0llowers n0w")) == base
    assert set(shingle_tokens("Buy\u200b cheap followers now")) == base


def test_chinese_gives_character_bigrams_and_folds_traditional() -> None:
    assert shingle_tokens("今天天气") == ["今天", "天天", "天气"]
    assert set(shingle_tokens("東部郊區")) == set(shingle_tokens("东部郊区"))


def test_sentence_reordering_keeps_most_shingles() -> None:
    parts = ARTICLE.split(". ")
    shuffled = ". ".join([parts[2], parts[0], parts[1]])
    a, b = set(shingle_tokens(ARTICLE)), set(shingle_tokens(shuffled))
    assert len(a & b) / len(a | b) > 0.85


def test_index_finds_what_brute_force_finds() -> None:
    rnd = random.Random(3)
    words = ARTICLE.lower().replace(".", "").split() + [f"w{i}" for i in range(400)]
    texts = [" ".join(rnd.choices(words, k=40)) for _ in range(300)]
    # near-copies of the first 50: 3 words changed each
    for i in range(50):
        w = texts[i].split()
        for j in rnd.sample(range(len(w)), 3):
            w[j] = rnd.choice(words)
        texts.append(" ".join(w))
    hashes = [shingle_hashes(t) for t in texts]
    sigs = MinHasher().signatures(hashes)
    idx = NearDupIndex(merge_at=64)  # several merges of the fresh run
    for i in range(0, 300, 37):
        stop = min(i + 37, 300)
        idx.add(list(range(i, stop)), sigs[i:stop], [len(h) for h in hashes[i:stop]])
    found = idx.query(sigs[300:], [len(h) for h in hashes[300:]], min_jaccard=0.5)
    for k, matches in enumerate(found):
        assert matches and matches[0].key == k
        exact = len(set(hashes[k]) & set(hashes[300 + k])) / len(set(hashes[k]) |
                                                                  set(hashes[300 + k]))
        assert abs(matches[0].jaccard - exact) < 0.15


def test_adding_a_key_again_replaces_it_and_remove_forgets() -> None:
    idx = NearDupIndex(merge_at=1)
    s1, n1 = _sig(ARTICLE)
    s2, n2 = _sig(ZH)
    idx.add(["a"], s1[None, :], [n1])
    idx.add(["a"], s2[None, :], [n2])  # edited: now the Chinese text
    assert len(idx) == 1
    assert idx.query(s1[None, :], [n1], min_jaccard=0.5) == [[]]
    assert [m.key for m in idx.query(s2[None, :], [n2], min_jaccard=0.5)[0]] == ["a"]
    assert idx.remove("a") and not idx.remove("a")
    assert idx.query(s2[None, :], [n2]) == [[]]


def test_containment_tells_a_copy_with_an_ad_from_a_quote() -> None:
    ad = " Buy cheap followers at fastlikes dot xyz and add my wechat today for a discount."
    other = ("Our reading group met again this week and argued for two hours about whether "
             "the ending of the novel was earned or simply convenient for the author, and "
             "we still have no answer. ")
    idx = NearDupIndex()
    s, n = _sig(ARTICLE)
    idx.add(["orig"], s[None, :], [n])
    copy_sig, copy_n = _sig(ARTICLE + ad)
    (m,) = idx.query(copy_sig[None, :], [copy_n])[0]
    assert m.query_in > 0.6 and m.in_query > 0.9
    quote = other + other.replace("week", "month") + " As they wrote: 'the new routes start "
    quote += "in March'."
    q_sig, q_n = _sig(quote)
    matches = idx.query(q_sig[None, :], [q_n])[0]
    assert all(mm.query_in < 0.2 for mm in matches)


def test_containments_from_resemblance_and_sizes() -> None:
    # |Q| = 10, |O| = 30, Q inside O: J = 10/30
    q, o = containments(np.array([1 / 3]), 10, np.array([30.0]))
    assert q[0] == pytest.approx(1.0) and o[0] == pytest.approx(1 / 3)


def test_a_spam_wave_is_bounded_and_still_finds_the_first() -> None:
    s, n = _sig(ARTICLE)
    idx = NearDupIndex()
    keys = [f"copy{i}" for i in range(1000)]
    idx.add(keys, np.repeat(s[None, :], 1000, axis=0), [n] * 1000)
    (matches,) = idx.query(s[None, :], [n], limit=10)
    assert len(matches) == 10 and matches[0].key == "copy0"


def test_band_settings_must_fit_the_signature() -> None:
    with pytest.raises(ValueError, match="exceed"):
        NearDupIndex(num_perm=64, bands=42, rows=3)


def test_items_added_one_at_a_time_are_found_as_in_the_sorted_runs() -> None:
    """The buffer that small additions go to first answers exactly as the sorted runs do:
    same matches, same order, through edits, removals, empty texts and merges."""
    rnd = np.random.default_rng(7)
    base = rnd.integers(0, 2**32, size=(12, NUM_PERM), dtype=np.uint32)

    def batch(n: int) -> tuple[np.ndarray, list[int]]:
        sigs = base[rnd.integers(0, len(base), n)].copy()
        for s in sigs:  # a near copy: some values changed, so only some bands are shared
            cut = rnd.integers(0, NUM_PERM, int(rnd.integers(0, 100)))
            s[cut] = rnd.integers(0, 2**32, len(cut), dtype=np.uint32)
        return sigs, [int(x) if x % 7 else 0 for x in rnd.integers(1, 60, n)]

    plain = NearDupIndex(merge_at=40, buffer_at=0)
    buffered = NearDupIndex(merge_at=40, buffer_at=16)
    for step in range(120):
        n = 1 if step % 3 else int(rnd.integers(1, 30))
        sigs, sizes = batch(n)
        keys = [f"k{int(x)}" for x in rnd.integers(0, 300, n)]  # repeats: edits
        for idx in (plain, buffered):
            idx.add(keys, sigs, sizes)
            if step % 17 == 5:
                idx.remove(keys[0])
        q, qsizes = batch(int(rnd.integers(1, 4)))
        assert buffered.query(q, qsizes) == plain.query(q, qsizes)
    assert buffered._buf_n and len(buffered._main)  # both the buffer and merges were used
