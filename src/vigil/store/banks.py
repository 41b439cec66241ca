"""Media hash banks in the store: create, change, import (idempotent), export.

Banks and their hashes are logged like every other record: a bank row at each change
(its ``generation`` goes up), a signal row when it is added or removed (removal keeps the
row with ``removed_at``). ``Banks(store)`` is the entry point.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, and_, func, select, update

from vigil.errors import InputError, StoreError
from vigil.store import auditlog
from vigil.store.tables import bank_signals, media_banks

if TYPE_CHECKING:
    from vigil.store import Store

CHUNK = 500
#: Categories a bank may hold (the harms known media are shared for).
BANK_CATEGORIES = ("sexual", "child_safety", "violence", "hate", "harassment", "spam")
SIGNAL_TYPES = ("pdq", "md5")


@dataclass(frozen=True, slots=True)
class Bank:
    """A named hash list. ``threshold`` is the PDQ match distance (of 256 bits);
    ``allow`` banks hold known-benign images whose matches suppress others."""

    name: str
    category: str
    threshold: int
    allow: bool
    enabled: bool
    notes: str
    generation: int
    created_at: datetime
    updated_at: datetime
    counts: tuple[tuple[str, int], ...] = ()

    @property
    def size(self) -> int:
        return sum(n for _, n in self.counts)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "category": self.category, "threshold": self.threshold,
                "allow": self.allow, "enabled": self.enabled, "notes": self.notes,
                "generation": self.generation, "signals": dict(self.counts),
                "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


@dataclass(slots=True)
class BankImport:
    """What an import did: ``added`` new hashes, ``restored`` removed ones brought back,
    ``present`` already in the bank, ``duplicates`` repeated within the input."""

    added: int = 0
    restored: int = 0
    present: int = 0
    duplicates: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.restored


def _utc(v: datetime | None) -> datetime:
    out = auditlog.utc(v)
    assert out is not None
    return out


def _bank(r: Any, counts: dict[str, int] | None = None) -> Bank:
    return Bank(r["name"], r["category"], int(r["threshold"]), bool(r["allow"]),
                bool(r["enabled"]), r["notes"], int(r["generation"]), _utc(r["created_at"]),
                _utc(r["updated_at"]), tuple(sorted((counts or {}).items())))


def _chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def check_name(name: str) -> str:
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise InputError("a bank name is 1-64 letters, digits, '-', '_' or '.'",
                         where=f"bank {name!r}")
    return name


class Banks:
    """The store's media hash banks."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- banks --------------------------------------------------------------------------

    def create(self, name: str, category: str, *, threshold: int = 31, allow: bool = False,
               notes: str = "", now: datetime | None = None) -> Bank:
        check_name(name)
        if category not in BANK_CATEGORIES:
            raise InputError(f"unknown category {category!r}; one of "
                             f"{', '.join(BANK_CATEGORIES)}", where="category")
        _check_threshold(threshold)
        now = now or datetime.now(UTC)
        row = {"name": name, "category": category, "threshold": threshold, "allow": allow,
               "enabled": True, "notes": notes, "generation": 1, "created_at": now,
               "updated_at": now}
        with self.store.begin() as conn:
            if conn.execute(select(media_banks.c.name).where(media_banks.c.name == name)
                            ).first() is not None:
                raise StoreError(f"bank {name!r} already exists")
            conn.execute(media_banks.insert().values(row))
            auditlog.append(conn, [("bank", row)], now)
        return _bank(row)

    def get(self, name: str) -> Bank | None:
        with self.store.read() as conn:
            r = conn.execute(select(media_banks).where(media_banks.c.name == name)
                             ).mappings().first()
            if r is None:
                return None
            return _bank(r, _counts(conn, [name]).get(name))

    def all(self) -> list[Bank]:
        with self.store.read() as conn:
            rows = list(conn.execute(select(media_banks).order_by(media_banks.c.name))
                        .mappings())
            counts = _counts(conn, [r["name"] for r in rows])
            return [_bank(r, counts.get(r["name"])) for r in rows]

    def generations(self) -> dict[str, int]:
        """Every bank's generation: what a running detector compares to see changes."""
        with self.store.read() as conn:
            return {n: int(g) for n, g in conn.execute(
                select(media_banks.c.name, media_banks.c.generation))}

    def update(self, name: str, *, enabled: bool | None = None,
               threshold: int | None = None, notes: str | None = None,
               now: datetime | None = None) -> Bank:
        """Enable or disable a bank, change its match distance or notes (logged)."""
        if threshold is not None:
            _check_threshold(threshold)
        now = now or datetime.now(UTC)
        values: dict[str, Any] = {k: v for k, v in (("enabled", enabled),
                                  ("threshold", threshold), ("notes", notes)) if v is not None}
        with self.store.begin() as conn:
            self._bump(conn, name, now, **values)
        bank = self.get(name)
        assert bank is not None
        return bank

    def _bump(self, conn: Connection, name: str, now: datetime, **values: Any) -> None:
        r = conn.execute(select(media_banks).where(media_banks.c.name == name)
                         ).mappings().first()
        if r is None:
            raise StoreError(f"no bank named {name!r}")
        row = dict(r)
        row.update(values, generation=int(r["generation"]) + 1, updated_at=now)
        conn.execute(update(media_banks).where(media_banks.c.name == name).values(
            {k: row[k] for k in (*values, "generation", "updated_at")}))
        auditlog.append(conn, [("bank", row)], now)

    # -- signals ------------------------------------------------------------------------

    def add(self, name: str, signals: Iterable[tuple[str, str, str]],
            now: datetime | None = None) -> BankImport:
        """Add (signal_type, signal, note) hashes to a bank; those already in it are left
        as they are, removed ones come back. One transaction; idempotent."""
        now = now or datetime.now(UTC)
        tally = BankImport()
        wanted: dict[tuple[str, str], str] = {}
        for st, sig, note in signals:
            if (st, sig) in wanted:
                tally.duplicates += 1
            wanted[(st, sig)] = note
        with self.store.begin() as conn:
            known = self._known(conn, name, list(wanted))
            new_rows, back = [], []
            for (st, sig), note in wanted.items():
                state = known.get((st, sig))
                if state is None:
                    new_rows.append({"bank": name, "signal_type": st, "signal": sig,
                                     "note": note, "added_at": now, "removed_at": None})
                elif state:
                    back.append((st, sig))
                else:
                    tally.present += 1
            for chunk in _chunks(new_rows, 5000):
                conn.execute(bank_signals.insert(), list(chunk))
            self._set_removed(conn, name, back, None)
            tally.added, tally.restored = len(new_rows), len(back)
            log = [("bank_signal", r) for r in new_rows]
            log += [("bank_signal", r) for r in self._rows(conn, name, back)]
            if tally.changed:
                auditlog.append(conn, log, now)
                self._bump(conn, name, now)
        return tally

    def remove(self, name: str, signals: Iterable[tuple[str, str]],
               now: datetime | None = None) -> int:
        """Take hashes out of a bank (the rows stay, marked removed). Returns how many
        were in it."""
        now = now or datetime.now(UTC)
        with self.store.begin() as conn:
            keys = list(dict.fromkeys(signals))
            known = self._known(conn, name, keys)
            live = [k for k in keys if known.get(k) is False]
            self._set_removed(conn, name, live, now)
            if live:
                auditlog.append(conn, [("bank_signal", r) for r in self._rows(conn, name, live)],
                                now)
                self._bump(conn, name, now)
        return len(live)

    def signals(self, name: str, *, removed: bool = False, chunk: int = 50_000
                ) -> Iterator[tuple[str, str, str]]:
        """(signal_type, signal, note) of a bank's hashes in a stable order (type, hash)."""
        q = (select(bank_signals.c.signal_type, bank_signals.c.signal, bank_signals.c.note)
             .where(bank_signals.c.bank == name)
             .order_by(bank_signals.c.signal_type, bank_signals.c.signal))
        if not removed:
            q = q.where(bank_signals.c.removed_at.is_(None))
        with self.store.read() as conn:
            res = conn.execution_options(yield_per=chunk).execute(q)
            for st, sig, note in res:
                yield str(st), str(sig), str(note)

    def _known(self, conn: Connection, name: str, keys: Sequence[tuple[str, str]]
               ) -> dict[tuple[str, str], bool]:
        """Which of ``keys`` the bank has: True when removed, False when live."""
        if conn.execute(select(media_banks.c.name).where(media_banks.c.name == name)
                        ).first() is None:
            raise StoreError(f"no bank named {name!r}")
        out: dict[tuple[str, str], bool] = {}
        for st, where in _where(name, keys):
            q = select(bank_signals.c.signal, bank_signals.c.removed_at).where(where)
            for sig, removed in conn.execute(q):
                out[(st, sig)] = removed is not None
        return out

    def _set_removed(self, conn: Connection, name: str, keys: Sequence[tuple[str, str]],
                     when: datetime | None) -> None:
        for _, where in _where(name, keys):
            conn.execute(update(bank_signals).where(where).values(removed_at=when))

    def _rows(self, conn: Connection, name: str, keys: Sequence[tuple[str, str]]
              ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _, where in _where(name, keys):
            q = select(bank_signals).where(where).order_by(bank_signals.c.signal)
            out.extend(dict(r) for r in conn.execute(q).mappings())
        return out


def _where(name: str, keys: Sequence[tuple[str, str]]
           ) -> Iterator[tuple[str, ColumnElement[bool]]]:
    """For (signal_type, signal) keys of bank ``name``: per type and chunk, the type and
    the condition that selects those rows."""
    by_type: dict[str, list[str]] = {}
    for st, sig in keys:
        by_type.setdefault(st, []).append(sig)
    for st, sigs in by_type.items():
        for chunk in _chunks(sigs):
            yield st, and_(bank_signals.c.bank == name, bank_signals.c.signal_type == st,
                           bank_signals.c.signal.in_(chunk))


def _counts(conn: Connection, names: Sequence[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    if not names:
        return out
    q = (select(bank_signals.c.bank, bank_signals.c.signal_type, func.count())
         .where(bank_signals.c.removed_at.is_(None), bank_signals.c.bank.in_(list(names)))
         .group_by(bank_signals.c.bank, bank_signals.c.signal_type))
    for bank, st, n in conn.execute(q):
        out.setdefault(bank, {})[st] = int(n)
    return out


def _check_threshold(threshold: int) -> None:
    if not 0 <= threshold <= 128:
        raise InputError(f"a PDQ match distance is 0-128 bits of 256, got {threshold}",
                         where="threshold")


__all__ = ["BANK_CATEGORIES", "SIGNAL_TYPES", "Bank", "BankImport", "Banks", "check_name"]
