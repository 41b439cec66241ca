"""``vigil sweep``: a clean-up campaign over stored items or an export; ``vigil sweeps``:
list them."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from vigil._cli_common import DbOpt, PolicyOpt, _fail, _open_store, _progress, err, out
from vigil.errors import InputError, PolicyError, StoreError
from vigil.policy import load_policy
from vigil.sweeps import Frames, Part, Sweep, SweepConfig, SweepReport, dask_frames, local_frames

sweeps_app = typer.Typer(help="Sweeps (bulk re-audits) recorded in the store.",
                         no_args_is_help=True)


def _when(v: str | None, opt: str) -> datetime | None:
    if v is None:
        return None
    try:
        at = datetime.fromisoformat(v)
    except ValueError:
        raise _fail(f"{opt}: not an ISO date or time: {v!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def sweep_cmd(
    source: Annotated[str | None, typer.Argument(
        help="An export to sweep: a JSONL or Parquet file, or a folder of them (items in "
             "the `vigil audit` format; stored as they are audited). Without it, the "
             "store's items are swept.")] = None,
    db: DbOpt = None,
    policy: PolicyOpt = None,
    engine: Annotated[str, typer.Option(help="local (this process) or dask.")] = "local",
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:8786) of an existing cluster; default: a "
             "local cluster.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes of the local Dask "
                                                     "cluster.")] = 2,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Shadow mode: count what would change (and precision/recall "
                          "against reviewers' decisions); write nothing.")] = False,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Go on with the newest unfinished sweep (or --id), with its own "
                         "source, policy and scope.")] = False,
    sweep_id: Annotated[str | None, typer.Option("--id", help="The sweep to resume.")] = None,
    platform: Annotated[list[str] | None, typer.Option(
        "--platform", help="Only these platforms (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(help="Only items created at or after this "
                                                   "ISO date/time.")] = None,
    until: Annotated[str | None, typer.Option(help="Only items created before this.")] = None,
    category: Annotated[list[str] | None, typer.Option(
        "--category", help="Act on these categories only (repeatable).")] = None,
    default_platform: Annotated[str | None, typer.Option(
        "--default-platform", help="Platform (tenant) for export rows that name none.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Items per transaction.")] = 1000,
    part_rows: Annotated[int, typer.Option(min=1, help="Rows per partition.")] = 5000,
    rejects: Annotated[Path | None, typer.Option(
        help="Where malformed lines go (default: sweep-<id>.rejects.jsonl).")] = None,
    report_json: Annotated[Path | None, typer.Option(
        "--json", help="Also write the result report as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    at: Annotated[str | None, typer.Option(
        "--at", hidden=True, help="The time the sweep's decisions carry (default now).")
    ] = None,
) -> None:
    """Re-audit stored items, or an export, under a policy: a resumable clean-up campaign.

    Each batch commits with the sweep's checkpoint, so after an interruption (even kill
    -9) `vigil sweep --resume` finishes with exactly the state of an uninterrupted run. A
    sweep escalates: stronger verdicts become decisions, strikes and sanctions; weaker ones
    are counted as "relaxed" and change nothing.
    """
    if engine not in ("local", "dask"):
        raise _fail(f"--engine: expected local or dask, got {engine!r}")
    try:
        store = _open_store(db)
        if resume or sweep_id:
            sweep = Sweep.load(store, sweep_id)
            err.print(f"resuming sweep {sweep.id}: {sweep.cursor:,}/{sweep.total:,} rows done",
                      highlight=False)
        else:
            try:
                pol = load_policy(policy)
            except PolicyError as exc:
                for p in exc.problems:
                    err.print(f"[red]policy error:[/red] {p}", highlight=False)
                raise typer.Exit(2) from None
            sweep = Sweep.create(
                store, pol, source=source, platforms=platform or (),
                since=_when(since, "--since"), until=_when(until, "--until"),
                categories=category or (), dry_run=dry_run, batch_size=batch_size,
                part_rows=part_rows, default_platform=default_platform,
                now=_when(at, "--at"))
            err.print(f"sweep {sweep.id}: {sweep.total:,} rows in {len(sweep.parts):,} "
                      f"parts, policy {sweep.policy_version}"
                      + (" (dry run)" if sweep.dry_run else ""), highlight=False)
        report = _run(sweep, engine, scheduler, workers, rejects, quiet)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    _print_report(report)
    if report_json is not None:
        report_json.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))


def _run(sweep: Sweep, engine: str, scheduler: str | None, workers: int,
         rejects: Path | None, quiet: bool) -> SweepReport:
    def frames(parts: Sequence[Part], cfg: SweepConfig) -> Frames:
        if engine == "dask":
            return dask_frames(parts, cfg, scheduler=scheduler, workers=workers)
        return local_frames(parts, cfg)

    path = rejects or Path(f"sweep-{sweep.id}.rejects.jsonl")
    with ExitStack() as stack:
        fh: list[IO[str]] = []
        bad = [0]

        def reject(rec: dict[str, Any]) -> None:
            if not fh:
                fh.append(stack.enter_context(path.open("a", encoding="utf-8")))
            fh[0].write(json.dumps(rec, ensure_ascii=False) + "\n")
            bad[0] += 1
            err.print(f"[yellow]{rec['source']}:{rec['line']}:[/yellow] {rec['reason']}",
                      highlight=False)

        progress = None if quiet else stack.enter_context(_progress("sweeping"))
        task = progress.add_task("sweep", total=sweep.total, completed=sweep.cursor,
                                 rate="") if progress else None
        t0, c0 = time.perf_counter(), sweep.cursor

        def tick(done: int, total: int) -> None:
            if progress is not None and task is not None:
                rate = (done - c0) / max(time.perf_counter() - t0, 1e-6)
                progress.update(task, completed=done, rate=f"{rate:,.0f} rows/s")

        report = sweep.run(frames, progress=tick, rejects=reject, engine=engine)
        if bad[0]:
            err.print(f"[yellow]{bad[0]:,} malformed line(s) skipped; written to "
                      f"{path}[/yellow]", highlight=False)
    return report


def _print_report(r: SweepReport) -> None:
    t = r.tally
    out.print(f"sweep {r.id} {r.status}{' (dry run)' if r.dry_run else ''}: {r.headline()}",
              highlight=False)
    out.print(f"rows {t.rows:,}: {t.items:,} items, {t.rejects:,} malformed, {t.skipped:,} "
              f"out of scope or blank; {t.reaudited:,} stored items audited again",
              highlight=False)
    esc = ", ".join(f"{n:,} {k}" for k, n in t.escalated.most_common()) or "none"
    verb = "would change" if r.dry_run else "changed"
    out.print(f"{verb}: {sum(t.escalated.values()):,} ({esc}); unchanged {t.unchanged:,}; "
              f"weaker under this policy (left as they are) {t.relaxed:,}", highlight=False)
    out.print(f"decisions {t.decisions:,}, strikes {t.strikes:,}, sanctions "
              + (", ".join(f"{n:,} {k}" for k, n in t.sanctions.most_common()) or "none"),
              highlight=False)
    if t.removed:
        out.print("removed by category: " + ", ".join(
            f"{k} {n:,}" for k, n in t.removed.most_common()), highlight=False)
    p, rc, n = t.precision_recall()
    if n:
        out.print(f"against {n:,} reviewers' decisions: precision "
                  f"{'—' if p is None else f'{p:.3f}'}, recall "
                  f"{'—' if rc is None else f'{rc:.3f}'}", highlight=False)


@sweeps_app.command("list")
def sweeps_list_cmd(db: DbOpt = None,
                    limit: Annotated[int, typer.Option(min=1)] = 20) -> None:
    """Recent sweeps with their progress."""
    try:
        reports = Sweep.recent(_open_store(db), limit)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    table = Table("status", "mode", "rows done", "started", "changed", "removed",
                  "sanctions")
    table.add_column("id", no_wrap=True, min_width=16)
    for r in reports:
        t = r.tally
        table.add_row(r.status, "dry run" if r.dry_run else "enforce",
                      f"{r.cursor:,}/{r.total:,}", r.started_at.strftime("%Y-%m-%d %H:%M"),
                      f"{sum(t.escalated.values()):,}", f"{sum(t.removed.values()):,}",
                      f"{sum(t.sanctions.values()):,}", r.id)
    out.print(table)


@sweeps_app.command("show")
def sweeps_show_cmd(sweep_id: Annotated[str, typer.Argument(help="The sweep's id.")],
                    db: DbOpt = None) -> None:
    """One sweep's result report, as JSON."""
    try:
        r = Sweep.load(_open_store(db), sweep_id).report()
    except InputError as exc:
        raise _fail(str(exc)) from None
    out.print_json(json.dumps(r.to_dict(), ensure_ascii=False))
