"""Previewing a built site on loopback, with no request log (it would record addresses)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from typing import Any

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    # The pages carry their own Content-Security-Policy (a <meta>), which cannot forbid framing.
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file handler that logs nothing and adds the site's security headers."""

    extensions_map = {  # noqa: RUF012 - the base class declares it this way
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".ics": "text/calendar",
        ".json": "application/json",
        ".svg": "image/svg+xml",
    }

    def log_message(self, format: str, *args: Any) -> None:
        return

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()


def make_server(site: Path, host: str = "127.0.0.1", port: int = 0) -> http.server.HTTPServer:
    """A threading HTTP server for ``site`` (call ``serve_forever``)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    return http.server.ThreadingHTTPServer((host, port), handler)
