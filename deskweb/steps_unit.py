"""The step forms of the unit's part of the loop and of the answer, the letters, and the
administrator's reset of a lost second factor.

Each form calls the one desk function the CLI command calls, with the same arguments:

===================  ======================================================================
form                 desk function (CLI command)
===================  ======================================================================
sign for             :func:`desk.unitwork.sign_for` (``desk sign-for``)
completion report    :func:`desk.unitwork.submit_report` (``desk report``)
check                :func:`desk.unitwork.accept_report` / ``return_report`` (``desk check``)
answer               :func:`desk.answers.answer` (``desk answer``)
review               :func:`desk.answers.open_review` (``desk review``)
second answer        :func:`desk.answers.second_answer` (``desk second-answer``)
satisfaction         :func:`desk.answers.satisfaction` (``desk satisfaction``)
close                :func:`desk.answers.close` (``desk close``)
message              :func:`desk.messages.send_message` (``desk message``)
supervise            :func:`desk.supervise.supervise` (``desk supervise``)
acknowledge          :func:`desk.duties.acknowledge` (``desk acknowledge``)
inquiry              :func:`desk.duties.inquiry_delivered` / ``inquiry_replied``
letter               :func:`desk.letters.issue_letter` (``desk letter``)
reset second factor  :func:`desk.signins.reset_totp` (``desk officers reset-totp``)
===================  ======================================================================

The lifecycle and the roles decide; a refused step comes back as a page saying why, and
nothing changed. A letter is the office's own template (its ``templates/`` folder under the
data folder, else the bundled one), answered to the POST that issues it (issuing is recorded),
with a Content-Security-Policy that lets only that letter's own ``<style>`` blocks apply.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.answers import answer, close, open_review, satisfaction, second_answer
from desk.casekeys import desk_keys
from desk.context import Desk
from desk.deadlines import Manual
from desk.duties import acknowledge, inquiry_delivered, inquiry_replied
from desk.letters import Letter, issue_letter, office_templates
from desk.messages import send_message
from desk.officers import all_officers
from desk.refusals import BadValue, Refused
from desk.signins import reset_totp, sealed_totp
from desk.supervise import supervise
from desk.unitwork import accept_report, return_report, sign_for, submit_report

from .pages import (
    _step,
    bad_form,
    csrf_ok,
    form_of,
    on_desk,
    refused_page,
    render,
    session_of,
)

router = APIRouter()
Work = Callable[[Desk], object]
STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)


def _days(form: dict[str, str]) -> Manual | None:
    """The form's working days, if given (the policy's rule otherwise)."""
    days = form.get("days", "").strip()
    if days and not days.isdigit():
        raise BadValue(f"{days!r} is not a whole number of days", "--days", code="whole_days")
    return Manual.parse(int(days), "working") if days else None


def _chosen(form: dict[str, str], name: str, argument: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise BadValue(f"choose the {argument.lstrip('-')}", argument, code="empty")
    return value


def _works() -> dict[str, Callable[[int, dict[str, str]], Work]]:
    """Each step form's call of its desk function."""

    def sign(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: sign_for(desk, case_id)

    def report(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: submit_report(
            desk,
            case_id,
            _chosen(form, "outcome", "--outcome"),
            form.get("text", ""),
            disposition=form.get("disposition") or None,
        )

    def check(case_id: int, form: dict[str, str]) -> Work:
        def work(desk: Desk) -> object:
            decision = form.get("decision")
            if decision == "accept":
                return accept_report(desk, case_id, form.get("comment", ""))
            if decision == "return":
                return return_report(desk, case_id, form.get("reason", ""), manual=_days(form))
            raise BadValue("choose to accept the report or return it", "--accept", code="empty")

        return work

    def answer_(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: answer(desk, case_id, desk_keys(desk), form.get("text", ""))

    def review(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: open_review(
            desk,
            case_id,
            _chosen(form, "kind", "--kind"),
            manual=_days(form),
            keys=desk_keys(desk),
            reason=form.get("reason", ""),
        )

    def second(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: second_answer(
            desk,
            case_id,
            desk_keys(desk),
            form.get("text", ""),
            _chosen(form, "outcome", "--outcome"),
        )

    def rating(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: satisfaction(desk, case_id, _chosen(form, "rating", "RATING"))

    def close_(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: close(desk, case_id)

    def message(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: send_message(
            desk, case_id, desk_keys(desk), _chosen(form, "kind", "--kind"), form.get("text", "")
        )

    def supervise_(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: supervise(
            desk, case_id, _chosen(form, "kind", "--kind"), form.get("reference", "")
        )

    def acknowledge_(case_id: int, form: dict[str, str]) -> Work:
        return lambda desk: acknowledge(desk, case_id, _chosen(form, "how", "--how"))

    def inquiry(case_id: int, form: dict[str, str]) -> Work:
        def work(desk: Desk) -> object:
            what = form.get("what")
            if what == "delivered":
                return inquiry_delivered(desk, case_id)
            if what == "replied":
                return inquiry_replied(desk, case_id)
            raise BadValue("choose delivered or replied", "--delivered", code="empty")

        return work

    return {
        "sign-for": sign,
        "report": report,
        "check": check,
        "answer": answer_,
        "review": review,
        "second-answer": second,
        "satisfaction": rating,
        "close": close_,
        "message": message,
        "supervise": supervise_,
        "acknowledge": acknowledge_,
        "inquiry": inquiry,
    }


WORKS = _works()


@router.post("/case/{case_id}/step/{name}")
async def step(request: Request, case_id: int, name: str) -> Response:
    """One step form: the CSRF token, then the desk function the CLI calls."""
    form = await form_of(request)
    make = WORKS.get(name)
    if make is None:
        return render(request, "message.html.j2", 404, session_of(request), message_key="not_found")
    return await _step(request, case_id, form, make(case_id, form))


# --- letters --------------------------------------------------------------------------------
def letter_csp(html: str) -> str:
    """The page's policy with the hashes of the letter's own ``<style>`` blocks (no script)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in STYLE.findall(html)
    )
    return (
        "default-src 'none'; img-src 'self'; "
        f"style-src 'self' {hashes}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@router.post("/case/{case_id}/letter")
async def letter(request: Request, case_id: int) -> Response:
    """Issue a letter of the case (recorded) and answer with it, ready to print."""
    session = session_of(request)
    form = await form_of(request)
    if not csrf_ok(session, form):
        return bad_form(request, session)
    office = office_templates(request.app.state.settings.data_dir)
    kind = form.get("kind", "")

    def work(desk: Desk) -> Letter:
        return issue_letter(desk, case_id, kind, office=office)

    try:
        issued = await on_desk(request, session, work)
    except Refused as exc:
        return refused_page(request, session, exc, case_id)
    response = HTMLResponse(issued.text)
    response.headers["Content-Security-Policy"] = letter_csp(issued.text)
    return response


# --- the administrator's officer list: reset a lost second factor ------------------------
@dataclass(frozen=True)
class OfficerRow:
    id: str
    name: str
    unit: str
    roles: list[str]
    disabled: bool
    totp: bool


def officers_rows(desk: Desk) -> list[OfficerRow]:
    """Every officer with whether a second factor is on (administrators only)."""
    desk.authorize("officers")
    return [
        OfficerRow(o.id, o.name, o.unit, list(o.roles), o.disabled, bool(sealed_totp(desk, o.id)))
        for o in all_officers(desk.db)
    ]


@router.get("/officers")
async def officers(request: Request) -> Response:
    """The officers, each with a button to reset a lost second factor."""
    session = session_of(request)
    try:
        rows = await on_desk(request, session, officers_rows)
    except Refused as exc:
        return render(
            request, "message.html.j2", 403, session, message_key="no_access", detail=str(exc)
        )
    done = request.query_params.get("reset")
    return render(request, "officers.html.j2", 200, session, rows=rows, done=done)


@router.post("/officers/{officer_id}/totp-reset")
async def officer_totp_reset(request: Request, officer_id: str) -> Response:
    """Reset an officer's second factor (a signed event); they enrol again at sign-in."""
    session = session_of(request)
    if not csrf_ok(session, await form_of(request)):
        return bad_form(request, session)
    try:
        await on_desk(request, session, lambda desk: reset_totp(desk, officer_id))
    except Refused as exc:
        return refused_page(request, session, exc, None)
    return RedirectResponse(f"/officers?reset={officer_id}", 303)
