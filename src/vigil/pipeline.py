"""The detectors an install runs against a store: the defaults, plus the detectors whose
data lives in the store (claim matching over the fact-check base, media hash banks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vigil.detectors import Detector, default_detectors

if TYPE_CHECKING:
    from vigil.store import Store


def store_detectors(store: Store | None, *, claims: bool = True, media: bool = True,
                    media_paths: bool = True,
                    base: Callable[[], list[Detector]] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> list[Detector]:
    """``base()`` (the default detectors unless given), plus claim matching when the
    store's fact-check base has claims, plus media matching against its hash banks (which
    follows bank changes, so it is there even before the first bank is created).
    ``media_paths=False`` where items come from the network: media given by file path
    are then not read."""
    detectors = list((base or default_detectors)())
    if store is None:
        return detectors
    if claims:
        from vigil.claims.detector import load_detector

        det = load_detector(store, progress=progress)
        if det is not None:
            detectors.append(det)
    if media:
        from vigil.media.detector import load_media_detector

        detectors.append(load_media_detector(store, paths=media_paths))
    return detectors
