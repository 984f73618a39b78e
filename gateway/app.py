"""The gateway's ASGI application, built by ``create_app(settings)``.

Routes (all under ``/v1``): ``GET /health``, ``GET /keys``, ``POST /challenges``,
``POST /reports``, ``POST /followups``, ``POST /packages`` (from linked offices). Every error
is problem+json (``problems.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lianxin import __version__
from lianxin.keys import load_gateway_keys
from lianxin.protocol import ProtocolError
from lianxin.store.db import connect

from .metrics import SUBMIT_PATHS, Metrics, serve_metrics
from .middleware import Guard, ProblemCORS
from .openapi import (
    CHALLENGE_ANSWER,
    FOLLOWUP_ANSWER,
    FOLLOWUP_BODY,
    KEYS_ANSWER,
    PACKAGE_ANSWER,
    PACKAGE_BODY,
    REPORT_ANSWER,
    REPORT_BODY,
    document,
)
from .problems import PROBLEMS, problem
from .service import Gateway
from .settings import GatewaySettings
from .worker import config_for
from .worker_client import IntakeWorker, WorkerUnavailable

JSON_TYPES = ("application/json",)
log = logging.getLogger("lianxin.gateway")


def _gateway(request: Request) -> Gateway:
    # Read from the app's state, not through Depends: dependency solving costs every request.
    gateway: Gateway = request.app.state.gateway
    return gateway


def _json(doc: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False), status_code=status, media_type="application/json"
    )


def _media(content_type: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise ProtocolError(
            f"send the body as application/json, not {media or 'nothing'}",
            slug="bad-content-type",
            status=415,
        )
    return media


async def _body(request: Request) -> bytes:
    _media(request.headers.get("content-type", ""))
    return await request.body()


async def _submit(request: Request, kind: str) -> Response:
    return await submission_response(_gateway(request), kind, await _body(request))


async def submission_response(gateway: Gateway, kind: str, body: bytes) -> Response:
    """The answer to a submission's body: the worker's answer, or its problem."""
    submit = {
        "report": gateway.submit_report,
        "followup": gateway.submit_followup,
        "package": gateway.submit_package,
    }[kind]
    answer = await submit(body)
    if not answer.problem:
        return Response(answer.body, status_code=answer.status, media_type="application/json")
    slug, detail, status = answer.problem_fields()
    if slug not in PROBLEMS:  # the worker met a bug, not a bad input
        return Response("Internal Server Error", status_code=500, media_type="text/plain")
    response = problem(slug, detail, status=status)
    if slug == "store-unavailable":  # busy: retrying soon works ("store-failing" will not)
        response.headers["retry-after"] = "5"
    return response


def disconnected_problem() -> Response:
    """One line, without the body or the address; nobody is left to read the answer."""
    log.info("lianxin gateway: a client disconnected before sending its whole body")
    return problem("bad-request", "the client disconnected")


def unavailable_problem() -> Response:
    """Nothing of this request was answered; if its batch committed, the same envelope sent
    again gets the same case."""
    response = problem(
        "unavailable", "the gateway is restarting its intake or shutting down; try again"
    )
    response.headers["retry-after"] = "2"
    return response


def protocol_problem(exc: ProtocolError) -> Response:
    """A refusal raised while reading a request, as its problem."""
    slug = exc.slug if exc.slug in PROBLEMS else "bad-request"
    return problem(slug, exc.detail, status=exc.status if exc.slug in PROBLEMS else None)


class Submissions:
    """ASGI: ``POST /v1/reports``, ``/v1/followups`` and ``/v1/packages`` without the framework.

    The same answers as the routes (which stay, for the OpenAPI document, for any other method
    and for in-process clients), through the same functions, minus the per-request cost of
    FastAPI's own layers, the router, the request object and the exception middleware: these
    routes carry the load. ``Front`` sends them here."""

    def __init__(self, app: FastAPI):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = SUBMIT_PATHS[scope["path"]]
        content_type = b""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
                break
        try:
            _media(content_type.decode("latin-1"))
            chunks = []
            while True:
                message = await receive()
                if message["type"] != "http.request":  # http.disconnect
                    raise ClientDisconnect
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            response = await submission_response(self.app.state.gateway, kind, body)
        except ProtocolError as exc:
            response = protocol_problem(exc)
        except ClientDisconnect:
            response = disconnected_problem()
        except WorkerUnavailable:
            response = unavailable_problem()
        await response(scope, receive, send)


class Front:
    """What uvicorn serves: a submission (``POST`` to a ``SUBMIT_PATHS`` path) goes through
    ``submissions`` (the gateway's own layers: ``Guard``, CORS when configured, then
    ``Submissions``); everything else, the lifespan included, through the FastAPI
    application, which has the same ``Guard`` and CORS layers."""

    def __init__(self, app: FastAPI, submissions: ASGIApp):
        self.app = app
        self.submissions = submissions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in SUBMIT_PATHS:
            await self.submissions(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def build_routes(app: FastAPI) -> None:
    """Register the routes and error handlers on ``app``."""

    @app.exception_handler(ProtocolError)
    async def protocol_error(request: Request, exc: ProtocolError) -> Response:
        return protocol_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            response = problem("method-not-allowed", f"{request.method} is not allowed here")
            allowed = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m]
            if "GET" in allowed:
                allowed.append("HEAD")  # Guard answers HEAD wherever GET is allowed
            response.headers["allow"] = ", ".join(allowed)
            return response
        return problem("not-found", f"no resource at {request.url.path}")

    @app.exception_handler(ClientDisconnect)
    async def disconnected(request: Request, exc: ClientDisconnect) -> Response:
        return disconnected_problem()

    @app.exception_handler(WorkerUnavailable)
    async def restarting(request: Request, exc: WorkerUnavailable) -> Response:
        return unavailable_problem()

    @app.get("/v1/health", summary="Whether the gateway can accept reports (503 if not)")
    async def health(request: Request) -> Response:
        state = _gateway(request).health()
        return _json({**state.to_json(), "version": __version__}, 200 if state.accepting else 503)

    @app.get(
        "/v1/keys",
        summary="Published office keys, gateway receipt key and limits",
        openapi_extra={"responses": KEYS_ANSWER},
    )
    async def public_keys(request: Request) -> Response:
        return _json(_gateway(request).public_info())

    @app.post(
        "/v1/challenges",
        status_code=201,
        summary="A new proof-of-work challenge",
        openapi_extra={"responses": CHALLENGE_ANSWER},
    )
    async def challenges(request: Request) -> Response:
        return _json(_gateway(request).challenge(), 201)

    @app.post(
        "/v1/reports",
        status_code=201,
        summary="Submit a sealed, signed report",
        openapi_extra={"requestBody": REPORT_BODY, "responses": REPORT_ANSWER},
    )
    async def reports(request: Request) -> Response:
        return await _submit(request, "report")

    @app.post(
        "/v1/followups",
        status_code=201,
        summary="Submit a sealed follow-up",
        openapi_extra={"requestBody": FOLLOWUP_BODY, "responses": FOLLOWUP_ANSWER},
    )
    async def followups(request: Request) -> Response:
        return await _submit(request, "followup")

    @app.post(
        "/v1/packages",
        status_code=201,
        summary="Take a package from a linked office (lianxin/package/v1)",
        openapi_extra={"requestBody": PACKAGE_BODY, "responses": PACKAGE_ANSWER},
    )
    async def packages(request: Request) -> Response:
        return await _submit(request, "package")


def create_app(settings: GatewaySettings) -> FastAPI:
    """Build the gateway application for ``settings``."""
    keys = load_gateway_keys(settings.keys_dir)  # fail at build time, not at the first request
    counters = Metrics()  # shared by the answer-counting middleware and the gateway

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = IntakeWorker(config_for(settings, keys))
        await worker.start()  # opens and migrates the store before readers connect
        reader = connect(settings.db_path, migrate=False)
        gateway = Gateway.create(settings, keys, worker, reader, counters)
        app.state.gateway = gateway
        gateway.health()  # says in the log at once if the store cannot take reports
        exporter = None
        if settings.metrics_port is not None:
            exporter = await serve_metrics(settings.metrics_port, gateway.render_metrics)
        try:
            yield
        finally:
            if exporter is not None:
                exporter.close()
            await worker.stop()
            reader.conn.close()

    app = FastAPI(
        title="Lianxin gateway",
        version=__version__,
        summary="Accepts sealed, signed reports and follow-ups; issues tracking tokens.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/v1/openapi.json",
        redirect_slashes=False,  # a redirect would be built from the Host header
    )

    build_routes(app)
    app.openapi = partial(document, app)  # type: ignore[method-assign]
    for layer in _layers(settings, counters):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
    return app


def create_front(settings: GatewaySettings) -> Front:
    """What ``gateway serve`` runs: the application of ``create_app`` with submissions sent
    past FastAPI's own per-request layers (``Front``)."""
    app = create_app(settings)
    submissions: ASGIApp = Submissions(app)
    # The same layers as the application's, applied the same way (the last added is outermost).
    for layer in app.user_middleware[::-1]:
        submissions = layer.cls(submissions, *layer.args, **layer.kwargs)
    return Front(app, submissions)


def _layers(settings: GatewaySettings, counters: Metrics) -> list[Middleware]:
    """The gateway's ASGI layers, innermost first."""
    layers = []
    if settings.portal_origin:
        layers.append(
            Middleware(
                ProblemCORS,
                allow_origins=[settings.portal_origin.rstrip("/")],
                allow_methods=["GET", "POST"],
                allow_headers=["content-type"],
                allow_credentials=False,
                max_age=600,
            )
        )
    layers.append(
        Middleware(
            Guard,
            limit=settings.max_body_bytes,
            timeout=settings.body_timeout_seconds,
            metrics=counters,
        )
    )
    return layers
