"""``vigil banks``: media hash banks (known images matched by PDQ and MD5)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vigil._cli_common import DbOpt, _fail, _open_store, err, out
from vigil.errors import InputError, StoreError
from vigil.items import Media

if TYPE_CHECKING:
    from vigil.store.banks import Banks

banks_app = typer.Typer(
    help="Media hash banks: lists of known image hashes (PDQ, MD5) with a category. "
         "Attached images that match are acted on under the policy.",
    no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="The bank's name.")]
FmtOpt = Annotated[str | None, typer.Option(
    "--format", help="te (ThreatExchange: one '<type> <signal>' or bare signal per line) "
                     "or csv (default: from the suffix; .csv is csv).")]
TypeOpt = Annotated[str | None, typer.Option(
    "--signal-type", help="pdq or md5: the type of bare signals (default: by length), or "
                          "the only type exported (written bare).")]


def _banks(db: str | None) -> Banks:
    from vigil.store.banks import Banks

    return Banks(_open_store(db))


@banks_app.command("create")
def banks_create(
    name: NameArg,
    category: Annotated[str, typer.Option(
        help="sexual, child_safety, violence, hate, harassment or spam.")],
    threshold: Annotated[int, typer.Option(
        help="PDQ match distance (Hamming, of 256 bits; PDQ's reference is 31).")] = 31,
    allow: Annotated[bool, typer.Option(
        "--allow", help="An allow bank: known-benign images whose matches suppress "
                        "others (child-safety matches still go to urgent review).")] = False,
    notes: Annotated[str, typer.Option(help="Where the list comes from, its terms.")] = "",
    db: DbOpt = None,
) -> None:
    """Create an empty bank (a logged action)."""
    try:
        b = _banks(db).create(name, category, threshold=threshold, allow=allow, notes=notes)
    except (InputError, StoreError) as exc:
        raise _fail(str(exc)) from None
    kind = "allow bank" if b.allow else "bank"
    out.print(f"created {kind} {b.name}: {b.category}, PDQ distance <= {b.threshold}",
              highlight=False)


@banks_app.command("import")
def banks_import(
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="A ThreatExchange signal file or CSV.")],
    fmt: FmtOpt = None,
    signal_type: TypeOpt = None,
    db: DbOpt = None,
) -> None:
    """Add a file's hashes to a bank; hashes already in it are left alone, so importing
    the same file twice changes nothing. A bad line stops the import before anything is
    written, naming the line."""
    from vigil.media.formats import read_file

    try:
        signals = read_file(file, fmt=fmt, signal_type=signal_type)
    except InputError as exc:
        raise _fail(str(exc)) from None
    with err.status(f"importing {len(signals):,} hashes into {name}..."):
        try:
            t = _banks(db).add(name, signals)
        except (InputError, StoreError) as exc:
            raise _fail(str(exc)) from None
    out.print(f"{file}: {len(signals):,} hashes read; {t.added:,} added, "
              f"{t.restored:,} restored, {t.present:,} already in {name}"
              + (f", {t.duplicates:,} repeated in the file" if t.duplicates else ""),
              highlight=False)


@banks_app.command("add")
def banks_add(
    name: NameArg,
    images: Annotated[list[Path], typer.Argument(help="Image files to bank.")],
    note: Annotated[str, typer.Option(help="A note kept with each hash.")] = "",
    db: DbOpt = None,
) -> None:
    """Hash images (MD5 and PDQ) and add the hashes to a bank. Images whose PDQ quality is
    too low are banked by MD5 only."""
    from vigil.media.hashing import MediaError, hash_media

    signals: list[tuple[str, str, str]] = []
    for p in images:
        try:
            h = hash_media(Media(path=str(p)), dihedral=False)
        except MediaError as exc:
            raise _fail(f"{p}: {exc.reason}") from None
        signals.append(("md5", h.md5, note or p.name))
        if h.pdq is not None:
            signals.append(("pdq", h.pdq, note or p.name))
        else:
            err.print(f"{p}: PDQ quality {h.quality} is below 50, banked by MD5 only",
                      highlight=False)
    try:
        t = _banks(db).add(name, signals)
    except (InputError, StoreError) as exc:
        raise _fail(str(exc)) from None
    out.print(f"{len(images):,} images: {t.added:,} hashes added, {t.present:,} already in "
              f"{name}", highlight=False)


@banks_app.command("remove")
def banks_remove(
    name: NameArg,
    file: Annotated[Path, typer.Argument(help="The hashes to take out (te or csv).")],
    fmt: FmtOpt = None,
    signal_type: TypeOpt = None,
    db: DbOpt = None,
) -> None:
    """Take hashes out of a bank (logged; the record of earlier matches stays)."""
    from vigil.media.formats import read_file

    try:
        signals = read_file(file, fmt=fmt, signal_type=signal_type)
        n = _banks(db).remove(name, [(st, sig) for st, sig, _ in signals])
    except (InputError, StoreError) as exc:
        raise _fail(str(exc)) from None
    out.print(f"{n:,} of {len(signals):,} hashes removed from {name}", highlight=False)


@banks_app.command("export")
def banks_export(
    name: NameArg,
    fmt: Annotated[str, typer.Option("--format", help="te or csv.")] = "te",
    signal_type: TypeOpt = None,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Write here (default stdout).")] = None,
    db: DbOpt = None,
) -> None:
    """Write a bank's hashes, sorted, in the ThreatExchange format ('pdq <64 hex>',
    'md5 <32 hex>'; bare signals with --signal-type) or CSV."""
    from vigil.media.formats import write_csv, write_te

    if fmt not in ("te", "csv"):
        raise _fail("--format must be te or csv")
    if signal_type not in (None, "pdq", "md5"):
        raise _fail("--signal-type must be pdq or md5")
    banks = _banks(db)
    if banks.get(name) is None:
        raise _fail(f"no bank named {name!r}")
    sink: IO[str] = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        write = write_csv if fmt == "csv" else write_te
        n = write(banks.signals(name), sink, signal_type=signal_type)
    finally:
        if output:
            sink.close()
    if output:
        err.print(f"{n:,} hashes written to {output}", highlight=False)


@banks_app.command("list")
def banks_list(
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="table or jsonl.")] = "table",
) -> None:
    """Every bank: category, match distance, allow or not, enabled, hashes by type."""
    if fmt not in ("table", "jsonl"):
        raise _fail("--format must be table or jsonl")
    rows = _banks(db).all()
    if fmt == "jsonl":
        for b in rows:
            sys.stdout.write(json.dumps(b.to_dict()) + "\n")
        return
    t = Table()
    for col in ("bank", "category", "distance", "allow", "enabled", "pdq", "md5", "updated",
                "notes"):
        t.add_column(col)
    for b in rows:
        c = dict(b.counts)
        t.add_row(b.name, b.category, str(b.threshold), "allow" if b.allow else "",
                  "yes" if b.enabled else "no", f"{c.get('pdq', 0):,}", f"{c.get('md5', 0):,}",
                  f"{b.updated_at:%Y-%m-%d %H:%M}", b.notes)
    out.print(t)


def _set(name: str, db: str | None, **values: object) -> None:
    try:
        b = _banks(db).update(name, **values)  # type: ignore[arg-type]
    except (InputError, StoreError) as exc:
        raise _fail(str(exc)) from None
    out.print(f"{b.name}: {'enabled' if b.enabled else 'disabled'}, PDQ distance <= "
              f"{b.threshold}", highlight=False)


@banks_app.command("enable")
def banks_enable(name: NameArg, db: DbOpt = None) -> None:
    """Match against this bank again."""
    _set(name, db, enabled=True)


@banks_app.command("disable")
def banks_disable(name: NameArg, db: DbOpt = None) -> None:
    """Stop matching against this bank (its hashes are kept)."""
    _set(name, db, enabled=False)


@banks_app.command("set")
def banks_set(
    name: NameArg,
    threshold: Annotated[int | None, typer.Option(help="New PDQ match distance.")] = None,
    notes: Annotated[str | None, typer.Option(help="New notes.")] = None,
    db: DbOpt = None,
) -> None:
    """Change a bank's match distance or notes."""
    if threshold is None and notes is None:
        raise _fail("nothing to change: give --threshold or --notes")
    _set(name, db, threshold=threshold, notes=notes)


@banks_app.command("hash")
def banks_hash(
    images: Annotated[list[Path], typer.Argument(help="Image files.")],
) -> None:
    """Print each image's MD5 and PDQ hash (ThreatExchange's hex) and PDQ quality, one
    JSON line per image."""
    from vigil.media.hashing import MediaError, hash_media

    bad = 0
    for p in images:
        try:
            h = hash_media(Media(path=str(p)), dihedral=False)
        except MediaError as exc:
            err.print(f"{p}: {exc.reason}", highlight=False)
            bad += 1
            continue
        sys.stdout.write(json.dumps({"path": str(p), "md5": h.md5, "pdq": h.pdq,
                                     "quality": h.quality, "width": h.width,
                                     "height": h.height}) + "\n")
    if bad:
        raise typer.Exit(1)


@banks_app.command("match")
def banks_match(
    images: Annotated[list[Path], typer.Argument(help="Image files.")],
    db: DbOpt = None,
) -> None:
    """Which enabled banks each image matches (every orientation), one JSON line per
    image: bank, category, matched hash, distance."""
    from vigil.media.detector import load_media_detector
    from vigil.media.hashing import VIEWS, MediaError, hash_media

    det = load_media_detector(_open_store(db))
    for p in images:
        try:
            h = hash_media(Media(path=str(p)))
        except MediaError as exc:
            raise _fail(f"{p}: {exc.reason}") from None
        found = det.index.match([h])[0]
        sys.stdout.write(json.dumps({"path": str(p), "md5": h.md5, "pdq": h.pdq,
                                     "quality": h.quality, "matches": [
            {"bank": m.bank, "category": m.category, "allow": m.allow,
             "signal_type": m.signal_type, "signal": m.signal, "distance": m.distance,
             "view": VIEWS[m.orientation]} for m in found]}) + "\n")
