"""``/v1/items`` (audit, read a verdict) and ``/v1/decisions/{id}/notice``."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import TypeAdapter

from vigil.api.auth import AnyKey, WriterKey, platform_of
from vigil.api.models import ERRORS, DecisionOut, EvidenceOut, ItemIn, NoticeOut, VerdictOut
from vigil.items import Item, Media

router = APIRouter(responses=ERRORS)
#: What FastAPI would serialise ``post_items``' answer with (its response model); the
#: route serialises it itself, in its worker thread, to spare a second thread hop
_ONE = TypeAdapter(VerdictOut)
_MANY = TypeAdapter(list[VerdictOut])


def _verdict(v: dict[str, Any]) -> VerdictOut:
    return VerdictOut(**{**v, "decisions": [
        DecisionOut(id=d["id"], kind=d["kind"], action=d["action"], category=d["category"],
                    rule=d["rule"], automated=d["automated"], at=d["at"],
                    notice=f"/v1/decisions/{d['id']}/notice")
        for d in v["decisions"]]})


@router.post("/v1/items", response_model=VerdictOut | list[VerdictOut],
             summary="Audit one item or a list; get the verdicts",
             responses={409: {"description": "Idempotency-Key reused for another request"},
                        413: {"description": "Request body too large"},
                        429: {"description": "Rate limit"}})
def post_items(
    body: ItemIn | list[ItemIn],
    request: Request,
    key: WriterKey,
    idempotency_key: str | None = Header(default=None, max_length=255),
) -> Any:
    """Audit items for the key's platform and return their verdicts, in order. Sending the
    same (platform, id) with the same content again changes nothing and returns the stored
    verdict; with other content it is an edit. With an ``Idempotency-Key`` header a repeat
    of the same request returns the first answer without running again."""
    vigil = request.app.state.vigil
    platform = platform_of(key, None)
    many = isinstance(body, list)
    rows = body if isinstance(body, list) else [body]
    if len(rows) > vigil.settings.max_batch:
        raise HTTPException(413, f"at most {vigil.settings.max_batch} items per request")
    if len(rows) > 1:
        vigil.limiter.take(request, key.id, len(rows) - 1)
    fingerprint = ""
    if idempotency_key is not None:
        fingerprint = hashlib.sha256(json.dumps(
            [r.model_dump(mode="json") for r in rows], sort_keys=True).encode()).hexdigest()
        seen = vigil.store.remembered(key.id, idempotency_key)
        if seen is not None:
            if seen[0] != fingerprint:
                raise HTTPException(409, "Idempotency-Key already used for another request")
            return Response(seen[2], status_code=seen[1], media_type="application/json",
                            headers={"Idempotent-Replayed": "true"})
    batch = [Item(id=r.id, account=r.account, text=r.text, platform=platform,
                  created_at=r.created_at, lang=r.lang, url=r.url, reach=r.reach,
                  kind=r.kind, reply_to=r.reply_to,
                  media=tuple(Media(data=m.content(), kind=m.kind) for m in r.media))
             for r in rows]
    fresh: dict[tuple[str, str], dict[str, Any]] = {}
    vigil.audit(batch, fresh)
    # items stored for the first time are answered from what the audit wrote; the others
    # (unchanged, edited: their earlier decisions count too) are read back
    found = {i: v for (_, i), v in fresh.items()}
    missing = [r.id for r in rows if r.id not in found]
    if missing:
        found.update(vigil.store.item_verdicts(platform, missing))
    out = [_verdict(found[r.id]) for r in rows]
    result: Any = out if many else out[0]
    if idempotency_key is not None:
        vigil.store.remember(key.id, idempotency_key, fingerprint, 200,
                             json.dumps(jsonable_encoder(result)))
    body_json = _MANY.dump_json(out) if many else _ONE.dump_json(out[0])
    return Response(body_json, media_type="application/json")


@router.get("/v1/items/{item_id}", response_model=VerdictOut,
            summary="An item's verdict, decisions and notices",
            responses={404: {"description": "No such item on this platform"}})
def get_item(item_id: str, request: Request, key: AnyKey,
             platform: str | None = None) -> VerdictOut:
    pf = platform_of(key, platform)
    found = request.app.state.vigil.store.item_verdicts(pf, [item_id])
    if item_id not in found:
        raise HTTPException(404, "not found")
    return _verdict(found[item_id])


@router.get("/v1/decisions/{decision_id}/notice", response_model=NoticeOut,
            summary="The statement of reasons for a decision",
            responses={404: {"description": "No such decision on the key's platforms"}})
def get_notice(decision_id: str, request: Request,
               key: AnyKey) -> NoticeOut:
    vigil = request.app.state.vigil
    d = vigil.store.decision(decision_id)
    if d is None or not key.sees(d["platform"]):
        raise HTTPException(404, "not found")
    reasons = d["reasons"]
    days = vigil.policy.data.appeal_window_days
    evidence = [EvidenceOut(category=e.get("category"), detector=e.get("detector"),
                            text=e.get("text", ""), note=e.get("note", ""), ref=e.get("ref"))
                for e in reasons.get("evidence", [])]
    return NoticeOut(
        decision=d["id"], platform=d["platform"], account=d["account"], item=d["item_id"],
        action=d["action"], category=d["category"], rule=d["rule"],
        facts=reasons.get("facts", ""), evidence=evidence, automated=d["automated"],
        policy_version=d["policy_version"], decided_at=d["at"],
        appeal=reasons.get("appeal") or f"You can appeal this decision within {days} days.",
        appeal_until=d["at"] + timedelta(days=days))
