"""Forwarding to an authority outside Lianxin (转办), through ``lianxin desk`` in a child process
with the clock injected (--today): the reply deadline set by ``route --forward``, the letter
recorded, the reply chased yellow then red in the warnings and the supervision list until
``forward-reply`` records it, and every bad input refused with nothing changed."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import httpx
import pytest
from test_deskweb import _serve, _sign_in

from desk.answers import conclude
from desk.context import Desk
from desk.deadlines import Manual
from desk.forwarding import forward_reply
from desk.letters import forwarding_letter
from desk.listing import show_case
from desk.refusals import BadValue, IllegalTransition, Refused
from desk.register import Registration, register
from desk.routing import Route, extend, route
from desk.verify import verify_register
from desk.warnings import WarningReport, compute_warnings
from lianxin.domain.workdays import FixedClock
from tests.desk_support import (
    cli,
    intake_letter,
    make_desk,
    new_store,
    office_keys,
    officer_env,
    passphrase,
    unlocked,
)

DAY = date(2026, 3, 2)
OUT = Registration("out_of_scope", "other", region="county", real_name="anonymous")


def _office(tmp_path: Path, keys_dir: Path) -> Path:
    """Three letters registered out of scope (cases 1-3), not yet routed."""
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    for marker in ("一", "二", "三"):
        intake_letter(desk, keys, marker)
        register(desk, desk.db.execute("SELECT max(id) FROM cases").fetchone()[0], OUT)
    desk.close()
    return db


def as_(desk: Desk, officer_id: str) -> Desk:
    desk.officer = unlocked(officer_id)
    return desk


def _row(db: Path, case_id: int) -> tuple[str | None, ...]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT state, forward_letter_date, forward_reply_due, forward_reply_date"
            " FROM cases WHERE id = ?",
            [case_id],
        ).fetchone()
    return tuple(row)


def _counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        notes = conn.execute("SELECT count(*) FROM notes").fetchone()[0]
    return events, notes


def _warnings(db: Path, day: date) -> WarningReport:
    desk = make_desk(db, day, officer="sup")
    try:
        return compute_warnings(desk)
    finally:
        desk.close()


def test_a_forwarded_case_is_chased_until_the_authority_replies(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = _office(tmp_path, keys_dir)
    env = {"LIANXIN_DB": str(db), **officer_env("wang")}

    def ok(*args: str) -> str:
        result = cli(*args, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    out = ok("route", "1", "--forward", "--to", "external.ecology_environment", "--days", "30",
             "--calendar", "--today", "2026-03-02")  # fmt: skip
    assert "due 2026-04-01" in out
    desk = make_desk(db, DAY, officer="appr")
    route(desk, 2, Route("forward", to_name="县人民法院", manual=Manual.parse(10, "working")))
    desk.close()
    assert _row(db, 1) == ("forwarded", None, "2026-04-01", None)

    # The letter: the first one printed sets the letter date; printing again does not move it.
    desk = make_desk(db, date(2026, 3, 3), officer="reg")
    letter = forwarding_letter(desk, 1, fmt="text").text
    assert "2026-04-01" in letter and "县生态环境局" in letter
    desk.clock = FixedClock(date(2026, 3, 4))
    forwarding_letter(desk, 1)
    desk.close()
    assert _row(db, 1) == ("forwarded", "2026-03-03", "2026-04-01", None)

    # Green while far: listed among the replies owed, not among the red and yellow cases.
    early = _warnings(db, date(2026, 3, 5))
    assert [(r.case_id, r.colour, r.stage) for r in early.replies] == [
        (2, "green", "forward"),
        (1, "green", "forward"),
    ]
    assert [f.case_id for f in early.flagged] == [3]  # only the unrouted one
    # Near (within the policy's warning window), then overdue.
    near = _warnings(db, date(2026, 3, 30))
    assert {r.case_id: r.colour for r in near.replies} == {1: "yellow", 2: "red"}

    # The supervision list carries the section; issuing records red and yellow replies.
    sheet = tmp_path / "list.md"
    ok("warnings", "--supervision-list", str(sheet), "--today", "2026-04-03")
    text = sheet.read_text(encoding="utf-8")
    assert "## 转办待回复 Forwarded, awaiting the authority's reply" in text
    assert (
        "| 红 red | 2026-000001 | 县生态环境局 (external.ecology_environment) | 2026-04-01"
        " | 超期 2 overdue |" in text
    )
    assert "| 红 red | 2026-000002 | 县人民法院 |" in text
    with sqlite3.connect(db) as conn:
        warned = conn.execute("SELECT case_id, colour FROM warnings ORDER BY case_id").fetchall()
    assert (1, "red") in warned and (2, "red") in warned

    # Refusals name the field and change nothing.
    before = _counts(db), _row(db, 1)
    desk = make_desk(db, date(2026, 4, 3), officer="reg")
    keys = office_keys(keys_dir)
    for received, summary, case, error, match in (
        ("2026-04-09", "x", 1, BadValue, r"--received: 2026-04-09 is after today \(2026-04-03\)"),
        ("2026-4-1", "x", 1, BadValue, "--received: '2026-4-1' is not a date"),
        ("2026-03-01", "x", 1, BadValue, "--received: 2026-03-01 is before case 2026-000001"),
        ("2026-04-02", "", 1, BadValue, "--summary"),
        ("2026-04-02", "x", 3, IllegalTransition, "cannot forward-reply case 2026-000003"),
    ):
        with pytest.raises(error, match=match):
            forward_reply(desk, case, keys, received=received, summary=summary)
    with pytest.raises(Refused, match="needs the role"):
        forward_reply(as_(desk, "sup"), 1, keys, received="2026-04-02", summary="x")
    desk.close()
    assert (_counts(db), _row(db, 1)) == before

    # The reply arrives (late), with a scan: sealed as a note, the case leaves the list.
    scan = tmp_path / "reply.pdf"
    scan.write_bytes(b"%PDF-1.4 reply")
    summary = "经查，该餐馆已安装油烟净化设施。"
    out = ok("forward-reply", "1", "--received", "2026-04-02", "--summary", summary,
             "--file", str(scan), "--today", "2026-04-03")  # fmt: skip
    assert "received 2026-04-02 (late); reply was due 2026-04-01" in out
    assert _row(db, 1) == ("forwarded", "2026-03-03", "2026-04-01", "2026-04-02")
    desk = make_desk(db, date(2026, 4, 3), officer="reg")
    with pytest.raises(IllegalTransition, match="the authority's reply was recorded on 2026-04-02"):
        forward_reply(desk, 1, keys, received="2026-04-02", summary="x")
    [reply] = [n for n in show_case(desk, 1, keys)["notes"] if n["kind"] == "reply"]
    assert reply["text"] == summary and reply["file"] == "reply.pdf"
    desk.close()
    after = _warnings(db, date(2026, 4, 3))
    assert [r.case_id for r in after.replies] == [2]
    # Case 1 is now the office's to conclude: chased on its handling deadline again.
    assert [(f.case_id, f.stage) for f in after.flagged if f.case_id != 3] == [(1, "handle")]

    # Concluding a forwarded case does not drop its reply from the list.
    desk = make_desk(db, date(2026, 4, 3), officer="appr")
    conclude(desk, 2, keys, "resolved")
    desk.close()
    final = _warnings(db, date(2026, 4, 3))
    assert [(r.case_id, r.state) for r in final.replies] == [(2, "concluded")]
    desk = make_desk(db, date(2026, 4, 3), officer="aud")
    assert verify_register(desk.db).ok
    desk.close()


def test_the_web_desk_records_the_reply_with_the_same_rules(tmp_path: Path, keys_dir: Path) -> None:
    db = _office(tmp_path, keys_dir)
    desk = make_desk(db, DAY, officer="appr")
    route(desk, 1, Route("forward", to="external.ecology_environment",
                         manual=Manual.parse(30, "calendar")))  # fmt: skip
    desk.close()
    process, url = _serve(db, tmp_path / "serve.log")
    try:
        with httpx.Client() as client:
            assert _sign_in(client, url, "reg", passphrase("reg")).status_code == 303
            page = client.get(f"{url}/case/1")
            assert 'id="lx-forward-reply-form"' in page.text
            assert "有关机关的回复期限：2026-04-01" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            form = {"csrf": csrf[1], "received": "2026-03-01", "summary": "已整改。"}
            early = client.post(f"{url}/case/1/forward-reply", data=form)
            assert early.status_code == 400
            assert "「收到日期」不能早于转办日期（2026-03-02）" in early.text
            assert _row(db, 1)[3] is None  # refused: nothing recorded
            no_token = client.post(f"{url}/case/1/forward-reply", data={**form, "csrf": "x"})
            assert no_token.status_code == 403 and _row(db, 1)[3] is None
            done = client.post(
                f"{url}/case/1/forward-reply", data={**form, "received": DAY.isoformat()}
            )
            assert done.status_code == 303 and done.headers["location"] == "/case/1?done=1"
            assert _row(db, 1)[3] == DAY.isoformat()
            assert 'id="lx-forward-reply-form"' not in client.get(f"{url}/case/1").text
            with httpx.Client() as supervisor:
                assert _sign_in(supervisor, url, "sup", passphrase("sup")).status_code == 303
                assert 'id="lx-replies"' not in supervisor.get(f"{url}/supervision").text
    finally:
        process.kill()
        process.wait()


def test_an_extension_moves_the_reply_deadline_too(tmp_path: Path, keys_dir: Path) -> None:
    db = _office(tmp_path, keys_dir)
    desk = make_desk(db, DAY, officer="appr")
    keys = office_keys(keys_dir)
    route(desk, 1, Route("forward", to_name="县人民法院", manual=Manual.parse(10, "calendar")))
    assert _row(db, 1)[2] == "2026-03-12"
    extend(desk, 1, keys, "法院来函说明需延长审查期限。", Manual.parse(10, "calendar"))
    assert _row(db, 1)[2] == "2026-03-22"
    desk.close()
    assert [r.due for r in _warnings(db, date(2026, 3, 20)).replies] == ["2026-03-22"]
