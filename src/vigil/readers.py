"""Read items for ``vigil audit`` / ``vigil score`` from JSONL, CSV or Parquet.

A bad row never raises: it comes out as a :class:`Reject` carrying its line and a reason
naming the field at fault. Only an unreadable file (missing, unknown format, corrupt,
lacking a required column) raises :class:`~vigil.errors.InputError`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from vigil.errors import InputError
from vigil.items import Item, Media

__all__ = ["Reject", "count_lines", "decode_media", "read_items", "write_reject"]

KINDS = ("post", "article", "comment", "profile")
FIELDS = (
    "id",
    "text",
    "account",
    "platform",
    "created_at",
    "lang",
    "url",
    "reach",
    "kind",
    "reply_to",
    "media",
)
_FMTS = {
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json-lines": "jsonl",
    "csv": "csv",
    "parquet": "parquet",
    "pq": "parquet",
}
_BATCH = 4096


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that could not become an :class:`Item`."""

    line: int
    reason: str
    raw: str


Rows = Iterator[tuple[int, Item | Reject]]


class _Bad(Exception):
    def __init__(self, field: str, msg: str) -> None:
        super().__init__(f"field '{field}': {msg}")
        self.reason = msg


def _show(v: object) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def _tname(v: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(v), type(v).__name__)


# ------------------------------------------------------------------ fields


def _str(row: dict[str, Any], key: str, *, ints: bool = False) -> str | None:
    v = row.get(key)
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    if ints and isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    raise _Bad(key, f"expected a string{' or integer' if ints else ''}, got {_tname(v)}")


def _time(v: object, lenient: bool) -> datetime:
    if isinstance(v, str):
        s = v.strip()
        try:
            dt = datetime.fromisoformat(s)
            return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
        except ValueError:
            pass
        try:
            if not lenient:  # only CSV/Parquet text cells may hold epoch seconds
                raise ValueError
            v = float(s)
        except ValueError:
            raise _Bad("created_at", f"not an ISO 8601 time: {_show(s)}") from None
    if isinstance(v, datetime):
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day, tzinfo=UTC)
    if isinstance(v, int | float) and not isinstance(v, bool):
        try:
            return datetime.fromtimestamp(v, tz=UTC)
        except (OverflowError, OSError, ValueError):
            hint = " (milliseconds?)" if abs(v) > 1e11 else ""
            raise _Bad("created_at", f"epoch seconds out of range{hint}: {_show(v)}") from None
    raise _Bad("created_at", f"expected an ISO 8601 string or epoch seconds, got {_tname(v)}")


def _reach(v: object, lenient: bool) -> int:
    if isinstance(v, str) and lenient:
        try:
            v = int(v.strip())
        except ValueError:
            raise _Bad("reach", f"not an integer: {_show(v)}") from None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int) or isinstance(v, bool):
        raise _Bad("reach", f"expected a non-negative integer, got {_show(v)}")
    if v < 0:
        raise _Bad("reach", f"must be non-negative, got {v}")
    return v


def _decode(field: str, s: str) -> tuple[bytes, str | None]:
    """Base64 or a data URL -> (bytes, media kind implied by the MIME type)."""
    kind = None
    if s.startswith("data:"):
        head, sep, s = s.partition(",")
        if not sep:
            raise _Bad(field, "data URL has no ','")
        major = head[5:].split("/", 1)[0].lower()
        kind = major if major in ("image", "video", "audio") else None
        if not head.endswith(";base64"):
            return unquote_to_bytes(s), kind
    s = "".join(s.split())
    try:
        if "-" in s or "_" in s:
            return base64.urlsafe_b64decode(s), kind
        return base64.b64decode(s, validate=True), kind
    except (binascii.Error, ValueError):
        raise _Bad(field, "not valid base64") from None


def decode_media(s: str) -> bytes:
    """The bytes of base64 or a data URL; ``ValueError`` saying why when it is neither."""
    try:
        return _decode("data", s)[0]
    except _Bad as exc:
        raise ValueError(exc.reason) from None


def _media(v: object) -> tuple[Media, ...]:
    if v is None or v == "":
        return ()
    if not isinstance(v, list):
        raise _Bad("media", f"expected a list of objects, got {_tname(v)}")
    out = []
    for i, m in enumerate(v):
        f = f"media[{i}]"
        if not isinstance(m, dict):
            raise _Bad(f, f"expected an object, got {_tname(m)}")
        given = [k for k in ("path", "url", "data") if m.get(k) is not None]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise _Bad(f, f"needs exactly one of path, url, data (got {got})")
        key, val = given[0], m[given[0]]
        kind = m.get("kind")
        if kind is not None and not isinstance(kind, str):
            raise _Bad(f"{f}.kind", f"expected a string, got {_tname(kind)}")
        if key == "data" and isinstance(val, bytes):  # Parquet binary column
            out.append(Media(data=val, kind=kind or "image"))
        elif not isinstance(val, str):
            raise _Bad(f"{f}.{key}", f"expected a string, got {_tname(val)}")
        elif key == "data":
            data, implied = _decode(f"{f}.data", val)
            out.append(Media(data=data, kind=kind or implied or "image"))
        elif key == "path":
            out.append(Media(path=val, kind=kind or "image"))
        else:
            out.append(Media(url=val, kind=kind or "image"))
    return tuple(out)


def _item(row: dict[str, Any], platform: str, require_account: bool, lenient: bool) -> Item:
    """Build an Item from one decoded row; raises _Bad naming the field at fault."""
    id_ = _str(row, "id", ints=True)
    if id_ is None:
        raise _Bad("id", "missing" if row.get("id") is None else "empty")
    text = row.get("text")
    if text is None:
        raise _Bad("text", "missing")
    if not isinstance(text, str):
        raise _Bad("text", f"expected a string, got {_tname(text)}")
    account = _str(row, "account", ints=True)
    if account is None:
        if require_account:
            raise _Bad("account", "missing" if row.get("account") is None else "empty")
        account = ""
    media = _media(row.get("media"))
    if not text and not media:
        raise _Bad("text", "empty and no media attached")
    kind = _str(row, "kind") or "post"
    if kind not in KINDS:
        raise _Bad("kind", f"must be one of {', '.join(KINDS)}, got {_show(kind)}")
    created, reach = row.get("created_at"), row.get("reach")
    return Item(
        id=id_,
        account=account,
        text=text,
        platform=_str(row, "platform") or platform,
        created_at=None if created is None or created == "" else _time(created, lenient),
        lang=_str(row, "lang"),
        url=_str(row, "url"),
        reach=0 if reach is None or reach == "" else _reach(reach, lenient),
        media=media,
        kind=kind,
        reply_to=_str(row, "reply_to", ints=True),
    )


# ------------------------------------------------------------------ formats


def _jsonl(lines: Iterable[str | bytes], pf: str, req: bool) -> Rows:
    for n, line in enumerate(lines, 1):
        if n == 1:  # strip a UTF-8 BOM
            line = line[3:] if line[:3] == b"\xef\xbb\xbf" else line
            line = line[1:] if line[:1] == "\ufeff" else line
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            yield n, Reject(n, f"invalid JSON: {e.msg} (column {e.colno})", _raw(line))
            continue
        except UnicodeDecodeError:
            yield n, Reject(n, "not valid UTF-8", _raw(line))
            continue
        if not isinstance(obj, dict):
            yield n, Reject(n, f"not a JSON object (got {_tname(obj)})", _raw(line))
            continue
        try:
            yield n, _item(obj, pf, req, False)
        except _Bad as e:
            yield n, Reject(n, str(e), _raw(line))


def _raw(line: str | bytes) -> str:
    return line.decode("utf-8", "replace") if isinstance(line, bytes) else line


def _need(cols: Iterable[str], req: bool, where: str) -> None:
    missing = [repr(c) for c in ("id", "text", "account")[: 3 if req else 2] if c not in cols]
    if missing:
        raise InputError(f"no {', '.join(missing)} column", where=where)


def _csv(fh: IO[str], pf: str, req: bool, where: str) -> Rows:
    csv.field_size_limit(2**31 - 1)
    rd = csv.reader(fh)
    header = [h.strip() for h in next(rd, [])]
    if not header:
        return
    header[0] = header[0].removeprefix("\ufeff")
    _need(header, req, where)
    prev = rd.line_num
    for rec in rd:
        n, prev = prev + 1, rd.line_num  # a row starts on the line after the previous one
        if not rec or rec == [""]:
            continue
        if len(rec) != len(header):
            msg = f"row has {len(rec)} fields, header has {len(header)}"
            yield n, Reject(n, msg, json.dumps(rec, ensure_ascii=False))
            continue
        row: dict[str, Any] = dict(zip(header, rec, strict=True))
        try:
            if m := row.get("media"):
                try:
                    row["media"] = json.loads(m)
                except ValueError:
                    raise _Bad("media", f"not a JSON list: {_show(m)}") from None
            yield n, _item(row, pf, req, True)
        except _Bad as e:
            raw = json.dumps(dict(zip(header, rec, strict=True)), ensure_ascii=False)
            yield n, Reject(n, str(e), raw)


def _json_default(v: object) -> object:
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return v.isoformat() if isinstance(v, datetime | date) else str(v)


def _parquet(src: Any, pf: str, req: bool, where: str) -> Rows:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pfile = pq.ParquetFile(src)
        names = pfile.schema_arrow.names
        _need(names, req, where)
        n = 0
        cols = [c for c in FIELDS if c in names]
        for batch in pfile.iter_batches(batch_size=_BATCH, columns=cols):
            arrays = []
            for col in batch.columns:  # ns timestamps do not fit datetime: truncate to µs
                if pa.types.is_timestamp(col.type) and col.type.unit == "ns":
                    col = col.cast(pa.timestamp("us", tz=col.type.tz), safe=False)
                arrays.append(col)
            for row in pa.Table.from_arrays(arrays, names=batch.schema.names).to_pylist():
                n += 1
                try:
                    yield n, _item(row, pf, req, True)
                except _Bad as e:
                    raw = json.dumps(row, ensure_ascii=False, default=_json_default)
                    yield n, Reject(n, str(e), raw)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot read Parquet: {e}", where=where) from e


# ------------------------------------------------------------------ public API


def _format(source: str | Path, fmt: str | None) -> str:
    if fmt is not None or str(source) == "-":
        f = _FMTS.get((fmt or "jsonl").lower().lstrip("."))
        if f is None:
            raise InputError(f"unknown format {fmt!r}: use jsonl, csv or parquet")
        return f
    suffixes = [s.lower() for s in Path(source).suffixes[-2:]]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    f = _FMTS.get(suffixes[-1 - gz].lstrip(".")) if len(suffixes) > gz else None
    if f is None or (gz and f == "parquet"):
        raise InputError(
            "unknown format: expected .jsonl, .ndjson, .json-lines or .csv (optionally .gz), "
            "or .parquet",
            where=str(source),
        )
    return f


def _open_bin(path: Path) -> IO[bytes]:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")  # type: ignore[return-value]


def read_items(
    source: str | Path | IO[str],
    *,
    platform: str | None = None,
    fmt: str | None = None,
    require_account: bool = True,
) -> Rows:
    """Yield ``(line, Item | Reject)`` in file order.

    ``source`` is a path (format from the suffix, gzip detected by content), ``"-"`` for
    stdin, or an open text stream; ``fmt`` ("jsonl", "csv", "parquet") overrides the suffix.
    Raises InputError at once for an unknown format or a missing file, and while iterating
    if the file proves unreadable (corrupt gzip, not Parquet, no required column).
    """
    pf = platform or "default"
    if not isinstance(source, str | Path):
        f = _format("-", fmt)
        return _guard(_stream(source, f, pf, require_account), "<stream>")
    f, where = _format(source, fmt), "<stdin>" if str(source) == "-" else str(source)
    if where == "<stdin>":
        return _guard(_stream(sys.stdin.buffer, f, pf, require_account), where)
    if not Path(source).exists():
        raise InputError("file not found", where=where)
    if not Path(source).is_file():
        raise InputError("not a regular file", where=where)
    return _guard(_file(Path(source), f, pf, require_account, where), where)


def _stream(fh: IO[Any], f: str, pf: str, req: bool) -> Rows:
    if f == "parquet":
        import pyarrow as pa

        yield from _parquet(pa.BufferReader(fh.read()), pf, req, "<stream>")
    elif f == "csv" and isinstance(fh, io.BufferedIOBase | io.RawIOBase):
        text = io.TextIOWrapper(fh, "utf-8-sig", newline="")
        try:
            yield from _csv(text, pf, req, "<stream>")
        finally:
            text.detach()  # leave the caller's stream open
    elif f == "csv":
        yield from _csv(fh, pf, req, "<stream>")
    else:
        yield from _jsonl(fh, pf, req)


def _file(path: Path, f: str, pf: str, req: bool, where: str) -> Rows:
    if f == "parquet":
        yield from _parquet(str(path), pf, req, where)
        return
    with _open_bin(path) as fh:
        if f == "jsonl":
            yield from _jsonl(fh, pf, req)
            return
        with io.TextIOWrapper(fh, "utf-8-sig", newline="") as text:
            yield from _csv(text, pf, req, where)


def _guard(rows: Rows, where: str) -> Rows:
    try:
        yield from rows
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read: {e}", where=where) from e


def count_lines(source: str | Path | IO[str]) -> int | None:
    """Physical lines (Parquet: rows): the last line number read_items can yield.

    None for stdin, streams, or anything that cannot be counted.
    """
    if not isinstance(source, str | Path) or str(source) == "-":
        return None
    try:
        if _format(source, None) == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(str(source)).metadata.num_rows)
        n, last = 0, b"\n"
        with _open_bin(Path(source)) as fh:
            while chunk := fh.read(1 << 20):
                n, last = n + chunk.count(b"\n"), chunk[-1:]
        return n + (last != b"\n")
    except Exception:
        return None


def write_reject(fh: IO[str], reject: Reject, source_name: str) -> None:
    """Write one JSON line ``{"source", "line", "reason", "raw"}`` to a rejects file."""
    rec = {"source": source_name, "line": reject.line, "reason": reject.reason, "raw": reject.raw}
    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
