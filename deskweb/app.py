"""The web desk's app factory: settings, the desk's shared parts, security headers, pages.

``create_app(settings)`` loads and validates the lists, the policy and the store once, keeps
the sessions and the sign-in throttle in memory, and wipes every session when the server stops.
Every response carries a Content-Security-Policy of ``default-src 'self'`` with no inline
script or style, so the pages load nothing from anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from desk.officers import UnlockedOfficer
from desk.signins import record_sign_out

from . import account, analysis, audit, inbox, printed, search, steps_intake, steps_unit
from .desks import DeskFactory, WebSettings
from .pages import NeedLogin, render, router
from .sessions import SecondStep, SessionStore, Throttle

HERE = Path(__file__).parent
log = logging.getLogger("lianxin.deskweb")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
SWEEP_SECONDS = 30.0


def templates() -> Environment:
    """The page templates, HTML-escaped; compiled once and kept (the files are not checked
    for changes on every page: the desk's templates change with a new release)."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        auto_reload=False,
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def create_app(settings: WebSettings) -> FastAPI:
    """The web desk for ``settings``; refuses to start on a missing store or bad lists."""
    factory = DeskFactory(settings)

    def signed_out(officer: UnlockedOfficer, why: str) -> None:
        """The signed-out event, signed while the officer's keys are still open."""
        desk = factory.open(officer)
        try:
            record_sign_out(desk, why)
        except Exception as exc:  # the keys are wiped all the same
            log.warning("officer %s's sign-out was not recorded: %s", officer.id, exc)
        finally:
            desk.close()

    sessions = SessionStore(settings.idle_seconds, settings.monotonic, on_end=signed_out)
    second = SecondStep(monotonic=settings.monotonic)
    throttle = Throttle(settings.failures_before_lock, settings.lock_seconds, settings.monotonic)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def sweep() -> None:
            while True:
                await asyncio.sleep(SWEEP_SECONDS)
                sessions.sweep()
                second.sweep()

        def warm() -> None:  # the current month's analysis, before the first visitor asks
            desk = factory.open(None)
            try:
                app.state.analyses.warm(desk)
            except Exception as exc:  # the first visitor works it out instead
                log.warning("the monthly analysis was not worked out at start: %s", exc)
            finally:
                desk.close()

        task = asyncio.create_task(sweep())
        warming = asyncio.create_task(asyncio.to_thread(warm))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(Exception):
                await warming
            factory.close()
            wiped = sessions.clear()  # the keys do not outlive the server
            second.clear()
            log.info("web desk stopping: %d signed-in officers' keys wiped", wiped)

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.desks = factory
    app.state.analyses = analysis.ComparisonCache()
    app.state.sessions = sessions
    app.state.throttle = throttle
    app.state.second = second
    app.state.templates = templates()
    app.state.unlocks = asyncio.Semaphore(settings.parallel_unlocks)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        took = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={took:.1f}"  # for the operator's bench
        for name, value in HEADERS.items():
            if name not in response.headers:  # a printed letter brings its own policy
                response.headers[name] = value
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    async def need_login(request: Request, exc: Exception) -> Response:
        why = exc.why if isinstance(exc, NeedLogin) else "need"
        return RedirectResponse(f"/login?why={why}", 303)

    async def http_error(request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        key = "not_found" if code in (404, 405) else "bad_form"
        return render(request, "message.html.j2", code, None, message_key=key)

    app.add_exception_handler(NeedLogin, need_login)
    app.add_exception_handler(HTTPException, http_error)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(router)
    app.include_router(audit.router)
    app.include_router(analysis.router)
    app.include_router(search.router)
    app.include_router(printed.router)
    app.include_router(account.router)
    app.include_router(steps_intake.router)
    app.include_router(steps_unit.router)
    app.include_router(inbox.router)
    return app
