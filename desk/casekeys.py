"""Keys that decide who can read what: the office key wrapped to registrars, and per-case keys
wrapped to exactly the officers in scope.

* The office private key (what reporters seal to) is stored only sealed to each registrar's
  X25519 key (``office_key_wraps``); a registrar's desk unwraps it in memory.
* When a case is registered it gets a random 32-byte key. Its report content, notes,
  documents and answers' office copies are sealed under that key (SecretBox), and the key is
  sealed to every officer in scope (``case_keys``): the registrars and approvers, the
  handlers of the unit it is assigned to, minus recusals. A registrar grants a new officer in
  scope from their own wraps. Nothing else in the database opens a case's material: an
  officer out of scope has no row to unwrap. The original envelope, sealed to the office key
  that every registrar holds, is removed once its content is under the case key
  (:mod:`desk.envelopes`); only a submission still in the inbox is openable by the office key.
"""

from __future__ import annotations

import json
from pathlib import Path

import nacl.secret
import nacl.utils
import sqlite_utils
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey

from lianxin.keys import PublicKeyInfo, key_id_of
from lianxin.secrets import OfficeSecretKey

from .context import Desk
from .officekeys import OfficeKeys
from .officers import Officer, UnlockedOfficer, all_officers, seal_to
from .refusals import Refused, WrongKey

READERS = ("registrar", "approver")  # in scope of every case


# --- the office key -----------------------------------------------------------------------
def store_office_public(db: sqlite_utils.Database, info: PublicKeyInfo) -> None:
    """Remember an office public key (to seal new notes and intake reports to)."""
    db.execute(
        "INSERT OR REPLACE INTO office (name, value) VALUES (?, ?)",
        [f"office_key:{info.key_id}", json.dumps(info.to_json())],
    )


def grant_office_key(db: sqlite_utils.Database, keys: OfficeKeys, officer: Officer) -> int:
    """Seal every office private key in ``keys`` to ``officer``; returns how many."""
    for key_id, secret in keys.secrets.items():
        db.execute(
            "INSERT OR REPLACE INTO office_key_wraps (key_id, officer, sealed) VALUES (?, ?, ?)",
            [key_id, officer.id, seal_to(officer, secret.secret_bytes())],
        )
    if keys.current is not None:
        store_office_public(db, keys.current)
    return len(keys.secrets)


def office_keys_of(desk: Desk) -> OfficeKeys:
    """The office keys the acting officer holds, unwrapped in memory; refused if none."""
    me = desk.me()
    rows = desk.db.execute(
        "SELECT key_id, sealed FROM office_key_wraps WHERE officer = ?", [me.id]
    ).fetchall()
    if not rows:
        raise WrongKey(
            f"officer {me.id} holds no office key (registrars do: ask an administrator)",
            code="no_office_key",
        )
    secrets: dict[str, OfficeSecretKey] = {}
    for key_id, sealed in rows:
        try:
            secrets[key_id] = OfficeSecretKey(PrivateKey(me.open(bytes(sealed))), key_id)
        except CryptoError as exc:
            raise WrongKey(f"office key {key_id} is not sealed to officer {me.id}") from exc
    infos = [
        PublicKeyInfo.from_json(json.loads(v), n)
        for n, v in desk.db.execute("SELECT name, value FROM office WHERE name LIKE 'office_key:%'")
    ]
    current = max(infos, key=lambda k: k.serial) if infos else None
    return OfficeKeys(secrets, Path(f"{desk.path} (officer {me.id})"), current)


# --- per-case keys ------------------------------------------------------------------------
def in_scope(db: sqlite_utils.Database, case_id: int, unit: str | None) -> list[Officer]:
    """The active officers who hold the case's key: registrars, approvers, the unit's
    handlers; minus recusals."""
    recused = {
        r[0] for r in db.execute("SELECT officer FROM recusals WHERE case_id = ?", [case_id])
    }
    out = []
    for o in all_officers(db):
        if o.disabled or o.id in recused:
            continue
        if any(o.has(r) for r in READERS) or (unit and o.has("handler") and o.unit == unit):
            out.append(o)
    return out


def _office_public(db: sqlite_utils.Database) -> PublicKeyInfo | None:
    infos = [
        PublicKeyInfo.from_json(json.loads(v), n)
        for n, v in db.execute("SELECT name, value FROM office WHERE name LIKE 'office_key:%'")
    ]
    return max(infos, key=lambda k: k.serial) if infos else None


def wrap_case_key(
    db: sqlite_utils.Database, case_id: int, key: bytes, officers: list[Officer]
) -> list[str]:
    """Seal ``key`` to each officer; returns the holders added."""
    added = []
    for o in officers:
        cur = db.execute(
            "INSERT OR IGNORE INTO case_keys (case_id, holder, sealed) VALUES (?, ?, ?)",
            [case_id, o.id, seal_to(o, key)],
        )
        if cur.rowcount:
            added.append(o.id)
    return added


def new_case_key(desk: Desk, case_id: int, unit: str | None = None) -> bytes:
    """Make the case's key and wrap it to everyone in scope (inside the caller's transaction)."""
    key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
    wrap_case_key(desk.db, case_id, key, in_scope(desk.db, case_id, unit))
    return key


def has_case_key(db: sqlite_utils.Database, case_id: int) -> bool:
    """Whether the case has a key yet (it gets one at registration)."""
    return (
        db.execute("SELECT 1 FROM case_keys WHERE case_id = ? LIMIT 1", [case_id]).fetchone()
        is not None
    )


def open_case_key(
    db: sqlite_utils.Database, case_id: int, officer: UnlockedOfficer
) -> bytes | None:
    """The case key as ``officer`` can unwrap it from the database alone, or None."""
    row = db.execute(
        "SELECT sealed FROM case_keys WHERE case_id = ? AND holder = ?", [case_id, officer.id]
    ).fetchone()
    if row is None:
        return None
    try:
        return officer.open(bytes(row[0]))
    except CryptoError:
        return None


def case_key(desk: Desk, case_id: int, label: str) -> bytes:
    """The acting officer's key for the case; refused when they are not in scope."""
    me = desk.me()
    key = open_case_key(desk.db, case_id, me)
    if key is None:
        raise Refused(
            f"officer {me.id} holds no key for case {label}: not in its scope (registrars,"
            " approvers and the assigned unit's handlers, minus recusals)",
            argument="--officer",
            code="out_of_scope",
            case=label,
        )
    return key


def seal_case(key: bytes, data: bytes) -> bytes:
    """Encrypt under a case key."""
    return bytes(nacl.secret.SecretBox(key).encrypt(data))


def open_case(key: bytes, sealed: bytes) -> bytes:
    """Decrypt what :func:`seal_case` encrypted."""
    try:
        return bytes(nacl.secret.SecretBox(key).decrypt(sealed))
    except CryptoError as exc:
        raise Refused("case material does not open with the case key: altered") from exc


def revoke(db: sqlite_utils.Database, officer_id: str, case_id: int | None = None) -> int:
    """Remove an officer's wraps (of one case, or all and the office key); returns how many."""
    if case_id is not None:
        cur = db.execute(
            "DELETE FROM case_keys WHERE case_id = ? AND holder = ?", [case_id, officer_id]
        )
        return int(cur.rowcount)
    n = db.execute("DELETE FROM case_keys WHERE holder = ?", [officer_id]).rowcount
    n += db.execute("DELETE FROM office_key_wraps WHERE officer = ?", [officer_id]).rowcount
    return int(n)


def office_key_id(public_key: bytes) -> str:
    """The key id of an office public key."""
    return key_id_of(public_key)


def desk_keys(desk: Desk) -> OfficeKeys:
    """The office keys the acting officer holds (registrars), or only the public key."""
    me = desk.me()
    held = desk.db.execute(
        "SELECT 1 FROM office_key_wraps WHERE officer = ? LIMIT 1", [me.id]
    ).fetchone()
    if held:
        return office_keys_of(desk)
    return OfficeKeys({}, Path(f"{desk.path} (officer {me.id})"), _office_public(desk.db))
