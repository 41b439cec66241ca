"""Would pHash help? The recall and false matches of a 64-bit pHash (imagehash's
definition: 32x32 grey, 2-D DCT, the 8x8 lowest frequencies against their median) beside
Vigil's PDQ queries (8 orientations + re-registered views) on generated scenes, and what
pHash would add on top: the edited copies PDQ misses that pHash finds, and the unrelated
images it would wrongly match, at its usual thresholds.

    python benchmarks/media_phash.py [--images 300] [--json PATH]
"""

from __future__ import annotations

import argparse
import io
import json
import time

import _machine
import numpy as np
from PIL import Image
from scipy.fft import dct

from vigil.media.hashing import PDQ_MATCH_DISTANCE, hamming, hash_image
from vigil.media.synthetic import TRANSFORMS, scene

PHASH_THRESHOLDS = (6, 8, 10)


def phash(data: bytes) -> int:
    img = Image.open(io.BytesIO(data)).convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    px = np.asarray(img, dtype=np.float64)
    low = dct(dct(px, axis=0), axis=1)[:8, :8]
    bits = (low > np.median(low)).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    print("machine:", _machine.machine("numpy", "pdqhash", "pillow", "scipy"))
    t0 = time.perf_counter()
    n = args.images
    originals = [scene(20_000 + s) for s in range(n)]
    others = [scene(30_000 + s) for s in range(n)]
    bank_pdq = [hash_image(b, dihedral=False).pdq for b in originals]
    bank_ph = [phash(b) for b in originals]

    def pdq_hit(q: bytes, own: int | None) -> tuple[bool, bool]:
        qs = hash_image(q).queries
        near = {i for i, h in enumerate(bank_pdq) if h is not None
                and min(hamming(h, x) for x in qs) <= PDQ_MATCH_DISTANCE}
        return (own in near, bool(near - {own}))

    def ph_near(q: bytes, t: int) -> set[int]:
        p = phash(q)
        return {i for i, h in enumerate(bank_ph) if (h ^ p).bit_count() <= t}

    rows = {}
    for name, edit in TRANSFORMS.items():
        pdq_ok, ph_ok, extra, wrong = 0, dict.fromkeys(PHASH_THRESHOLDS, 0), \
            dict.fromkeys(PHASH_THRESHOLDS, 0), dict.fromkeys(PHASH_THRESHOLDS, 0)
        for i, b in enumerate(originals):
            q = edit(b)
            hit, _ = pdq_hit(q, i)
            pdq_ok += hit
            for t in PHASH_THRESHOLDS:
                near = ph_near(q, t)
                ph_ok[t] += i in near
                extra[t] += (not hit) and i in near
                wrong[t] += bool(near - {i})
        rows[name] = {"pdq_views": pdq_ok / n, "phash": {t: ph_ok[t] / n for t in ph_ok},
                      "phash_adds": extra, "phash_wrong": wrong}
    fm_pdq = sum(pdq_hit(b, None)[1] for b in others)
    fm_ph = {t: sum(bool(ph_near(b, t)) for b in others) for t in PHASH_THRESHOLDS}

    print(f"\n{n} banked scenes, {n} others; PDQ at distance {PDQ_MATCH_DISTANCE} with Vigil's "
          f"15 query hashes; pHash (64 bits) at {', '.join(map(str, PHASH_THRESHOLDS))}")
    head = "".join(f"  pHash<={t}  adds  wrong" for t in PHASH_THRESHOLDS)
    print(f"{'edit':<14}{'PDQ+views':>10}{head}")
    for name, r in rows.items():
        cells = "".join(f"{r['phash'][t]:>11.1%}{r['phash_adds'][t]:>6}{r['phash_wrong'][t]:>7}"
                        for t in PHASH_THRESHOLDS)
        print(f"{name:<14}{r['pdq_views']:>10.1%}{cells}")
    print(f"unrelated scenes matching anything: PDQ+views {fm_pdq}/{n}; pHash "
          + ", ".join(f"<={t}: {fm_ph[t]}/{n}" for t in PHASH_THRESHOLDS))
    print("  (adds: copies PDQ+views missed that pHash finds; wrong: copies pHash matches "
          "to another original)")
    print(f"total run time {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"images": n, "edits": rows, "false_match_pdq": fm_pdq,
                       "false_match_phash": fm_ph}, f, indent=1)


if __name__ == "__main__":
    main()
