"""Signed-in sessions and the failed-login throttle, in the server's memory only.

A session holds the officer's unlocked keys (:class:`~desk.officers.UnlockedOfficer`) from the
sign-in until the officer signs out, stays idle longer than the timeout, or the server stops;
each of those calls :meth:`~desk.officers.UnlockedOfficer.forget` and drops the session. Nothing
of a session is written to disk: after a restart everyone signs in again. The cookie carries a
random token; the store keys sessions by its SHA-256, so the tokens themselves are not kept.

Time comes from an injected ``monotonic`` function (seconds), so tests move it forward instead
of waiting.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from desk.officers import UnlockedOfficer

Monotonic = Callable[[], float]


class ManualClock:
    """A monotonic clock a test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.value += seconds


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Session:
    """One signed-in officer."""

    officer: UnlockedOfficer
    csrf: str
    last_seen: float
    new_totp: str | None = None  # a second-factor secret shown for enrolment, not yet confirmed
    # The intake forms already taken in (the form's one-time id → the case): a form sent
    # twice (a reload of the slip page) makes no second case.
    intakes: dict[str, int] = field(default_factory=dict)


@dataclass
class SessionStore:
    """Sessions by the digest of their cookie token; idle ones are wiped on every access."""

    idle_seconds: float
    monotonic: Monotonic = time.monotonic
    # Called with the officer and why (sign-out, idle, shutdown) before the keys are wiped:
    # the web desk signs the signed-out event with them.
    on_end: Callable[[UnlockedOfficer, str], None] | None = None
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(self, officer: UnlockedOfficer) -> tuple[str, Session]:
        """A new session for ``officer``: the cookie token and the session."""
        token = secrets.token_urlsafe(32)
        session = Session(officer, secrets.token_urlsafe(32), self.monotonic())
        with self._lock:
            self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> tuple[Session | None, bool]:
        """The live session of ``token`` (its idle clock restarted) and whether the token
        named a session that has just been wiped for idleness."""
        expired = self.sweep()
        if not token:
            return None, False
        key = _digest(token)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None, key in expired
            session.last_seen = self.monotonic()
            return session, False

    def end(self, token: str | None) -> bool:
        """Sign out: wipe the keys and drop the session; whether there was one."""
        if not token:
            return False
        with self._lock:
            session = self._sessions.pop(_digest(token), None)
        if session is None:
            return False
        self._ended(session, "sign-out")
        return True

    def sweep(self) -> set[str]:
        """Wipe every session idle longer than the timeout; returns their digests."""
        now = self.monotonic()
        with self._lock:
            stale = {k for k, s in self._sessions.items() if now - s.last_seen > self.idle_seconds}
            dropped = [self._sessions.pop(k) for k in stale]
        for session in dropped:
            self._ended(session, "idle")
        return stale

    def clear(self) -> int:
        """Wipe every session (the server is stopping); returns how many."""
        with self._lock:
            dropped = list(self._sessions.values())
            self._sessions.clear()
        for session in dropped:
            self._ended(session, "shutdown")
        return len(dropped)

    def _ended(self, session: Session, why: str) -> None:
        try:
            if self.on_end is not None:
                self.on_end(session.officer, why)
        finally:
            session.officer.forget()
            session.new_totp = None

    def officers(self) -> list[str]:
        """The officer ids signed in now (for tests and the operator)."""
        with self._lock:
            return sorted(s.officer.id for s in self._sessions.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


@dataclass
class Throttle:
    """Failed sign-ins per account: after ``limit`` wrong passphrases in a row the account is
    locked for ``lock_seconds`` (its passphrase is not even tried meanwhile); a success
    resets it. At most ``capacity`` accounts are remembered (the oldest is forgotten)."""

    limit: int = 5
    lock_seconds: float = 300.0
    monotonic: Monotonic = time.monotonic
    capacity: int = 10_000
    _accounts: OrderedDict[str, _Failures] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked_for(self, account: str) -> float:
        """Seconds the account stays locked (0 when it is not)."""
        with self._lock:
            entry = self._accounts.get(account)
            if entry is None:
                return 0.0
            return max(0.0, entry.locked_until - self.monotonic())

    def failed(self, account: str) -> int:
        """Count a wrong passphrase; returns the failures in a row (locks at the limit)."""
        with self._lock:
            entry = self._accounts.pop(account, None) or _Failures()
            entry.count += 1
            if entry.count >= self.limit:
                entry.locked_until = self.monotonic() + self.lock_seconds
                entry.count = 0
                count = self.limit
            else:
                count = entry.count
            self._accounts[account] = entry
            while len(self._accounts) > self.capacity:
                self._accounts.popitem(last=False)
            return count

    def succeeded(self, account: str) -> None:
        """A correct passphrase: the count starts again."""
        with self._lock:
            self._accounts.pop(account, None)


@dataclass
class _Pending:
    officer: UnlockedOfficer
    sealed: bytes
    deadline: float


@dataclass
class SecondStep:
    """Officers whose passphrase was right and whose TOTP code is awaited (keys open in memory
    for at most ``seconds``; wiped when the time is up, on a lock, or at shutdown)."""

    seconds: float = 300.0
    monotonic: Monotonic = time.monotonic
    capacity: int = 1000
    _waiting: dict[str, _Pending] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, officer: UnlockedOfficer, sealed: bytes) -> str:
        """Wait for ``officer``'s code; the cookie token naming the wait."""
        self.sweep()
        token = secrets.token_urlsafe(32)
        with self._lock:
            if len(self._waiting) >= self.capacity:
                _, oldest = self._waiting.popitem()
                oldest.officer.forget()
            self._waiting[_digest(token)] = _Pending(
                officer, sealed, self.monotonic() + self.seconds
            )
        return token

    def get(self, token: str | None) -> tuple[UnlockedOfficer, bytes] | None:
        """The waiting officer and their sealed secret, if the wait is still on."""
        self.sweep()
        if not token:
            return None
        with self._lock:
            found = self._waiting.get(_digest(token))
        return (found.officer, found.sealed) if found else None

    def take(self, token: str | None, *, wipe: bool) -> None:
        """End the wait (``wipe``: the keys too, when no session takes them over)."""
        if not token:
            return
        with self._lock:
            found = self._waiting.pop(_digest(token), None)
        if found is not None and wipe:
            found.officer.forget()

    def sweep(self) -> None:
        now = self.monotonic()
        with self._lock:
            late = [k for k, p in self._waiting.items() if p.deadline < now]
            dropped = [self._waiting.pop(k) for k in late]
        for pending in dropped:
            pending.officer.forget()

    def clear(self) -> None:
        with self._lock:
            dropped = list(self._waiting.values())
            self._waiting.clear()
        for pending in dropped:
            pending.officer.forget()
