"""The ``vigil`` command: parse, call the library, print."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from vigil._cli_common import (
    DbOpt,
    FormatOpt,
    PlatformOpt,
    PolicyOpt,
    _embed_progress,
    _fail,
    _open_store,
    _progress,
    _score_batches,
    err,
    out,
)
from vigil.audit import detect
from vigil.cli_api import keys_app, serve_cmd, webhooks_set_cmd, worker_cmd
from vigil.cli_banks import banks_app
from vigil.cli_claims import claims_app
from vigil.cli_export import export_app, print_period_counts
from vigil.cli_relations import clusters_app, index_app
from vigil.cli_sweep import sweep_cmd, sweeps_app
from vigil.cli_users import users_app
from vigil.detectors import Detector, best_scores, default_detectors
from vigil.errors import InputError, PolicyError, StoreError, VigilError
from vigil.ingest import Tally, audit_batch
from vigil.items import Item
from vigil.policy import Policy, evaluate, load_policy
from vigil.readers import Reject, count_lines, read_items, write_reject
from vigil.relations import Relations
from vigil.reports import account_dict, account_summary, build_report, decision_rows
from vigil.store import Store

app = typer.Typer(
    help="Vigil: audit content, enforce policy on accounts, keep a verifiable record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Show and validate policies.", no_args_is_help=True)
log_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts: strikes, sanctions, standing.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(log_app, name="log")
app.add_typer(accounts_app, name="accounts")
app.add_typer(claims_app, name="claims")
app.add_typer(banks_app, name="banks")
app.add_typer(clusters_app, name="clusters")
app.add_typer(index_app, name="index")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(export_app, name="export")
app.command("serve")(serve_cmd)
app.command("worker")(worker_cmd)
app.command("sweep")(sweep_cmd)
app.add_typer(sweeps_app, name="sweeps")
webhooks_app = typer.Typer(help="Webhooks to the platforms.", no_args_is_help=True)
webhooks_app.command("set")(webhooks_set_cmd)
app.add_typer(webhooks_app, name="webhooks")

def _load_policy(path: Path | None) -> Policy:
    try:
        return load_policy(path)
    except PolicyError as exc:
        for p in exc.problems:
            err.print(f"[red]policy error:[/red] {p}", highlight=False)
        raise typer.Exit(2) from None


@app.command("audit")
def audit_cmd(
    file: Annotated[str, typer.Argument(help="Items as JSONL, CSV or Parquet; '-' for stdin.")],
    db: DbOpt = None,
    policy: PolicyOpt = None,
    platform: PlatformOpt = None,
    fmt: FormatOpt = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Items per transaction.")] = 1000,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where malformed lines go (default: <input>.rejects.jsonl)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Audit items into the store: detect, decide under the policy, sanction accounts.

    Each line/row needs at least id, account and text. Items already stored unchanged are
    skipped, so running the same file twice changes nothing. Malformed lines are reported
    with their line number, written to the rejects file, and the rest is processed. Every
    batch is committed as it completes: an interrupted run loses nothing committed.
    """
    pol = _load_policy(policy)
    try:
        store = _open_store(db)
        store.record_policy(pol)
        detectors = _detectors(store)
        relations = Relations(store)
        tally, bad = _run_audit(file, store, pol, detectors, platform, fmt, batch_size,
                                rejects, quiet, relations)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    _print_tally(tally, bad)
    _print_media_problems(detectors)
    if relations.stale:
        err.print(f"[yellow]{relations.stale:,} stored fingerprints are of an older scheme and "
                  "were left out of plagiarism and coordination checks: run `vigil index "
                  "rebuild`[/yellow]", highlight=False)


def _print_media_problems(detectors: list[Detector]) -> None:
    """Attached images that could not be read were not matched against the hash banks:
    say so rather than let them pass unseen."""
    from vigil.media.detector import MediaDetector

    for det in detectors:
        if isinstance(det, MediaDetector) and det.errors:
            why = "; ".join(f"{n:,} {reason}" for reason, n in det.errors.most_common(5))
            err.print(f"[yellow]{sum(det.errors.values()):,} attached media could not be "
                      f"matched against the hash banks: {why}[/yellow]", highlight=False)


def _detectors(store: Store | None, *, media_paths: bool = True) -> list[Detector]:
    """The default detectors, plus claim matching when the store's fact-check base has
    claims and media matching against its hash banks."""
    from vigil.pipeline import store_detectors

    return store_detectors(store, progress=_embed_progress, media_paths=media_paths)


def _run_audit(
    file: str, store: Store, pol: Policy, detectors: list[Detector], platform: str | None,
    fmt: str | None, batch_size: int, rejects: Path | None, quiet: bool,
    relations: Relations | None = None,
) -> tuple[Tally, tuple[int, Path | None]]:
    tally = Tally()
    n_bad = 0
    reject_path = rejects or Path(("stdin" if file == "-" else Path(file).name)
                                  + ".rejects.jsonl")
    reject_fh: IO[str] | None = None
    total = None if file == "-" else count_lines(file)
    source: str | IO[str] = sys.stdin if file == "-" else file
    with ExitStack() as stack:
        progress = stack.enter_context(_progress()) if not quiet else None
        task = progress.add_task("auditing", total=total, rate="") if progress else None
        started = datetime.now(UTC)
        batch: list[Item] = []
        lines = 0

        def flush() -> None:
            nonlocal lines
            if batch:
                audit_batch(store, batch, pol, detectors, tally, relations=relations)
                batch.clear()
            if progress is not None and task is not None:
                secs = max((datetime.now(UTC) - started).total_seconds(), 1e-6)
                progress.update(task, completed=lines,
                                rate=f"{(tally.audited + tally.unchanged) / secs:,.0f} items/s")

        for line, got in read_items(source, platform=platform, fmt=fmt):
            lines = line
            if isinstance(got, Reject):
                n_bad += 1
                if reject_fh is None:
                    reject_fh = stack.enter_context(reject_path.open("w", encoding="utf-8"))
                write_reject(reject_fh, got, file)
                err.print(f"[yellow]{file}:{got.line}:[/yellow] {got.reason}", highlight=False)
                continue
            batch.append(got)
            if len(batch) >= batch_size:
                flush()
        flush()
    return tally, (n_bad, reject_path if n_bad else None)


def _print_tally(t: Tally, bad: tuple[int, Path | None]) -> None:
    out.print(
        f"audited {t.audited:,} items ({t.new:,} new, {t.edited:,} edited), "
        f"{t.unchanged:,} already stored unchanged, {t.duplicates:,} duplicates in input"
        + (f"; {t.reaudited:,} stored items audited again (plagiarism or coordinated "
           "posting found later)" if t.reaudited else "")
    )
    acts = ", ".join(f"{n:,} {a}" for a, n in t.actions.most_common()) or "none"
    sanc = ", ".join(f"{n:,} {k}" for k, n in t.sanctions.most_common()) or "none"
    out.print(f"decisions: {t.decisions:,} (item actions: {acts}); strikes: {t.strikes:,}; "
              f"sanctions: {sanc}")
    n_bad, path = bad
    if n_bad:
        err.print(f"[yellow]{n_bad} malformed line(s) skipped; written to {path}[/yellow]")


@app.command("score")
def score_cmd(
    file: Annotated[str, typer.Argument(help="JSONL/CSV/Parquet with id, text, optional "
                                             "lang; '-' for stdin.")],
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Write JSONL here (default stdout).")] = None,
    policy: PolicyOpt = None,
    fmt: FormatOpt = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 1000,
    claims: Annotated[str | None, typer.Option(
        "--claims", help="Also match claims from this store's fact-check base "
                         "(a store URL; nothing is written to it but missing embeddings).")
    ] = None,
) -> None:
    """Score items without storing anything: one JSONL line per input line with
    {"id", "scores": {category: probability}, "flags", "verdict", "evidence"}; flags are
    the categories whose score reaches the policy's review band or an action threshold."""
    pol = _load_policy(policy)
    try:
        detectors = _detectors(_open_store(claims) if claims else None)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    cats = sorted({c for d in detectors for c in d.categories})
    source: str | IO[str] = sys.stdin if file == "-" else file
    with ExitStack() as stack:
        sink = stack.enter_context(output.open("w", encoding="utf-8")) if output else sys.stdout
        try:
            for batch in _score_batches(source, fmt, batch_size):
                signals = detect(batch, detectors)
                for item, sigs in zip(batch, signals, strict=True):
                    sink.write(json.dumps(_score_line(item, sigs, pol, cats),
                                          ensure_ascii=False) + "\n")
        except InputError as exc:
            raise _fail(str(exc)) from None


def _score_line(item: Item, sigs: list[Any], pol: Policy, cats: list[str]) -> dict[str, Any]:
    scores = dict.fromkeys(cats, 0.0)
    scores.update({c: round(v, 4) for c, v in best_scores(sigs).items()})
    v = evaluate(sigs, pol)
    verdict = v.action if v.action != "allow" or not v.review else "review"
    evidence = [dict(e.to_dict(), category=s.category, detector=s.detector)
                for s in sigs for e in s.evidence]
    flags = sorted(f.category for f in v.findings)
    return {"id": item.id, "scores": scores, "flags": flags, "verdict": verdict,
            "evidence": evidence}


@app.command("report")
def report_cmd(
    db: DbOpt = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json (or csv, with "
                                                      "--period).")] = "table",
    period: Annotated[str | None, typer.Option(
        help="Instead: decisions counted per day, week (ISO), month, quarter or year, by "
             "platform, kind, category, action, detection (automated or human), who "
             "decided and source (own initiative, user report, trusted flagger, "
             "appeal).")] = None,
) -> None:
    """Counts: items acted on by platform, category and action; accounts by sanction;
    how violations were detected. With --period: decisions counted per period."""
    if period is not None:
        print_period_counts(db, platform, period, fmt)
        return
    if fmt not in ("table", "json"):
        raise _fail("--format must be table or json")
    rep = build_report(_open_store(db), platform)
    if fmt == "json":
        out.print_json(json.dumps(rep.to_dict()))
        return
    out.print(f"[bold]{rep.headline()}[/bold]")
    out.print(f"{rep.items:,} items from {rep.accounts:,} accounts; "
              f"{rep.review_pending:,} waiting for human review")
    t = Table(title="Items by platform, category and action")
    for col in ("platform", "category", "removed", "restricted", "labelled", "review"):
        t.add_column(col, justify="right" if col not in ("platform", "category") else "left")
    for plat, cats in sorted(rep.by_platform.items()):
        for cat, c in sorted(cats.items()):
            t.add_row(plat, cat, *(f"{c[a]:,}" for a in ("remove", "restrict", "label",
                                                          "review")))
    out.print(t)
    t = Table(title="Accounts by strongest sanction")
    t.add_column("sanction")
    t.add_column("accounts", justify="right")
    t.add_column("sanctions issued", justify="right")
    for k, name in (("warn", "warned"), ("restrict", "restricted"),
                    ("suspend", "suspended"), ("shut_down", "shut down")):
        t.add_row(name, f"{rep.accounts_by_sanction[k]:,}", f"{rep.sanctions_issued[k]:,}")
    out.print(t)
    t = Table(title="Detection method (item decisions)")
    t.add_column("detector")
    t.add_column("decisions", justify="right")
    for d, n in rep.detection.most_common():
        t.add_row(d, f"{n:,}")
    for who, n in rep.decided_by.most_common():
        t.add_row(f"decided: {who}", f"{n:,}")
    out.print(t)
    if rep.webhooks:
        failed = rep.webhooks.get("failed", 0)
        line = ", ".join(f"{n:,} {s}" for s, n in sorted(rep.webhooks.items()))
        out.print(f"webhook deliveries: {line}" + (
            " [red](failed deliveries: `GET /v1/deliveries?status=failed`)[/red]"
            if failed else ""))
    if rep.clusters:
        t = Table(title=f"Coordinated-posting clusters ({rep.clusters:,}; "
                        f"{rep.cluster_accounts:,} accounts; largest first)")
        for col in ("cluster", "platform", "kind", "shared", "accounts", "items"):
            t.add_column(col, overflow="fold",
                         justify="right" if col in ("accounts", "items") else "left")
        for cl in rep.top_clusters:
            t.add_row(cl["id"], cl["platform"], cl["kind"], cl["key"].split(":", 1)[1],
                      f"{cl['accounts']:,}", f"{cl['items']:,}")
        out.print(t)


@app.command("decisions")
def decisions_cmd(
    db: DbOpt = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl.")] = "table",
) -> None:
    """List recorded decisions with their rule and evidence."""
    if fmt not in ("table", "jsonl"):
        raise _fail("--format must be table or jsonl")
    rows = decision_rows(_open_store(db), platform=platform, category=category,
                         account=account, action=action, limit=limit)
    if fmt == "jsonl":
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    t = Table()
    for col in ("at", "platform", "item", "account", "category", "action", "rule", "evidence"):
        t.add_column(col, overflow="fold")
    for r in rows:
        ev = "; ".join(e["text"] for e in r["evidence"][:3])
        t.add_row(r["at"][:19], r["platform"], r["item_id"] or "", r["account"],
                  r["category"] or "", r["action"], r["rule"] or "", ev)
    out.print(t)


@accounts_app.command("show")
def accounts_show(
    account: Annotated[str, typer.Argument(help="The account id.")],
    db: DbOpt = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    policy: PolicyOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """An account's standing: items, strikes (decayed), sanctions and whether in force."""
    pol = _load_policy(policy)
    now = datetime.now(UTC)
    summaries = [account_dict(a, now) for a in account_summary(
        _open_store(db), account, platform, now, pol.data.strikes.half_life_days)]
    if not summaries:
        raise _fail(f"no account {account!r}" + (f" on {platform}" if platform else ""), 1)
    if fmt == "json":
        out.print_json(json.dumps(summaries))
        return
    for s in summaries:
        out.print(f"[bold]{s['platform']}/{s['account']}[/bold]: {s['status']}, "
                  f"{s['items']} items {s['items_by_action']}, "
                  f"strike points now {s['strike_points_now']}")
        t = Table(title="Sanctions")
        for col in ("at", "sanction", "step", "expires", "in force", "reason"):
            t.add_column(col)
        for x in s["sanctions"]:
            t.add_row(x["at"][:19], x["kind"], str(x["step"]), (x["expires_at"] or "")[:19],
                      "yes" if x["in_force"] else "no", x["reason"])
        out.print(t)
        t = Table(title="Strikes")
        for col in ("at", "item", "category", "weight"):
            t.add_column(col)
        for x in s["strikes"]:
            t.add_row(x["at"][:19], x["item"], x["category"], f"{x['weight']:g}")
        out.print(t)


@policy_app.command("show")
def policy_show(
    file: Annotated[Path | None, typer.Argument(help="Policy file (default: bundled).")] = None,
) -> None:
    """Print a policy with its version."""
    pol = _load_policy(file)
    out.print(f"# {pol.name} version {pol.version} ({pol.source})", highlight=False)
    sys.stdout.write(pol.text if pol.text.endswith("\n") else pol.text + "\n")


@policy_app.command("validate")
def policy_validate(file: Annotated[Path, typer.Argument(help="Policy YAML file.")]) -> None:
    """Check a policy; on error, print each problem as file:line: key: why and exit 2."""
    pol = _load_policy(file)
    out.print(f"{file}: ok, version {pol.version}, {len(pol.categories)} categories, "
              f"{len(pol.data.ladder)} ladder steps")


@app.command("train")
def train_cmd(
    data: Annotated[Path | None, typer.Option(help="The labelled datasets folder "
                                                   "(default: $VIGIL_DATA or ../shared/data).")
                    ] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Artefact to write (default: the "
                                                     "package's models/text.npz).")] = None,
    report: Annotated[Path | None, typer.Option(help="Also write the cross-validated quality "
                                                     "report (markdown) here.")] = None,
    floor: Annotated[bool, typer.Option(help="Measure the floor model beside ours in the "
                                             "report.")] = True,
    stage2: Annotated[bool, typer.Option(help="Fit the sentence-embedding second stage "
                                              "(kept per model only where it helps).")] = True,
    cache: Annotated[Path, typer.Option(help="Embedding cache for re-runs.")] = Path(
        ".cache/vigil/embeddings.npz"),
) -> None:
    """Rebuild the shipped text classifiers from the licensed datasets and the seeds
    (fixed seeds: the same data gives the same artefact)."""
    from vigil.detectors.classifier import default_model_path
    from vigil.train import find_data_dir, save, train
    from vigil.train_report import write_report

    try:
        data_dir = find_data_dir(data)
        trained = train(data_dir, progress=lambda m: err.print(m, highlight=False),
                        stage2=stage2, cache=cache)
    except InputError as exc:
        raise _fail(str(exc)) from None
    path = output or default_model_path()
    version = save(trained, path)
    out.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, version {version}) in "
              f"{trained.seconds:.0f} s")
    if report is not None:
        write_report(trained, data_dir, report, floor=floor,
                     progress=lambda m: err.print(m, highlight=False))
        out.print(f"wrote {report}")


@app.command("eval")
def eval_cmd(
    dataset: Annotated[Path | None, typer.Argument(
        help="CSV or JSONL with text and category ('none' for clean rows); optional lang.")
    ] = None,
    policy: PolicyOpt = None,
    functional: Annotated[bool, typer.Option(help="Also run the functional test cases.")
                          ] = True,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Precision, recall, F1 and ROC-AUC per category on a labelled file, and accuracy on
    the functional test cases (negation, counter-speech, quoting, obfuscation...)."""
    from vigil.functional import flag_fn_from_policy, load_cases, run_cases
    from vigil.quality import eval_rows, read_labelled
    from vigil.quality import fmt as f3

    pol = _load_policy(policy)
    detectors = default_detectors()
    result: dict[str, Any] = {}
    if dataset is not None:
        try:
            rows = read_labelled(dataset)
        except InputError as exc:
            raise _fail(str(exc)) from None
        result["dataset"] = {"path": str(dataset), "rows": len(rows),
                             "categories": eval_rows(rows, detectors, pol)}
    if functional:
        rep = run_cases(load_cases(), flag_fn_from_policy(detectors, pol))
        result["functional"] = {
            "overall": rep.overall.accuracy,
            "by_kind": {k: v.accuracy for k, v in rep.by_kind.items()},
        }
        functional_table = rep.table()
    if fmt == "json":
        out.print_json(json.dumps(result))
        return
    if "dataset" in result:
        t = Table(title=f"{dataset} ({result['dataset']['rows']:,} rows)")
        for col in ("category", "n", "positives", "precision", "recall", "F1", "ROC-AUC"):
            t.add_column(col, justify="left" if col == "category" else "right")
        for cat, m in result["dataset"]["categories"].items():
            t.add_row(cat, f"{m['n']:,.0f}", f"{m['positives']:,.0f}", f3(m["precision"]),
                      f3(m["recall"]), f3(m["f1"]), f3(m["roc_auc"]))
        out.print(t)
    if functional:
        out.print("Functional tests (accuracy per kind)")
        out.print(functional_table, highlight=False)


@log_app.command("verify")
def log_verify(
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="Report at most this many problems.")] = 20,
) -> None:
    """Check the hash chain and every logged row; exit 1 naming the first bad entry."""
    res = _open_store(db).verify_log(limit=limit)
    if res.ok:
        out.print(f"audit log intact: {res.entries:,} entries, {res.rows:,} rows verified")
        return
    err.print(f"[red]audit log FAILED verification[/red]: first problem: {res.problems[0]}",
              highlight=False)
    for p in res.problems[1:]:
        err.print(f"  also: {p}", highlight=False)
    raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except VigilError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
