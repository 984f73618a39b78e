"""Why the desk refused a request. Nothing is changed when one of these is raised.

    DeskError                      (desk.errors)
    └── Refused                    a request the desk will not carry out; exit status 1
        ├── BadValue               an argument's value is wrong (code, date, text); exit status 2
        ├── UnknownCase            no case with that id or registration number
        ├── IllegalTransition      the step is not allowed in the case's state; lists the next steps
        └── WrongKey               the office key given cannot do what was asked

Each message names the argument it is about (``--problem-type: unknown code 'x'``), so the CLI
prints it as one line. Each refusal also carries a stable ``code`` (the class's, or a more
precise one where it is raised) and the ``params`` that fill it, so the web desk words it in the
page's language from its own catalogue (``deskweb/data/refusals.yaml``) without parsing the
English message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import DeskError


class Refused(DeskError):
    """A request the desk will not carry out; nothing was changed."""

    exit_code = 1
    code = "refused"

    def __init__(
        self, message: str, argument: str | None = None, *, code: str | None = None, **params: Any
    ) -> None:
        super().__init__(f"{argument}: {message}" if argument else message)
        self.argument = argument
        self.detail = message
        if code is not None:
            self.code = code
        self.params: dict[str, Any] = params


class BadValue(Refused):
    """An argument's value is not acceptable (unknown code, bad date, text too long)."""

    exit_code = 2
    code = "bad_value"


class UnknownCase(Refused):
    """No case has that id or registration number."""

    code = "unknown_case"


class IllegalTransition(Refused):
    """The step is not allowed now; ``allowed`` lists the steps that are. ``params`` hold
    ``step``, ``case`` and ``why`` (a :class:`desk.lifecycle.Why`) where the lifecycle refused."""

    code = "illegal_transition"

    def __init__(
        self, message: str, allowed: Sequence[str], *, code: str | None = None, **params: Any
    ) -> None:
        steps = ", ".join(allowed) if allowed else "none (the case is finished)"
        super().__init__(f"{message}. Allowed next steps: {steps}", code=code, **params)
        self.allowed = tuple(allowed)


class WrongKey(Refused):
    """The office key file given cannot open (or seal) what was asked."""

    code = "wrong_key"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message, argument="--key", code=code, **params)
