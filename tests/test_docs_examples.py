"""The examples in the README and on the protocol page are valid by the code they describe."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT

from lianxin.protocol import Token, TokenError, validate_followup, validate_report


def _json_blocks(path: str) -> list[str]:
    return re.findall(r"```json\n(.*?)```", (ROOT / path).read_text(encoding="utf-8"), re.S)


def test_the_readmes_example_report_is_a_valid_report() -> None:
    (example,) = _json_blocks("README.md")
    doc = json.loads(example)
    assert doc["schema"] == "lianxin/report/v1"
    assert validate_report(doc)["title"] == doc["title"]


def test_the_protocol_pages_documents_are_valid() -> None:
    for page in ("portal/docs/protocol.en.md", "portal/docs/protocol.zh.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        (followup,) = re.findall(r"`(\{\"attachments\":\[\],\"rating\".*?\})`", text)
        assert validate_followup(json.loads(followup))["rating"] == "basically"


def test_the_whitespace_listed_in_6_3_is_what_the_token_reader_drops() -> None:
    # §6.3 lists the code points; the reader must drop exactly those (and no other).
    starts = {"protocol.en.md": "Whitespace is exactly", "protocol.zh.md": "空白字符恰为"}
    for page, start in starts.items():
        text = (ROOT / "portal/docs" / page).read_text(encoding="utf-8")
        listing = text[text.index(start) : text.index("U+200B")]
        listed: set[int] = set()
        for first, last in re.findall(r"U\+([0-9A-F]{4})(?:–U\+([0-9A-F]{4}))?", listing):
            listed |= set(range(int(first, 16), int(last or first, 16) + 1))
        assert listed == {c for c in range(0x110000) if chr(c).isspace()}, page
    token = "7KQ2-M9XD-HF3T-0BWR-Z8N5-C1VJ-P4GV"
    for c in [c for c in range(0x110000) if chr(c).isspace()] + [0x2D, *range(0x2010, 0x2015)]:
        assert str(Token.parse(token.replace("-", chr(c)))) == token
    for c in (0x200B, 0xFEFF):
        with pytest.raises(TokenError) as caught:
            Token.parse(token.replace("-", chr(c)))
        assert caught.value.slug == "token-format"


def test_the_protocol_pages_message_example_is_the_test_vectors() -> None:
    vectors = json.loads((ROOT / "tests/vectors/protocol-v1.json").read_text(encoding="utf-8"))
    [vector] = [v for v in vectors["reply_sealed"] if v["what"] == "message"]
    for page in ("portal/docs/protocol.en.md", "portal/docs/protocol.zh.md"):
        [example] = [b for b in _json_blocks(page) if '"lianxin/message/v1"' in b]
        assert json.loads(example) == dict(vector["doc"], attachments=[]), page
