"""API keys in the store. A key reads ``vgl_<id>_<secret>``; only the SHA-256 of the whole
key is kept (the secret is 256 random bits, so a slow password hash adds nothing), and it
is compared in constant time. Creating and revoking a key are logged actions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from vigil.store import auditlog
from vigil.store.auditlog import utc
from vigil.store.tables import api_keys, idempotency

ROLES = ("platform", "moderator", "admin", "auditor")
PLATFORM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
PREFIX = "vgl"
ALL = "*"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as stored (never the secret). ``platforms`` is ``("*",)`` for all."""

    id: str
    role: str
    platforms: tuple[str, ...]
    name: str
    created_at: datetime
    revoked_at: datetime | None = None

    def sees(self, platform: str) -> bool:
        return ALL in self.platforms or platform in self.platforms


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _from_row(r: Any) -> ApiKey:
    created = utc(r["created_at"])
    assert created is not None
    return ApiKey(r["id"], r["role"], tuple(r["platforms"].split(",")), r["name"], created,
                  utc(r["revoked_at"]))


def create(conn: Connection, role: str, platforms: tuple[str, ...], name: str,
           now: datetime) -> tuple[ApiKey, str]:
    """A new key; returns it and the token (shown once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use {', '.join(ROLES)}")
    if not platforms:
        raise ValueError("a key needs at least one platform (or '*')")
    for name in platforms:
        if name != ALL and not PLATFORM_NAME.fullmatch(name):
            raise ValueError(f"platform name {name!r}: letters, digits, '_', '.', '-' "
                             "(at most 64), or '*' for all")
    if role != "auditor" and (ALL in platforms or len(platforms) != 1):
        raise ValueError(f"a {role} key belongs to exactly one platform; only auditor keys "
                         "may cover several or '*'")
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = {"id": key_id, "hash": _digest(token), "role": role,
           "platforms": ",".join(platforms), "name": name, "created_at": now,
           "revoked_at": None}
    conn.execute(api_keys.insert(), [row])
    auditlog.append(conn, [("api_key", row)], now)
    return _from_row(row), token


def lookup(conn: Connection, token: str) -> ApiKey | None:
    """The live key for ``token``, or None (unknown, malformed, wrong secret, revoked)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    r = conn.execute(select(api_keys).where(api_keys.c.id == parts[1])).mappings().first()
    if r is None or r["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(r["hash"], _digest(token)):
        return None
    return _from_row(r)


def list_keys(conn: Connection) -> list[ApiKey]:
    return [_from_row(r) for r in conn.execute(
        select(api_keys).order_by(api_keys.c.created_at)).mappings()]


def revoke(conn: Connection, key_id: str, now: datetime) -> bool:
    r = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if r is None or r["revoked_at"] is not None:
        return False
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now))
    row = dict(r)
    row["revoked_at"] = now
    auditlog.append(conn, [("api_key", row)], now)
    return True


def remembered(conn: Connection, key_id: str, idem_key: str
               ) -> tuple[str, int, str] | None:
    """(request fingerprint, status, body) stored for an Idempotency-Key, if any."""
    r = conn.execute(select(idempotency.c.fingerprint, idempotency.c.status,
                            idempotency.c.body).where(
        idempotency.c.key_id == key_id, idempotency.c.idem_key == idem_key)).first()
    return None if r is None else (r[0], int(r[1]), r[2])


def remember(conn: Connection, key_id: str, idem_key: str, fingerprint: str, status: int,
             body: str, now: datetime) -> None:
    conn.execute(idempotency.insert(), [{
        "key_id": key_id, "idem_key": idem_key, "fingerprint": fingerprint,
        "status": status, "body": body, "created_at": now}])
