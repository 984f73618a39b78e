"""The pages: sign in and out, my work, the case page and its step forms (note, conclude,
assign).

Every desk call runs in a worker thread on its own connection and calls the same function the
CLI calls; a :class:`~desk.refusals.Refused` becomes a page that says why, in words. Every
form carries a CSRF token (the session's, or before sign-in a cookie's twin); a POST without
it changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

import nacl.pwhash
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from desk.answers import conclude
from desk.casekeys import desk_keys
from desk.context import Desk
from desk.deadlines import Manual
from desk.forwarding import forward_reply
from desk.linkwork import assign_to_office
from desk.notes import add_note
from desk.officers import (
    ARGON_MEMLIMIT,
    ARGON_OPSLIMIT,
    UnlockedOfficer,
    WrongPassphrase,
    find_officer,
    unlock,
)
from desk.refusals import BadValue, Refused, UnknownCase
from desk.routing import Route, route
from desk.signins import code_ok, open_totp, record_sign_in, sealed_totp, totp_was_reset
from desk.values import parse_day

from .desks import DeskFactory
from .i18n import LANGS, Labels, nav_for
from .sessions import SecondStep, Session, SessionStore, Throttle
from .work import BadPage, case_page, my_work, page_asked

log = logging.getLogger("lianxin.deskweb")
router = APIRouter()
T = TypeVar("T")
SESSION_COOKIE = "lx_session"
LOGIN_COOKIE = "lx_login"
LANG_COOKIE = "lx_lang"
SECOND_COOKIE = "lx_second"
MAX_FORM = 64 * 1024
UNLOCK_WAIT = 20.0
_DUMMY_SALT = b"\0" * nacl.pwhash.argon2id.SALTBYTES


class NeedLogin(Exception):
    """No live session: back to the sign-in page (``why`` names the message)."""

    def __init__(self, why: str) -> None:
        self.why = why


# --- helpers ------------------------------------------------------------------------------
def lang_of(request: Request) -> str:
    """``?lang=`` first, then the cookie, then Chinese."""
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return str(asked)
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGS else "zh"


def labels_of(request: Request) -> Labels:
    """The labels in the request's language."""
    factory: DeskFactory = request.app.state.desks
    return Labels(lang_of(request), factory.template.taxonomy)


def render(
    request: Request,
    name: str,
    status: int = 200,
    session: Session | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page in the request's language (the language remembered in a cookie)."""
    labels = labels_of(request)
    officer = session.officer.record if session else None
    env = request.app.state.templates
    html = env.get_template(name).render(
        L=labels,
        lang=labels.lang,
        other="en" if labels.lang == "zh" else "zh",
        officer=officer,
        nav=nav_for(officer.roles) if officer else [],
        here=request.url.path,
        csrf=session.csrf if session else "",
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, labels.lang, samesite="strict", httponly=True, path="/")
    return response


def worded_refusal(
    request: Request, session: Session | None, status: int, message_key: str, exc: Refused
) -> HTMLResponse:
    """The page saying, in words, why the desk refused (``message_key`` heads it)."""
    detail = labels_of(request).refusal(exc)
    return render(
        request, "message.html.j2", status, session, message_key=message_key, detail=detail
    )


async def form_of(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (64 KiB at most), one value a name."""
    if request.headers.get("content-type", "").split(";")[0] != (
        "application/x-www-form-urlencoded"
    ):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def session_of(request: Request) -> Session:
    """The live session, or :class:`NeedLogin` (``idle`` when it was just wiped for idleness)."""
    store: SessionStore = request.app.state.sessions
    session, expired = store.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NeedLogin("idle" if expired else "need")
    return session


def csrf_ok(session: Session, form: dict[str, str]) -> bool:
    """Whether the form carries the session's CSRF token."""
    return secrets.compare_digest(form.get("csrf", ""), session.csrf)


async def on_desk(request: Request, session: Session, work: Callable[[Desk], T]) -> T:
    """Run ``work`` on a desk of the signed-in officer, in a worker thread."""
    factory: DeskFactory = request.app.state.desks

    def run() -> T:
        desk = factory.open(session.officer)
        try:
            return work(desk)
        finally:
            desk.close()

    return await run_in_threadpool(run)


def refused_page(request: Request, session: Session, exc: Refused, case_id: int | None) -> Response:
    """A step the desk refused: why, in the page's words (from the refusal's code); nothing was
    changed."""
    status = 404 if isinstance(exc, UnknownCase) else 400 if isinstance(exc, BadValue) else 403
    message = labels_of(request).refusal(exc)
    return render(request, "refused.html.j2", status, session, message=message, case_id=case_id)


def bad_form(request: Request, session: Session | None) -> Response:
    """A POST without a valid CSRF token (or not a form): refused, nothing changed."""
    return render(request, "message.html.j2", 403, session, message_key="bad_form")


# --- sign in and out ----------------------------------------------------------------------
@router.get("/")
async def home(request: Request) -> Response:
    """To my work, or to sign in."""
    try:
        session_of(request)
    except NeedLogin:
        return RedirectResponse("/login", 303)
    return RedirectResponse("/work", 303)


def login_page(
    request: Request, status: int = 200, message: str | None = None, officer_id: str = ""
) -> Response:
    """The sign-in form with a fresh pre-session CSRF token (cookie and field)."""
    token = secrets.token_urlsafe(24)
    why = request.query_params.get("why")
    notice = {"idle": "idle_out", "out": "signed_out", "need": "need_login"}.get(why or "")
    response = render(
        request,
        "login.html.j2",
        status,
        login_csrf=token,
        error=message,
        notice=notice,
        officer_id=officer_id,
    )
    return _with_login_cookie(request, response, token)


def _with_login_cookie(request: Request, response: Response, token: str) -> Response:
    """The pre-session CSRF cookie of the sign-in forms (password, then code)."""
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/login",
    )
    return response


async def _sign_in_form(request: Request) -> dict[str, str] | None:
    """A sign-in form's body (passphrase or code) if its pre-session CSRF token matches the
    cookie; None otherwise."""
    form = await form_of(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(form.get("csrf", ""), expected):
        return None
    return form


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The sign-in page."""
    return login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    """Unlock the officer's keys with their passphrase; throttled per account."""
    form = await _sign_in_form(request)
    if form is None:
        return bad_form(request, None)
    officer_id = form.get("officer", "").strip()[:64]
    passphrase = form.get("passphrase", "")
    labels = labels_of(request)
    throttle: Throttle = request.app.state.throttle
    locked = throttle.locked_for(officer_id)
    if locked:
        log.warning("sign-in refused: officer %s is locked after wrong passphrases", officer_id)
        minutes = max(1, round(locked / 60))
        return login_page(request, 429, labels.t("login_locked", minutes=minutes), officer_id)
    unlocks: asyncio.Semaphore = request.app.state.unlocks
    try:
        await asyncio.wait_for(unlocks.acquire(), UNLOCK_WAIT)
    except TimeoutError:
        return login_page(request, 503, labels.t("login_busy"), officer_id)
    try:
        outcome = await run_in_threadpool(_unlock, request.app.state.desks, officer_id, passphrase)
    finally:
        unlocks.release()
    if outcome == "disabled":
        log.warning("sign-in refused: officer %s is disabled", officer_id)
        return login_page(request, 403, labels.t("login_disabled"), officer_id)
    if isinstance(outcome, str):
        failures = throttle.failed(officer_id)
        log.warning("sign-in failed for officer id %s (%d in a row)", officer_id, failures)
        if throttle.locked_for(officer_id):
            minutes = max(1, round(request.app.state.settings.lock_seconds / 60))
            return login_page(request, 429, labels.t("login_locked", minutes=minutes), officer_id)
        return login_page(request, 401, labels.t("login_failed"), officer_id)
    sealed = await run_in_threadpool(_sealed_totp, request.app.state.desks, officer_id)
    if sealed is not None:  # the second factor: the code of the officer's app
        second: SecondStep = request.app.state.second
        waiting = second.put(outcome, sealed)
        response = totp_page(request)
        response.set_cookie(
            SECOND_COOKIE,
            waiting,
            httponly=True,
            samesite="strict",
            secure=request.app.state.settings.secure_cookies,
            path="/login",
        )
        return response
    return await _start_session(request, outcome, second_factor=False)


def _sealed_totp(factory: DeskFactory, officer_id: str) -> bytes | None:
    desk = factory.open(None)
    try:
        return sealed_totp(desk, officer_id)
    finally:
        desk.close()


def totp_page(request: Request, status: int = 200, message: str | None = None) -> Response:
    """The second step: the six-digit code, with a fresh pre-session CSRF token."""
    token = secrets.token_urlsafe(24)
    response = render(request, "totp.html.j2", status, login_csrf=token, error=message)
    return _with_login_cookie(request, response, token)


@router.get("/login/totp")
async def login_totp_form(request: Request) -> Response:
    """The code page again (a reload, or another language) while the wait is on."""
    second: SecondStep = request.app.state.second
    if second.get(request.cookies.get(SECOND_COOKIE)) is None:
        return RedirectResponse("/login?why=need", 303)
    return totp_page(request)


@router.post("/login/totp")
async def login_totp(request: Request) -> Response:
    """Check the second factor's code; throttled with the passphrase's failures."""
    form = await _sign_in_form(request)
    if form is None:
        return bad_form(request, None)
    second: SecondStep = request.app.state.second
    waiting = request.cookies.get(SECOND_COOKIE)
    found = second.get(waiting)
    if found is None:
        return RedirectResponse("/login?why=need", 303)
    officer, sealed = found
    labels = labels_of(request)
    throttle: Throttle = request.app.state.throttle
    now = request.app.state.desks.clock.now()
    if code_ok(open_totp(officer, sealed), form.get("code", ""), now):
        second.take(waiting, wipe=False)
        return await _start_session(request, officer, second_factor=True)
    failures = throttle.failed(officer.id)
    log.warning("wrong second-factor code for officer %s (%d in a row)", officer.id, failures)
    if throttle.locked_for(officer.id):
        second.take(waiting, wipe=True)
        minutes = max(1, round(request.app.state.settings.lock_seconds / 60))
        return login_page(request, 429, labels.t("login_locked", minutes=minutes), officer.id)
    return totp_page(request, 401, labels.t("totp_wrong"))


async def _start_session(
    request: Request, officer: UnlockedOfficer, *, second_factor: bool
) -> Response:
    """The session begins: a signed ``signed-in`` event, the cookie, my work."""
    throttle: Throttle = request.app.state.throttle
    throttle.succeeded(officer.id)
    store: SessionStore = request.app.state.sessions
    store.end(request.cookies.get(SESSION_COOKIE))  # a session already open in this browser
    factory: DeskFactory = request.app.state.desks

    def signed_in() -> bool:
        desk = factory.open(officer)
        try:
            record_sign_in(desk, second_factor=second_factor)
            return totp_was_reset(desk, officer.id)
        finally:
            desk.close()

    try:  # no session that the event log does not show
        reset = await run_in_threadpool(signed_in)
    except Refused as exc:
        officer.forget()
        log.error("officer %s's sign-in could not be recorded: %s", officer.id, exc)
        return login_page(request, 503, labels_of(request).t("login_unrecorded"), officer.id)
    token, _ = store.create(officer)
    log.info("officer %s signed in", officer.id)
    # a second factor an administrator reset: enrol the new device first
    response = RedirectResponse("/account?reset=1" if reset else "/work", 303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    response.delete_cookie(SECOND_COOKIE, path="/login")
    return response


def _unlock(factory: DeskFactory, officer_id: str, passphrase: str) -> Any:
    """The unlocked officer, or why not ("wrong", "disabled"); an unknown id costs the same
    Argon2id derivation as a wrong passphrase, so the answer's timing does not tell."""
    desk = factory.open(None)
    try:
        record = find_officer(desk.db, officer_id) if officer_id else None
        if record is None:
            nacl.pwhash.argon2id.kdf(
                32,
                passphrase.encode(),
                _DUMMY_SALT,
                opslimit=ARGON_OPSLIMIT,
                memlimit=ARGON_MEMLIMIT,
            )
            return "wrong"
        if record.disabled:
            return "disabled"
        try:
            return unlock(desk.db, officer_id, passphrase)
        except WrongPassphrase:
            return "wrong"
    finally:
        desk.close()


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Sign out: the keys are wiped from memory."""
    try:
        session = session_of(request)
    except NeedLogin:
        return RedirectResponse("/login", 303)
    if not csrf_ok(session, await form_of(request)):
        return bad_form(request, session)
    officer_id = session.officer.id
    request.app.state.sessions.end(request.cookies.get(SESSION_COOKIE))
    log.info("officer %s signed out", officer_id)
    response = RedirectResponse("/login?why=out", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- work ---------------------------------------------------------------------------------
@router.get("/work")
async def work(request: Request) -> Response:
    """My work, a page at a time (``?page=N``): the cases with a step for me first, colours and
    working days left, unit counts; a page that is not one says so in words."""
    session = session_of(request)
    labels = labels_of(request)
    counts = request.app.state.desks.counts
    env = request.app.state.templates

    def body(desk: Desk) -> str:
        """The page's body, rendered once per officer, language, page, day and register."""
        key = counts.work_key(desk, labels.lang, number)  # read before the list it keys
        kept: str | None = counts.work_page(key)
        if kept is not None:  # what the desk's own listing gave this officer (roles in the key)
            return kept
        page = my_work(desk, labels, counts, number)
        html: str = env.get_template("work_body.html.j2").render(
            L=labels, lang=labels.lang, page=page, today=desk.today
        )
        counts.keep_work_page(key, html)
        return html

    try:
        number = page_asked(request.query_params.get("page"))
        made = await on_desk(request, session, body)
    except BadPage as exc:
        detail = labels.t("page_range", pages=exc.pages) if exc.pages else ""
        return render(
            request,
            "message.html.j2",
            400,
            session,
            message_key="bad_page",
            detail=labels.t("page_asked", page=exc.asked) + (" " + detail if detail else ""),
        )
    return render(request, "work.html.j2", 200, session, body=Markup(made))  # noqa: S704


@router.get("/case/{ref}")
async def case(request: Request, ref: str) -> Response:
    """The case page: details, timeline and, for officers in scope, the report (a read)."""
    session = session_of(request)
    labels = labels_of(request)
    try:
        page = await on_desk(request, session, lambda desk: case_page(desk, ref, labels))
    except (UnknownCase, BadValue):  # no such case, or not a case id or number at all
        return render(request, "message.html.j2", 404, session, message_key="no_case")
    except Refused as exc:
        return worded_refusal(request, session, 403, "cannot_open", exc)
    done = request.query_params.get("done") == "1"
    return render(request, "case.html.j2", 200, session, page=page, done=done)


@router.post("/case/{case_id}/note")
async def note(request: Request, case_id: int) -> Response:
    """Record a note (``desk note``)."""
    form = await form_of(request)
    return await _step(request, case_id, form, lambda desk: _note(desk, case_id, form))


def _note(desk: Desk, case_id: int, form: dict[str, str]) -> int:
    """A note, or with ``kind=draft`` a draft of the answer (``desk note --answer-draft``)."""
    kind = form.get("kind") or "step"
    return add_note(desk, case_id, desk_keys(desk), text=form.get("text", ""), kind=kind)


@router.post("/case/{case_id}/route")
async def assign(request: Request, case_id: int) -> Response:
    """Assign to a handling unit (``desk route --assign UNIT``)."""
    form = await form_of(request)
    return await _step(
        request,
        case_id,
        form,
        lambda desk: route(desk, case_id, _route_of(form)),
    )


@router.post("/case/{case_id}/assign-office")
async def assign_office(request: Request, case_id: int) -> Response:
    """Assign to a lower office (``lianxin office assign CASE --to OFFICE``)."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        deadline = parse_day(form.get("deadline", ""), "--deadline")
        text = form.get("instructions", "")
        return assign_to_office(desk, case_id, form.get("office", ""), text, deadline)

    return await _step(request, case_id, form, work)


@router.post("/case/{case_id}/conclude")
async def conclude_step(request: Request, case_id: int) -> Response:
    """Conclude with an outcome (``desk conclude --outcome CODE``; the answer is a later step)."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        outcome = form.get("outcome", "")
        if not outcome:
            raise BadValue("choose the outcome", "--outcome")
        return conclude(desk, case_id, desk_keys(desk), outcome)

    return await _step(request, case_id, form, work)


@router.post("/case/{case_id}/forward-reply")
async def forward_reply_step(request: Request, case_id: int) -> Response:
    """Record the reply of the authority a case was forwarded to (``desk forward-reply``)."""
    form = await form_of(request)

    def work(desk: Desk) -> object:
        received, summary = form.get("received", ""), form.get("summary", "")
        return forward_reply(desk, case_id, desk_keys(desk), received=received, summary=summary)

    return await _step(request, case_id, form, work)


def manual_days(form: dict[str, str]) -> Manual | None:
    """The working days a form's ``days`` field gives (``--days``), None when empty."""
    days = form.get("days", "").strip()
    if days and not days.isdigit():
        raise BadValue(f"{days!r} is not a whole number of days", "--days", code="whole_days")
    return Manual.parse(int(days), "working") if days else None


def _route_of(form: dict[str, str]) -> Route:
    """The assignment a route form asks for: the unit and, if given, its working days."""
    return Route("assign", unit=form.get("unit") or None, manual=manual_days(form))


async def _step(
    request: Request, case_id: int, form: dict[str, str], work: Callable[[Desk], object]
) -> Response:
    """A step form: the CSRF token first, then the desk function the CLI calls; back to the
    case page, or a page saying why the desk refused (nothing changed)."""
    session = session_of(request)
    if not csrf_ok(session, form):
        return bad_form(request, session)
    try:
        await on_desk(request, session, work)
    except Refused as exc:
        return refused_page(request, session, exc, case_id)
    request.app.state.desks.counts.clear()
    request.app.state.analyses.clear()
    return RedirectResponse(f"/case/{case_id}?done=1", 303)
