"""Slow and abusive connections: a header deadline and a cap on open connections.

uvicorn's h11 protocol keeps a connection that sends its request headers one byte at a time for
as long as the bytes come (its keep-alive timeout is reset by every byte), and it accepts
connections until the process runs out of file descriptors, after which nothing, not even
``/v1/health``, is answered. This subclass adds two limits:

- **header deadline**: a connection must complete a request's headers within
  ``header_timeout`` seconds of connecting or of its previous answer, else it is closed. (The body
  deadline is ``middleware.Guard``'s: it needs the request, which only the ASGI layer has.)
- **one write per answer**: uvicorn writes an answer's status line and headers, then its body,
  each with its own ``send`` system call (two TCP segments with ``TCP_NODELAY``); writes made in
  one turn of the event loop are joined and sent at the end of that turn instead
  (``_Coalescing``), so an answer leaves in one system call and, when it fits, one segment.
- **connection cap**: at most ``max_connections`` connections are open; when one more arrives, the
  oldest connection that is not running a request (idle, or still sending headers) is closed to
  make room, so a flood of slow connections displaces itself rather than a real request. The
  default cap is the process's file-descriptor limit less ``FD_RESERVE`` for the store, the
  worker's socket and the metrics port, so ``accept`` never fails for lack of descriptors.
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

FD_RESERVE = 64


def default_max_connections() -> int:
    """The file-descriptor limit less the reserve (at least 16)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 65536
    return max(16, soft - FD_RESERVE)


def guarded_protocol(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with this gateway's header deadline and connection cap."""

    class GuardedH11(_Guarded):
        pass

    GuardedH11.header_timeout = header_timeout
    GuardedH11.max_connections = max_connections
    return GuardedH11


class _Guarded(H11Protocol):
    header_timeout: float = 10.0
    max_connections: int = 1000
    _deadline: asyncio.TimerHandle | None = None
    _armed_cycle: Any = None
    opened: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _Coalescing(transport, self.loop)  # type: ignore[assignment]
        self.opened = self.loop.time()
        self._arm()
        if len(self.connections) > self.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def idle(self) -> bool:
        """Whether no request is running: between requests or still receiving headers."""
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._armed_cycle = self.cycle
        self._deadline = self.loop.call_later(self.header_timeout, self._expire)

    def _expire(self) -> None:
        # No new request began since the deadline was armed: the headers are late.
        if self.cycle is self._armed_cycle and not self.transport.is_closing():
            self.transport.abort()

    def _make_room(self) -> None:
        others = [c for c in self.connections if c is not self and isinstance(c, _Guarded)]
        waiting = [c for c in others if c.idle() and not c.transport.is_closing()]
        if waiting:
            min(waiting, key=lambda c: c.opened).transport.abort()
        else:  # every other connection is running a request: refuse this one
            self.transport.abort()


class _Coalescing:
    """A transport whose writes are joined until the end of the event loop's turn, then sent
    with one ``write``; everything else is the real transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self.transport = transport
        self.loop = loop
        self.held: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        """Send ``data`` at the end of this turn, after whatever else is written in it."""
        if not data:
            return
        if self.held is None:
            self.held = [data]
            self.loop.call_soon(self.flush)
        else:
            self.held.append(data)

    def flush(self) -> None:
        """Send what is held (the end of the turn, or before closing)."""
        held, self.held = self.held, None
        if held and not self.transport.is_closing():
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        """Send what is held, then close (the real transport sends its buffer first)."""
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        """Close at once; what is held is dropped, like the real transport's buffer."""
        self.held = None
        self.transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)
