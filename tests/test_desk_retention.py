"""Retention (issue 11): after a closed case's retention period, per kind of material, the
material is destroyed: nothing in the live store opens it (ciphertexts and key wraps gone,
freed pages zeroed), a signed destruction event verifies, and the published figures are the
same before and after. The bundled policies keep everything."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from desk.answers import close, conclude, satisfaction
from desk.casekeys import open_case_key
from desk.context import Desk
from desk.deadlines import Manual
from desk.inbox import read_inbox
from desk.messages import send_message
from desk.notes import add_note
from desk.refusals import Refused
from desk.register import Registration, register
from desk.retention import destroy_due, due_material, list_due
from desk.routing import Route, route
from desk.verify import verify_register
from lianxin.domain.errors import DataFileError
from lianxin.domain.policy import load_policy, presets
from lianxin.protocol import Token
from lianxin.status import read_status
from lianxin.store.db import connect
from publisher.status import write_status
from tests.desk_support import (
    cli,
    intake_letter,
    make_desk,
    new_store,
    office_keys,
    officer_env,
    unlocked,
)
from tests.publish_support import run_statistics

DAY = date(2026, 3, 2)
CLOSED = date(2026, 3, 20)
FORM = Registration(
    "accusation",
    "legal.embezzlement_bribery",
    rank="township_section",
    region="town.dongshan",
    real_name="verified",
)


def _policy(tmp_path: Path, name: str, retention: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f'version: "2026.1"\nname: {name}\nextends: cn-jijian-2020\nretention:\n{retention}',
        encoding="utf-8",
    )
    return str(path)


def _closed_case(desk: Desk, keys_dir: Path, tmp_path: Path, marker: str) -> tuple[int, Token]:
    """A letter walked to closed, with a note and its file, a message and an answer."""
    keys = office_keys(keys_dir)
    slip = intake_letter(desk, keys, marker)
    register(desk, slip.case_id, FORM)
    evidence = tmp_path / f"收据{marker}.pdf"
    evidence.write_bytes(b"%PDF-1.4 receipt " + marker.encode() * 50)
    add_note(desk, slip.case_id, keys, text=f"调取台账{marker}", file=evidence, kind="document")
    send_message(desk, slip.case_id, keys, "question", f"请补充{marker}")
    route(
        desk,
        slip.case_id,
        Route("direct", unit="office.letters", manual=Manual.parse(30, "working")),
    )
    conclude(desk, slip.case_id, keys, "partly", answer=f"部分属实{marker}")
    satisfaction(desk, slip.case_id, "satisfied")
    return slip.case_id, Token.parse(str(slip.token))


def _blobs(db: Path, case_id: int) -> dict[str, list[bytes]]:
    conn = sqlite3.connect(db)
    try:
        return {
            table: [bytes(r[0]) for r in conn.execute(
                f"SELECT {column} FROM {table} WHERE case_id = ?", [case_id]
            )]
            for table, column in (("case_content", "sealed"), ("notes", "sealed"),
                                  ("case_keys", "sealed"), ("answers", "sealed"),
                                  ("reporter_items", "sealed"))
        }  # fmt: skip
    finally:
        conn.close()


def test_the_bundled_policies_keep_everything_and_a_bad_period_is_refused(
    tmp_path: Path,
) -> None:
    for name in presets():
        retention = load_policy(name).retention
        assert [retention.describe(k) for k in ("content", "notes", "reporter")] == ["keep"] * 3
    mine = load_policy(_policy(tmp_path, "mine", "  content: {years: 30}\n  notes: {months: 18}\n"))
    assert mine.retention.describe("content") == "30 years"
    assert mine.retention.describe("notes") == "18 months"
    assert mine.retention.describe("reporter") == "keep"
    assert mine.retention.expiry("notes", date(2026, 8, 31)) == date(2028, 2, 29)
    for bad, problem in (
        ("  content: {years: 0}\n", "retention.content.years: 0 is out of range"),
        ("  content: forever\n", "retention.content: 'forever' is not one of: keep"),
        ("  letters: keep\n", "retention.letters: unknown field"),
        ("  content: {years: 1, months: 2}\n", "give 'keep', {years: N} or {months: N}"),
    ):
        with pytest.raises(DataFileError, match=problem.replace("{", r"\{").replace("}", r"\}")):
            load_policy(_policy(tmp_path, "bad", bad))


def test_after_the_period_nothing_in_the_live_store_opens_the_material(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    some = _policy(tmp_path, "county-some", "  content: {years: 10}\n  notes: {years: 10}\n")
    every = _policy(
        tmp_path,
        "county-all",
        "  content: {years: 5}\n  notes: {years: 5}\n  reporter: {years: 5}\n",
    )
    desk = make_desk(db, DAY, keys_dir=keys_dir, policy=some)
    first, first_token = _closed_case(desk, keys_dir, tmp_path, "甲")
    desk.close()
    desk = make_desk(db, DAY, keys_dir=keys_dir, policy=every)
    second, second_token = _closed_case(desk, keys_dir, tmp_path, "乙")
    kept = intake_letter(desk, office_keys(keys_dir), "丙").case_id  # still open: untouched
    register(desk, kept, FORM)
    desk.close()
    for case_id in (first, second):
        desk = make_desk(db, CLOSED, policy=some)
        close(desk, case_id)
        desk.close()
    before = {case_id: _blobs(db, case_id) for case_id in (first, second, kept)}
    assert all(before[first][t] for t in ("case_content", "notes", "case_keys", "answers"))
    shutil.copy(db, tmp_path / "before.sqlite")
    site_before = tmp_path / "site-before"
    store = connect(db)
    write_status(store, site_before / "status", CLOSED, CLOSED)
    store.conn.close()

    # The day before the shorter period ends: nothing is due. On the day: the second case.
    desk = make_desk(db, date(2031, 3, 19), officer="admin", policy=some)
    assert list_due(desk) == []
    desk.close()
    desk = make_desk(db, date(2031, 3, 20), officer="admin", policy=some)
    assert [(d.case_id, d.kind) for d in list_due(desk)] == [
        (second, "content"), (second, "notes"), (second, "reporter")
    ]  # fmt: skip
    desk.close()

    # Ten years on, both. Only an administrator may list or destroy; listing changes nothing.
    day = date(2036, 3, 20)
    desk = make_desk(db, day, officer="reg", policy=some)
    with pytest.raises(Refused, match="needs the role administrator"):
        list_due(desk)
    with pytest.raises(Refused, match="needs the role administrator"):
        destroy_due(desk)
    desk.close()
    assert _blobs(db, first) == before[first]
    desk = make_desk(db, day, officer="admin", policy=some)
    due = [(d.case_id, d.kind, d.expired) for d in list_due(desk)]
    assert due == [
        (first, "content", "2036-03-20"), (first, "notes", "2036-03-20"),
        (second, "content", "2031-03-20"), (second, "notes", "2031-03-20"),
        (second, "reporter", "2031-03-20"),
    ]  # fmt: skip
    assert [(d.case_id, d.kind) for d in destroy_due(desk)] == [(c, k) for c, k, _ in due]
    assert due_material(desk) == []  # applied once: nothing left to destroy
    report = verify_register(desk.db)
    assert report.ok, report.problems
    events = desk.db.execute(
        "SELECT case_id, actor, data, sig IS NOT NULL FROM events"
        " WHERE type = 'material-destroyed' ORDER BY seq"
    ).fetchall()
    desk.close()
    assert [(e[0], e[1], e[3]) for e in events] == [(first, "admin", 1), (second, "admin", 1)]
    recorded = json.loads(events[0][2])
    assert recorded["kinds"] == ["content", "notes"] and recorded["destroyed"]["wraps"] > 0
    assert "甲" not in events[0][2]  # row ids and receipt ids, never content

    # The live store, opened directly: ciphertexts and wraps gone, freed pages zeroed.
    after = {case_id: _blobs(db, case_id) for case_id in (first, second, kept)}
    assert after[first] == {
        "case_content": [], "notes": [], "case_keys": [],
        "answers": before[first]["answers"], "reporter_items": before[first]["reporter_items"],
    }  # fmt: skip
    assert all(rows == [] for rows in after[second].values())
    assert after[kept] == before[kept]
    conn = sqlite3.connect(db)
    left = conn.execute(
        "SELECT count(*) FROM submissions WHERE case_id IN (?, ?) AND length(ciphertext) > 0",
        [first, second],
    ).fetchone()
    cases = conn.execute("SELECT count(*) FROM cases").fetchone()
    conn.close()
    assert left == (0,) and cases == (3,)  # the case rows stay
    store = connect(db)
    assert store.execute("PRAGMA secure_delete").fetchone() == (1,)  # the store's is on
    store.conn.close()
    raw = db.read_bytes() + (Path(f"{db}-wal").read_bytes() if Path(f"{db}-wal").exists() else b"")
    destroyed = [
        blob
        for case_id, tables in ((first, ("case_content", "notes", "case_keys")),
                                (second, tuple(before[second])))
        for table in tables for blob in before[case_id][table]
    ]  # fmt: skip
    assert len(destroyed) >= 10
    assert not [blob for blob in destroyed if blob[-32:] in raw]
    assert before[kept]["case_content"][0][-32:] in raw  # the search does find what is kept
    # No officer can unwrap the case keys any more (a registrar held them before).
    store = connect(db)
    assert open_case_key(store, first, unlocked("wang")) is None
    assert open_case_key(store, kept, unlocked("wang")) is not None
    store.conn.close()

    desk = make_desk(db, day, policy=some)  # a registrar: the inbox says what happened
    shown_items = read_inbox(desk, office_keys(keys_dir), case=first)
    assert [i.problem for i in shown_items] == [f"destroyed on {day} after its retention period"]
    desk.close()

    # The reporter: the first case's answer is kept (reporter: keep), the second's is gone.
    store = connect(db)
    write_status(store, tmp_path / "site-after" / "status", day, day)
    store.conn.close()
    shown = read_status(str(tmp_path / "site-after"), first_token)
    assert shown is not None and [a["text"] for a in shown.answers] == ["部分属实甲"]
    gone = read_status(str(tmp_path / "site-after"), second_token)
    assert gone is not None and gone.status["state"] == "closed"
    assert (gone.answers, gone.sent, gone.messages) == ([], [], [])
    was = read_status(str(site_before), second_token)
    assert was is not None and [a["text"] for a in was.answers] == ["部分属实乙"]

    # The published figures: the same statistics from the store before and after.
    shutil.copy(db, tmp_path / "after.sqlite")
    figures = []
    for name in ("before", "after"):
        docs, context = run_statistics(tmp_path / f"{name}.sqlite", tmp_path / name, day)
        releases = sorted((docs / "data" / "releases").glob("*.json"))
        figures.append(
            ({p.name: p.read_bytes() for p in releases}, json.dumps(context, default=str))
        )
    assert figures[0][0] and figures[0] == figures[1]


def test_the_cli_lists_then_applies(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    policy = _policy(tmp_path, "county-all", "  content: {years: 1}\n  notes: {years: 1}\n")
    desk = make_desk(db, DAY, keys_dir=keys_dir, policy=policy)
    case_id, _ = _closed_case(desk, keys_dir, tmp_path, "丁")
    desk.close()
    desk = make_desk(db, CLOSED, policy=policy)
    close(desk, case_id)
    desk.close()
    env = {"LIANXIN_DB": str(db), "LIANXIN_POLICY": policy, **officer_env("admin")}
    listed = cli("retention", "--json", "--today", "2027-03-20", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [(d["kind"], d["expired"]) for d in json.loads(listed.stdout)] == [
        ("content", "2027-03-20"), ("notes", "2027-03-20")
    ]  # fmt: skip
    assert _blobs(db, case_id)["notes"]  # listing destroyed nothing
    applied = cli("retention", "--apply", "--today", "2027-03-20", env=env)
    assert applied.returncode == 0, applied.stderr
    assert "1 case(s): material destroyed, each recorded by a signed event." in applied.stdout
    assert _blobs(db, case_id)["notes"] == []
    again = cli("retention", "--json", "--today", "2027-03-20", env=env)
    assert json.loads(again.stdout) == []
    verified = cli("verify", "--json", env={"LIANXIN_DB": str(db), **officer_env("aud")})
    assert json.loads(verified.stdout)["ok"] is True, verified.stdout
    wang = {"LIANXIN_DB": str(db), **officer_env()}
    shown = cli("show", str(case_id), "--json", "--today", "2027-03-21", env=wang)
    assert shown.returncode == 0, shown.stderr
    case = json.loads(shown.stdout)
    assert case["case"]["state"] == "closed" and case["notes"] == [], case
    assert "material-destroyed" in shown.stdout
    refused = cli("retention", env={"LIANXIN_DB": str(db), **officer_env("reg")})
    assert refused.returncode != 0 and "needs the role administrator" in refused.stderr


def test_nothing_is_destroyed_while_the_reporter_may_still_ask_for_a_review(
    tmp_path: Path, keys_dir: Path
) -> None:
    policy = tmp_path / "short.yaml"
    policy.write_text(
        'version: "2026.1"\nname: short\nextends: cn-xinfang-2022\n'
        "retention:\n  content: {months: 1}\n",
        encoding="utf-8",
    )
    db = new_store(tmp_path / "desk.sqlite")
    answered = date(2026, 2, 2)
    desk = make_desk(db, answered, keys_dir=keys_dir, policy=str(policy))
    case_id, _ = _closed_case(desk, keys_dir, tmp_path, "戊")
    close(desk, case_id)  # satisfied: closed at once, the 30-day review window still open
    desk.close()
    for day, listed in ((date(2026, 3, 2), False), (date(2026, 3, 4), False),
                        (date(2026, 3, 5), True)):  # fmt: skip
        desk = make_desk(db, day, officer="admin", policy=str(policy))
        assert [(d.case_id, d.kind, d.expired) for d in list_due(desk)] == (
            [(case_id, "content", "2026-03-02")] if listed else []
        ), day
        desk.close()
