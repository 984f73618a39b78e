"""Intake, registration, screening and approval in real headless Chromium (issue 14).

A test office holds an earlier registered letter E (about the same person and matter), a case
N registered and waiting, and a case X assigned with a hand-set deadline. The steps run in file
order and share one server (``lianxin desk serve``'s, on a loopback port, the day fixed):

1. the registrar takes in a letter with the intake form → the slip page shows the token once
   (print CSS hides everything else); the token is nowhere in the store or the log; an
   anonymous report with a name is refused in Chinese and the form keeps what was typed;
2. the registrar registers it with a problem type, a tag and the duplicates finder's
   suggestion (E), then screens it with a proposal;
3. a handler has no approve button (and cannot open the case); the registrar has none either;
   a forged approval POST is refused in words, and one without the CSRF token too: nothing
   changed;
4. the approver sees the proposal, a return without a reason is refused in Chinese, then
   approves; a step the lifecycle does not allow is refused in Chinese or English, not a code;
5. the approver does not accept N and extends X with the forms;
6. no request left the origin, no CSP violation, no page error.

Screenshots of the new pages in Chinese and English, desktop and 1366×768, go to
test-artifacts/deskweb-intake/ (git-ignored).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from conftest import ROOT, free_port
from desk_support import intake_letter, make_desk, new_store, unlocked
from test_browser_deskweb import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    FORM,
    LAPTOP,
    UNLABELLED,
    Office,
    _app_state,
    new_page,
    sign_in,
)

from desk.deadlines import Manual
from desk.officekeys import load_office_keys
from desk.register import register
from desk.routing import Route, route
from deskweb.desks import WebSettings
from deskweb.serve import server_config
from deskweb.sessions import ManualClock
from lianxin.keys import init_keys

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "deskweb-intake"
DAY = date(2026, 11, 24)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,}$")


def _cases(db_path: Path, keys_dir: Path) -> dict[str, int]:
    keys = load_office_keys(keys_dir)
    desk = make_desk(db_path, DAY, officer="reg", keys_dir=keys_dir)
    try:
        e = intake_letter(desk, keys, "").case_id  # 刘某, 村道工程验收收受好处
        register(desk, e, FORM, keys)
        n = intake_letter(desk, keys, "另案", title="学校食堂承包", text="反映学校食堂承包问题。")
        register(desk, n.case_id, FORM, keys)
        x = intake_letter(desk, keys, "延期案", title="集体土地补偿", text="反映征地补偿款。")
        register(desk, x.case_id, FORM, keys)
        f = intake_letter(desk, keys, "转办案", title="河道采砂", text="反映河道非法采砂。")
        register(desk, f.case_id, FORM, keys)
        desk.officer = unlocked("appr")
        manual = Manual.parse(10, "working")
        route(desk, x.case_id, Route("assign", unit="town.dongshan", manual=manual))
    finally:
        desk.close()
    return {"E": e, "N": n.case_id, "X": x.case_id, "F": f.case_id}


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium fonts-noto-cjk")
    root = tmp_path_factory.mktemp("deskweb-intake")
    init_keys(root / "keys")
    db_path = new_store(root / "lianxin.sqlite")
    cases = _cases(db_path, root / "keys")
    clock = ManualClock()
    settings = WebSettings(db=db_path, today=DAY, monotonic=clock)
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
    o = Office(db_path, f"http://127.0.0.1:{port}", server, thread, clock, sessions, 0, 0)
    o.kept.update(cases)
    try:
        yield o
    finally:
        o.stop()


@pytest.fixture(scope="module")
def browser(office: Office) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def shot(page: Any, name: str) -> None:
    """A full-page screenshot; every control on the page has a label."""
    assert page.evaluate(UNLABELLED) == [], name
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def both(page: Any, office: Office, path: str, name: str) -> None:
    """Screenshots of ``path`` in Chinese and English, desktop and laptop (back to Chinese)."""
    for lang in ("zh", "en"):
        page.goto(f"{office.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        for size, suffix in ((DESKTOP, ""), (LAPTOP, "-laptop")):
            page.set_viewport_size(size)
            shot(page, f"{name}-{lang}{suffix}")
    page.goto(f"{office.url}{path}{'&' if '?' in path else '?'}lang=zh")
    page.set_viewport_size(DESKTOP)


def one(office: Office, sql: str, params: list[Any]) -> tuple[Any, ...]:
    rows = office.query(sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def fill_letter(page: Any, *, real_name: bool) -> None:
    page.select_option("#lx-channel", "letter")
    page.fill("#lx-title", "村道工程验收收受好处")
    page.fill("#lx-text", "反映东山镇村道硬化工程验收中，副镇长刘某收受施工方好处费。再次来信。")
    page.fill("#lx-reported-name", "刘某")
    page.fill("#lx-reported-unit", "东山镇人民政府")
    page.select_option("#lx-rank", "township_section")
    page.select_option("#lx-region", "town.dongshan")
    page.select_option("#lx-problem", "legal.embezzlement_bribery")
    page.check("#lx-real-name" if real_name else "#lx-anonymous")
    page.fill("#lx-name", "陈某")
    page.fill("#lx-contact", "0000-0000002")


def test_registrar_takes_in_a_letter_and_prints_the_slip(
    browser: Any, office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page = sign_in(new_page(browser, office), office, "reg")
    page.click("#lx-nav-intake")
    page.wait_for_url(office.url + "/intake")
    options = page.locator("#lx-channel option").all_inner_texts()
    assert "来信" in options and "网络举报" not in options  # names, never codes
    assert page.locator("#lx-problem optgroup[label='涉法行为（违法犯罪）'] option").count() >= 1
    both(page, office, "/intake", "intake-form")
    before = one(office, "SELECT count(*) FROM cases", [])[0]
    fill_letter(page, real_name=False)  # anonymous, yet with a name: the desk refuses
    with page.expect_navigation():
        page.click("#lx-intake-save")
    refusal = page.locator("#lx-refused").inner_text()
    assert "匿名举报不填写举报人身份" in refusal and "--" not in refusal
    assert page.input_value("#lx-title") == "村道工程验收收受好处"  # nothing typed is lost
    assert one(office, "SELECT count(*) FROM cases", [])[0] == before
    shot(page, "intake-refused-zh")
    page.check("#lx-real-name")
    with page.expect_navigation():
        page.click("#lx-intake-save")
    token = page.locator("#lx-token").inner_text().strip()
    assert TOKEN.match(token), token
    assert "离开本页后查询码无法再次显示" in page.locator("#lx-done").inner_text()
    assert "来信" in page.locator("#lx-slip").inner_text()
    case_id = one(office, "SELECT max(id) FROM cases", [])[0]
    assert case_id == before + 1 and f"#{case_id}" in page.locator("#lx-slip").inner_text()
    assert one(office, "SELECT state, channel FROM cases WHERE id = ?", [case_id]) == (
        "received",
        "letter",
    )
    assert one(office, "SELECT count(*) FROM tokens WHERE case_id = ?", [case_id])[0] == 1
    shot(page, "slip-zh")
    page.set_viewport_size(LAPTOP)
    shot(page, "slip-zh-laptop")
    page.set_viewport_size(DESKTOP)
    page.emulate_media(media="print")
    assert not page.locator("header.bar").is_visible()
    assert not page.locator("#lx-done").is_visible() and page.locator("#lx-token").is_visible()
    page.pdf(path=str(ARTIFACTS / "slip-zh.pdf"))
    page.emulate_media(media="screen")
    stored = office.db_path.read_bytes()
    for suffix in ("-wal", "-journal"):
        extra = office.db_path.with_name(office.db_path.name + suffix)
        stored += extra.read_bytes() if extra.exists() else b""
    assert token.encode() not in stored  # never stored ...
    assert token not in caplog.text  # ... nor logged
    with page.expect_navigation():
        page.reload()  # the browser sends the form again: no second case, no code
    assert f"#{case_id}" in page.locator("#lx-again").inner_text()
    assert token not in page.content()
    assert one(office, "SELECT count(*) FROM cases", [])[0] == case_id
    cached = page.context.request.get(office.url + "/intake")
    assert cached.headers["cache-control"] == "no-store"
    office.kept["C"] = case_id
    office.kept["reg"] = page


def test_the_slip_in_english(browser: Any, office: Office) -> None:
    page = sign_in(new_page(browser, office, LAPTOP), office, "reg")
    page.goto(office.url + "/intake?lang=en")
    fill_letter(page, real_name=False)
    with page.expect_navigation():
        page.click("#lx-intake-save")
    refusal = page.locator("#lx-refused").inner_text()
    assert "An anonymous report carries no identity" in refusal and "--" not in refusal
    shot(page, "intake-refused-en-laptop")
    page.check("#lx-real-name")
    page.fill("#lx-title", "A second letter")
    page.fill("#lx-text", "About something else entirely.")
    with page.expect_navigation():
        page.click("#lx-intake-save")
    assert "Report tracking slip" in page.locator("#lx-slip").inner_text()
    assert "cannot be shown again" in page.locator("#lx-done").inner_text()
    shot(page, "slip-en-laptop")
    page.set_viewport_size(DESKTOP)
    shot(page, "slip-en")
    page.context.close()


def test_registrar_registers_with_a_problem_type_tag_and_the_suggested_repeat(
    office: Office,
) -> None:
    page, c, e = office.kept["reg"], office.kept["C"], office.kept["E"]
    with page.expect_navigation():
        page.click("#lx-slip-register")
    assert page.url == f"{office.url}/case/{c}/register"
    # the report's own fields are the starting point; every choice is a name from the lists
    assert page.locator("#lx-problem option:checked").inner_text() == "贪污贿赂"
    assert page.locator("#lx-region option:checked").inner_text() == "东山镇"
    assert page.locator("#lx-real-name option:checked").inner_text() == "署名（未核实）"
    assert page.locator("#lx-repeats input[type=radio]").count() == 0  # not until asked
    reads = one(office, "SELECT count(*) FROM events WHERE type = 'read' AND case_id = ?", [e])
    with page.expect_navigation():
        page.click("#lx-find-repeats")
    repeats = page.locator("#lx-repeats").inner_text()
    assert "2026-000001" in repeats and "同一被反映人" in repeats  # the duplicates finder
    assert one(office, "SELECT count(*) FROM events WHERE type = 'read' AND case_id = ?", [e]) == (
        reads[0] + 1,
    )  # comparing opened E's report: a logged read
    both(page, office, f"/case/{c}/register?repeats=1", "register")
    page.select_option("#lx-item-type", "accusation")
    page.select_option("#lx-real-name", "verified")
    page.check("#lx-tags input[value=livelihood]")
    page.check(f"#lx-repeats input[value='{e}']")
    with page.expect_navigation():
        page.click("#lx-register-save")
    assert page.url == f"{office.url}/case/{c}?done=1"
    number, state, repeat_of, problem = one(
        office, "SELECT number, state, repeat_of, problem_subtype FROM cases WHERE id = ?", [c]
    )
    assert (state, repeat_of, problem) == ("accepted", e, "legal.embezzlement_bribery")
    assert number.startswith("2026-")
    tags = office.query("SELECT tag FROM case_tags WHERE case_id = ?", [c])
    assert tags == [("livelihood",)]
    assert "民生" in page.locator("#lx-meta").inner_text()
    assert page.locator("#lx-register-link").inner_text() == "更正登记"
    page.goto(f"{office.url}/case/{c}/register")  # correcting: starts from the registration
    assert page.input_value("#lx-repeat-other") == "2026-000001"
    assert page.locator("#lx-real-name option:checked").inner_text() == "实名（已核实）"
    assert page.is_checked("#lx-tags input[value=livelihood]")
    page.goto(f"{office.url}/case/{c}")
    assert page.locator("#lx-approve-form").count() == 0  # a registrar does not approve
    both(page, office, f"/case/{c}", "case-screen")
    page.select_option("#lx-propose", "assign")
    page.select_option("#lx-screen-unit", "town.dongshan")
    page.select_option("#lx-disposition", "preliminary_check")
    page.fill("#lx-opinion", "拟交东山镇纪委初步核实。")
    with page.expect_navigation():
        page.click("#lx-screen-save")
    assert one(office, "SELECT phase, proposal FROM cases WHERE id = ?", [c]) == (
        "screened",
        "assign",
    )
    assert page.locator("#lx-screen-form").count() == 0  # screened: waits for approval
    assert page.locator("#lx-approve-form").count() == 0


def test_a_handler_has_no_approve_button_and_a_forged_approval_is_refused(
    browser: Any, office: Office
) -> None:
    c = office.kept["C"]
    page = sign_in(new_page(browser, office), office, "hand1")
    assert page.locator("#lx-nav-intake").count() == 0
    page.goto(f"{office.url}/case/{c}")
    assert page.locator("#lx-approve-form").count() == 0
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    forged = page.context.request.post(
        f"{office.url}/case/{c}/approve",
        form={"csrf": csrf, "decision": "approve", "text": ""},
        max_redirects=0,
    )
    assert forged.status == 403
    assert "「审批」须由审批岗位的人员办理，您没有这个角色。" in forged.text()
    assert "--officer" not in forged.text() and "role_needed" not in forged.text()
    bare = page.context.request.post(
        f"{office.url}/case/{c}/approve", form={"decision": "approve"}, max_redirects=0
    )
    assert bare.status == 403 and "表单已过期" in bare.text()
    intake = page.context.request.post(
        f"{office.url}/intake", form={"csrf": csrf, "channel": "letter"}, max_redirects=0
    )
    assert intake.status == 400 and "须由受理岗位的人员办理" in intake.text()
    assert one(office, "SELECT phase FROM cases WHERE id = ?", [c]) == ("screened",)
    page.context.close()


def test_the_approver_approves_and_refusals_are_in_words(browser: Any, office: Office) -> None:
    c = office.kept["C"]
    page = sign_in(new_page(browser, office, LAPTOP), office, "appr")
    page.goto(f"{office.url}/case/{c}")
    assert "交办承办单位" in page.locator("#lx-proposal").inner_text()
    both(page, office, f"/case/{c}", "case-approve")
    with page.expect_navigation():
        page.click("#lx-approve-return")  # returning needs a reason
    refusal = page.locator("#lx-refused").inner_text()
    assert "请填写「理由」。" in refusal, refusal
    shot(page, "approve-refused-zh")
    assert one(office, "SELECT phase FROM cases WHERE id = ?", [c]) == ("screened",)
    page.goto(f"{office.url}/case/{c}")
    page.fill("#lx-approve-text", "同意。")
    with page.expect_navigation():
        page.click("#lx-approve-save")
    assert page.locator("#lx-done").is_visible()
    assert one(office, "SELECT phase FROM cases WHERE id = ?", [c]) == ("approved",)
    assert page.locator("#lx-approve-form").count() == 0
    assert page.locator("#lx-route-form").count() == 1
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    for lang, words in (
        ("zh", "现在不能办理「延期」：它的状态是“已受理（已审批）”。此案件现在可以办理的步骤："),
        ("en", "cannot take the step “Extend” now: it is accepted (proposal approved)."),
    ):
        page.goto(f"{office.url}/work?lang={lang}")
        refused = page.context.request.post(
            f"{office.url}/case/{c}/extend",
            form={"csrf": csrf, "reason": "需要补充调查"},
            max_redirects=0,
        )
        assert refused.status == 403 and words in refused.text(), refused.text()
        page.set_content(refused.text())
    page.goto(f"{office.url}/work?lang=zh")
    office.kept["appr"] = page


def test_the_approver_does_not_accept_one_case_and_extends_another(office: Office) -> None:
    page, n, x = office.kept["appr"], office.kept["N"], office.kept["X"]
    page.goto(f"{office.url}/case/{n}")
    assert page.locator("#lx-extend-form").count() == 0  # not in progress: no extension
    page.fill("#lx-not-accepted-reason", "反映的问题不属于本机关受理范围。")
    with page.expect_navigation():
        page.click("#lx-not-accepted-save")
    assert one(office, "SELECT state FROM cases WHERE id = ?", [n]) == ("not_accepted",)
    assert page.locator("#lx-not-accepted-form").count() == 0
    due = one(office, "SELECT due_date FROM cases WHERE id = ?", [x])[0]
    both(page, office, f"/case/{x}", "case-extend")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    typed = page.context.request.post(  # what a number field would not send
        f"{office.url}/case/{x}/extend",
        form={"csrf": csrf, "reason": "需要调取银行流水。", "days": "十"},
        max_redirects=0,
    )
    assert typed.status == 400 and "「天数」请填写整数天数。" in typed.text()
    assert one(office, "SELECT due_date FROM cases WHERE id = ?", [x])[0] == due
    page.fill("#lx-extend-reason", "需要调取银行流水。")
    page.fill("#lx-extend-days", "10")
    with page.expect_navigation():
        page.click("#lx-extend-save")
    assert page.locator("#lx-done").is_visible()
    later, extensions = one(office, "SELECT due_date, extensions FROM cases WHERE id = ?", [x])
    assert later > due and extensions == 1
    f, c = office.kept["F"], office.kept["C"]
    page.goto(f"{office.url}/case/{f}")
    both(page, office, f"/case/{f}", "case-route-other")
    page.select_option("#lx-forward-to", "external.natural_resources")
    with page.expect_navigation():
        page.click("#lx-forward-save")  # this policy sets no deadline: the days are needed
    said = page.locator("#lx-refused").inner_text()
    assert "请填写办理期限的天数（工作日）。" in said, said
    page.goto(f"{office.url}/case/{f}")
    page.select_option("#lx-forward-to", "external.natural_resources")
    page.fill("#lx-forward-days", "15")
    with page.expect_navigation():
        page.click("#lx-forward-save")
    assert one(office, "SELECT state, forwarded_to FROM cases WHERE id = ?", [f]) == (
        "forwarded",
        "external.natural_resources",
    )
    page.goto(f"{office.url}/case/{c}")  # approved to be assigned: handling it directly is not
    page.select_option("#lx-direct-unit", "town.xihe")
    with page.expect_navigation():
        page.click("#lx-direct-save")
    said = page.locator("#lx-refused").inner_text()
    assert "审批同意的拟办意见是「交办」（请照此办理，或重新甄别）" in said, said
    assert one(office, "SELECT state FROM cases WHERE id = ?", [c]) == ("accepted",)
    shot(page, "route-refused-zh")
    page.context.close()


def test_no_request_left_the_origin_and_nothing_broke(office: Office) -> None:
    assert office.requests and all(u.startswith(office.url) for u in office.requests)
    assert office.violations == []
    assert office.page_errors == []
