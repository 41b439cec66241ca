"""A sweep's parts and the batch function: plan an input into parts, read a part into
a DataFrame (``load_part``), score it (``score_frame``: DataFrame in, DataFrame out), and
the engines that run these over many parts (in this process, or on Dask). Pure of the
store's writes: the driver in :mod:`vigil.sweeps` applies what comes out."""

from __future__ import annotations

import base64
import json
import math
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from vigil.audit import detect
from vigil.detectors import Detector, Evidence, Signal
from vigil.errors import InputError
from vigil.items import Item, Media
from vigil.readers import Reject, _format, _open_bin
from vigil.store import Store
from vigil.store.tables import items, sweep_items

if TYPE_CHECKING:
    import pandas as pd


PART_ROWS = 5_000
#: Columns of a part's frame (``load_part``); ``score_frame`` adds ``signals``.
COLUMNS = ("seq", "line", "source", "platform", "id", "account", "text", "created_at",
           "lang", "url", "reach", "kind", "reply_to", "media", "reject", "raw", "skip")


# ------------------------------------------------------------------ parts and config


@dataclass(frozen=True, slots=True)
class Part:
    """One partition of a sweep's input: rows ``first .. first + rows - 1`` of the global
    sequence. ``kind`` is ``store`` (snapshotted stored items), ``jsonl`` (physical lines
    from byte ``offset``, the first being line ``line``) or ``parquet`` (row groups
    ``offset .. offset + groups - 1``)."""

    index: int
    first: int
    rows: int
    kind: str
    path: str | None = None
    offset: int = 0
    line: int = 1
    groups: int = 0

    @property
    def end(self) -> int:
        return self.first + self.rows


@dataclass(frozen=True, slots=True)
class SweepConfig:
    """What a worker needs to load and score parts: where the store is (stored items,
    the fact-check base), the sweep, and the scope of an export."""

    db: str
    sweep_id: str
    claims: bool = True
    default_platform: str = "default"
    platforms: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    #: ``module:function`` returning the detectors (default: Vigil's default detectors)
    detectors: str | None = None


# ------------------------------------------------------------------ planning


def plan_files(source: str | Path, part_rows: int = PART_ROWS) -> list[Part]:
    """Parts for a JSONL/Parquet file or a folder of them (sorted by path, recursively)."""
    src = Path(source)
    if not src.exists():
        raise InputError("file not found", where=str(src))
    files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
    parts: list[Part] = []
    first = 0
    for f in files:
        try:
            fmt = _format(f, None)
        except InputError:
            if src.is_dir():
                continue  # a folder may hold other files (a README, _SUCCESS)
            raise
        if fmt == "csv":
            raise InputError("sweeps read JSONL or Parquet; convert CSV first", where=str(f))
        new = _plan_parquet(f, part_rows) if fmt == "parquet" else _plan_jsonl(f, part_rows)
        for kind, path, offset, line, groups, rows in new:
            parts.append(Part(len(parts), first, rows, kind, path, offset, line, groups))
            first += rows
    if not parts:
        raise InputError("no JSONL or Parquet files", where=str(src))
    return parts


def _plan_jsonl(path: Path, part_rows: int) -> list[tuple[str, str, int, int, int, int]]:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    out: list[tuple[str, str, int, int, int, int]] = []
    if gz:  # a gzip stream cannot be entered in the middle: one part
        n = 0
        with _open_bin(path) as fh:
            n = sum(1 for _ in fh)
        return [("jsonl", str(path), 0, 1, 0, n)] if n else []
    offset, line, start_off, start_line = 0, 0, 0, 1
    with open(path, "rb") as fh:
        for raw in fh:
            line += 1
            offset += len(raw)
            if line - start_line + 1 == part_rows:
                out.append(("jsonl", str(path), start_off, start_line, 0, part_rows))
                start_off, start_line = offset, line + 1
    if line >= start_line:
        out.append(("jsonl", str(path), start_off, start_line, 0, line - start_line + 1))
    return out


def _plan_parquet(path: Path, part_rows: int) -> list[tuple[str, str, int, int, int, int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(str(path)).metadata
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot read Parquet: {e}", where=str(path)) from e
    out: list[tuple[str, str, int, int, int, int]] = []
    g0, rows, line = 0, 0, 1
    for g in range(meta.num_row_groups):
        rows += meta.row_group(g).num_rows
        if rows >= part_rows or g == meta.num_row_groups - 1:
            out.append(("parquet", str(path), g0, line, g - g0 + 1, rows))
            g0, line, rows = g + 1, line + rows, 0
    return [p for p in out if p[5]]


# ------------------------------------------------------------------ frames


def _opt(v: Any) -> Any:
    """None for the missing values a DataFrame may hold (None, NaN, pd.NA)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return None if type(v).__name__ == "NAType" else v


def _media_json(media: Sequence[Media]) -> str | None:
    if not media:
        return None
    return json.dumps([
        {"kind": m.kind, **({"path": m.path} if m.path is not None else {}),
         **({"url": m.url} if m.url is not None else {}),
         **({"data": base64.b64encode(m.data).decode()} if m.data is not None else {})}
        for m in media])


def _media_from(v: Any) -> tuple[Media, ...]:
    v = _opt(v)
    if not v:
        return ()
    out = []
    for d in json.loads(v):
        data = base64.b64decode(d["data"]) if "data" in d else None
        out.append(Media(path=d.get("path"), url=d.get("url"), data=data,
                         kind=d.get("kind", "image")))
    return tuple(out)


def _row(seq: int, line: int, source: str, got: Item | Reject | None, skip: bool
         ) -> dict[str, Any]:
    if got is None:  # a blank line
        return {"seq": seq, "line": line, "source": source, "skip": True}
    if isinstance(got, Reject):
        return {"seq": seq, "line": line, "source": source, "reject": got.reason,
                "raw": got.raw, "skip": False}
    it = got
    return {"seq": seq, "line": line, "source": source, "platform": it.platform, "id": it.id,
            "account": it.account, "text": it.text,
            "created_at": it.created_at.isoformat() if it.created_at else None,
            "lang": it.lang, "url": it.url, "reach": it.reach, "kind": it.kind,
            "reply_to": it.reply_to, "media": _media_json(it.media), "reject": None,
            "raw": None, "skip": skip}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    cols = {c: pd.Series([r.get(c) for r in rows], dtype=object) for c in COLUMNS}
    cols["seq"] = pd.Series([r["seq"] for r in rows], dtype="int64")
    cols["line"] = pd.Series([r["line"] for r in rows], dtype="int64")
    cols["skip"] = pd.Series([bool(r.get("skip")) for r in rows], dtype=bool)
    return pd.DataFrame(cols)


def items_of(frame: pd.DataFrame) -> list[tuple[int, Item]]:
    """(seq, Item) of a frame's rows that are items in scope (not rejects, not skipped)."""
    out = []
    for r in frame.itertuples(index=False):
        if _opt(r.reject) is not None or bool(r.skip) or _opt(r.id) is None:
            continue
        created = _opt(r.created_at)
        out.append((int(r.seq), Item(
            id=r.id, account=r.account, text=r.text, platform=r.platform,
            created_at=datetime.fromisoformat(created) if created else None,
            lang=_opt(r.lang), url=_opt(r.url), reach=int(_opt(r.reach) or 0),
            media=_media_from(r.media), kind=_opt(r.kind) or "post",
            reply_to=_opt(r.reply_to))))
    return out


_STORES: dict[str, Store] = {}
_DETECTORS: dict[tuple[str, bool, str | None], list[Detector]] = {}
#: How many times this process loaded the detectors (a test checks: once per worker).
LOADS = Counter[str]()


def _store(url: str) -> Store:
    if url not in _STORES:
        _STORES[url] = Store(url)
    return _STORES[url]


def _in_scope(it: Item, cfg: SweepConfig) -> bool:
    if cfg.platforms and it.platform not in cfg.platforms:
        return False
    if cfg.since is None and cfg.until is None:
        return True
    if it.created_at is None:
        return False
    at = it.created_at if it.created_at.tzinfo else it.created_at.replace(tzinfo=UTC)
    if cfg.since is not None and at < datetime.fromisoformat(cfg.since):
        return False
    return not (cfg.until is not None and at >= datetime.fromisoformat(cfg.until))


def load_part(part: Part, config: SweepConfig) -> pd.DataFrame:
    """A part's rows as a DataFrame of :data:`COLUMNS`; malformed rows carry ``reject``
    (the reason, naming the field), rows outside the sweep's scope ``skip``."""
    rows: list[dict[str, Any]] = []
    if part.kind == "store":
        with _store(config.db).read() as conn:
            q = (select(sweep_items.c.seq, items).join(
                    items, (items.c.platform == sweep_items.c.platform)
                    & (items.c.external_id == sweep_items.c.external_id))
                 .where(sweep_items.c.sweep_id == config.sweep_id,
                        sweep_items.c.seq >= part.first, sweep_items.c.seq < part.end)
                 .order_by(sweep_items.c.seq))
            from vigil.store.relations import _item

            for r in conn.execute(q).mappings():
                rows.append(_row(int(r["seq"]), 0, "store", _item(r), False))
        return _frame(rows)
    assert part.path is not None
    source = Path(part.path).name
    if part.kind == "parquet":
        got = _parquet_rows(part, config.default_platform)
    else:
        got = _jsonl_rows(part, config.default_platform)
    for k, (line, it) in enumerate(got):
        skip = isinstance(it, Item) and not _in_scope(it, config)
        rows.append(_row(part.first + k, line, source, it, skip))
    return _frame(rows)


def _jsonl_rows(part: Part, platform: str) -> Iterator[tuple[int, Item | Reject | None]]:
    assert part.path is not None
    fh = _open_bin(Path(part.path))
    try:
        fh.seek(part.offset) if part.offset else None
        lines = (fh.readline() for _ in range(part.rows))
        from vigil.readers import _jsonl

        got = dict(_jsonl(lines, platform, True))
    finally:
        fh.close()
    for k in range(part.rows):  # every physical line keeps its sequence number
        n = k + 1
        yield part.line + k, _renumber(got.get(n), part.line + k)


def _renumber(got: Item | Reject | None, line: int) -> Item | Reject | None:
    if isinstance(got, Reject):
        return Reject(line, got.reason, got.raw)
    return got


def _parquet_rows(part: Part, platform: str) -> Iterator[tuple[int, Item | Reject | None]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from vigil.readers import FIELDS, _parquet

    assert part.path is not None
    pfile = pq.ParquetFile(part.path)
    cols = [c for c in FIELDS if c in pfile.schema_arrow.names]
    table = pfile.read_row_groups(range(part.offset, part.offset + part.groups), columns=cols)
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    for n, got in _parquet(pa.BufferReader(buf.getvalue()), platform, True, part.path):
        yield part.line + n - 1, _renumber(got, part.line + n - 1)


def _signal_dict(s: Signal) -> dict[str, Any]:
    d = s.to_dict()
    d["score"] = s.score  # exact: the driver decides on what the worker found
    return d


def _signal(d: dict[str, Any]) -> Signal:
    ev = tuple(Evidence(e["text"], e.get("start"), e.get("end"), e.get("note", ""),
                        e.get("ref")) for e in d.get("evidence", ()))
    return Signal(d["category"], float(d["score"]), d["detector"], d["version"], ev)


def detectors_for(config: SweepConfig) -> list[Detector]:
    """The sweep's detectors, loaded once per process: the defaults, and claim matching
    over the store's fact-check base when it has claims."""
    key = (config.db, config.claims, config.detectors)
    if key not in _DETECTORS:
        from vigil.detectors import default_detectors

        factory: Callable[[], list[Detector]] = default_detectors
        if config.detectors:
            import importlib

            mod, _, fn = config.detectors.partition(":")
            factory = getattr(importlib.import_module(mod), fn)
        from vigil.pipeline import store_detectors

        dets = store_detectors(_store(config.db), claims=config.claims, base=factory)
        # lazily loaded stages (the sentence encoder, the second-stage heads) load now, so
        # the first part a worker scores costs what the others do
        detect([Item(id="warm-en", account="w", text="win a free prize, click the link"),
                Item(id="warm-zh", account="w", text="加微信领取免费奖品")], dets)
        _DETECTORS[key] = dets
        LOADS[str(os.getpid())] += 1
    return _DETECTORS[key]


def warm(config: SweepConfig) -> int:
    """Load the detectors in this process (a Dask worker, a pool process) before parts
    arrive; returns how many there are."""
    return len(detectors_for(config))


def score_frame(frame: pd.DataFrame, config: SweepConfig) -> pd.DataFrame:
    """The batch function: a part's frame in, the same rows out with ``signals`` (JSON: the
    detectors' findings, context rules applied) for each item in scope. Pure."""
    found = items_of(frame)
    out = frame.copy()
    sig: list[str | None] = [None] * len(frame)
    if found:
        pos = {int(s): k for k, s in enumerate(frame["seq"])}
        lists = detect([it for _, it in found], detectors_for(config))
        for (seq, _), sigs in zip(found, lists, strict=True):
            sig[pos[seq]] = json.dumps([_signal_dict(s) for s in sigs], ensure_ascii=False)
    import pandas as pd

    out["signals"] = pd.Series(sig, dtype=object, index=frame.index)
    return out


def frame_meta() -> pd.DataFrame:
    """An empty scored frame: the shape Dask is told to expect."""
    meta = _frame([])
    meta["signals"] = meta["reject"]
    return meta


# ------------------------------------------------------------------ engines

Frames = Iterator["pd.DataFrame"]


def local_frames(parts: Sequence[Part], config: SweepConfig) -> Frames:
    """Score parts one after another in this process."""
    for p in parts:
        yield score_frame(load_part(p, config), config)


def dask_frames(parts: Sequence[Part], config: SweepConfig, *, scheduler: str | None = None,
                workers: int = 2, window: int | None = None) -> Frames:
    """Score parts on Dask (``map_partitions`` over the parts), yielding them in order.
    ``scheduler``: the address of an existing cluster; otherwise a local cluster of
    ``workers`` processes (one thread each). At most ``window`` parts are in flight, so
    memory stays bounded on any input size."""
    import dask
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    if not parts:
        return
    with dask.config.set({"dataframe.convert-string": False}):
        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
            client.run(warm, config)  # each worker loads the models once, up front
            window = window or 2 * n_workers
            ddf = dd.from_map(load_part, list(parts), config=config, meta=_frame([]),
                              enforce_metadata=False)
            scored = ddf.map_partitions(score_frame, config, meta=frame_meta(),
                                        enforce_metadata=False)
            pending = list(scored.to_delayed())
            inflight: list[Any] = []
            while pending or inflight:
                while pending and len(inflight) < window:
                    inflight.append(client.compute(pending.pop(0)))
                yield inflight.pop(0).result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
