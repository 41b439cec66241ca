"""``vigil clusters`` (coordinated-posting clusters) and ``vigil index`` (the
near-duplicate index behind plagiarism and coordination)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from vigil._cli_common import DbOpt, PolicyOpt, _fail, _open_store, err, out
from vigil.errors import PolicyError, StoreError

clusters_app = typer.Typer(help="Coordinated-posting clusters: many accounts, one artefact.",
                           no_args_is_help=True)
index_app = typer.Typer(help="The near-duplicate index (plagiarism, coordinated text).",
                        no_args_is_help=True)

KINDS = ("text", "url", "phone", "handle", "email")


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


@clusters_app.command("list")
def clusters_list(
    db: DbOpt = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    kind: Annotated[str | None, typer.Option(
        help="Only this kind: text, url, phone, handle, email.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl.")] = "table",
) -> None:
    """Clusters found so far, largest first (accounts, items, the shared artefact, when)."""
    if fmt not in ("table", "jsonl"):
        raise _fail("--format must be table or jsonl")
    if kind is not None and kind not in KINDS:
        raise _fail(f"--kind: unknown {kind!r}; use {', '.join(KINDS)}")
    rows = _open_store(db).clusters(platform, kind, limit)
    if fmt == "jsonl":
        for r in rows:
            sys.stdout.write(json.dumps({k: _iso(v) for k, v in r.items()},
                                        ensure_ascii=False) + "\n")
        return
    t = Table()
    t.add_column("cluster", no_wrap=True)
    t.add_column("platform")
    t.add_column("shared", overflow="fold")
    t.add_column("accounts", justify="right")
    t.add_column("items", justify="right")
    t.add_column("window (UTC)")
    for r in rows:
        first, last = r["first_at"], r["last_at"]
        span = f"{first:%Y-%m-%d %H:%M}–" + (f"{last:%H:%M}" if last.date() == first.date()
                                             else f"{last:%Y-%m-%d %H:%M}")
        t.add_row(r["id"], r["platform"], r["key"], f"{r['accounts']:,}", f"{r['items']:,}",
                  span)
    out.print(t)
    out.print(f"{len(rows):,} clusters shown", highlight=False)


@clusters_app.command("show")
def clusters_show(
    cluster: Annotated[str, typer.Argument(help="Cluster id (from `vigil clusters list`).")],
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """One cluster: the shared artefact, its window, and every member item with its
    account, time and current action."""
    if fmt not in ("table", "json"):
        raise _fail("--format must be table or json")
    found = _open_store(db).cluster(cluster)
    if found is None:
        raise _fail(f"no cluster {cluster!r}; `vigil clusters list` shows the ids")
    head, members = found
    if fmt == "json":
        out.print_json(json.dumps({"cluster": {k: _iso(v) for k, v in head.items()},
                                   "members": [{k: _iso(v) for k, v in m.items()}
                                               for m in members]}, ensure_ascii=False))
        return
    out.print(f"[bold]cluster {head['id']}[/bold] ({head['platform']}): {head['kind']} "
              f"{head['key'].split(':', 1)[1]!r} shared by {head['accounts']:,} accounts in "
              f"{head['items']:,} items, {head['first_at']:%Y-%m-%d %H:%M} to "
              f"{head['last_at']:%Y-%m-%d %H:%M} (window {head['window_hours']:g} h, "
              f"policy {head['policy_version']})", highlight=False)
    t = Table()
    for col in ("item", "account", "at", "action", "text"):
        t.add_column(col, overflow="fold")
    for m in members:
        text = (m["text"] or "")
        t.add_row(m["item_id"], m["account"], f"{m['at']:%Y-%m-%d %H:%M}",
                  m["action"] or "", text[:80] + ("…" if len(text) > 80 else ""))
    out.print(t)


@index_app.command("rebuild")
def index_rebuild(
    db: DbOpt = None,
    policy: PolicyOpt = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Recompute every stored item's near-duplicate fingerprint from its text, oldest
    first (after an upgrade that changes the shingling, or to repair the index).
    Decisions, artefact history and clusters are records and are not touched."""
    from vigil.policy import load_policy
    from vigil.relations import rebuild

    try:
        pol = load_policy(policy)
        store = _open_store(db)
        plats = [platform] if platform else store.platforms()
        for plat in plats:
            with Progress(TextColumn("indexing {task.description}"), BarColumn(),
                          MofNCompleteColumn(), console=err, disable=quiet) as bar:
                task = bar.add_task(plat, total=None)

                def advance(done: int, bar: Progress = bar, task: Any = task) -> None:
                    bar.update(task, completed=done)

                n = rebuild(store, pol, plat, progress=advance)
            out.print(f"{plat}: {n:,} items indexed", highlight=False)
    except (PolicyError, StoreError) as exc:
        raise _fail(str(exc), 1) from None
