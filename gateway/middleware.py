"""ASGI middleware: security headers, a hard cap on body size, CORS refusals as problems."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import problem

SECURITY_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"strict-transport-security", b"max-age=31536000"),
]


class SecurityHeaders:
    """Add the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"set-cookie"]
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """Answer HEAD as GET without the body (FastAPI routes GET only; HEAD must not be 405).

    The server (uvicorn) sends no body for a HEAD request; its headers stay GET's."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised from ``receive`` when a body passes the limit."""


class BodyTimeout(Exception):
    """Raised from ``receive`` when a body is not complete in time."""


# After refusing a body, read and discard at most this much of the rest (for at most DRAIN_SECONDS)
# so that a client still sending reads the refusal instead of a connection reset.
DRAIN_BYTES = 1024 * 1024
DRAIN_SECONDS = 2.0
# Routes that take no body (POST /v1/challenges): a body is refused without reading it.
NO_BODY_PATHS = frozenset({"/v1/challenges"})


class BodyLimit:
    """Refuse bodies over ``limit`` bytes (413), bodies slower than ``timeout`` seconds (408),
    and any body on a route that takes none (400); by the headers or while streaming."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0):
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = 0
        chunked = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
            elif name == b"transfer-encoding":
                chunked = True
        if scope["path"] in NO_BODY_PATHS and (declared or chunked):
            refusal = problem("body-not-allowed", f"{scope['path']} takes no body; send none")
            await refuse_and_drain(refusal, receive, send)
            return
        if declared > self.limit:
            await refuse_and_drain(self._too_large(), receive, send)
            return
        seen = 0
        # The body deadline: one timer per request (not an asyncio.timeout per receive, which
        # cost a third of this application's middleware time), armed at the first read and
        # cancelled once the body is complete. When it fires while a read waits, it cancels
        # that read, which becomes BodyTimeout; when it has fired between reads, the next
        # read is refused at once.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        timer: asyncio.TimerHandle | None = None
        waiter: asyncio.Task[Any] | None = None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            if waiter is not None:
                waiter.cancel()

        async def counted() -> Message:
            nonlocal seen, timer, waiter
            if expired:
                raise BodyTimeout
            if timer is None:
                timer = loop.call_at(deadline, expire)
            waiter = asyncio.current_task()
            try:
                message = await receive()
            except asyncio.CancelledError:
                # Ours, unless someone else cancelled the task too (then it stays cancelled).
                if expired and waiter is not None and waiter.uncancel() == 0:
                    raise BodyTimeout from None
                raise
            finally:
                waiter = None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge
                if not message.get("more_body"):
                    timer.cancel()  # the whole body is in: no deadline for what follows
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except BodyTooLarge:
            if not started:
                await refuse_and_drain(self._too_large(), receive, send)
        except BodyTimeout:
            if not started:
                slow = problem("body-timeout", f"the body did not arrive within {self.timeout:g} s")
                await refuse_and_drain(slow, receive, send, drain=False)
        finally:
            if timer is not None and not timer.cancelled():
                timer.cancel()

    def _too_large(self) -> Response:
        return problem("body-too-large", f"the body is larger than {self.limit} bytes")


async def refuse_and_drain(
    response: Response, receive: Receive, send: Send, *, drain: bool = True
) -> None:
    """Send ``response`` whole, then read and discard a bounded part of the unread body, then
    close. A client that is still sending can read the answer: closing a socket with unread
    data would reset the connection and lose the answer in the client's buffer."""
    response.headers["connection"] = "close"
    await send(
        {"type": "http.response.start", "status": response.status_code,
         "headers": response.raw_headers}
    )  # fmt: skip
    await send({"type": "http.response.body", "body": bytes(response.body), "more_body": True})
    drained = 0
    deadline = time.monotonic() + DRAIN_SECONDS
    while drain and drained < DRAIN_BYTES:
        try:
            message = await asyncio.wait_for(receive(), deadline - time.monotonic())
        except TimeoutError:
            break
        if message["type"] != "http.request":
            break
        drained += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class ProblemCORS(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered as problem+json (``cors-refused``)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer, or ``cors-refused`` with the same CORS headers when it refuses."""
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        detail = bytes(answer.body).decode("ascii", "replace")  # "Disallowed CORS origin, ..."
        refused = problem("cors-refused", f"{detail} (this gateway serves one portal origin)")
        for name, value in answer.headers.items():
            if name.lower().startswith("access-control-") or name.lower() == "vary":
                refused.headers[name] = value
        return refused
