"""The inbox and the case's files in the browser.

* ``/inbox`` (registrars): how many online reports, follow-ups and satisfaction answers wait;
  the "open" button (a POST with the CSRF token) calls :func:`desk.inbox.open_inbox`, what
  ``lianxin desk inbox`` calls, with the office keys the signed-in registrar's session holds in
  memory (:func:`desk.casekeys.desk_keys`; nothing is written to disk). Each opened report is a
  case in My work; the result links to its registration form.
* ``/case/{id}/file/{ref}``: one attachment of a report or one note's file, through
  :func:`desk.casefiles.read_case_file` (``lianxin desk file``), a logged read, served as a
  download (``Content-Disposition: attachment``, a safe name, ``nosniff``, ``no-store``). An
  officer out of the case's scope gets a page that says why, and nothing is read.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk.casefiles import CaseFile, read_case_file
from desk.casekeys import desk_keys
from desk.context import Desk
from desk.inbox import Opened, open_inbox, waiting
from desk.refusals import Refused

from .i18n import Labels
from .pages import bad_form, csrf_ok, form_of, labels_of, on_desk, refused_page, render, session_of

log = logging.getLogger("lianxin.deskweb")
router = APIRouter()


@router.get("/inbox")
async def inbox_page(request: Request) -> Response:
    """How many submissions wait, and the button that opens them (registrars)."""
    session = session_of(request)
    try:
        counts = await on_desk(request, session, waiting)
    except Refused as exc:
        return refused_page(request, session, exc, None)
    return render(request, "inbox.html.j2", 200, session, counts=counts, opened=None)


def opened_row(item: Opened, labels: Labels) -> dict[str, Any]:
    """One opened submission as the result page shows it, worded from codes."""
    doc = item.doc
    if item.kind == "report":
        what = labels.t("inbox_kind_report")
    elif doc.get("type") == "satisfaction":
        rating = labels.t(f"rating_{doc.get('rating')}")
        what = labels.t("inbox_kind_rating", rating=rating)
    else:
        what = labels.t("inbox_kind_material")
    notice = labels.t(f"inbox_notice_{item.notice_code}") if item.notice_code else ""
    return {
        "submission": item.submission_id,
        "case_id": item.case_id,
        "label": item.case_label,
        "what": what,
        "received": item.received_date,
        "title": str(doc.get("title", "")) if item.kind == "report" else "",
        "problem": item.problem,
        "unlisted": item.unlisted,
        "notice": notice,
        "register": item.kind == "report" and not item.problem,
    }


@router.post("/inbox")
async def inbox_open(request: Request) -> Response:
    """``desk inbox``: verify, open and mark opened every new submission."""
    session = session_of(request)
    form = await form_of(request)
    if not csrf_ok(session, form):
        return bad_form(request, session)

    def work(desk: Desk) -> tuple[list[Opened], dict[str, int]]:
        items = open_inbox(desk, desk_keys(desk))
        return items, waiting(desk)

    try:
        items, counts = await on_desk(request, session, work)
    except Refused as exc:
        return refused_page(request, session, exc, None)
    request.app.state.desks.counts.clear()
    request.app.state.analyses.clear()
    log.info("inbox opened: %d submission(s)", len(items))
    labels = labels_of(request)
    rows = [opened_row(i, labels) for i in items]
    return render(request, "inbox.html.j2", 200, session, counts=counts, opened=rows)


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the UTF-8 name (RFC 6266, 5987)."""
    ascii_name = "".join(c if c.isascii() else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/case/{case_id}/file/{ref}")
async def case_file(request: Request, case_id: int, ref: str) -> Response:
    """One file of the case, downloaded through a logged read."""
    session = session_of(request)

    def work(desk: Desk) -> CaseFile:
        return read_case_file(desk, case_id, desk_keys(desk), ref)

    try:
        opened = await on_desk(request, session, work)
    except Refused as exc:
        return refused_page(request, session, exc, case_id)
    log.info("case #%d: file %s downloaded", case_id, opened.ref)
    return Response(
        opened.data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(opened.safe_name()),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
