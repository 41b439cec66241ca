"""What the ``vigil`` command's modules share: the consoles, option types and small helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from vigil.ingest import batched
from vigil.items import Item
from vigil.readers import Reject, read_items
from vigil.store import Store

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", envvar="VIGIL_DB", show_envvar=True,
                 help="Store URL (sqlite:///file.db or postgresql://...). "
                      "Default sqlite:///vigil.db."),
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option("--policy", "-p", help="Policy YAML file (default: the bundled policy)."),
]
PlatformOpt = Annotated[
    str | None, typer.Option("--platform", help="Platform (tenant) for rows that name none.")
]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="Input format: jsonl, csv or parquet "
                                              "(default: from the file suffix).")
]


def _fail(msg: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {msg}", highlight=False)
    return typer.Exit(code)


def _open_store(db: str | None) -> Store:
    store = Store(db)
    store.migrate()
    return store


def _score_batches(source: str | IO[str], fmt: str | None, size: int) -> Iterator[list[Item]]:
    def good() -> Iterator[Item]:
        for _, got in read_items(source, fmt=fmt, require_account=False):
            if isinstance(got, Reject):
                err.print(f"[yellow]line {got.line}:[/yellow] {got.reason}", highlight=False)
            else:
                yield got

    return batched(good(), size)


def _embed_progress(done: int, total: int) -> None:
    err.print(f"embedding claims: {done:,}/{total:,}", highlight=False)


def _progress(label: str = "{task.description}") -> Progress:
    """A progress bar on stderr with count, share, rate (a ``rate`` field), elapsed and ETA."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
