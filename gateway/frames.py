"""Length-prefixed frames between the gateway's HTTP process and its intake worker.

Every frame is a u32 big-endian length and that many bytes. The HTTP process sends

    request:  u32 request id · u8 kind (1 report, 2 follow-up) · for a report, the new token's
              public values (16-byte lookup id · 32-byte reply public key · 32-byte follow-up
              verify key) · the request body as received

and the worker answers each request exactly once, in any order,

    answer:   u32 request id · u16 HTTP status · u8 form · the answer, by form:
              0 answer JSON (a package's), 1 problem JSON, or 3 a stored envelope: u8 kind ·
              u8 duplicate (0 or 1) · 32-byte receipt id · received date (10 ASCII
              characters, YYYY-MM-DD) · office key id (16 ASCII hex digits)

The HTTP process signs the receipt of a stored envelope from those fields (the worker does not
hold the receipt key) and sends it with the report's token.

and after each batch a statistics frame, an answer with request id 0 (never a request's), status
0 and form 2: ``{"commit_seconds": float, "error": null or the SQLite error name}``.

The first frame each way is the handshake: the HTTP process sends the worker's configuration
(JSON, secrets included: the socket is a private socketpair, never a file or a port), the worker
answers ``{"ready": true}`` once the store is open, or ``{"error": "..."}``.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct(">I")
ID = struct.Struct(">I")
REQUEST = struct.Struct(">IB")
ANSWER = struct.Struct(">IHB")
KINDS = {"report": 1, "followup": 2, "package": 3}
KIND_NAMES = {value: name for name, value in KINDS.items()}
TOKEN_ROW = struct.Struct(">16s32s32s")
ANSWER_JSON, PROBLEM_JSON, STATS_JSON, STORED_FIELDS = 0, 1, 2, 3
STORED = struct.Struct(">B?32s10s16s")
STATS_ID = 0


class FrameError(ValueError):
    """The peer sent something that is not a frame of this protocol."""


def frame(payload: bytes) -> bytes:
    """One frame carrying ``payload``."""
    return HEADER.pack(len(payload)) + payload


def request_frame(request_id: int, kind: str, token_row: bytes, body: bytes) -> bytes:
    """The frame asking the worker to take ``body`` as a ``kind`` submission."""
    return frame(REQUEST.pack(request_id, KINDS[kind]) + token_row + body)


def stored_answer(
    kind: str, duplicate: bool, receipt_id: bytes, received: str, key_id: str
) -> bytes:
    """A stored envelope's answer (form ``STORED_FIELDS``)."""
    return STORED.pack(KINDS[kind], duplicate, receipt_id, received.encode(), key_id.encode())


def answer_frame(request_id: int, status: int, form: int, doc: bytes) -> bytes:
    """The frame answering request ``request_id``."""
    return frame(ANSWER.pack(request_id, status, form) + doc)


class FrameReader:
    """Collects bytes as they arrive and yields the complete frames in them."""

    def __init__(self, max_frame: int):
        self._buffer = bytearray()
        self._max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the payloads of the frames it completed."""
        self._buffer += data
        frames = []
        start = 0
        buffer = self._buffer
        while len(buffer) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(buffer, start)
            if size > self._max_frame:
                raise FrameError(f"frame of {size} bytes is over the limit of {self._max_frame}")
            end = start + HEADER.size + size
            if len(buffer) < end:
                break
            frames.append(bytes(buffer[start + HEADER.size : end]))
            start = end
        del buffer[:start]
        return frames
