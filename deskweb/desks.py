"""The web desk's settings and the desk each request works on.

The lists, the policy and the calendar are loaded and checked once at start (a bad data file
stops the server before it listens); each request then gets a desk on a SQLite connection of
its own for the request, taken from a pool of open connections (opening one checks and migrates
the schema and counts the register: 55 to 72 ms at a million cases on the shared build
machine) and put back, its transaction rolled back, when the request ends.

Read events (who read which case, :meth:`desk.context.Desk.record_read`) of requests that arrive
together are written in one transaction, one fsync for all of them (group commit): each
request still waits until its own read event is durable before its page is built, and a read
that cannot be recorded fails alone.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlite_utils

from desk.context import DEFAULT_POLICY, Desk, open_desk, open_store
from desk.officers import UnlockedOfficer
from lianxin.domain.workdays import Clock, FixedClock, SystemClock

from .sessions import Monotonic
from .work import UnitCountsCache


@dataclass(frozen=True)
class WebSettings:
    """How the web desk runs. ``today`` fixes the desk's day (demo and test stores only, as
    ``--today`` does for the CLI); ``monotonic`` is the idle clock (tests move it by hand)."""

    db: Path
    idle_seconds: float = 15 * 60
    secure_cookies: bool = False
    lock_seconds: float = 5 * 60
    failures_before_lock: int = 5
    today: date | None = None
    policy: str | None = None
    data_dir: Path | None = None
    calendar_override: Path | None = None
    monotonic: Monotonic = field(default=time.monotonic)
    parallel_unlocks: int = 2  # each Argon2id derivation takes 64 MiB

    def __post_init__(self) -> None:
        if self.idle_seconds <= 0:
            raise ValueError("--idle-minutes: give a positive number of minutes")
        if self.failures_before_lock < 1 or self.lock_seconds <= 0:
            raise ValueError("--lock-minutes: give a positive number of minutes")


@dataclass
class _Read:
    officer: UnlockedOfficer
    case_id: int
    data: dict[str, Any]
    done: bool = False
    error: BaseException | None = None


class ReadLog:
    """Read events written in groups: the first request to arrive writes every read waiting
    (its own too) in one transaction while the others wait; the next waiting one writes the
    reads that came in meanwhile. Each caller returns once its own event is committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._waiting: list[_Read] = []
        self._writing = False
        self.batches = 0  # transactions written (for the operator's bench)

    def record(self, desk: Desk, case_id: int, data: dict[str, Any]) -> None:
        """Record one read event of ``desk``'s officer; returns once it is durable."""
        mine = _Read(desk.me(), case_id, data)
        with self._lock:
            self._waiting.append(mine)
            while not mine.done and self._writing:
                self._written.wait()
            if mine.done:
                batch: list[_Read] = []
            else:
                batch, self._waiting = self._waiting, []
                self._writing = True
        if batch:
            try:
                self._write(desk, batch)
            finally:
                with self._lock:
                    self._writing = False
                    self._written.notify_all()
        if mine.error is not None:
            raise mine.error

    def _write(self, desk: Desk, batch: list[_Read]) -> None:
        def one(read: _Read) -> None:
            acting = Desk(
                db=desk.db,
                path=desk.path,
                taxonomy=desk.taxonomy,
                outcomes=desk.outcomes,
                calendar=desk.calendar,
                clock=desk.clock,
                officer=read.officer,
                policy_name=desk.policy_name,
                _policies=desk._policies,
            )
            acting.event(read.case_id, "read", read.data)

        try:
            with desk.transaction():
                for read in batch:
                    one(read)
            self.batches += 1
        except Exception:  # each read again on its own: one bad read fails alone
            for read in batch:
                try:
                    with desk.transaction():
                        one(read)
                    self.batches += 1
                except Exception as exc:  # handed to its own request
                    read.error = exc
        for read in batch:
            read.done = True


@dataclass
class PooledDesk(Desk):
    """A request's desk: its connection goes back to the pool on ``close``, and its read events
    go through the group commit."""

    factory: DeskFactory | None = field(default=None, repr=False)

    def record_read(self, case_id: int, what: str, **detail: Any) -> None:
        """A read event, durable when this returns (written with the reads of other requests
        waiting at the same time)."""
        if self.factory is None or self.db.conn.in_transaction:  # joins the open transaction
            super().record_read(case_id, what, **detail)
            return
        self.factory.reads.record(self, case_id, {"what": what, **detail})

    def close(self) -> None:
        """Give the connection back (what the request left uncommitted is rolled back)."""
        if self.factory is None:
            super().close()
            return
        self.factory.give_back(self.db)
        self.factory = None


class DeskFactory:
    """Opens a desk for one request with the lists, policy and calendar loaded at start."""

    def __init__(self, settings: WebSettings) -> None:
        template = open_desk(
            settings.db,
            data_dir=settings.data_dir,
            policy=settings.policy,
            calendar_override=settings.calendar_override,
        )
        template.close()
        self.template = template
        self.clock: Clock = FixedClock(settings.today) if settings.today else SystemClock()
        self.counts = UnitCountsCache()
        self.reads = ReadLog()
        self._pool: list[sqlite_utils.Database] = []
        self._pool_lock = threading.Lock()

    def open(self, officer: UnlockedOfficer | None) -> Desk:
        """A desk on a pooled connection (close it after the request to give it back)."""
        t = self.template
        with self._pool_lock:
            db = self._pool.pop() if self._pool else None
        return PooledDesk(
            db=db or open_store(t.path),
            path=t.path,
            taxonomy=t.taxonomy,
            outcomes=t.outcomes,
            calendar=t.calendar,
            clock=self.clock,
            officer=officer,
            policy_name=t.policy_name or DEFAULT_POLICY,
            _policies=t._policies,
            factory=self,
        )

    def give_back(self, db: sqlite_utils.Database) -> None:
        """Back to the pool, with nothing left open on it."""
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        with self._pool_lock:
            self._pool.append(db)

    def close(self) -> None:
        """Close every pooled connection (the server is stopping)."""
        with self._pool_lock:
            pooled, self._pool = self._pool, []
        for db in pooled:
            db.conn.close()
