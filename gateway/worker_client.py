"""The HTTP process's side of the intake worker: start it, hand it bodies, await its answers.

One ``IntakeWorker`` per application. ``submit`` writes a request frame and awaits the answer
frame with the same id; nothing here blocks the event loop. If the worker dies, every waiting
request gets 503 ``store-unavailable`` (its batch was not committed, or was committed without
an answer: a retry of the same envelope gives the same case) and a new worker is started.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .frames import (
    ANSWER,
    PROBLEM_JSON,
    STATS_ID,
    STORED_FIELDS,
    FrameError,
    FrameReader,
    frame,
    request_frame,
)
from .worker import HANDSHAKE_MAX, WorkerConfig

START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class WorkerUnavailable(RuntimeError):
    """The intake worker is not running (starting again, or the gateway is stopping)."""


class WorkerStartError(RuntimeError):
    """The intake worker could not start (the message says why)."""


@dataclass(frozen=True)
class Answer:
    """The worker's answer to one request."""

    status: int
    form: int  # frames.ANSWER_JSON, PROBLEM_JSON or STORED_FIELDS: what ``body`` holds
    body: bytes

    @property
    def problem(self) -> bool:
        """Whether ``body`` is a problem document."""
        return self.form == PROBLEM_JSON

    @property
    def stored(self) -> bool:
        """Whether ``body`` holds a stored envelope's receipt fields (``frames.STORED``)."""
        return self.form == STORED_FIELDS

    def problem_fields(self) -> tuple[str, str, int | None]:
        """Slug, detail and status of a problem answer."""
        doc = json.loads(self.body)
        return doc["slug"], doc.get("detail", ""), doc.get("status")


class _Channel(asyncio.Protocol):
    def __init__(self, owner: IntakeWorker):
        self.owner = owner
        self.reader = FrameReader(max_frame=owner.max_answer)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.reader.feed(data)
        except FrameError:
            if self.transport is not None:
                self.transport.abort()
            return
        for payload in frames:
            self.owner._received(payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost(self)


class IntakeWorker:
    """Runs ``python -m gateway.worker`` and talks to it over a socketpair."""

    def __init__(self, config: WorkerConfig):
        self.config = config
        self.max_answer = HANDSHAKE_MAX + config.max_body_bytes
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Answer]] = {}
        self._handshake: asyncio.Future[bytes] | None = None
        self._channel: _Channel | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._closing = False
        self._restarting: asyncio.Task[None] | None = None
        self._outbox: list[bytes] = []
        # Called with each batch's commit time and SQLite error name (None when it committed).
        self.on_stats: Callable[[float, str | None], None] = lambda seconds, error: None

    @property
    def queue_depth(self) -> int:
        """Requests handed to the worker and not answered yet."""
        return len(self._waiting)

    @property
    def running(self) -> bool:
        """Whether a worker is up and answering."""
        return self._channel is not None and self._handshake is None

    async def start(self) -> None:
        """Start the worker and wait until its store is open; raise ``WorkerStartError``."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        try:
            self._process = subprocess.Popen(  # noqa: S603 (our interpreter, our module)
                [sys.executable, "-m", "gateway.worker", str(theirs.fileno()), str(os.getpid())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": _import_path()},
            )
        finally:
            theirs.close()
        self._handshake = loop.create_future()
        _, channel = await loop.create_connection(lambda: _Channel(self), sock=ours)
        self._channel = channel
        assert channel.transport is not None
        channel.transport.write(frame(self.config.to_bytes()))
        try:
            reply = await asyncio.wait_for(self._handshake, START_TIMEOUT_SECONDS)
        except (TimeoutError, WorkerUnavailable) as exc:
            await self._reap()
            raise WorkerStartError("the intake worker did not start") from exc
        finally:
            self._handshake = None
        doc = json.loads(reply)
        if not doc.get("ready"):
            await self._reap()
            raise WorkerStartError(
                f"the intake worker could not open the store: {doc.get('error')}"
            )

    async def submit(self, kind: str, body: bytes, token_row: bytes = b"") -> Answer:
        """Hand ``body`` to the worker as a ``kind`` submission and await its answer.

        A report carries ``token_row``: the public values of the token it will be bound to."""
        channel = self._channel
        if channel is None or channel.transport is None or not self.running:
            raise WorkerUnavailable("the intake worker is restarting")
        request_id = next(self._ids) % 0xFFFFFFFF + 1  # never STATS_ID (0)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        if not self._outbox:  # the first request of this loop turn: flush at the turn's end
            asyncio.get_running_loop().call_soon(self._flush, channel)
        self._outbox.append(request_frame(request_id, kind, token_row, body))
        try:
            return await future
        finally:
            self._waiting.pop(request_id, None)

    async def stop(self) -> None:
        """Close the socket (the worker finishes its batch and exits) and wait for it."""
        self._closing = True
        if self._restarting is not None:
            self._restarting.cancel()
        if self._channel is not None and self._channel.transport is not None:
            self._channel.transport.close()
        await self._reap()

    def _flush(self, channel: _Channel) -> None:
        # One write (one system call, one wake-up of the worker) for all the requests that
        # arrived in this turn of the event loop.
        frames, self._outbox = self._outbox, []
        if channel is self._channel and channel.transport is not None:
            channel.transport.write(b"".join(frames))

    # --- called by the channel ---------------------------------------------------------------
    def _received(self, payload: bytes) -> None:
        if self._handshake is not None and not self._handshake.done():
            self._handshake.set_result(payload)
            return
        request_id, status, form = ANSWER.unpack_from(payload)
        if request_id == STATS_ID:
            stats = json.loads(payload[ANSWER.size :])
            self.on_stats(float(stats["commit_seconds"]), stats.get("error"))
            return
        future = self._waiting.get(request_id)
        if future is not None and not future.done():
            future.set_result(Answer(status, form, payload[ANSWER.size :]))

    def _lost(self, channel: _Channel) -> None:
        if channel is not self._channel:
            return
        self._channel = None
        failure = WorkerUnavailable("the intake worker stopped")
        if self._handshake is not None and not self._handshake.done():
            self._handshake.set_exception(failure)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(failure)
        if not self._closing and self._handshake is None:  # start() handles its own failure
            self._restarting = asyncio.get_running_loop().create_task(self._restart())

    async def _restart(self) -> None:
        await self._reap()
        while not self._closing:
            try:
                await self.start()
                return
            except WorkerStartError as exc:
                print(f"lianxin gateway: {exc}; trying again in 1 s", file=sys.stderr)
                await asyncio.sleep(1.0)

    async def _reap(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, process.wait), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            process.kill()
            await loop.run_in_executor(None, process.wait)


def _import_path() -> str:
    # The worker imports ``gateway`` and ``lianxin`` exactly as this process did.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rest = os.environ.get("PYTHONPATH")
    return here if not rest else here + os.pathsep + rest
