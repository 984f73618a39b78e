"""How a token holder's reader walks a shard (protocol page §13.3), on hand-made shards."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from lianxin.protocol import Token
from lianxin.protocol.sealing import (
    seal_answer_for_reporter,
    seal_for_reply_key,
    seal_for_reporter,
    seal_sent_for_reporter,
)
from lianxin.status import MAGIC, StatusError, parse_shard, read_status

STATUS = {"as_of": "2026-11-30", "state": "accepted", "steps": [], "v": 1}


def _row(lookup_id: bytes, status: bytes, answers: list[bytes]) -> bytes:
    parts = [lookup_id, struct.pack(">H", len(status)), status, bytes([len(answers)])]
    parts += [struct.pack(">H", len(a)) + a for a in answers]
    return b"".join(parts)


def _site(tmp_path: Path, rows: list[bytes]) -> str:
    (tmp_path / "status").mkdir()
    shard = MAGIC + struct.pack(">I", len(rows)) + b"".join(rows)
    (tmp_path / "status" / "0.bin").write_bytes(shard + bytes(64))
    index = {"v": 1, "shards": 1, "shard_bytes": len(shard) + 64, "as_of": "2026-11-30"}
    (tmp_path / "status" / "index.json").write_text(json.dumps(index))
    return str(tmp_path)


def test_a_row_that_does_not_open_is_skipped_and_the_scan_goes_on(tmp_path: Path) -> None:
    token = Token.generate()
    keys = token.keys()
    real = seal_for_reply_key(json.dumps(STATUS).encode(), bytes(keys.reply_public))
    answer = seal_answer_for_reporter({"text": "答复"}, bytes(keys.reply_public))
    dummy = _row(keys.lookup_id, os.urandom(len(real)), [])
    site = _site(tmp_path, [dummy, _row(keys.lookup_id, real, [answer])])
    found = read_status(site, token)
    assert found is not None and found.status == STATUS
    assert [a["text"] for a in found.answers] == ["答复"]


def test_only_rows_that_do_not_open_mean_not_found(tmp_path: Path) -> None:
    token = Token.generate()
    dummy = _row(token.keys().lookup_id, os.urandom(304), [])
    assert read_status(_site(tmp_path, [dummy, dummy]), token) is None


def test_an_answer_that_does_not_open_is_an_error_not_a_missing_case(tmp_path: Path) -> None:
    token = Token.generate()
    keys = token.keys()
    real = seal_for_reply_key(json.dumps(STATUS).encode(), bytes(keys.reply_public))
    site = _site(tmp_path, [_row(keys.lookup_id, real, [os.urandom(176)])])
    with pytest.raises(StatusError, match="item 1 of this case cannot be read"):
        read_status(site, token)


@pytest.mark.parametrize("cut", [9, 8 + 16, 8 + 18 + 3, 8 + 18 + 10, 8 + 18 + 10 + 1 + 1])
def test_a_truncated_shard_is_refused(cut: int) -> None:
    row = _row(bytes(16), bytes(10), [bytes(5)])
    data = MAGIC + struct.pack(">I", 1) + row
    assert len(parse_shard(data)) == 1
    with pytest.raises(StatusError, match="truncated"):
        parse_shard(data[:cut])


def test_records_of_what_was_sent_are_read_and_unknown_item_types_are_ignored(
    tmp_path: Path,
) -> None:
    token = Token.generate()
    keys = token.keys()
    reply = bytes(keys.reply_public)
    real = seal_for_reply_key(json.dumps(STATUS).encode(), reply)
    items = [
        seal_answer_for_reporter({"kind": "answer", "text": "答复"}, reply),
        seal_sent_for_reporter(
            {"kind": "material", "date": "2026-11-20", "title": "补充", "files": 2}, reply
        ),
        seal_for_reporter({"schema": "lianxin/sent/v1", "kind": "future-kind"}, reply),
        seal_sent_for_reporter(
            {"kind": "report", "date": "2026-11-02", "title": "工程款问题", "files": 0}, reply
        ),
    ]
    site = _site(tmp_path, [_row(keys.lookup_id, real, items)])
    found = read_status(site, token)
    assert found is not None
    assert [a["text"] for a in found.answers] == ["答复"]
    assert [s["title"] for s in found.sent] == ["工程款问题", "补充"]  # by date; unknown kind: out
    lines = found.lines()
    assert "\nWhat you sent:" in lines
    assert "  2026-11-02  Report: “工程款问题”" in lines
    assert "  2026-11-20  Additional material: “补充” (2 files)" in lines


def test_an_item_of_a_type_the_reader_does_not_know_is_ignored(tmp_path: Path) -> None:
    from nacl.public import PublicKey, SealedBox

    import lianxin.protocol.payload as payload
    from lianxin.protocol.padding import pad_block

    token = Token.generate()
    keys = token.keys()
    reply = bytes(keys.reply_public)
    real = seal_for_reply_key(json.dumps(STATUS).encode(), reply)
    later = {"schema": "lianxin/message/v9", "text": "一条新类型的消息"}
    body = json.dumps(dict(later, attachments=[]), ensure_ascii=False).encode()
    packed = struct.pack(">I", len(body)) + body
    sealed = bytes(SealedBox(PublicKey(reply)).encrypt(pad_block(packed)))
    assert later["schema"] not in payload.SCHEMAS
    site = _site(tmp_path, [_row(keys.lookup_id, real, [sealed])])
    found = read_status(site, token)
    assert found is not None and found.answers == [] and found.sent == []
