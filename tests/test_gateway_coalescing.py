"""One write per answer (``gateway/connections.py``, ``_Coalescing``): what uvicorn writes in
one turn of the event loop leaves in one ``send``, in order, at the end of that turn; closing
sends what is held first, aborting drops it. A real asyncio transport over a real socketpair."""

from __future__ import annotations

import asyncio
import socket

from gateway.connections import _Coalescing


def _pending(peer: socket.socket) -> bytes:
    try:
        return peer.recv(65536, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return b""


async def _transport(ours: socket.socket) -> asyncio.Transport:
    transport, _ = await asyncio.get_running_loop().create_connection(asyncio.Protocol, sock=ours)
    return transport


def test_writes_of_one_turn_leave_together_at_its_end() -> None:
    ours, peer = socket.socketpair()

    async def run() -> list[bytes]:
        coalescing = _Coalescing(await _transport(ours), asyncio.get_running_loop())
        coalescing.write(b"HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\n")
        coalescing.write(b"")  # h11's end of message for a sized body: nothing to send
        coalescing.write(b"body")
        seen = [_pending(peer)]  # still this turn: nothing sent yet
        await asyncio.sleep(0)  # the turn ends
        seen.append(_pending(peer))
        coalescing.write(b"next")
        coalescing.close()  # sends what is held before closing
        await asyncio.sleep(0.01)
        seen.append(peer.recv(65536))
        return seen

    seen = asyncio.run(run())
    assert seen == [b"", b"HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\nbody", b"next"]
    assert peer.recv(65536) == b""  # closed
    peer.close()


def test_abort_drops_what_is_held() -> None:
    ours, peer = socket.socketpair()

    async def run() -> None:
        coalescing = _Coalescing(await _transport(ours), asyncio.get_running_loop())
        coalescing.write(b"never sent")
        coalescing.abort()
        await asyncio.sleep(0.01)

    asyncio.run(run())
    assert peer.recv(65536) == b""
    peer.close()
