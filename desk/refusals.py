"""Why the desk refused a request. Nothing is changed when one of these is raised.

    DeskError                      (desk.errors)
    └── Refused                    a request the desk will not carry out; exit status 1
        ├── BadValue               an argument's value is wrong (code, date, text); exit status 2
        ├── UnknownCase            no case with that id or registration number
        ├── IllegalTransition      the step is not allowed in the case's state; lists the next steps
        └── WrongKey               the office key given cannot do what was asked

Each message names the argument it is about (``--problem-type: unknown code 'x'``), so the CLI
prints it as one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import DeskError


class Refused(DeskError):
    """A request the desk will not carry out; nothing was changed."""

    exit_code = 1

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(f"{argument}: {message}" if argument else message)
        self.argument = argument


class BadValue(Refused):
    """An argument's value is not acceptable (unknown code, bad date, text too long)."""

    exit_code = 2


class UnknownCase(Refused):
    """No case has that id or registration number."""


class IllegalTransition(Refused):
    """The step is not allowed now; ``allowed`` lists the steps that are."""

    def __init__(self, message: str, allowed: Sequence[str]) -> None:
        steps = ", ".join(allowed) if allowed else "none (the case is finished)"
        super().__init__(f"{message}. Allowed next steps: {steps}")
        self.allowed = tuple(allowed)


class WrongKey(Refused):
    """The office key file given cannot open (or seal) what was asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message, argument="--key")
