"""Image hashes: MD5 of the bytes and PDQ of the pixels.

PDQ (Meta's open perceptual hash, computed by ``pdqhash``) gives 256 bits and a quality
from 0 to 100; hashes below :data:`PDQ_QUALITY_MIN` are too unreliable to match on (a
flat or tiny image) and are dropped, as PDQ's reference and ThreatExchange do. Two PDQ
hashes match when their Hamming distance is at most :data:`PDQ_MATCH_DISTANCE`.

Hex strings are written the way python-threatexchange and HMA write them: the hash's
bits in order, most significant first, as 64 lower-case hex digits. The eight dihedral
hashes (rotations by 90° and mirror images) let a flipped or rotated copy match a bank
that holds only the original.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vigil.errors import VigilError
from vigil.items import Media

#: PDQ hashes of lower quality are not matched (PDQ's reference threshold).
PDQ_QUALITY_MIN = 50
#: The reference match threshold: Hamming distance over 256 bits.
PDQ_MATCH_DISTANCE = 31
#: Images larger than this many pixels are refused (decompression bombs).
MAX_PIXELS = 64_000_000

PDQ_RE = re.compile(r"^[0-9a-f]{64}$")
MD5_RE = re.compile(r"^[0-9a-f]{32}$")


class MediaError(VigilError):
    """An attached media object that cannot be read or hashed; ``reason`` is the kind of
    problem without the object's name (for counting)."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


#: What each of an image's query hashes finds, said of the copy that was sent: the eight
#: orientations PDQ computes (``pdqhash.compute_dihedral``'s order), then the
#: re-registered views that undo a crop or a small turn.
VIEWS = ("as the original", "turned 90 degrees clockwise", "turned 180 degrees",
         "turned 90 degrees anticlockwise", "mirrored top to bottom", "mirrored left to right",
         "mirrored on the diagonal", "mirrored on the anti-diagonal",
         "cropped at the top and left", "cropped at the bottom and right",
         "cropped at the top and right", "cropped at the bottom and left",
         "cropped all round", "turned a little clockwise", "turned a little anticlockwise")
#: A re-registered view undoes a crop of this share of each side, or a turn this big.
UNCROP = 0.05
UNTURN = 3.0
#: Views are computed on the image scaled down to at most this many pixels a side.
VIEW_SIDE = 384


@dataclass(frozen=True, slots=True)
class ImageHashes:
    """What one image hashes to. ``pdq`` is None when its quality is below the minimum.

    ``dihedral`` holds the eight orientations' PDQ hashes, the original first (a mirrored
    or turned copy matches a bank holding the original). ``views`` holds the hashes of
    re-registered views that undo the edits PDQ alone does not survive: edge-padded by
    ``UNCROP`` on two sides or all round (a crop of ~5 %) and turned back by ±``UNTURN``
    degrees (a small rotation). Views are for queries only; banks hold the plain hash."""

    md5: str
    pdq: str | None
    quality: int
    dihedral: tuple[str, ...] = ()
    width: int = 0
    height: int = 0
    views: tuple[str, ...] = ()

    @property
    def queries(self) -> tuple[str, ...]:
        """Every hash to look up, in :data:`VIEWS` order."""
        if self.pdq is None:
            return ()
        return (self.dihedral or (self.pdq,)) + self.views


def bits_to_hex(bits: np.ndarray) -> str:
    """PDQ's 256 bits (most significant first) as 64 hex digits."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return packed.tobytes().hex()


def hex_to_bytes(h: str) -> bytes:
    """A 64-hex-digit PDQ hash as 32 bytes (the layout faiss binary indexes take)."""
    return bytes.fromhex(h)


def hamming(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def media_bytes(media: Media, *, base: Path | None = None) -> bytes:
    """The bytes of an attached object: given inline, or read from its path. URLs are
    never fetched (an audit makes no network calls): send the bytes instead."""
    if media.data is not None:
        return media.data
    if media.path is not None:
        p = Path(media.path)
        if base is not None and not p.is_absolute():
            p = base / p
        try:
            return p.read_bytes()
        except OSError as exc:
            raise MediaError(f"cannot read {media.path}: {exc.strerror or exc}",
                             f"unreadable file ({exc.strerror or exc})") from None
    raise MediaError(f"{media.ref()}: URLs are not fetched; send the image's bytes",
                     "given by URL (not fetched)")


def _pixels(data: bytes) -> tuple[np.ndarray, int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise MediaError(f"image of {w}x{h} pixels is larger than {MAX_PIXELS:,}",
                                 "image too large")
            # palette, alpha, 16-bit and CMYK images are read as RGB
            arr = np.asarray(img if img.mode in ("RGB", "L") else img.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise MediaError(f"not a readable image ({e.__class__.__name__})",
                         "not a readable image") from None
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    return np.ascontiguousarray(arr), w, h


def _views(arr: np.ndarray) -> tuple[str, ...]:
    """PDQ hashes of the re-registered views (see :class:`ImageHashes`)."""
    import pdqhash  # type: ignore[import-untyped]
    from PIL import Image

    img = Image.fromarray(arr)
    if max(img.size) > VIEW_SIDE:  # PDQ looks at 64x64 anyway: views need few pixels
        img.thumbnail((VIEW_SIDE, VIEW_SIDE), Image.Resampling.BOX)
        arr = np.asarray(img)
    h, w, _ = arr.shape
    share = UNCROP / (1 - UNCROP)
    py, px = round(h * share), round(w * share)
    cy, cx = round(h * share / 2), round(w * share / 2)
    pads = [((py, 0), (px, 0)), ((0, py), (0, px)), ((py, 0), (0, px)), ((0, py), (px, 0)),
            ((cy, cy), (cx, cx))]
    views = [np.pad(arr, (ty, tx, (0, 0)), mode="edge") for ty, tx in pads]
    fill = tuple(int(c) for c in arr.reshape(-1, 3).mean(axis=0))
    for angle in (UNTURN, -UNTURN):
        views.append(np.asarray(img.rotate(angle, resample=Image.Resampling.BILINEAR,
                                           fillcolor=fill)))
    return tuple(bits_to_hex(pdqhash.compute(np.ascontiguousarray(v))[0]) for v in views)


def hash_image(data: bytes, *, dihedral: bool = True, views: bool | None = None
               ) -> ImageHashes:
    """MD5 and PDQ of an image file's bytes; for queries (``dihedral``, the default) also
    the eight orientations and, unless ``views=False``, the re-registered views. Raises
    :class:`MediaError` when the bytes are not an image."""
    import pdqhash

    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    arr, w, h = _pixels(data)
    if dihedral:
        hashes, quality = pdqhash.compute_dihedral(arr)
        hexes = tuple(bits_to_hex(b) for b in hashes)
    else:
        bits, quality = pdqhash.compute(arr)
        hexes = (bits_to_hex(bits),)
    quality = int(quality)
    if quality < PDQ_QUALITY_MIN:
        return ImageHashes(md5, None, quality, (), w, h)
    more = _views(arr) if (dihedral if views is None else views) else ()
    return ImageHashes(md5, hexes[0], quality, hexes if dihedral else (), w, h, more)


def hash_media(media: Media, *, base: Path | None = None, dihedral: bool = True,
               views: bool | None = None) -> ImageHashes:
    """:func:`hash_image` of an attached object (inline bytes or a path)."""
    return hash_image(media_bytes(media, base=base), dihedral=dihedral, views=views)


__all__ = [
    "MD5_RE",
    "PDQ_MATCH_DISTANCE",
    "PDQ_QUALITY_MIN",
    "PDQ_RE",
    "VIEWS",
    "ImageHashes",
    "MediaError",
    "bits_to_hex",
    "hamming",
    "hash_image",
    "hash_media",
    "hex_to_bytes",
    "media_bytes",
]
