"""The officer's own account page: turn the TOTP second factor on or off.

Enrolment shows a fresh secret (for the authenticator app) kept only in the session until the
app's first code confirms it; :func:`desk.signins.enrol_totp` then stores it sealed to the
officer's own key in a signed event. Turning it off takes a current code
(:func:`desk.signins.remove_totp`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from desk.context import Desk
from desk.refusals import Refused
from desk.signins import enrol_totp, new_totp_secret, remove_totp, sealed_totp, totp_uri

from .pages import bad_form, csrf_ok, form_of, labels_of, on_desk, render, session_of

router = APIRouter()


def grouped(secret: str) -> str:
    """The secret in groups of four, as people type it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@router.get("/account")
async def account(request: Request) -> Response:
    """Second factor: on (with a form to turn it off) or off (with a secret to enrol)."""
    session = session_of(request)
    enrolled = await on_desk(
        request, session, lambda desk: sealed_totp(desk, session.officer.id) is not None
    )
    if not enrolled and session.new_totp is None:
        session.new_totp = new_totp_secret()
    secret = None if enrolled else session.new_totp
    return render(
        request,
        "account.html.j2",
        200,
        session,
        enrolled=enrolled,
        secret=grouped(secret) if secret else None,
        uri=totp_uri(secret, session.officer.id) if secret else None,
        done=request.query_params.get("done"),
        reset=request.query_params.get("reset") == "1" and not enrolled,
        error=None,
    )


async def _change(request: Request, change: str) -> Response:
    session = session_of(request)
    form = await form_of(request)
    if not csrf_ok(session, form):
        return bad_form(request, session)
    code = form.get("code", "")

    def work(desk: Desk) -> None:
        if change == "on":
            enrol_totp(desk, session.new_totp or "", code)
        else:
            remove_totp(desk, code)

    try:
        await on_desk(request, session, work)
    except Refused as exc:
        return render(
            request,
            "refused.html.j2",
            400,
            session,
            message=labels_of(request).refusal(exc),
            case_id=None,
        )
    session.new_totp = None
    return RedirectResponse(f"/account?done={change}", 303)


@router.post("/account/totp")
async def totp_on(request: Request) -> Response:
    """Turn the second factor on with the app's first code."""
    return await _change(request, "on")


@router.post("/account/totp/remove")
async def totp_off(request: Request) -> Response:
    """Turn the second factor off with a current code."""
    return await _change(request, "off")
