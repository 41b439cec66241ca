"""Review queues, reports, appeals: ``/v1/cases``, ``/v1/reports``, ``/v1/appeals``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field, StrictBool

from vigil.api.auth import AnyKey, WriterKey, platform_of, role
from vigil.api.models import ERRORS
from vigil.errors import StoreError
from vigil.review import (
    TEMPLATES,
    Reviewer,
    appeal_open,
    priority,
    reason_text,
    severity_of,
)
from vigil.store.keys import ApiKey
from vigil.store.review import CaseError, new_case

router = APIRouter(responses=ERRORS)
ReviewerKey = Annotated[ApiKey, Depends(role("moderator", "admin"))]
QueueReader = Annotated[ApiKey, Depends(role("moderator", "admin", "auditor"))]


class CaseOut(BaseModel):
    id: str
    platform: str
    item_id: str | None
    account: str
    kind: Literal["review", "report", "appeal"]
    queue: str
    category: str | None
    priority: float
    status: Literal["open", "closed"]
    assignee: str | None
    locked_until: datetime | None
    trusted: bool
    reason: str
    decision_id: str | None = Field(description="For an appeal: the decision appealed.")
    outcome: str | None
    outcome_decision: str | None
    created_at: datetime
    closed_at: datetime | None


class ReportIn(BaseModel):
    item_id: str = Field(min_length=1, max_length=255)
    reason: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(default=None, max_length=32, pattern=r"^[a-z][a-z0-9_]*$",
                                 description="A category of the policy in force.")
    reporter: str | None = Field(default=None, max_length=255)
    trusted_flagger: StrictBool = False


class AppealIn(BaseModel):
    decision_id: str = Field(min_length=1, max_length=32)
    statement: str = Field(min_length=1, max_length=5000)
    appellant: str | None = Field(default=None, max_length=255)


class DecideIn(BaseModel):
    """For a review or report case give ``action``; for an appeal give ``outcome``. The
    reason is a template id (``GET /v1/templates``), text, or both."""

    action: Literal["allow", "label", "restrict", "remove"] | None = None
    outcome: Literal["upheld", "overturned"] | None = None
    category: str | None = Field(default=None, max_length=32)
    template: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=5000)


class EscalateIn(BaseModel):
    reason: str = Field(min_length=1, max_length=5000)


class DecidedOut(BaseModel):
    case: str
    decision: str
    notice: str


def _case_for(request: Request, key: ApiKey, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] | None = request.app.state.vigil.store.case(case_id)
    if case is None or not key.sees(case["platform"]):
        raise HTTPException(404, "not found")
    return case


def _run(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except CaseError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except StoreError:
        raise HTTPException(503, "store unavailable, try again") from None


@router.get("/v1/cases", response_model=list[CaseOut], summary="A review queue")
def list_cases(request: Request, key: QueueReader, platform: str | None = None,
               queue: str | None = None,
               kind: Literal["review", "report", "appeal"] | None = None,
               status: Literal["open", "closed"] = "open",
               limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    """Cases of the key's platform, trusted flaggers first, then priority (severity ×
    reach), then age."""
    pf = platform_of(key, platform)
    found: list[dict[str, Any]] = request.app.state.vigil.store.cases([pf], queue, kind,
                                                                      status, limit)
    return found


@router.get("/v1/cases/{case_id}", response_model=CaseOut, summary="One case",
            responses={404: {"description": "No such case on the key's platforms"}})
def get_case(case_id: str, request: Request, key: QueueReader) -> dict[str, Any]:
    found: dict[str, Any] = _case_for(request, key, case_id)
    return found


@router.post("/v1/cases/{case_id}/claim", response_model=CaseOut,
             summary="Claim a case (an exclusive lock that times out)",
             responses={404: {"description": "Not found"},
                        409: {"description": "Claimed by another reviewer, or closed"}})
def claim_case(case_id: str, request: Request, key: ReviewerKey) -> dict[str, Any]:
    _case_for(request, key, case_id)
    vigil = request.app.state.vigil
    claimed: dict[str, Any] = _run(vigil.store.claim_case, case_id, Reviewer(key.id, key.name),
                                   vigil.settings.claim_minutes)
    return claimed


@router.post("/v1/cases/{case_id}/escalate", response_model=CaseOut,
             summary="Send a claimed case to the escalation queue",
             responses={404: {"description": "Not found"}, 409: {"description": "Not held"}})
def escalate_case(case_id: str, body: EscalateIn, request: Request,
                  key: ReviewerKey) -> dict[str, Any]:
    _case_for(request, key, case_id)
    done: dict[str, Any] = _run(request.app.state.vigil.store.escalate_case, case_id,
                                Reviewer(key.id, key.name), body.reason)
    return done


@router.post("/v1/cases/{case_id}/decide", response_model=DecidedOut,
             summary="Decide a claimed case (or resolve an appeal) with a reason",
             responses={403: {"description": "An appeal of your own decision"},
                        404: {"description": "Not found"},
                        409: {"description": "Not held, or closed"},
                        422: {"description": "Bad action, outcome, category or reason"}})
def decide_case(case_id: str, body: DecideIn, request: Request,
                key: ReviewerKey) -> DecidedOut:
    case = _case_for(request, key, case_id)
    vigil = request.app.state.vigil
    reviewer = Reviewer(key.id, key.name)
    category = body.category or case["category"]
    try:
        reason = reason_text(category if body.action != "allow" else None, body.template,
                             body.reason)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if case["kind"] == "appeal":
        if body.outcome is None:
            raise HTTPException(422, "an appeal needs outcome: upheld or overturned")
        did = _run(vigil.store.resolve_appeal, case_id, reviewer, body.outcome, reason,
                   vigil.policy)
    else:
        if body.action is None:
            raise HTTPException(422, "give action: allow, label, restrict or remove")
        did = _run(vigil.store.decide_case, case_id, reviewer, body.action, category, reason,
                   vigil.policy)
    return DecidedOut(case=case_id, decision=did, notice=f"/v1/decisions/{did}/notice")


@router.post("/v1/reports", response_model=CaseOut, summary="A user's or trusted flagger's "
             "report of an item", responses={404: {"description": "No such item"}})
def report_item(body: ReportIn, request: Request, key: WriterKey) -> dict[str, Any]:
    """Opens a case on the item (or joins the open one). Trusted flaggers' reports go to
    the front of the queue."""
    vigil = request.app.state.vigil
    pf = platform_of(key, None)
    found = vigil.store.item_verdicts(pf, [body.item_id]).get(body.item_id)
    if found is None:
        raise HTTPException(404, "not found")
    if body.category is not None and body.category not in vigil.policy.categories:
        raise HTTPException(422, f"category: give one of {', '.join(vigil.policy.categories)}")
    category = body.category or found["category"]
    row = new_case(pf, body.item_id, found["account"], "report",
                   "trusted" if body.trusted_flagger else "reports", category,
                   priority(severity_of(vigil.policy, category), 0, body.trusted_flagger),
                   body.reason, datetime.now(UTC), reporter=body.reporter,
                   trusted=body.trusted_flagger)
    opened: dict[str, Any] = _run(vigil.store.open_case, row)
    return opened


@router.post("/v1/appeals", response_model=CaseOut, summary="A user's appeal of a decision",
             responses={404: {"description": "No such decision"},
                        409: {"description": "Already appealed"},
                        422: {"description": "The appeal window has closed"}})
def appeal_decision(body: AppealIn, request: Request, key: WriterKey) -> dict[str, Any]:
    vigil = request.app.state.vigil
    d = vigil.store.decision(body.decision_id)
    if d is None or not key.sees(d["platform"]):
        raise HTTPException(404, "not found")
    if d["action"] in ("uphold", "reinstate", "lift", "allow", "review"):
        raise HTTPException(422, f"a {d['action']} decision cannot be appealed")
    now = datetime.now(UTC)
    if not appeal_open(d["at"], now, vigil.policy):
        raise HTTPException(422, f"the appeal window ({vigil.policy.data.appeal_window_days}"
                                 " days) has closed")
    opened: dict[str, Any] = _run(vigil.store.appeal, d, body.statement, body.appellant,
                                  vigil.policy)
    return opened


@router.get("/v1/templates", response_model=dict[str, dict[str, str]],
            summary="Reason templates per category")
def templates(key: AnyKey) -> dict[str, dict[str, str]]:
    return TEMPLATES
