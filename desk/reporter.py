"""Writing to a case's reporter: an item sealed to the reply key of every tracking token of the
case, one row a token, which the publisher puts in that token's status row (protocol §13.2).

The office's answers (``answers``), its messages and the records of what the reporter sent
(``reporter_items``) are all written here, inside the caller's transaction; the caller's
signed event records ``[row id, hash]`` of each sealed copy, never the text, so that
``desk verify`` notices an edited or deleted copy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Desk
from .officekeys import digest
from .refusals import Refused

TABLES = ("answers", "reporter_items")


def case_tokens(desk: Desk, case_id: int) -> list[tuple[bytes, bytes]]:
    """``(lookup id, reply public key)`` of every token of the case, oldest first."""
    rows = desk.db.execute(
        "SELECT lookup_id, reply_pk FROM tokens WHERE case_id = ? ORDER BY issued_date, lookup_id",
        [case_id],
    ).fetchall()
    return [(bytes(r[0]), bytes(r[1])) for r in rows]


def require_tokens(desk: Desk, case_id: int, label: str, what: str) -> None:
    """Refuse, before anything is written, to write ``what`` to a case without a token."""
    if not case_tokens(desk, case_id):
        raise Refused(f"case {label} has no tracking token to {what}", code="no_token", case=label)


def seal_to_tokens(
    desk: Desk, case_id: int, table: str, kind: str, seal: Callable[[bytes], bytes]
) -> list[list[Any]]:
    """Seal one item to every token of the case (``seal(reply_pk)``), a row each in ``table``;
    returns ``[row id, hash]`` of each sealed copy for the caller's event."""
    if table not in TABLES:
        raise ValueError(f"not a table of items for the reporter: {table}")
    rows = []
    for lookup_id, reply_pk in case_tokens(desk, case_id):
        sealed = seal(reply_pk)
        cursor = desk.db.execute(
            f"INSERT INTO {table} (case_id, lookup_id, kind, sealed, created_date)"  # noqa: S608
            " VALUES (?, ?, ?, ?, ?)",
            [case_id, lookup_id, kind, sealed, desk.today.isoformat()],
        )
        rows.append([int(cursor.lastrowid or 0), digest(sealed)])
    return rows
