"""Review pages: the queue, a case (claim, decide, escalate, resolve an appeal), appeals,
an account's history. For moderators and admins, on the platforms they are granted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from vigil.console import queries
from vigil.console.web import (
    Post,
    Signed,
    int_arg,
    need,
    redirect,
    render,
    scope_of,
    seen,
)
from vigil.errors import StoreError
from vigil.review import TEMPLATES, Reviewer, reason_text
from vigil.sanctions import account_status, decayed_points
from vigil.store.review import CaseError
from vigil.store.users import Session, User

router = APIRouter(include_in_schema=False)
REVIEWERS = ("moderator", "admin")
ITEM_ACTIONS = ("remove", "restrict", "label", "allow")


def reviewer_of(user: User) -> Reviewer:
    """The reviewer a console user decides as (``reviewer:user.<name>`` in decisions)."""
    return Reviewer(f"user.{user.username}", user.username)


def _case_for(request: Request, user: User, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] | None = request.app.state.vigil.store.case(case_id)
    if case is None:
        raise HTTPException(404, "not found")
    seen(user, case["platform"])
    return case


@router.get("/queue")
def queue_page(request: Request, session: Signed, platform: str | None = None,
               category: str | None = None, source: str | None = None,
               age: str | None = None, limit: str | None = None) -> Response:
    user = need(session, *REVIEWERS)
    scope = scope_of(user, platform)
    if source and source not in queries.SOURCES:
        source = None
    now = datetime.now(UTC)
    with request.app.state.vigil.store.read() as conn:
        rows = queries.queue(conn, scope, now, category=category or None, source=source,
                             age=age, limit=int_arg(limit, 100, 1, 1000))
        categories = queries.queue_categories(conn, user.scope())
    return render(request, "queue.html", session, cases=rows, now=now,
                  filters={"platform": platform or "", "category": category or "",
                           "source": source or "", "age": age or ""},
                  platforms=_platform_choices(request, user), categories=categories,
                  sources=queries.SOURCES, ages=queries.AGES,
                  reviewer=reviewer_of(user).actor)


def _platform_choices(request: Request, user: User) -> list[str]:
    if not user.every_platform:
        return list(user.platforms)
    found: list[str] = request.app.state.vigil.store.platforms()
    return found


def _templates(category: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Reason templates as (category, [(value, text)]), the case's category first."""
    order = [c for c in TEMPLATES if c != "none"]
    if category in TEMPLATES:
        order.remove(category)
        order.insert(0, category)
    return [(c, [(f"{c}/{k}", v) for k, v in TEMPLATES[c].items()]) for c in
            [*order, "none"]]


def case_page(request: Request, session: Session, case: dict[str, Any], *,
              error: str = "", status: int = 200) -> Response:
    vigil = request.app.state.vigil
    user = session.user
    now = datetime.now(UTC)
    platform = case["platform"]
    found = None
    ds: list[dict[str, Any]] = []
    spans: list[tuple[int, int, str]] = []
    refs: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    with vigil.store.read() as conn:
        if case["item_id"] is not None:
            found = queries.item(conn, platform, case["item_id"])
        if found is not None:
            ds = queries.item_decisions(conn, platform, case["item_id"])
            spans, refs, signals = queries.evidence_of(found, ds)
        dups = (queries.near_duplicates(conn, platform, case["item_id"], refs)
                if found is not None else [])
        groups = (queries.item_clusters(conn, platform, case["item_id"])
                  if found is not None else [])
        history = queries.account(conn, platform, case["account"], limit=20)
        appealed = queries.appealed(conn, [case["decision_id"]] if case["decision_id"]
                                    else []).get(case["decision_id"] or "")
        prev_id, next_id = queries.neighbours(conn, user.scope(), case["id"])
    claims = [e for e in refs if (e.get("ref") or {}).get("claim_id")]
    me = reviewer_of(user).actor
    held = (case["status"] == "open" and case["assignee"] == me
            and case["locked_until"] is not None and case["locked_until"] > now)
    locked_by_other = (case["status"] == "open" and case["assignee"] not in (None, me)
                       and case["locked_until"] is not None and case["locked_until"] > now)
    policy = vigil.policy
    standing = None
    if history is not None:
        standing = {"status": account_status(history["sanctions"], now),
                    "points": round(decayed_points(history["strikes"], now,
                                                   policy.data.strikes.half_life_days), 2)}
    return render(request, "case.html", session, status_code=status, case=case,
                  item=found, decisions=ds, spans=spans, refs=refs, signals=signals,
                  claims=claims, dups=dups, clusters=groups, history=history,
                  standing=standing, appealed=appealed, held=held,
                  locked_by_other=locked_by_other, prev_id=prev_id, next_id=next_id,
                  templates=_templates(case["category"]),
                  categories=list(policy.categories), actions=ITEM_ACTIONS, now=now,
                  error=error, claim_minutes=vigil.settings.claim_minutes)


@router.get("/cases/{case_id}")
def show_case(case_id: str, request: Request, session: Signed) -> Response:
    user = need(session, *REVIEWERS)
    return case_page(request, session, _case_for(request, user, case_id))


def _attempt(request: Request, session: Session, case: dict[str, Any], fn: Any,
             *args: Any) -> tuple[Any, Response | None]:
    try:
        return fn(*args), None
    except CaseError as exc:
        return None, case_page(request, session, case, error=str(exc), status=exc.status)
    except StoreError:
        return None, case_page(request, session, case, status=503,
                               error="The store is unavailable; try again.")


@router.post("/cases/{case_id}/claim")
def claim(case_id: str, request: Request, post: Post) -> Response:
    user = need(post.session, *REVIEWERS)
    case = _case_for(request, user, case_id)
    vigil = request.app.state.vigil
    _, failed = _attempt(request, post.session, case, vigil.store.claim_case, case_id,
                         reviewer_of(user), vigil.settings.claim_minutes)
    return failed or redirect(f"/cases/{case_id}")


@router.post("/cases/{case_id}/escalate")
def escalate(case_id: str, request: Request, post: Post) -> Response:
    user = need(post.session, *REVIEWERS)
    case = _case_for(request, user, case_id)
    reason = post.form.get("reason", "").strip()
    if not reason:
        return case_page(request, post.session, case, status=422,
                         error="Say why the case is escalated.")
    _, failed = _attempt(request, post.session, case, request.app.state.vigil.store
                         .escalate_case, case_id, reviewer_of(user), reason[:5000])
    return failed or redirect(f"/queue?escalated={case_id}")


def _reason(form: Any, case: dict[str, Any], action: str | None) -> tuple[str | None, str]:
    """(category, reason text) from the form; ValueError when the reason is missing or
    the template is unknown."""
    template = form.get("template") or None
    category = form.get("category") or case["category"]
    tpl_name = None
    if template:
        tcat, _, tpl_name = template.partition("/")
        if tcat != "none":
            category = tcat
    if action == "allow":
        if tpl_name is not None and tpl_name not in TEMPLATES["none"]:
            tpl_name = "no_violation"
        return None, reason_text(None, tpl_name, form.get("reason", "")[:5000])
    return category, reason_text(category, tpl_name, form.get("reason", "")[:5000])


@router.post("/cases/{case_id}/decide")
def decide(case_id: str, request: Request, post: Post) -> Response:
    user = need(post.session, *REVIEWERS)
    case = _case_for(request, user, case_id)
    vigil = request.app.state.vigil
    form = post.form
    if case["kind"] == "appeal":
        outcome = form.get("outcome")
        if outcome not in ("upheld", "overturned"):
            return case_page(request, post.session, case, status=422,
                             error="Resolve an appeal as upheld or overturned.")
        try:
            _, reason = _reason(form, case, None)
        except ValueError as exc:
            return case_page(request, post.session, case, status=422, error=str(exc))
        _, failed = _attempt(request, post.session, case, vigil.store.resolve_appeal,
                             case_id, reviewer_of(user), outcome, reason, vigil.policy)
        return failed or redirect(f"/cases/{case_id}")
    action = form.get("action")
    if action not in ITEM_ACTIONS:
        return case_page(request, post.session, case, status=422,
                         error="Choose an action: remove, restrict, label or allow.")
    try:
        category, reason = _reason(form, case, action)
    except ValueError as exc:
        return case_page(request, post.session, case, status=422, error=str(exc))
    _, failed = _attempt(request, post.session, case, vigil.store.decide_case, case_id,
                         reviewer_of(user), action, category, reason, vigil.policy)
    return failed or redirect(f"/cases/{case_id}")


@router.get("/appeals")
def appeals_page(request: Request, session: Signed, platform: str | None = None) -> Response:
    user = need(session, *REVIEWERS)
    scope = scope_of(user, platform)
    with request.app.state.vigil.store.read() as conn:
        open_ = queries.queue(conn, scope, kind="appeal", limit=200)
        closed = queries.queue(conn, scope, kind="appeal", status="closed", limit=50)
        about = queries.appealed(conn, [c["decision_id"] for c in open_ + closed
                                        if c["decision_id"]])
    decided = [c for c in closed if c["outcome"] in ("upheld", "overturned")]
    overturned = sum(1 for c in decided if c["outcome"] == "overturned")
    return render(request, "appeals.html", session, open_cases=open_, closed=closed,
                  about=about, platform=platform or "",
                  platforms=_platform_choices(request, user),
                  overturn_rate=overturned / len(decided) if decided else None)


@router.get("/accounts/{platform}/{account}")
def account_page(platform: str, account: str, request: Request, session: Signed) -> Response:
    user = need(session, *REVIEWERS)
    seen(user, platform)
    vigil = request.app.state.vigil
    with vigil.store.read() as conn:
        found = queries.account(conn, platform, account)
    if found is None:
        raise HTTPException(404, "not found")
    now = datetime.now(UTC)
    return render(request, "account.html", session, acct=found, now=now,
                  status=account_status(found["sanctions"], now),
                  points=round(decayed_points(found["strikes"], now,
                                              vigil.policy.data.strikes.half_life_days), 2))
