"""The console in a real browser: ``vigil serve`` over a fresh SQLite store with review
cases, driven by ``tests/browser/console.mjs`` (Playwright in Debian's headless
Chromium): sign in, claim a case with the keyboard, remove the item with a reason
template, find the decision on the account page and in the audit log, see the dashboard's
charts. Screenshots go to ``$VIGIL_ARTIFACTS`` (default ``artifacts/browser/``).

``make test`` installs what it needs (``/usr/bin/chromium`` and
``tests/browser/node_modules``); without them the test is skipped, saying which is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import KeywordDetector
from vigil.ingest import audit_batch
from vigil.items import Item
from vigil.policy import load_policy
from vigil.store import Store
from vigil.store import users as userstore

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "browser" / "console.mjs"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make test installs it)"
    if not (ROOT / "tests" / "browser" / "node_modules" / "playwright-core").is_dir():
        return "tests/browser/node_modules is missing (npm ci --prefix tests/browser)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(url: str) -> None:
    """Items that open review cases (spam in the review band), one with a term the
    console masks, and removals with their sanctions for the dashboard; the users."""
    store = Store(url)
    store.migrate()
    policy = load_policy()
    store.record_policy(policy)
    batch = [Item(id=f"r{i}", account=f"acct{i % 3}", platform="chirp",
                  text=f"cheapdeal number {i}" + (", you dickhead" if i == 0 else ""),
                  created_at=T0 + timedelta(hours=i), reach=100 - 10 * i) for i in range(6)]
    batch += [Item(id=f"s{i}", account=f"spammer{i % 2}", platform="chirp",
                   text=f"buynow offer {i}", created_at=T0 + timedelta(days=i))
              for i in range(6)]
    audit_batch(store, batch, policy, [KeywordDetector()])
    with store.begin() as conn:
        for name, role in (("moderator", "moderator"), ("auditor", "auditor")):
            userstore.create(conn, name, role, ("chirp",) if role == "moderator" else ("*",),
                             PASSWORD, datetime.now(UTC))
    store.close()


@pytest.fixture
def console_url(tmp_path: Path) -> Iterator[str]:
    why = _missing()
    if why:
        pytest.skip(why)
    db = f"sqlite:///{tmp_path}/browser.db"
    _seed(db)
    port = _free_port()
    vigil = Path(sys.executable).parent / "vigil"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(vigil), "serve", "--db", db, "--host", "127.0.0.1",
                               "--port", str(port), "--no-worker"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail("vigil serve exited:\n" + (tmp_path / "serve.log").read_text())
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("vigil serve did not answer within 180 s")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.slow
def test_the_console_in_a_browser(console_url: str) -> None:
    artifacts = Path(os.environ.get("VIGIL_ARTIFACTS", ROOT / "artifacts" / "browser"))
    env = {**os.environ, "VIGIL_PASSWORD": PASSWORD, "VIGIL_MODERATOR": "moderator",
           "VIGIL_AUDITOR": "auditor", "CHROMIUM": str(CHROMIUM)}
    run = subprocess.run(["node", str(SCRIPT), console_url, str(artifacts)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    for check in ("c claims the case", "r removes the item", "the account page of",
                  "the audit log shows the decision", "a click reveals a masked term",
                  "the dashboard draws its charts"):
        assert check in report, report
    shots = {p.name for p in artifacts.glob("*.png")}
    assert {"03-case.png", "05-account.png", "06-log.png", "07-dashboard.png"} <= shots
