"""The whole office loop in the web desk, in real headless Chromium (issue 14), to an answer the
reporter reads on the portal's status page.

A gateway (``lianxin gateway serve``) and the web desk share one store; a reporter sends an
online report with ``lianxin submit`` through the gateway, and a real-name letter arrives at the
desk with a token slip. Three officers, each in their own browser context, take both cases
through the loop:

1. (registrar) the online report (sent with an attachment) is opened on the inbox page and
   registered from the result's link; the attachment is downloaded from the case page (a read
   in the read log); the letter is taken in with the intake form (its token slip) and
   registered with the registration form too, the letter is
   screened, the real-name reporter gets an acceptance notice on the status page and the
   acceptance notice letter (受理告知书) is printed from the office's own template;
2. (approver) approves the letter's proposal and routes both to the Dongshan town unit;
3. (handler of that unit) signs for both and sends the completion reports; has no check or
   answer button, and a forged check POST is refused in words; an officer of another unit
   neither sees nor opens the cases, nor downloads the attachment;
4. (approver) returns one report for rework (the handler reports again) and accepts both; a
   refused step (closing inside the review window) says why; answers both reporters;
5. the publisher builds the portal; the reporter reads each answer on the status page.

Also: an administrator resets a handler's lost second factor in the browser and the handler
enrols again at the next sign-in. No request leaves the desk's (or the portal's) origin, no
page breaks its Content-Security-Policy. Screenshots in Chinese and English, desktop and a
1366×768 laptop, go to test-artifacts/deskweb-loop/ (git-ignored).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from conftest import ROOT, GatewayProcess, free_port
from desk_support import passphrase, setup_office
from support import report_doc

from deskweb.desks import WebSettings
from deskweb.serve import server_config
from lianxin import keys as keys_mod
from lianxin.domain.datafiles import DEFAULT_DATA_DIR
from lianxin.domain.workdays import FixedClock
from lianxin.keys import init_keys
from lianxin.protocol import Token
from publisher.build import PublishSettings, publish
from publisher.serve import make_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts" / "deskweb-loop"
DESKTOP = {"width": 1280, "height": 900}
LAPTOP = {"width": 1366, "height": 768}
DAY = date(2026, 11, 24)
ANSWERS = {
    "online": "经查，反映的工程验收问题部分属实，已责令退还款项。",
    "letter": "经查，反映的村道工程问题属实，已立案审查。",
}
OFFICERS = ("admin", "reg", "appr", "hand1", "hand2")
RECEIPT = "收据 2026年11月.pdf"  # the online report's attachment
RECEIPT_DATA = b"%PDF-1.4 the receipt the reporter scanned\n"
OWN_NOTICE = "{{ office }}受理告知：登记编号 {{ number }}，受理日期 {{ accepted_date }}。"


@dataclass
class Loop:
    """The gateway, the web desk, the portal and what the browsers did."""

    db_path: Path
    keys_dir: Path
    site_dir: Path
    site_url: str
    url: str
    gateway: GatewayProcess
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[str, str] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    pages: dict[str, Any] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.db_path)
        try:
            return conn.execute(sql, params or []).fetchall()
        finally:
            conn.close()

    def state(self, case_id: int) -> tuple[str, str | None]:
        [row] = self.query("SELECT state, phase FROM cases WHERE id = ?", [case_id])
        return row[0], row[1]


def _submit_online(gateway: GatewayProcess, root: Path) -> str:
    """A real-name report sent through the gateway with ``lianxin submit``; its token."""
    keys_mod.export_published(gateway.keys_dir, root / "site-keys.json")
    doc = report_doc("网上", real_name=True)
    del doc["schema"]
    (root / "report.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    (root / RECEIPT).write_bytes(RECEIPT_DATA)
    sent = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "submit", "--gateway", gateway.url,
         "--keys", str(root / "site-keys.json"), "--report", str(root / "report.json"),
         "--attach", str(root / RECEIPT), "--token-out", str(root / "token.txt"),
         "--receipt-out", str(root / "receipt.json")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    return str(Token.parse((root / "token.txt").read_text()))


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium fonts-noto-cjk")
    root = tmp_path_factory.mktemp("loop")
    init_keys(root / "keys")
    db_path = root / "lianxin.sqlite"
    gateway = GatewayProcess(
        db_path=db_path,
        keys_dir=root / "keys",
        port=free_port(),
        log_path=root / "gateway.log",
        extra_args=["--today", DAY.isoformat()],
    ).start()
    site_dir = root / "site"
    site_dir.mkdir()
    site = make_server(site_dir)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    # The office's own acceptance notice, in templates/ under its data folder.
    data = root / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    (data / "templates").mkdir()
    (data / "templates" / "acceptance-letter.html.j2").write_text(
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8><title>受理告知书</title>"
        "<style>body { color: #123; }</style></head><body><h1>受理告知书</h1><p>"
        + OWN_NOTICE
        + "</p></body></html>\n",
        "utf-8",
    )
    server: uvicorn.Server | None = None
    try:
        online = _submit_online(gateway, root)
        setup_office(db_path, DAY, keys_dir=root / "keys", officers=OFFICERS)
        settings = WebSettings(db=db_path, today=DAY, data_dir=data)
        port = free_port()
        server = uvicorn.Server(server_config(settings, "127.0.0.1", port))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the web desk did not start")
            time.sleep(0.05)
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)
        site_url = f"http://127.0.0.1:{site.server_address[1]}"
        yield Loop(
            db_path, root / "keys", site_dir, site_url, f"http://127.0.0.1:{port}", gateway,
            server, thread, tokens={"online": online},
        )  # fmt: skip
    finally:
        if server is not None:
            server.should_exit = True
        gateway.stop()
        site.shutdown()
        site.server_close()


@pytest.fixture(scope="module")
def browser(loop: Loop) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def new_page(browser: Any, loop: Loop, viewport: dict[str, int] = DESKTOP) -> Any:
    """A page in its own browser context (its own cookies), every request recorded."""
    context = browser.new_context(viewport=viewport)
    context.on("request", lambda request: loop.requests.append(request.url))
    context.expose_function("lxViolation", lambda text: loop.violations.append(text))
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "window.lxViolation(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`))"
    )
    page = context.new_page()
    page.on("pageerror", lambda error: loop.page_errors.append(str(error)))
    return page


def sign_in(browser: Any, loop: Loop, officer_id: str) -> Any:
    page = new_page(browser, loop)
    page.goto(loop.url + "/login")
    page.fill("#lx-officer", officer_id)
    page.fill("#lx-passphrase", passphrase(officer_id))
    with page.expect_navigation():
        page.click("#lx-sign-in")
    return page


UNLABELLED = """
[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
  .map((el) => el.id || el.outerHTML.slice(0, 80))
"""


def shots(page: Any, name: str) -> None:
    """The page in Chinese and English, on a desktop and on a 1366×768 laptop; every control
    has a label."""
    url = page.url.split("?")[0]
    for lang in ("en", "zh"):  # Chinese last: the language stays Chinese
        page.goto(f"{url}?lang={lang}")
        assert page.evaluate(UNLABELLED) == [], name
        for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
            page.set_viewport_size(size)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def snap(page: Any, name: str) -> None:
    """The page as it is (the answer to a POST), on a desktop and on a laptop."""
    assert page.evaluate(UNLABELLED) == [], name
    for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
        page.set_viewport_size(size)
        page.screenshot(path=str(ARTIFACTS / f"{name}{suffix}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def open_case(page: Any, loop: Loop, case_id: int) -> None:
    page.goto(f"{loop.url}/case/{case_id}")
    assert page.locator("h1").inner_text().startswith("案件")


def submit(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.click(button)


def done(page: Any, loop: Loop, case_id: int) -> None:
    assert page.url == f"{loop.url}/case/{case_id}?done=1", page.url
    assert page.locator("#lx-done").inner_text() == "已完成。"


def test_1_the_registrar_takes_in_registers_screens_and_notifies(browser: Any, loop: Loop) -> None:
    page = sign_in(browser, loop, "reg")
    loop.pages["reg"] = page
    # The online report, opened on the inbox page with the office key the session holds.
    page.click("#lx-nav-inbox")
    assert page.locator("#lx-waiting-reports").inner_text() == "1"
    shots(page, "inbox")
    assert loop.query("SELECT count(*) FROM submissions WHERE opened_at IS NULL") == [(1,)]
    submit(page, "#lx-inbox-open")
    [row] = page.locator("#lx-opened tbody tr").all()
    online = int(row.get_attribute("data-case") or 0)
    assert "工程款问题 网上" in row.inner_text() and "网上举报" in row.inner_text()
    assert page.locator("#lx-inbox-empty").count() == 1  # nothing more waits
    snap(page, "inbox-opened-zh")
    assert loop.query("SELECT count(*) FROM submissions WHERE opened_at IS NULL") == [(0,)]
    assert loop.query("SELECT actor FROM events WHERE type = 'opened'") == [("reg",)]
    link = row.locator(".lx-inbox-register").get_attribute("href")
    assert link == f"/case/{online}/register"
    # It is a case in My work now, waiting for its registration: registered from its page.
    page.goto(loop.url + "/work")
    page.click(f"#lx-for-me tr[data-case='{online}'] a")
    page.click("#lx-register-link")
    assert page.url == loop.url + link
    page.select_option("#lx-item-type", "accusation")
    page.select_option("#lx-real-name", "claimed")
    submit(page, "#lx-register-save")
    done(page, loop, online)
    assert loop.state(online) == ("accepted", None)
    # Its attachment, downloaded from the case page: a read in the read log.
    assert page.locator("#lx-files td").first.inner_text() == RECEIPT
    shots(page, "case-files")
    reads = len(loop.query("SELECT 1 FROM events WHERE type = 'read'"))
    with page.expect_download() as got:
        page.click("#lx-file-s1-0")
    download = got.value
    assert download.suggested_filename == "收据_2026年11月.pdf"
    assert Path(download.path()).read_bytes() == RECEIPT_DATA
    [(actor, data)] = loop.query(
        "SELECT actor, data FROM events WHERE type = 'read' ORDER BY seq LIMIT -1 OFFSET ?",
        [reads],
    )
    assert (actor, json.loads(data)) == (
        "reg", {"what": "attachment", "file": "s1.0", "size": len(RECEIPT_DATA)}
    )  # fmt: skip
    # The letter, taken in with the intake form: the token slip.
    page.goto(loop.url + "/intake")
    page.select_option("#lx-channel", "letter")
    page.fill("#lx-title", "村道工程验收收受好处")
    page.fill("#lx-text", "反映东山镇村道硬化工程验收中，副镇长刘某收受施工方好处费。")
    page.fill("#lx-reported-name", "刘某")
    page.fill("#lx-reported-unit", "东山镇人民政府")
    page.select_option("#lx-rank", "township_section")
    page.select_option("#lx-region", "town.dongshan")
    page.select_option("#lx-problem", "legal.embezzlement_bribery")
    page.check("#lx-real-name")
    page.fill("#lx-name", "陈某")
    page.fill("#lx-contact", "0000-0000002")
    submit(page, "#lx-intake-save")
    loop.tokens["letter"] = str(Token.parse(page.locator("#lx-token").inner_text().strip()))
    [(letter,)] = loop.query("SELECT id FROM cases WHERE channel = 'letter'")
    loop.cases = {"online": online, "letter": letter}
    # Registered with the registration form (the report's own fields are its start).
    page.goto(f"{loop.url}/case/{letter}/register")
    page.select_option("#lx-item-type", "accusation")
    page.select_option("#lx-real-name", "claimed")
    submit(page, "#lx-register-save")
    done(page, loop, letter)
    assert loop.state(letter) == ("accepted", None)
    # The letter is screened: a proposal to assign it to the Dongshan town unit.
    case = loop.cases["letter"]
    page.select_option("#lx-propose", "assign")
    page.select_option("#lx-screen-unit", "town.dongshan")
    page.fill("#lx-opinion", "拟交东山镇纪委办理。")
    submit(page, "#lx-screen-save")
    assert loop.state(case) == ("accepted", "screened")
    open_case(page, loop, case)
    assert page.locator("#lx-route-form, #lx-check-form, #lx-answer-form").count() == 0
    page.select_option("#lx-message-kind", "acceptance")
    page.fill("#lx-message-text", "您的来信已受理，我们将依规办理并答复您。")
    submit(page, "#lx-message-save")
    done(page, loop, case)
    [(data,)] = loop.query(
        "SELECT data FROM events WHERE type = 'message-sent' AND case_id = ?", [case]
    )
    assert json.loads(data)["acknowledged"]["how"] == "status"  # the 受理告知 duty is met
    # The acceptance notice letter, from the office's own template, ready to print.
    assert page.locator("#lx-letter-kind option").all_inner_texts() == ["受理告知书"]
    shots(page, "case-registrar")
    submit(page, "#lx-letter-save")
    assert page.locator("h1").inner_text() == "受理告知书"
    [number] = loop.query("SELECT number FROM cases WHERE id = ?", [case])[0]
    assert page.locator("p").inner_text() == (
        f"信访室受理告知：登记编号 {number}，受理日期 {DAY.isoformat()}。"
    )
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(17, 34, 51)"
    page.screenshot(path=str(ARTIFACTS / "letter-acceptance-zh.png"), full_page=True)
    issued = loop.query("SELECT actor, data FROM events WHERE type = 'letter-issued'")
    [(actor, data)] = [(a, json.loads(d)) for a, d in issued]  # with the letter's digest
    assert actor == "reg" and data["letter"] == "acceptance" and len(data["sha256"]) == 64


def test_2_the_approver_approves_and_routes_both_to_the_unit(browser: Any, loop: Loop) -> None:
    page = sign_in(browser, loop, "appr")
    loop.pages["appr"] = page
    open_case(page, loop, loop.cases["letter"])  # the screened letter: approved first
    page.fill("#lx-approve-text", "同意。")
    submit(page, "#lx-approve-save")
    assert loop.state(loop.cases["letter"]) == ("accepted", "approved")
    for case in loop.cases.values():  # the online report: routed directly (the short path)
        open_case(page, loop, case)
        page.select_option("#lx-route-unit", "town.dongshan")
        page.fill("#lx-route-days", "10")
        submit(page, "#lx-route-save")
        done(page, loop, case)
        assert loop.state(case) == ("in_progress", "assigned")


def test_3_the_handler_signs_for_and_reports(browser: Any, loop: Loop) -> None:
    page = sign_in(browser, loop, "hand1")
    loop.pages["hand1"] = page
    for case in loop.cases.values():  # my work: both, with the step waiting for the handler
        assert "签收" in page.locator(f"#lx-for-me tr[data-case='{case}']").inner_text()
    for name, case in loop.cases.items():
        open_case(page, loop, case)
        assert page.locator("#lx-report-form").count() == 0  # not before signing for it
        submit(page, "#lx-sign-for-save")
        done(page, loop, case)
        assert loop.state(case) == ("in_progress", "signed")
        if name == "online":
            shots(page, "case-handler-report")
        page.select_option("#lx-report-outcome", "partly" if name == "online" else "substantiated")
        page.fill(
            "#lx-report-text",
            f"经调查核实，{'网上举报' if name == 'online' else '来信'}反映的问题已查清，报告如下。",
        )
        submit(page, "#lx-report-save")
        done(page, loop, case)
        assert loop.state(case) == ("in_progress", "reported")
        # the handler has no check and no answer
        assert page.locator("#lx-check-form, #lx-answer-form, #lx-route-form").count() == 0
    # A forged check POST, with the handler's own CSRF token: refused in words, nothing changed.
    case = loop.cases["online"]
    page.goto(f"{loop.url}/case/{case}")
    token = page.locator("#lx-note-form input[name=csrf]").get_attribute("value")
    before = loop.query("SELECT count(*) FROM events")
    forged = page.context.request.post(
        f"{loop.url}/case/{case}/step/check",
        form={"csrf": token, "decision": "accept", "comment": ""},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "「审核」须由审批岗位的人员办理，您没有这个角色。" in forged.text()
    assert loop.query("SELECT count(*) FROM events") == before
    assert loop.state(case) == ("in_progress", "reported")
    without = page.context.request.post(
        f"{loop.url}/case/{case}/step/report",
        form={"outcome": "partly", "text": "x"},
        max_redirects=0,
    )
    assert without.status == 403 and loop.query("SELECT count(*) FROM events") == before


def test_3_an_officer_of_another_unit_neither_sees_nor_opens_the_cases(
    browser: Any, loop: Loop
) -> None:
    page = sign_in(browser, loop, "hand2")
    reads = loop.query("SELECT count(*) FROM events WHERE type = 'read' AND actor = 'hand2'")
    for case in loop.cases.values():
        page.goto(loop.url + "/work")
        assert page.locator(f"tr[data-case='{case}']").count() == 0
        page.goto(f"{loop.url}/case/{case}")
        assert page.locator("#lx-message").inner_text() != ""
        assert page.locator("#lx-report-1, form.step").count() == 0
    page.goto(loop.url + "/inbox")  # a handler has no inbox: the page says which role
    assert "受理" in page.locator("#lx-refused").inner_text()
    shots(page, "inbox-refused-handler")
    refused = page.goto(f"{loop.url}/case/{loop.cases['online']}/file/s1.0")
    assert refused is not None and refused.status == 403  # not a download: a page saying why
    assert "没有交办给您的单位" in page.locator("#lx-refused").inner_text()
    assert loop.query(
        "SELECT count(*) FROM events WHERE type = 'read' AND actor = 'hand2'"
    ) == reads  # fmt: skip
    page.context.close()


def test_4_the_approver_checks_returns_accepts_and_answers(browser: Any, loop: Loop) -> None:
    appr, hand = loop.pages["appr"], loop.pages["hand1"]
    online, letter = loop.cases["online"], loop.cases["letter"]
    # Return the online case's report for rework; the handler reports again.
    open_case(appr, loop, online)
    shots(appr, "case-approver-check")
    appr.check("#lx-check-return")
    appr.fill("#lx-check-reason", "请补充退款凭证。")
    submit(appr, "#lx-check-save")
    done(appr, loop, online)
    assert loop.state(online) == ("in_progress", "rework")
    open_case(hand, loop, online)
    hand.select_option("#lx-report-outcome", "partly")
    hand.fill("#lx-report-text", "已补充退款凭证，报告如下。")
    submit(hand, "#lx-report-save")
    done(hand, loop, online)
    # Accept both; an empty decision is refused in words first (in English, then Chinese).
    for lang, words in (("en", "Fill in “Decision”."), ("zh", "请填写「审核意见」。")):
        appr.goto(f"{loop.url}/case/{online}?lang={lang}")
        appr.evaluate("document.querySelector('#lx-check-form').noValidate = true")
        submit(appr, "#lx-check-save")
        assert words in appr.locator("#lx-refused").inner_text()
        snap(appr, f"refused-empty-{lang}")
    stale = appr.context.new_page()  # the letter's case page left open in a second tab
    open_case(stale, loop, letter)
    for case in (online, letter):
        open_case(appr, loop, case)
        appr.check("#lx-check-accept")
        submit(appr, "#lx-check-save")
        done(appr, loop, case)
        assert loop.state(case) == ("concluded", None)
    # The stale tab's check is refused by the lifecycle, and the page says why.
    events = loop.query("SELECT count(*) FROM events")
    stale.check("#lx-check-accept")
    submit(stale, "#lx-check-save")
    refusal = stale.locator("#lx-refused").inner_text()
    assert "现在不能办理「审核」" in refusal and "已办结" in refusal, refusal
    assert loop.query("SELECT count(*) FROM events") == events
    snap(stale, "refused-stale-zh")
    stale.close()
    # Answer each reporter with the form.
    for name, case in loop.cases.items():
        open_case(appr, loop, case)
        if name == "online":
            shots(appr, "case-approver-answer")
        appr.fill("#lx-answer-text", ANSWERS[name])
        submit(appr, "#lx-answer-save")
        done(appr, loop, case)
        assert loop.state(case) == ("answered", None)
    # The loop ends: the letter's case is closed (结案).
    open_case(appr, loop, letter)
    submit(appr, "#lx-close-save")
    done(appr, loop, letter)
    assert loop.state(letter) == ("closed", None)


def test_5_the_reporters_read_the_answers_on_the_status_page(browser: Any, loop: Loop) -> None:
    publish(PublishSettings(loop.db_path, loop.keys_dir, loop.site_dir, DAY))
    for name in ("online", "letter"):
        page = new_page(browser, loop)
        page.goto(loop.site_url + "/status/")
        page.wait_for_selector("#lx-check:not([disabled])")
        page.fill("#lx-token", loop.tokens[name])
        page.click("#lx-check")
        page.wait_for_selector("#lx-case:not([hidden])")
        text = page.inner_text("#lx-case")
        assert ANSWERS[name] in text, text
        assert ("已反馈" if name == "online" else "已结案") in text, text
        if name == "letter":
            assert "您的来信已受理" in text  # the acceptance notice sent from the web desk
        page.screenshot(path=str(ARTIFACTS / f"status-{name}-zh.png"), full_page=True)
        page.context.close()


def test_6_an_administrator_resets_a_lost_second_factor(browser: Any, loop: Loop) -> None:
    import pyotp

    at = FixedClock(DAY).now()
    hand = loop.pages["hand1"]
    hand.goto(loop.url + "/account")
    secret = hand.locator("#lx-totp-secret").inner_text().replace(" ", "")
    hand.fill("#lx-totp-on-code", pyotp.TOTP(secret).at(at))
    submit(hand, "#lx-totp-on-save")
    assert hand.locator("#lx-totp-state").get_attribute("data-on") == "1"
    hand.context.close()  # the phone is lost
    admin = sign_in(browser, loop, "admin")
    admin.goto(loop.url + "/officers")
    assert admin.locator("#lx-reset-appr").count() == 0  # no codes to reset
    submit(admin, "#lx-reset-hand1-save")
    assert admin.locator("#lx-done").inner_text() == "已重置 hand1 的动态验证码。"
    assert admin.locator("#lx-reset-hand1").count() == 0
    shots(admin, "officers")
    [(actor, data)] = loop.query("SELECT actor, data FROM events WHERE type = 'totp-reset'")
    assert (actor, json.loads(data)) == ("admin", {"id": "hand1"})
    # The passphrase alone signs in, straight to enrolling the new phone.
    page = sign_in(browser, loop, "hand1")
    assert page.url == loop.url + "/account?reset=1"
    assert page.locator("#lx-reset").inner_text().startswith("管理员已重置")
    assert page.locator("#lx-totp-state").get_attribute("data-on") == "0"
    shots(page, "account-after-reset")


def test_7_no_request_left_the_origins_and_nothing_broke(loop: Loop) -> None:
    origins = {loop.url, loop.site_url}
    outside = [u for u in loop.requests if f"{urlsplit(u).scheme}://{urlsplit(u).netloc}"
               not in origins and not u.startswith(("data:", "blob:"))]  # fmt: skip
    assert outside == []
    assert loop.violations == []
    assert loop.page_errors == []
