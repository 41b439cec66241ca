"""``vigil users``: the people who sign in to the console."""

from __future__ import annotations

import json
import secrets
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from vigil._cli_common import DbOpt, _fail, _open_store, err, out
from vigil.store import users as userstore

users_app = typer.Typer(help="Console users (reviewers, admins, auditors).",
                        no_args_is_help=True)


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Argument(help="The user name people sign in with.")],
    role: Annotated[str, typer.Option(
        help="moderator (works the review queues), admin (everything on its platforms) or "
             "auditor (read-only: aggregates and the audit log).")],
    platform: Annotated[list[str], typer.Option(
        help="A platform the user may see; repeat it for several, or give '*' for all.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin "
                                 "(else one is generated and printed once).")] = False,
    db: DbOpt = None,
) -> None:
    """Create a user. Without --password-stdin a password is generated and printed ONCE;
    only a salted scrypt hash of it is stored."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = secrets.token_urlsafe(15)
        generated = True
    store = _open_store(db)
    try:
        with store.begin() as conn:
            user = userstore.create(conn, name, role, tuple(platform), password,
                                    datetime.now(UTC))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    err.print(f"created {user.role} {user.username} for {', '.join(user.platforms)}",
              highlight=False)
    if generated:
        err.print("its password is shown once, store it now:", highlight=False)
        sys.stdout.write(password + "\n")


@users_app.command("list")
def users_list(
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl.")] = "table",
) -> None:
    """Every user (never the password): name, role, platforms, disabled, created."""
    if fmt not in ("table", "jsonl"):
        raise _fail("--format must be table or jsonl")
    with _open_store(db).read() as conn:
        rows = userstore.list_users(conn)
    if fmt == "jsonl":
        for u in rows:
            sys.stdout.write(json.dumps({
                "username": u.username, "role": u.role, "platforms": list(u.platforms),
                "disabled": u.disabled, "wellness": u.wellness,
                "created_at": u.created_at.isoformat()}) + "\n")
        return
    t = Table()
    for col in ("user", "role", "platforms", "disabled", "created"):
        t.add_column(col)
    for u in rows:
        t.add_row(u.username, u.role, ",".join(u.platforms), "yes" if u.disabled else "",
                  f"{u.created_at:%Y-%m-%d %H:%M}")
    out.print(t)


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user's name (`vigil users list`).")],
    db: DbOpt = None,
) -> None:
    """Disable a user: it cannot sign in, and its open sessions end at once (logged)."""
    with _open_store(db).begin() as conn:
        found = userstore.disable(conn, name, datetime.now(UTC))
    if not found:
        raise _fail(f"no user {name!r}")
    out.print(f"disabled {name}", highlight=False)
