"""The single writer: one thread owns the write connection and commits in groups.

Requests hand it a function; it runs the functions that are waiting (up to ``batch_max``) in one
transaction, each inside its own savepoint so that one refused submission does not undo the
others, then commits once. With ``synchronous=FULL`` the commit is on disk before any of the
callers' futures resolve, so a 201 always means durable. Grouping amortises the fsync across
concurrent submissions.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from lianxin.store.db import connect

T = TypeVar("T")
Job = tuple[Callable[[sqlite_utils.Database], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
_STOP = object()


class WriterClosed(RuntimeError):
    """The writer has stopped; no more writes are accepted."""


class Writer:
    """A thread that serialises every write to the store."""

    def __init__(self, db_path: Path, *, batch_max: int = 256):
        self._db_path = db_path
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="lianxin-writer", daemon=True)
        self._ready = threading.Event()
        self._closed = False
        self._startup_error: BaseException | None = None

    def start(self) -> None:
        """Open the write connection (migrating the store) and start the thread."""
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise self._startup_error

    async def run(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run ``fn`` in the next committed batch and return its result (or raise its error)."""
        if self._closed:
            raise WriterClosed("the gateway is shutting down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, future, loop))
        return await future

    def stop(self) -> None:
        """Finish the queued writes and stop."""
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            db = connect(self._db_path)
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch: list[Job] = [first]  # type: ignore[list-item]
            while len(batch) < self._batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            self._commit(db, batch)
        db.conn.close()

    def _commit(self, db: sqlite_utils.Database, batch: list[Job]) -> None:
        try:
            db.execute("BEGIN IMMEDIATE")
            # Fast path: the whole batch in one savepoint (two statements per batch, not two
            # per job). If a job refuses (rare), undo the batch and run it again with a
            # savepoint per job, so that only the refused job is undone.
            db.execute("SAVEPOINT batch")
            try:
                outcomes: list[tuple[bool, Any]] = [(True, fn(db)) for fn, _f, _l in batch]
                db.execute("RELEASE batch")
            except Exception:
                db.execute("ROLLBACK TO batch")
                db.execute("RELEASE batch")
                outcomes = [self._one(db, fn) for fn, _f, _l in batch]
            db.execute("COMMIT")
        except Exception as exc:
            if db.conn.in_transaction:
                db.conn.rollback()
            outcomes = [(False, exc)] * len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for (_fn, future, loop), (ok, value) in zip(batch, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)  # one wake-up per batch

    @staticmethod
    def _one(
        db: sqlite_utils.Database, fn: Callable[[sqlite_utils.Database], Any]
    ) -> tuple[bool, Any]:
        db.execute("SAVEPOINT job")
        try:
            result = fn(db)
        except Exception as exc:
            db.execute("ROLLBACK TO job")
            db.execute("RELEASE job")
            return False, exc
        db.execute("RELEASE job")
        return True, result


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        _settle(future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
