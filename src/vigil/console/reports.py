"""The reports page: the transparency report (``vigil.transparency_report``) and the
period counts (``vigil.transparency``) for the platforms an auditor or admin is granted,
in the console and as downloads.

Every route takes the same query: ``platform`` (one the user is granted, else 404; none:
all the user's platforms together), ``since`` and ``until`` (YYYY-MM-DD, UTC; ``until``
inclusive, as ``vigil report``) and ``period`` (day, week, month, quarter, year).
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup

from vigil.console.web import Signed, need, render, scope_of
from vigil.store.users import User
from vigil.transparency import COLUMNS, PERIODS, period_counts, write_counts
from vigil.transparency_report import (
    TransparencyReport,
    build_transparency,
    render_html,
    write_csv,
)

router = APIRouter(include_in_schema=False)
READERS = ("admin", "auditor")


@dataclass(frozen=True)
class Query:
    """What a report covers: ``scope`` None is every platform (a user granted ``*``)."""

    platform: str
    scope: list[str] | None
    since: str
    until: str
    period: str

    @property
    def lo(self) -> datetime | None:
        return _day(self.since, "since") if self.since else None

    @property
    def hi(self) -> datetime | None:
        return _day(self.until, "until") + timedelta(days=1) if self.until else None

    def args(self) -> str:
        return urlencode({"platform": self.platform, "since": self.since,
                          "until": self.until, "period": self.period})

    def filename(self, what: str, ext: str) -> str:
        parts = [what, self.platform or "all", self.period]
        parts += [p for p in (self.since, self.until) if p]
        return re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(parts)) + f".{ext}"


def _day(value: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time(), UTC)
    except ValueError:
        raise HTTPException(400, f"{name}: give a date as YYYY-MM-DD") from None


def _query(session: Signed, platform: str | None, since: str | None, until: str | None,
           period: str | None) -> tuple[User, Query]:
    user = need(session, *READERS)
    scope = scope_of(user, platform)  # a platform the user is not granted: 404
    period = period or "month"
    if period not in PERIODS:
        raise HTTPException(400, f"period must be one of {', '.join(PERIODS)}")
    q = Query(platform or "", scope, (since or "").strip(), (until or "").strip(), period)
    lo, hi = q.lo, q.hi
    if lo is not None and hi is not None and hi <= lo:
        raise HTTPException(400, "the range ends before it starts")
    return user, q


def _platforms(request: Request, user: User) -> list[str]:
    if not user.every_platform:
        return list(user.platforms)
    found: list[str] = request.app.state.vigil.store.platforms()
    return found


def _report(request: Request, q: Query) -> TransparencyReport:
    return build_transparency(request.app.state.vigil.store, q.scope, q.lo, q.hi, q.period)


def _counts(request: Request, q: Query) -> list[dict[str, Any]]:
    store = request.app.state.vigil.store
    rows: list[dict[str, Any]] = []
    for p in (None,) if q.scope is None else sorted(set(q.scope)):
        rows += period_counts(store, q.period, platform=p, since=q.lo, until=q.hi)
    return sorted(rows, key=lambda r: tuple(str(r[k] or "") for k in COLUMNS[:-1]))


def _download(body: str, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


def _embedded(page: str) -> Markup:
    """The body of :func:`render_html`'s page, to sit in the console's layout (its one
    ``<main>`` a plain block); the report escapes every piece of data itself."""
    body = page.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    body = body.replace("\n<main>\n", '\n<div class="report-sections">\n')
    return Markup(body.replace("\n</main>\n", "\n</div>\n"))


@router.get("/reports")
def reports_page(request: Request, session: Signed, platform: str | None = None,
                 since: str | None = None, until: str | None = None,
                 period: str | None = None) -> Response:
    user, q = _query(session, platform, since, until, period)
    report = _report(request, q)
    return render(request, "reports.html", session, q=q, periods=PERIODS,
                  platforms=_platforms(request, user), report=report,
                  body=_embedded(render_html(report)))


@router.get("/reports/transparency.html")
def transparency_html(request: Request, session: Signed, platform: str | None = None,
                      since: str | None = None, until: str | None = None,
                      period: str | None = None) -> Response:
    _, q = _query(session, platform, since, until, period)
    return _download(render_html(_report(request, q)), "text/html; charset=utf-8",
                     q.filename("transparency", "html"))


@router.get("/reports/transparency.csv")
def transparency_csv(request: Request, session: Signed, platform: str | None = None,
                     since: str | None = None, until: str | None = None,
                     period: str | None = None) -> Response:
    _, q = _query(session, platform, since, until, period)
    report = _report(request, q)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.csv"
        write_csv(report, path)
        body = path.read_text(encoding="utf-8")
    return _download(body, "text/csv; charset=utf-8", q.filename("transparency", "csv"))


def _counts_file(request: Request, session: Signed, fmt: str, platform: str | None,
                 since: str | None, until: str | None, period: str | None) -> Response:
    _, q = _query(session, platform, since, until, period)
    sink = io.StringIO()
    write_counts(_counts(request, q), sink, fmt, q.period)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return _download(sink.getvalue(), media, q.filename("counts", fmt))


@router.get("/reports/counts.csv")
def counts_csv(request: Request, session: Signed, platform: str | None = None,
               since: str | None = None, until: str | None = None,
               period: str | None = None) -> Response:
    return _counts_file(request, session, "csv", platform, since, until, period)


@router.get("/reports/counts.json")
def counts_json(request: Request, session: Signed, platform: str | None = None,
                since: str | None = None, until: str | None = None,
                period: str | None = None) -> Response:
    return _counts_file(request, session, "json", platform, since, until, period)
