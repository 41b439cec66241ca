"""vigil.readers: JSONL / CSV / Parquet into Items, bad rows into Rejects."""

from __future__ import annotations

import base64
import gzip
import io
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from vigil import readers
from vigil.errors import InputError
from vigil.items import Item, Media
from vigil.readers import Reject, count_lines, read_items, write_reject

PNG = b"\x89PNG\r\n\x1a\n\x00\x01binary"
PNG64 = base64.b64encode(PNG).decode()


def jl(*objs: object) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def split(rows: list[tuple[int, Item | Reject]]) -> tuple[list[Item], list[Reject]]:
    for n, r in rows:
        assert n == (r.line if isinstance(r, Reject) else n)
    return (
        [r for _, r in rows if isinstance(r, Item)],
        [r for _, r in rows if isinstance(r, Reject)],
    )


# ------------------------------------------------------------------ JSONL


def test_good_jsonl_parses_every_field(tmp_path: Path) -> None:
    p = write(
        tmp_path / "in.jsonl",
        jl(
            {
                "id": "a1",
                "account": "u1",
                "text": "hello",
                "platform": "forum",
                "created_at": "2024-03-01T12:00:00Z",
                "lang": "en",
                "url": "https://x/a1",
                "reach": 12,
                "kind": "comment",
                "reply_to": 99,
                "extra": {"ignored": True},
                "media": [
                    {"path": "img/a.png"},
                    {"url": "https://cdn/b.jpg", "kind": "video"},
                    {"data": PNG64},
                    {"data": f"data:image/png;base64,{PNG64}"},
                ],
            },
            {"id": 7, "account": "u2", "text": "naive", "created_at": "2024-03-01T12:00:00"},
            {"id": "e", "account": "u3", "text": "epoch", "created_at": 1700000000.5},
            {"id": "o", "account": "u4", "text": "offset", "created_at": "2024-03-01T14:00+02:00"},
            {"id": "m", "account": "u5", "text": "", "media": [{"url": "https://cdn/only.jpg"}]},
        ),
    )
    rows = list(read_items(p))
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5]
    items, rejects = split(rows)
    assert rejects == []
    a = items[0]
    assert a == Item(
        id="a1",
        account="u1",
        text="hello",
        platform="forum",
        created_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
        lang="en",
        url="https://x/a1",
        reach=12,
        kind="comment",
        reply_to="99",
        media=(
            Media(path="img/a.png"),
            Media(url="https://cdn/b.jpg", kind="video"),
            Media(data=PNG),
            Media(data=PNG, kind="image"),
        ),
    )
    assert items[1].id == "7" and items[1].platform == "default" and items[1].kind == "post"
    assert items[1].created_at == datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert items[1].reach == 0 and items[1].media == () and items[1].lang is None
    assert items[2].created_at == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)
    assert items[3].created_at == datetime(2024, 3, 1, 12, tzinfo=UTC)
    for it in items[1:4]:
        assert it.created_at is not None and it.created_at.utcoffset() == timedelta(0)
    assert items[4].text == "" and items[4].media == (Media(url="https://cdn/only.jpg"),)


def test_bad_jsonl_lines_become_rejects_with_line_and_field(tmp_path: Path) -> None:
    good = {"account": "u", "text": "ok"}
    p = write(
        tmp_path / "in.jsonl",
        jl(
            {"id": "g1", **good},  # 1
            '{"id": "x", "text": "broken",',  # 2 broken JSON
            "",  # 3 blank
            {"id": "nt", "account": "u"},  # 4 missing text
            '["not", "an", "object"]',  # 5
            {"id": "g2", **good},  # 6
            {"id": "t", **good, "created_at": "2024-13-45"},  # 7
            {"id": "r", **good, "reach": -3},  # 8
            {"id": "b", **good, "media": [{"data": "@@not base64@@"}]},  # 9
            "   ",  # 10 whitespace only
            {"id": "g3", **good},  # 11
            {"id": "k", **good, "kind": "tweet"},  # 12
            {"id": "na", "text": "no account"},  # 13
            {"id": "mm", **good, "media": [{"path": "a", "url": "b"}]},  # 14
            {"id": 1.5, **good},  # 15
            {"id": "ty", "account": "u", "text": 5},  # 16
            {"id": "e", "account": "u", "text": ""},  # 17
        ),
    )
    rows = list(read_items(p))
    items, rejects = split(rows)
    assert [i.id for i in items] == ["g1", "g2", "g3"]
    assert [n for n, r in rows if isinstance(r, Item)] == [1, 6, 11]
    got = {r.line: r.reason for r in rejects}
    assert sorted(got) == [2, 4, 5, 7, 8, 9, 12, 13, 14, 15, 16, 17]
    assert got[2].startswith("invalid JSON")
    assert got[4] == "field 'text': missing"
    assert got[5] == "not a JSON object (got array)"
    assert got[7] == "field 'created_at': not an ISO 8601 time: '2024-13-45'"
    assert got[8].startswith("field 'reach':") and "-3" in got[8]
    assert got[9] == "field 'media[0].data': not valid base64"
    assert got[12].startswith("field 'kind':") and "'tweet'" in got[12]
    assert got[13] == "field 'account': missing"
    assert got[14].startswith("field 'media[0]': needs exactly one of path, url, data")
    assert got[15].startswith("field 'id':")
    assert got[16] == "field 'text': expected a string, got int"
    assert got[17].startswith("field 'text': empty")
    # raw is the original line, usable for the rejects file
    assert next(r for r in rejects if r.line == 2).raw == '{"id": "x", "text": "broken",'


def test_more_created_at_and_reach_and_media_errors(tmp_path: Path) -> None:
    base = {"id": "x", "account": "u", "text": "t"}
    p = write(
        tmp_path / "in.jsonl",
        jl(
            {**base, "created_at": 1_700_000_000_000_000},
            {**base, "created_at": True},
            {**base, "reach": "12"},  # strings only count in CSV
            {**base, "reach": 2.5},
            {**base, "media": {"path": "a"}},
            {**base, "media": ["a.png"]},
            {**base, "media": [{"data": "data:image/png;base64"}]},
            {**base, "reach": 3.0, "created_at": None, "lang": None},
        ),
    )
    rows = list(read_items(p))
    reasons = [r.reason for _, r in rows if isinstance(r, Reject)]
    assert reasons[0].startswith("field 'created_at': epoch seconds out of range")
    assert reasons[1].startswith("field 'created_at': expected")
    assert reasons[2].startswith("field 'reach':")
    assert reasons[3].startswith("field 'reach':")
    assert reasons[4] == "field 'media': expected a list of objects, got object"
    assert reasons[5] == "field 'media[0]': expected an object, got string"
    assert reasons[6].startswith("field 'media[0].data':")
    last = rows[-1][1]
    assert isinstance(last, Item) and last.reach == 3 and last.created_at is None


def test_invalid_utf8_line_is_rejected_and_rest_read(tmp_path: Path) -> None:
    p = tmp_path / "in.jsonl"
    p.write_bytes(
        b'{"id":"1","account":"u","text":"a"}\n{"id":"2","text":"\xff\xfe"}\n'
        b'{"id":"3","account":"u","text":"c"}\n'
    )
    rows = list(read_items(p))
    assert [(n, type(r).__name__) for n, r in rows] == [(1, "Item"), (2, "Reject"), (3, "Item")]
    bad = rows[1][1]
    assert isinstance(bad, Reject) and bad.reason == "not valid UTF-8"


def test_bom_blank_lines_crlf_and_very_long_line(tmp_path: Path) -> None:
    long_text = "x" * 3_000_000
    body = jl(
        {"id": "1", "account": "u", "text": "first"},
        "",
        {"id": "2", "account": "u", "text": long_text},
    ).replace("\n", "\r\n")
    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + body.encode())
    rows = list(read_items(p))
    assert [n for n, _ in rows] == [1, 3]
    items, _ = split(rows)
    assert items[0].text == "first" and items[1].text == long_text


def test_platform_defaulting_and_optional_account(tmp_path: Path) -> None:
    p = write(
        tmp_path / "in.ndjson",
        jl({"id": "1", "text": "a"}, {"id": "2", "text": "b", "platform": "own"}),
    )
    a, b = (r for _, r in read_items(p, platform="arg", require_account=False))
    assert isinstance(a, Item) and isinstance(b, Item)
    assert (a.platform, a.account, b.platform) == ("arg", "", "own")
    a2 = next(read_items(p, require_account=False))[1]
    assert isinstance(a2, Item) and a2.platform == "default"
    rej = next(read_items(p))[1]
    assert isinstance(rej, Reject) and rej.reason == "field 'account': missing"


def test_stdin_and_streams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\ufeff" + jl({"id": "1", "account": "u", "text": "a"}, "nope")
    rows = list(read_items(io.StringIO(text), platform="p"))
    assert [(n, type(r).__name__) for n, r in rows] == [(1, "Item"), (2, "Reject")]
    item = rows[0][1]
    assert isinstance(item, Item) and item.platform == "p"

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    rows = list(read_items("-"))
    assert [(n, type(r).__name__) for n, r in rows] == [(1, "Item"), (2, "Reject")]
    assert count_lines("-") is None and count_lines(io.StringIO(text)) is None

    csv_text = "id,account,text\n1,u,hi\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(csv_text.encode())))
    ((n, item),) = read_items("-", fmt="csv")
    assert n == 2 and isinstance(item, Item) and item.text == "hi"
    ((n, item),) = read_items(io.StringIO(csv_text), fmt="csv")
    assert n == 2 and isinstance(item, Item)


# ------------------------------------------------------------------ CSV


def test_good_csv(tmp_path: Path) -> None:
    media = json.dumps([{"path": "a.png"}, {"data": PNG64}]).replace('"', '""')
    p = write(
        tmp_path / "in.csv",
        "id,account,text,platform,created_at,reach,kind,lang,url,reply_to,media,junk\r\n"
        f'1,u1,hello,,2024-03-01T12:00:00Z,12,article,en,,,"{media}",z\r\n'
        '2,u2,"with, comma",forum,1700000000,,,,,5,,\r\n',
    )
    items, rejects = split(list(read_items(p, platform="site")))
    assert rejects == []
    a, b = items
    assert a == Item(
        id="1",
        account="u1",
        text="hello",
        platform="site",
        created_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
        reach=12,
        kind="article",
        lang="en",
        media=(Media(path="a.png"), Media(data=PNG)),
    )
    assert b.text == "with, comma" and b.platform == "forum" and b.reach == 0
    assert b.created_at == datetime.fromtimestamp(1700000000, tz=UTC) and b.reply_to == "5"
    assert b.url is None and b.kind == "post"


def test_csv_multiline_field_reports_start_lines(tmp_path: Path) -> None:
    p = write(
        tmp_path / "in.csv",
        "id,account,text,reach\n"  # 1
        '1,u,"line one\nline two\nline three",1\n'  # 2-4
        "\n"  # 5 blank
        "2,u,fine,x12\n"  # 6 bad reach
        '3,u,"a\r\nb",2\n'  # 7-8
        "4,u,too,many,fields\n"  # 9
        "5,,no account,0\n"  # 10
        '6,u,"",\n',  # 11 empty text, no media
    )
    rows = list(read_items(p))
    assert [(n, type(r).__name__) for n, r in rows] == [
        (2, "Item"),
        (6, "Reject"),
        (7, "Item"),
        (9, "Reject"),
        (10, "Reject"),
        (11, "Reject"),
    ]
    items, rejects = split(rows)
    assert items[0].text == "line one\nline two\nline three" and items[1].text == "a\r\nb"
    assert rejects[0].reason == "field 'reach': not an integer: 'x12'"
    assert json.loads(rejects[0].raw) == {"id": "2", "account": "u", "text": "fine", "reach": "x12"}
    assert rejects[1].reason == "row has 5 fields, header has 4"
    assert rejects[2].reason == "field 'account': empty"
    assert rejects[3].reason.startswith("field 'text': empty")
    assert count_lines(p) == 11


def test_csv_bad_media_json_and_bad_time(tmp_path: Path) -> None:
    p = write(
        tmp_path / "in.csv",
        'id,account,text,media,created_at\n1,u,t,"[{""path"": 1",\n2,u,t,,yesterday\n',
    )
    r1, r2 = (r for _, r in read_items(p))
    assert isinstance(r1, Reject) and r1.reason.startswith("field 'media': not a JSON list")
    assert isinstance(r2, Reject) and r2.reason == (
        "field 'created_at': not an ISO 8601 time: 'yesterday'"
    )


def test_csv_bom_long_field_and_missing_column(tmp_path: Path) -> None:
    long_text = "y" * 500_000  # beyond csv's default field size limit
    p = tmp_path / "bom.csv"
    p.write_bytes(f"\ufeffid,account,text\n1,u,{long_text}\n".encode())
    ((n, item),) = list(read_items(p))
    assert n == 2 and isinstance(item, Item) and item.id == "1" and item.text == long_text

    q = write(tmp_path / "noacct.csv", "id,text\n1,hi\n")
    with pytest.raises(InputError, match="'account'"):
        list(read_items(q))
    ((_, ok),) = list(read_items(q, require_account=False))
    assert isinstance(ok, Item) and ok.account == ""
    assert list(read_items(write(tmp_path / "empty.csv", ""))) == []


# ------------------------------------------------------------------ gzip


def test_gzip_jsonl_and_csv(tmp_path: Path) -> None:
    gj = tmp_path / "in.jsonl.gz"
    gj.write_bytes(
        gzip.compress(
            jl({"id": "1", "account": "u", "text": "a"}, "", {"id": "2", "text": "b"}).encode()
        )
    )
    rows = list(read_items(gj))
    assert [(n, type(r).__name__) for n, r in rows] == [(1, "Item"), (3, "Reject")]
    assert count_lines(gj) == 3
    gc = tmp_path / "in.CSV.gz"
    gc.write_bytes(gzip.compress(b'id,account,text\n1,u,"x\ny"\n2,u,z\n'))
    assert [n for n, _ in read_items(gc)] == [2, 4]

    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(jl({"id": "1", "account": "u", "text": "a"}).encode())[:15])
    with pytest.raises(InputError, match="cannot read"):
        list(read_items(broken))


# ------------------------------------------------------------------ Parquet


def test_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    media_t = pa.list_(pa.struct([("path", pa.string()), ("data", pa.binary())]))
    n_rows = 10
    table = pa.table(
        {
            "id": pa.array(range(n_rows), pa.int64()),
            "account": [f"u{i}" for i in range(n_rows)],
            "text": ["t"] * n_rows,
            "created_at": pa.array(
                [datetime(2024, 1, 1, i, tzinfo=UTC) for i in range(n_rows)],
                pa.timestamp("ns", tz="Europe/Berlin"),
            ),
            "naive": pa.array([datetime(2024, 1, 1)] * n_rows, pa.timestamp("us")),
            "reach": pa.array([5, None, -1, 0, 1, 2, 3, 4, 5, 6], pa.int64()),
            "media": pa.array(
                [[{"path": "a.png", "data": None}], [{"path": None, "data": PNG}]]
                + [None] * (n_rows - 2),
                media_t,
            ),
            "unused": ["z"] * n_rows,
        }
    )
    p = tmp_path / "in.parquet"
    pq.write_table(table, p, row_group_size=4)
    monkeypatch.setattr(readers, "_BATCH", 3)  # line numbers must run on across batches
    rows = list(read_items(p, platform="pq"))
    assert [n for n, _ in rows] == list(range(1, n_rows + 1))
    items, rejects = split(rows)
    assert [r.line for r in rejects] == [3]
    assert rejects[0].reason.startswith("field 'reach':")
    assert json.loads(rejects[0].raw)["id"] == 2
    first = items[0]
    assert first.id == "0" and first.platform == "pq" and first.reach == 5
    assert first.created_at == datetime(2024, 1, 1, 0, tzinfo=UTC)
    assert first.created_at is not None and first.created_at.tzinfo == UTC
    assert first.media == (Media(path="a.png"),) and items[1].media == (Media(data=PNG),)
    assert items[1].reach == 0
    assert count_lines(p) == n_rows

    naive = tmp_path / "naive.parquet"
    pq.write_table(
        pa.table(
            {
                "id": ["a"],
                "account": ["u"],
                "text": ["t"],
                "created_at": pa.array([datetime(2024, 5, 1, 8)], pa.timestamp("ms")),
            }
        ),
        naive,
    )
    ((_, it),) = list(read_items(naive))
    assert isinstance(it, Item) and it.created_at == datetime(2024, 5, 1, 8, tzinfo=UTC)

    fake = write(tmp_path / "fake.parquet", "not parquet at all")
    with pytest.raises(InputError, match="Parquet"):
        list(read_items(fake))


# ------------------------------------------------------------------ API edges


def test_unreadable_sources_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_items(tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="unknown format"):
        read_items(write(tmp_path / "in.json", "[]"))
    with pytest.raises(InputError, match="unknown format"):
        read_items(tmp_path / "in.jsonl", fmt="xml")
    with pytest.raises(InputError, match="unknown format"):
        read_items(tmp_path / "in.parquet.gz")
    with pytest.raises(InputError, match="regular file"):
        (tmp_path / "dir.jsonl").mkdir()
        read_items(tmp_path / "dir.jsonl")
    # fmt overrides the suffix
    p = write(tmp_path / "data.txt", "id,account,text\n1,u,x\n")
    assert [n for n, _ in read_items(p, fmt="csv")] == [2]
    assert [n for n, _ in read_items(str(p), fmt="csv")] == [2]


def test_count_lines(tmp_path: Path) -> None:
    assert count_lines(write(tmp_path / "a.jsonl", "{}\n{}\n\n{}")) == 4
    assert count_lines(write(tmp_path / "b.jsonl", "{}\n{}\n")) == 2
    assert count_lines(write(tmp_path / "c.jsonl", "")) == 0
    assert count_lines(tmp_path / "missing.jsonl") is None


def test_write_reject_round_trips(tmp_path: Path) -> None:
    p = write(
        tmp_path / "in.jsonl",
        jl(
            {"id": "1", "account": "u", "text": "ok"},
            {"id": "2", "account": "ü", "text": "t", "reach": -1},
        ),
    )
    out = io.StringIO()
    for _, r in read_items(p):
        if isinstance(r, Reject):
            write_reject(out, r, str(p))
    (line,) = out.getvalue().splitlines()
    rec = json.loads(line)
    assert rec == {
        "source": str(p),
        "line": 2,
        "reason": "field 'reach': must be non-negative, got -1",
        "raw": '{"id": "2", "account": "\\u00fc", "text": "t", "reach": -1}',
    }


def test_timezone_conversion_keeps_instant() -> None:
    src = io.StringIO(
        jl({"id": "1", "account": "u", "text": "t", "created_at": "2024-06-01T09:30:00-04:00"})
    )
    ((_, it),) = list(read_items(src))
    assert isinstance(it, Item) and it.created_at is not None
    assert it.created_at.tzinfo == UTC
    assert it.created_at == datetime(2024, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
