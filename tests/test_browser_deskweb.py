"""The web desk in real headless Chromium (issue 14): sign-in, my work, the case page, a step.

A test office (tests/desk_support.py) has two cases: A, registered and assigned to the Dongshan
town unit; B, registered and waiting to be routed. ``lianxin desk serve``'s server runs in a
thread on a loopback port with the desk's day fixed and an idle clock the tests move by hand.
The steps run in file order and share the server:

1. the Dongshan handler signs in → my work lists A with its colour and working days left and
   the counts of their unit only; the page in Chinese and in English;
2. the handler opens A → the report (a read event is written), adds a note and concludes it
   with the forms;
3. the Xihe handler neither sees A in their work nor opens it (a page in words, no read event);
4. a handler's forged route POST is refused in words, nothing changed; a POST without the CSRF
   token is refused;
5. the approver routes B with the form (the same ``route`` the CLI calls); a refused step says why;
6. the approver's session idles past the timeout → signed out, keys wiped;
7. the fifth wrong passphrase in a row locks the account (even the right one waits);
8. no request left the origin, no CSP violation, no page error; stopping the server wipes
   every remaining session's keys.

Screenshots in Chinese and English go to test-artifacts/deskweb/ (git-ignored).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from conftest import ROOT, free_port
from desk_support import intake_letter, letter, make_desk, new_store, passphrase, unlocked

from desk.deadlines import Manual
from desk.intake import intake
from desk.officekeys import load_office_keys
from desk.register import Registration, register
from desk.routing import Route, route
from desk.warnings import compute_warnings
from deskweb.desks import WebSettings
from deskweb.serve import server_config
from deskweb.sessions import ManualClock, SessionStore
from lianxin.keys import init_keys

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
ARTIFACTS = ROOT / "test-artifacts" / "deskweb"
DESKTOP = {"width": 1280, "height": 900}
LAPTOP = {"width": 1366, "height": 768}
DAY = date(2026, 11, 24)
IDLE = 600.0
LOCK = 300.0
FORM = Registration(
    "accusation", "legal.embezzlement_bribery", "township_section", "town.dongshan", "verified"
)


@dataclass
class Office:
    """The server, its parts, the two cases and what the browser did."""

    db_path: Path
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    clock: ManualClock
    sessions: SessionStore
    case_a: int
    case_b: int
    requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    kept: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        import sqlite3

        conn = sqlite3.connect(self.db_path)
        try:
            return conn.execute(sql, params or []).fetchall()
        finally:
            conn.close()


def _cases(db_path: Path, keys_dir: Path) -> tuple[int, int]:
    keys = load_office_keys(keys_dir)
    desk = make_desk(db_path, DAY, officer="reg", keys_dir=keys_dir)
    try:
        a = intake_letter(desk, keys, "甲案").case_id
        register(desk, a, replace(FORM, add_tags=("livelihood",)), keys)
        b = intake_letter(desk, keys, "乙案").case_id
        register(desk, b, FORM, keys)
        late = intake(desk, keys, letter("丁案"), channel="letter", received=date(2026, 10, 20))
        register(desk, late.case_id, FORM, keys)  # registered, never routed: overdue
        desk.officer = unlocked("appr")
        route(desk, a, Route("assign", unit="town.dongshan", manual=Manual.parse(3, "working")))
    finally:
        desk.close()
    return a, b


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium fonts-noto-cjk")
    root = tmp_path_factory.mktemp("deskweb")
    init_keys(root / "keys")
    db_path = new_store(root / "lianxin.sqlite")
    a, b = _cases(db_path, root / "keys")
    clock = ManualClock()
    settings = WebSettings(
        db=db_path, today=DAY, idle_seconds=IDLE, lock_seconds=LOCK, monotonic=clock
    )
    port = free_port()
    config = server_config(settings, "127.0.0.1", port)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web desk did not start")
        time.sleep(0.05)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    app = config.loaded_app if hasattr(config, "loaded_app") else config.app
    sessions = _app_state(app).sessions
    o = Office(db_path, f"http://127.0.0.1:{port}", server, thread, clock, sessions, a, b)
    try:
        yield o
    finally:
        o.stop()


def _app_state(app: Any) -> Any:
    while not hasattr(app, "state"):  # uvicorn wraps the app in its middleware
        app = app.app
    return app.state


@pytest.fixture(scope="module")
def browser(office: Office) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def new_page(browser: Any, office: Office, viewport: dict[str, int] = DESKTOP) -> Any:
    """A page in its own browser context (its own cookies), every request recorded."""
    context = browser.new_context(viewport=viewport)
    context.on("request", lambda request: office.requests.append(request.url))
    context.expose_function("lxViolation", lambda text: office.violations.append(text))
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "window.lxViolation(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`))"
    )
    page = context.new_page()
    page.on("pageerror", lambda error: office.page_errors.append(str(error)))
    return page


def sign_in(page: Any, office: Office, officer_id: str, phrase: str | None = None) -> Any:
    page.goto(office.url + "/login")
    page.fill("#lx-officer", officer_id)
    page.fill("#lx-passphrase", phrase if phrase is not None else passphrase(officer_id))
    with page.expect_navigation():
        page.click("#lx-sign-in")
    return page


UNLABELLED = """
[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
  .map((el) => el.id || el.outerHTML.slice(0, 80))
"""


def shot(page: Any, name: str) -> None:
    """A full-page screenshot; every control on the page has a label."""
    assert page.evaluate(UNLABELLED) == [], name
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def reads(office: Office, officer_id: str, case_id: int) -> int:
    rows = office.query(
        "SELECT count(*) FROM events WHERE type = 'read' AND actor = ? AND case_id = ?",
        [officer_id, case_id],
    )
    return int(rows[0][0])


def test_handler_signs_in_to_my_work_in_chinese_and_english(browser: Any, office: Office) -> None:
    page = new_page(browser, office)
    page.goto(office.url + "/work")
    assert page.url == office.url + "/login?why=need"
    assert page.locator("label[for=lx-officer]").inner_text() == "工号"
    shot(page, "login-zh")
    page.goto(office.url + "/login?lang=en")
    assert page.locator("label[for=lx-officer]").inner_text() == "Officer id"
    shot(page, "login-en")
    page.goto(office.url + "/login?lang=zh")
    sign_in(page, office, "hand1")
    assert page.url == office.url + "/work"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text().startswith("我的工作")
    row = page.locator(f"#lx-for-me tr[data-case='{office.case_a}']")
    assert row.count() == 1
    text = row.inner_text()
    assert "东山镇" in text and "办理中" in text and "办结" in text and "记录" in text
    assert "town.dongshan" not in page.content().replace('data-unit="town.dongshan"', "")
    assert row.locator(".dot").count() == 1 and row.locator("td.days").inner_text().strip()
    units = page.locator("#lx-units tbody tr")
    assert units.count() == 1 and "东山镇" in units.inner_text()
    assert page.locator(f"tr[data-case='{office.case_b}']").count() == 0
    shot(page, "work-zh")
    page.set_viewport_size(LAPTOP)
    shot(page, "work-zh-laptop")
    page.click("#lx-lang")
    assert page.locator("h1").inner_text().startswith("My work")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Waiting for you" in page.content()
    shot(page, "work-en")
    page.goto(office.url + "/work")  # the language is remembered
    assert page.locator("h1").inner_text().startswith("My work")
    page.click("#lx-lang")
    office.kept["hand1"] = page


def test_handler_reads_the_case_and_adds_a_note(office: Office) -> None:
    page = office.kept["hand1"]
    before = reads(office, "hand1", office.case_a)
    page.click(f"#lx-for-me tr[data-case='{office.case_a}'] a")
    assert page.url == f"{office.url}/case/{office.case_a}"
    assert "甲案" in page.locator("#lx-report-1").inner_text()
    assert reads(office, "hand1", office.case_a) == before + 1
    assert "分流" in page.locator("#lx-timeline").inner_text()
    assert "赵主任" in page.locator("#lx-timeline").inner_text()  # who, by name
    page.fill("#lx-note-text", "已电话联系举报人核实情况。")
    with page.expect_navigation():
        page.click("#lx-note-save")
    assert page.locator("#lx-done").is_visible()
    assert "已电话联系举报人核实情况。" in page.locator("#lx-notes").inner_text()
    added = office.query(
        "SELECT count(*) FROM events WHERE type = 'note-added' AND actor = 'hand1' AND case_id = ?",
        [office.case_a],
    )
    assert added[0][0] == 1
    shot(page, "case-zh")
    page.goto(f"{office.url}/case/{office.case_a}?lang=en")
    assert "The report" in page.content() and "Timeline" in page.content()
    shot(page, "case-en")
    page.goto(f"{office.url}/case/{office.case_a}?lang=zh")
    page.select_option("#lx-outcome", "partly")  # 办结, the handler's own step
    with page.expect_navigation():
        page.click("#lx-conclude-save")
    assert page.locator("#lx-done").is_visible()
    assert "已办结" in page.locator("#lx-meta").inner_text()
    assert "部分属实" in page.locator("#lx-meta").inner_text()
    assert office.query("SELECT state, outcome FROM cases WHERE id = ?", [office.case_a]) == [
        ("concluded", "partly")
    ]
    assert page.locator("#lx-conclude-form").count() == 0  # no longer a step here


def test_another_units_handler_neither_sees_nor_opens_the_case(
    browser: Any, office: Office
) -> None:
    page = sign_in(new_page(browser, office), office, "hand2")
    assert page.url == office.url + "/work"
    assert page.locator(f"tr[data-case='{office.case_a}']").count() == 0
    assert "东山镇" not in page.locator("#lx-units").inner_text()
    response = page.goto(f"{office.url}/case/{office.case_a}")
    assert response.status == 403
    assert "您无权查看此案件" in page.locator("#lx-message").inner_text()
    assert "甲案" not in page.content()
    assert reads(office, "hand2", office.case_a) == 0
    shot(page, "cannot-open-zh")
    page.goto(f"{office.url}/case/{office.case_a}?lang=en")
    assert "You cannot open this case" in page.locator("#lx-message").inner_text()
    shot(page, "cannot-open-en")
    page.goto(f"{office.url}/work?lang=zh")
    held = [s.officer for s in office.sessions._sessions.values() if s.officer.id == "hand2"]
    cookies = page.context.cookies()
    session_cookie = next(c for c in cookies if c["name"] == "lx_session")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Strict"
    with page.expect_navigation():
        page.click("#lx-logout")
    assert page.url == office.url + "/login?why=out"
    assert "密钥已从内存中清除" in page.locator("#lx-notice").inner_text()
    assert len(held) == 1 and held[0].forgotten and "hand2" not in office.sessions.officers()
    page.context.add_cookies([session_cookie])  # the old cookie, kept: it opens nothing
    page.goto(f"{office.url}/case/{office.case_a}")
    assert page.url == office.url + "/login?why=need"
    page.context.close()


def test_forged_route_and_a_post_without_csrf_are_refused(office: Office) -> None:
    page = office.kept["hand1"]
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    forged = page.context.request.post(
        f"{office.url}/case/{office.case_b}/route",
        form={"csrf": csrf, "unit": "town.dongshan"},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "此操作未能完成" in forged.text() and "须由审批岗位的人员办理" in forged.text()
    state = office.query("SELECT state, unit FROM cases WHERE id = ?", [office.case_b])
    assert state == [("accepted", None)]
    notes = office.query("SELECT count(*) FROM notes WHERE case_id = ?", [office.case_a])
    bare = page.context.request.post(
        f"{office.url}/case/{office.case_a}/note", form={"text": "无令牌"}, max_redirects=0
    )
    assert bare.status == 403 and "表单已过期" in bare.text()
    assert office.query("SELECT count(*) FROM notes WHERE case_id = ?", [office.case_a]) == notes


def test_approver_routes_with_the_form_and_a_refusal_says_why(browser: Any, office: Office) -> None:
    page = sign_in(new_page(browser, office, LAPTOP), office, "appr")
    row = page.locator(f"#lx-for-me tr[data-case='{office.case_b}']")
    assert "分流" in row.inner_text()
    row.locator("a").click()
    page.wait_for_url(f"{office.url}/case/{office.case_b}")
    shot(page, "case-route-zh-laptop")
    page.select_option("#lx-route-unit", "town.xihe")
    page.fill("#lx-route-days", "20")
    with page.expect_navigation():
        page.click("#lx-route-save")
    assert page.locator("#lx-done").is_visible()
    assert office.query("SELECT state, unit FROM cases WHERE id = ?", [office.case_b]) == [
        ("in_progress", "town.xihe")
    ]
    assert page.locator("#lx-route-form").count() == 1  # rerouting stays possible
    page.fill("#lx-note-text", "   ")  # only blanks: the desk refuses, in words
    page.click("#lx-note-save")
    page.wait_for_selector("#lx-refused")
    assert "此操作未能完成" in page.locator("#lx-refused").inner_text()
    assert "请填写「内容」" in page.locator("#lx-refused").inner_text()
    shot(page, "refused-zh-laptop")
    page.goto(f"{office.url}/case/{office.case_b}?lang=en")
    assert "Assign to a unit" in page.locator("#lx-route-save").inner_text()
    shot(page, "case-route-en-laptop")
    page.goto(f"{office.url}/case/{office.case_b}?lang=zh")
    office.kept["appr"] = page


def test_an_idle_session_is_signed_out_and_its_keys_wiped(office: Office) -> None:
    page = office.kept["appr"]
    held = [s.officer for s in office.sessions._sessions.values() if s.officer.id == "appr"]
    assert len(held) == 1 and not held[0].forgotten
    office.clock.advance(IDLE - 5)
    page.goto(office.url + "/work")  # activity restarts the idle clock
    office.clock.advance(IDLE - 5)
    page.goto(office.url + "/work")
    assert page.url == office.url + "/work"
    office.clock.advance(IDLE + 1)
    page.goto(office.url + "/work")
    assert page.url == office.url + "/login?why=idle"
    assert "长时间未操作" in page.locator("#lx-notice").inner_text()
    assert held[0].forgotten
    assert "appr" not in office.sessions.officers()
    with pytest.raises(Exception, match="sign in again"):
        held[0].sign(b"x")
    shot(page, "idle-zh")
    page.context.close()


def test_the_fifth_wrong_passphrase_locks_the_account(browser: Any, office: Office) -> None:
    page = new_page(browser, office)
    for attempt in range(1, 5):
        sign_in(page, office, "reg", f"wrong passphrase {attempt}")
        assert "工号或口令不正确" in page.locator("#lx-error").inner_text()
    sign_in(page, office, "unknown.officer", "wrong passphrase")  # another account's count
    assert "工号或口令不正确" in page.locator("#lx-error").inner_text()
    sign_in(page, office, "reg", "wrong passphrase 5")
    assert "已暂时锁定" in page.locator("#lx-error").inner_text()
    sign_in(page, office, "reg")  # the right passphrase waits too
    assert "已暂时锁定" in page.locator("#lx-error").inner_text()
    assert "reg" not in office.sessions.officers()
    shot(page, "locked-zh")
    office.clock.advance(LOCK + 1)
    sign_in(page, office, "reg")
    assert page.url == office.url + "/work"
    assert "reg" in office.sessions.officers()
    page.context.close()


def both(page: Any, office: Office, path: str, name: str) -> None:
    """Screenshots of ``path`` in Chinese and English, desktop and laptop (back to Chinese)."""
    for lang in ("zh", "en"):
        page.goto(f"{office.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
            page.set_viewport_size(size)
            shot(page, f"{name}-{lang}{suffix}")
    page.goto(f"{office.url}{path}{'&' if '?' in path else '?'}lang=zh")
    page.set_viewport_size(DESKTOP)


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("#lx-logout")
    page.context.close()


def test_the_auditor_verifies_and_filters_the_read_and_event_logs(
    browser: Any, office: Office
) -> None:
    page = sign_in(new_page(browser, office), office, "aud")
    assert page.locator("#lx-nav-audit-verify").count() == 1
    page.click("#lx-nav-audit-verify")
    page.wait_for_url(office.url + "/audit/verify")
    assert page.locator("#lx-verdict").get_attribute("data-ok") == "1"
    assert "校验通过" in page.locator("#lx-verdict").inner_text()
    events = office.query("SELECT count(*) FROM events")[0][0]
    assert page.locator("#lx-verify dd[data-n=events]").inner_text() == str(events)
    both(page, office, "/audit/verify", "verify")
    page.goto(office.url + "/audit/verify?lang=en")
    assert "Verified: nothing found." in page.locator("#lx-verdict").inner_text()
    page.goto(office.url + "/audit/reads?lang=zh")
    rows = page.locator("#lx-reads tbody tr")
    logged = office.query("SELECT count(*) FROM events WHERE type = 'read'")[0][0]
    assert rows.count() == logged >= 1
    assert "案件页" in page.locator("#lx-reads").inner_text()
    page.select_option("#lx-f-officer", "hand1")
    page.fill("#lx-f-case", str(office.case_a))
    with page.expect_navigation():
        page.click("#lx-f-apply")
    assert f"case={office.case_a}" in page.url and "officer=hand1" in page.url
    assert rows.count() == reads(office, "hand1", office.case_a) >= 1
    assert "甲案" not in page.content()  # the log names the read, never the text
    both(page, office, f"/audit/reads?officer=hand1&case={office.case_a}", "reads")
    page.goto(office.url + "/audit/reads?officer=hand2")
    assert page.locator("#lx-empty").is_visible()  # hand2 read nothing
    page.goto(office.url + "/audit/reads?since=2026-11-25")
    assert page.locator("#lx-empty").is_visible()  # everything was read on the 24th
    page.goto(office.url + "/audit/events")
    rows = page.locator("#lx-events tbody tr")
    assert rows.count() == events
    seqs = [int(s) for s in rows.evaluate_all("rows => rows.map(r => r.dataset.seq)")]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    page.select_option("#lx-f-kind", "note-added")
    with page.expect_navigation():
        page.click("#lx-f-apply")
    assert rows.count() == 1 and "记录" in rows.inner_text()
    assert "已电话联系" not in page.content()  # a sealed note: its hash, not its text
    page.goto(office.url + f"/audit/events?case={office.case_b}&until=2026-11-24")
    assert rows.count() >= 3
    assert {t for t in rows.evaluate_all("rows => rows.map(r => r.dataset.type)")} >= {
        "received",
        "registered",
        "assigned",
    }
    both(page, office, f"/audit/events?case={office.case_b}", "events")
    response = page.goto(office.url + "/audit/events?since=24.11.2026")
    assert response.status == 400
    assert "筛选条件有误" in page.locator("#lx-message").inner_text()
    assert "--since" in page.content()
    response = page.goto(office.url + "/audit/events?case=9999")
    assert response.status == 400 and "9999" in page.content()
    shot(page, "events-bad-filter-zh")
    sign_out(page)


def test_other_roles_are_refused_the_audit_pages_in_words(browser: Any, office: Office) -> None:
    page = sign_in(new_page(browser, office), office, "hand1")
    assert page.locator("#lx-nav-audit-verify").count() == 0
    for path in ("/audit/verify", "/audit/reads", "/audit/events"):
        response = page.goto(office.url + path + "?lang=zh")
        assert response.status == 403, path
        assert "您的角色不能使用此页面" in page.locator("#lx-message").inner_text()
        assert "您没有这个角色" in page.content()
    shot(page, "audit-refused-zh")
    page.goto(office.url + "/audit/events?lang=en")
    assert "Your roles do not give access" in page.locator("#lx-message").inner_text()
    shot(page, "audit-refused-en")
    page.goto(office.url + "/work?lang=zh")
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "admin")
    response = page.goto(office.url + "/audit/verify")
    assert response.status == 200 and page.locator("#lx-verdict").get_attribute("data-ok") == "1"
    assert page.goto(office.url + "/audit/events").status == 200
    assert page.goto(office.url + "/audit/reads").status == 403  # the roles file: auditors only
    sign_out(page)


PAGE_FIGURES = """
[...document.querySelectorAll('table.figures')].map((t) => [
  t.dataset.section,
  t.querySelector('caption, h2') ? '' : t.closest('section').querySelector('h2').textContent,
  [...t.querySelectorAll('tbody tr')].map((r) => [
    r.querySelector('th').textContent,
    ...[...r.querySelectorAll('td')].map((d) => d.dataset.value),
  ]),
])
"""


def test_the_monthly_analysis_beside_two_months_and_its_xlsx(browser: Any, office: Office) -> None:
    import io

    import openpyxl

    page = sign_in(new_page(browser, office), office, "ana")
    page.click("#lx-nav-analysis")
    page.wait_for_url(office.url + "/analysis")
    assert page.locator("h1").inner_text() == "月分析 2026-11"  # the desk's month by default
    heads = page.locator("#lx-t-received thead th").all_inner_texts()
    assert heads == ["项目", "2026-11", "2026-10", "2025-11"]
    total = page.locator("#lx-t-received tr[data-code=total] td")
    assert total.all_inner_texts() == ["2", "1", "0"]  # two letters of the 24th, one of Oct.
    assert page.locator("#lx-chart-channel rect").count() == 3  # letters: three months
    assert "来信" in page.locator("#lx-chart-channel").inner_html()
    rates = page.locator("#lx-t-handling tr[data-code=on_time_rate] td").all_inner_texts()
    assert rates == ["100.0%", "—", "—"]  # case A concluded in time; nothing to divide by
    both(page, office, "/analysis?month=2026-11", "analysis")
    figures = page.evaluate(PAGE_FIGURES)
    download = page.context.request.get(office.url + "/analysis.xlsx?month=2026-11&lang=zh")
    assert download.status == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in download.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(download.body()))
    assert len(book.sheetnames) == len(figures) > 10  # one sheet per table
    for name, (section, head, lines) in zip(book.sheetnames, figures, strict=True):
        assert name == head[:31], section
        sheet = book[name]
        assert [c.value for c in sheet[1]] == ["项目", "2026-11", "2026-10", "2025-11"]
        cells = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
        assert len(cells) == len(lines), section
        for (label, *values), row in zip(lines, cells, strict=True):
            assert row[0] == label, section
            assert [None if v == "" else float(v) for v in values] == [
                None if c is None else float(c) for c in row[1:]
            ], (section, label)
    english = page.context.request.get(office.url + "/analysis.xlsx?month=2026-11&lang=en")
    assert "By channel" in openpyxl.load_workbook(io.BytesIO(english.body())).sheetnames
    page.fill("#lx-month", "2025-11")
    with page.expect_navigation():
        page.click("#lx-month-show")
    assert page.locator("h1").inner_text() == "月分析 2025-11"
    assert page.locator("#lx-t-received thead th").all_inner_texts()[1:] == [
        "2025-11",
        "2025-10",
        "2024-11",
    ]
    response = page.goto(office.url + "/analysis?month=2026-13")
    assert response.status == 400 and "月份有误" in page.locator("#lx-message").inner_text()
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "aud")
    assert page.locator("#lx-nav-analysis").count() == 0
    for path in ("/analysis", "/analysis.xlsx"):
        response = page.goto(office.url + path + "?lang=zh")
        assert response.status == 403 and "您的角色不能使用此页面" in page.content(), path
    sign_out(page)


def search_for(page: Any, **fields: str) -> None:
    for name, value in fields.items():
        if name in ("unit", "tag", "state"):
            page.select_option(f"#lx-s-{name}", value)
        else:
            page.fill(f"#lx-s-{name}", value)
    with page.expect_navigation():
        page.click("#lx-s-go")


def search_reads(office: Office, officer_id: str) -> list[int]:
    rows = office.query(
        "SELECT case_id FROM events WHERE type = 'read' AND actor = ?"
        " AND json_extract(data, '$.for') = 'search' ORDER BY case_id",
        [officer_id],
    )
    return [r[0] for r in rows]


def test_search_in_scope_opens_only_readable_reports(browser: Any, office: Office) -> None:
    page = sign_in(new_page(browser, office), office, "appr")
    page.click("#lx-nav-search")
    page.wait_for_url(office.url + "/search")
    search_for(page, words="甲案")
    assert page.url == office.url + "/search"  # the words are not in the address
    found = page.locator("#lx-found tbody tr")
    assert found.count() == 1 and found.get_attribute("data-case") == str(office.case_a)
    late = office.case_b + 1  # received in October, registered, never routed
    assert search_reads(office, "appr") == [office.case_a, office.case_b, late]  # all opened
    assert "3件举报" in page.locator("#lx-opened").inner_text()
    assert page.locator("#lx-s-words").input_value() == "甲案"  # the form keeps the query
    for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
        page.set_viewport_size(size)
        shot(page, f"search-zh{suffix}")
    page.goto(office.url + "/search?lang=en")
    search_for(page, person="刘某", state="in_progress")
    assert page.locator("#lx-found tbody tr").count() == 1  # B was routed: both in progress
    assert "were opened for this search" in page.locator("#lx-opened").inner_text()
    for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
        page.set_viewport_size(size)
        shot(page, f"search-en{suffix}")
    page.set_viewport_size(DESKTOP)
    page.goto(office.url + "/search?lang=zh")
    [(number,)] = office.query("SELECT number FROM cases WHERE id = ?", [office.case_b])
    before = len(search_reads(office, "appr"))
    search_for(page, number=number)
    assert page.locator("#lx-found tbody tr").get_attribute("data-case") == str(office.case_b)
    assert page.locator("#lx-opened").count() == 0 and len(search_reads(office, "appr")) == before
    page.goto(office.url + "/search")
    search_for(page, unit="town.xihe", since="2026-11-25")
    assert page.locator("#lx-found-n").inner_text() == "0"
    page.goto(office.url + "/search")
    search_for(page, since="2026-11-30", until="2026-11-01")
    assert "筛选条件有误" in page.locator("#lx-search-error").inner_text()
    bare = page.context.request.post(office.url + "/search", form={"words": "甲案"})
    assert bare.status == 403 and "表单已过期" in bare.text()
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "hand2")  # Xihe: case B only
    page.goto(office.url + "/search")
    search_for(page, words="甲案")
    assert page.locator("#lx-found-n").inner_text() == "0"
    assert search_reads(office, "hand2") == [office.case_b]  # A was never opened
    search_for(page, words="乙案")
    assert page.locator("#lx-found tbody tr").get_attribute("data-case") == str(office.case_b)
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "ana")  # analysts: no report text
    page.goto(office.url + "/search")
    search_for(page, state="in_progress")
    assert page.locator("#lx-found tbody tr").count() == 1
    search_for(page, words="甲案")
    assert "您的角色不能这样查询" in page.locator("#lx-search-error").inner_text()
    assert "您没有这个角色" in page.content() and search_reads(office, "ana") == []
    shot(page, "search-refused-zh")
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "aud")
    assert page.locator("#lx-nav-search").count() == 0
    assert page.goto(office.url + "/search").status == 403
    assert "您的角色不能使用此页面" in page.locator("#lx-message").inner_text()
    sign_out(page)


def test_ledgers_and_the_supervision_list_print(browser: Any, office: Office) -> None:
    page = sign_in(new_page(browser, office), office, "sup")
    page.click("#lx-nav-ledgers")
    page.wait_for_url(office.url + "/ledgers")
    row = page.locator("#lx-ledgers tr[data-tag=livelihood]")
    assert "民生" in row.inner_text() and row.locator("td").all_inner_texts()[:3] == ["1", "0", "1"]
    assert page.locator("#lx-print").is_visible()  # the desk's own script shows the button
    both(page, office, "/ledgers", "ledgers")
    page.locator("#lx-ledgers tr[data-tag=livelihood] a").click()
    page.wait_for_url(office.url + "/ledgers/livelihood")
    cases = page.locator("#lx-ledger tbody tr")
    assert cases.count() == 1 and cases.get_attribute("data-case") == str(office.case_a)
    assert "已清零" in page.locator("#lx-ledger-sum").inner_text()  # A was concluded
    assert "东山镇" in cases.inner_text()
    both(page, office, "/ledgers/livelihood", "ledger")
    page.emulate_media(media="print")
    assert not page.locator("#lx-print").is_visible()  # no controls on paper
    assert not page.locator("nav.pages").is_visible()
    page.pdf(path=str(ARTIFACTS / "ledger-zh.pdf"))
    page.emulate_media(media="screen")
    assert page.goto(office.url + "/ledgers/no_such_tag").status == 404
    page.click("#lx-nav-supervision")
    page.wait_for_url(office.url + "/supervision")
    desk = make_desk(office.db_path, DAY, officer="sup")
    try:
        flagged = compute_warnings(desk).flagged
    finally:
        desk.close()
    shown = page.locator("section.sheet tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.case))"
    )
    assert sorted(shown) == sorted(f.case_id for f in flagged)
    assert [(f.case_id, f.colour) for f in flagged] == [(office.case_b + 1, "red")]
    assert page.locator("section.sheet").count() == 1  # one unit (not yet routed)
    sheet = page.locator("section.sheet").first.inner_text()
    assert "钱督办" in sheet and "登记分流" in sheet and "超期" in sheet  # issued by; stage
    both(page, office, "/supervision", "supervision")
    page.emulate_media(media="print")
    page.pdf(path=str(ARTIFACTS / "supervision-zh.pdf"))
    page.emulate_media(media="screen")
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "hand1")
    for path in ("/ledgers", "/ledgers/livelihood", "/supervision"):
        response = page.goto(office.url + path + "?lang=zh")
        assert response.status == 403, path
        assert "您的角色不能使用此页面" in page.locator("#lx-message").inner_text()
    page.goto(office.url + "/supervision?lang=en")
    assert "Your roles do not give access" in page.locator("#lx-message").inner_text()
    page.goto(office.url + "/work?lang=zh")
    sign_out(page)


def test_an_officer_turns_on_one_time_codes_and_signs_in_with_them(
    browser: Any, office: Office
) -> None:
    import pyotp

    from lianxin.domain.workdays import FixedClock

    at = FixedClock(DAY).now()  # the desk's clock (the test store's fixed day)
    page = sign_in(new_page(browser, office), office, "ana")
    page.click("#lx-nav-account")
    page.wait_for_url(office.url + "/account")
    assert page.locator("#lx-totp-state").get_attribute("data-on") == "0"
    secret = page.locator("#lx-totp-secret").inner_text().replace(" ", "")
    assert page.locator("#lx-totp-uri").inner_text().startswith("otpauth://totp/")
    both(page, office, "/account", "account")
    page.fill("#lx-totp-on-code", "000000" if pyotp.TOTP(secret).at(at) != "000000" else "1")
    page.click("#lx-totp-on-save")
    page.wait_for_selector("#lx-refused")  # a wrong first code: nothing enrolled
    page.goto(office.url + "/account")
    assert page.locator("#lx-totp-secret").inner_text().replace(" ", "") == secret  # kept
    page.fill("#lx-totp-on-code", pyotp.TOTP(secret).at(at))
    with page.expect_navigation():
        page.click("#lx-totp-on-save")
    assert page.locator("#lx-totp-state").get_attribute("data-on") == "1"
    [(data,)] = office.query("SELECT data FROM events WHERE type = 'totp-enrolled'")
    assert secret not in data and "sealed" in data  # stored sealed to the officer only
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "ana")
    assert page.url == office.url + "/login" and page.locator("#lx-code").is_visible()
    assert "ana" not in office.sessions.officers()  # no session before the code
    for lang in ("zh", "en"):
        page.goto(f"{office.url}/login/totp?lang={lang}")
        for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
            page.set_viewport_size(size)
            shot(page, f"totp-{lang}{suffix}")
    assert "six-digit code" in page.locator("main").inner_text()
    page.goto(f"{office.url}/login/totp?lang=zh")
    page.set_viewport_size(DESKTOP)
    page.fill("#lx-code", "123456" if pyotp.TOTP(secret).at(at) != "123456" else "654321")
    with page.expect_navigation():
        page.click("#lx-code-go")
    assert "动态码不正确" in page.locator("#lx-error").inner_text()
    page.fill("#lx-code", pyotp.TOTP(secret).at(at))
    with page.expect_navigation():
        page.click("#lx-code-go")
    assert page.url == office.url + "/work" and "ana" in office.sessions.officers()
    signed = office.query(
        "SELECT json_extract(data, '$.second_factor') FROM events"
        " WHERE type = 'signed-in' AND actor = 'ana' ORDER BY seq DESC LIMIT 1"
    )
    assert signed == [(1,)]
    page.goto(office.url + "/account")
    page.fill("#lx-totp-off-code", pyotp.TOTP(secret).at(at))
    with page.expect_navigation():
        page.click("#lx-totp-off-save")
    assert page.locator("#lx-totp-state").get_attribute("data-on") == "0"
    sign_out(page)
    page = sign_in(new_page(browser, office), office, "ana")
    assert page.url == office.url + "/work"  # off again: the passphrase alone
    sign_out(page)


def test_sign_ins_and_outs_are_signed_events_that_verify(browser: Any, office: Office) -> None:
    outs = dict(
        office.query(
            "SELECT json_extract(data, '$.why'), count(*) FROM events"
            " WHERE type = 'signed-out' GROUP BY 1"
        )
    )
    assert outs["sign-out"] >= 10 and outs["idle"] >= 1  # the approver's and hand1's idling
    ins = office.query("SELECT count(*) FROM events WHERE type = 'signed-in'")[0][0]
    assert ins > outs["sign-out"] + outs["idle"]  # some sessions are still open
    failed = office.query("SELECT count(*) FROM events WHERE type LIKE '%fail%'")
    assert failed == [(0,)]  # failures stay in the server's log
    page = sign_in(new_page(browser, office), office, "aud")
    page.goto(office.url + "/audit/verify")
    assert page.locator("#lx-verdict").get_attribute("data-ok") == "1"
    page.goto(office.url + "/audit/events?kind=signed-in&officer=ana")
    assert page.locator("#lx-events tbody tr").count() == 5  # analysis, search, 3 here
    assert "登录与退出" in page.locator("#lx-events").inner_text()
    sign_out(page)


def test_no_request_left_the_origin_and_nothing_broke(office: Office) -> None:
    assert office.requests
    foreign = [u for u in office.requests if not u.startswith(office.url + "/")]
    assert foreign == []
    assert office.violations == []
    assert office.page_errors == []


def test_stopping_the_server_wipes_every_session(office: Office) -> None:
    held = [s.officer for s in office.sessions._sessions.values()]
    assert [o.id for o in held] == ["reg"]  # hand1 idled out with the approver
    office.stop()
    assert not office.thread.is_alive()
    assert len(office.sessions) == 0
    assert all(o.forgotten for o in held)
