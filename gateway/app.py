"""The gateway's ASGI application, built by ``create_app(settings)``.

Routes (all under ``/v1``): ``GET /health``, ``GET /keys``, ``POST /challenges``,
``POST /reports``, ``POST /followups``. Every error is problem+json (``problems.py``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from lianxin import __version__
from lianxin.keys import load_gateway_keys
from lianxin.protocol import ProtocolError
from lianxin.store.db import connect

from .middleware import BodyLimit, SecurityHeaders
from .openapi import ENVELOPE_BODY, FOLLOWUP_ANSWER, REPORT_ANSWER
from .problems import PROBLEMS, problem
from .service import Gateway
from .settings import GatewaySettings
from .writer import Writer, WriterClosed

JSON_TYPES = ("application/json",)


async def _gateway(request: Request) -> Gateway:
    # async: FastAPI runs a plain def dependency in its thread pool, on every request.
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(_gateway)]


def _json(doc: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False), status_code=status, media_type="application/json"
    )


async def _body(request: Request) -> bytes:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise ProtocolError(
            f"send the body as application/json, not {media or 'nothing'}",
            slug="bad-content-type",
            status=415,
        )
    return await request.body()


def build_routes(app: FastAPI) -> None:
    """Register the routes and error handlers on ``app``."""

    @app.exception_handler(ProtocolError)
    async def protocol_error(request: Request, exc: ProtocolError) -> Response:
        slug = exc.slug if exc.slug in PROBLEMS else "bad-request"
        return problem(slug, exc.detail, status=exc.status if exc.slug in PROBLEMS else None)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return problem("method-not-allowed", f"{request.method} is not allowed here")
        return problem("not-found", f"no resource at {request.url.path}")

    @app.exception_handler(sqlite3.Error)
    async def store_error(request: Request, exc: sqlite3.Error) -> Response:
        # Another writer held the lock past busy_timeout, or the disk failed: the batch was
        # rolled back, nothing of this request is stored, and a retry is safe.
        response = problem("store-unavailable", "the store is busy; try again shortly")
        response.headers["retry-after"] = "5"
        return response

    @app.exception_handler(WriterClosed)
    async def closing(request: Request, exc: WriterClosed) -> Response:
        return problem("unavailable", "the gateway is shutting down; try again shortly")

    @app.get("/v1/health", summary="Health check")
    async def health(gateway: GatewayDep) -> Response:
        return _json({"status": "ok" if gateway.healthy() else "degraded", "version": __version__})

    @app.get("/v1/keys", summary="Published office keys, gateway receipt key and limits")
    async def public_keys(gateway: GatewayDep) -> Response:
        return _json(gateway.public_info())

    @app.post("/v1/challenges", status_code=201, summary="A new proof-of-work challenge")
    async def challenges(gateway: GatewayDep) -> Response:
        return _json(gateway.challenge(), 201)

    @app.post(
        "/v1/reports",
        status_code=201,
        summary="Submit a sealed, signed report",
        openapi_extra={"requestBody": ENVELOPE_BODY, "responses": REPORT_ANSWER},
    )
    async def reports(request: Request, gateway: GatewayDep) -> Response:
        answer, duplicate = await gateway.submit_report(await _body(request))
        return _json(answer, 200 if duplicate else 201)

    @app.post(
        "/v1/followups",
        status_code=201,
        summary="Submit a sealed follow-up",
        openapi_extra={"requestBody": ENVELOPE_BODY, "responses": FOLLOWUP_ANSWER},
    )
    async def followups(request: Request, gateway: GatewayDep) -> Response:
        answer, duplicate = await gateway.submit_followup(await _body(request))
        return _json(answer, 200 if duplicate else 201)


def create_app(settings: GatewaySettings) -> FastAPI:
    """Build the gateway application for ``settings``."""
    keys = load_gateway_keys(settings.keys_dir)  # fail at build time, not at the first request

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writer = Writer(settings.db_path, batch_max=settings.batch_max)
        writer.start()  # opens and migrates the store before readers connect
        reader = connect(settings.db_path, migrate=False)
        app.state.gateway = Gateway.create(settings, keys, writer, reader)
        try:
            yield
        finally:
            writer.stop()
            reader.conn.close()

    app = FastAPI(
        title="Lianxin gateway",
        version=__version__,
        summary="Accepts sealed, signed reports and follow-ups; issues tracking tokens.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/v1/openapi.json",
    )

    build_routes(app)

    if settings.portal_origin:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[settings.portal_origin.rstrip("/")],
            allow_methods=["GET", "POST"],
            allow_headers=["content-type"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
