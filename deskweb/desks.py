"""The web desk's settings and the desk each request works on.

The lists, the policy and the calendar are loaded and checked once at start (a bad data file
stops the server before it listens); each request then gets a desk on its own SQLite
connection, closed when the request ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
    counts_seconds: float = 60.0  # how long the per-unit warning counts are kept

    def __post_init__(self) -> None:
        if self.idle_seconds <= 0:
            raise ValueError("--idle-minutes: give a positive number of minutes")
        if self.failures_before_lock < 1 or self.lock_seconds <= 0:
            raise ValueError("--lock-minutes: give a positive number of minutes")


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
        self.counts = UnitCountsCache(settings.counts_seconds)

    def open(self, officer: UnlockedOfficer | None) -> Desk:
        """A desk on a fresh connection (close it after the request)."""
        t = self.template
        return Desk(
            db=open_store(t.path),
            path=t.path,
            taxonomy=t.taxonomy,
            outcomes=t.outcomes,
            calendar=t.calendar,
            clock=self.clock,
            officer=officer,
            policy_name=t.policy_name or DEFAULT_POLICY,
            _policies=t._policies,
        )
