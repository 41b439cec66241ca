"""Generated images and the edits known-media matching must survive, for tests and
benchmarks (no real abuse media is ever needed to check the matcher).

Each image is a seeded scene: a two-colour gradient, a few dozen filled shapes of random
colours and sizes, lines and a little noise, so that it has the structure photos have
(edges at several scales) and PDQ gives it full quality. ``TRANSFORMS`` are the edits
people make to re-upload a known image: resize, crop 5 %, blur, JPEG at quality 70,
a small rotation, a mirror image and a quarter turn.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np


def scene(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    """A PNG of a generated scene; the same seed gives the same bytes."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    w, h = size
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, w)[None, :, None] * np.ones((h, 1, 1))
    if rng.random() < 0.5:
        t = np.linspace(0.0, 1.0, h)[:, None, None] * np.ones((1, w, 1))
    base = (a * (1 - t) + b * t).astype(np.uint8)
    img = Image.fromarray(base, "RGB")
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(12, 40))):
        x0, y0 = int(rng.integers(-40, w)), int(rng.integers(-40, h))
        x1, y1 = x0 + int(rng.integers(15, w // 2)), y0 + int(rng.integers(15, h // 2))
        fill = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            d.ellipse([x0, y0, x1, y1], fill=fill)
        elif shape == 1:
            d.rectangle([x0, y0, x1, y1], fill=fill)
        else:
            pts = [(int(rng.integers(0, w)), int(rng.integers(0, h))) for _ in range(3)]
            d.polygon(pts, fill=fill)
    for _ in range(int(rng.integers(3, 10))):
        d.line([(int(rng.integers(0, w)), int(rng.integers(0, h))),
                (int(rng.integers(0, w)), int(rng.integers(0, h)))],
               fill=tuple(int(c) for c in rng.integers(0, 256, 3)),
               width=int(rng.integers(1, 6)))
    arr = np.asarray(img).astype(np.int16)
    arr += rng.integers(-6, 7, arr.shape, dtype=np.int16)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return _save(out, "PNG")


def _save(img: object, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)  # type: ignore[attr-defined]
    return buf.getvalue()


def _open(data: bytes) -> object:
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    return img.convert("RGB")


def resize(data: bytes) -> bytes:
    img = _open(data)
    w, h = img.size  # type: ignore[attr-defined]
    return _save(img.resize((w // 2, h // 2)), "PNG")  # type: ignore[attr-defined]


def crop5(data: bytes) -> bytes:
    img = _open(data)
    w, h = img.size  # type: ignore[attr-defined]
    dx, dy = round(w * 0.05), round(h * 0.05)
    return _save(img.crop((dx, dy, w, h)), "PNG")  # type: ignore[attr-defined]


def blur(data: bytes) -> bytes:
    from PIL import ImageFilter

    return _save(_open(data).filter(ImageFilter.GaussianBlur(2)), "PNG")  # type: ignore[attr-defined]


def jpeg70(data: bytes) -> bytes:
    return _save(_open(data), "JPEG", quality=70)


def rotate3(data: bytes) -> bytes:
    return _save(_open(data).rotate(3, expand=False, fillcolor=(0, 0, 0)), "PNG")  # type: ignore[attr-defined]


def mirror(data: bytes) -> bytes:
    from PIL import Image

    return _save(_open(data).transpose(Image.Transpose.FLIP_LEFT_RIGHT), "PNG")  # type: ignore[attr-defined]


def quarter_turn(data: bytes) -> bytes:
    from PIL import Image

    return _save(_open(data).transpose(Image.Transpose.ROTATE_90), "PNG")  # type: ignore[attr-defined]


TRANSFORMS: dict[str, Callable[[bytes], bytes]] = {
    "resize 50%": resize,
    "crop 5%": crop5,
    "blur": blur,
    "jpeg q70": jpeg70,
    "rotate 3deg": rotate3,
    "mirror": mirror,
    "rotate 90deg": quarter_turn,
}

__all__ = ["TRANSFORMS", "scene"]
