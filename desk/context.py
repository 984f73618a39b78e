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
from datetime import UTC, date, datetime
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
from lianxin.store.events import append_event, chain_head

from .officers import UnlockedOfficer
from .refusals import BadValue, Refused
from .roles import ROLEBOOK

STORE_KINDS = ("production", "demo", "test")


def utc_text(moment: datetime) -> str:
    """``2026-12-06T23:05:09Z``: UTC to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def store_kind(db: sqlite_utils.Database) -> str:
    """production, demo or test (a store without an office yet counts as production)."""
    row = db.execute("SELECT value FROM office WHERE name = 'kind'").fetchone()
    return str(row[0]) if row else "production"


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
    officer: UnlockedOfficer | None = None
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

    def me(self) -> UnlockedOfficer:
        """The authenticated officer; refused when none was given (every change names one)."""
        if self.officer is None:
            raise BadValue(
                "who is acting? give --officer ID (and the passphrase when asked)", "--officer"
            )
        return self.officer

    def actor(self) -> str:
        """The acting officer's id."""
        return self.me().id

    @property
    def kind(self) -> str:
        """The store's kind: production, demo or test."""
        return store_kind(self.db)

    def authorize(self, action_name: str, case_ref: int | str | None = None) -> None:
        """Refuse unless the officer holds a role allowing the action (and, for a handler,
        the case is assigned to their unit)."""
        me = self.me().record
        action = ROLEBOOK.action(action_name)
        held = [r for r in action.roles if me.has(r)]
        if not held:
            mine = ", ".join(ROLEBOOK.roles[r].label for r in me.roles) or "no role"
            raise Refused(
                f"{action.en} ({action.zh}) needs the role {ROLEBOOK.needed(action)};"
                f" officer {me.id} has {mine}",
                argument="--officer",
                code="role_needed",
                action=action.name,
                roles=action.roles,
            )
        if action.demo_only and self.kind == "production":
            raise Refused(
                f"{action.en} is only for demo and test stores",
                argument="--officer",
                code="demo_only",
                action=action.name,
            )
        if action.unit_scope and case_ref is not None and held == ["handler"]:
            from .cases import load_case

            case = load_case(self.db, case_ref)
            if case.unit != me.unit:
                raise Refused(
                    f"case {case.label} is not assigned to your unit {me.unit}"
                    f" ({action.en} needs the role {ROLEBOOK.needed(action)} for it)",
                    argument="--officer",
                    code="not_your_unit",
                    case=case.label,
                    unit=me.unit,
                )

    def now_text(self) -> str:
        """The event time: the clock's instant in UTC, to the second."""
        if not isinstance(self.clock, SystemClock) and self.kind == "production":
            raise BadValue(
                "--today changes nothing in a production store (only in demo and test"
                " stores); it is for read-only views",
                "--today",
            )
        return utc_text(self.clock.now())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: everything inside is written, or nothing is (joins one already
        open)."""
        if self.db.conn.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def event(self, case_id: int | None, kind: str, data: dict[str, Any] | None = None) -> int:
        """Append one event signed by the acting officer (inside the caller's transaction),
        stamped with the wall-clock time; refused if that is before the event it follows."""
        me = self.me()
        day = self.today
        if kind == "read" and self.kind == "production":
            day, now = SystemClock().today(), utc_text(datetime.now(UTC))  # reads: always now
        else:
            now = self.now_text()
        _, _, last = chain_head(self.db)
        if last is not None and now < last:
            raise Refused(
                f"the last event was recorded at {last}; an action cannot be dated before"
                f" the event it follows (the clock says {now})",
                argument="--today",
            )
        return append_event(
            self.db,
            case_id,
            kind,
            actor=me.id,
            at=day.isoformat(),
            data=data,
            time=now,
            signer=me.sign,
        )

    def record_read(self, case_id: int, what: str, **detail: Any) -> None:
        """A read event: who read which case's what (its own transaction)."""
        with self.transaction():
            self.event(case_id, "read", {"what": what, **detail})

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
    officer: UnlockedOfficer | None = None,
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
