"""How a token holder's reader walks a shard (protocol page §13.3), on hand-made shards."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from lianxin.protocol import Token
from lianxin.protocol.sealing import seal_answer_for_reporter, seal_for_reply_key
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
    with pytest.raises(StatusError, match="answer 1 of this case cannot be read"):
        read_status(site, token)


@pytest.mark.parametrize("cut", [9, 8 + 16, 8 + 18 + 3, 8 + 18 + 10, 8 + 18 + 10 + 1 + 1])
def test_a_truncated_shard_is_refused(cut: int) -> None:
    row = _row(bytes(16), bytes(10), [bytes(5)])
    data = MAGIC + struct.pack(">I", 1) + row
    assert len(parse_shard(data)) == 1
    with pytest.raises(StatusError, match="truncated"):
        parse_shard(data[:cut])
