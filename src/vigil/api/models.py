"""Request and response bodies of the HTTP API (they make ``/openapi.json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

#: 9999-12-31T23:59:59Z
MAX_UNIX = 253_402_300_799


_B64 = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
_B64URL = r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?"
#: padded base64 (either alphabet), alone or in a data URL, or a percent-encoded data URL
MEDIA_DATA = (rf"^(?:data:[^,;]*;base64,)?(?:{_B64}|{_B64URL})$"
              r"|^data:[^,;]*,[A-Za-z0-9%!$&'()*+,\-./:=?@_~]*$")


class MediaIn(BaseModel):
    """An attached image, sent as its bytes. Vigil never fetches URLs or reads paths it is
    sent: platforms send the bytes (hashed with PDQ and MD5 against the hash banks, then
    dropped; only a SHA-256 reference is stored)."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(min_length=1, pattern=MEDIA_DATA, description=(
        "The bytes, base64 (standard or URL-safe, padded), or a data URL "
        "(data:image/jpeg;base64,...)."))
    kind: Literal["image", "video", "audio"] = "image"
    _bytes: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _decode(self) -> MediaIn:
        from vigil.readers import decode_media

        try:
            self._bytes = decode_media(self.data)
        except ValueError as exc:
            raise ValueError(f"data: {exc}") from None
        return self

    def content(self) -> bytes:
        return self._bytes


class ItemIn(BaseModel):
    """One item to audit; its platform is the API key's."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=255)
    account: str = Field(min_length=1, max_length=255)
    text: str = Field(max_length=200_000)
    created_at: Annotated[datetime | None, WithJsonSchema({"anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "number", "minimum": 0, "maximum": MAX_UNIX}, {"type": "null"}]})
    ] = Field(default=None, description="ISO 8601 (naive = UTC), or Unix seconds.")

    @field_validator("reach", mode="before")
    @classmethod
    def _no_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a number, not a boolean")
        return v

    @field_validator("created_at", mode="before")
    @classmethod
    def _unix_seconds(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("a time, not a boolean")
        if isinstance(v, int | float):
            if not 0 <= v <= MAX_UNIX:
                raise ValueError(f"Unix seconds must be in [0, {MAX_UNIX}]")
            try:
                return datetime.fromtimestamp(v, UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError("Unix seconds out of range") from None
        return v
    lang: str | None = Field(default=None, max_length=16)
    url: str | None = Field(default=None, max_length=2048)
    reach: int = Field(default=0, ge=0, le=10**15)
    kind: Literal["post", "article", "comment", "profile", "message"] = "post"
    reply_to: str | None = Field(default=None, max_length=255)
    media: list[MediaIn] = Field(default_factory=list, max_length=16, description=(
        "Attached images, matched against the media hash banks."))


class DecisionOut(BaseModel):
    id: str
    kind: Literal["item", "account"]
    action: str
    category: str | None
    rule: str | None
    automated: bool
    at: datetime
    notice: str = Field(description="Where the statement of reasons is.")


class VerdictOut(BaseModel):
    """An item's current standing: the strongest action taken, whether it waits for human
    review, the scores, and every decision about it."""

    id: str
    platform: str
    account: str
    action: Literal["allow", "label", "restrict", "remove"]
    review: bool
    category: str | None
    scores: dict[str, float]
    policy_version: str
    content_hash: str
    audited_at: datetime
    decisions: list[DecisionOut]


class EvidenceOut(BaseModel):
    category: str | None = None
    detector: str | None = None
    text: str = ""
    note: str = ""
    ref: dict[str, Any] | None = None


class NoticeOut(BaseModel):
    """The statement of reasons for one decision, as the platform shows it to the user."""

    decision: str
    platform: str
    account: str
    item: str | None
    action: str
    category: str | None
    rule: str | None
    facts: str
    evidence: list[EvidenceOut]
    automated: bool
    policy_version: str
    decided_at: datetime
    appeal: str
    appeal_until: datetime


class Health(BaseModel):
    status: Literal["ok"]
    store: Literal["ok"]


class ErrorOut(BaseModel):
    """An error: what is wrong, in words (validation errors: a list naming each field)."""

    detail: str | list[dict[str, Any]]


#: Errors every keyed route may answer.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "The request cannot be read or is refused"},
    401: {"model": ErrorOut, "description": "No key, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "The key's role may not use this route"},
    422: {"model": ErrorOut, "description": "A field or parameter is wrong"},
    429: {"model": ErrorOut, "description": "Rate limit; see Retry-After"},
}
