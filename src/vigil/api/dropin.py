"""Drop-in endpoints for clients written against other moderation services.

``POST /v1/moderations`` takes and returns the shapes of OpenAI's moderation API, so the
official ``openai`` client works against Vigil by changing its base URL.
``POST /v1alpha1/comments:analyze`` takes and returns Perspective's. Both score without
storing anything (like ``vigil score``); categories Vigil does not detect (self-harm,
graphic violence, illicit goods) are reported as not flagged with score 0, and are named
in the response's ``vigil_unsupported`` / rejected when requested from Perspective.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from vigil.api.auth import AnyKey, query_key
from vigil.api.models import ERRORS
from vigil.audit import detect
from vigil.detectors import best_scores
from vigil.items import Item
from vigil.lang import detect_lang

router = APIRouter(responses=ERRORS)
MAX_INPUTS = 1000

# OpenAI category -> how it is scored from Vigil's categories (max of the product terms)
OPENAI: dict[str, tuple[tuple[str, ...], ...]] = {
    "harassment": (("harassment",),),
    "harassment/threatening": (("harassment", "violence"),),
    "hate": (("hate",),),
    "hate/threatening": (("hate", "violence"),),
    "illicit": (),
    "illicit/violent": (),
    "self-harm": (),
    "self-harm/instructions": (),
    "self-harm/intent": (),
    "sexual": (("sexual",),),
    "sexual/minors": (("child_safety",),),
    "violence": (("violence",),),
    "violence/graphic": (),
}

PERSPECTIVE: dict[str, tuple[str, ...]] = {
    "TOXICITY": ("harassment", "hate", "violence"),
    "SEVERE_TOXICITY": ("hate", "violence"),
    "IDENTITY_ATTACK": ("hate",),
    "INSULT": ("harassment",),
    "PROFANITY": ("harassment",),
    "THREAT": ("violence",),
    "SEXUALLY_EXPLICIT": ("sexual",),
    "SPAM": ("spam",),
}


def _scores(request: Request, texts: list[str]) -> list[dict[str, float]]:
    vigil = request.app.state.vigil
    batch = [Item(id=str(i), account="", text=t) for i, t in enumerate(texts)]
    return [best_scores(sigs) for sigs in detect(batch, vigil.detectors)]


class ModerationIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: str | Annotated[list[str], Field(min_length=1, max_length=MAX_INPUTS)] = Field(
        description="A text or a list of texts.")
    model: str | None = None


class ModerationResult(BaseModel):
    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    category_applied_input_types: dict[str, list[str]]


class ModerationOut(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]
    vigil_unsupported: list[str] = Field(
        description="Categories Vigil does not detect (always false / 0).")


@router.post("/v1/moderations", response_model=ModerationOut,
             summary="OpenAI-compatible moderation")
def moderations(body: ModerationIn, request: Request,
                key: AnyKey) -> ModerationOut:
    texts = [body.input] if isinstance(body.input, str) else body.input
    vigil = request.app.state.vigil
    results = []
    for scores in _scores(request, texts):
        cat_scores: dict[str, float] = {}
        flags: dict[str, bool] = {}
        for name, terms in OPENAI.items():
            value = max((min(scores.get(c, 0.0) for c in term) for term in terms), default=0.0)
            cat_scores[name] = round(value, 6)
            # flagged where the policy would act on (or review) the underlying category
            flags[name] = bool(terms) and all(
                scores.get(c, 0.0) >= _flag_at(vigil.policy, c) for c in terms[0])
        results.append(ModerationResult(
            flagged=any(flags.values()), categories=flags, category_scores=cat_scores,
            category_applied_input_types={k: ["text"] if v else [] for k, v in OPENAI.items()}))
    return ModerationOut(id=f"modr-{secrets.token_hex(12)}", model=body.model or "vigil",
                         results=results,
                         vigil_unsupported=[k for k, v in OPENAI.items() if not v])


def _flag_at(policy: Any, category: str) -> float:
    rule = policy.categories.get(category)
    if rule is None:
        return 1.01
    lowest: float = min([*rule.thresholds.values(),
                         *([rule.review_from] if rule.review_from else [])])
    return lowest


class CommentIn(BaseModel):
    text: str = Field(max_length=100_000)
    type: str | None = None


class AttributeIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    scoreType: str | None = None
    scoreThreshold: StrictFloat | None = None


class Attributes(BaseModel):
    """The attributes Vigil scores (at least one); any other is refused (422)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    TOXICITY: AttributeIn = None  # type: ignore[assignment]
    SEVERE_TOXICITY: AttributeIn = None  # type: ignore[assignment]
    IDENTITY_ATTACK: AttributeIn = None  # type: ignore[assignment]
    INSULT: AttributeIn = None  # type: ignore[assignment]
    PROFANITY: AttributeIn = None  # type: ignore[assignment]
    THREAT: AttributeIn = None  # type: ignore[assignment]
    SEXUALLY_EXPLICIT: AttributeIn = None  # type: ignore[assignment]
    SPAM: AttributeIn = None  # type: ignore[assignment]


class AnalyzeIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    comment: CommentIn
    requestedAttributes: Attributes
    languages: list[str] | None = None
    doNotStore: StrictBool | None = None


class SummaryScore(BaseModel):
    value: float
    type: str = "PROBABILITY"


class AttributeScore(BaseModel):
    summaryScore: SummaryScore


class AnalyzeOut(BaseModel):
    attributeScores: dict[str, AttributeScore]
    languages: list[str]
    detectedLanguages: list[str]


@router.post("/v1alpha1/comments:analyze", response_model=AnalyzeOut,
             summary="Perspective-compatible comment analysis",
             dependencies=[Depends(query_key)])
def analyze(body: AnalyzeIn, request: Request,
            key: AnyKey) -> AnalyzeOut:
    attrs = body.requestedAttributes
    asked: dict[str, AttributeIn] = {name: getattr(attrs, name) for name in PERSPECTIVE
                                     if getattr(attrs, name) is not None}
    if not asked:
        raise HTTPException(422, "requestedAttributes: ask for at least one of "
                                 f"{', '.join(PERSPECTIVE)}")
    (scores,) = _scores(request, [body.comment.text])
    out: dict[str, AttributeScore] = {}
    for name, spec in asked.items():
        value = max(scores.get(c, 0.0) for c in PERSPECTIVE[name])
        if spec.scoreThreshold is not None and value < spec.scoreThreshold:
            continue
        out[name] = AttributeScore(summaryScore=SummaryScore(value=round(value, 6)))
    lang = detect_lang(body.comment.text)
    detected = [lang] if lang in ("en", "zh") else []
    return AnalyzeOut(attributeScores=out, languages=body.languages or detected,
                      detectedLanguages=detected)
