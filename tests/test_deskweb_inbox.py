"""The inbox page and the case's downloads (deskweb/inbox.py) over HTTP, with a real gateway
and a real store: an online report with an attachment is sent through ``lianxin gateway serve``;
the registrar opens it from /inbox with the office key the session holds, and it becomes a case
in My work with a link to register it; a handler is refused the inbox in words; a POST without
the CSRF token opens nothing; the handler of the case's unit downloads the attachment and a
note's file (each a read in the read log, served as an attachment with a safe name, ``nosniff``
and ``no-store``), and a handler of another unit is refused with nothing read. ``lianxin desk
file`` saves the same file through the same function. (The three officers' loop in Chromium
opens the inbox and downloads too: test_browser_deskweb_loop.py.)"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from conftest import GatewayProcess, free_port
from desk_support import cli, office_keys, officer_env, setup_office, unlocked
from deskweb_support import csrf_of, signed_in
from fastapi.testclient import TestClient
from support import post, report_doc, sealed_report, snapshot

from desk.context import open_desk
from desk.deadlines import Manual
from desk.notes import add_note
from desk.register import Registration, register
from desk.routing import Route, route
from desk.verify import verify_register
from deskweb.app import create_app
from deskweb.desks import WebSettings
from lianxin.domain.workdays import FixedClock
from lianxin.keys import init_keys, load_keyring
from lianxin.protocol import Attachment

DAY = date(2026, 11, 24)
OFFICERS = ("admin", "reg", "appr", "hand1", "hand2")
PHOTO = Attachment("../../etc/收据 照片?.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 not really a jpeg")
FORM = Registration(
    "accusation", "legal.embezzlement_bribery", region="town.dongshan", real_name="anonymous"
)


@dataclass
class Office:
    db: Path
    keys_dir: Path
    app: Any

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(sql, params or []).fetchall()
        finally:
            conn.close()

    def reads(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.query("SELECT actor, data FROM events WHERE type = 'read' ORDER BY seq")
        return [(actor, json.loads(data)) for actor, data in rows]


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store holding one online report with an attachment, sent through a real gateway
    (started once; each test works on its own copy of the store)."""
    root = tmp_path_factory.mktemp("sent")
    init_keys(root / "keys")
    gateway = GatewayProcess(
        db_path=root / "lianxin.sqlite",
        keys_dir=root / "keys",
        port=free_port(),
        log_path=root / "gateway.log",
        extra_args=["--today", DAY.isoformat()],
    ).start()
    try:
        keyring = load_keyring(root / "keys")
        envelope = sealed_report(keyring, report_doc("附件"), [PHOTO])
        answer = post(gateway.url, "/v1/reports", envelope)
        assert answer.status_code == 201, answer.text
    finally:
        gateway.stop()
    return root / "lianxin.sqlite", root / "keys"


@pytest.fixture
def office(sent: tuple[Path, Path], tmp_path: Path) -> Office:
    db = tmp_path / "lianxin.sqlite"
    source, target = sqlite3.connect(sent[0]), sqlite3.connect(db)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    setup_office(db, DAY, keys_dir=sent[1], officers=OFFICERS)
    return Office(db, sent[1], create_app(WebSettings(db=db, today=DAY)))


def open_from_inbox(client: TestClient) -> int:
    """The registrar opens the inbox; the case of the one report opened."""
    page = client.get("/inbox")
    assert page.status_code == 200
    opened = client.post("/inbox", data={"csrf": csrf_of(page.text)})
    assert opened.status_code == 200, opened.text
    [case] = re.findall(r'<tr data-case="(\d+)" data-submission="\d+">', opened.text)
    return int(case)


def registered_and_assigned(office: Office, case_id: int) -> None:
    """Registered (its report copied under the case key) and assigned to Dongshan, with a
    note carrying a file."""
    desk = open_desk(office.db, officer=unlocked("reg"), clock=FixedClock(DAY))
    try:
        register(desk, case_id, FORM)
        desk.officer = unlocked("appr")
        days = Manual.parse(10, "working")
        route(desk, case_id, Route("assign", unit="town.dongshan", manual=days))
        desk.officer = unlocked("hand1")
        scan = office.db.parent / "scan.txt"
        scan.write_bytes("谈话记录".encode())
        add_note(desk, case_id, office_keys(office.keys_dir), text="谈话", file=scan)
        scan.unlink()
    finally:
        desk.close()


def test_the_registrar_opens_the_inbox_and_the_report_becomes_a_case(office: Office) -> None:
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        work = client.get("/work").text
        assert 'href="/inbox" id="lx-nav-inbox"' in work and "网上举报收件箱" in work
        page = client.get("/inbox").text
        assert '<dd id="lx-waiting-reports">1</dd>' in page
        assert 'id="lx-inbox-open"' in page
        assert office.query("SELECT count(*) FROM submissions WHERE opened_at IS NULL") == [(1,)]
        assert office.reads() == []  # counting opens nothing
        case = open_from_inbox(client)
        shown = client.get("/inbox?lang=en").text  # what is left: nothing
        assert 'id="lx-inbox-empty"' in shown and "Nothing is waiting in the inbox." in shown
    [(opened_at,)] = office.query("SELECT opened_at FROM submissions WHERE case_id = ?", [case])
    assert opened_at == DAY.isoformat()
    assert office.query("SELECT actor FROM events WHERE type = 'opened'") == [("reg",)]
    assert office.reads() == [("reg", {"what": "report", "submission": 1})]
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        result = client.post("/inbox", data={"csrf": csrf_of(client.get("/inbox").text)})
        assert 'id="lx-none-opened"' in result.text  # a second press opens nothing more
        work = client.get("/work").text  # the case waits for its registration in My work
        assert f'data-case="{case}"' in work, work[work.find("lx-for-me-h") :][:900]
        assert (
            f'href="/case/{case}/register" id="lx-register-link"'
            in client.get(f"/case/{case}").text
        )


def test_the_result_page_links_each_report_to_its_registration(office: Office) -> None:
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        page = client.get("/inbox").text
        result = client.post("/inbox", data={"csrf": csrf_of(page)}).text
    [case] = office.query("SELECT case_id FROM submissions")
    assert f'<a href="/case/{case[0]}/register" class="lx-inbox-register">登记本件</a>' in result
    assert "工程款问题 附件" in result and "网上举报" in result


def test_a_handler_is_refused_the_inbox_in_words(office: Office) -> None:
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "hand1")
        work = client.get("/work").text
        assert 'id="lx-nav-inbox"' not in work
        page = client.get("/inbox")
        assert page.status_code == 403
        assert "「开启网上举报」须由受理岗位的人员办理，您没有这个角色。" in page.text
        before = snapshot(office.db)
        forged = client.post("/inbox", data={"csrf": csrf_of(work)})
        assert forged.status_code == 403 and "须由受理岗位的人员办理" in forged.text
        assert snapshot(office.db) == before
    assert office.query("SELECT count(*) FROM submissions WHERE opened_at IS NULL") == [(1,)]


def test_an_inbox_post_without_the_csrf_token_opens_nothing(office: Office) -> None:
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        client.get("/inbox")
        before = snapshot(office.db)
        for data in ({}, {"csrf": "forged"}):
            refused = client.post("/inbox", data=data)
            assert refused.status_code == 403 and 'id="lx-message"' in refused.text
        assert snapshot(office.db) == before
    assert office.reads() == []


def test_the_handler_downloads_the_attachment_and_the_read_is_logged(office: Office) -> None:
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        case = open_from_inbox(client)
    registered_and_assigned(office, case)
    [(note,)] = office.query("SELECT id FROM notes WHERE case_id = ?", [case])
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "hand1")
        page = client.get(f"/case/{case}").text
        assert f'href="/case/{case}/file/s1.0" download id="lx-file-s1-0"' in page
        assert f'href="/case/{case}/file/n{note}" download' in page
        assert "../../etc/收据 照片?.jpg" in page  # the name as sent, escaped, on the page
        before = len(office.reads())
        got = client.get(f"/case/{case}/file/s1.0")
        assert got.status_code == 200 and got.content == PHOTO.data
        assert got.headers["content-disposition"] == (
            "attachment; filename=\"______.jpg\"; filename*=UTF-8''"
            "%E6%94%B6%E6%8D%AE_%E7%85%A7%E7%89%87_.jpg"
        )
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["cache-control"] == "no-store"
        scan = client.get(f"/case/{case}/file/n{note}")
        assert scan.status_code == 200 and scan.content == "谈话记录".encode()
        assert 'filename="scan.txt"' in scan.headers["content-disposition"]
        missing = client.get(f"/case/{case}/file/s1.7")
        assert missing.status_code == 400 and "没有编号为s1.7的附件或文件" in missing.text
        bad = client.get(f"/case/{case}/file/etc")
        assert bad.status_code == 400 and "“etc”不是文件编号" in bad.text
    after = office.reads()[before:]
    assert after == [
        ("hand1", {"what": "attachment", "file": "s1.0", "size": len(PHOTO.data)}),
        ("hand1", {"what": "attachment", "file": f"n{note}", "size": len("谈话记录".encode())}),
    ]  # the refused ones read nothing
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "hand2")  # another unit: refused in words, nothing read
        before_other = snapshot(office.db)
        refused = client.get(f"/case/{case}/file/s1.0")
        assert refused.status_code == 403 and refused.content != PHOTO.data
        assert "没有交办给您的单位（西河镇纪委），您不能办理。" in refused.text
        assert "attachment" not in refused.headers.get("content-disposition", "")
        assert snapshot(office.db) == before_other
    checked = verify_register(sqlite_utils.Database(office.db))  # the reads are signed events
    assert checked.ok, checked.problems


def test_a_recused_approver_is_refused_the_download(office: Office) -> None:
    from desk.scope import recuse

    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        case = open_from_inbox(client)
    registered_and_assigned(office, case)
    desk = open_desk(office.db, officer=unlocked("appr"), clock=FixedClock(DAY))
    try:
        recuse(desk, case, "reg", "亲属关系")  # the registrar's case key is taken away
    finally:
        desk.close()
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        before = snapshot(office.db)
        refused = client.get(f"/case/{case}/file/s1.0")
        assert refused.status_code == 403
        assert "您不在它的办理范围内" in refused.text
        assert snapshot(office.db) == before


def test_desk_file_saves_the_same_file_through_the_same_read(
    office: Office, tmp_path: Path
) -> None:
    with TestClient(office.app, base_url="http://127.0.0.1") as client:
        signed_in(client, "reg")
        case = open_from_inbox(client)
    registered_and_assigned(office, case)
    env = {**officer_env("hand1"), "LIANXIN_DB": str(office.db)}
    shown = cli("show", str(case), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "s1.0" in shown.stdout
    saved = cli("file", str(case), "s1.0", "--out", str(tmp_path), env=env)
    assert saved.returncode == 0, saved.stderr
    assert (tmp_path / "收据_照片_.jpg").read_bytes() == PHOTO.data
    assert (tmp_path / "收据_照片_.jpg").stat().st_mode & 0o777 == 0o600
    read = {"what": "attachment", "file": "s1.0", "size": len(PHOTO.data)}
    assert office.reads()[-1] == ("hand1", read)
    env = {**officer_env("hand2"), "LIANXIN_DB": str(office.db)}
    other = cli("file", str(case), "s1.0", "--out", str(tmp_path / "x"), env=env)
    assert other.returncode == 1 and not (tmp_path / "x").exists()


def test_what_was_opened_is_worded_from_codes_in_both_languages() -> None:
    from desk.inbox import Opened
    from deskweb.i18n import Labels
    from deskweb.inbox import opened_row
    from lianxin.domain.datafiles import load_taxonomy

    tax = load_taxonomy()
    unhappy = Opened(
        7, 3, "2026-000003", "followup", "2026-11-30",
        doc={"type": "satisfaction", "rating": "not"}, notice_code="rating-unhappy",
    )  # fmt: skip
    zh, en = (opened_row(unhappy, Labels(lang, tax)) for lang in ("zh", "en"))
    assert zh["what"] == "满意度评价：不满意" and not zh["register"]
    assert zh["notice"] == "举报人不满意：请考虑再次答复或复查。"
    assert en["what"] == "Satisfaction answer: not satisfied"
    material = Opened(8, 3, "2026-000003", "followup", "2026-11-30", doc={"type": "material"},
                      notice_code="material")  # fmt: skip
    assert opened_row(material, Labels("en", tax))["what"] == "Additional material"
    broken = Opened(9, 4, "#4", "report", "2026-11-30", problem="signature does not verify")
    row = opened_row(broken, Labels("zh", tax))
    assert row["what"] == "网上举报" and not row["register"]  # nothing to register yet
