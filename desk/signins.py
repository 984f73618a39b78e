"""Signing in and out as signed events, and the optional second factor (TOTP).

A successful sign-in to the web desk is a ``signed-in`` event and its end (sign-out, idle
timeout, server stop) a ``signed-out`` event, each signed by the officer's own key while it is
still open, so ``desk verify`` checks them like every other step. A failed sign-in cannot be
signed (the keys did not open): it stays in the server's log.

An officer may enrol a TOTP second factor (RFC 6238, the six-digit codes of an authenticator
app). The shared secret is stored only sealed to the officer's own X25519 key, in a signed
``totp-enrolled`` event: only their passphrase opens it, so it is checked after the passphrase
and before the session starts. ``totp-removed`` turns it off. An officer who lost the device
cannot give a code: an administrator resets their second factor with a signed ``totp-reset``
event naming them (:func:`reset_totp`); they sign in with the passphrase alone and are asked
to enrol again. The latest of the three events about the officer decides.
"""

from __future__ import annotations

import json
from datetime import datetime

import pyotp
from nacl.public import PublicKey, SealedBox

from .context import Desk
from .officers import UnlockedOfficer, load_officer
from .refusals import BadValue, Refused
from .roles import desk_action

TOTP_TYPES = ("totp-enrolled", "totp-removed")
RESET = "totp-reset"
END_REASONS = ("sign-out", "idle", "shutdown")


@desk_action("session")
def record_sign_in(desk: Desk, *, second_factor: bool) -> int:
    """A signed ``signed-in`` event for the acting officer."""
    with desk.transaction():
        return desk.event(None, "signed-in", {"via": "web", "second_factor": second_factor})


@desk_action("session")
def record_sign_out(desk: Desk, why: str) -> int:
    """A signed ``signed-out`` event (``why``: sign-out, idle or shutdown)."""
    if why not in END_REASONS:
        raise BadValue(f"{why!r} is not one of {', '.join(END_REASONS)}", "why")
    with desk.transaction():
        return desk.event(None, "signed-out", {"via": "web", "why": why})


def _latest_totp(desk: Desk, officer_id: str) -> tuple[int, str, str] | None:
    """The latest of the officer's own ``totp-enrolled``/``totp-removed`` and an
    administrator's ``totp-reset`` of them: (seq, type, data)."""
    own = desk.db.execute(
        "SELECT seq, type, data FROM events WHERE actor = ? AND type IN (?, ?)"
        " ORDER BY seq DESC LIMIT 1",
        [officer_id, *TOTP_TYPES],
    ).fetchone()
    reset = desk.db.execute(
        "SELECT seq, type, data FROM events WHERE type = ? AND json_extract(data, '$.id') = ?"
        " ORDER BY seq DESC LIMIT 1",
        [RESET, officer_id],
    ).fetchone()
    found = [tuple(r) for r in (own, reset) if r is not None]
    return max(found) if found else None


def sealed_totp(desk: Desk, officer_id: str) -> bytes | None:
    """The officer's TOTP secret as stored (sealed to them), or None when not enrolled (never,
    removed, or reset by an administrator)."""
    latest = _latest_totp(desk, officer_id)
    if latest is None or latest[1] != "totp-enrolled":
        return None
    return bytes.fromhex(json.loads(latest[2])["sealed"])


def totp_was_reset(desk: Desk, officer_id: str) -> bool:
    """Whether an administrator reset the officer's second factor and they have not enrolled
    again since (the sign-in then asks them to)."""
    latest = _latest_totp(desk, officer_id)
    return latest is not None and latest[1] == RESET


@desk_action("officers")
def reset_totp(desk: Desk, officer_id: str) -> int:
    """An administrator resets an officer's second factor (a lost or broken device): a signed
    ``totp-reset`` event; the officer signs in with the passphrase and enrols again."""
    officer = load_officer(desk.db, officer_id, "ID")
    if officer.id == desk.actor():
        raise Refused(
            "an administrator cannot reset their own second factor (another administrator can)",
            argument="ID",
            code="totp_own_reset",
        )
    if sealed_totp(desk, officer.id) is None:
        raise Refused(
            f"officer {officer.id} has no second factor to reset",
            argument="ID",
            code="no_totp",
            officer=officer.id,
        )
    with desk.transaction():
        return desk.event(None, RESET, {"id": officer.id})


def code_ok(secret: str, code: str, at: datetime) -> bool:
    """Whether ``code`` is the secret's six-digit code at ``at`` (or the one either side)."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    return pyotp.TOTP(secret).verify(code, for_time=at, valid_window=1)


def open_totp(officer: UnlockedOfficer, sealed: bytes) -> str:
    """The TOTP secret, opened with the officer's own key."""
    return officer.open(sealed).decode()


def new_totp_secret() -> str:
    """A fresh base-32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, officer_id: str, issuer: str = "Lianxin desk") -> str:
    """The ``otpauth://`` address an authenticator app takes."""
    return pyotp.TOTP(secret).provisioning_uri(name=officer_id, issuer_name=issuer)


@desk_action("session")
def enrol_totp(desk: Desk, secret: str, code: str) -> int:
    """Turn on the second factor: ``code`` must be the secret's current code (proving the app
    holds it); the secret is stored sealed to the officer's own key."""
    if not code_ok(secret, code, desk.clock.now()):
        raise BadValue("that is not the code the app shows now", "--code")
    me = desk.me()
    sealed = SealedBox(PublicKey(me.record.box_pk)).encrypt(secret.encode())
    with desk.transaction():
        return desk.event(None, "totp-enrolled", {"sealed": bytes(sealed).hex()})


@desk_action("session")
def remove_totp(desk: Desk, code: str) -> int:
    """Turn off the second factor, with a current code."""
    me = desk.me()
    sealed = sealed_totp(desk, me.id)
    if sealed is None:
        raise BadValue("no second factor is enrolled", "--code")
    if not code_ok(open_totp(me, sealed), code, desk.clock.now()):
        raise BadValue("that is not the code the app shows now", "--code")
    with desk.transaction():
        return desk.event(None, "totp-removed", {})
