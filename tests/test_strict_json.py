"""The gateway's strict JSON (protocol page §4.4): its limits, and refusals in its own words."""

from __future__ import annotations

import pytest

from lianxin.protocol.errors import MalformedError
from lianxin.protocol.strict_json import MAX_DEPTH, MAX_NUMBER_CHARS, loads_strict
from lianxin.protocol.strict_json import _depth as depth


def _refusal(body: bytes) -> str:
    with pytest.raises(MalformedError) as caught:
        loads_strict(body)
    assert caught.value.slug == "bad-json" and caught.value.status == 400
    return caught.value.detail


def _nested(levels: int) -> bytes:
    return b'{"a":' * (levels - 1) + b"[]" + b"}" * (levels - 1)


def test_nesting_up_to_the_limit_is_accepted_one_more_is_refused() -> None:
    assert depth(loads_strict(_nested(MAX_DEPTH))) == MAX_DEPTH
    assert "nest more than 32 levels" in _refusal(_nested(MAX_DEPTH + 1))
    assert "nest more than 32 levels" in _refusal(b"[" * MAX_DEPTH + b"[1]" + b"]" * MAX_DEPTH)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    # Shallow documents whose strings hold many brackets: the quick bracket count is over the
    # limit, so the real depth is worked out, and it is 2 or 1.
    shallow = b'{"a": ["' + b"[{" * 100 + b'"], "b": "' + b"{" * 40 + b'"}'
    assert depth(loads_strict(shallow)) == 2
    assert loads_strict(b'"' + b"[" * 1000 + b'"') == "[" * 1000
    # A deep document next to such strings is still refused.
    assert "nest more than 32 levels" in _refusal(b'["[[[[", ' + _nested(MAX_DEPTH + 1) + b"]")


def test_nesting_past_the_parsers_own_stack_gets_the_same_words() -> None:
    detail = _refusal(b"[" * 100_000 + b"]" * 100_000)
    assert detail == "the body is not strict JSON: arrays and objects nest more than 32 levels deep"


def test_numbers_up_to_the_limit_are_accepted_longer_ones_refused() -> None:
    assert loads_strict(b"[" + b"9" * MAX_NUMBER_CHARS + b"]") == [int("9" * MAX_NUMBER_CHARS)]
    assert loads_strict(b"-" + b"1" * (MAX_NUMBER_CHARS - 1)) == -int("1" * (MAX_NUMBER_CHARS - 1))
    assert loads_strict(b"9007199254740991") == 2**53 - 1
    for literal in (b"9" * 33, b"-" + b"1" * 32, b"1." + b"0" * 31, b"9" * 5000, b"1e" + b"9" * 31):
        assert _refusal(b'{"n": ' + literal + b"}").endswith("longer than 32 characters")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"a": 1, "a": 2}', "the member 'a' appears twice in one object"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b"[-Infinity]", "-Infinity is not a JSON number"),
        (b'{"a": }', "a syntax error at character 6"),
        (b"", "a syntax error at character 0"),
        (b'["\xff"]', "not UTF-8 (byte 2)"),
        (b"\xef\xbb\xbf{}", "a syntax error at character 0"),  # a byte order mark
    ],
)
def test_each_refusal_is_in_the_protocols_words(body: bytes, words: str) -> None:
    assert _refusal(body) == f"the body is not strict JSON: {words}"


def test_no_refusal_quotes_the_parser_or_the_interpreter() -> None:
    bodies = [b"9" * 5000, b"[" * 5000, b'{"a" 1}', b"\xfe\xff", b"[1,]", b'"\\u12"']
    for body in bodies:
        detail = _refusal(body)
        for leak in ("4300", "recursion", "sys.", "Expecting", "codec", "Exceeds", "line 1"):
            assert leak not in detail, (body[:20], detail)
