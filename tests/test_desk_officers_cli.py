"""The account commands through the CLI: init prints the fingerprint, officers are added,
a wrong passphrase and a missing role are refused and change nothing, disabling removes keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from desk.cli import desk_group
from lianxin.keys import fingerprint
from tests.support import snapshot

ADMIN = "admin passphrase 1234"
CLERK = "clerk passphrase 5678"


def run(
    db: Path, *args: str, officer: str = "", phrase: str = "", new: str = ""
) -> tuple[int, str, str]:
    env = {"LIANXIN_DB": str(db), "LIANXIN_OFFICER": officer, "LIANXIN_PASSPHRASE": phrase,
           "LIANXIN_NEW_PASSPHRASE": new}  # fmt: skip
    result = CliRunner().invoke(desk_group, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_accounts_through_the_cli(tmp_path: Path, keys_dir: Path) -> None:
    db = tmp_path / "office.sqlite"
    code, out, err = run(db, "init", "--id", "chief", "--name", "主任", "--kind", "test", new=ADMIN)
    assert code == 0, err
    import sqlite3

    pk = sqlite3.connect(db).execute("SELECT sign_pk FROM officers WHERE id = 'chief'").fetchone()
    assert f"Key fingerprint (publish it): {fingerprint(bytes(pk[0]))}" in out
    code, out, err = run(
        db, "officers", "add", "li", "--name", "李受理", "--unit", "office.letters",
        "--role", "registrar", "--office-key", str(keys_dir),
        officer="chief", phrase=ADMIN, new=CLERK,
    )  # fmt: skip
    assert code == 0, err
    assert "Officer li added (registrar)" in out
    before = snapshot(db)
    code, _, err = run(db, "officers", "list", officer="chief", phrase="wrong passphrase!")
    assert (code, err) == (1, "Error: --officer: wrong passphrase for officer chief\n")
    code, _, err = run(
        db, "officers", "add", "zhao", "--name", "赵", "--unit", "office.letters",
        "--role", "approver", officer="li", phrase=CLERK, new=CLERK,
    )  # fmt: skip
    assert code == 1
    assert err == (
        "Error: --officer: manage accounts (账户管理) needs the role administrator 管理员;"
        " officer li has registrar 受理\n"
    )
    code, _, err = run(db, "route", "1", "--forward", "--to-name", "x", officer="li", phrase=CLERK)
    assert code == 1 and "needs the role approver 审批" in err
    assert snapshot(db) == before
    code, out, _ = run(db, "officers", "list", "--csv", officer="chief", phrase=ADMIN)
    assert "li,李受理,office.letters,registrar,active," in out
    keys_before = sqlite3.connect(db).execute("SELECT count(*) FROM office_key_wraps").fetchone()
    assert keys_before == (1,)
    code, out, err = run(db, "officers", "disable", "li", officer="chief", phrase=ADMIN)
    assert code == 0, err
    assert "1 key wrap(s) removed. What they already read cannot be unread" in out
    assert sqlite3.connect(db).execute("SELECT count(*) FROM office_key_wraps").fetchone() == (0,)
    code, _, err = run(db, "inbox", officer="li", phrase=CLERK)
    assert (code, err) == (1, "Error: --officer: officer li is disabled\n")
    code, out, err = run(db, "verify", officer="chief", phrase=ADMIN)
    assert code == 0, out + err
    assert "test store; first administrator chief" in out


def test_keys_are_redacted_and_today_changes_only_test_stores(tmp_path: Path) -> None:
    from datetime import date

    from desk.context import open_desk
    from desk.refusals import BadValue
    from desk.registry import change_passphrase, init_office
    from lianxin.domain.workdays import FixedClock
    from tests.desk_support import new_store, officer

    admin = officer("admin")
    raw = bytes(admin.unlocked._sign)
    for shown in (repr(admin), repr(admin.unlocked), str(admin.unlocked), repr(admin.wrapped)):
        assert "redacted" in shown and raw.hex() not in shown and str(raw) not in shown
    db = new_store(tmp_path / "production.sqlite")
    desk = open_desk(db, officer=admin.unlocked)  # the real clock: a production store
    init_office(desk, admin)
    desk.clock = FixedClock(date(2026, 3, 2))
    before = snapshot(db)
    with pytest.raises(BadValue, match="--today: --today changes nothing in a production store"):
        change_passphrase(desk, "a new passphrase 1234")
    desk.close()
    assert snapshot(db) == before
