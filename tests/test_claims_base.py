"""Reading fact checks: ClaimReview JSON-LD in every shape, Google Fact Check Tools JSON,
JSON Lines, HTML pages, CSV; ratings folded onto one scale; errors that name the field."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from vigil.claims.base import FactCheck, normalise_rating, read_factchecks
from vigil.errors import InputError

REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://checks.example/5g-covid",
    "claimReviewed": "5G masts spread the coronavirus",
    "author": {"@type": "Organization", "name": "Example Checks"},
    "datePublished": "2020-04-06",
    "name": "No, 5G does not spread COVID-19",
    "reviewRating": {"@type": "Rating", "ratingValue": "1", "bestRating": "5",
                     "worstRating": "1", "alternateName": "False"},
    "inLanguage": "en",
}
ZH_REVIEW = {
    "@type": "ClaimReview",
    "url": "https://checks.example/zh/salt",
    "claimReviewed": "吃碘盐可以预防核辐射",
    "author": {"name": "辟谣平台"},
    "datePublished": "2021-08-01T09:00:00+08:00",
    "reviewRating": {"@type": "Rating", "alternateName": "谣言"},
}
TOOLS = {
    "claims": [
        {
            "text": "Drinking hot water kills the virus",
            "claimant": "social media",
            "claimDate": "2020-03-01T00:00:00Z",
            "claimReview": [
                {"publisher": {"name": "Checker A", "site": "a.example"},
                 "url": "https://a.example/hot-water", "title": "Hot water myth",
                 "reviewDate": "2020-03-02T00:00:00Z", "textualRating": "Mostly False",
                 "languageCode": "en"},
                {"publisher": {"name": "Checker B"}, "url": "https://b.example/hw",
                 "textualRating": "Pants on Fire", "languageCode": "en"},
            ],
        }
    ],
    "nextPageToken": "abc",
}


def write(tmp_path: Path, name: str, content: str) -> Path:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("False", "false"), ("Pants on Fire!", "false"), ("Fake", "false"),
        ("Incorrect", "false"), ("Not true", "false"), ("谣言", "false"), ("不实", "false"),
        ("不正确", "false"), ("Mostly False", "misleading"), ("Misleading", "misleading"),
        ("Partly false", "misleading"), ("Missing context", "misleading"),
        ("True but misleading", "misleading"), ("误导", "misleading"),
        ("Half True", "mixed"), ("Mixture", "mixed"), ("真假参半", "mixed"),
        ("Mostly True", "true"), ("True", "true"), ("Correct attribution", "true"),
        ("属实", "true"), ("Unproven", "unrated"), ("Satire", "unrated"),
        ("", "unrated"), ("Four Pinocchios", "false"),
    ],
)
def test_ratings_fold_onto_one_scale(text: str, want: str) -> None:
    assert normalise_rating(text) == want


def test_numeric_rating_used_when_the_words_are_unknown() -> None:
    assert normalise_rating("", 1, 5, 1) == "false"
    assert normalise_rating("Zzz", 2, 5, 1) == "misleading"
    assert normalise_rating(None, 3, 5, 1) == "mixed"
    assert normalise_rating(None, 5, 5, 1) == "true"
    assert normalise_rating(None, 9, 5, 1) == "unrated"  # off the scale


def test_single_claimreview_object(tmp_path: Path) -> None:
    [fc] = read_factchecks(write(tmp_path, "one.json", json.dumps(REVIEW)))
    assert fc == FactCheck(
        claim_id="https://checks.example/5g-covid", text="5G masts spread the coronavirus",
        rating="false", rating_text="False", publisher="Example Checks",
        url="https://checks.example/5g-covid", title="No, 5G does not spread COVID-19",
        reviewed=date(2020, 4, 6), lang="en", source="one.json",
    )
    assert fc.actionable


def test_list_graph_and_jsonl_give_the_same_claims(tmp_path: Path) -> None:
    as_list = list(read_factchecks(write(tmp_path, "l.json", json.dumps([REVIEW, ZH_REVIEW]))))
    graph = {"@context": "https://schema.org",
             "@graph": [{"@type": "WebPage", "name": "ignored"}, REVIEW, ZH_REVIEW]}
    as_graph = list(read_factchecks(write(tmp_path, "g.jsonld", json.dumps(graph))))
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in (REVIEW, ZH_REVIEW)) + "\n\n"
    as_lines = list(read_factchecks(write(tmp_path, "x.jsonl", lines)))
    key = [(f.claim_id, f.text, f.rating, f.lang) for f in as_list]
    assert key == [(f.claim_id, f.text, f.rating, f.lang) for f in as_graph]
    assert key == [(f.claim_id, f.text, f.rating, f.lang) for f in as_lines]
    zh = as_list[1]
    assert (zh.lang, zh.rating, zh.publisher, zh.reviewed) == ("zh", "false", "辟谣平台",
                                                               date(2021, 8, 1))


def test_factcheck_tools_json_gives_one_claim_per_review(tmp_path: Path) -> None:
    got = list(read_factchecks(write(tmp_path, "tools.json", json.dumps(TOOLS))))
    assert [(f.claim_id, f.rating, f.publisher) for f in got] == [
        ("https://a.example/hot-water", "misleading", "Checker A"),
        ("https://b.example/hw", "false", "Checker B"),
    ]
    assert got[0].reviewed == date(2020, 3, 2) and got[1].reviewed == date(2020, 3, 1)
    assert {f.text for f in got} == {"Drinking hot water kills the virus"}


def test_html_page_with_jsonld_blocks(tmp_path: Path) -> None:
    page = ("<html><head><script type='application/ld+json'>"
            + json.dumps({"@type": "Organization", "name": "x"})
            + "</script><script type=\"application/ld+json\">" + json.dumps(REVIEW)
            + "</script></head><body>...</body></html>")
    [fc] = read_factchecks(write(tmp_path, "page.html", page))
    assert fc.claim_id == REVIEW["url"]


def test_csv_with_aliases_and_optional_columns(tmp_path: Path) -> None:
    src = write(tmp_path, "c.csv", "id,claimReviewed,textualRating,publisher,date,lang\n"
                                   "c1,Vaccines contain microchips,False,Lead Stories,"
                                   "2021-01-05,\n"
                                   "c2,喝板蓝根能防新冠,误导,较真,2020-02-01,zh\n")
    a, b = read_factchecks(src)
    assert (a.claim_id, a.rating, a.lang, a.reviewed) == ("c1", "false", "en",
                                                           date(2021, 1, 5))
    assert (b.claim_id, b.rating, b.lang) == ("c2", "misleading", "zh")


@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("a.json", json.dumps({"@type": "ClaimReview", "url": "u"}), "claimReviewed"),
        ("b.json", json.dumps([REVIEW, {"@type": "ClaimReview", "claimReviewed": "x"}]),
         "[1].url"),
        ("c.json", json.dumps({"claims": [TOOLS["claims"][0], {"text": "t",
                                                               "claimReview": []}]}),
         "claims[1].claimReview"),
        ("d.json", json.dumps(dict(REVIEW, datePublished="last tuesday")), "datePublished"),
        ("e.csv", "id,text\nx1,\n", "text"),
    ],
)
def test_bad_records_name_the_field(tmp_path: Path, name: str, content: str,
                                    where: str) -> None:
    with pytest.raises(InputError) as exc:
        list(read_factchecks(write(tmp_path, name, content)))
    assert exc.value.where == where


def test_bad_json_line_names_the_line(tmp_path: Path) -> None:
    src = write(tmp_path, "x.jsonl", json.dumps(REVIEW) + "\n{not json\n")
    with pytest.raises(InputError) as exc:
        list(read_factchecks(src))
    assert exc.value.line == 2


def test_csv_without_a_text_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="claim text column"):
        list(read_factchecks(write(tmp_path, "x.csv", "id,rating\n1,False\n")))


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown format"):
        list(read_factchecks(write(tmp_path, "x.txt", "hello")))
    with pytest.raises(InputError, match="no such file"):
        list(read_factchecks(tmp_path / "nope.json"))
