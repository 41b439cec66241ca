"""The ``vigil`` command end to end, in-process (Typer's runner) and, for the crash test,
as a real process killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, update
from typer.testing import CliRunner

from vigil.cli import app
from vigil.store.tables import decisions, items

runner = CliRunner()

GOOD = [
    {"id": "1", "account": "alice", "text": "Lovely morning run by the river"},
    {"id": "2", "account": "spammer", "text": "加微信 abc12345 免费领取, 兼职刷单 日赚500"},
    {"id": "3", "account": "spammer",
     "text": "Earn $500 a day from home!!! DM me on telegram @richquick, limited offer"},
    {"id": "4", "account": "bob", "text": "I will kill you, you worthless idiot"},
    {"id": "5", "account": "carol", "text": "Anyone know a good ramen place downtown?"},
]


def write_jsonl(path: Path, rows: list[dict[str, object]], broken: dict[int, str] | None = None
                ) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    for at, raw in sorted((broken or {}).items()):
        lines.insert(at - 1, raw)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args), env=env)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout, res.stderr


def report(db: str) -> dict[str, object]:
    code, out, _ = invoke("report", "--db", db, "--format", "json")
    assert code == 0
    data: dict[str, object] = json.loads(out)
    return data


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def _command_paths() -> list[list[str]]:
    """Every command and sub-command, walked from the Click tree Typer builds."""
    import typer.main

    paths: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_every_command_has_help() -> None:
    paths = _command_paths()
    assert ["claims", "import"] in paths and ["log", "verify"] in paths
    for path in paths:
        code, out, _ = invoke(*path, "--help")
        assert code == 0, path
        assert "Usage" in out, path


def test_audit_reports_broken_lines_and_keeps_the_rest(tmp_path: Path, db: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", GOOD,
                      broken={3: "{not json", 5: '{"id": "9", "account": "x"}'})
    rej = tmp_path / "rej.jsonl"
    code, _out, errs = invoke("audit", str(src), "--db", db, "--platform", "chirp",
                             "--rejects", str(rej), "-q")
    assert code == 0
    assert f"{src}:3:" in errs and f"{src}:5:" in errs and "text" in errs
    rejected = [json.loads(x) for x in rej.read_text().splitlines()]
    assert [r["line"] for r in rejected] == [3, 5]
    assert report(db)["items"] == len(GOOD)


def test_reauditing_a_file_changes_no_counts(tmp_path: Path, db: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", GOOD)
    assert invoke("audit", str(src), "--db", db, "-q")[0] == 0
    first = report(db)
    code, out, _ = invoke("audit", str(src), "--db", db, "-q")
    assert code == 0 and "5 already stored unchanged" in out
    assert report(db) == first
    assert first["items_by_action"].get("remove", 0) >= 2  # type: ignore[attr-defined]


def test_db_comes_from_the_environment(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", GOOD)
    url = f"sqlite:///{tmp_path}/env.db"
    assert invoke("audit", str(src), "-q", env={"VIGIL_DB": url})[0] == 0
    assert report(url)["items"] == 5


def test_log_verify_passes_then_names_the_edited_row(tmp_path: Path, db: str) -> None:
    invoke("audit", str(write_jsonl(tmp_path / "in.jsonl", GOOD)), "--db", db, "-q")
    code, out, _ = invoke("log", "verify", "--db", db)
    assert code == 0 and "intact" in out
    eng = create_engine(db)
    with eng.begin() as conn:
        conn.execute(update(items).where(items.c.external_id == "4")
                     .values(text="I will hug you"))
    eng.dispose()
    code, _, errs = invoke("log", "verify", "--db", db)
    assert code == 1
    assert "item default/4" in errs and "edited" in errs


def test_score_is_stateless_and_keeps_its_contract(tmp_path: Path) -> None:
    rows = [{"id": r["id"], "text": r["text"]} for r in GOOD]
    src = write_jsonl(tmp_path / "s.jsonl", rows)
    outp = tmp_path / "scores.jsonl"
    code, _, _ = invoke("score", str(src), "-o", str(outp))
    assert code == 0
    lines = [json.loads(x) for x in outp.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["1", "2", "3", "4", "5"]
    for x in lines:
        assert set(x) >= {"id", "scores", "flags", "verdict", "evidence"}
        assert (x["verdict"] == "allow") == (x["flags"] == [])
        assert all(0.0 <= v <= 1.0 for v in x["scores"].values())
    by = {x["id"]: x for x in lines}
    assert by["1"]["verdict"] == "allow" and by["1"]["evidence"] == []
    assert by["2"]["scores"]["spam"] >= 0.9 and by["2"]["verdict"] in ("remove", "restrict")
    assert by["4"]["verdict"] != "allow"
    for ev in by["2"]["evidence"]:
        assert GOOD[1]["text"][ev["start"]:ev["end"]] == ev["text"]
    assert not (tmp_path / "vigil.db").exists()


def test_decisions_jsonl_and_accounts_show(tmp_path: Path, db: str) -> None:
    invoke("audit", str(write_jsonl(tmp_path / "in.jsonl", GOOD)), "--db", db, "-q")
    code, out, _ = invoke("decisions", "--db", db, "--format", "jsonl", "--account", "spammer")
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert rows and all(r["account"] == "spammer" for r in rows)
    item_rows = [r for r in rows if r["kind"] == "item"]
    assert {r["item_id"] for r in item_rows} == {"2", "3"}
    for r in item_rows:
        assert r["category"] == "spam" and r["rule"].startswith("spam.") and r["evidence"]
    code, out, _ = invoke("decisions", "--db", db, "--category", "spam")
    assert code == 0 and "spammer" in out
    code, out, _ = invoke("accounts", "show", "spammer", "--db", db, "--format", "json")
    assert code == 0
    acct = json.loads(out)[0]
    assert acct["items"] == 2 and len(acct["strikes"]) == 2 and acct["sanctions"]
    code, _, errs = invoke("accounts", "show", "nobody", "--db", db)
    assert code == 1 and "no account" in errs


def test_policy_validate_names_file_line_and_key(tmp_path: Path) -> None:
    code, out, _ = invoke("policy", "validate", str(Path("src/vigil/data/policy/default.yaml")))
    assert code == 0 and "ok, version" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncategories:\n  spam:\n    severity: 2\n"
                   "    thresholds: {remove: 1.5}\n", encoding="utf-8")
    code, _, errs = invoke("policy", "validate", str(bad))
    assert code == 2
    assert f"{bad}:5: categories.spam.thresholds" in errs and "(0, 1]" in errs
    code, out, _ = invoke("policy", "show")
    assert code == 0 and "version" in out and "ladder" in out


def test_csv_input(tmp_path: Path, db: str) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,account,text,platform\n1,a,hello there,forum\n"
                   "2,b,\"加微信 abc12345 免费领取\",forum\n", encoding="utf-8")
    assert invoke("audit", str(src), "--db", db, "-q")[0] == 0
    rep = report(db)
    assert rep["items"] == 2 and "forum" in rep["by_platform"]  # type: ignore[operator]


@pytest.mark.slow
def test_killed_run_loses_nothing_committed(tmp_path: Path) -> None:
    """SIGKILL mid-run, then re-run: the final store equals an uninterrupted run's."""
    rows = [{"id": str(i), "account": f"u{i % 37}",
             "text": GOOD[i % len(GOOD)]["text"] + f" #{i}",
             "created_at": f"2026-06-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"}
            for i in range(3000)]
    src = write_jsonl(tmp_path / "big.jsonl", rows)
    vigil = [sys.executable, "-m", "vigil.cli"]
    killed_db = tmp_path / "killed.db"
    env = dict(os.environ, VIGIL_DB=f"sqlite:///{killed_db}")
    proc = subprocess.Popen([*vigil, "audit", "-", "-q", "--batch-size", "50"],
                            stdin=subprocess.PIPE, env=env, text=True)
    assert proc.stdin is not None
    lines = src.read_text().splitlines(keepends=True)
    proc.stdin.writelines(lines[:1000])
    proc.stdin.flush()
    eng = create_engine(f"sqlite:///{killed_db}")
    deadline = time.time() + 60
    stored = 0
    while time.time() < deadline and stored < 900:
        time.sleep(0.2)
        try:
            with eng.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(items)).scalar_one()
        except Exception:
            stored = 0
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    eng.dispose()
    assert 0 < stored < 3000
    subprocess.run([*vigil, "audit", str(src), "-q"], env=env, check=True)
    clean_db = tmp_path / "clean.db"
    subprocess.run([*vigil, "audit", str(src), "-q"], check=True,
                   env=dict(os.environ, VIGIL_DB=f"sqlite:///{clean_db}"))

    def state(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        e = create_engine(f"sqlite:///{path}")
        with e.connect() as conn:
            its = conn.execute(select(items.c.external_id, items.c.action, items.c.category)
                               .order_by(items.c.external_id)).all()
            ds = conn.execute(select(decisions.c.id, decisions.c.action)
                              .order_by(decisions.c.id)).all()
        e.dispose()
        return [tuple(r) for r in its], [tuple(r) for r in ds]

    assert state(killed_db) == state(clean_db)
    out = subprocess.run([*vigil, "log", "verify"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_eval_reports_per_category_metrics(tmp_path: Path) -> None:
    rows = [
        {"text": "Earn $500 a day from home!!! DM me on telegram @richquick", "category": "spam"},
        {"text": "加微信 abc12345 免费领取, 兼职刷单 日赚500", "category": "spam"},
        {"text": "see you at the meeting tomorrow", "category": "none"},
        {"text": "I will find you and kill you", "category": "violence"},
        {"text": "lovely weather for a walk", "category": "none"},
    ]
    src = write_jsonl(tmp_path / "eval.jsonl", rows)  # type: ignore[arg-type]
    code, out, _ = invoke("eval", str(src), "--no-functional", "--format", "json")
    assert code == 0
    cats = json.loads(out)["dataset"]["categories"]
    assert set(cats) == {"spam", "violence"}
    assert cats["spam"]["positives"] == 2 and cats["spam"]["recall"] == 1.0
    assert 0.0 <= cats["spam"]["precision"] <= 1.0
    bad = tmp_path / "bad.csv"
    bad.write_text("text,category\nhello,nonsense\n", encoding="utf-8")
    code, _, errs = invoke("eval", str(bad), "--no-functional")
    assert code == 2 and "line 2" in errs and "category" in errs


FACTCHECKS = Path(__file__).resolve().parents[1] / "examples" / "factchecks.jsonld"


def test_claims_import_list_remove_match(tmp_path: Path, db: str) -> None:
    code, out, _ = invoke("claims", "import", str(FACTCHECKS), "--db", db)
    assert code == 0 and "28 new" in out
    code, out, _ = invoke("claims", "import", str(FACTCHECKS), "--db", db)
    assert code == 0 and "0 new, 0 updated, 28 unchanged" in out
    code, out, _ = invoke("claims", "list", "--db", db, "--rating", "true", "--format", "jsonl")
    listed = [json.loads(line) for line in out.splitlines()]
    assert {c["claim_id"] for c in listed} == {"en-handwash", "en-seatbelt", "zh-mask"}
    assert invoke("claims", "list", "--db", db, "--rating", "bogus")[0] == 2
    code, _, errs = invoke("claims", "remove", "en-moon", "no-such-claim", "--db", db)
    assert code == 1 and "no-such-claim" in errs
    queries = write_jsonl(tmp_path / "q.jsonl", [
        {"id": "q1", "text": "Phone masts for 5G are spreading the coronavirus!"},
        {"id": "q2", "text": "吃碘盐可以预防核辐射，快去买"},
    ])
    code, out, _ = invoke("claims", "match", str(queries), "--db", db, "--top", "3")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["id"] for d in lines] == ["q1", "q2"]
    assert [d["matches"][0]["claim_id"] for d in lines] == ["en-5g", "zh-salt"]
    assert all(len(d["matches"]) <= 3 for d in lines)
    assert all(a["score"] >= b["score"] for d in lines
               for a, b in zip(d["matches"], d["matches"][1:], strict=False))


def test_claims_import_names_the_bad_field(tmp_path: Path, db: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"@type": "ClaimReview", "url": "u"}]), encoding="utf-8")
    code, _, errs = invoke("claims", "import", str(bad), "--db", db)
    assert code == 2 and "[0].claimReviewed" in errs


def test_audit_flags_misinformation_once_claims_are_imported(tmp_path: Path, db: str) -> None:
    assert invoke("claims", "import", str(FACTCHECKS), "--db", db)[0] == 0
    posts = Path(__file__).resolve().parents[1] / "examples" / "misinformation_posts.jsonl"
    assert invoke("audit", str(posts), "--db", db, "-q")[0] == 0
    code, out, _ = invoke("decisions", "--db", db, "--category", "misinformation",
                          "--format", "jsonl")
    assert code == 0
    flagged = {json.loads(line)["item_id"] for line in out.splitlines()}
    # repeats flagged; the debunks, the true claim and small talk are not
    assert {"mis-001", "mis-002", "mis-008", "mis-011"} <= flagged
    assert not flagged & {"mis-005", "mis-006", "mis-007", "mis-010", "mis-012"}


def test_score_matches_claims_only_when_asked(tmp_path: Path, db: str) -> None:
    assert invoke("claims", "import", str(FACTCHECKS), "--db", db)[0] == 0
    src = write_jsonl(tmp_path / "s.jsonl", [
        {"id": "s1", "text": "Hot lemon water cures cancer, big pharma hides it"}])
    with_claims, without = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert invoke("score", str(src), "-o", str(with_claims), "--claims", db)[0] == 0
    assert invoke("score", str(src), "-o", str(without))[0] == 0
    a = json.loads(with_claims.read_text(encoding="utf-8"))
    b = json.loads(without.read_text(encoding="utf-8"))
    assert a["scores"]["misinformation"] >= 0.6 and "misinformation" in a["flags"]
    assert "misinformation" not in b["scores"] and "misinformation" not in b["flags"]
    [ev] = [e for e in a["evidence"] if e["category"] == "misinformation"][:1]
    assert ev["ref"]["claim_id"] == "en-lemon"
