"""Errors raised by the office desk.

    DeskError
    ├── DataFileError        a data, policy or calendar-override file is malformed
    ├── PolicyNotFoundError  no preset of that name and no such file
    └── DeadlineError        a deadline was asked for in a way its rule forbids

The CLI turns any ``DeskError`` into a one-line message and a non-zero exit code.
"""

from __future__ import annotations


class DeskError(Exception):
    """Root of every error raised by the office desk."""


class DataFileError(DeskError):
    """A YAML file is malformed; the message names the file, the line and the field.

    The message reads ``<file>:<line>: <field>: <problem>``, e.g.
    ``desk/data/ranks.yaml:14: items[3].code: duplicate code 'county'``, so editors and CI
    logs can jump to the spot. The parts are kept as attributes for callers that render
    their own message. ``line`` is None when the file could not be read at all.
    """

    def __init__(self, file: str, line: int | None, field: str, problem: str) -> None:
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem


class PolicyNotFoundError(DeskError):
    """``load_policy`` was given a name that is neither a preset nor an existing file."""


class DeadlineError(DeskError):
    """A deadline computation was requested that the rule does not allow (e.g. too many
    extensions, a negative count)."""
