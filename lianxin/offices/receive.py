"""Taking a package in: the checks every receiver makes before it stores anything (the
gateway's ``POST /v1/packages`` and ``lianxin office import`` both call :func:`accept_package`).

In order: the package parses; it is addressed to this office; its sender is in the directory,
on the right side (assignments and checks come from the parent, progress from a child); it is
sealed to one of this office's keys; it is signed by the sender's pinned signing key and both
signatures hold; its ``(from, seq)`` was never accepted before. A refused package leaves the
store as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass

import sqlite_utils

from ..protocol.errors import MalformedError, UnknownKeyError
from .directory import get_office
from .identity import own_identity
from .package import DOWN, Package, PackageRefused, parse_package


@dataclass(frozen=True)
class Received:
    """A package accepted and stored."""

    package: Package
    row_id: int
    received_date: str


def check_package(
    db: sqlite_utils.Database, body: bytes, office_key_ids: Collection[str]
) -> Package:
    """Every check of a package against this office's directory and keys; changes nothing."""
    package = parse_package(body)
    own = own_identity(db)
    if own is None or package.receiver != own.office_id:
        here = own.office_id if own else "an office without a card"
        raise MalformedError(
            f"to: the package is addressed to {package.receiver}, this is {here}",
            slug="wrong-office",
        )
    entry = get_office(db, package.sender)
    if entry is None:
        raise PackageRefused(
            f"from: office {package.sender} is not in this office's directory",
            slug="unknown-office",
        )
    wanted = "parent" if package.kind in DOWN else "child"
    if entry.relation != wanted:
        raise PackageRefused(
            f"kind: a {package.kind} package comes from a {wanted} office; {package.sender}"
            f" is this office's {entry.relation}",
            slug="wrong-direction",
        )
    if package.key_id not in office_key_ids:
        raise UnknownKeyError(f"key_id: {package.key_id} is not one of this office's keys")
    package.verify(entry.card.signing_key)
    if _seen(db, package):
        raise PackageRefused(
            f"seq: package {package.seq} from {package.sender} was received before",
            slug="replayed",
            status=409,
        )
    return package


def _seen(db: sqlite_utils.Database, package: Package) -> bool:
    row = db.execute(
        "SELECT 1 FROM packages WHERE direction = 'in' AND office_id = ? AND seq = ?",
        [package.sender, package.seq],
    ).fetchone()
    return row is not None


def accept_package(
    db: sqlite_utils.Database, body: bytes, office_key_ids: Collection[str], *, today: str
) -> Received:
    """Check a package and store it for the desk (inside the caller's transaction)."""
    package = check_package(db, body, office_key_ids)
    try:
        cursor = db.execute(
            "INSERT INTO packages (direction, office_id, seq, kind, body, digest, created_date)"
            " VALUES ('in', ?, ?, ?, ?, ?, ?)",
            [package.sender, package.seq, package.kind, body, package.digest, today],
        )
    except sqlite3.IntegrityError as exc:  # the same package twice in one batch
        raise PackageRefused(
            f"seq: package {package.seq} from {package.sender} was received before",
            slug="replayed",
            status=409,
        ) from exc
    return Received(package, int(cursor.lastrowid or 0), today)
