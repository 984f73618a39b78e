"""Messages from the office to the reporter (issue 11): a question, a request for material, an
acceptance notice, sealed to every token of the case, shown on the status after the next
publish; the reporter's reply is a follow-up that reaches the same case. Refusals, the
acceptance notice duty, and ``desk verify`` on a message altered or deleted by hand."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from desk.context import Desk
from desk.duties import acknowledge
from desk.inbox import mark_opened, read_inbox
from desk.messages import send_message
from desk.refusals import BadValue, Refused
from desk.register import Registration, register
from desk.verify import verify_register
from desk.warnings import compute_warnings
from lianxin.keys import Keyring
from lianxin.protocol import Token, open_item
from lianxin.status import read_status
from lianxin.store.db import connect
from publisher.status import write_status
from tests.conftest import GatewayProcess
from tests.desk_support import (
    cli,
    intake_letter,
    make_desk,
    new_store,
    office_keys,
    officer_env,
    unlocked,
)
from tests.support import post, report_doc, sealed_followup, sealed_report

DAY = date(2026, 3, 2)  # a Monday
QUESTION = "请补充说明工程款的支付时间，\n以及是否有书面凭证。"
FORM = Registration(
    "accusation",
    "legal.embezzlement_bribery",
    rank="township_section",
    region="town.dongshan",
    real_name="verified",
)


def as_(desk: Desk, officer_id: str) -> Desk:
    desk.officer = unlocked(officer_id)
    return desk


def _counts(db: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(db)
    try:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("events", "reporter_items", "notes")
        )
    finally:
        conn.close()


def test_a_message_reaches_the_status_and_the_reply_reaches_the_case(
    start_gateway: Callable[..., GatewayProcess], keyring: Keyring, keys_dir: Path, tmp_path: Path
) -> None:
    gateway = start_gateway("--today", DAY.isoformat())
    answer = post(gateway.url, "/v1/reports", sealed_report(keyring, report_doc("消息")))
    assert answer.status_code == 201, answer.text
    token = Token.parse(answer.json()["token"])
    # a second report, on another case: the reply must not land there
    other = post(gateway.url, "/v1/reports", sealed_report(keyring, report_doc("另一件")))
    assert other.status_code == 201
    keys = office_keys(keys_dir)

    desk = make_desk(gateway.db_path, DAY, officer="reg", keys_dir=keys_dir)
    items = {i.doc["title"]: i for i in read_inbox(desk, keys)}
    mark_opened(desk, list(items.values()))
    case_id = items["工程款问题 消息"].case_id
    assert items["工程款问题 另一件"].case_id != case_id
    register(desk, case_id, FORM)
    case = send_message(desk, case_id, keys, "question", QUESTION)
    as_(desk, "appr")  # an approver may write too
    send_message(desk, case_id, None, "material", "请提供付款收据的照片。")
    assert verify_register(desk.db).ok, verify_register(desk.db).problems
    kinds = desk.db.execute(
        "SELECT kind FROM reporter_items WHERE case_id = ? ORDER BY id", [case_id]
    ).fetchall()
    assert [k[0] for k in kinds] == ["report", "message:question", "message:material"]
    # the office's own copy is a note under the case key; the event holds no text
    event = desk.db.execute(
        "SELECT actor, data FROM events WHERE type = 'message-sent' ORDER BY seq LIMIT 1"
    ).fetchone()
    assert event[0] == "reg" and "工程款" not in event[1] and "支付时间" not in event[1]
    assert set(json.loads(event[1])) == {"kind", "messages", "note", "note_hash", "set"}
    desk.close()

    # the next publish: the status shards carry the message for the token only
    site = tmp_path / "site"
    store = connect(gateway.db_path)
    write_status(store, site / "status", DAY, DAY)
    store.conn.close()
    found = read_status(str(site), token)
    assert found is not None
    assert [(m["kind"], m["date"], m["text"], m["number"]) for m in found.messages] == [
        ("question", DAY.isoformat(), QUESTION, case.number),
        ("material", DAY.isoformat(), "请提供付款收据的照片。", case.number),
    ]
    assert [s["kind"] for s in found.sent] == ["report"]  # still there, apart
    lines = found.lines()
    assert f"\nMessage from the office, {DAY.isoformat()} (a question, 问题):" in lines
    assert QUESTION in lines
    assert "(Reply with a follow-up: lianxin followup --token ... --text ...)" in lines

    # the reporter replies with an ordinary follow-up, through the gateway
    reply = "付款时间为2025年12月，收据另寄。"
    envelope = sealed_followup(keyring, token.keys(), {"type": "material", "text": reply})
    assert post(gateway.url, "/v1/followups", envelope).status_code == 201
    desk = make_desk(gateway.db_path, DAY + timedelta(days=1), officer="reg")
    [item] = read_inbox(desk, keys)
    assert (item.kind, item.case_id, item.doc["text"]) == ("followup", case_id, reply)
    mark_opened(desk, [item], keys)
    shown = read_inbox(desk, keys, case=case_id)
    assert [i.kind for i in shown] == ["report", "followup"] and shown[1].doc["text"] == reply
    assert verify_register(desk.db).ok, verify_register(desk.db).problems
    desk.close()


def test_refusals_change_nothing(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    slip = intake_letter(desk, keys)
    before = _counts(db)
    for officer_id in ("hand1", "sup", "aud", "admin"):
        as_(desk, officer_id)
        with pytest.raises(Refused, match="write to the reporter .* needs the role registrar"):
            send_message(desk, slip.case_id, keys, "question", "问")
    as_(desk, "reg")
    with pytest.raises(BadValue, match="--kind: 'chat' is not one of question, material"):
        send_message(desk, slip.case_id, keys, "chat", "问")
    with pytest.raises(BadValue, match="--text"):
        send_message(desk, slip.case_id, keys, "question", "   ")
    with pytest.raises(BadValue, match="--text"):
        send_message(desk, slip.case_id, keys, "question", "长" * 2001)
    with pytest.raises(Refused, match="has not been accepted"):
        send_message(desk, slip.case_id, keys, "acceptance", "已受理。")
    assert _counts(db) == before
    # before registration a question is allowed: the office's copy goes under the office key
    send_message(desk, slip.case_id, keys, "question", "请问反映的是哪一年的工程？")
    assert _counts(db) == (before[0] + 1, before[1] + 1, before[2] + 1)
    desk.close()

    env = {"LIANXIN_DB": str(db), **officer_env("reg")}
    bad = cli("message", "1", "--kind", "chat", "--text", "问", "--today", DAY.isoformat(), env=env)
    assert bad.returncode != 0 and "--kind: 'chat' is not one of" in bad.stderr
    ok = cli("message", "1", "--kind", "question", "--text", "再问", "--today", DAY.isoformat(),
             env=env)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "question (问题) sealed for the reporter; shown after the next publish." in ok.stdout


def test_an_acceptance_notice_on_the_status_is_the_real_name_notice(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    slip = intake_letter(desk, keys)
    register(desk, slip.case_id, FORM)
    day = date(2026, 3, 24)  # after the 15 working days of acknowledge_real_name (03-23)
    desk.close()
    desk = make_desk(db, day, officer="sup")
    assert [d.stage for d in compute_warnings(desk).duties] == ["acknowledge"]
    as_(desk, "reg")
    case = send_message(desk, slip.case_id, keys, "acceptance", "您反映的问题已受理。")
    assert case.acknowledged_date == day.isoformat()
    data = json.loads(
        desk.db.execute("SELECT data FROM events WHERE type = 'message-sent'").fetchone()[0]
    )
    assert data["acknowledged"] == {"how": "status", "late": True}
    as_(desk, "sup")
    assert compute_warnings(desk).duties == []
    as_(desk, "reg")
    with pytest.raises(Refused, match="was acknowledged on"):
        acknowledge(desk, slip.case_id, "phone")
    # a second notice is a message like any other: the duty stays recorded once
    send_message(desk, slip.case_id, keys, "acceptance", "补充告知。")
    assert verify_register(desk.db).ok, verify_register(desk.db).problems
    [(sealed,), _] = desk.db.execute(
        "SELECT sealed FROM reporter_items WHERE kind = 'message:acceptance' ORDER BY id"
    ).fetchall()
    doc = open_item(bytes(sealed), Token.parse(str(slip.token)).keys()).doc
    assert (doc["schema"], doc["kind"], doc["text"]) == (
        "lianxin/message/v1",
        "acceptance",
        "您反映的问题已受理。",
    )
    desk.close()


def test_verify_catches_a_message_altered_or_deleted(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    first = intake_letter(desk, keys, "一")
    second = intake_letter(desk, keys, "二")
    send_message(desk, first.case_id, keys, "question", "第一问")
    send_message(desk, second.case_id, keys, "question", "第二问")
    desk.close()
    conn = sqlite3.connect(db)
    ids = [r[0] for r in conn.execute("SELECT id FROM reporter_items WHERE kind LIKE 'message:%'")]
    conn.execute(
        "UPDATE reporter_items SET sealed = zeroblob(length(sealed)) WHERE id = ?", [ids[0]]
    )
    conn.execute("DELETE FROM reporter_items WHERE id = ?", [ids[1]])
    conn.commit()
    conn.close()
    desk = make_desk(db, DAY)
    problems = [str(p) for p in verify_register(desk.db).problems]
    desk.close()
    assert any(p.endswith(f"case {first.case_id}: message {ids[0]} was altered") for p in problems)
    assert any(p.endswith(f"case {second.case_id}: message {ids[1]} was deleted") for p in problems)
