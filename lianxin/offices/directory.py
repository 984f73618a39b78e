"""The office directory: the parent and child offices this office exchanges packages with.

Each entry keeps the card exactly as it was pinned (its bytes and the publisher's signature)
and the fingerprints of its office, signing and publisher keys. A refreshed card with the same
keys replaces the pinned one; a refreshed card whose keys changed is kept aside (``pending``)
and refused until an officer compares the new fingerprints and confirms them. These functions
write inside the caller's transaction (the desk wraps each in one, with its event).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlite_utils

from .card import CardError, OfficeCard, verify_card

RELATIONS = ("parent", "child")
Relation = Literal["parent", "child"]


class DirectoryError(Exception):
    """A directory change is refused; ``field`` names the argument at fault."""

    def __init__(self, detail: str, *, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field


class KeysChanged(DirectoryError):
    """A refreshed card names other keys than the pinned one: kept pending until confirmed."""


@dataclass(frozen=True)
class Entry:
    """One linked office as pinned."""

    relation: str
    card: OfficeCard
    card_bytes: bytes
    card_sig: str
    added_date: str
    refreshed_date: str | None
    pending: OfficeCard | None

    @property
    def office_id(self) -> str:
        """The office's id."""
        return self.card.office_id


_SELECT = (
    "SELECT relation, card, card_sig, added_date, refreshed_date, pending_card, pending_sig"
    " FROM offices"
)


def _entry(row: tuple[Any, ...]) -> Entry:
    relation, card, sig, added, refreshed, pending, pending_sig = row
    parsed = verify_card(bytes(card), str(sig))
    pend = verify_card(bytes(pending), str(pending_sig)) if pending else None
    return Entry(str(relation), parsed, bytes(card), str(sig), str(added), refreshed, pend)


def get_office(db: sqlite_utils.Database, office_id: str) -> Entry | None:
    """The entry of ``office_id``, or None when it is not in the directory."""
    row = db.execute(_SELECT + " WHERE office_id = ?", [office_id]).fetchone()
    return _entry(row) if row else None


def list_offices(db: sqlite_utils.Database) -> list[Entry]:
    """Every linked office: the parent first, then the children by id."""
    rows = db.execute(_SELECT + " ORDER BY relation = 'child', office_id").fetchall()
    return [_entry(r) for r in rows]


def add_office(
    db: sqlite_utils.Database,
    data: bytes,
    sig: str,
    *,
    relation: str,
    publisher_fp: str,
    own_id: str | None,
    today: str,
) -> Entry:
    """Pin a card: its signature must hold and its publisher key must have the fingerprint the
    officer was given (``publisher_fp``, read aloud or on paper, never from the card alone)."""
    if relation not in RELATIONS:
        raise DirectoryError(f"relation: one of {', '.join(RELATIONS)}", field="--relation")
    try:
        card = verify_card(data, sig, publisher_fp=publisher_fp)
    except CardError as exc:
        raise DirectoryError(f"the card is refused: {exc.detail}", field="card") from exc
    if own_id is not None and card.office_id == own_id:
        raise DirectoryError("this is the office's own card", field="card")
    if get_office(db, card.office_id) is not None:
        raise DirectoryError(
            f"office {card.office_id} is already in the directory (refresh it instead)",
            field="card",
        )
    if relation == "parent":
        if db.execute("SELECT 1 FROM offices WHERE relation = 'parent'").fetchone():
            raise DirectoryError("the directory already has a parent office", field="--relation")
    elif own_id is not None and card.parent != own_id:
        raise DirectoryError(
            f"office {card.office_id}'s card names {card.parent or 'no parent'} as its parent,"
            f" not this office ({own_id})",
            field="card",
        )
    office_fp, signing_fp, pub_fp = card.pins()
    db.execute(
        "INSERT INTO offices (office_id, relation, name, card, card_sig, office_fp, signing_fp,"
        " publisher_fp, added_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [card.office_id, relation, card.name, data, sig, office_fp, signing_fp, pub_fp, today],
    )
    return _must(db, card.office_id)


def remove_office(db: sqlite_utils.Database, office_id: str) -> Entry:
    """Take an office out of the directory (its packages are refused from then on)."""
    entry = get_office(db, office_id)
    if entry is None:
        raise DirectoryError(f"office {office_id} is not in the directory", field="OFFICE")
    db.execute("DELETE FROM offices WHERE office_id = ?", [office_id])
    return entry


def refresh_office(db: sqlite_utils.Database, data: bytes, sig: str, *, today: str) -> Entry:
    """Take a newer card of a pinned office. Same keys: it replaces the pinned card. Other keys:
    it is kept pending and ``KeysChanged`` is raised (the caller commits that, so an officer can
    compare the new fingerprints and confirm)."""
    try:
        card = verify_card(data, sig)
    except CardError as exc:
        raise DirectoryError(f"the card is refused: {exc.detail}", field="card") from exc
    entry = get_office(db, card.office_id)
    if entry is None:
        raise DirectoryError(f"office {card.office_id} is not in the directory", field="card")
    if card.version < entry.card.version:
        raise DirectoryError(
            f"the card is version {card.version}, older than the pinned {entry.card.version}",
            field="card",
        )
    if card.pins() != entry.card.pins():
        db.execute(
            "UPDATE offices SET pending_card = ?, pending_sig = ? WHERE office_id = ?",
            [data, sig, card.office_id],
        )
        change = describe_change(entry.card, card)
        raise KeysChanged(
            f"office {card.office_id}'s card names other keys ({change});"
            " it is kept aside until an officer confirms it (lianxin office confirm)",
            field="card",
        )
    _pin(db, card, data, sig, today)
    return _must(db, card.office_id)


def confirm_office(
    db: sqlite_utils.Database, office_id: str, publisher_fp: str, *, today: str
) -> Entry:
    """Pin the pending card of ``office_id``; the officer gives its new publisher fingerprint."""
    entry = get_office(db, office_id)
    if entry is None:
        raise DirectoryError(f"office {office_id} is not in the directory", field="OFFICE")
    if entry.pending is None:
        raise DirectoryError(f"office {office_id} has no changed card to confirm", field="OFFICE")
    if entry.pending.publisher_fp != publisher_fp.replace(" ", "").lower():
        raise DirectoryError(
            f"the pending card's publisher key is {entry.pending.publisher_fp}, not {publisher_fp}",
            field="--fingerprint",
        )
    row = db.execute(
        "SELECT pending_card, pending_sig FROM offices WHERE office_id = ?", [office_id]
    ).fetchone()
    _pin(db, entry.pending, bytes(row[0]), str(row[1]), today)
    return _must(db, office_id)


def describe_change(old: OfficeCard, new: OfficeCard) -> str:
    """Which keys differ, with both fingerprints' first digits."""
    names = ("office key", "signing key", "publisher key")
    parts = [
        f"{n} {a[:16]} → {b[:16]}" for n, a, b in zip(names, old.pins(), new.pins(), strict=True)
    ]
    return "; ".join(p for p, a, b in zip(parts, old.pins(), new.pins(), strict=True) if a != b)


def _pin(db: sqlite_utils.Database, card: OfficeCard, data: bytes, sig: str, today: str) -> None:
    office_fp, signing_fp, pub_fp = card.pins()
    db.execute(
        "UPDATE offices SET name = ?, card = ?, card_sig = ?, office_fp = ?, signing_fp = ?,"
        " publisher_fp = ?, pending_card = NULL, pending_sig = NULL, refreshed_date = ?"
        " WHERE office_id = ?",
        [card.name, data, sig, office_fp, signing_fp, pub_fp, today, card.office_id],
    )


def _must(db: sqlite_utils.Database, office_id: str) -> Entry:
    entry = get_office(db, office_id)
    if entry is None:
        raise DirectoryError(f"office {office_id} is not in the directory", field="OFFICE")
    return entry
