"""Strict JSON for request bodies (protocol page §4.4), with refusals in the protocol's words.

A body is refused (``bad-json``) when it is not UTF-8, is not JSON, repeats a member of an
object, holds ``NaN``/``Infinity``, nests arrays and objects more than ``MAX_DEPTH`` levels deep,
or holds a number literal longer than ``MAX_NUMBER_CHARS`` characters. The ``detail`` of each
refusal is written here, never copied from the parser: the standard library's messages name its
own limits (the recursion limit, the 4300-digit integer limit), which are not the protocol's.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import MalformedError

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 32


class _Refused(ValueError):
    """A refusal whose message is already in the protocol's words."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"the member {ascii(key)[:40]} appears twice in one object")
            seen.add(key)
    return doc


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _number(kind: type[int] | type[float]) -> Any:
    def parse(literal: str) -> int | float:
        if len(literal) > MAX_NUMBER_CHARS:
            raise _Refused(f"a number is longer than {MAX_NUMBER_CHARS} characters")
        return kind(literal)

    return parse


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_constant=_constant,
    parse_int=_number(int),
    parse_float=_number(float),
)


def _depth(doc: Any) -> int:
    """How many arrays and objects are open at the deepest point (a scalar is 0)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in value)
    return deepest


def _refuse(detail: str) -> MalformedError:
    return MalformedError(f"the body is not strict JSON: {detail}", slug="bad-json", status=400)


def loads_strict(body: bytes) -> Any:
    """Parse a request body by the rules of §4.4; raise ``MalformedError`` (``bad-json``)."""
    too_deep = f"arrays and objects nest more than {MAX_DEPTH} levels deep"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(f"not UTF-8 (byte {exc.start})") from None
    try:
        doc = _DECODER.decode(text)
    except _Refused as exc:
        raise _refuse(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise _refuse(f"a syntax error at character {exc.pos}") from None
    except RecursionError:
        # The parser's own stack ran out: far deeper than MAX_DEPTH.
        raise _refuse(too_deep) from None
    # Every open array or object has its own bracket in the text (brackets inside strings only
    # add to the count), so a body with few brackets cannot nest too deep: two scans in C
    # instead of a walk over every value.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(doc) > MAX_DEPTH:
        raise _refuse(too_deep)
    return doc
