"""Roles and the actions each may take, from the versioned ``desk/data/roles.yaml``.

Every desk step is declared once with :func:`desk_action`: its name (an action of the roles
file), which gives the roles allowed, whether a handler is limited to their unit's cases, and
the event types it may write. ``desk verify`` uses the same table to check, for each signed
event, that its officer held a role allowing it at that time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lianxin.domain.errors import DataFileError

ROLES_FILE = Path(__file__).parent / "data" / "roles.yaml"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Role:
    """One role with its labels."""

    code: str
    zh: str
    en: str
    reads_reports: bool

    @property
    def label(self) -> str:
        """``registrar 受理``."""
        return f"{self.en} {self.zh}"


@dataclass(frozen=True)
class Action:
    """A desk step: who may take it and what it writes."""

    name: str
    roles: tuple[str, ...]
    events: frozenset[str]
    unit_scope: bool
    demo_only: bool
    zh: str
    en: str


@dataclass(frozen=True)
class RoleBook:
    """The roles file, loaded."""

    version: str
    roles: dict[str, Role]
    actions: dict[str, Action]

    def action(self, name: str) -> Action:
        """An action by name (a programming error if unknown)."""
        return self.actions[name]

    def actions_writing(self, event_type: str) -> list[Action]:
        """The actions that may write ``event_type``."""
        return [a for a in self.actions.values() if event_type in a.events]

    def needed(self, action: Action) -> str:
        """``registrar 受理 or approver 审批``."""
        return " or ".join(self.roles[r].label for r in action.roles)


def _fail(field: str, problem: str) -> DataFileError:
    return DataFileError("desk/data/roles.yaml", None, field, problem)


def load_roles(path: Path = ROLES_FILE) -> RoleBook:
    """Load and check the roles file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    roles: dict[str, Role] = {}
    for code, entry in doc["roles"].items():
        roles[code] = Role(code, str(entry["zh"]), str(entry["en"]), bool(entry["reads_reports"]))
    actions: dict[str, Action] = {}
    for name, entry in doc["actions"].items():
        allowed = tuple(entry["roles"])
        for role in allowed:
            if role not in roles:
                raise _fail(f"actions.{name}.roles", f"unknown role {role!r}")
        actions[name] = Action(
            name,
            allowed,
            frozenset(entry.get("events", [])),
            entry.get("scope") == "unit",
            bool(entry.get("demo_only", False)),
            str(entry["zh"]),
            str(entry["en"]),
        )
    return RoleBook(str(doc["version"]), roles, actions)


ROLEBOOK = load_roles()
ROLE_CODES = tuple(ROLEBOOK.roles)


def desk_action(name: str) -> Callable[[F], F]:
    """Declare a desk step: before it runs, its officer must hold a role allowing ``name``.

    The wrapped function's first argument is the :class:`~desk.context.Desk`; a case given as
    its second argument is checked for unit scope (a handler acts only on their unit's cases).
    """
    action = ROLEBOOK.action(name)

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(desk: Any, *args: Any, **kwargs: Any) -> Any:
            first = args[0] if args else None
            case = first if action.unit_scope and isinstance(first, int | str) else None
            desk.authorize(name, case)
            return func(desk, *args, **kwargs)

        wrapper.action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
