"""The intake and registration steps in the browser: intake of letters, visits and calls with a
printable token slip; registration with the lists' names and the duplicates finder's
suggestions; screening, approval (or its return), not accepting and extending on the case page.

Each form calls the one desk function the CLI calls (``desk intake``, ``register``, ``screen``,
``approve [--return]``, ``not-accepted``, ``extend``) with the same arguments; the desk checks
the lifecycle, the roles and every value, and a refusal comes back as a page that says why in
the page's language. The reporter's token is on the slip page only: it is in that one response
(``Cache-Control: no-store``), never stored, logged or put in a URL.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk.approval import Proposal, approve, return_proposal, screen
from desk.casekeys import desk_keys
from desk.cases import load_case
from desk.context import Desk
from desk.duplicates import Suggestion, find_duplicates
from desk.inbox import read_inbox, suggested_fields
from desk.intake import Slip, intake, report_from_options
from desk.lifecycle import require
from desk.refusals import Refused
from desk.register import Registration, not_accepted, register
from desk.routing import Route, extend, route
from desk.values import parse_day

from .pages import (
    MAX_FORM,
    _step,
    bad_form,
    csrf_ok,
    form_of,
    labels_of,
    manual_days,
    on_desk,
    render,
    session_of,
)

log = logging.getLogger("lianxin.deskweb")
router = APIRouter()
INTAKE_FIELDS = (
    "channel",
    "received",
    "title",
    "text",
    "reported_name",
    "reported_unit",
    "reported_post",
    "rank",
    "region",
    "problem_type",
    "name",
    "contact",
    "id_number",
)
MAX_REMEMBERED = 100  # intake forms a session remembers having taken in
REGISTER_FIELDS = ("item_type", "problem_type", "rank", "region", "real_name", "source")


# --- intake -------------------------------------------------------------------------------
@router.get("/intake")
async def intake_form(request: Request) -> Response:
    """The intake form (registrars): a letter, visit, phone call or complaint box."""
    session = session_of(request)
    return render(request, "intake_form.html.j2", 200, session, values=_fresh(), error=None)


def _fresh(values: dict[str, str] | None = None) -> dict[str, str]:
    """The form's values with a new one-time id (``once``)."""
    return {**(values or {}), "once": secrets.token_urlsafe(16)}


@router.post("/intake")
async def intake_step(request: Request) -> Response:
    """``desk intake``: the case is received and the reporter's token shown once on a slip."""
    session = session_of(request)
    form = await form_of(request)
    if not csrf_ok(session, form):
        return bad_form(request, session)
    once = form.get("once", "")[:64]
    if once in session.intakes:  # sent again: the case exists, its code was shown once
        return render(request, "intake_again.html.j2", 409, session, case_id=session.intakes[once])

    def work(desk: Desk) -> Slip:
        received = form.get("received", "").strip()
        day = parse_day(received, "--received") if received else None
        real_name = form.get("real_name") == "yes"
        doc = report_from_options(
            title=form.get("title", "").strip(),
            text=form.get("text", "").strip(),
            reported_name=form.get("reported_name", "").strip(),
            reported_unit=form.get("reported_unit", "").strip(),
            reported_post=form.get("reported_post", "").strip(),
            rank=form.get("rank", ""),
            region=form.get("region", ""),
            problem_type=form.get("problem_type", ""),
            real_name=real_name,
            name=form.get("name", "").strip(),
            contact=form.get("contact", "").strip(),
            id_number=form.get("id_number", "").strip(),
        )
        return intake(desk, desk_keys(desk), doc, channel=form.get("channel", ""), received=day)

    try:
        slip = await on_desk(request, session, work)
    except Refused as exc:  # the form again, as typed, with why
        values = _fresh({k: form.get(k, "") for k in (*INTAKE_FIELDS, "real_name")})
        message = labels_of(request).refusal(exc)
        return render(request, "intake_form.html.j2", 400, session, values=values, error=message)
    if once:
        session.intakes[once] = slip.case_id
        while len(session.intakes) > MAX_REMEMBERED:
            session.intakes.pop(next(iter(session.intakes)))
    request.app.state.desks.counts.clear()
    request.app.state.analyses.clear()
    log.info("case #%d received by intake (%s)", slip.case_id, slip.channel)
    return render(request, "intake_slip.html.j2", 200, session, slip=slip, token=str(slip.token))


# --- registration -------------------------------------------------------------------------
@dataclass
class RegisterPage:
    """The registration form of one case: its report, the values to start from, and the
    duplicates finder's suggestions for it."""

    case: dict[str, Any]
    reports: list[dict[str, str]]
    values: dict[str, str]
    tags: tuple[str, ...]
    repeats: list[Suggestion] | None = field(default=None)
    repeat_of: str = ""


def register_page(desk: Desk, case_id: int, find_repeats: bool) -> RegisterPage:
    """The report (read through ``inbox --case``, a logged read), the values the report
    suggests (or the registration to correct) and, when asked, the earlier reports the
    duplicates finder says it repeats (it opens every opened report: each a logged read, so
    it runs only when the registrar asks)."""
    case = load_case(desk.db, case_id)
    desk.authorize("register")
    require(case, "register")
    keys = desk_keys(desk)
    items = [i for i in read_inbox(desk, keys, case=case.id) if i.kind == "report" and i.doc]
    reports = [
        {"title": str(i.doc.get("title", "")), "text": str(i.doc.get("text", ""))} for i in items
    ]
    if case.registered:
        values = {k: str(getattr(case, k) or "") for k in REGISTER_FIELDS}
        values["problem_type"] = case.problem_subtype or case.problem_type or ""
    else:
        values = suggested_fields(desk, items[0].doc) if items else {}
        values.setdefault("source", "own")
    repeats = None
    if find_repeats:
        repeats = [s for s in find_duplicates(desk, keys) if s.later == case.id]
    earlier = load_case(desk.db, case.repeat_of).label if case.repeat_of else ""
    return RegisterPage(case.as_dict(), reports, values, case.tags, repeats, earlier)


@router.get("/case/{case_id}/register")
async def register_form(request: Request, case_id: int) -> Response:
    """The registration form (registrars)."""
    session = session_of(request)
    asked = request.query_params.get("repeats") == "1"
    try:
        page = await on_desk(request, session, lambda desk: register_page(desk, case_id, asked))
    except Refused as exc:
        message = labels_of(request).refusal(exc)
        return render(request, "refused.html.j2", 403, session, message=message, case_id=case_id)
    return render(request, "step_register.html.j2", 200, session, page=page)


def registration_of(form: dict[str, str], tags: list[str], was: tuple[str, ...]) -> Registration:
    """The ``register`` arguments a registration form gives: each list's choice, the tags
    ticked (added) and unticked (removed), the repeat-of case typed or chosen."""
    picked = {name: form.get(name) or None for name in REGISTER_FIELDS}
    repeat = form.get("repeat_of_other", "").strip() or form.get("repeat_of", "").strip()
    return Registration(
        item_type=picked["item_type"],
        problem_type=picked["problem_type"],
        rank=picked["rank"],
        region=picked["region"],
        real_name=picked["real_name"],
        source=picked["source"],
        repeat_of=repeat or None,
        escalated=form.get("escalated") == "yes",
        add_tags=tuple(t for t in tags if t not in was),
        remove_tags=tuple(t for t in was if t not in tags),
    )


@router.post("/case/{case_id}/register")
async def register_step(request: Request, case_id: int) -> Response:
    """``desk register``: number and classify (or correct the classification)."""
    body = await request.body() if _is_form(request) else b""
    form = await form_of(request)
    ticked = _all_values(body, "tag")

    def work(desk: Desk) -> object:
        was = load_case(desk.db, case_id).tags
        return register(desk, case_id, registration_of(form, ticked, was))

    return await _step(request, case_id, form, work)


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0]
    return kind == "application/x-www-form-urlencoded"


def _all_values(body: bytes, name: str) -> list[str]:
    """Every value of a repeated field (``form_of`` keeps the first of each name)."""
    if len(body) > MAX_FORM:
        return []
    return parse_qs(body.decode("utf-8", "replace")).get(name, [])


# --- screen, approve, not accepted, extend ------------------------------------------------
@router.post("/case/{case_id}/screen")
async def screen_step(request: Request, case_id: int) -> Response:
    """``desk screen``: propose a disposition with an opinion (registrars)."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        mode = form.get("propose", "")
        proposal = Proposal(
            mode,
            form.get("opinion", ""),
            unit=(form.get("unit") or None) if mode in ("assign", "direct") else None,
            to=(form.get("to") or None) if mode == "forward" else None,
            disposition=form.get("disposition") or None,
        )
        return screen(desk, case_id, proposal)

    return await _step(request, case_id, form, work)


@router.post("/case/{case_id}/approve")
async def approve_step(request: Request, case_id: int) -> Response:
    """``desk approve`` (a comment) or ``desk approve --return`` (a reason): approvers."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        if form.get("decision") == "return":
            return return_proposal(desk, case_id, form.get("text", ""))
        return approve(desk, case_id, form.get("text", ""))

    return await _step(request, case_id, form, work)


@router.post("/case/{case_id}/not-accepted")
async def not_accepted_step(request: Request, case_id: int) -> Response:
    """``desk not-accepted``: 不予受理 with a reason (approvers)."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        return not_accepted(desk, case_id, desk_keys(desk), form.get("reason", ""))

    return await _step(request, case_id, form, work)


@router.post("/case/{case_id}/route-other")
async def route_other_step(request: Request, case_id: int) -> Response:
    """``desk route --direct --unit UNIT`` or ``desk route --forward --to CODE | --to-name
    TEXT`` (approvers; assigning has its own form)."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        mode = form.get("mode", "")
        plan = Route(
            mode if mode in ("direct", "forward") else "",
            unit=form.get("unit") or None,
            to=form.get("to") or None,
            to_name=form.get("to_name", "").strip() or None,
            manual=manual_days(form),
        )
        return route(desk, case_id, plan)

    return await _step(request, case_id, form, work)


@router.post("/case/{case_id}/extend")
async def extend_step(request: Request, case_id: int) -> Response:
    """``desk extend``: the policy's extension, or ``--days`` for a deadline set by hand."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        manual = manual_days(form)
        return extend(desk, case_id, desk_keys(desk), form.get("reason", ""), manual)

    return await _step(request, case_id, form, work)
