"""The forms of deskweb/steps_unit.py over HTTP, in process with a real store: a supervisor
records a supervision action and prints the supervision letter (督办函) with the forms the
case page shows; a registrar is refused that letter in words; the letter's page allows only its
own style blocks; an unhappy reporter's satisfaction, the review, the second answer and closing.
(The whole loop to the reporter's status page runs in Chromium: test_browser_deskweb_loop.py.)"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from desk_support import intake_letter, make_desk, new_store, office_keys, unlocked
from deskweb_support import csrf_of, signed_in
from fastapi.testclient import TestClient

from desk.answers import answer
from desk.casekeys import desk_keys
from desk.deadlines import Manual
from desk.register import Registration, register
from desk.routing import Route, route
from desk.unitwork import accept_report, sign_for, submit_report
from deskweb.app import create_app
from deskweb.desks import WebSettings

DAY = date(2026, 3, 4)
FORM = Registration("accusation", "integrity.gifts", region="town.xihe", real_name="anonymous")


@pytest.fixture
def app(tmp_path: Path, keys_dir: Path) -> Iterator[Any]:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    case = intake_letter(desk, office_keys(keys_dir), "督").case_id
    register(desk, case, FORM)
    desk.officer = unlocked("appr")
    route(desk, case, Route("assign", unit="town.xihe", manual=Manual.parse(15, "working")))
    desk.close()
    yield create_app(WebSettings(db=db, today=DAY))


def test_a_supervisor_supervises_and_prints_the_supervision_letter(app: Any) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "sup")
        page = client.get("/case/1").text
        assert 'id="lx-supervise-form"' in page and "电话督办" in page
        assert '<option value="supervision">督办函</option>' in page
        assert 'id="lx-sign-for-form"' not in page and 'id="lx-answer-form"' not in page
        token = csrf_of(page)
        done = client.post(
            "/case/1/step/supervise",
            data={"csrf": token, "kind": "letter", "reference": "督办函〔2026〕1号"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/case/1?done=1"
        bad = client.post("/case/1/step/supervise", data={"csrf": token, "kind": "email"})
        assert bad.status_code == 400 and "「类别」请从列表中选择。" in bad.text
        letter = client.post("/case/1/letter", data={"csrf": token, "kind": "supervision"})
        assert letter.status_code == 200 and "<h1>督办函</h1>" in letter.text
        assert "西河镇纪委" in letter.text and "“签收”环节" in letter.text
        policy = letter.headers["content-security-policy"]
        assert "script-src" not in policy and "default-src 'none'" in policy
        assert re.search(r"style-src 'self' 'sha256-[A-Za-z0-9+/=]{44}'$", policy.split(";")[2])
        unknown = client.post("/case/1/step/fly", data={"csrf": token})
        assert unknown.status_code == 404
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        page = client.get("/case/1").text
        assert '<option value="supervision">' not in page
        refused = client.post("/case/1/letter", data={"csrf": csrf_of(page), "kind": "supervision"})
        assert refused.status_code == 403
        assert "「出具函件」须由督办或审批岗位的人员办理，您没有这个角色。" in refused.text
        forged = client.post("/case/1/letter", data={"kind": "supervision"})
        assert forged.status_code == 403 and "<h1>督办函</h1>" not in forged.text
    conn = sqlite3.connect(app.state.settings.db)
    kinds = conn.execute(
        "SELECT type, actor FROM events WHERE type IN ('supervised', 'letter-issued') ORDER BY seq"
    ).fetchall()
    conn.close()
    assert kinds == [("supervised", "sup"), ("letter-issued", "sup")]


def test_an_unhappy_reporter_gets_a_second_answer_through_the_forms(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    case = intake_letter(desk, keys, "复").case_id
    named = Registration("accusation", "integrity.gifts", region="town.xihe", real_name="claimed")
    register(desk, case, named)
    desk.officer = unlocked("appr")
    route(desk, case, Route("assign", unit="town.xihe", manual=Manual.parse(15, "working")))
    desk.officer = unlocked("hand2")
    sign_for(desk, case)
    submit_report(desk, case, "partly", "报告。")
    desk.officer = unlocked("appr")
    accept_report(desk, case)
    answer(desk, case, desk_keys(desk), "第一次答复。")
    desk.close()
    app = create_app(WebSettings(db=db, today=DAY))

    def state() -> tuple[str, str | None, str | None]:
        conn = sqlite3.connect(db)
        try:
            row = conn.execute(
                "SELECT state, satisfaction, review_kind FROM cases WHERE id = ?", [case]
            ).fetchone()
            return row[0], row[1], row[2]
        finally:
            conn.close()

    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        page = client.get(f"/case/{case}").text
        assert 'id="lx-satisfaction-form"' in page and 'id="lx-review-form"' not in page
        step = f"/case/{case}/step/"
        client.post(step + "satisfaction", data={"csrf": csrf_of(page), "rating": "not"})
        assert state() == ("answered", "not", None)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "appr")
        page = client.get(f"/case/{case}").text
        assert 'id="lx-review-form"' in page and "二次反馈" in page
        token = csrf_of(page)
        review = {"csrf": token, "kind": "second_answer", "reason": "款项未退还。", "days": "10"}
        client.post(step + "review", data=review)
        assert state() == ("reviewing", "not", "second_answer")
        page = client.get(f"/case/{case}").text
        assert 'id="lx-second-answer-form"' in page and "维持原处理意见" in page
        empty = client.post(step + "second-answer", data={"csrf": token, "outcome": "upheld"})
        assert empty.status_code == 400 and state()[0] == "reviewing"
        second = {"csrf": token, "outcome": "upheld", "text": "经复核，维持原答复。"}
        client.post(step + "second-answer", data=second)
        assert state() == ("answered", "not", "second_answer")
        page = client.get(f"/case/{case}").text
        assert 'id="lx-close-form"' in page
        closed = client.post(step + "close", data={"csrf": token}, follow_redirects=False)
        assert closed.status_code == 303 and state()[0] == "closed"


def test_a_handler_drafts_the_answer_and_the_answer_form_starts_from_it(app: Any) -> None:
    """An answer drafted while the case is handled (desk note --answer-draft) is sealed as a note
    and shown; the approver's answer form, once the case is concluded, starts from the latest."""
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "hand2")
        page = client.get("/case/1").text
        assert 'id="lx-draft-form"' in page and "答复草稿" in page
        token = csrf_of(page)
        for text in ("第一稿：经核查，反映属实。", "第二稿：经核查，反映部分属实，已责令整改。"):
            done = client.post(
                "/case/1/note", data={"csrf": token, "kind": "draft", "text": text},
                follow_redirects=False,
            )  # fmt: skip
            assert done.status_code == 303, done.text
        bad = client.post("/case/1/note", data={"csrf": token, "kind": "answer", "text": "x"})
        assert bad.status_code == 400 and "「类别」不在清单中" in bad.text
        page = client.get("/case/1").text
        assert ">第二稿：经核查，反映部分属实，已责令整改。</textarea>" in page
        assert page.count("· 答复草稿") == 2  # both drafts in the notes, marked as drafts
    conn = sqlite3.connect(app.state.settings.db)
    drafts = conn.execute(
        "SELECT count(*) FROM events WHERE type = 'note-added' AND data LIKE '%\"draft\"%'"
    ).fetchone()[0]
    sealed = conn.execute("SELECT count(*) FROM notes WHERE sealed LIKE '%第二稿%'").fetchone()[0]
    conn.close()
    assert drafts == 2 and sealed == 0  # recorded as events, stored only sealed
    db = app.state.settings.db
    desk = make_desk(db, DAY, officer="hand2")
    sign_for(desk, 1)
    submit_report(desk, 1, "partly", "报告。")
    desk.officer = unlocked("appr")
    accept_report(desk, 1)
    desk.close()
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "appr")
        page = client.get("/case/1").text
        assert 'id="lx-answer-form"' in page
        assert (
            ">第二稿：经核查，反映部分属实，已责令整改。</textarea>"
            in page.split('id="lx-answer-form"')[1]
        )
