"""The search page: cases in the officer's scope by registration number, unit, special
ledger, state and received dates, and by the reported person or words of the report.

It calls :func:`desk.search.search_cases` (the function ``desk search`` calls): the desk
limits a handler to their unit, opens only reports whose key the officer holds, and records
each opened report as a read. The words travel in a POST body (with the CSRF token), never in
the address, so they stay out of the browser's history and the proxy's logs; the page is not
cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk.context import Desk
from desk.lifecycle import STATES
from desk.refusals import BadValue, Refused
from desk.search import Found, Query, search_cases
from desk.values import parse_day

from .i18n import Labels
from .pages import (
    bad_form,
    csrf_ok,
    form_of,
    labels_of,
    on_desk,
    render,
    session_of,
    worded_refusal,
)
from .work import listing_row

router = APIRouter()
FIELDS = ("number", "unit", "tag", "state", "since", "until", "person", "words")


@dataclass
class SearchPage:
    """The form's choices, what was asked, and what was found."""

    asked: dict[str, str]
    units: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    states: list[tuple[str, str]] = field(default_factory=list)
    found: Found | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


def choices(desk: Desk, labels: Labels, asked: dict[str, str]) -> SearchPage:
    """The empty form, its lists named in the page's language."""
    return SearchPage(
        asked,
        units=[(u.code, labels.entry(u)) for u in desk.taxonomy.units],
        tags=[(t.code, labels.entry(t)) for t in desk.taxonomy.tags],
        states=[(code, labels.state(code)) for code in STATES],
    )


def query_of(asked: dict[str, str]) -> Query:
    """The desk's query from the form (a malformed date is refused, naming the field)."""
    return Query(
        number=asked["number"] or None,
        unit=asked["unit"] or None,
        tag=asked["tag"] or None,
        state=asked["state"] or None,
        since=parse_day(asked["since"], "--since") if asked["since"] else None,
        until=parse_day(asked["until"], "--until") if asked["until"] else None,
        person=asked["person"] or None,
        words=asked["words"] or None,
    )


def run_search(desk: Desk, labels: Labels, asked: dict[str, str]) -> SearchPage:
    page = choices(desk, labels, asked)
    page.found = search_cases(desk, query_of(asked))
    page.rows = [listing_row(desk, labels, row) for row in page.found.rows]
    return page


@router.get("/search")
async def search_form(request: Request) -> Response:
    """The search form."""
    session = session_of(request)
    labels = labels_of(request)
    asked = dict.fromkeys(FIELDS, "")

    def form(desk: Desk) -> SearchPage:
        desk.authorize("list")  # the roles that list cases (not administrators, auditors)
        return choices(desk, labels, asked)

    try:
        page = await on_desk(request, session, form)
    except Refused as exc:
        return worded_refusal(request, session, 403, "no_access", exc)
    return render(request, "search.html.j2", 200, session, page=page)


@router.post("/search")
async def search(request: Request) -> Response:
    """Search; the results come back on the same page."""
    session = session_of(request)
    form = await form_of(request)
    if not csrf_ok(session, form):
        return bad_form(request, session)
    labels = labels_of(request)
    asked = {k: form.get(k, "").strip()[:400] for k in FIELDS}
    try:
        page = await on_desk(request, session, lambda desk: run_search(desk, labels, asked))
    except Refused as exc:
        bad = isinstance(exc, BadValue)
        page = await on_desk(request, session, lambda desk: choices(desk, labels, asked))
        return render(
            request,
            "search.html.j2",
            400 if bad else 403,
            session,
            page=page,
            error=labels.t("bad_filter" if bad else "search_refused"),
            detail=labels_of(request).refusal(exc),
        )
    return render(request, "search.html.j2", 200, session, page=page)
