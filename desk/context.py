"""The desk's working context: the store, the acting officer, the clock, the lists and policies.

Every library function takes a :class:`Desk`. The CLI builds one per command with
:func:`open_desk`; tests build one with a :class:`~lianxin.domain.workdays.FixedClock` to
place "today" anywhere. Loading validates every list and the office policy first, so a bad
data file is refused before anything is read or written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlite_utils

from lianxin.domain.datafiles import load_taxonomy
from lianxin.domain.errors import PolicyNotFoundError
from lianxin.domain.outcomes import Outcome, load_outcomes
from lianxin.domain.policy import Policy, load_policy
from lianxin.domain.taxonomy import Catalogue, Taxonomy
from lianxin.domain.workcalendar import WorkCalendar, load_calendar_override
from lianxin.domain.workdays import Clock, SystemClock
from lianxin.store.db import StoreError, connect
from lianxin.store.events import append_event

from .refusals import BadValue, Refused
from .values import clean_officer

DEFAULT_POLICY = "cn-jijian-2020"


@dataclass
class Desk:
    """Everything a desk operation needs."""

    db: sqlite_utils.Database
    path: Path
    taxonomy: Taxonomy
    outcomes: Catalogue[Outcome]
    calendar: WorkCalendar
    clock: Clock = field(default_factory=SystemClock)
    officer: str = ""
    policy_name: str = DEFAULT_POLICY
    _policies: dict[str, Policy] = field(default_factory=dict, repr=False)

    @property
    def today(self) -> date:
        """Today according to the injected clock."""
        return self.clock.today()

    def policy(self, name: str | None = None) -> Policy:
        """A policy by name or path (the office default when ``name`` is None), loaded once."""
        key = name or self.policy_name
        if key not in self._policies:
            self._policies[key] = _load_policy(key)
        return self._policies[key]

    def actor(self) -> str:
        """The acting officer; refused when none was given (every change names one)."""
        return clean_officer(self.officer)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: everything inside is written, or nothing is."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def event(self, case_id: int, kind: str, data: dict[str, Any] | None = None) -> int:
        """Append one event (inside the caller's transaction) for the acting officer."""
        return append_event(
            self.db, case_id, kind, actor=self.actor(), at=self.today.isoformat(), data=data
        )

    def close(self) -> None:
        """Close the database connection."""
        self.db.conn.close()


def _load_policy(name: str) -> Policy:
    try:
        return load_policy(name)
    except PolicyNotFoundError as exc:
        raise BadValue(str(exc), argument="--policy") from exc


def open_store(path: Path, *, must_exist: bool = True) -> sqlite_utils.Database:
    """Open (and migrate) the store; a missing file is refused rather than created."""
    if must_exist and not path.is_file():
        raise BadValue(f"no database at {path}", argument="--db")
    try:
        db = connect(path)
        db.execute("SELECT count(*) FROM cases").fetchone()
    except (StoreError, sqlite3.DatabaseError) as exc:
        raise Refused(f"{path}: not a Lianxin store ({exc})", argument="--db") from exc
    return db


def open_desk(
    path: Path,
    *,
    officer: str = "",
    clock: Clock | None = None,
    data_dir: Path | None = None,
    policy: str | None = None,
    calendar_override: Path | None = None,
) -> Desk:
    """Validate the lists, the policy and the calendar override, then open the store."""
    taxonomy = load_taxonomy(data_dir)
    outcomes = load_outcomes(data_dir)
    override = load_calendar_override(calendar_override) if calendar_override else None
    name = policy or DEFAULT_POLICY
    office_policy = _load_policy(name)
    return Desk(
        db=open_store(path),
        path=path,
        taxonomy=taxonomy,
        outcomes=outcomes,
        calendar=WorkCalendar(override),
        clock=clock or SystemClock(),
        officer=officer,
        policy_name=name,
        _policies={name: office_policy},
    )
