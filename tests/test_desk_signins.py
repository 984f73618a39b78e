"""Sign-ins and sign-outs as signed events, and the TOTP second factor sealed to its officer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyotp
import pytest

from desk.refusals import BadValue, Refused
from desk.signins import (
    code_ok,
    enrol_totp,
    new_totp_secret,
    open_totp,
    record_sign_in,
    record_sign_out,
    remove_totp,
    reset_totp,
    sealed_totp,
    totp_was_reset,
)
from desk.verify import verify_register
from tests.desk_support import make_desk, new_store, unlocked

DAY = date(2026, 11, 24)


def test_sessions_and_second_factor_are_signed_and_verify(tmp_path: Path) -> None:
    db = new_store(tmp_path / "office.sqlite")
    desk = make_desk(db, DAY, officer="hand1")
    at = desk.clock.now()
    record_sign_in(desk, second_factor=False)
    record_sign_out(desk, "idle")
    with pytest.raises(BadValue, match="why"):
        record_sign_out(desk, "bored")
    assert sealed_totp(desk, "hand1") is None
    secret = new_totp_secret()
    with pytest.raises(BadValue, match="--code"):
        enrol_totp(desk, secret, "12345")
    enrol_totp(desk, secret, pyotp.TOTP(secret).at(at))
    sealed = sealed_totp(desk, "hand1")
    assert sealed is not None and secret.encode() not in sealed
    assert open_totp(unlocked("hand1"), sealed) == secret
    with pytest.raises(Exception):  # noqa: B017 - another officer's key does not open it
        open_totp(unlocked("hand2"), sealed)
    assert code_ok(secret, pyotp.TOTP(secret).at(at), at)
    assert not code_ok(secret, pyotp.TOTP(secret).at(at.replace(hour=at.hour - 1)), at)
    with pytest.raises(BadValue, match="--code"):
        remove_totp(desk, "000000" if pyotp.TOTP(secret).at(at) != "000000" else "111111")
    remove_totp(desk, pyotp.TOTP(secret).at(at))
    assert sealed_totp(desk, "hand1") is None
    with pytest.raises(BadValue, match="no second factor"):
        remove_totp(desk, "123456")
    desk.officer = unlocked("aud")
    record_sign_in(desk, second_factor=True)  # every role signs in
    report = verify_register(desk.db)
    assert report.ok, report.problems
    desk.officer = None
    with pytest.raises(Refused):
        record_sign_in(desk, second_factor=False)
    desk.close()


def test_an_administrator_resets_a_lost_second_factor(tmp_path: Path) -> None:
    db = new_store(tmp_path / "office.sqlite")
    desk = make_desk(db, DAY, officer="hand1")
    at = desk.clock.now()
    secret = new_totp_secret()
    enrol_totp(desk, secret, pyotp.TOTP(secret).at(at))
    assert not totp_was_reset(desk, "hand1")
    with pytest.raises(Refused, match="manage accounts .账户管理. needs the role administrator"):
        reset_totp(desk, "hand2")  # a handler resets no one
    desk.officer = unlocked("admin")
    with pytest.raises(Refused, match="ID: officer hand2 has no second factor to reset"):
        reset_totp(desk, "hand2")
    with pytest.raises(Refused, match="cannot reset their own"):
        reset_totp(desk, "admin")
    with pytest.raises(Refused, match="ID"):
        reset_totp(desk, "nobody")
    reset_totp(desk, "hand1")
    assert sealed_totp(desk, "hand1") is None  # the passphrase alone signs in now
    assert totp_was_reset(desk, "hand1")  # and the sign-in asks to enrol again
    event = desk.db.execute("SELECT actor, data FROM events WHERE type = 'totp-reset'").fetchall()
    assert [(a, json.loads(d)) for a, d in event] == [("admin", {"id": "hand1"})]
    with pytest.raises(Refused, match="no second factor to reset"):
        reset_totp(desk, "hand1")  # once is enough
    desk.officer = unlocked("hand1")
    fresh = new_totp_secret()
    enrol_totp(desk, fresh, pyotp.TOTP(fresh).at(at))  # the new phone
    sealed = sealed_totp(desk, "hand1")
    assert sealed is not None and open_totp(unlocked("hand1"), sealed) == fresh
    assert not totp_was_reset(desk, "hand1")
    report = verify_register(desk.db)
    assert report.ok, report.problems
    desk.close()
