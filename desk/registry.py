"""The officer registry: each account change is a signed event in the chain.

``init_office`` writes the first event of an office, ``office-created``, carrying the first
administrator's public keys and signed by that key (its fingerprint is printed and published).
Every later change (``officer-added``, ``officer-roles``, ``officer-disabled``) is signed by
an administrator whose own account the chain already holds, so ``desk verify`` can follow
every signing key back to the first administrator's.
"""

from __future__ import annotations

from dataclasses import replace

import sqlite_utils

from lianxin.store.events import chain_head

from .casekeys import (
    grant_office_key,
    in_scope,
    open_case_key,
    revoke,
    wrap_case_key,
)
from .context import STORE_KINDS, Desk
from .officekeys import OfficeKeys
from .officers import NewOfficer, Officer, load_officer, wrap_keys
from .refusals import BadValue, Refused
from .roles import ROLE_CODES, ROLEBOOK, desk_action


def _check_roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    if not roles:
        raise BadValue("give at least one role", "--role")
    for role in roles:
        if role not in ROLE_CODES:
            raise BadValue(f"unknown role {role!r} (one of {', '.join(ROLE_CODES)})", "--role")
    return tuple(sorted(set(roles), key=ROLE_CODES.index))


def _check_unit(desk: Desk, unit: str) -> str:
    entry = desk.taxonomy.units.get(unit)
    if entry is None or entry.kind != "internal":
        raise BadValue(f"{unit!r} is not an internal unit of units.yaml", "--unit")
    return unit


def _insert(db: sqlite_utils.Database, new: NewOfficer) -> None:
    r, w = new.record, new.wrapped
    if db.execute("SELECT 1 FROM officers WHERE id = ?", [r.id]).fetchone():
        raise Refused(f"officer {r.id} exists already", argument="ID")
    db.execute(
        "INSERT INTO officers (id, name, unit, roles, sign_pk, box_pk, salt, opslimit, memlimit,"
        " wrapped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [r.id, r.name, r.unit, ",".join(r.roles), r.sign_pk, r.box_pk, w.salt, w.opslimit,
         w.memlimit, w.wrapped],
    )  # fmt: skip


def is_initialised(db: sqlite_utils.Database) -> bool:
    """Whether the store has an office (a first administrator)."""
    return db.execute("SELECT 1 FROM office WHERE name = 'first_admin'").fetchone() is not None


def init_office(desk: Desk, first: NewOfficer, *, kind: str = "production") -> int:
    """Create the office with its first administrator (the desk's officer must be ``first``).

    Events already in the store (made before accounts) stay as unsigned legacy events; the
    ``office-created`` event follows and so covers them."""
    if kind not in STORE_KINDS:
        raise BadValue(f"{kind!r} is not one of {', '.join(STORE_KINDS)}", "--kind")
    if is_initialised(desk.db):
        raise Refused("this store already has an office and its first administrator")
    record = replace(first.record, roles=_check_roles(first.record.roles))
    if "administrator" not in record.roles:
        raise BadValue("the first officer must be an administrator", "--role")
    _check_unit(desk, record.unit)
    seq, digest, _ = chain_head(desk.db)
    with desk.transaction():
        _insert(desk.db, replace(first, record=record))
        for name, value in (("kind", kind), ("first_admin", record.id)):
            desk.db.execute("INSERT INTO office (name, value) VALUES (?, ?)", [name, value])
        data = {
            "officer": record.public(),
            "kind": kind,
            "roles_version": ROLEBOOK.version,
            "legacy": {"seq": seq, "hash": digest.hex()} if seq else None,
        }
        return desk.event(None, "office-created", data)


def _grant_scope(desk: Desk, officer: Officer, keys: OfficeKeys | None) -> int:
    """Grant the office key (registrars, when ``keys`` are given) and wrap the keys of every
    case now in the officer's scope that the acting officer holds (a registrar's grant)."""
    if keys is not None and officer.has("registrar") and keys.secrets:
        grant_office_key(desk.db, keys, officer)
    rows = desk.db.execute(
        "SELECT DISTINCT k.case_id, c.unit FROM case_keys k JOIN cases c ON c.id = k.case_id"
    ).fetchall()
    granted = 0
    for case_id, unit in rows:
        if officer not in in_scope(desk.db, case_id, unit):
            continue
        key = open_case_key(desk.db, case_id, desk.me())
        if key is not None and wrap_case_key(desk.db, case_id, key, [officer]):
            granted += 1
    return granted


def _needs_keys(desk: Desk, officer: Officer) -> str:
    reads = [r for r in officer.roles if ROLEBOOK.roles[r].reads_reports]
    if reads and not desk.me().record.has("registrar"):
        return (
            f" (no office key given: {officer.id} reads nothing until a registrar runs"
            f" 'lianxin desk officers grant {officer.id}')"
        )
    return ""


@desk_action("officers")
def add_officer(desk: Desk, new: NewOfficer, keys: OfficeKeys | None = None) -> str:
    """Add an officer; with the office keys, grant what their roles put in scope."""
    record = replace(new.record, roles=_check_roles(new.record.roles))
    _check_unit(desk, record.unit)
    with desk.transaction():
        _insert(desk.db, replace(new, record=record))
        desk.event(None, "officer-added", {"officer": record.public()})
        granted = _grant_scope(desk, record, keys)
    return f"{granted} case key(s) granted" + _needs_keys(desk, record)


@desk_action("officers")
def set_roles(
    desk: Desk,
    officer_id: str,
    roles: tuple[str, ...],
    unit: str | None = None,
    keys: OfficeKeys | None = None,
) -> str:
    """Change an officer's roles (and unit); wraps now out of scope are removed."""
    old = load_officer(desk.db, officer_id, "ID")
    new_roles = _check_roles(roles)
    new_unit = _check_unit(desk, unit) if unit else old.unit
    with desk.transaction():
        desk.db.execute(
            "UPDATE officers SET roles = ?, unit = ? WHERE id = ?",
            [",".join(new_roles), new_unit, officer_id],
        )
        desk.event(
            None, "officer-roles", {"id": officer_id, "roles": list(new_roles), "unit": new_unit}
        )
        record = load_officer(desk.db, officer_id)
        removed = 0
        for case_id, unit_now in desk.db.execute(
            "SELECT k.case_id, c.unit FROM case_keys k JOIN cases c ON c.id = k.case_id"
            " WHERE k.holder = ?",
            [officer_id],
        ).fetchall():
            if record not in in_scope(desk.db, case_id, unit_now):
                removed += revoke(desk.db, officer_id, case_id)
        if not record.has("registrar"):
            desk.db.execute("DELETE FROM office_key_wraps WHERE officer = ?", [officer_id])
        granted = _grant_scope(desk, record, keys)
    return f"{granted} case key(s) granted, {removed} removed" + _needs_keys(desk, record)


@desk_action("officers")
def disable_officer(desk: Desk, officer_id: str) -> int:
    """Disable an account and remove every key wrapped to it; returns how many wraps went."""
    officer = load_officer(desk.db, officer_id, "ID")
    if officer.id == desk.actor():
        raise Refused("an administrator cannot disable their own account", argument="ID")
    if officer.disabled:
        raise Refused(f"officer {officer_id} is disabled already", argument="ID")
    with desk.transaction():
        desk.db.execute("UPDATE officers SET disabled = 1 WHERE id = ?", [officer_id])
        removed = revoke(desk.db, officer_id)
        desk.event(None, "officer-disabled", {"id": officer_id, "wraps_removed": removed})
    return removed


@desk_action("passphrase")
def change_passphrase(desk: Desk, new_passphrase: str) -> None:
    """Re-wrap the acting officer's own keys under a new passphrase."""
    me = desk.me()
    wrapped = wrap_keys(*me._keys(), new_passphrase)
    with desk.transaction():
        desk.db.execute(
            "UPDATE officers SET salt = ?, opslimit = ?, memlimit = ?, wrapped = ? WHERE id = ?",
            [wrapped.salt, wrapped.opslimit, wrapped.memlimit, wrapped.wrapped, me.id],
        )
        desk.event(None, "officer-passphrase", {"id": me.id})


@desk_action("grant")
def grant(desk: Desk, officer_id: str, keys: OfficeKeys) -> str:
    """A registrar grants an officer what their roles put in scope (office key, case keys)."""
    officer = load_officer(desk.db, officer_id, "ID")
    if officer.disabled:
        raise Refused(f"officer {officer_id} is disabled", argument="ID")
    with desk.transaction():
        granted = _grant_scope(desk, officer, keys)
        desk.event(None, "case-keys-granted", {"id": officer_id, "cases": granted})
    return f"{granted} case key(s) granted to {officer_id}"
