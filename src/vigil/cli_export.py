"""``vigil export``: DSA statements of reasons for the EU Transparency Database, the
period counts, and the transparency report (HTML with charts, and CSV). Also the period
counts that ``vigil report --period`` prints."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vigil._cli_common import DbOpt, _fail, _open_store, err, out
from vigil.dsa import ACCOUNT_TYPES, EEA, MAX_BATCH, SorSettings, export_sor
from vigil.errors import InputError, StoreError
from vigil.transparency import COLUMNS, PERIODS, count_decisions, period_counts, write_counts
from vigil.transparency_report import build_transparency, render_html, write_csv

export_app = typer.Typer(
    help="Exports for regulators: DSA statements of reasons, transparency counts.",
    no_args_is_help=True,
)

PlatformOnly = Annotated[str | None, typer.Option(help="Only this platform.")]
SinceOpt = Annotated[str | None, typer.Option(
    help="Decisions from this day on (YYYY-MM-DD, UTC).")]
UntilOpt = Annotated[str | None, typer.Option(
    help="Decisions up to and including this day (YYYY-MM-DD, UTC).")]
#: Show a progress bar from this many decisions on.
PROGRESS_FROM = 2000


def _range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    def day(value: str, name: str) -> datetime:
        try:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        except ValueError:
            raise _fail(f"{name}: give a date as YYYY-MM-DD, got {value!r}") from None

    lo = day(since, "--since") if since else None
    hi = day(until, "--until") + timedelta(days=1) if until else None
    if lo and hi and hi <= lo:
        raise _fail("--until is before --since")
    return lo, hi


def _settings(territory: str | None, terms_url: str | None, account_type: str | None,
              legal_ground: list[str] | None) -> SorSettings:
    scope: tuple[str, ...] = EEA
    if territory:
        scope = tuple(dict.fromkeys(c.strip().upper() for c in territory.split(",")
                                    if c.strip()))
        bad = [c for c in scope if c not in EEA]
        if bad or not scope:
            raise _fail(f"--territory: not EEA country codes: {', '.join(bad) or '(none)'}")
    if account_type is not None and account_type not in ACCOUNT_TYPES:
        raise _fail("--account-type must be business or private")
    grounds: dict[str, str] = {}
    for g in legal_ground or []:
        cat, sep, text = g.partition("=")
        if not sep or not cat.strip() or not text.strip():
            raise _fail(f"--legal-ground: give CATEGORY=LAW, got {g!r}")
        grounds[cat.strip()] = text.strip()
    return SorSettings(territorial_scope=scope, terms_url=terms_url,
                       account_type=account_type, legal_grounds=grounds)


@export_app.command("sor")
def export_sor_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="Folder for sor-00001.json, sor-00002.json... and "
                               "manifest.json.")],
    db: DbOpt = None,
    platform: PlatformOnly = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    batch: Annotated[int, typer.Option(
        min=1, max=MAX_BATCH, help="Statements per file (the bulk endpoint takes 100 at "
                                   "most).")] = MAX_BATCH,
    territory: Annotated[str | None, typer.Option(
        help="Where the decisions apply: comma-separated EEA country codes "
             "(default: every EEA country).")] = None,
    terms_url: Annotated[str | None, typer.Option(
        help="URL of the published terms the decisions enforce.")] = None,
    account_type: Annotated[str | None, typer.Option(
        help="business or private, when every account of the platform is of that kind "
             "(default: not stated).")] = None,
    legal_ground: Annotated[list[str] | None, typer.Option(
        help="CATEGORY=LAW: report this category's decisions as illegal content under "
             "LAW instead of as a breach of the terms (repeatable).")] = None,
    overwrite: Annotated[bool, typer.Option(
        help="Replace an earlier export in the folder.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Statements of reasons for the EU DSA Transparency Database.

    Every decision that restricts something (an item labelled, restricted or removed; an
    account restricted, suspended or shut down) becomes one statement, checked against the
    database's schema before anything is written. Each file holds at most 100 statements
    of one platform as {"statements": [...]}, the body of one bulk request
    (POST /api/v1/statements) with that platform's token; manifest.json says which
    platform each file is for. Statements carry no personal data.
    """
    lo, hi = _range(since, until)
    settings = _settings(territory, terms_url, account_type, legal_ground)
    try:
        store = _open_store(db)
        total = count_decisions(store, platform=platform, since=lo, until=hi)
        with ExitStack() as stack:
            progress = None
            if not quiet and total >= PROGRESS_FROM:
                progress = stack.enter_context(Progress(
                    TextColumn("[bold]reading decisions"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err))
            task = progress.add_task("sor", total=total) if progress else None

            def step(n: int) -> None:
                if progress is not None and task is not None:
                    progress.update(task, completed=n)

            res = export_sor(store, output, platform=platform, since=lo, until=hi,
                             batch=batch, settings=settings, overwrite=overwrite,
                             progress=step)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    plats = ", ".join(f"{p} {n:,}" for p, n in sorted(res.by_platform.items()))
    out.print(f"wrote {res.statements:,} statements in {len(res.files):,} files to {output}"
              + (f" ({plats})" if plats else ""), highlight=False)
    if res.skipped:
        left = ", ".join(f"{a} {n:,}" for a, n in res.skipped.most_common())
        out.print(f"left out {sum(res.skipped.values()):,} decisions that restrict nothing "
                  f"({left})", highlight=False)


@export_app.command("counts")
def export_counts_cmd(
    period: Annotated[str, typer.Option(help="day, week (ISO), month, quarter or year.")
                      ] = "month",
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="File to write (default: standard output).")] = None,
    db: DbOpt = None,
    platform: PlatformOnly = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Decisions counted per period by platform, kind (item or account), category, action,
    detection (automated or human), who decided (automated, partly, human) and source
    (own_initiative, user_report, trusted_flagger, appeal). The counts add up to every
    decision recorded in the range."""
    if period not in PERIODS:
        raise _fail(f"--period must be one of {', '.join(PERIODS)}")
    if fmt not in ("csv", "json"):
        raise _fail("--format must be csv or json")
    lo, hi = _range(since, until)
    try:
        rows = period_counts(_open_store(db), period, platform=platform, since=lo, until=hi)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    if output is None:
        write_counts(rows, sys.stdout, fmt, period)
        return
    with output.open("w", encoding="utf-8", newline="") as fh:
        write_counts(rows, fh, fmt, period)
    err.print(f"wrote {len(rows):,} rows ({sum(r['count'] for r in rows):,} decisions) to "
              f"{output}", highlight=False)


@export_app.command("report")
def export_report_cmd(
    output: Annotated[Path, typer.Option(
        "-o", "--output", help="The HTML page to write (self-contained: charts inline).")],
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Also write every figure as one tidy CSV here.")] = None,
    db: DbOpt = None,
    platform: Annotated[list[str] | None, typer.Option(
        help="Only this platform (repeatable; default: every platform).")] = None,
    since: Annotated[str | None, typer.Option(
        help="From this day on (YYYY-MM-DD, UTC).")] = None,
    until: Annotated[str | None, typer.Option(
        help="Up to and including this day (YYYY-MM-DD, UTC).")] = None,
    period: Annotated[str, typer.Option(
        help="Break the figures down per day, week (ISO), month, quarter or year.")
                      ] = "month",
) -> None:
    """The transparency report, in the sections of the EU DSA harmonised template:
    notices received and the actions taken on them, own-initiative moderation, the use of
    automated means and its accuracy, complaints (appeals) and their outcomes, account
    sanctions, median times. docs/dsa.md says how each figure is computed."""
    if period not in PERIODS:
        raise _fail(f"--period must be one of {', '.join(PERIODS)}")
    lo, hi = _range(since, until)
    try:
        rep = build_transparency(_open_store(db), platform or None, lo, hi, period)
    except InputError as exc:
        raise _fail(str(exc)) from None
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    output.write_text(render_html(rep), encoding="utf-8")
    out.print(f"wrote {output} ({', '.join(rep.platforms) or 'no platforms'}; "
              f"{len(rep.periods):,} periods)", highlight=False)
    if csv_file is not None:
        write_csv(rep, csv_file)
        out.print(f"wrote {csv_file} ({len(rep.figures):,} figures)", highlight=False)


def print_period_counts(db: str | None, platform: str | None, period: str, fmt: str) -> None:
    """``vigil report --period``: the period counts as a table, JSON or CSV."""
    if period not in PERIODS:
        raise _fail(f"--period must be one of {', '.join(PERIODS)}")
    if fmt not in ("table", "json", "csv"):
        raise _fail("--format must be table, json or csv")
    try:
        rows = period_counts(_open_store(db), period, platform=platform)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    if fmt != "table":
        write_counts(rows, sys.stdout, fmt, period)
        return
    t = Table(title=f"Decisions per {period}")
    for col in COLUMNS:
        t.add_column(col, justify="right" if col == "count" else "left")
    for r in rows:
        t.add_row(*(f"{r[c]:,}" if c == "count" else str(r[c] or "") for c in COLUMNS))
    out.print(t)
    out.print(f"{sum(r['count'] for r in rows):,} decisions", highlight=False)
