"""Hash-list files: the ThreatExchange signal file and CSV.

ThreatExchange's file format (python-threatexchange's local-file exchange, HMA) is one
signal per line, either ``<signal_type> <signal>`` or the bare signal when the file has
one type. PDQ is written as 64 lower-case hex digits. Signal types read: ``pdq``, and
``md5`` (``photo_md5`` and ``video_md5``, ThreatExchange's names, are read as ``md5``).
Bare signals are typed by their length (64 hex digits: PDQ, 32: MD5) unless a type is
given. Blank lines and lines starting with ``#`` are skipped.

CSV has a header with ``signal`` (or ``hash``) and optionally ``signal_type`` (or
``type``) and ``note``; a ``pdq`` or ``md5`` column works too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from vigil.errors import InputError
from vigil.media.hashing import MD5_RE, PDQ_RE

TYPE_ALIASES = {"pdq": "pdq", "md5": "md5", "photo_md5": "md5", "video_md5": "md5",
                "hash_pdq": "pdq", "hash_md5": "md5"}
FORMATS = ("te", "csv")


def _signal(st: str | None, raw: str, where: str, line: int) -> tuple[str, str]:
    sig = raw.strip().lower()
    if st is None:
        st = "pdq" if len(sig) == 64 else "md5" if len(sig) == 32 else None
        if st is None:
            raise InputError(f"cannot tell the signal type of {raw.strip()[:80]!r} "
                             "(PDQ is 64 hex digits, MD5 32); write '<type> <signal>'",
                             where=where, line=line)
    else:
        key = st.strip().lower()
        if key not in TYPE_ALIASES:
            raise InputError(f"unknown signal type {st!r}; one of pdq, md5 "
                             "(photo_md5, video_md5)", where=where, line=line)
        st = TYPE_ALIASES[key]
    pattern = PDQ_RE if st == "pdq" else MD5_RE
    if not pattern.match(sig):
        need = "64" if st == "pdq" else "32"
        raise InputError(f"not a {st} hash ({need} hex digits): {raw.strip()[:80]!r}",
                         where=where, line=line)
    return st, sig


def read_te(lines: Iterable[str], *, signal_type: str | None = None, where: str = ""
            ) -> Iterator[tuple[str, str, str]]:
    """(type, signal, note) from a ThreatExchange signal file's lines."""
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if signal_type is None and " " in line.replace("\t", " "):
            st, _, sig = line.replace("\t", " ").partition(" ")
            yield (*_signal(st, sig, where, n), "")
        else:
            yield (*_signal(signal_type, line, where, n), "")


def read_csv(fh: IO[str], *, signal_type: str | None = None, where: str = ""
             ) -> Iterator[tuple[str, str, str]]:
    """(type, signal, note) from a CSV file with a header."""
    reader = csv.DictReader(fh)
    cols = {c.strip().lower(): c for c in reader.fieldnames or []}
    sig_col = cols.get("signal") or cols.get("hash")
    type_col = cols.get("signal_type") or cols.get("type")
    note_col = cols.get("note") or cols.get("notes")
    typed = [t for t in ("pdq", "md5") if t in cols]
    if sig_col is None and not typed:
        raise InputError("the CSV header needs a 'signal' (or 'hash', 'pdq', 'md5') column",
                         where=where, line=1)
    for row in reader:
        n = reader.line_num
        note = (row.get(note_col) or "").strip() if note_col else ""
        if sig_col is not None:
            st = (row.get(type_col) or "").strip() or signal_type if type_col else signal_type
            val = row.get(sig_col) or ""
            if not val.strip():
                raise InputError("empty signal", where=where, line=n)
            yield (*_signal(st, val, where, n), note)
        for t in typed:
            val = row.get(cols[t]) or ""
            if val.strip():
                yield (*_signal(t, val, where, n), note)


def guess_format(path: Path) -> str:
    return "csv" if path.suffix.lower() == ".csv" else "te"


def read_file(path: Path, *, fmt: str | None = None, signal_type: str | None = None
              ) -> list[tuple[str, str, str]]:
    """Every (type, signal, note) of a hash-list file; the first bad line stops it with
    an :class:`InputError` naming the file and line."""
    fmt = fmt or guess_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", where=str(path)) from None
    if fmt == "csv":
        return list(read_csv(io.StringIO(text, newline=""), signal_type=signal_type,
                             where=str(path)))
    return list(read_te(text.splitlines(), signal_type=signal_type, where=str(path)))


def write_te(signals: Iterable[tuple[str, str, str]], out: IO[str], *,
             signal_type: str | None = None) -> int:
    """ThreatExchange lines: ``<type> <signal>``, or bare signals of ``signal_type``."""
    n = 0
    for st, sig, _ in signals:
        if signal_type is None:
            out.write(f"{st} {sig}\n")
        elif st == signal_type:
            out.write(f"{sig}\n")
        else:
            continue
        n += 1
    return n


def write_csv(signals: Iterable[tuple[str, str, str]], out: IO[str], *,
              signal_type: str | None = None) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["signal_type", "signal", "note"])
    n = 0
    for st, sig, note in signals:
        if signal_type is None or st == signal_type:
            w.writerow([st, sig, note])
            n += 1
    return n


__all__ = ["FORMATS", "guess_format", "read_csv", "read_file", "read_te", "write_csv",
           "write_te"]
