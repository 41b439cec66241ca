"""DSA statements of reasons (``vigil.dsa``), the period counts (``vigil.transparency``)
and ``vigil export``: every statement validates, carries no personal data, maps Vigil's
categories, actions and decision paths to the database's values, and the counts add up."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import KeywordDetector
from vigil.cli import app
from vigil.dsa import (
    EEA,
    DsaStatement,
    SorSettings,
    check,
    export_sor,
    problems,
    statement,
    statements,
)
from vigil.errors import InputError
from vigil.ingest import audit_batch
from vigil.items import Item
from vigil.policy import load_policy
from vigil.review import Reviewer
from vigil.store import Store
from vigil.store.review import new_case
from vigil.store.tables import decisions
from vigil.transparency import AUTOMATED, Origin, Scanned, period_counts, period_of

POLICY = load_policy()
T0 = datetime(2026, 3, 30, 9, tzinfo=UTC)  # Q1, then April (Q2) for the reviews
T1 = datetime(2026, 4, 2, 9, tzinfo=UTC)
ANA, BEN = Reviewer("k-ana", "ana"), Reviewer("k-ben", "ben")
PUID = re.compile(r"^[a-zA-Z0-9_-]+$")
FREE_TEXT = "acct-bob-2c9 is the scammer behind the lottery ring"

# (id, account, text) on chirp; texts and accounts must never reach a statement
ITEMS = [
    ("a1", "acct-alice-7f3", "buynow at alice-shop secret-text-a1"),          # spam remove
    ("a2", "acct-alice-7f3", "those vermin again secret-text-a2"),            # hate remove
    ("a3", "acct-alice-7f3", "vermin everywhere secret-text-a3"),             # hate remove
    ("a4", "acct-alice-7f3", "vermin vermin secret-text-a4"),                 # hate remove
    ("h1", "acct-hank-1d2", "you are an idiot secret-text-h1"),               # label
    ("r1", "acct-rita-9b1", "cheapdeal for you secret-text-r1"),              # review band
    ("c1", "acct-cy-5e0", "groomer talk secret-text-c1"),                     # child review
    ("b1", "acct-bob-2c9", "a quiet post secret-text-b1"),                    # user report
    ("t1", "acct-tom-4a8", "another quiet post secret-text-t1"),              # trusted flag
    ("d1", "acct-dave-3f7", "vermin talk secret-text-d1"),                    # hate remove
    ("d2", "acct-dave-3f7", "a calm post secret-text-d2"),                    # report → restrict
]


def _items(platform: str = "chirp") -> list[Item]:
    return [Item(id=i, account=a, text=t, platform=platform,
                 created_at=T0 - timedelta(days=2, hours=-n), lang="en" if n % 2 else None)
            for n, (i, a, t) in enumerate(ITEMS)]


def _case(store: Store, item_id: str, platform: str = "chirp") -> str:
    for c in store.cases([platform], limit=500):
        if c["item_id"] == item_id:
            return str(c["id"])
    raise AssertionError(f"no open case for {item_id}")


def _report(store: Store, item_id: str, account: str, trusted: bool) -> str:
    row = new_case("chirp", item_id, account, "report", "trusted" if trusted else "reports",
                   None, 1.0, "please look", T1, reporter="someone", trusted=trusted)
    return str(store.open_case(row, now=T1)["id"])


def _decide(store: Store, case_id: str, action: str, category: str | None, reason: str,
            who: Reviewer = ANA, at: datetime = T1) -> str:
    store.claim_case(case_id, who, 15, now=at)
    return store.decide_case(case_id, who, action, category, reason, POLICY, now=at)


def build_world(store: Store) -> dict[str, str]:
    """Automated decisions (label, remove, the whole ladder), reviewer decisions on an
    automated flag, a user's report and a trusted flagger's report, an overturned appeal,
    and a second platform. Returns the decision id of each named case."""
    store.record_policy(POLICY, now=T0)
    det = [KeywordDetector()]
    audit_batch(store, _items(), POLICY, det, now=T0)
    audit_batch(store, _items("weiqun")[:2], POLICY, det, now=T0)
    ids = {}
    ids["review"] = _decide(store, _case(store, "r1"), "remove", "spam",
                            "Unsolicited commercial promotion or contact-information bait.")
    ids["child"] = _decide(store, _case(store, "c1"), "remove", "child_safety",
                           "Grooming: an adult seeking sexual contact with a minor. "
                           "Seen in acct-cy-5e0's messages.")
    ids["user"] = _decide(store, _report(store, "b1", "acct-bob-2c9", False), "remove",
                          "spam", "A scam: it asks for money, card details or personal data "
                                  f"under false pretences. {FREE_TEXT}")
    ids["trusted"] = _decide(store, _report(store, "t1", "acct-tom-4a8", True), "restrict",
                             "hate", f"custom words only: {FREE_TEXT}")
    ids["dave"] = _decide(store, _report(store, "d2", "acct-dave-3f7", False), "remove",
                          "hate", "An attack on people for a protected characteristic.")
    # an appeal of Hank's label, overturned: reinstate is not a statement
    label = _one(store, item_id="h1", action="label")
    appeal = store.appeal({"id": label, "platform": "chirp", "item_id": "h1",
                           "account": "acct-hank-1d2", "category": "harassment"},
                          "satire", None, POLICY, now=T1)
    store.claim_case(appeal["id"], BEN, 15, now=T1)
    store.resolve_appeal(appeal["id"], BEN, "overturned", "satire", POLICY, now=T1)
    return ids


def _one(store: Store, **where: str) -> str:
    with store.read() as conn:
        q = select(decisions.c.id)
        for k, v in where.items():
            q = q.where(decisions.c[k] == v)
        (did,) = conn.execute(q).scalars().all()
        return str(did)


def _decisions(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as conn:
        return {r["id"]: dict(r) for r in conn.execute(select(decisions)).mappings()}


def _by_decision(store: Store) -> dict[str, DsaStatement]:
    return {s.decision_id: s for s in statements(store)}


# -- the world, end to end ---------------------------------------------------------------


def test_every_restriction_gets_one_valid_statement_and_nothing_else(store: Store) -> None:
    build_world(store)
    skipped: Counter[str] = Counter()
    got = list(statements(store, skipped=skipped))
    assert got and all(problems(s.body) == [] for s in got)
    rows = _decisions(store)
    restricting = {d for d, r in rows.items()
                   if (r["kind"], r["action"]) in {("item", "label"), ("item", "restrict"),
                                                   ("item", "remove"),
                                                   ("account", "restrict"),
                                                   ("account", "suspend"),
                                                   ("account", "shut_down")}}
    assert {s.decision_id for s in got} == restricting
    assert sum(skipped.values()) + len(got) == len(rows)
    assert {"warn", "review", "reinstate"} <= set(skipped)
    assert not {"label", "remove", "suspend", "shut_down"} & set(skipped)
    puids = [s.body["puid"] for s in got]
    assert len(set(puids)) == len(puids)
    assert all(PUID.match(p) and len(p) <= 500 for p in puids)
    assert {s.platform for s in got} == {"chirp", "weiqun"}


def test_statements_carry_no_personal_data(store: Store) -> None:
    build_world(store)
    text = json.dumps([s.body for s in statements(store)], ensure_ascii=False)
    for item_id, account, body in ITEMS:
        assert account not in text
        assert body not in text
        assert f"secret-text-{item_id}" not in text
    for leak in ("scammer", "lottery", "custom words", "Seen in", "k-ana", "reviewer:",
                 "someone", "satire"):
        assert leak not in text, leak


def test_source_and_automation_follow_how_the_decision_came_about(store: Store) -> None:
    ids = build_world(store)
    st = _by_decision(store)

    def fields(did: str) -> tuple[str, str, str]:
        b = st[did].body
        return b["source_type"], b["automated_detection"], b["automated_decision"]

    auto = _one(store, platform="chirp", item_id="a1", kind="item")
    assert fields(auto) == ("SOURCE_VOLUNTARY", "Yes", "AUTOMATED_DECISION_FULLY")
    assert fields(ids["review"]) == ("SOURCE_VOLUNTARY", "Yes", "AUTOMATED_DECISION_PARTIALLY")
    assert fields(ids["user"]) == ("SOURCE_ARTICLE_16", "No", "AUTOMATED_DECISION_NOT_AUTOMATED")
    assert fields(ids["trusted"]) == ("SOURCE_TRUSTED_NOTIFIER", "No",
                                      "AUTOMATED_DECISION_NOT_AUTOMATED")
    # the ladder after a reviewer's decision on Dave's reported item: partly automated
    dave = _one(store, platform="chirp", account="acct-dave-3f7", kind="account",
                action="restrict")
    assert fields(dave) == ("SOURCE_ARTICLE_16", "No", "AUTOMATED_DECISION_PARTIALLY")
    assert "after a reviewer removed one of its items" in st[dave].body["decision_facts"]
    suspend = _one(store, platform="chirp", account="acct-alice-7f3", action="suspend")
    assert st[suspend].body["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert st[suspend].body["end_date_account_restriction"] == "2026-04-29"
    # the ladder after automated removals: fully automated, with its end date
    restrict = _one(store, platform="chirp", account="acct-alice-7f3", kind="account",
                    action="restrict")
    b = st[restrict].body
    assert fields(restrict) == ("SOURCE_VOLUNTARY", "Yes", "AUTOMATED_DECISION_FULLY")
    assert b["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert b["end_date_service_restriction"] == (T0 + timedelta(days=7)).date().isoformat()
    shut = _one(store, platform="chirp", account="acct-alice-7f3", action="shut_down")
    assert st[shut].body["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert not any(k.startswith("end_date") for k in st[shut].body)


def test_reviewer_facts_keep_the_template_and_drop_free_text(store: Store) -> None:
    ids = build_world(store)
    st = _by_decision(store)
    facts = st[ids["user"]].body["decision_facts"]
    assert "after a user's report" in facts and "A scam: it asks for money" in facts
    assert "Reason:" not in st[ids["trusted"]].body["decision_facts"]
    child = st[ids["child"]].body
    assert child["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert child["incompatible_content_illegal"] == "Yes"
    assert "flagged it for review" in child["decision_facts"]
    assert child["incompatible_content_ground"].startswith("vigil-default policy")
    auto = st[_one(store, platform="chirp", item_id="a1", kind="item")].body
    assert "scored 0.95 for spam (keywords)" in auto["decision_facts"]
    assert auto["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert auto["content_date"] == (T0 - timedelta(days=2)).date().isoformat()
    assert auto["application_date"] == T0.date().isoformat()
    assert auto["territorial_scope"] == list(EEA)


def test_period_counts_add_up_to_the_stores_decisions(store: Store) -> None:
    build_world(store)
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(decisions)).scalar_one()
        chirp = conn.execute(select(func.count()).select_from(decisions)
                             .where(decisions.c.platform == "chirp")).scalar_one()
    for period in ("day", "week", "month", "quarter", "year"):
        rows = period_counts(store, period)
        assert sum(r["count"] for r in rows) == total, period
    rows = period_counts(store, "quarter")
    assert {r["period"] for r in rows} == {"2026-Q1", "2026-Q2"}
    assert sum(r["count"] for r in period_counts(store, "month", platform="chirp")) == chirp
    by = Counter()
    for r in rows:
        by[(r["source"], r["detection"], r["decided"])] += r["count"]
    assert by[("user_report", "human", "human")] >= 2
    assert by[("trusted_flagger", "human", "human")] == 1
    assert by[("own_initiative", "automated", "partly")] >= 2
    assert by[("appeal", "human", "human")] >= 1
    april = period_counts(store, "day", since=T1.replace(hour=0))
    assert {r["period"] for r in april} == {"2026-04-02"}


# -- batches, files and the CLI ------------------------------------------------------------


@pytest.fixture
def big(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/dsa.db"
    with Store(url) as s:
        s.migrate()
        s.record_policy(POLICY, now=T0)
        batch = [Item(id=f"p{i}", account=f"acct-n{i % 60}", text=f"buynow offer {i}",
                      platform="chirp", created_at=T0 + timedelta(minutes=i))
                 for i in range(230)]
        batch += [Item(id=f"w{i}", account="acct-w", text="buynow", platform="weiqun",
                       created_at=T0) for i in range(3)]
        audit_batch(s, batch, POLICY, [KeywordDetector()], now=T0)
    return url


def test_export_writes_batches_of_at_most_100_per_platform(big: str, tmp_path: Path) -> None:
    out = tmp_path / "sor"
    with Store(big) as s:
        res = export_sor(s, out)
        assert res.statements == sum(res.by_platform.values()) > 200
        assert set(res.skipped) == {"warn"}
        assert res.statements + res.skipped["warn"] == len(_decisions(s))
        with pytest.raises(InputError, match="already holds an export"):
            export_sor(s, out)
        again = export_sor(s, out, batch=40, overwrite=True)
    files = sorted(out.glob("sor-*.json"))
    assert [p.name for p in files] == [f"sor-{i:05d}.json" for i in range(1, len(files) + 1)]
    assert files == again.files
    manifest = json.loads((out / "manifest.json").read_text())
    seen = []
    for entry, path in zip(manifest["files"], files, strict=True):
        body = json.loads(path.read_text())["statements"]
        assert 0 < len(body) <= 40 and len(body) == entry["statements"]
        assert all(problems(b) == [] for b in body)
        seen += [b["puid"] for b in body]
    assert len(seen) == len(set(seen)) == again.statements
    assert [e["platform"] for e in manifest["files"]].count("weiqun") == 1


def test_cli_export_sor_and_counts(big: str, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli-sor"
    res = runner.invoke(app, ["export", "sor", "-o", str(out), "--db", big, "--platform",
                              "chirp", "--territory", "de,at", "--account-type", "private",
                              "--terms-url", "https://chirp.example/terms",
                              "--legal-ground", "spam=Directive 2005/29/EC, Art. 5"])
    assert res.exit_code == 0, res.output
    with Store(big) as s:
        rows = [r for r in _decisions(s).values() if r["platform"] == "chirp"]
    warned = sum(r["action"] == "warn" for r in rows)
    n = len(rows) - warned
    assert f"wrote {n} statements in {-(-n // 100)} files" in res.stdout
    assert f"left out {warned} decisions that restrict nothing (warn {warned})" in res.stdout
    body = json.loads((out / "sor-00003.json").read_text())["statements"][0]
    assert body["territorial_scope"] == ["DE", "AT"]
    assert body["account_type"] == "ACCOUNT_TYPE_PRIVATE"
    assert body["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert body["illegal_content_legal_ground"] == "Directive 2005/29/EC, Art. 5"
    assert "incompatible_content_ground" not in body
    assert body["decision_ground_reference_url"] == "https://chirp.example/terms"
    res = runner.invoke(app, ["export", "sor", "-o", str(out), "--db", big])
    assert res.exit_code == 2 and "already holds an export" in res.stderr
    res = runner.invoke(app, ["export", "sor", "-o", str(out), "--db", big, "--since",
                              "2026-04-01", "--overwrite"])
    assert res.exit_code == 0 and "wrote 0 statements in 0 files" in res.stdout
    res = runner.invoke(app, ["export", "sor", "-o", str(out), "--db", big, "--territory",
                              "US"])
    assert res.exit_code == 2 and "not EEA" in res.stderr
    res = runner.invoke(app, ["export", "counts", "--db", big, "--period", "quarter"])
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    with Store(big) as s:
        assert sum(int(r["count"]) for r in rows) == len(_decisions(s))
    assert {r["period"] for r in rows} == {"2026-Q1"}
    target = tmp_path / "counts.json"
    res = runner.invoke(app, ["export", "counts", "--db", big, "--format", "json", "-o",
                              str(target), "--until", "2026-03-29"])
    assert res.exit_code == 0 and json.loads(target.read_text())["total"] == 0
    res = runner.invoke(app, ["export", "counts", "--db", big, "--period", "fortnight"])
    assert res.exit_code == 2
    for cmd in (["export", "--help"], ["export", "sor", "--help"],
                ["export", "counts", "--help"]):
        assert runner.invoke(app, cmd).exit_code == 0


# -- the mapping and the schema, unit by unit ----------------------------------------------

CATEGORIES = {
    "spam": ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", None),
    "sexual": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ["KEYWORD_ADULT_SEXUAL_MATERIAL"]),
    "harassment": ("STATEMENT_CATEGORY_CYBER_VIOLENCE", ["KEYWORD_CYBER_HARASSMENT"]),
    "hate": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ["KEYWORD_HATE_SPEECH"]),
    "violence": ("STATEMENT_CATEGORY_VIOLENCE", ["KEYWORD_INCITEMENT_VIOLENCE_HATRED"]),
    "misinformation": ("STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
                       ["KEYWORD_MISINFORMATION"]),
    "plagiarism": ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
                   ["KEYWORD_COPYRIGHT_INFRINGEMENT"]),
    "child_safety": ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", None),
    "gambling": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", ["KEYWORD_OTHER"]),  # an own one
}
ACTIONS = {
    ("item", "label"): ("decision_visibility", ["DECISION_VISIBILITY_CONTENT_LABELLED"]),
    ("item", "restrict"): ("decision_visibility", ["DECISION_VISIBILITY_CONTENT_DEMOTED"]),
    ("item", "remove"): ("decision_visibility", ["DECISION_VISIBILITY_CONTENT_REMOVED"]),
    ("account", "restrict"): ("decision_provision", "DECISION_PROVISION_PARTIAL_SUSPENSION"),
    ("account", "suspend"): ("decision_account", "DECISION_ACCOUNT_SUSPENDED"),
    ("account", "shut_down"): ("decision_account", "DECISION_ACCOUNT_TERMINATED"),
}


def _scanned(kind: str = "item", action: str = "remove", category: str | None = "spam",
             origin: Origin = AUTOMATED, **reasons: Any) -> Scanned:
    row = {"id": "0123456789abcdef01234567", "platform": "chirp", "account": "acct-x",
           "item_id": "i1" if kind == "item" else None, "kind": kind, "action": action,
           "category": category, "rule": f"{category}.{action}", "policy_version": "v1",
           "automated": True, "actor": "vigil", "at": T0, "reverses": None,
           "reasons": {"facts": "x", "findings": [{"category": category, "score": 0.97,
                                                   "action": action,
                                                   "detectors": ["classifier"]}],
                       **reasons}}
    item = {"created_at": T0, "lang": "zh-Hant", "text": "words",
            "media": json.dumps(["url:https://cdn.example/a.mp4", "sha256:ab"])}
    return Scanned(row, origin, item if kind == "item" else None)


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_each_category_maps_to_its_dsa_category(category: str) -> None:
    body = statement(_scanned(category=category), SorSettings())
    assert body is not None and problems(body) == []
    want, spec = CATEGORIES[category]
    assert body["category"] == want
    assert body.get("category_specification") == spec
    if spec == ["KEYWORD_OTHER"]:
        assert body["category_specification_other"] == category
    assert body["incompatible_content_illegal"] == ("Yes" if category == "child_safety"
                                                    else "No")


@pytest.mark.parametrize(("kind", "action"), sorted(ACTIONS))
def test_each_action_maps_to_its_restriction(kind: str, action: str) -> None:
    expires = (T0 + timedelta(days=30)).isoformat() if action in ("restrict", "suspend") \
        and kind == "account" else None
    body = statement(_scanned(kind, action, expires_at=expires), SorSettings())
    assert body is not None and problems(body) == []
    fld, value = ACTIONS[(kind, action)]
    assert body[fld] == value
    if kind == "item":
        assert body["content_type"] == ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO",
                                        "CONTENT_TYPE_IMAGE"]
        assert body["content_language"] == "ZH"
    else:
        assert body["content_type"] == ["CONTENT_TYPE_OTHER"]
    if expires:
        assert any(k.startswith("end_date") and v == "2026-04-29" for k, v in body.items())


@pytest.mark.parametrize(("kind", "action"), [("item", "allow"), ("item", "review"),
                                              ("account", "warn"), ("item", "reinstate"),
                                              ("account", "lift"), ("item", "uphold"),
                                              ("account", "expire")])
def test_decisions_that_restrict_nothing_get_no_statement(kind: str, action: str) -> None:
    assert statement(_scanned(kind, action), SorSettings()) is None


def test_period_keys() -> None:
    at = datetime(2026, 1, 1, 5, tzinfo=UTC)  # ISO week 1 of 2026
    assert [period_of(at, p) for p in ("day", "week", "month", "quarter", "year")] == [
        "2026-01-01", "2026-W01", "2026-01", "2026-Q1", "2026"]
    assert period_of(datetime(2027, 1, 1, tzinfo=UTC), "week") == "2026-W53"
    with pytest.raises(ValueError):
        period_of(at, "fortnight")


def test_a_broken_statement_fails_validation_naming_the_field() -> None:
    good = statement(_scanned(), SorSettings())
    assert good is not None and problems(good) == []

    def broken(**change: Any) -> dict[str, Any]:
        b = copy.deepcopy(good)
        for k, v in change.items():
            if v is None:
                b.pop(k)
            else:
                b[k] = v
        return b

    assert problems(broken(puid=None))[0][0] == "puid"
    assert problems(broken(puid="has space"))[0][0] == "puid"
    assert problems(broken(puid="x" * 501))[0][0] == "puid"
    assert problems(broken(application_date="2026-13-01"))[0][0] == "application_date"
    assert problems(broken(category="STATEMENT_CATEGORY_SPAM"))[0][0] == "category"
    assert problems(broken(territorial_scope=["US"]))[0][0] == "territorial_scope.0"
    assert problems(broken(automated_detection="yes"))[0][0] == "automated_detection"
    assert any("additional" in why.lower() for _, why in problems(broken(account="acct-x")))
    assert problems(broken(decision_visibility=None)) != []  # no restriction at all
    illegal = broken(decision_ground="DECISION_GROUND_ILLEGAL_CONTENT")
    fields = {f for f, _ in problems(illegal)}
    assert "illegal_content_legal_ground, illegal_content_explanation" in fields
    other = broken(content_type=["CONTENT_TYPE_OTHER"])
    assert ("content_type_other", "'content_type_other' is a required property") in \
        problems(other)
    with pytest.raises(InputError, match=r"decision d-42, field puid"):
        check(DsaStatement("chirp", "d-42", broken(puid="no good")))


def test_decisions_without_a_stored_item_or_findings_still_validate() -> None:
    swept = _scanned()
    swept = Scanned(dict(swept.row, reasons={"facts": "x"}), AUTOMATED, None)
    body = statement(swept, SorSettings())
    assert body is not None and problems(body) == []
    assert body["content_type"] == ["CONTENT_TYPE_TEXT"]
    assert "it was found to be spam" in body["decision_facts"]
    group = _scanned("account", "suspend", expires_at=(T0 + timedelta(days=3)).isoformat(),
                     cluster={"id": "c1", "kind": "phone", "key": "+44 7700 900123",
                              "accounts": 6}, days=3)
    group.row["rule"] = "coordination.account_sanction.suspend"
    body = statement(group, SorSettings())
    assert body is not None and problems(body) == []
    assert "900123" not in json.dumps(body)
    assert "one of 6 accounts that posted the same phone" in body["decision_facts"]
    assert body["content_type"] == ["CONTENT_TYPE_OTHER"] and body["content_type_other"]
    assert body["end_date_account_restriction"] == "2026-04-02"
