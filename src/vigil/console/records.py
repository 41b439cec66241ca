"""Record pages: clusters, the policy (versions, diff, shadow mode), the audit log with
its verification, and the dashboard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from vigil import charts
from vigil.console import logview, metrics, shadow
from vigil.console.web import (
    Post,
    Signed,
    int_arg,
    need,
    render,
    scope_of,
    seen,
)
from vigil.store.users import User

router = APIRouter(include_in_schema=False)
EVERYONE = ("moderator", "admin", "auditor")
LOG_READERS = ("admin", "auditor")


def _platforms(request: Request, user: User) -> list[str]:
    if not user.every_platform:
        return list(user.platforms)
    found: list[str] = request.app.state.vigil.store.platforms()
    return found


@router.get("/clusters")
def clusters_page(request: Request, session: Signed, platform: str | None = None,
                  kind: str | None = None) -> Response:
    user = need(session, *EVERYONE)
    scope = scope_of(user, platform)
    store = request.app.state.vigil.store
    found: list[dict[str, Any]] = []
    for pf in scope if scope is not None else [None]:
        found.extend(store.clusters(pf, kind or None, limit=200))
    found.sort(key=lambda c: (-c["accounts"], str(c["last_at"])))
    return render(request, "clusters.html", session, clusters=found,
                  platform=platform or "", kind=kind or "",
                  platforms=_platforms(request, user),
                  kinds=("text", "url", "phone", "handle", "email"),
                  item_pages=user.role != "auditor")


@router.get("/clusters/{cluster_id}")
def cluster_page(cluster_id: str, request: Request, session: Signed) -> Response:
    user = need(session, "moderator", "admin")
    found = request.app.state.vigil.store.cluster(cluster_id)
    if found is None:
        raise HTTPException(404, "not found")
    head, members = found
    seen(user, head["platform"])
    return render(request, "cluster.html", session, cluster=head, members=members)


@router.get("/policy")
def policy_page(request: Request, session: Signed, a: str | None = None,
                b: str | None = None) -> Response:
    user = need(session, *EVERYONE)
    vigil = request.app.state.vigil
    with vigil.store.read() as conn:
        found = shadow.versions(conn)
        known = {v["version"] for v in found}
        if (a and a not in known) or (b and b not in known):
            raise HTTPException(404, "not found")
        lines: list[tuple[str, str]] = []
        if a and b:
            lines = shadow.diff(shadow.body(conn, a) or "", shadow.body(conn, b) or "", a, b)
        results = shadow.shadow_all(conn, user.scope())
        current_text = shadow.body(conn, vigil.policy.version) or vigil.policy.text
    return render(request, "policy.html", session, versions=found, a=a or "", b=b or "",
                  diff=lines, compared=bool(a and b), shadows=results,
                  current=vigil.policy.version, current_text=current_text)


@router.get("/log")
def log_page(request: Request, session: Signed, before: str | None = None) -> Response:
    user = need(session, *LOG_READERS)
    cursor = int_arg(before, 0, 0, 2**62) or None
    with request.app.state.vigil.store.read() as conn:
        entries, older, newest = logview.page(conn, user.scope(), cursor)
    return render(request, "log.html", session, entries=entries, older=older,
                  newest=newest, verification=None)


@router.post("/log/verify")
def verify_log(request: Request, post: Post) -> Response:
    user = need(post.session, *LOG_READERS)
    store = request.app.state.vigil.store
    result = store.verify_log()
    with store.read() as conn:
        entries, older, newest = logview.page(conn, user.scope(), None)
    # the problems name rows of every platform: only a viewer of all of them reads them
    problems = result.problems if user.every_platform else []
    return render(request, "log.html", post.session, entries=entries, older=older,
                  newest=newest, verification={"ok": result.ok, "entries": result.entries,
                                               "rows": result.rows,
                                               "problems": problems,
                                               "count": len(result.problems)})


@router.get("/dashboard")
def dashboard_page(request: Request, session: Signed, platform: str | None = None
                   ) -> Response:
    user = need(session, *EVERYONE)
    scope = scope_of(user, platform)
    with request.app.state.vigil.store.read() as conn:
        dash = metrics.dashboard(conn, scope)
    per = {"day": "day", "week": "week", "month": "month"}[dash.period]
    figures = {
        "actions": charts.line_chart(
            dash.actions_over_time, title=f"Item actions by category, per {per} posted",
            y_label="items"),
        "steps": charts.bar_chart(dash.sanctions_by_step,
                                  title="Accounts sanctioned, by ladder step",
                                  y_label="accounts"),
        "removals": charts.stacked_bar_chart(dash.removal_platforms, dash.removals,
                                             title="Removals by platform and category"),
        "who": charts.stacked_bar_chart(dash.periods, dash.decided_by,
                                        title=f"Item actions per {per}: automated or by a "
                                              "reviewer"),
        "appeals": charts.bar_chart([("upheld", float(dash.appeals_upheld)),
                                     ("overturned", float(dash.appeals_overturned))],
                                    title="Appeals resolved", y_label="appeals"),
        "wait": charts.bar_chart([(k, v[0]) for k, v in dash.time_to_decision.items()],
                                 title="Median hours from case opened to decision",
                                 y_label="hours"),
    }
    return render(request, "dashboard.html", session, dash=dash, figures=figures,
                  platform=platform or "", platforms=_platforms(request, user))
