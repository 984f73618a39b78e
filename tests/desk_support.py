"""Helpers for the desk tests: a desk on a real SQLite file with a fixed clock, intake, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from desk.casekeys import grant_office_key
from desk.context import Desk, open_desk
from desk.intake import Slip, intake
from desk.officekeys import OfficeKeys, load_office_keys
from desk.officers import NewOfficer, UnlockedOfficer, new_officer
from desk.registry import add_officer, init_office, is_initialised
from lianxin.domain.workdays import FixedClock
from lianxin.store.db import connect

ROOT = Path(__file__).resolve().parent.parent
OFFICER = "wang"
"""The all-round clerk of the older tests: registrar, approver, supervisor, analyst, auditor."""

TEST_OFFICERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "admin": ("管理员", "office.letters", ("administrator",)),
    "wang": (
        "王测试科员",
        "office.letters",
        ("registrar", "approver", "supervisor", "analyst", "auditor"),
    ),
    "reg": ("李受理", "office.letters", ("registrar",)),
    "appr": ("赵主任", "office.letters", ("approver",)),
    "hand1": ("东山承办", "town.dongshan", ("handler",)),
    "hand2": ("西河承办", "town.xihe", ("handler",)),
    "sup": ("钱督办", "office.case_management", ("supervisor",)),
    "aud": ("孙审计", "office.case_management", ("auditor",)),
    "ana": ("周分析", "office.case_management", ("analyst",)),
}
_MADE: dict[str, NewOfficer] = {}


def passphrase(officer_id: str) -> str:
    """A test officer's passphrase."""
    return f"test passphrase of {officer_id}"


def officer(officer_id: str) -> NewOfficer:
    """A test officer, made (one Argon2id derivation) once per test process."""
    if officer_id not in _MADE:
        name, unit, roles = TEST_OFFICERS[officer_id]
        _MADE[officer_id] = new_officer(officer_id, name, unit, roles, passphrase(officer_id))
    return _MADE[officer_id]


def unlocked(officer_id: str) -> UnlockedOfficer:
    """A test officer's keys, open."""
    return officer(officer_id).unlocked


def setup_office(
    db_path: Path, day: date, *, keys_dir: Path | None = None, officers: tuple[str, ...] = ()
) -> None:
    """Make the store a test office with the test officers (signed by the test administrator);
    with ``keys_dir``, the registrars hold the office key in the database."""
    desk = open_desk(db_path, officer=unlocked("admin"), clock=FixedClock(day))
    try:
        if not is_initialised(desk.db):
            init_office(desk, officer("admin"), kind="test")
        elif (
            desk.db.execute(
                "SELECT 1 FROM officers WHERE id = 'admin' AND sign_pk = ?",
                [officer("admin").record.sign_pk],
            ).fetchone()
            is None
        ):
            return  # another office (the demo's): tests only read it

        wanted = officers or tuple(TEST_OFFICERS)
        for oid in wanted:
            if (
                oid != "admin"
                and desk.db.execute("SELECT 1 FROM officers WHERE id = ?", [oid]).fetchone() is None
            ):
                add_officer(desk, officer(oid))
        if keys_dir is not None:
            keys = load_office_keys(keys_dir)
            with desk.transaction():
                for oid in wanted:
                    if "registrar" in TEST_OFFICERS[oid][2]:
                        grant_office_key(desk.db, keys, officer(oid).record)
    finally:
        desk.close()


def officer_env(officer_id: str = OFFICER) -> dict[str, str]:
    """The environment a CLI test gives to authenticate as a test officer."""
    return {"LIANXIN_OFFICER": officer_id, "LIANXIN_PASSPHRASE": passphrase(officer_id)}


def new_store(path: Path) -> Path:
    """Create (and migrate) an empty store."""
    connect(path).conn.close()
    return path


def make_desk(
    db_path: Path,
    day: date,
    *,
    officer: str = OFFICER,
    keys_dir: Path | None = None,
    **options: Any,
) -> Desk:
    """A desk of a test office whose clock is stopped at ``day``, as a test officer."""
    setup_office(db_path, day, keys_dir=keys_dir)
    return open_desk(db_path, officer=unlocked(officer), clock=FixedClock(day), **options)


def office_keys(keys_dir: Path) -> OfficeKeys:
    """The office keys of a keys folder."""
    return load_office_keys(keys_dir)


def letter(marker: str = "", **changes: Any) -> dict[str, Any]:
    """A report as staff type it from a letter."""
    doc: dict[str, Any] = {
        "real_name": True,
        "identity": {"name": "陈某", "contact": "0000-0000001", "id_number": ""},
        "reported": {
            "name": "刘某",
            "unit": "东山镇人民政府",
            "post": "副镇长",
            "rank": "township_section",
        },
        "region": "town.dongshan",
        "problem_type": "legal.embezzlement_bribery",
        "title": f"村道工程验收收受好处{marker}",
        "text": f"反映东山镇村道硬化工程验收中，副镇长刘某收受施工方好处费。{marker}",
    }
    doc.update(changes)
    return doc


def intake_letter(desk: Desk, keys: OfficeKeys, marker: str = "", **changes: Any) -> Slip:
    """Receive a letter at the desk."""
    return intake(desk, keys, letter(marker, **changes), channel="letter")


def cli(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``lianxin desk ARGS`` in a child process."""
    full_env = {**os.environ, **(env or {})}
    for name in ("LIANXIN_DB", "LIANXIN_OFFICER", "LIANXIN_PASSPHRASE", "LIANXIN_POLICY"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "desk", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        input=stdin,
        timeout=60,
    )
