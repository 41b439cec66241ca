"""Sweeps: re-auditing stored items and exports under a new policy, dry runs scored
against reviewers, scope filters, exact resumption after a crash, and the Dask engine
giving the same store as the local one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.conftest import BASE, make_items
from vigil.ingest import audit_batch
from vigil.items import Item
from vigil.policy import Policy, load_policy, parse_policy
from vigil.review import Reviewer
from vigil.store import Store
from vigil.store.tables import decisions, sweeps
from vigil.sweeps import (
    Sweep,
    SweepConfig,
    dask_frames,
    items_of,
    load_part,
    local_frames,
    plan_files,
    score_frame,
)

KEYWORDS = "tests.conftest:keyword_detectors"
NOW = BASE + timedelta(days=30)
VIGIL = Path(sys.executable).with_name("vigil")


def strict_policy() -> Policy:
    """The default policy with spam removed from 0.55 (the keyword 'cheapdeal' scores 0.6:
    review under the default policy, removal under this one)."""
    text = load_policy().text.replace("thresholds: {restrict: 0.75, remove: 0.9}",
                                      "thresholds: {remove: 0.55}", 1)
    assert text != load_policy().text
    return parse_policy(text, "strict.yaml")


def seed(store: Store, detectors: list, n: int = 60) -> list[Item]:  # type: ignore[type-arg]
    items = make_items(n, accounts=6, every=2, word="cheapdeal")
    store.record_policy(load_policy(), BASE)
    for k in range(0, n, 20):
        audit_batch(store, items[k:k + 20], load_policy(), detectors, now=BASE)
    return items


RECORDS = ("items", "decisions", "strikes", "sanctions", "cases", "deliveries", "fingerprints",
           "clusters", "policies")


def records(store: Store) -> dict[str, str]:
    """Digests of the tables holding what was decided (not the log, which also holds
    the sweep's own record)."""
    return {k: v for k, v in store.digest().items() if k in RECORDS}


def count(store: Store, table: object, *where: object) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)  # type: ignore[arg-type]
                                .where(*where)).scalar_one())


def test_a_stored_sweep_escalates_under_a_stricter_policy_and_is_idempotent(
        store: Store, detectors: list) -> None:  # type: ignore[type-arg]
    seed(store, detectors)
    pol = strict_policy()
    assert count(store, decisions, decisions.c.action == "remove") == 0
    sweep = Sweep.create(store, pol, detectors=KEYWORDS, batch_size=7, part_rows=25, now=NOW)
    assert sweep.total == 60 and [p.rows for p in sweep.parts] == [25, 25, 10]
    rep = sweep.run()
    t = rep.tally
    assert rep.status == "done" and t.items == 60 and t.rows == 60
    assert t.escalated == {"review→remove": 30}
    assert t.removed == {"spam": 30} and t.strikes == 30
    removed = count(store, decisions, decisions.c.action == "remove",
                    decisions.c.policy_version == pol.version, decisions.c.at == NOW)
    assert removed == 30
    # the even items belong to accounts u0, u2, u4: ten removals each climb the whole
    # ladder (warn at 1, restrict 2.5, suspend 4, shut_down 6); accounts count once
    assert rep.accounts == {"shut_down": 3}
    assert t.sanctions["shut_down"] == 3 and set(t.sanctions) == {
        "warn", "restrict", "suspend", "shut_down"}
    assert sum(t.sanctions.values()) == count(store, decisions, decisions.c.kind == "account")
    before = records(store)
    again = Sweep.create(store, pol, detectors=KEYWORDS, now=NOW + timedelta(hours=1)).run()
    assert again.tally.escalated == {} and again.tally.unchanged == 60
    assert records(store) == before
    assert store.verify_log().ok


def test_a_dry_run_writes_nothing_and_predicts_what_enforcing_does(
        tmp_path: Path, detectors: list) -> None:  # type: ignore[type-arg]
    a, b = Store(f"sqlite:///{tmp_path}/a.db"), Store(f"sqlite:///{tmp_path}/b.db")
    for s in (a, b):
        s.migrate()
        seed(s, detectors)
    pol = strict_policy()
    a.record_policy(pol, NOW)
    before = records(a)
    dry = Sweep.create(a, pol, detectors=KEYWORDS, dry_run=True, batch_size=9, now=NOW).run()
    assert records(a) == before and a.verify_log().ok
    assert count(a, sweeps, sweeps.c.status == "done") == 1
    real = Sweep.create(b, pol, detectors=KEYWORDS, batch_size=9, now=NOW).run()
    assert dry.tally.escalated == real.tally.escalated
    assert dry.tally.sanctions == real.tally.sanctions
    assert dry.tally.strikes == real.tally.strikes == 30


def test_a_dry_run_reports_precision_and_recall_against_reviewers(
        store: Store, detectors: list) -> None:  # type: ignore[type-arg]
    seed(store, detectors, n=20)
    pol = load_policy()
    reviewer = Reviewer("k1", "ana")
    cases = store.cases(limit=100)
    assert len(cases) == 10  # every 'cheapdeal' item is in spam's review band
    for k, case in enumerate(cases):
        store.claim_case(case["id"], reviewer, 10, now=BASE + timedelta(days=1))
        action, cat = ("remove", "spam") if k < 6 else ("allow", None)
        store.decide_case(case["id"], reviewer, action, cat, "checked",
                          pol, now=BASE + timedelta(days=1))
    rep = Sweep.create(store, strict_policy(), detectors=KEYWORDS, dry_run=True,
                       now=NOW).run()
    p, r, n = rep.tally.precision_recall()
    # the strict policy removes all ten: six the reviewers removed, four they allowed
    assert n == 10 and rep.tally.reviewed == {"tp": 6, "fp": 4}
    assert p == pytest.approx(0.6) and r == pytest.approx(1.0)
    out = rep.to_dict()
    assert out["reviewed"] == {"items": 10, "precision": 0.6, "recall": 1.0}


def test_scope_filters_platform_time_and_category(tmp_path: Path,
                                                  detectors: list) -> None:  # type: ignore[type-arg]
    s = Store(f"sqlite:///{tmp_path}/s.db")
    s.migrate()
    seed(s, detectors)
    other = make_items(10, platform="other", every=1, word="cheapdeal")
    audit_batch(s, other, load_policy(), detectors, now=BASE)
    pol = strict_policy()
    sw = Sweep.create(s, pol, detectors=KEYWORDS, platforms=["chirp"],
                      since=BASE + timedelta(hours=10), until=BASE + timedelta(hours=20),
                      dry_run=True, now=NOW)
    assert sw.total == 10
    assert sw.run().tally.escalated == {"review→remove": 5}
    # acting on hate only: the spam hits under the strict policy change nothing
    only_hate = Sweep.create(s, pol, detectors=KEYWORDS, categories=["hate"], dry_run=True,
                             now=NOW).run()
    assert only_hate.tally.escalated == {} and only_hate.total == 70
    with pytest.raises(Exception, match="unknown categories nonsense"):
        Sweep.create(s, pol, categories=["nonsense"])


def _export(folder: Path) -> list[Item]:
    items = make_items(40, accounts=5, every=2, word="cheapdeal")
    rows = [{"id": it.id, "account": it.account, "text": it.text, "platform": it.platform,
             "created_at": it.created_at.isoformat() if it.created_at else None,
             "reach": it.reach} for it in items]
    folder.mkdir()
    lines = [json.dumps(r) for r in rows[:15]]
    lines[3:3] = ["{not json", ""]  # line 4 malformed, line 5 blank
    lines.insert(9, json.dumps({"id": "x1", "account": "u1"}))  # no text
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows[15:30]) + "\n")
    pd.DataFrame(rows[30:]).to_parquet(folder / "c.parquet", row_group_size=3)
    (folder / "README").write_text("not items")
    return items


def test_an_export_sweep_reads_jsonl_and_parquet_partitions_and_rejects_bad_lines(
        tmp_path: Path, detectors: list) -> None:  # type: ignore[type-arg]
    items = _export(tmp_path / "exp")
    parts = plan_files(tmp_path / "exp", part_rows=4)
    # row groups of 3 rows are gathered until a part has 4 rows or more: 3+3, 3+1
    assert [p.rows for p in parts if p.kind == "parquet"] == [6, 4]
    assert sum(p.rows for p in parts) == 18 + 15 + 10
    s = Store(f"sqlite:///{tmp_path}/s.db")
    s.migrate()
    bad: list[dict] = []  # type: ignore[type-arg]
    rep = Sweep.create(s, strict_policy(), source=str(tmp_path / "exp"), detectors=KEYWORDS,
                       part_rows=4, batch_size=3, now=NOW).run(rejects=bad.append)
    assert rep.tally.items == 40 and rep.tally.rejects == 2 and rep.tally.skipped == 1
    assert [(r["source"], r["line"]) for r in bad] == [("a.jsonl", 4), ("a.jsonl", 10)]
    assert "field 'text'" in bad[1]["reason"]
    # the same decisions as auditing the items directly under the same policy
    ref = Store(f"sqlite:///{tmp_path}/ref.db")
    ref.migrate()
    audit_batch(ref, items, strict_policy(), detectors, now=NOW)

    def ids(st: Store) -> set[tuple[str, str, str]]:
        with st.read() as conn:
            return {(r.item_id, r.action, r.kind) for r in conn.execute(select(decisions))}

    assert ids(s) == ids(ref) and len(ids(s)) > 20


def test_the_batch_function_is_engine_neutral(tmp_path: Path) -> None:
    """score_frame is a plain DataFrame → DataFrame function: called as Spark's
    mapInPandas or Ray's map_batches would call it, it gives the local engine's frames."""
    _export(tmp_path / "exp")
    parts = plan_files(tmp_path / "exp", part_rows=8)
    cfg = SweepConfig(db=f"sqlite:///{tmp_path}/s.db", sweep_id="x", detectors=KEYWORDS)
    Store(cfg.db).migrate()
    frames = [load_part(p, cfg) for p in parts]
    mapped = list((lambda it: (score_frame(df, cfg) for df in it))(iter(frames)))
    local = list(local_frames(parts, cfg))
    for a, b in zip(mapped, local, strict=True):
        pd.testing.assert_frame_equal(a, b)
    scored = pd.concat(local)
    assert len(items_of(scored)) == 40
    sig = {r.id: json.loads(r.signals) for r in scored.itertuples() if isinstance(r.signals, str)}
    assert sig["p2"][0]["category"] == "spam" and sig["p1"] == []


def _crash_after(batches: int):  # type: ignore[no-untyped-def]
    seen = [0]

    def tick(done: int, total: int) -> None:
        seen[0] += 1
        if seen[0] == batches:
            raise KeyboardInterrupt

    return tick


def test_an_interrupted_sweep_resumes_to_exactly_the_uninterrupted_store(
        tmp_path: Path, detectors: list) -> None:  # type: ignore[type-arg]
    _export(tmp_path / "exp")
    digests = []
    for name, stops in (("whole", []), ("broken", [2, 3, 5])):
        s = Store(f"sqlite:///{tmp_path}/{name}.db")
        s.migrate()
        seed(s, detectors)
        sweep = Sweep.create(s, strict_policy(), source=str(tmp_path / "exp"),
                             detectors=KEYWORDS, part_rows=7, batch_size=3, now=NOW)
        for k in stops:
            with pytest.raises(KeyboardInterrupt):
                Sweep.load(s).run(progress=_crash_after(k))
        rep = Sweep.load(s, sweep.id).run()
        assert rep.status == "done" and rep.cursor == rep.total == 43
        digests.append((s.digest(), rep.tally.to_dict()))
        s.close()
    assert digests[0] == digests[1]


@pytest.mark.slow
def test_kill_9_then_resume_from_the_cli_gives_the_same_store(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    folder.mkdir()
    rows = [{"id": it.id, "account": it.account, "text": it.text,
             "created_at": it.created_at.isoformat() if it.created_at else None}
            for it in make_items(3000, accounts=40, every=3, word="cheapdeal buynow")]
    (folder / "items.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    args = [str(VIGIL), "sweep", str(folder), "--at", NOW.isoformat(), "-q",
            "--batch-size", "50", "--part-rows", "500"]
    env = dict(os.environ, VIGIL_DB="")

    def run(db: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*args, "--db", db], capture_output=True, text=True, env=env,
                              check=True, timeout=300)

    whole = f"sqlite:///{tmp_path}/whole.db"
    run(whole)
    broken = f"sqlite:///{tmp_path}/broken.db"
    proc = subprocess.Popen([*args, "--db", broken], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    store = Store(broken)
    deadline = time.monotonic() + 120
    cursor = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            with store.read() as conn:
                cursor = conn.execute(select(sweeps.c.cursor)).scalar() or 0
        except Exception:
            continue
        if cursor >= 600:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < cursor < 3000, cursor
    res = subprocess.run([str(VIGIL), "sweep", "--resume", "--db", broken, "-q"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "resuming sweep" in res.stderr
    assert Store(broken).digest() == Store(whole).digest()


@pytest.mark.slow
def test_dask_engine_gives_the_local_engines_store_and_loads_models_once(
        tmp_path: Path, detectors: list) -> None:  # type: ignore[type-arg]
    from dask.distributed import Client, LocalCluster

    _export(tmp_path / "exp")
    out = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        for engine in ("local", "dask"):
            s = Store(f"sqlite:///{tmp_path}/{engine}.db")
            s.migrate()
            seed(s, detectors)
            sweep = Sweep.create(s, strict_policy(), source=str(tmp_path / "exp"),
                                 detectors=KEYWORDS, part_rows=5, batch_size=4, now=NOW)
            if engine == "dask":
                rep = sweep.run(lambda parts, cfg: dask_frames(
                    parts, cfg, scheduler=cluster.scheduler_address, window=3))
            else:
                rep = sweep.run(local_frames)
            out[engine] = (s.digest(), rep.tally.to_dict())
        loads = client.run(lambda: dict(__import__("vigil.sweeps").sweeps.LOADS))
    assert out["dask"] == out["local"]
    per_worker = [sum(v.values()) for v in loads.values()]
    assert per_worker and all(n == 1 for n in per_worker if n), loads
    assert sum(per_worker) >= 1


def test_the_cli_sweeps_an_export_reports_and_lists(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vigil.cli import app

    _export(tmp_path / "exp")
    db = f"sqlite:///{tmp_path}/s.db"
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(tmp_path / "exp"), "--db", db, "-q",
                              "--rejects", str(tmp_path / "bad.jsonl"),
                              "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    assert "40 items swept" in res.output and "2 malformed" in res.output
    rejected = [json.loads(line) for line in (tmp_path / "bad.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejected] == [4, 10]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "done" and report["tally"]["items"] == 40
    assert report["runs"][0]["engine"] == "local" and report["runs"][0]["rows"] == 43
    listed = runner.invoke(app, ["sweeps", "list", "--db", db])
    assert listed.exit_code == 0 and report["id"] in listed.output
    shown = runner.invoke(app, ["sweeps", "show", report["id"], "--db", db])
    assert shown.exit_code == 0 and '"headline"' in shown.output
    again = runner.invoke(app, ["sweep", "--resume", "--db", db, "-q"])
    assert again.exit_code == 2 and "no unfinished sweep" in again.output


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday"], "--since: not an ISO date"),
    (["--category", "nonsense"], "unknown categories nonsense"),
    (["--engine", "spark"], "--engine: expected local or dask"),
    (["missing.jsonl"], "file not found"),
])
def test_the_cli_names_what_is_wrong(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from vigil.cli import app

    res = CliRunner().invoke(app, ["sweep", "--db", f"sqlite:///{tmp_path}/s.db", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
