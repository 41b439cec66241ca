"""Console users and their sessions in the store.

A user has a role (``moderator``, ``admin`` or ``auditor``: the API key roles a person can
hold; ``platform`` is a service account and never signs in), the platforms it is granted
(a list, or ``*`` for all) and a password kept as a salted scrypt hash
(``scrypt$n$r$p$salt$hash``, compared in constant time). Creating a user, disabling one
and changing a setting are logged actions; the log holds the row's digest, never the
password.

A session is a random token in a cookie; the store keeps only its SHA-256, the user it
belongs to, its CSRF token and when it ends. Disabling a user ends its sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from vigil.store import auditlog
from vigil.store.auditlog import utc
from vigil.store.keys import ALL, PLATFORM_NAME
from vigil.store.tables import user_sessions, users

#: Roles a person may sign in with.
USER_ROLES = ("moderator", "admin", "auditor")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MIN_PASSWORD = 10
# scrypt's cost: 2**14 × 8 × 128 bytes = 16 MiB and ~50 ms a check on one core
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_HOURS = 12.0


@dataclass(frozen=True, slots=True)
class User:
    """A console user as stored (never the password or its hash)."""

    username: str
    role: str
    platforms: tuple[str, ...]
    disabled: bool
    wellness: bool
    created_at: datetime

    def sees(self, platform: str) -> bool:
        return ALL in self.platforms or platform in self.platforms

    @property
    def every_platform(self) -> bool:
        return ALL in self.platforms

    def scope(self) -> list[str] | None:
        """The platforms a query is limited to; None for every platform."""
        return None if self.every_platform else list(self.platforms)


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    expires_at: datetime


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password`` with a random 16-byte salt."""
    salt = salt or secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                        p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(dk)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, want = stored.split("$")
        if scheme != "scrypt":
            return False
        dk = hashlib.scrypt(password.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r),
                            p=int(p), dklen=len(_unb64(want)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(dk, _unb64(want))


# a hash to check against when the user does not exist, so that a wrong name takes as long
# as a wrong password
_DECOY = hash_password("decoy password, never valid", b"\0" * 16)


def _platforms_text(platforms: tuple[str, ...]) -> str:
    return ALL if ALL in platforms else json.dumps(list(platforms))


def _from_row(r: Any) -> User:
    created = utc(r["created_at"])
    assert created is not None
    raw = r["platforms"]
    platforms = (ALL,) if raw == ALL else tuple(json.loads(raw))
    return User(r["username"], r["role"], platforms, bool(r["disabled"]), bool(r["wellness"]),
                created)


def check_new(username: str, role: str, platforms: tuple[str, ...], password: str) -> None:
    """Raise ValueError naming what is wrong with a new user."""
    if not USERNAME.fullmatch(username):
        raise ValueError(f"user name {username!r}: letters, digits, '_', '.', '@', '-' "
                         "(at most 64)")
    if role not in USER_ROLES:
        raise ValueError(f"role {role!r} cannot sign in to the console; use "
                         f"{', '.join(USER_ROLES)}")
    if not platforms:
        raise ValueError("a user needs at least one platform (or '*')")
    for name in platforms:
        if name != ALL and not PLATFORM_NAME.fullmatch(name):
            raise ValueError(f"platform name {name!r}: letters, digits, '_', '.', '-' "
                             "(at most 64), or '*' for all")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")


def create(conn: Connection, username: str, role: str, platforms: tuple[str, ...],
           password: str, now: datetime) -> User:
    check_new(username, role, platforms, password)
    if conn.execute(select(users.c.username).where(users.c.username == username)).first():
        raise ValueError(f"user {username!r} exists")
    row = {"username": username, "password_hash": hash_password(password), "role": role,
           "platforms": _platforms_text(platforms), "disabled": False, "wellness": True,
           "created_at": now}
    conn.execute(users.insert(), [row])
    auditlog.append(conn, [("user", row)], now)
    return _from_row(row)


def get(conn: Connection, username: str) -> User | None:
    r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return None if r is None else _from_row(r)


def list_users(conn: Connection) -> list[User]:
    return [_from_row(r) for r in conn.execute(
        select(users).order_by(users.c.username)).mappings()]


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The user, when the name and password match and the user may sign in."""
    r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if r is None:
        check_password(password, _DECOY)
        return None
    if not check_password(password, r["password_hash"]):
        return None
    user = _from_row(r)
    if user.disabled or user.role not in USER_ROLES:
        return None
    return user


def _set(conn: Connection, username: str, now: datetime, **values: Any) -> bool:
    r = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if r is None:
        return False
    row = dict(r)
    if all(row[k] == v for k, v in values.items()):
        return True
    row.update(values)
    conn.execute(update(users).where(users.c.username == username).values(**values))
    auditlog.append(conn, [("user", row)], now)
    return True


def disable(conn: Connection, username: str, now: datetime) -> bool:
    """Disable a user and end its sessions (logged); False when there is no such user."""
    found = _set(conn, username, now, disabled=True)
    if found:
        conn.execute(delete(user_sessions).where(user_sessions.c.username == username))
    return found


def set_wellness(conn: Connection, username: str, on: bool, now: datetime) -> bool:
    return _set(conn, username, now, wellness=on)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: Connection, username: str, now: datetime,
                 hours: float = SESSION_HOURS) -> tuple[str, str]:
    """A new session: returns (the cookie's token, the session's CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(delete(user_sessions).where(user_sessions.c.expires_at < now))
    conn.execute(user_sessions.insert(), [{
        "id": _digest(token), "username": username, "csrf": csrf, "created_at": now,
        "expires_at": now + timedelta(hours=hours)}])
    return token, csrf


def session(conn: Connection, token: str, now: datetime) -> Session | None:
    """The live session of ``token`` with its user, or None (unknown, ended, disabled)."""
    q = (select(user_sessions.c.csrf, user_sessions.c.expires_at, users)
         .join(users, users.c.username == user_sessions.c.username)
         .where(user_sessions.c.id == _digest(token)))
    r = conn.execute(q).mappings().first()
    if r is None:
        return None
    ends = utc(r["expires_at"])
    assert ends is not None
    user = _from_row(r)
    if ends <= now or user.disabled or user.role not in USER_ROLES:
        return None
    return Session(user, r["csrf"], ends)


def close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(user_sessions).where(user_sessions.c.id == _digest(token)))
