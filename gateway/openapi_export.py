"""Build the OpenAPI document without keys or a database (for the portal's docs)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi


def openapi_document() -> dict[str, Any]:
    """The gateway's OpenAPI document."""
    from .app import build_routes

    app = FastAPI(title="Lianxin gateway")
    build_routes(app)
    from lianxin import __version__

    return get_openapi(
        title="Lianxin gateway",
        version=__version__,
        summary="Accepts sealed, signed reports and follow-ups; issues tracking tokens.",
        routes=app.routes,
    )
