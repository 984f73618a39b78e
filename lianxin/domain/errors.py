"""Errors raised while loading the domain data and computing deadlines.

    DomainError
    ├── DataFileError        a data, policy or calendar-override file is malformed
    ├── PolicyNotFoundError  no preset of that name and no such file
    └── DeadlineError        a deadline was asked for in a way its rule forbids

The desk's and the publisher's command lines turn any ``DomainError`` into a one-line message
and a non-zero exit code.
"""

from __future__ import annotations


class DomainError(Exception):
    """Root of every error raised by the domain data and calendars."""


class DataFileError(DomainError):
    """A YAML file is malformed; the message names the file, the line and the field.

    The message reads ``<file>:<line>: <field>: <problem>``, e.g.
    ``lianxin/domain/data/ranks.yaml:14: items[3].code: duplicate code 'county'``, so editors
    and CI logs can jump to the spot. The parts are kept as attributes for callers that render
    their own message. ``line`` is None when the file could not be read at all.
    """

    def __init__(self, file: str, line: int | None, field: str, problem: str) -> None:
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem


class PolicyNotFoundError(DomainError):
    """``load_policy`` was given a name that is neither a preset nor an existing file."""


class DeadlineError(DomainError):
    """A deadline computation was requested that the rule does not allow (e.g. too many
    extensions, a negative count)."""
