"""The media detector: attached images matched against the store's hash banks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.store import Store


def load_media_detector(store: Store) -> Any:
    """The media detector over the store's enabled banks, or None when there are none."""
    return None
