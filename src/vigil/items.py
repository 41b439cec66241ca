"""What Vigil audits: items (posts, articles, comments, profile text) and their media."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Media:
    """One attached media object: exactly one of ``path``, ``url`` or ``data`` is set."""

    path: str | None = None
    url: str | None = None
    data: bytes | None = None
    kind: str = "image"

    def ref(self) -> str:
        """A short, stable reference for records (never the bytes themselves)."""
        if self.path is not None:
            return f"path:{self.path}"
        if self.url is not None:
            return f"url:{self.url}"
        digest = hashlib.sha256(self.data or b"").hexdigest()
        return f"sha256:{digest}"


@dataclass(frozen=True, slots=True)
class Item:
    """One piece of content, identified by (platform, id)."""

    id: str
    account: str
    text: str
    platform: str = "default"
    created_at: datetime | None = None
    lang: str | None = None
    url: str | None = None
    reach: int = 0
    media: tuple[Media, ...] = ()
    kind: str = "post"
    reply_to: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of what is audited: text and media references.

        Two submissions with the same hash are the same content; a changed hash is an edit.
        """
        h = hashlib.blake2b(digest_size=16)
        h.update(self.text.encode("utf-8", "surrogatepass"))
        for m in self.media:
            h.update(b"\x1f")
            h.update(m.ref().encode("utf-8", "surrogatepass"))
        return h.hexdigest()


@dataclass(slots=True)
class Account:
    """An author on a platform and its standing at a moment: items by current action,
    decayed strike points, status (active / restricted / suspended / shut_down)."""

    platform: str
    id: str
    items: int = 0
    items_by_action: dict[str, int] = field(default_factory=dict)
    strike_points: float = 0.0
    status: str = "active"
    strikes: list[Strike] = field(default_factory=list)
    sanctions: list[Sanction] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Strike:
    """A mark against an account for one violating item; its weight decays with age."""

    id: str
    platform: str
    account: str
    item_id: str
    category: str
    weight: float
    at: datetime
    decision_id: str


@dataclass(frozen=True, slots=True)
class Sanction:
    """What happens to an account: warn, restrict, suspend, shut_down.

    ``expires_at`` is None for permanent sanctions (warn is a one-off notice, shut_down is
    final); timed sanctions stop being in force at ``expires_at`` by themselves.
    """

    id: str
    platform: str
    account: str
    kind: str
    step: int
    at: datetime
    expires_at: datetime | None
    decision_id: str
    reason: str = ""

    def in_force(self, now: datetime) -> bool:
        if self.kind == "warn":
            return False
        return self.expires_at is None or now < self.expires_at
