"""Officers: who they are, their keys, and unlocking those keys with a passphrase.

Each officer has an Ed25519 signing key (every event they write is signed with it) and an
X25519 key pair (per-case keys and the office key are sealed to it). The private halves are
stored only inside a SecretBox whose key is derived from the officer's passphrase with
Argon2id (64 MiB, ops 3: at least SecureDrop's parameters; each officer's row keeps its own
parameters so they can be raised). :class:`UnlockedOfficer` holds the private keys in memory
for one command (or one web session) and never prints them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import nacl.pwhash
import nacl.secret
import nacl.utils
import sqlite_utils
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from lianxin.keys import fingerprint

from .refusals import BadValue, Refused

ARGON_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
ARGON_MEMLIMIT = 64 * 1024 * 1024
MIN_PASSPHRASE = 12
ID_RE = re.compile(r"[a-z][a-z0-9_.-]{1,31}")
WORDS = [
    "river",
    "mountain",
    "lantern",
    "bamboo",
    "harbor",
    "meadow",
    "pine",
    "willow",
    "orchard",
    "canal",
    "bridge",
    "garden",
    "pebble",
    "comet",
    "maple",
    "lotus",
    "tide",
    "ember",
    "falcon",
    "cedar",
    "jade",
    "amber",
    "valley",
    "thunder",
]


class WrongPassphrase(Refused):
    """The passphrase does not open the officer's keys; nothing was changed."""

    def __init__(self, officer_id: str) -> None:
        super().__init__(f"wrong passphrase for officer {officer_id}", argument="--officer")


@dataclass(frozen=True)
class Officer:
    """An officer's public record (what the registry events carry)."""

    id: str
    name: str
    unit: str
    roles: tuple[str, ...]
    sign_pk: bytes
    box_pk: bytes
    disabled: bool = False

    @property
    def fingerprint(self) -> str:
        """The signing key's fingerprint, as published for the first administrator."""
        return fingerprint(self.sign_pk)

    def has(self, role: str) -> bool:
        """Whether the officer holds ``role``."""
        return role in self.roles

    def public(self) -> dict[str, object]:
        """The registry's record (for events and JSON output)."""
        return {
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "roles": list(self.roles),
            "sign_pk": self.sign_pk.hex(),
            "box_pk": self.box_pk.hex(),
        }


class UnlockedOfficer:
    """An officer whose private keys are open in memory; ``repr`` never shows them."""

    __slots__ = ("_box", "_sign", "record")

    def __init__(self, record: Officer, sign: SigningKey, box: PrivateKey) -> None:
        self.record = record
        self._sign: SigningKey | None = sign
        self._box: PrivateKey | None = box

    @property
    def id(self) -> str:
        """The officer id."""
        return self.record.id

    @property
    def forgotten(self) -> bool:
        """Whether :meth:`forget` dropped the keys."""
        return self._sign is None or self._box is None

    def forget(self) -> None:
        """Drop the private keys (a web session's logout, idle timeout or shutdown): signing
        or opening afterwards is refused. Python cannot promise the key bytes are overwritten
        in memory at once, only that nothing reaches them through this object any more."""
        self._sign = None
        self._box = None

    def _keys(self) -> tuple[SigningKey, PrivateKey]:
        if self._sign is None or self._box is None:
            raise Refused(f"officer {self.record.id}'s keys were locked again: sign in again")
        return self._sign, self._box

    def sign(self, message: bytes) -> bytes:
        """A detached Ed25519 signature."""
        return bytes(self._keys()[0].sign(message).signature)

    def open(self, sealed: bytes) -> bytes:
        """Open something sealed to this officer's X25519 key."""
        return bytes(SealedBox(self._keys()[1]).decrypt(sealed))

    def __repr__(self) -> str:
        return f"UnlockedOfficer(id={self.record.id}, roles={list(self.record.roles)}, <redacted>)"

    __str__ = __repr__


@dataclass(frozen=True)
class Wrapped:
    """The stored form of an officer's private keys."""

    salt: bytes
    opslimit: int
    memlimit: int
    wrapped: bytes

    def __repr__(self) -> str:
        return f"Wrapped(opslimit={self.opslimit}, memlimit={self.memlimit}, <redacted>)"


@dataclass(frozen=True, repr=False)
class NewOfficer:
    """A freshly made officer: the record, the wrapped keys and the keys open in memory."""

    record: Officer
    wrapped: Wrapped
    unlocked: UnlockedOfficer

    def __repr__(self) -> str:
        return f"NewOfficer(id={self.record.id}, <redacted>)"


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return bytes(
        nacl.pwhash.argon2id.kdf(
            nacl.secret.SecretBox.KEY_SIZE,
            passphrase.encode(),
            salt,
            opslimit=opslimit,
            memlimit=memlimit,
        )
    )


def check_passphrase(passphrase: str) -> str:
    """Refuse a passphrase that is too short."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BadValue(f"a passphrase needs at least {MIN_PASSPHRASE} characters", "passphrase")
    return passphrase


def wrap_keys(sign: SigningKey, box: PrivateKey, passphrase: str) -> Wrapped:
    """Seal both private keys under a key derived from ``passphrase``."""
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = _derive(check_passphrase(passphrase), salt, ARGON_OPSLIMIT, ARGON_MEMLIMIT)
    sealed = nacl.secret.SecretBox(key).encrypt(bytes(sign) + bytes(box))
    return Wrapped(salt, ARGON_OPSLIMIT, ARGON_MEMLIMIT, bytes(sealed))


def new_officer(
    officer_id: str, name: str, unit: str, roles: tuple[str, ...], passphrase: str
) -> NewOfficer:
    """Make an officer's keys and wrap them (one Argon2id derivation)."""
    if not ID_RE.fullmatch(officer_id):
        raise BadValue("an officer id is 2-32 of a-z 0-9 . _ - starting with a letter", "ID")
    if not name.strip() or len(name) > 60:
        raise BadValue("give a display name of 1-60 characters", "--name")
    sign, box = SigningKey.generate(), PrivateKey.generate()
    record = Officer(
        officer_id, name.strip(), unit, roles, bytes(sign.verify_key), bytes(box.public_key)
    )
    return NewOfficer(record, wrap_keys(sign, box, passphrase), UnlockedOfficer(record, sign, box))


def suggest_passphrase() -> str:
    """Six random words (about 27 bits each pair: give people something they can type)."""
    return "-".join(secrets.choice(WORDS) for _ in range(6)) + f"-{secrets.randbelow(100):02d}"


_SELECT = "SELECT id, name, unit, roles, sign_pk, box_pk, disabled FROM officers"


def _record(row: tuple[Any, ...]) -> Officer:
    oid, name, unit, roles, sign_pk, box_pk, disabled = row
    return Officer(
        str(oid),
        str(name),
        str(unit),
        tuple(str(roles).split(",")) if roles else (),
        bytes(sign_pk),
        bytes(box_pk),
        bool(disabled),
    )


def find_officer(db: sqlite_utils.Database, officer_id: str) -> Officer | None:
    """The officer with ``officer_id``, or None."""
    row = db.execute(_SELECT + " WHERE id = ?", [officer_id]).fetchone()
    return _record(row) if row else None


def all_officers(db: sqlite_utils.Database) -> list[Officer]:
    """Every officer, by id."""
    return [_record(r) for r in db.execute(_SELECT + " ORDER BY id")]


def load_officer(
    db: sqlite_utils.Database, officer_id: str, argument: str = "--officer"
) -> Officer:
    """The officer with ``officer_id``; refused if there is none."""
    officer = find_officer(db, officer_id)
    if officer is None:
        raise Refused(f"no officer {officer_id!r} in this office", argument=argument)
    return officer


def unlock(db: sqlite_utils.Database, officer_id: str, passphrase: str) -> UnlockedOfficer:
    """Open an officer's keys with their passphrase; refused if wrong or disabled."""
    officer = load_officer(db, officer_id)
    if officer.disabled:
        raise Refused(f"officer {officer_id} is disabled", argument="--officer")
    salt, ops, mem, wrapped = db.execute(
        "SELECT salt, opslimit, memlimit, wrapped FROM officers WHERE id = ?", [officer_id]
    ).fetchone()
    key = _derive(passphrase, bytes(salt), int(ops), int(mem))
    try:
        raw = nacl.secret.SecretBox(key).decrypt(bytes(wrapped))
    except CryptoError as exc:
        raise WrongPassphrase(officer_id) from exc
    sign, box = SigningKey(raw[:32]), PrivateKey(raw[32:])
    if bytes(sign.verify_key) != officer.sign_pk or bytes(box.public_key) != officer.box_pk:
        raise Refused(f"officer {officer_id}'s stored keys do not match their public keys")
    return UnlockedOfficer(officer, sign, box)


def seal_to(officer: Officer, data: bytes) -> bytes:
    """Seal ``data`` to an officer's X25519 public key."""
    return bytes(SealedBox(PublicKey(officer.box_pk)).encrypt(data))


def verify_key(sign_pk: bytes) -> VerifyKey:
    """An Ed25519 verify key from its bytes."""
    return VerifyKey(sign_pk)
