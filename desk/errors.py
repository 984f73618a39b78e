"""The root of the office desk's own errors.

    DeskError
    └── Refused (desk.refusals)   a desk action that the case's state or the input forbids

Errors of the domain data beneath the desk (data files, policies, deadlines) are
``lianxin.domain.errors.DomainError``; the CLI turns either into a one-line message and a
non-zero exit code.
"""

from __future__ import annotations


class DeskError(Exception):
    """Root of every error raised by the office desk."""
