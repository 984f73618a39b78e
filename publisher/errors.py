"""Exceptions raised by the publisher.

One root, :class:`PublisherError`, so the CLI can turn any publisher failure into one clear message
and exit code; small subclasses say which building block refused its input.
"""

from __future__ import annotations


class PublisherError(Exception):
    """Root of every error the publisher raises on purpose."""


class SuppressionInputError(PublisherError, ValueError):
    """A table given to the suppression rules is malformed (ragged, negative, inconsistent)."""


class PrivacyParameterError(PublisherError, ValueError):
    """A differential-privacy parameter (ε, contributions, counts) is out of range."""


class PrivacyBudgetExceededError(PublisherError):
    """The releases of a year would spend more ε than the published yearly budget."""


class ChartInputError(PublisherError, ValueError):
    """Data given to a chart cannot be drawn (negative value, no points, bad size)."""


class LeadersFileError(PublisherError):
    """The reception-leaders data file is invalid.

    ``str(error)`` reads ``<file>:<line>: <field>: <problem>``, like a compiler message, so an
    editor can jump to the line.
    """

    def __init__(self, file: str, line: int, field: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
        where = f"{file}:{line}" if line else file  # line 0: the file as a whole (unreadable)
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
