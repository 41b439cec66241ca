"""Shared fixtures. Store tests run against SQLite AND the PostgreSQL server on
127.0.0.1:5432 (``VIGIL_TEST_PG`` overrides the URL of its maintenance database). When the
server cannot be reached the PostgreSQL cases fail, unless ``VIGIL_SKIP_PG=1``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import create_engine, text

from vigil.detectors import Evidence, Example, Prepared, Signal
from vigil.items import Item
from vigil.store import Store

PG_ADMIN = os.environ.get("VIGIL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BASE = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if os.environ.get("VIGIL_SKIP_PG") == "1":
        pytest.skip("VIGIL_SKIP_PG=1")
    name = f"vigil_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_pg(url: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/vigil.db"
    url: str = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    s.migrate()
    yield s
    s.close()


class KeywordDetector:
    """A deterministic test detector: fixed keywords → fixed scores, with evidence."""

    name = "keywords"
    version = "1"
    cost = 0
    RULES: ClassVar[dict[str, tuple[str, float]]] = {
        "buynow": ("spam", 0.95),
        "cheapdeal": ("spam", 0.6),
        "vermin": ("hate", 0.97),
        "idiot": ("harassment", 0.75),
        "groomer": ("child_safety", 0.5),
    }
    categories = tuple(sorted({c for c, _ in RULES.values()}))

    def detect(self, batch: Sequence[Prepared]) -> list[list[Signal]]:
        out = []
        for p in batch:
            sigs = []
            for word, (cat, score) in self.RULES.items():
                i = p.item.text.find(word)
                if i >= 0:
                    ev = (Evidence(word, i, i + len(word), note=f"keyword {word}"),)
                    sigs.append(Signal(cat, score, self.name, self.version, ev))
            out.append(sigs)
        return out

    def examples(self) -> list[Example]:
        return [Example("buynow here", fires=frozenset({"spam"})),
                Example("a fine day", quiet=frozenset({"spam", "hate"}))]


def keyword_detectors() -> list[KeywordDetector]:
    """The keyword detector alone, as a ``module:function`` factory (sweeps load it)."""
    return [KeywordDetector()]


@pytest.fixture
def detectors() -> list[KeywordDetector]:
    return [KeywordDetector()]


def make_items(n: int, *, platform: str = "chirp", accounts: int = 10,
               every: int = 3, word: str = "buynow") -> list[Item]:
    """``n`` items over ``accounts`` accounts, one hour apart; every ``every``-th item
    carries ``word``."""
    return [
        Item(
            id=f"p{i}",
            account=f"u{i % accounts}",
            text=f"post {i} {word}" if i % every == 0 else f"post {i} about the weather",
            platform=platform,
            created_at=BASE + timedelta(hours=i),
            reach=i,
        )
        for i in range(n)
    ]
