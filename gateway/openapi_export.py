"""Build the OpenAPI document without keys or a database (for the portal's docs)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .openapi import document


def openapi_document() -> dict[str, Any]:
    """The gateway's OpenAPI document."""
    from .app import build_routes

    app = FastAPI(title="Lianxin gateway")
    build_routes(app)
    return document(app)
