"""The whole closed loop at the desk, for an online report (through a real gateway) and for a
report received by letter: inbox → register → route → conclude with an answer → the token opens
the answer → "not satisfied" → second answer → close; the event log verifies, and an event
edited by hand does not."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from desk.answers import close, conclude, open_review, second_answer
from desk.cases import load_case
from desk.deadlines import Manual
from desk.inbox import mark_opened, read_inbox
from desk.register import Registration, register
from desk.routing import Route, route
from desk.verify import verify_register
from lianxin.domain.workdays import add_working_days, deadline_for
from lianxin.keys import Keyring
from lianxin.protocol import Token, open_answer, open_item
from tests.conftest import GatewayProcess
from tests.desk_support import OFFICER, intake_letter, make_desk, new_store, office_keys
from tests.support import post, report_doc, sealed_followup, sealed_report

FEB_10 = date(2026, 2, 10)


def read_received(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return str(conn.execute("SELECT received_date FROM cases").fetchone()[0])
    finally:
        conn.close()


def read_received_last(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return str(conn.execute("SELECT max(received_date) FROM submissions").fetchone()[0])
    finally:
        conn.close()


def _answers(db_path: Path, token: Token) -> list[tuple[str, dict[str, object]]]:
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT kind, sealed FROM answers WHERE lookup_id = ? ORDER BY id", [token.keys().lookup_id]
    ).fetchall()
    conn.close()
    return [(kind, open_answer(sealed, token.keys()).doc) for kind, sealed in rows]


def _sent(db_path: Path, token: Token) -> list[dict[str, object]]:
    """The records of what the reporter sent, as the token opens them (kinds match in clear)."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT kind, sealed FROM reporter_items WHERE lookup_id = ? ORDER BY id",
        [token.keys().lookup_id],
    ).fetchall()
    conn.close()
    docs = [open_item(sealed, token.keys()).doc for _, sealed in rows]
    assert [kind for kind, _ in rows] == [d["kind"] for d in docs]
    return [{k: v for k, v in d.items() if k not in ("schema", "attachments")} for d in docs]


def _walk(db_path: Path, keys_dir: Path, case_id: int, token: Token, start: date) -> date:
    """register → route → conclude with an answer, checked from the reporter's side; returns
    the day of the answer."""
    keys = office_keys(keys_dir)
    desk = make_desk(db_path, start)
    form = Registration(
        item_type="accusation",
        problem_type="legal.embezzlement_bribery",
        rank="township_section",
        region="town.dongshan",
        real_name="verified",
        add_tags=("livelihood",),
    )
    case = register(desk, case_id, form)
    assert case.state == "accepted" and case.number == f"{start.year}-000001"
    case = route(
        desk, case_id, Route("assign", unit="town.dongshan", manual=Manual.parse(15, "working"))
    )
    due = add_working_days(start, 15)
    assert (case.state, case.due_date) == ("in_progress", due.due.isoformat())
    assert case.due_uncertain == (0 if due.certain else 1)
    if start == FEB_10:  # across the Spring Festival and its make-up working days
        assert case.due_date == "2026-03-09"
    desk.close()
    day = start + timedelta(days=20)
    desk = make_desk(db_path, day)
    case = conclude(
        desk,
        case_id,
        keys,
        "partly",
        disposition="preliminary_check",
        answer="经初步核实，反映问题部分属实，已责令整改。",
    )
    assert (case.state, case.concluded_date, case.answered_date) == (
        "answered",
        day.isoformat(),
        day.isoformat(),
    )
    # Verified real name: the answer is due 15 working days after conclusion (cn-jijian-2020).
    rule = desk.policy().rule("answer_real_name")
    assert case.answer_due == deadline_for(rule, day).due.isoformat()
    desk.close()
    [(kind, doc)] = _answers(db_path, token)
    assert kind == "answer"
    assert doc["text"] == "经初步核实，反映问题部分属实，已责令整改。"
    assert (doc["outcome"], doc["number"], doc["date"]) == ("partly", case.number, day.isoformat())
    return day


def _second_round(db_path: Path, keys_dir: Path, case_id: int, token: Token, day: date) -> None:
    keys = office_keys(keys_dir)
    desk = make_desk(db_path, day)
    case = open_review(
        desk,
        case_id,
        "second_answer",
        manual=Manual.parse(10, "working"),
        keys=keys,
        reason="举报人认为整改不到位，提出新的问题。",
    )
    expected = add_working_days(day, 10).due.isoformat()
    assert (case.state, case.review_kind, case.review_due) == (
        "reviewing",
        "second_answer",
        expected,
    )
    case = second_answer(desk, case_id, keys, "补充调查后，已督促全部整改到位。", "supplemented")
    assert (case.state, case.review_outcome) == ("answered", "supplemented")
    assert case.second_answer_date == day.isoformat()
    case = close(desk, case_id)
    assert (case.state, case.closed_date) == ("closed", day.isoformat())
    report = verify_register(desk.db)
    assert report.ok, report.problems
    actors = {
        r[0]
        for r in desk.db.execute(
            "SELECT DISTINCT actor FROM events WHERE type NOT IN ('received', 'followup-received')"
            " AND case_id IS NOT NULL"
        )
    }
    assert actors == {OFFICER}
    desk.close()
    kinds = [kind for kind, _ in _answers(db_path, token)]
    assert kinds == ["answer", "second_answer"]


def test_online_report_full_loop(
    start_gateway: Callable[..., GatewayProcess], keyring: Keyring, keys_dir: Path
) -> None:
    gateway = start_gateway("--today", FEB_10.isoformat())  # a year with holiday data, any day
    answer = post(
        gateway.url, "/v1/reports", sealed_report(keyring, report_doc("闭环", real_name=True))
    )
    assert answer.status_code == 201, answer.text
    token = Token.parse(answer.json()["token"])
    keys = office_keys(keys_dir)

    received = date.fromisoformat(read_received(gateway.db_path))
    assert received == FEB_10  # the gateway's injected office date
    desk = make_desk(gateway.db_path, received)
    [item] = read_inbox(desk, keys)
    assert item.kind == "report" and not item.problem
    assert item.doc["title"] == "工程款问题 闭环" and item.doc["identity"]["name"] == "李四闭环"
    assert _sent(gateway.db_path, token) == []  # recorded when opened, not when read
    mark_opened(desk, [item])
    assert read_inbox(desk, keys) == []
    case_id = item.case_id
    desk.close()
    report = {"kind": "report", "date": "2026-02-10", "title": "工程款问题 闭环", "files": 0}
    assert _sent(gateway.db_path, token) == [report]

    answered = _walk(gateway.db_path, keys_dir, case_id, token, received)

    # The reporter is not satisfied, through the gateway with the token's follow-up key.
    followup = sealed_followup(
        keyring, token.keys(), {"type": "satisfaction", "rating": "not", "text": "整改不到位"}
    )
    assert post(gateway.url, "/v1/followups", followup).status_code == 201
    desk = make_desk(gateway.db_path, answered + timedelta(days=7))
    [item] = read_inbox(desk, keys)
    assert item.kind == "followup" and item.doc["rating"] == "not"
    [item] = mark_opened(desk, [item], keys)
    assert "second answer or review" in item.notice
    assert load_case(desk.db, case_id).satisfaction == "not"
    # the follow-up is copied under the case key, beside the report (for the case's handlers)
    copied = desk.db.execute(
        "SELECT submission_id FROM case_content WHERE case_id = ? ORDER BY submission_id",
        [case_id],
    ).fetchall()
    assert [r[0] for r in copied][-1] == item.submission_id
    # and the envelopes, sealed to the office key, are gone: the inbox reads the copies
    left = desk.db.execute(
        "SELECT length(ciphertext) FROM submissions WHERE case_id = ?", [case_id]
    ).fetchall()
    assert left == [(0,), (0,)]
    shown = read_inbox(desk, keys, case=case_id)
    assert [(i.kind, i.problem) for i in shown] == [("report", ""), ("followup", "")]
    assert shown[1].doc["rating"] == "not" and shown[0].doc["title"] == "工程款问题 闭环"
    assert verify_register(desk.db).ok, verify_register(desk.db).problems
    desk.close()
    rating = {"kind": "satisfaction", "date": read_received_last(gateway.db_path), "title": ""}
    assert _sent(gateway.db_path, token) == [report, rating | {"files": 0, "rating": "not"}]

    _second_round(gateway.db_path, keys_dir, case_id, token, answered + timedelta(days=8))


def test_intake_report_full_loop(tmp_path: Path, keys_dir: Path) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    keys = office_keys(keys_dir)
    desk = make_desk(db_path, FEB_10)
    slip = intake_letter(desk, keys, "（来信）")
    # The slip's token is the same kind as an online one, and only its derived values are kept.
    token = Token.parse(str(slip.token))
    row = desk.db.execute("SELECT case_id, reply_pk FROM tokens").fetchone()
    assert row[0] == slip.case_id and bytes(row[1]) == bytes(token.keys().reply_public)
    assert str(slip.token) not in "".join(desk.db.conn.iterdump())
    [item] = read_inbox(desk, keys, include_opened=True)
    assert item.doc["title"] == "村道工程验收收受好处（来信）" and not item.new
    desk.close()
    title = "村道工程验收收受好处（来信）"
    assert _sent(db_path, token) == [
        {"kind": "report", "date": "2026-02-10", "title": title, "files": 0}
    ]

    answered = _walk(db_path, keys_dir, slip.case_id, token, FEB_10)
    assert answered == date(2026, 3, 2)

    desk = make_desk(db_path, date(2026, 3, 9))
    from desk.answers import satisfaction

    assert satisfaction(desk, slip.case_id, "not").satisfaction == "not"
    desk.close()
    _second_round(db_path, keys_dir, slip.case_id, token, date(2026, 3, 10))


def test_a_hand_edited_event_fails_verify(tmp_path: Path, keys_dir: Path) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db_path, FEB_10)
    keys = office_keys(keys_dir)
    for marker in ("一", "二", "三"):
        slip = intake_letter(desk, keys, marker)
        register(
            desk,
            slip.case_id,
            Registration("accusation", "legal.dereliction", region="county", real_name="claimed"),
        )
    assert verify_register(desk.db).ok
    desk.close()

    conn = sqlite3.connect(db_path)
    seq, case_id = conn.execute(
        "SELECT seq, case_id FROM events WHERE type = 'registered' ORDER BY seq LIMIT 1 OFFSET 1"
    ).fetchone()
    conn.execute(
        "UPDATE events SET data = replace(data, 'claimed', 'verified') WHERE seq = ?", [seq]
    )
    conn.commit()
    conn.close()
    desk = make_desk(db_path, FEB_10)
    report = verify_register(desk.db)
    assert not report.ok
    first = report.problems[0]
    assert (first.check, first.position, first.case_id) == ("chain", seq, case_id)
    desk.close()


def test_a_row_changed_outside_the_desk_fails_verify(tmp_path: Path, keys_dir: Path) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db_path, FEB_10)
    slip = intake_letter(desk, office_keys(keys_dir))
    register(
        desk,
        slip.case_id,
        Registration("accusation", "legal.dereliction", region="county", real_name="claimed"),
    )
    desk.close()
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE cases SET state = 'closed'")
    conn.execute("UPDATE submissions SET ciphertext = zeroblob(length(ciphertext))")
    conn.execute("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)")
    conn.execute("UPDATE reporter_items SET sealed = zeroblob(length(sealed))")
    conn.commit()
    conn.close()
    desk = make_desk(db_path, FEB_10)
    problems = [str(p) for p in verify_register(desk.db).problems]
    desk.close()
    assert any("were deleted" in p for p in problems), problems
    assert any("state is 'closed' but its events say 'received'" in p for p in problems), problems
    assert "submission: case 1: submission 1 was altered" in problems
    assert any(p.endswith("sent record 1 was altered") for p in problems), problems
