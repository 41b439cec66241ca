"""The console's pages beyond review: reviewer wellness, policy versions and shadow mode,
the audit log, the dashboard, users, reports and sign-in throttling. Shares the world of
``tests/test_console.py``."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.conftest import KeywordDetector
from tests.test_console import (
    PASSWORD,
    PLATFORMS,
    REPORT_FILES,
    World,
    csrf_of,
    login,
    world_fixture,
)
from vigil.api import Settings, create_app
from vigil.console.metrics import dashboard
from vigil.items import Item, Media
from vigil.policy import load_policy, parse_policy
from vigil.store import Store
from vigil.store import users as userstore
from vigil.store.tables import items
from vigil.transparency import count_decisions
from vigil.transparency_report import build_transparency, render_html

__all__ = ["world_fixture"]  # the shared world, as this module's ``world`` fixture


# ---------------------------------------------------------------------------- wellness


def test_slurs_are_masked_and_images_blurred_until_revealed(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db")
    app = create_app(store, Settings(claims=False, relations=False),
                     detectors=[KeywordDetector()])
    app.state.vigil.audit([Item(
        id="m1", account="acct", platform="chirp", text="cheapdeal you d1ckhead, really",
        media=(Media(url="https://img.example/p.jpg"),))])
    with store.begin() as conn:
        userstore.create(conn, "ann", "moderator", ("chirp",), PASSWORD, datetime.now(UTC))
    client, _ = login(app, "ann")
    case = store.cases(["chirp"])[0]["id"]
    text = client.get(f"/cases/{case}").text
    mask = re.search(r'<span class="mask"[^>]*data-term="d1ckhead"[^>]*>(•+)</span>', text)
    assert mask and len(mask.group(1)) == len("d1ckhead")
    assert "d1ckhead" not in re.sub(r'data-term="[^"]*"', "", text)   # only behind the mask
    assert '<figure class="blurred"' in text
    # turned off: plain text, plain images
    r = client.post("/settings", data={"csrf": csrf_of(client)}, follow_redirects=False)
    assert r.status_code == 303
    text = client.get(f"/cases/{case}").text
    assert 'class="mask"' not in text and "d1ckhead" in text
    assert '<figure class=""' in text
    with store.read() as conn:
        found = userstore.get(conn, "ann")
    assert found is not None and not found.wellness
    assert store.verify_log().ok    # the setting change is logged


def test_masking_is_robust_and_leaves_other_words_alone() -> None:
    from vigil.console.text import plain, render, segments

    assert plain("you are a f.a.g.g.o.t") == "you are a " + "•" * len("f.a.g.g.o.t")
    assert plain("a classic dickens novel") == "a classic dickens novel"
    assert plain("你这个傻逼") == "你这个••"
    html = str(render("x <b>cheapdeal</b> dickhead", [(7, 16, "spam: a & b")]))
    assert "&lt;b&gt;" in html and 'title="spam: a &amp; b"' in html
    assert [s.text for s in segments("abcdef", [(1, 4, "n")], [(3, 5)])] == \
        ["a", "bc", "d", "e", "f"]


# ---------------------------------------------------------------------------- policy


def test_policy_diff_between_two_versions(world: World) -> None:
    policy = world.app.state.vigil.policy
    changed = parse_policy(policy.text.replace("thresholds: {restrict: 0.75, remove: 0.9}",
                                               "thresholds: {restrict: 0.7, remove: 0.8}"),
                           "stricter.yaml")
    assert changed.version != policy.version
    world.store.record_policy(changed)
    text = world.clients["chirp-auditor"].get(
        "/policy", params={"a": policy.version, "b": changed.version}).text
    assert '<span class="d-del">-    thresholds: {restrict: 0.75, remove: 0.9}</span>' in text
    assert '<span class="d-add">+    thresholds: {restrict: 0.7, remove: 0.8}</span>' in text
    assert f"--- {policy.version}" in text
    same = world.clients["chirp-auditor"].get(
        "/policy", params={"a": policy.version, "b": policy.version}).text
    assert "The two versions are the same." in same


def test_shadow_mode_scores_each_version_against_the_reviewers() -> None:
    from vigil.console.shadow import shadow

    policy = load_policy()
    truth = {("p", "1"): (True, "remove", "spam"), ("p", "2"): (False, "allow", None),
             ("p", "3"): (True, "remove", "spam"), ("p", "4"): (True, "label", "harassment")}
    scores = {("p", "1"): {"spam": 0.95}, ("p", "2"): {"spam": 0.92},
              ("p", "3"): {"spam": 0.6}, ("p", "4"): {"harassment": 0.72}}
    s = shadow(policy, truth, scores)
    assert (s.overall.tp, s.overall.fp, s.overall.fn, s.overall.tn) == (2, 1, 1, 0)
    assert s.overall.precision == pytest.approx(2 / 3)
    assert s.overall.recall == pytest.approx(2 / 3)
    assert s.review_band == 1 and s.same_action == 2
    assert s.by_category["spam"].recall == pytest.approx(0.5)


def test_the_policy_page_shows_shadow_results_once_reviewers_decided(world: World) -> None:
    _ = world.clients["root-admin"].get("/policy").text
    case = world.spare["weiqun"][0]
    world.claim_for("weiqun-mod", case)
    world.request("weiqun-mod", "POST", f"/cases/{case}/decide",
                  {"action": "allow", "template": "spam/promo"})
    text = world.clients["root-admin"].get("/policy").text
    assert "Shadow mode" in text and 'class="shadow"' in text
    assert world.policy_version in text


# ---------------------------------------------------------------------------- the log


def test_the_log_page_verifies_the_chain(world: World) -> None:
    r = world.request("all-auditor", "POST", "/log/verify", {})
    assert r.status_code == 200
    assert 'id="verify-result"' in r.text and "Verified:" in r.text


def test_verify_names_a_tampered_row_only_to_a_viewer_of_every_platform(
        store: Store) -> None:
    app = create_app(store, Settings(claims=False, relations=False),
                     detectors=[KeywordDetector()])
    app.state.vigil.audit([Item(id="t1", account="a", platform="chirp", text="buynow")])
    with store.begin() as conn:
        for name, pfs in (("root", ("*",)), ("narrow", ("chirp",))):
            userstore.create(conn, name, "auditor", pfs, PASSWORD, datetime.now(UTC))
        conn.execute(update(items).where(items.c.external_id == "t1").values(text="edited"))
    for name, named in (("root", True), ("narrow", False)):
        client, _ = login(app, name)
        r = client.post("/log/verify", data={"csrf": csrf_of(client)})
        assert r.status_code == 200
        assert "1 problem found" in r.text
        assert ("item chirp/t1" in r.text) is named


def test_the_log_pages_through_entries_of_the_viewers_platforms(world: World) -> None:
    text = world.clients["chirp-auditor"].get("/log").text
    assert 'rel="next"' in text
    older = re.search(r'/log\?before=(\d+)', text)
    assert older
    rows = re.findall(r'<tr data-kind="[a-z_]+"><td class="num">(\d+)</td>', text)
    assert len(rows) == 50 and rows == sorted(rows, key=int, reverse=True)
    nxt = world.clients["chirp-auditor"].get(f"/log?before={older.group(1)}").text
    more = re.findall(r'<tr data-kind="[a-z_]+"><td class="num">(\d+)</td>', nxt)
    assert more and int(more[0]) < int(rows[-1])
    # every entry shown is the viewer's platform's, or shared by all (a policy: no
    # platform); the test world's ids may contain the other platform's name, so look at
    # the platform column
    shown = re.findall(r'<tr data-kind="[a-z_]+"><td class="num">\d+</td><td>[^<]*</td>'
                       r'<td>[a-z_]+</td><td>([^<]*)</td>', text + nxt)
    assert "chirp" in shown and set(shown) <= {"chirp", ""}


# ---------------------------------------------------------------------------- dashboard


def test_dashboard_metrics_and_charts(world: World) -> None:
    with world.store.read() as conn:
        dash = dashboard(conn, ["chirp"])
    assert dash.removal_platforms == ["chirp"]
    assert dash.total_removals >= 1 and dash.automated >= 1
    assert dash.sanctions_by_step and dash.sanctions_by_step[0][0].startswith("1. ")
    assert sum(sum(v) for v in dash.decided_by.values()) == dash.automated + dash.human
    text = world.clients["chirp-auditor"].get("/dashboard").text
    assert text.count("<svg") == 6 and text.count('role="img"') >= 6


def test_periods_follow_the_span() -> None:
    from vigil.console.metrics import all_periods, period_kind

    a = datetime(2026, 1, 30, tzinfo=UTC)
    assert period_kind(a, a + timedelta(days=10)) == "day"
    assert all_periods(a, a + timedelta(days=2), "day") == ["2026-01-30", "2026-01-31",
                                                            "2026-02-01"]
    assert period_kind(a, a + timedelta(days=100)) == "week"
    assert all_periods(a, a + timedelta(days=14), "week") == ["2026-W05", "2026-W06",
                                                              "2026-W07"]
    assert period_kind(a, a + timedelta(days=1000)) == "month"
    assert all_periods(a, a + timedelta(days=62), "month") == ["2026-01", "2026-02",
                                                               "2026-03", "2026-04"]


# ---------------------------------------------------------------------------- users


def test_passwords_are_salted_scrypt_hashes() -> None:
    a, b = userstore.hash_password("a long password"), userstore.hash_password("a long password")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert userstore.check_password("a long password", a)
    assert not userstore.check_password("a long passwore", a)
    assert not userstore.check_password("a long password", "md5$x")


def test_cli_users_create_list_disable(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vigil.cli import app

    db = f"sqlite:///{tmp_path}/cli.db"
    runner = CliRunner()
    r = runner.invoke(app, ["users", "create", "mia", "--role", "moderator",
                            "--platform", "chirp", "--platform", "weiqun", "--db", db])
    assert r.exit_code == 0, r.output
    password = r.stdout.strip().splitlines()[-1]
    assert len(password) >= 16
    r = runner.invoke(app, ["users", "create", "ned", "--role", "auditor", "--platform", "*",
                            "--password-stdin", "--db", db], input="a typed password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "create", "svc", "--role", "platform", "--platform",
                            "chirp", "--db", db])
    assert r.exit_code == 2 and "cannot sign in" in r.output
    r = runner.invoke(app, ["users", "list", "--format", "jsonl", "--db", db])
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(u["username"], u["role"], u["platforms"]) for u in rows] == [
        ("mia", "moderator", ["chirp", "weiqun"]), ("ned", "auditor", ["*"])]
    assert password not in r.stdout
    store = Store(db)
    with store.read() as conn:
        assert userstore.authenticate(conn, "mia", password) is not None
        assert userstore.authenticate(conn, "ned", "a typed password") is not None
    assert runner.invoke(app, ["users", "disable", "mia", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["users", "disable", "zed", "--db", db]).exit_code == 2
    with store.read() as conn:
        assert userstore.authenticate(conn, "mia", password) is None
    v = store.verify_log()
    assert v.ok and v.rows >= 2    # creating and disabling users are logged
    store.close()


def test_the_api_still_answers_beside_the_console(world: World) -> None:
    client = world.clients["nobody"]
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/v1/cases").status_code == 401
    assert "/queue" not in client.get("/openapi.json").text


# ---------------------------------------------------------------------------- reports


GENERATED = re.compile(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def _counts(world: World, person: str, query: str = "") -> dict[str, Any]:
    r = world.request(person, "GET", f"/reports/counts.json{query}")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = json.loads(r.text)
    rows = list(csv.DictReader(io.StringIO(
        world.request(person, "GET", f"/reports/counts.csv{query}").text)))
    assert out["total"] == sum(c["count"] for c in out["counts"]) \
        == sum(int(c["count"]) for c in rows)
    assert len(rows) == len(out["counts"])
    return out


def _figures(world: World, person: str, query: str = "") -> dict[tuple[str, str], int]:
    """The transparency CSV's counts summed per (section, platform)."""
    r = world.request(person, "GET", f"/reports/transparency.csv{query}")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('.csv"')
    out: dict[tuple[str, str], int] = {}
    for f in csv.DictReader(io.StringIO(r.text)):
        if "*" not in (f["platform"], f["category"], f["period"]):
            key = (f["section"], f["platform"])
            out[key] = out.get(key, 0) + int(f["value"])
    return out


def test_an_auditor_of_one_platform_sees_only_its_numbers(world: World) -> None:
    got = _counts(world, "chirp-auditor")
    assert got["total"] == count_decisions(world.store, platform="chirp") > 0
    assert {c["platform"] for c in got["counts"]} == {"chirp"}
    assert _counts(world, "chirp-auditor", "?platform=chirp") == got
    figures = _figures(world, "chirp-auditor")
    assert figures and {pf for _, pf in figures} == {"chirp"}
    page = world.request("chirp-auditor", "GET", "/reports").text
    assert "weiqun" not in page and 'href="/reports"' in page
    assert 'href="/reports/counts.json?platform=&amp;since=&amp;until=&amp;period=month"' \
        in page
    # the page embeds the standalone report, the same as built from the store directly
    html = world.request("chirp-auditor", "GET", "/reports/transparency.html").text
    direct = GENERATED.sub("", render_html(build_transparency(world.store, ["chirp"])))
    assert GENERATED.sub("", html) == direct
    body = direct.split("<body>", 1)[1].split("<main>", 1)[0]
    assert body.strip() and body in GENERATED.sub("", page)
    assert page.count("<main") == 1 and page.count("<svg") >= 1


def test_the_aggregate_of_two_platforms_is_their_sum(world: World) -> None:
    with world.store.begin() as conn:
        userstore.create(conn, "both-auditor", "auditor", PLATFORMS, PASSWORD,
                         datetime.now(UTC))
    client, r = login(world.app, "both-auditor")
    assert r.status_code == 303
    world.clients["both-auditor"] = client
    each = {pf: _counts(world, "both-auditor", f"?platform={pf}") for pf in PLATFORMS}
    both = _counts(world, "both-auditor")
    assert both["total"] == sum(c["total"] for c in each.values()) \
        == sum(count_decisions(world.store, platform=pf) for pf in PLATFORMS)
    assert sorted(map(str, both["counts"])) == sorted(
        str(c) for pf in PLATFORMS for c in each[pf]["counts"])
    figures = _figures(world, "both-auditor")
    for pf in PLATFORMS:
        assert {k: v for k, v in figures.items() if k[1] == pf} \
            == _figures(world, "both-auditor", f"?platform={pf}")
    report = build_transparency(world.store, list(PLATFORMS))
    for (section, pf), n in figures.items():
        assert report.total(section, platform=pf) == n
    # a user of every platform: the same numbers
    assert _counts(world, "all-auditor")["total"] == both["total"]


def test_reports_refuse_moderators_and_other_platforms(world: World) -> None:
    for what in ("", *(f"/{f}" for f in REPORT_FILES)):
        assert world.request("both-mod", "GET", f"/reports{what}").status_code == 403
        for url in (f"/reports{what}?platform=weiqun", f"/reports{what}?platform=nosuch"):
            r = world.request("chirp-auditor", "GET", url)
            assert r.status_code == 404 and "weiqun-only" not in r.text
    assert world.request("chirp-auditor", "GET", "/reports?period=fortnight").status_code \
        == 400
    assert world.request("chirp-auditor", "GET", "/reports?since=June").status_code == 400


def test_the_range_and_period_reach_every_download(world: World) -> None:
    q = "?platform=chirp&since=2000-01-01&until=2000-12-31&period=year"
    assert _counts(world, "chirp-admin", q)["total"] == 0
    r = world.request("chirp-admin", "GET", f"/reports/counts.json{q}")
    assert r.headers["content-disposition"] == \
        'attachment; filename="counts-chirp-year-2000-01-01-2000-12-31.json"'
    today = datetime.now(UTC).date().isoformat()
    got = _counts(world, "chirp-admin", f"?since=2000-01-01&until={today}&period=year")
    assert got["total"] == count_decisions(world.store, platform="chirp")
    assert {c["period"] for c in got["counts"]} <= {str(datetime.now(UTC).year)}


def test_failed_sign_ins_are_throttled_per_name_and_address(tmp_path: Path) -> None:
    from vigil.api import LOGIN_FAILURES

    store = Store(f"sqlite:///{tmp_path}/s.db")
    app = create_app(store, Settings(claims=False, relations=False),
                     detectors=[KeywordDetector()])
    with store.begin() as conn:
        userstore.create(conn, "ann", "moderator", ("chirp",), PASSWORD, datetime.now(UTC))
        userstore.create(conn, "bob", "moderator", ("chirp",), PASSWORD, datetime.now(UTC))
    assert login(app, "ann")[1].status_code == 303  # successes cost nothing
    for _ in range(LOGIN_FAILURES):
        assert login(app, "ann", "guess")[1].status_code == 401
    _, r = login(app, "ann")  # the right password, too late
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in r.text
    assert not [c for c in r.headers.get_list("set-cookie") if c.startswith("vigil_session=")]
    # the address is spent as well: another name from it waits too
    assert login(app, "bob")[1].status_code == 429
