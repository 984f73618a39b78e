"""ASGI middleware: body limits, HEAD as GET, security headers and answer counts in one layer
(``Guard``); CORS refusals as problems."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics
from .problems import MEDIA_TYPE, problem

PROBLEM_MEDIA = MEDIA_TYPE.encode()

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


class Guard:
    """Every HTTP request's checks and every answer's headers, in one ASGI layer (one wrapper
    of ``receive`` and one of ``send`` per request, where four layers each wrapped them):

    - refuse bodies over ``limit`` bytes (413), bodies slower than ``timeout`` seconds (408),
      and any body on a route that takes none (400); by the headers or while streaming;
    - answer HEAD as GET without the body (FastAPI routes GET only; HEAD must not be 405; the
      server, uvicorn, sends no body for a HEAD request, and its headers stay GET's);
    - add the security headers to every response (and drop any set-cookie);
    - count accepted submissions and problem answers by type (``Metrics.count_answer``).
    """

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0, *, metrics: Metrics):
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        path = scope["path"]
        metrics = self.metrics
        started = False
        status = 0
        is_problem = False
        counted = False

        async def answer(message: Message) -> None:
            nonlocal started, status, is_problem, counted
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                headers = []
                for header in message.get("headers", []):
                    name = header[0].lower()
                    if name == b"set-cookie":
                        continue
                    if name == b"content-type" and header[1].startswith(PROBLEM_MEDIA):
                        is_problem = True
                    headers.append(header)
                headers.extend(SECURITY_HEADERS)
                message["headers"] = headers
            elif message["type"] == "http.response.body" and not counted:
                counted = True
                metrics.count_answer(path, status, message.get("body", b"") if is_problem else None)
            await send(message)

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
        if path in NO_BODY_PATHS and (declared or chunked):
            refusal = problem("body-not-allowed", f"{path} takes no body; send none")
            await refuse_and_drain(refusal, receive, answer)
            return
        if declared > self.limit:
            await refuse_and_drain(self._too_large(), receive, answer)
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

        async def counted_receive() -> Message:
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

        try:
            await self.app(scope, counted_receive, answer)
        except BodyTooLarge:
            if not started:
                await refuse_and_drain(self._too_large(), receive, answer)
        except BodyTimeout:
            if not started:
                slow = problem("body-timeout", f"the body did not arrive within {self.timeout:g} s")
                await refuse_and_drain(slow, receive, answer, drain=False)
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
