"""Parsing the values staff type: dates, months, case references, free text.

Every parser names the argument in its refusal, so the message reads
``--today: '2026-13-01' is not a date (YYYY-MM-DD)``.
"""

from __future__ import annotations

import re
from datetime import date

from .refusals import BadValue

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_NUMBER = re.compile(r"\d{4}-\d{6}")
MAX_TEXT = 2000  # answers travel in fixed-size status shards: keep them short
MAX_NOTE = 20000
MAX_OFFICER = 64


def parse_day(text: str, argument: str) -> date:
    """A calendar day written YYYY-MM-DD."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadValue(
            f"{text!r} is not a date (YYYY-MM-DD)", argument=argument, code="not_a_date"
        ) from None


def parse_month(text: str, argument: str = "--month") -> tuple[date, date]:
    """A month written YYYY-MM, as its first and last day."""
    match = _MONTH.fullmatch(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BadValue(f"{text!r} is not a month (YYYY-MM)", argument=argument)
    year, month = int(match.group(1)), int(match.group(2))
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def case_ref(text: str | int, argument: str = "CASE") -> int | str:
    """A case id (``12``) or a registration number (``2026-000012``)."""
    if isinstance(text, int):
        return text
    value = text.strip()
    if value.startswith("#") and value[1:].isdigit():  # how messages print an id: #12
        value = value[1:]
    if value.isdigit():
        return int(value)
    if _NUMBER.fullmatch(value):
        return value
    raise BadValue(
        f"{text!r} is neither a case id nor a registration number (YYYY-NNNNNN)",
        argument=argument,
        code="not_a_case_ref",
    )


def command_ref(label: str, case_id: int) -> str:
    """How a suggested command names a case: its registration number, or its bare id (a shell
    reads ``#12`` as the start of a comment)."""
    return str(case_id) if label.startswith("#") else label


def clean_text(text: str | None, argument: str, *, limit: int = MAX_TEXT, required: bool) -> str:
    """Free text from staff: stripped, bounded, required when the step needs it."""
    value = (text or "").strip()
    if required and not value:
        raise BadValue("must not be empty", argument=argument, code="empty")
    if len(value) > limit:
        raise BadValue(
            f"longer than {limit} characters ({len(value)})",
            argument=argument,
            code="too_long",
            limit=limit,
            length=len(value),
        )
    return value


def clean_officer(text: str | None) -> str:
    """The acting officer's name or staff id, as it goes into every event."""
    value = (text or "").strip()
    if not value:
        raise BadValue("who is acting? give --officer or set LIANXIN_OFFICER", argument="--officer")
    if len(value) > MAX_OFFICER or any(not c.isprintable() for c in value):
        raise BadValue(
            f"must be printable and at most {MAX_OFFICER} characters", argument="--officer"
        )
    return value
