"""`vigil clusters`, `vigil index rebuild` and clusters in `vigil report`, on the example
posts the demo audits (a copied article in English and Chinese, two promo rings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import invoke, report

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "relations_posts.jsonl"


@pytest.fixture
def audited(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path}/rel.db"
    code, _, err = invoke("audit", str(EXAMPLES), "--db", db, "-q")
    assert code == 0, err
    return db


def test_report_names_the_clusters(audited: str) -> None:
    rep = report(audited)
    clusters = rep["clusters"]
    assert isinstance(clusters, dict)
    assert clusters["count"] == 2 and clusters["accounts"] == 11
    largest = clusters["largest"]
    assert [(c["kind"], c["key"], c["accounts"]) for c in largest] == [
        ("handle", "handle:telegram:boostking_hq", 6), ("handle", "handle:wechat:zf88990", 5)]
    code, out, _ = invoke("report", "--db", audited)
    assert code == 0 and largest[0]["id"] in out


def test_clusters_list_and_show(audited: str) -> None:
    code, out, _ = invoke("clusters", "list", "--db", audited, "--format", "jsonl")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["platform"] for r in rows} == {"chirp", "weiqun"}
    code, out, _ = invoke("clusters", "list", "--db", audited, "--platform", "weiqun",
                          "--format", "jsonl")
    (zh,) = [json.loads(line) for line in out.splitlines()]
    code, out, _ = invoke("clusters", "show", zh["id"], "--db", audited, "--format", "json")
    assert code == 0
    shown = json.loads(out)
    assert shown["cluster"]["accounts"] == 5
    assert [m["item_id"] for m in shown["members"]] == [f"zh-ring-{i}" for i in range(1, 6)]
    code, out, _ = invoke("clusters", "show", zh["id"], "--db", audited)
    assert code == 0 and "zf88990" in out and "shuafen_01" in out


def test_clusters_errors_are_clear(audited: str) -> None:
    code, _, err = invoke("clusters", "show", "nope", "--db", audited)
    assert code != 0 and "no cluster 'nope'" in err
    code, _, err = invoke("clusters", "list", "--db", audited, "--kind", "fax")
    assert code != 0 and "--kind" in err


def test_the_copy_is_sent_to_review_naming_the_original(audited: str) -> None:
    code, out, _ = invoke("decisions", "--db", audited, "--category", "plagiarism",
                          "--format", "jsonl")
    assert code == 0
    by_item = {d["item_id"]: d for d in map(json.loads, out.splitlines())}
    assert set(by_item) == {"news-2", "zh-news-2"}  # not the original, the quote, the repost
    ev = by_item["news-2"]["evidence"][0]
    assert ev["ref"]["item"] == "news-1" and ev["ref"]["account"] == "harbour_gazette"


def test_index_rebuild(audited: str) -> None:
    code, out, _ = invoke("index", "rebuild", "--db", audited, "-q")
    assert code == 0
    assert "chirp: 10 items indexed" in out and "weiqun: 7 items indexed" in out
    code, out, _ = invoke("log", "verify", "--db", audited)
    assert code == 0
