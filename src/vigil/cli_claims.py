"""``vigil claims``: the fact-check base (import, list, remove) and claim matching."""

from __future__ import annotations

import json
import sys
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.table import Table

from vigil._cli_common import (
    DbOpt,
    FormatOpt,
    _embed_progress,
    _fail,
    _open_store,
    _score_batches,
    out,
)
from vigil.errors import InputError

claims_app = typer.Typer(help="The fact-check base: claims rated by fact-checkers.",
                         no_args_is_help=True)


@claims_app.command("import")
def claims_import(
    files: Annotated[list[Path], typer.Argument(
        help="ClaimReview JSON-LD (.json/.jsonld, an object, a list or an @graph), an HTML "
             "page with JSON-LD blocks, Google Fact Check Tools JSON, JSON Lines of either, "
             "or CSV (id or url, text, rating, publisher, date, lang, title).")],
    db: DbOpt = None,
    fmt: FormatOpt = None,
    embed: Annotated[bool, typer.Option(help="Compute the new claims' embeddings now "
                                             "(otherwise on first use).")] = True,
) -> None:
    """Add fact-checked claims to the base; re-importing the same file changes nothing,
    an updated rating or text updates the claim (a logged action)."""
    from vigil.claims.base import read_factchecks

    store = _open_store(db)
    for f in files:
        try:
            facts = list(read_factchecks(f, fmt))
        except InputError as exc:
            raise _fail(f"{f}: {exc}") from None
        t = store.import_claims(facts)
        by = ", ".join(f"{n:,} {r}" for r, n in Counter(fc.rating for fc in facts).most_common())
        out.print(f"{f}: {len(facts):,} claims read ({by}); "
                  f"{t.new:,} new, {t.updated:,} updated, {t.unchanged:,} unchanged"
                  + (f", {t.duplicates:,} repeated ids (last kept)" if t.duplicates else ""),
                  highlight=False)
    if embed:
        from vigil.claims.detector import sync_vectors

        n = sync_vectors(store, progress=_embed_progress)
        if n:
            out.print(f"embedded {n:,} claims")


@claims_app.command("match")
def claims_match(
    file: Annotated[str, typer.Argument(help="JSONL/CSV/Parquet with id and text; '-' for "
                                             "stdin.")],
    db: DbOpt = None,
    top: Annotated[int, typer.Option("--top", "-k", min=1, max=100,
                                     help="Matches per line, best first.")] = 5,
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="Write JSONL here (default stdout).")] = None,
    fmt: FormatOpt = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 512,
) -> None:
    """Rank the base's claims (every rating) for each input line: one JSONL line
    {"id", "matches": [{"claim_id", "score", "rating"}...]} per input line, best first."""
    from vigil.claims.detector import load_detector

    store = _open_store(db)
    det = load_detector(store, progress=_embed_progress)
    if det is None:
        raise _fail("the fact-check base is empty: run `vigil claims import FILE` first", 1)
    source: str | IO[str] = sys.stdin if file == "-" else file
    with ExitStack() as stack:
        sink = stack.enter_context(output.open("w", encoding="utf-8")) if output else sys.stdout
        try:
            for batch in _score_batches(source, fmt, batch_size):
                ranked = det.index.search_many([it.text for it in batch], top=top)
                for item, matches in zip(batch, ranked, strict=True):
                    line = {"id": item.id, "matches": [
                        {"claim_id": m.claim_id, "score": round(m.score, 4),
                         "rating": det.facts[m.claim_id].rating} for m in matches]}
                    sink.write(json.dumps(line, ensure_ascii=False) + "\n")
        except InputError as exc:
            raise _fail(str(exc)) from None


@claims_app.command("list")
def claims_list(
    db: DbOpt = None,
    rating: Annotated[list[str] | None, typer.Option(
        help="Only these ratings (false, misleading, mixed, true, unrated); repeatable.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Only this language (en, zh, other).")
                    ] = None,
    search: Annotated[str | None, typer.Option(help="Only claims whose text contains this.")
                      ] = None,
    removed: Annotated[bool, typer.Option(help="Include removed claims.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl.")] = "table",
) -> None:
    """List the claims in the base."""
    from vigil.claims.base import RATINGS

    if fmt not in ("table", "jsonl"):
        raise _fail("--format must be table or jsonl")
    bad = sorted(set(rating or ()) - set(RATINGS))
    if bad:
        raise _fail(f"--rating: unknown {', '.join(bad)}; use {', '.join(RATINGS)}")
    rows = _open_store(db).claims(rating=rating or (), lang=lang, search=search,
                                  removed=removed, limit=limit)
    if fmt == "jsonl":
        for fc, gone in rows:
            d = asdict(fc)
            d["reviewed"] = fc.reviewed.isoformat() if fc.reviewed else None
            d["removed_at"] = gone.isoformat() if gone else None
            sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
        return
    t = Table()
    for col in ("id", "rating", "publisher", "reviewed", "lang", "claim"):
        t.add_column(col, overflow="fold")
    for fc, gone in rows:
        t.add_row(fc.claim_id, fc.rating + (" (removed)" if gone else ""), fc.publisher,
                  fc.reviewed.isoformat() if fc.reviewed else "", fc.lang, fc.text)
    out.print(t)
    out.print(f"{len(rows):,} claims shown", highlight=False)


@claims_app.command("remove")
def claims_remove(
    ids: Annotated[list[str], typer.Argument(help="Claim ids (as given at import, or the "
                                                  "review URL).")],
    db: DbOpt = None,
) -> None:
    """Remove claims from matching (logged; the record is kept). Exit 1 if an id is not
    an active claim."""
    gone = _open_store(db).remove_claims(ids)
    for cid in gone:
        out.print(f"removed {cid}", highlight=False)
    missing = [c for c in ids if c not in set(gone)]
    if missing:
        raise _fail(f"not an active claim: {', '.join(missing)}", 1)
