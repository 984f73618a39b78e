"""``search``: find cases in the officer's scope by register fields and by the words of the
report.

The register fields (registration number, handling unit, special ledger, state, received
dates) narrow the cases with :func:`desk.listing.list_cases`, which limits a handler to their
unit. Words of the report text, or the reported person (name or unit), can only be matched by
opening the reports: each candidate case whose key the officer holds is opened in memory
(:func:`desk.scope.read_content`) and a signed ``read`` event records it, as any read does;
nothing opened is written anywhere. Cases whose key the officer does not hold are not opened and
are counted as such. At most :data:`MAX_OPENED` reports are opened per search, newest first:
narrow by dates or unit to reach older ones.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .casekeys import open_case_key
from .cases import load_case
from .context import Desk
from .listing import MAX_ROWS, Filters, list_cases
from .refusals import BadValue
from .roles import desk_action
from .scope import read_content

MAX_OPENED = 500
MAX_WORDS = 200  # characters of words to look for


@dataclass(frozen=True)
class Query:
    """What to look for; every part given must match."""

    number: str | None = None
    unit: str | None = None
    tag: str | None = None
    state: str | None = None
    since: date | None = None
    until: date | None = None
    person: str | None = None  # the reported person's name or unit, in the report
    words: str | None = None  # words of the report's title or text (each must appear)
    limit: int = 100

    @property
    def opens_reports(self) -> bool:
        return bool(self.person or self.words)


@dataclass
class Found:
    """The matching cases (listing rows, newest first) and what the search had to open."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    opened: int = 0  # reports opened (one read event each)
    not_opened: int = 0  # candidates whose key the officer does not hold (out of scope, or
    # not yet registered): their reports were not searched
    capped: bool = False  # more candidates than MAX_OPENED: the oldest were not opened


def _normal(text: str) -> str:
    """NFKC, lower case, without spaces: how texts and words are compared."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _matches(document: dict[str, Any], person: str, words: list[str]) -> bool:
    reported = document.get("reported") or {}
    if person:
        whom = _normal(f"{reported.get('name', '')} {reported.get('unit', '')}")
        if person not in whom:
            return False
    body = _normal(f"{document.get('title', '')} {document.get('text', '')}")
    return all(word in body for word in words)


@desk_action("list")
def search_cases(desk: Desk, query: Query) -> Found:
    """Cases matching ``query`` that the officer may see; report words only in reports the
    officer may read (each opened report is a read event)."""
    if not 1 <= query.limit <= MAX_ROWS:
        raise BadValue(f"{query.limit} is out of range (1..{MAX_ROWS})", "--limit")
    if len(query.words or "") + len(query.person or "") > MAX_WORDS:
        raise BadValue(f"give at most {MAX_WORDS} characters of words", "--words")
    words = [_normal(w) for w in (query.words or "").split() if _normal(w)]
    person = _normal(query.person or "")
    filters = Filters(
        state=query.state or None,
        unit=query.unit or None,
        tag=query.tag or None,
        number=(query.number or "").strip() or None,
        since=query.since,
        until=query.until,
        limit=MAX_OPENED + 1 if words or person else query.limit,
    )
    if query.tag and query.tag not in desk.taxonomy.tags:
        raise BadValue(f"{query.tag!r} is not a special-ledger tag", "--tag")
    if query.unit and query.unit not in desk.taxonomy.units:
        raise BadValue(f"{query.unit!r} is not a unit of the list", "--unit")
    candidates = list_cases(desk, filters)
    found = Found()
    if not (words or person):
        found.rows = candidates
        return found
    desk.authorize("show")  # reading report text: registrars, approvers, handlers
    found.capped = len(candidates) > MAX_OPENED
    me = desk.me()
    opened: list[int] = []
    try:
        for row in candidates[:MAX_OPENED]:
            if open_case_key(desk.db, row["id"], me) is None:
                found.not_opened += 1
                continue
            documents = read_content(desk, load_case(desk.db, row["id"]))
            opened.append(row["id"])
            hit = any(_matches(d.get("document", d), person, words) for d in documents)
            if hit and len(found.rows) < query.limit:
                found.rows.append(row)
    finally:  # every report opened is a read, even if the search stopped half-way
        with desk.transaction():
            for case_id in opened:
                desk.event(case_id, "read", {"what": "report", "for": "search"})
    found.opened = len(opened)
    return found
