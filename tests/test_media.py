"""Known-media matching: hashing, the ThreatExchange file format, banks in the store, the
index, the detector inside the audit, and ``vigil banks``."""

from __future__ import annotations

import base64
import itertools
import json
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import BASE, KeywordDetector
from vigil.cli import app
from vigil.errors import InputError, StoreError
from vigil.ingest import audit_batch
from vigil.items import Item, Media
from vigil.media.detector import ALLOWED_CHILD_SAFETY_SCORE, MediaDetector, match_score
from vigil.media.formats import read_csv, read_file, read_te, write_csv, write_te
from vigil.media.hashing import (
    PDQ_MATCH_DISTANCE,
    VIEWS,
    MediaError,
    bits_to_hex,
    hamming,
    hash_image,
    hash_media,
)
from vigil.media.index import BankSpec, MatchIndex
from vigil.media.synthetic import TRANSFORMS, scene
from vigil.policy import load_policy
from vigil.store import Store
from vigil.store.banks import Banks
from vigil.store.tables import cases

runner = CliRunner()
N_IMAGES = 24


@cache
def images() -> list[bytes]:
    return [scene(seed) for seed in range(N_IMAGES)]


@cache
def plain_hashes() -> list[str]:
    out = []
    for b in images():
        h = hash_image(b, dihedral=False)
        assert h.pdq is not None
        out.append(h.pdq)
    return out


# -- hashing ----------------------------------------------------------------------------


def test_hex_is_most_significant_bit_first_like_threatexchange() -> None:
    bits = [0] * 256
    bits[0] = 1
    assert bits_to_hex(bits) == "80" + "00" * 31  # type: ignore[arg-type]
    bits = [0] * 256
    bits[255] = 1
    assert bits_to_hex(bits) == "00" * 31 + "01"  # type: ignore[arg-type]
    assert hamming("f" * 64, "0" * 64) == 256
    assert hamming("80" + "0" * 62, "0" * 64) == 1


def test_hashes_are_deterministic_and_full_quality_for_scenes() -> None:
    a, b = hash_image(images()[0]), hash_image(images()[0])
    assert a == b
    assert a.pdq is not None and len(a.pdq) == 64 and a.quality >= 90
    assert len(a.md5) == 32 and len(a.dihedral) == 8 and a.dihedral[0] == a.pdq
    assert len(a.queries) == len(VIEWS)
    plain = hash_image(images()[0], dihedral=False)
    assert plain.pdq == a.pdq and plain.dihedral == () and plain.views == ()


def test_flat_images_have_no_pdq_and_match_by_md5_only() -> None:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 40, 40)).save(buf, "PNG")
    h = hash_image(buf.getvalue())
    assert h.pdq is None and h.quality < 50 and h.queries == ()
    idx = MatchIndex()
    idx.set_bank(BankSpec("b", "sexual", 31, False), [("md5", h.md5)])
    assert [m.signal_type for m in idx.match([h])[0]] == ["md5"]


def test_unreadable_media_raise_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="not a readable image"):
        hash_image(b"this is not an image")
    with pytest.raises(MediaError, match="cannot read"):
        hash_media(Media(path=str(tmp_path / "missing.png")))
    with pytest.raises(MediaError, match="not fetched"):
        hash_media(Media(url="https://example.com/a.png"))
    (tmp_path / "a.png").write_bytes(images()[0])
    assert hash_media(Media(path="a.png"), base=tmp_path).pdq == plain_hashes()[0]


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_edited_copies_match_their_original_at_the_default_distance(name: str) -> None:
    idx = MatchIndex()
    idx.set_bank(BankSpec("known", "sexual", PDQ_MATCH_DISTANCE, False),
                 [("pdq", h) for h in plain_hashes()])
    edited = [hash_image(TRANSFORMS[name](b)) for b in images()]
    found = idx.match(edited)
    hits = sum(any(m.signal == plain_hashes()[i] for m in found[i]) for i in range(N_IMAGES))
    wrong = sum(any(m.signal != plain_hashes()[i] for m in found[i])
                for i in range(N_IMAGES))
    # measured on 1,000 scenes in benchmarks/media_quality.py (docs/media.md)
    assert hits >= N_IMAGES - 2, f"{name}: {hits}/{N_IMAGES} matched"
    assert wrong == 0


def test_different_images_do_not_match() -> None:
    hashes = [hash_image(b) for b in images()]
    for i, j in itertools.permutations(range(N_IMAGES), 2):
        closest = min(hamming(plain_hashes()[i], q) for q in hashes[j].queries)
        assert closest > PDQ_MATCH_DISTANCE, (i, j, closest)


# -- files ------------------------------------------------------------------------------


def test_threatexchange_file_reads_typed_bare_and_aliased_lines() -> None:
    pdq, md5 = plain_hashes()[0], "d41d8cd98f00b204e9800998ecf8427e"
    lines = ["# a comment", "", f"pdq {pdq}", f"video_md5 {md5.upper()}", f"{pdq[::-1]}",
             f"photo_md5\t{md5}"]
    got = list(read_te(lines))
    assert got == [("pdq", pdq, ""), ("md5", md5, ""), ("pdq", pdq[::-1], ""),
                   ("md5", md5, "")]
    assert list(read_te([pdq], signal_type="pdq")) == [("pdq", pdq, "")]


@pytest.mark.parametrize("line, why", [
    ("pdq 1234", "not a pdq hash"),
    ("sha1 " + "a" * 40, "unknown signal type"),
    ("abcdef", "cannot tell the signal type"),
    ("pdq " + "g" * 64, "not a pdq hash"),
])
def test_bad_lines_are_named(line: str, why: str) -> None:
    with pytest.raises(InputError, match=why) as e:
        list(read_te(["pdq " + plain_hashes()[0], line], where="list.txt"))
    assert e.value.line == 2 and "list.txt" in str(e.value)


def test_csv_with_type_column_or_typed_columns(tmp_path: Path) -> None:
    pdq, md5 = plain_hashes()[1], "0" * 32
    import io
    got = list(read_csv(io.StringIO(f"signal_type,signal,note\npdq,{pdq},seen 2024\n"
                                    f"md5,{md5},\n")))
    assert got == [("pdq", pdq, "seen 2024"), ("md5", md5, "")]
    got = list(read_csv(io.StringIO(f"pdq,md5\n{pdq},{md5}\n")))
    assert got == [("pdq", pdq, ""), ("md5", md5, "")]
    with pytest.raises(InputError, match="header"):
        list(read_csv(io.StringIO("id,text\n1,x\n")))
    bad = tmp_path / "bad.csv"
    bad.write_text(f"signal\n{pdq}\nnot-a-hash\n")
    with pytest.raises(InputError) as e:
        read_file(bad)
    assert e.value.line == 3


def test_export_round_trips_through_both_formats() -> None:
    import io
    sigs = sorted([("md5", "a" * 32, "n1"), ("pdq", plain_hashes()[2], "n2")])
    te, cs = io.StringIO(), io.StringIO()
    assert write_te(sigs, te) == 2 and write_csv(sigs, cs) == 2
    assert [(t, s) for t, s, _ in read_te(te.getvalue().splitlines())] == \
        [(t, s) for t, s, _ in sigs]
    assert list(read_csv(io.StringIO(cs.getvalue()))) == sigs
    only = io.StringIO()
    write_te(sigs, only, signal_type="pdq")
    assert only.getvalue() == plain_hashes()[2] + "\n"


# -- banks in the store -----------------------------------------------------------------


def test_banks_import_is_idempotent_logged_and_versioned(store: Store) -> None:
    banks = Banks(store)
    b = banks.create("ncmec-like", "child_safety", notes="test list", now=BASE)
    assert b.generation == 1 and b.enabled and not b.allow
    with pytest.raises(StoreError, match="already exists"):
        banks.create("ncmec-like", "child_safety")
    with pytest.raises(InputError, match="unknown category"):
        banks.create("x", "politics")
    with pytest.raises(InputError, match="bank name"):
        banks.create("no spaces", "sexual")
    sigs = [("pdq", h, "") for h in plain_hashes()[:5]] + [("md5", "1" * 32, "")]
    t = banks.add("ncmec-like", sigs + sigs[:1])
    assert (t.added, t.present, t.duplicates) == (6, 0, 1)
    again = banks.add("ncmec-like", sigs)
    assert (again.added, again.present) == (0, 6)
    assert banks.get("ncmec-like").generation == 2  # type: ignore[union-attr]
    assert dict(banks.get("ncmec-like").counts) == {"pdq": 5, "md5": 1}  # type: ignore[union-attr]
    assert banks.remove("ncmec-like", [("pdq", plain_hashes()[0]), ("pdq", "f" * 64)]) == 1
    assert [s for _, s, _ in banks.signals("ncmec-like")].count(plain_hashes()[0]) == 0
    back = banks.add("ncmec-like", sigs[:1])
    assert back.restored == 1
    assert sorted(banks.signals("ncmec-like")) == sorted(sigs)
    banks.update("ncmec-like", enabled=False, threshold=20)
    got = banks.get("ncmec-like")
    assert got is not None and not got.enabled and got.threshold == 20
    assert banks.generations() == {"ncmec-like": got.generation}
    with pytest.raises(StoreError, match="no bank"):
        banks.add("missing", sigs)
    with pytest.raises(InputError, match="0-128"):
        banks.update("ncmec-like", threshold=300)
    assert store.verify_log().ok


# -- the detector -----------------------------------------------------------------------


def _item(i: int, data: bytes, platform: str = "chirp") -> Item:
    return Item(id=f"m{i}", account=f"u{i}", text="look", platform=platform,
                created_at=BASE, media=(Media(data=data),))


def test_allow_banks_suppress_matches_but_never_child_safety() -> None:
    from vigil.detectors import Prepared

    h = plain_hashes()
    idx = MatchIndex()
    idx.set_bank(BankSpec("porn", "sexual", 31, False), [("pdq", h[0]), ("pdq", h[1])])
    idx.set_bank(BankSpec("csam", "child_safety", 31, False), [("pdq", h[1])])
    idx.set_bank(BankSpec("benign", "sexual", 31, True), [("pdq", h[1])])
    det = MediaDetector(idx)
    out = det.detect([Prepared(_item(i, images()[i])) for i in range(3)])
    assert [(s.category, s.score) for s in out[0]] == [("sexual", 1.0)]
    # image 1 is in the allow bank: its sexual match is dropped, child safety kept for review
    assert [(s.category, s.score) for s in out[1]] == [
        ("child_safety", ALLOWED_CHILD_SAFETY_SCORE)]
    assert "allow bank 'benign'" in out[1][0].evidence[0].note
    assert out[2] == []
    ev = out[0][0].evidence[0].ref
    assert ev is not None and ev["bank"] == "porn" and ev["distance"] == 0


def test_scores_fall_with_distance_and_stay_actionable() -> None:
    from vigil.media.index import Match

    edge = Match("b", "sexual", False, "pdq", "0" * 64, 31, 31)
    assert match_score(edge) == pytest.approx(0.95)
    assert match_score(Match("b", "sexual", False, "pdq", "0" * 64, 0, 31)) == 1.0
    assert match_score(Match("b", "sexual", False, "md5", "0" * 32, 0, 31)) == 1.0
    pol = load_policy()
    assert all(max(pol.data.categories[c].thresholds.values()) <= 0.95
               for c in ("sexual", "child_safety", "violence"))


@pytest.mark.parametrize("kind", ["flat", "mih"])
def test_index_kinds_agree(kind: str) -> None:
    ref, other = MatchIndex("flat"), MatchIndex(kind)
    for idx in (ref, other):
        idx.set_bank(BankSpec("a", "sexual", 31, False), [("pdq", h) for h in plain_hashes()])
        idx.set_bank(BankSpec("b", "violence", 12, False),
                     [("pdq", h) for h in plain_hashes()[::2]])
    queries = [hash_image(TRANSFORMS["jpeg q70"](b)) for b in images()[:8]]
    assert ref.match(queries) == other.match(queries)


def test_detector_follows_bank_changes_in_the_store(store: Store) -> None:
    from vigil.detectors import Prepared
    from vigil.media.detector import load_media_detector

    banks = Banks(store)
    det = load_media_detector(store)
    batch = [Prepared(_item(i, images()[i])) for i in range(2)]
    assert det.detect(batch) == [[], []]  # no banks yet
    banks.create("known", "violence")
    banks.add("known", [("pdq", plain_hashes()[0], "")])
    assert [s.category for s in det.detect(batch)[0]] == ["violence"]
    banks.update("known", enabled=False)
    assert det.detect(batch) == [[], []]
    banks.update("known", enabled=True)
    banks.add("known", [("md5", hash_image(images()[1]).md5, "")])
    assert [len(x) for x in det.detect(batch)] == [1, 1]
    assert det.refresh() is False  # nothing changed since


def test_media_matches_decide_items_and_child_safety_goes_to_urgent_review(
        store: Store) -> None:
    banks = Banks(store)
    banks.create("csam", "child_safety")
    banks.create("porn", "sexual")
    banks.add("csam", [("pdq", plain_hashes()[0], "")])
    banks.add("porn", [("pdq", plain_hashes()[1], "")])
    det = MediaDetector(store=store)
    pol = load_policy()
    edited = TRANSFORMS["jpeg q70"](images()[1])
    batch = [
        _item(0, images()[0]),
        Item(id="m1", account="u1", text="hi", platform="chirp", created_at=BASE,
             media=(Media(data=base64.b64decode(base64.b64encode(edited))),)),
        _item(2, images()[2]),
    ]
    # m0 is first in review for something else: the child-safety match moves it to urgent
    audit_batch(store, [Item(id="m0", account="u0", text="cheapdeal", platform="chirp",
                             created_at=BASE)], pol, [KeywordDetector()], now=BASE)
    with store.read() as conn:
        assert conn.execute(select(cases.c.queue).where(cases.c.item_id == "m0")
                            ).scalar_one() == "standard"
    audit_batch(store, batch, pol, [KeywordDetector(), det], now=BASE)
    got = store.item_verdicts("chirp", ["m0", "m1", "m2"])
    assert got["m0"]["action"] == "remove" and got["m0"]["category"] == "child_safety"
    assert got["m1"]["action"] == "remove" and got["m1"]["category"] == "sexual"
    assert got["m2"]["action"] == "allow"
    with store.read() as conn:
        rows = conn.execute(select(cases.c.item_id, cases.c.queue, cases.c.status)
                            .where(cases.c.status == "open")).all()
    assert [(r.item_id, r.queue) for r in rows] == [("m0", "urgent")]
    assert store.verify_log().ok


# -- the command ------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.output


def test_banks_command_end_to_end(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/v.db"
    for i in range(3):
        (tmp_path / f"img{i}.png").write_bytes(images()[i])
    (tmp_path / "edited.jpg").write_bytes(TRANSFORMS["mirror"](images()[0]))
    code, out = _run("banks", "create", "known", "--category", "sexual", "--db", db)
    assert code == 0 and "created bank known" in out
    code, out = _run("banks", "add", "known", str(tmp_path / "img0.png"),
                     str(tmp_path / "img1.png"), "--db", db)
    assert code == 0 and "4 hashes added" in out
    export = tmp_path / "known.txt"
    code, _ = _run("banks", "export", "known", "-o", str(export), "--db", db)
    lines = export.read_text().splitlines()
    assert code == 0 and len(lines) == 4 and {ln.split()[0] for ln in lines} == {"pdq", "md5"}
    code, _ = _run("banks", "create", "copy", "--category", "violence", "--threshold", "20",
                   "--db", db)
    code, out = _run("banks", "import", "copy", str(export), "--db", db)
    assert code == 0 and "4 added" in out
    code, out = _run("banks", "import", "copy", str(export), "--db", db)
    assert code == 0 and "0 added" in out and "4 already in copy" in out
    code, out = _run("banks", "match", str(tmp_path / "edited.jpg"),
                     str(tmp_path / "img2.png"), "--db", db)
    rows = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and {m["bank"] for m in rows[0]["matches"]} == {"known", "copy"}
    assert rows[0]["matches"][0]["view"] == "mirrored left to right" and rows[1]["matches"] == []
    code, out = _run("banks", "list", "--format", "jsonl", "--db", db)
    listed = {r["name"]: r for r in map(json.loads, out.splitlines())}
    assert listed["copy"]["threshold"] == 20 and listed["known"]["signals"] == {"pdq": 2,
                                                                               "md5": 2}
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq " + "0" * 64 + "\npdq nothex\n")
    code, out = _run("banks", "import", "copy", str(bad), "--db", db)
    assert code == 2 and "line 2" in out
    code, out = _run("banks", "hash", str(tmp_path / "img0.png"))
    assert code == 0 and json.loads(out)["pdq"] == plain_hashes()[0]
    code, out = _run("log", "verify", "--db", db)
    assert code == 0 and "intact" in out


def test_audit_command_matches_attached_images_and_says_what_it_could_not_read(
        tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/v.db"
    (tmp_path / "img0.png").write_bytes(images()[0])
    _run("banks", "create", "known", "--category", "sexual", "--db", db)
    _run("banks", "add", "known", str(tmp_path / "img0.png"), "--db", db)
    data = "data:image/jpeg;base64," + base64.b64encode(
        TRANSFORMS["crop 5%"](images()[0])).decode()
    missing = str(tmp_path / "no.png")
    rows = [{"id": "a", "account": "x", "text": "pic", "media": [{"data": data}]},
            {"id": "b", "account": "y", "text": "pic", "media": [{"path": missing}]}]
    f = tmp_path / "items.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = runner.invoke(app, ["audit", str(f), "--db", db, "-q"])
    assert res.exit_code == 0, res.output
    assert "1 attached media could not be matched" in res.output
    s = Store(db)
    got = s.item_verdicts("default", ["a", "b"])
    assert got["a"]["action"] == "remove" and got["a"]["category"] == "sexual"
    assert got["b"]["action"] == "allow"


def test_views_name_what_was_done_to_the_copy() -> None:
    import io

    from PIL import Image

    T = Image.Transpose
    edits = {T.FLIP_LEFT_RIGHT: "mirrored left to right",
             T.FLIP_TOP_BOTTOM: "mirrored top to bottom",
             T.ROTATE_270: "turned 90 degrees clockwise",
             T.ROTATE_90: "turned 90 degrees anticlockwise",
             T.ROTATE_180: "turned 180 degrees"}
    idx = MatchIndex()
    idx.set_bank(BankSpec("b", "sexual", 31, False), [("pdq", plain_hashes()[0])])
    for t, name in edits.items():
        buf = io.BytesIO()
        Image.open(io.BytesIO(images()[0])).transpose(t).save(buf, "PNG")
        (m,) = idx.match([hash_image(buf.getvalue())])[0]
        assert VIEWS[m.orientation] == name
    for angle, name in ((-3, "turned a little clockwise"), (3, "turned a little anticlockwise")):
        buf = io.BytesIO()
        Image.open(io.BytesIO(images()[0])).rotate(angle).save(buf, "PNG")
        q = hash_image(buf.getvalue())
        best = min(range(len(q.queries)), key=lambda k: hamming(q.queries[k], plain_hashes()[0]))
        assert VIEWS[best] == name


def test_detector_keeps_the_contract() -> None:
    from vigil.detectors import Detector, check_detector

    det = MediaDetector()
    assert isinstance(det, Detector)
    report = check_detector(det)
    assert report.ok, report.failures


def test_paths_are_not_read_for_items_from_the_network(tmp_path: Path) -> None:
    from vigil.detectors import Prepared

    (tmp_path / "a.png").write_bytes(images()[0])
    idx = MatchIndex()
    idx.set_bank(BankSpec("b", "sexual", 31, False), [("pdq", plain_hashes()[0])])
    item = Item(id="x", account="y", text="t", media=(Media(path=str(tmp_path / "a.png")),))
    assert [s.category for s in MediaDetector(idx).detect([Prepared(item)])[0]] == ["sexual"]
    closed = MediaDetector(idx, paths=False)
    assert closed.detect([Prepared(item)]) == [[]]
    assert list(closed.errors) == ["given by file path (not read from this source)"]


def test_api_items_carry_images_as_bytes_only(store: Store) -> None:
    from fastapi.testclient import TestClient

    from vigil.api import Settings, create_app

    banks = Banks(store)
    banks.create("csam", "child_safety")
    banks.add("csam", [("pdq", plain_hashes()[0], "")])
    app = create_app(store, Settings(), detectors=[KeywordDetector(), MediaDetector(
        store=store, paths=False)])
    c = TestClient(app)
    _, tok = store.create_api_key("platform", ["chirp"], "svc")
    h = {"Authorization": f"Bearer {tok}"}
    copy = TRANSFORMS["rotate 90deg"](images()[0])
    body = {"id": "i1", "account": "u1", "text": "hi",
            "media": [{"data": "data:image/png;base64," + base64.b64encode(copy).decode()}]}
    r = c.post("/v1/items", json=body, headers=h)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["action"] == "remove" and v["category"] == "child_safety"
    (item_decision,) = [d for d in v["decisions"] if d["kind"] == "item"]
    notice = c.get(item_decision["notice"], headers=h).json()
    ev = [e for e in notice["evidence"] if e["detector"] == "media_hash"]
    assert ev and ev[0]["ref"]["bank"] == "csam"
    assert ev[0]["ref"]["view"] == "turned 90 degrees anticlockwise"
    with store.read() as conn:
        assert conn.execute(select(cases.c.queue).where(cases.c.item_id == "i1")
                            ).scalar_one() == "urgent"
        from vigil.store.tables import items as items_t
        stored = conn.execute(select(items_t.c.media).where(items_t.c.external_id == "i1")
                              ).scalar_one()
    assert stored.startswith('["sha256:')  # a reference, never the bytes
    # paths and URLs are not accepted; bad base64 is a 422 naming the field
    for media in ([{"path": "/etc/passwd"}], [{"url": "https://x.example/a.png"}],
                  [{"data": "not base64!"}]):
        r = c.post("/v1/items", json={"id": "i2", "account": "u1", "text": "x",
                                      "media": media}, headers=h)
        assert r.status_code == 422, r.text
        assert "media" in json.dumps(r.json()["detail"])


def test_images_hashed_on_threads_give_the_same_signals() -> None:
    from vigil.detectors import Prepared
    from vigil.media.detector import PARALLEL_FROM

    idx = MatchIndex()
    idx.set_bank(BankSpec("b", "violence", 31, False), [("pdq", h) for h in plain_hashes()[::2]])
    batch = [Prepared(_item(i, TRANSFORMS["blur"](images()[i])))
             for i in range(PARALLEL_FROM + 2)]
    batch.append(Prepared(Item(id="bad", account="z", text="x", media=(Media(data=b"no"),))))
    one, many = MediaDetector(idx, threads=1), MediaDetector(idx, threads=4)
    assert one.detect(batch) == many.detect(batch)
    assert [bool(x) for x in one.detect(batch)] == [i % 2 == 0 for i in range(len(batch) - 1)] + [
        False]
    assert many.errors == {"not a readable image": 1}
