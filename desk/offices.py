"""The office directory as desk actions: this office's identity, and the parent and child
offices it is linked with (``lianxin office init|add|list|remove|refresh|confirm``).

Each change is one transaction with its signed event; a refreshed card whose keys changed is
kept aside (its event says so) and refused until an officer confirms the new fingerprint.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path

from lianxin.keys import KeyError_, KeysExistError, init_office_signer, load_office_signer
from lianxin.offices.card import CardError
from lianxin.offices.directory import (
    DirectoryError,
    Entry,
    KeysChanged,
    add_office,
    confirm_office,
    list_offices,
    refresh_office,
    remove_office,
)
from lianxin.offices.identity import Identity, fetch_card, own_identity, set_identity

from .context import Desk
from .officers import Officer, all_officers, seal_to
from .refusals import BadValue, Refused, WrongKey
from .roles import desk_action


def _refused(exc: DirectoryError | CardError) -> Refused:
    return BadValue(exc.detail, exc.field) if exc.field else Refused(exc.detail)


@desk_action("offices")
def init_identity(desk: Desk, identity: Identity, keys_dir: Path | None = None) -> Identity:
    """Record this office's identity for its card; with ``keys_dir``, create the office signing
    key there (once) and seal it to every approver, who send packages."""
    try:
        with desk.transaction():
            kept = set_identity(desk.db, identity)
            granted: list[str] = []
            if keys_dir is not None:
                with contextlib.suppress(KeysExistError):  # kept: the card names it still
                    init_office_signer(keys_dir)
                granted = grant_office_signer(desk, keys_dir)
            desk.event(None, "office-identity", {**asdict(kept), "signer_granted": granted})
    except CardError as exc:
        raise _refused(exc) from exc
    except KeyError_ as exc:
        raise BadValue(str(exc), "--keys") from exc
    return kept


def grant_office_signer(desk: Desk, keys_dir: Path, to: list[Officer] | None = None) -> list[str]:
    """Seal the office signing key in ``keys_dir`` to approvers (all of them by default);
    inside the caller's transaction. Returns who got it."""
    signer = load_office_signer(keys_dir)
    seed = bytes(signer.raw)
    officers = to if to is not None else [o for o in all_officers(desk.db) if o.has("approver")]
    for officer in officers:
        if officer.disabled:
            continue
        desk.db.execute(
            "INSERT OR REPLACE INTO office_signer_wraps (key_id, officer, sealed) VALUES (?, ?, ?)",
            [signer.key_id, officer.id, seal_to(officer, seed)],
        )
    return [o.id for o in officers if not o.disabled]


def identity_of(desk: Desk) -> Identity:
    """This office's identity; refused before ``lianxin office init``."""
    identity = own_identity(desk.db)
    if identity is None:
        raise Refused("this office has no card yet: run 'lianxin office init' first")
    return identity


def _card(source: str) -> tuple[bytes, str]:
    try:
        return fetch_card(source)
    except CardError as exc:
        raise BadValue(exc.detail, "CARD") from exc


@desk_action("offices")
def link_office(desk: Desk, source: str, relation: str, publisher_fp: str) -> Entry:
    """Add a parent or child office from its card (portal URL or file), pinned by the
    publisher fingerprint the officer was given."""
    data, sig = _card(source)
    own = own_identity(desk.db)
    try:
        with desk.transaction():
            entry = add_office(
                desk.db,
                data,
                sig,
                relation=relation,
                publisher_fp=publisher_fp,
                own_id=own.office_id if own else None,
                today=desk.today.isoformat(),
            )
            desk.event(None, "office-linked", _pins(entry))
    except DirectoryError as exc:
        raise _refused(exc) from exc
    return entry


@desk_action("offices")
def unlink_office(desk: Desk, office_id: str) -> Entry:
    """Remove an office from the directory."""
    try:
        with desk.transaction():
            entry = remove_office(desk.db, office_id)
            desk.event(None, "office-unlinked", {"office_id": office_id})
    except DirectoryError as exc:
        raise _refused(exc) from exc
    return entry


@desk_action("offices")
def refresh_card(desk: Desk, office_id: str, source: str | None = None) -> Entry:
    """Fetch an office's card again (from its portal, or ``source``). Same keys: replaced.
    Changed keys: kept pending, recorded, and refused until :func:`confirm_card`."""
    entries = {e.office_id: e for e in offices(desk)}
    if office_id not in entries:
        raise BadValue(f"office {office_id} is not in the directory", "OFFICE")
    data, sig = _card(source or entries[office_id].card.portal_url)
    pending: KeysChanged | None = None
    try:
        with desk.transaction():
            try:
                entry = refresh_office(desk.db, data, sig, today=desk.today.isoformat())
                desk.event(None, "office-card-refreshed", _pins(entry))
            except KeysChanged as exc:
                desk.event(None, "office-card-pending", {"office_id": office_id})
                pending = exc
    except DirectoryError as exc:
        raise _refused(exc) from exc
    if pending is not None:
        raise Refused(pending.detail)
    return entry


@desk_action("offices")
def confirm_card(desk: Desk, office_id: str, publisher_fp: str) -> Entry:
    """Pin the changed card kept aside for ``office_id`` (the officer checked the new keys)."""
    try:
        with desk.transaction():
            entry = confirm_office(desk.db, office_id, publisher_fp, today=desk.today.isoformat())
            desk.event(None, "office-card-confirmed", _pins(entry))
    except DirectoryError as exc:
        raise _refused(exc) from exc
    return entry


def offices(desk: Desk) -> list[Entry]:
    """The directory, parent first (anyone signed in may read it)."""
    desk.me()
    return list_offices(desk.db)


def office_signer_of(desk: Desk) -> bytes:
    """The office signing key's seed, unwrapped for the acting officer (approvers hold it)."""
    me = desk.me()
    row = desk.db.execute(
        "SELECT sealed FROM office_signer_wraps WHERE officer = ?", [me.id]
    ).fetchone()
    if row is None:
        raise WrongKey(f"officer {me.id} does not hold the office signing key (approvers do)")
    return me.open(bytes(row[0]))


def _pins(entry: Entry) -> dict[str, object]:
    office_fp, signing_fp, publisher_fp = entry.card.pins()
    return {
        "office_id": entry.office_id,
        "relation": entry.relation,
        "version": entry.card.version,
        "office_fp": office_fp,
        "signing_fp": signing_fp,
        "publisher_fp": publisher_fp,
    }
