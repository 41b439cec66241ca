"""The transparency report (``vigil.transparency_report``): its figures add up to the
store's decisions, cases and sanctions; medians on known times; an auditor's platform
filter; the HTML page (one chart per svg, data escaped) and the tidy CSV; the CLI."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import KeywordDetector
from vigil.cli import app
from vigil.dsa import ACTION_MAP
from vigil.errors import InputError
from vigil.ingest import audit_batch
from vigil.items import Item
from vigil.policy import load_policy
from vigil.review import Reviewer
from vigil.store import Store
from vigil.store.review import new_case
from vigil.store.tables import cases, decisions, sanctions
from vigil.transparency_html import chart_count
from vigil.transparency_report import (
    ALL,
    CSV_COLUMNS,
    REVERSALS,
    TransparencyReport,
    build_transparency,
    render_html,
    write_csv,
)

POLICY = load_policy()
T0 = datetime(2026, 3, 30, 9, tzinfo=UTC)  # the audit; the appeal of h1 ends in April
ANA, BEN = Reviewer("k-ana", "ana"), Reviewer("k-ben", "ben")
HOSTILE = '<script>alert("x")</script>&'
runner = CliRunner()

# (platform, id, account, text): what the keyword detector makes of each is in the comment
ITEMS = [
    ("chirp", "a1", "alice", "buynow at my shop"),      # spam remove → warn
    ("chirp", "a2", "alice", "vermin again"),           # hate remove → restrict 7 days
    ("chirp", "a3", "alice", "vermin everywhere"),      # hate remove → suspend 30 days
    ("chirp", "a4", "alice", "vermin vermin"),          # hate remove → shut down
    ("chirp", "h1", "hank", "you idiot"),               # label; appeal overturned
    ("chirp", "g1", "gail", "vermin talk"),             # hate remove → warn; appeal upheld
    ("chirp", "l1", "lou", "you are an idiot"),         # label; a report → reviewer allows
    ("chirp", "m1", "mia", "buynow cheap"),             # spam remove → warn; flag → confirmed
    ("chirp", "r1", "rita", "cheapdeal for you"),       # review band → reviewer removes
    ("chirp", "c1", "cy", "groomer talk"),              # child review → removes → shut down
    ("chirp", "b1", "bob", "a quiet post"),             # user report → remove spam → warn
    ("chirp", "t1", "tom", "another quiet post"),       # trusted flag → restrict hate
    ("weiqun", "w1", "wes", "vermin here"),             # hate remove → warn
    ("weiqun", "w2", "wen", "buynow now"),              # spam remove → warn
]


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _case_of(store: Store, platform: str, item_id: str) -> str:
    for c in store.cases([platform], limit=500):
        if c["item_id"] == item_id:
            return str(c["id"])
    raise AssertionError(f"no open case for {item_id}")


def _report(store: Store, item_id: str, account: str, at: datetime, *, trusted: bool = False,
            category: str | None = None) -> str:
    row = new_case("chirp", item_id, account, "report", "trusted" if trusted else "reports",
                   category, 1.0, "please look", at, reporter="someone", trusted=trusted)
    return str(store.open_case(row, now=at)["id"])


def _decide(store: Store, case_id: str, action: str, category: str | None,
            at: datetime) -> str:
    store.claim_case(case_id, ANA, 15, now=at)
    return store.decide_case(case_id, ANA, action, category, "as the policy says", POLICY,
                             now=at)


def _decision(store: Store, item_id: str, action: str) -> dict[str, str]:
    with store.read() as conn:
        r = conn.execute(select(decisions).where(decisions.c.item_id == item_id,
                                                 decisions.c.action == action,
                                                 decisions.c.kind == "item")).mappings().one()
        return {k: r[k] for k in ("id", "platform", "item_id", "account", "category")}


def _appeal(store: Store, item_id: str, action: str, filed: datetime, resolved: datetime,
            outcome: str) -> None:
    case = store.appeal(_decision(store, item_id, action), "I disagree", None, POLICY,
                        now=filed)
    store.claim_case(case["id"], BEN, 15, now=resolved)
    store.resolve_appeal(case["id"], BEN, outcome, "looked again", POLICY, now=resolved)


def build_world(store: Store) -> None:
    """Automated decisions and the whole ladder, review cases, a user's report and a
    trusted flagger's, reports on automated decisions (one confirmed, one overturned),
    appeals upheld and overturned, timed and permanent sanctions, and a second platform.

    Times to decision: notices 2 h (b1), 1 h (t1), 3 h (l1), 8 h (m1); review cases 5 h
    (r1), 1 h (c1); appeals 10 h (g1, in March), 48 h (h1, resolved in April)."""
    store.record_policy(POLICY, now=T0)
    made = [Item(id=i, account=a, text=t, platform=p, created_at=T0 - timedelta(hours=30 - n))
            for n, (p, i, a, t) in enumerate(ITEMS)]
    audit_batch(store, made, POLICY, [KeywordDetector()], now=T0)
    _decide(store, _case_of(store, "chirp", "c1"), "remove", "child_safety", _h(1))
    _decide(store, _case_of(store, "chirp", "r1"), "remove", "spam", _h(5))
    _decide(store, _report(store, "b1", "bob", _h(1), category="spam"), "remove", "spam",
            _h(3))
    _decide(store, _report(store, "t1", "tom", _h(2), trusted=True), "restrict", "hate",
            _h(3))
    _decide(store, _report(store, "l1", "lou", _h(1), category="harassment"), "allow", None,
            _h(4))
    _decide(store, _report(store, "m1", "mia", _h(2), trusted=True, category="spam"),
            "remove", "spam", _h(10))
    _appeal(store, "g1", "remove", _h(2), _h(12), "upheld")
    _appeal(store, "h1", "label", _h(6), _h(54), "overturned")


def build(store: Store, platforms: list[str] | None, **kw: Any) -> TransparencyReport:
    """The report as seen ten days after the audit."""
    return build_transparency(store, platforms, now=_h(240), **kw)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path}/world.db")
    s.migrate()
    build_world(s)
    yield s
    s.close()


def _count(store: Store, q: object) -> int:
    with store.read() as conn:
        return int(conn.execute(q).scalar_one())  # type: ignore[call-overload]


def _grouped(store: Store, *cols: object, where: object = None) -> Counter[tuple[object, ...]]:
    q = select(*cols, func.count()).group_by(*cols)  # type: ignore[call-overload]
    if where is not None:
        q = q.where(where)
    with store.read() as conn:
        return Counter({tuple(r[:-1]): int(r[-1]) for r in conn.execute(q)})


# -- the figures add up -----------------------------------------------------------------------


def check_adds_up(store: Store, rep: TransparencyReport, platform: str | None = None) -> None:
    """Every count of sections 1, 2, 4 and 5 against the store's own counts."""
    p_dec = True if platform is None else decisions.c.platform == platform
    p_case = True if platform is None else cases.c.platform == platform
    p_sanc = True if platform is None else sanctions.c.platform == platform
    # every decision but the reversals is a notice's or an own-initiative one
    want = _grouped(store, decisions.c.kind, decisions.c.action, decisions.c.category,
                    where=p_dec)
    got: Counter[tuple[object, ...]] = Counter()
    for f in rep.figures:
        if f.aggregate or f.section not in ("notices", "own_initiative"):
            continue
        parts = f.metric.split(".")
        if f.section == "notices" and parts[0] != "received":
            got[(parts[1], parts[2], f.category or None)] += int(f.value)
        elif f.section == "own_initiative" and parts[0] in ("item", "account"):
            got[(parts[0], parts[1], f.category or None)] += int(f.value)
    assert got == Counter({k: n for k, n in want.items() if k[1] not in REVERSALS})
    restricting = sum(n for (kind, action, _), n in want.items() if (kind, action) in ACTION_MAP)
    assert rep.total("automated", prefix="decided.") == restricting
    # appeals by outcome; sanctions by kind and duration
    outcomes = _grouped(store, cases.c.outcome, where=(cases.c.kind == "appeal") & p_case)
    for outcome in ("upheld", "overturned"):
        assert rep.total("complaints", prefix=f"{outcome}.") == outcomes[(outcome,)]
    kinds = _grouped(store, sanctions.c.kind, where=p_sanc)
    for kind in ("warn", "restrict", "suspend", "shut_down"):
        assert rep.total("suspensions", f"kind.{kind}") == kinds[(kind,)], kind
    assert rep.total("suspensions", prefix="step.") == sum(kinds.values())
    timed = _count(store, select(func.count()).select_from(sanctions).where(
        sanctions.c.expires_at.is_not(None), sanctions.c.kind != "warn", p_sanc))
    assert sum(rep.total("suspensions", f"duration.{k}.timed")
               for k in ("restrict", "suspend", "shut_down")) == timed
    assert rep.total("suspensions", prefix="duration.") == sum(
        n for (k,), n in kinds.items() if k != "warn")
    reports = _grouped(store, cases.c.trusted, where=(cases.c.kind == "report") & p_case)
    assert rep.total("notices", "received.trusted_flagger") == reports[(True,)]
    assert rep.total("notices", "received.user_report") == reports[(False,)]


def test_totals_equal_the_stores_counts(world: Store) -> None:
    rep = build(world, None, period="month")
    assert rep.platforms == ("chirp", "weiqun")
    assert rep.periods == ("2026-03", "2026-04")
    check_adds_up(world, rep)
    # the world as the docstring tells it
    assert rep.total("suspensions", "kind.shut_down") == 2  # alice (ladder), cy (reviewer)
    assert rep.total("suspensions", "duration.shut_down.permanent") == 2
    assert rep.total("suspensions", "duration.restrict.timed") == 1
    assert rep.total("suspensions", "duration.suspend.timed") == 1
    # alice, gail, mia twice (automated, then the flag), rita, bob, wes, wen
    assert rep.total("suspensions", "kind.warn") == 8
    assert rep.total("notices", "received.user_report") == 2
    assert rep.total("notices", "received.trusted_flagger") == 2
    assert rep.total("notices", "received.user_report", category="spam") == 1
    assert rep.total("notices", "trusted_flagger.item.restrict", category="hate") == 1
    assert rep.total("notices", "user_report.item.allow") == 1
    assert rep.total("notices", "user_report.account.warn") == 1  # the ladder after b1
    assert rep.total("complaints", "received.item") == 2
    assert rep.total("complaints", "upheld.item", period="2026-03") == 1
    assert rep.total("complaints", "overturned.item", period="2026-04") == 1
    assert rep.total("complaints", prefix="pending.") == 0
    assert rep.stat("complaints", "share.overturned") == 0.5


def test_detection_and_automation(world: Store) -> None:
    rep = build(world, None)
    # own initiative: automated removals and labels, plus the reviewer on r1 and c1
    assert rep.total("own_initiative", "detection.human") == 0
    assert rep.total("own_initiative", "item.review") == 2
    assert rep.total("own_initiative", "item.remove", platform="weiqun") == 2
    # who decided: reviewers on notices are not automated, on review cases partly; the
    # ladder after a reviewer is partly automated
    assert rep.total("automated", "decided.human") == 3  # b1, t1, m1 (l1 was allowed)
    # c1, r1 and the shut-down after c1 (the warning after r1 restricts nothing)
    assert rep.total("automated", "decided.partly") == 3
    restricting = rep.total("automated", prefix="decided.")
    share = rep.stat("automated", "share.decided_automated")
    assert share == round(rep.total("automated", "decided.automated") / restricting, 4)
    # accuracy where a person looked: one of each
    for verdict in ("upheld_on_appeal", "overturned_on_appeal", "confirmed_by_reviewer",
                    "overturned_by_reviewer"):
        assert rep.total("automated", verdict) == 1, verdict
    assert rep.total("automated", "overturned_by_reviewer", category="harassment") == 1
    assert rep.stat("automated", "share.overturned") == 0.5
    assert rep.stat("automated", "share.overturned", ALL, "harassment") == 1.0
    assert rep.stat("automated", "share.overturned", ALL, "spam") == 0.0
    assert rep.stat("automated", "share.reviewed", "weiqun") == 0.0


def test_median_times_on_known_timestamps(world: Store) -> None:
    rep = build(world, None, period="month")

    def median(metric: str, platform: str = ALL, period: str = ALL) -> float | None:
        return rep.stat("median_times", f"median_hours.{metric}", platform, ALL, period)

    assert median("action_on_notice") == 2.5  # 1, 2, 3, 8
    assert median("decision_on_review") == 3.0  # 1, 5
    assert median("decision") == 2.5  # 1, 1, 2, 3, 5, 8
    assert median("appeal_resolution") == 29.0  # 10, 48
    assert median("appeal_resolution", period="2026-03") == 10.0
    assert median("appeal_resolution", period="2026-04") == 48.0
    assert median("appeal_resolution", "chirp") == 29.0
    assert median("decision", "weiqun") is None


def test_the_range_cuts_by_time(world: Store) -> None:
    """Up to April 1st: h1's appeal is pending at the end; nothing of April counts."""
    until = datetime(2026, 4, 1, tzinfo=UTC)
    rep = build(world, None, until=until, period="day")
    assert rep.periods == ("2026-03-30",)
    assert rep.total("complaints", "received.item") == 2
    assert rep.total("complaints", "pending.item") == 1
    assert rep.total("complaints", prefix="overturned.") == 0
    assert rep.total("automated", "overturned_on_appeal") == 0
    assert rep.stat("median_times", "median_hours.appeal_resolution") == 10.0
    later = build(world, None, since=until, period="day")
    assert later.total("complaints", prefix="received.") == 0
    assert later.total("complaints", "overturned.item") == 1
    assert later.total("own_initiative") == 0 and later.total("suspensions") == 0
    with pytest.raises(InputError):
        build(world, None, since=until, until=until)
    with pytest.raises(ValueError, match="period"):
        build(world, None, period="fortnight")


def test_an_auditor_granted_one_platform_sees_only_its_numbers(world: Store) -> None:
    everything = build(world, None)
    rep = build(world, ["weiqun"])
    assert rep.platforms == ("weiqun",)
    assert {f.platform for f in rep.figures} <= {"weiqun", ALL}
    check_adds_up(world, rep, "weiqun")
    for f in rep.figures:
        if not f.aggregate:
            assert everything.total(f.section, f.metric, platform="weiqun",
                                    category=f.category, period=f.period) == f.value
    assert rep.total("suspensions", "kind.warn") == 2
    assert rep.total("notices") == 0 and rep.total("complaints") == 0
    page = render_html(rep)
    assert "weiqun" in page and "chirp" not in page
    both = build(world, ["chirp", "weiqun", "chirp"])
    assert both.platforms == ("chirp", "weiqun")
    assert [f for f in both.figures if not f.aggregate] == [
        f for f in everything.figures if not f.aggregate]
    nothing = build(world, [])
    assert nothing.platforms == () and nothing.figures == []


# -- HTML and CSV -------------------------------------------------------------------------------


def test_html_has_one_svg_per_chart_and_escapes_data(world: Store) -> None:
    _report(world, "b1", "bob", _h(3), category=HOSTILE)  # a reporter's own category
    rep = build(world, None)
    assert rep.total("notices", "received.user_report", category=HOSTILE) == 1
    page = render_html(rep)
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "&lt;script&gt;alert(" in page
    svgs = ["<svg" + s.split("</svg>")[0] + "</svg>" for s in page.split("<svg")[1:]]
    assert len(svgs) == chart_count(rep) == 11
    for s in svgs:
        assert ET.fromstring(s).get("role") == "img"
    for heading in ("Notices received", "Own-initiative moderation", "automated means",
                    "Complaints", "Suspensions", "Median times"):
        assert heading in page


def test_html_of_an_empty_store(tmp_path: Path) -> None:
    s = Store(f"sqlite:///{tmp_path}/empty.db")
    s.migrate()
    rep = build_transparency(s, None)
    assert rep.figures == [] and rep.platforms == ()
    page = render_html(rep)
    assert page.count("<svg") == chart_count(rep)
    assert page.count('class="no-data"') == chart_count(rep)
    s.close()


def test_csv_parses_and_its_totals_match(world: Store, tmp_path: Path) -> None:
    rep = build(world, None, period="quarter")
    path = tmp_path / "report.csv"
    write_csv(rep, path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == len(rep.figures)
    counts = [r for r in rows if ALL not in (r["platform"], r["category"], r["period"])]
    assert all(r["value"].isdigit() for r in counts)
    by_section: Counter[str] = Counter()
    for r in counts:
        by_section[r["section"]] += int(r["value"])
    for section in ("notices", "own_initiative", "automated", "complaints", "suspensions"):
        assert by_section[section] == rep.total(section), section
    sanctions_csv = sum(int(r["value"]) for r in counts if r["metric"].startswith("kind."))
    assert sanctions_csv == _count(world, select(func.count()).select_from(sanctions))
    assert {r["period"] for r in counts} == {"2026-Q1", "2026-Q2"}
    medians = {(r["metric"], r["platform"], r["period"]): float(r["value"]) for r in rows
               if r["section"] == "median_times"}
    assert medians[("median_hours.action_on_notice", ALL, ALL)] == 2.5
    data = json.loads(json.dumps(rep.to_dict()))
    assert data["platforms"] == ["chirp", "weiqun"] and data["period"] == "quarter"
    assert [tuple(f) for f in data["figures"]] == [CSV_COLUMNS] * len(rows)
    assert sum(f["value"] for f in data["figures"] if f["section"] == "suspensions"
               and f["metric"].startswith("kind.")) == sanctions_csv


def test_same_figures_on_each_backend(store: Store) -> None:
    """SQLite and PostgreSQL give the same report (times with zones, the joins)."""
    build_world(store)
    rep = build_transparency(store, ["chirp"], since=T0 - timedelta(days=2),
                             until=T0 + timedelta(days=5))
    check_adds_up(store, rep, "chirp")
    assert rep.stat("median_times", "median_hours.appeal_resolution") == 29.0
    assert rep.total("automated", "overturned_by_reviewer") == 1


# -- the CLI -------------------------------------------------------------------------------------


def test_cli_report_period_csv_json_and_table(world: Store) -> None:
    db = str(world.engine.url)
    res = runner.invoke(app, ["report", "--db", db, "--period", "month", "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(res.stdout.splitlines()))
    total = _count(world, select(func.count()).select_from(decisions))
    assert sum(int(r["count"]) for r in rows) == total
    assert {r["period"] for r in rows} == {"2026-03", "2026-04"}
    assert {r["source"] for r in rows} >= {"own_initiative", "user_report", "trusted_flagger",
                                           "appeal"}
    res = runner.invoke(app, ["report", "--db", db, "--period", "quarter", "--format", "json",
                              "--platform", "weiqun"])
    assert res.exit_code == 0, res.output
    assert '"total": 4' in res.stdout  # two removals, two warnings
    res = runner.invoke(app, ["report", "--db", db, "--period", "year"])
    assert res.exit_code == 0 and f"{total:,} decisions" in res.stdout
    assert runner.invoke(app, ["report", "--db", db, "--period", "fortnight"]).exit_code == 2
    assert runner.invoke(app, ["report", "--db", db, "--period", "month", "--format",
                               "xml"]).exit_code == 2
    # without --period the command is what it was
    assert runner.invoke(app, ["report", "--db", db, "--format", "csv"]).exit_code == 2
    res = runner.invoke(app, ["report", "--db", db])
    assert res.exit_code == 0 and "items removed" in res.stdout


def test_cli_export_report(world: Store, tmp_path: Path) -> None:
    db = str(world.engine.url)
    page, table = tmp_path / "report.html", tmp_path / "report.csv"
    res = runner.invoke(app, ["export", "report", "--db", db, "-o", str(page), "--csv",
                              str(table), "--platform", "chirp", "--since", "2026-03-01",
                              "--until", "2026-03-31", "--period", "week"])
    assert res.exit_code == 0, res.output
    html = page.read_text(encoding="utf-8")
    assert "chirp" in html and "weiqun" not in html
    with table.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["platform"] for r in rows} == {"chirp", ALL}
    assert {r["period"] for r in rows} <= {"2026-W13", "2026-W14", ALL}
    # March only: the overturned appeal (April 1st) is left out
    assert not [r for r in rows if r["metric"] == "overturned.item"]
    res = runner.invoke(app, ["export", "report", "--db", db, "-o", str(page), "--period",
                              "fortnight"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["export", "report", "--help"])
    assert res.exit_code == 0 and "--csv" in res.stdout
