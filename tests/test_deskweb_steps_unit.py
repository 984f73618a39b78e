"""The web desk's supervision step and letters over HTTP (the forms of deskweb/steps_unit.py),
in process with a real store: a supervisor records a supervision action and prints the
supervision letter (督办函) with the forms the case page shows; a registrar is refused that
letter in words; the letter's page allows only its own style blocks. (The whole loop runs in
Chromium in test_browser_deskweb_loop.py.)"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from desk_support import intake_letter, make_desk, new_store, office_keys, passphrase, unlocked
from fastapi.testclient import TestClient

from desk.deadlines import Manual
from desk.register import Registration, register
from desk.routing import Route, route
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


def signed_in(client: TestClient, officer_id: str) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = client.post(
        "/login",
        data={"csrf": csrf[1], "officer": officer_id, "passphrase": passphrase(officer_id)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found[1]


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
