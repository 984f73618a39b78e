"""The submit and status pages in real headless Chromium, end to end (issue 5).

A gateway runs on loopback with ``--portal-origin`` set to the site's origin; the site is
published into a temporary folder and served on loopback (publisher/serve.py). The steps run in
file order and share one portal:

1. the form is filled and sent (anonymous in Chinese on a phone-sized screen, then real-name with
   an attachment in English) → the token is shown;
2. the desk opens, registers and answers the anonymous case; the publisher rebuilds;
3. the status page with the token shows the answer; a token with one wrong character is refused
   without any request; a valid unknown token is "not found", calmly;
4. "not satisfied" with a comment → the desk's inbox has the follow-up on the right case;
5. the gateway is down while sending → a message in words, the typed text still there, and
   "Try again" works once the gateway is back.

Every page records its requests: at the end, none may have gone to an origin other than the
site's and the gateway's, and no page may have hit its Content-Security-Policy. Screenshots of
every step go to test-artifacts/browser/ (git-ignored). Debian's /usr/bin/chromium is launched
by path; no browser is downloaded.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, GatewayProcess, free_port
from desk_support import make_desk

from desk.answers import conclude
from desk.deadlines import Manual
from desk.inbox import mark_opened, read_inbox
from desk.officekeys import load_office_keys
from desk.register import Registration, register
from desk.routing import Route, route
from lianxin.keys import group_fingerprint, init_keys, load_keyring
from lianxin.protocol import Token
from lianxin.status import read_status
from lianxin.tlog.tiles import tile_path
from publisher.build import PublishSettings, publish
from publisher.serve import make_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# The office's day for the gateway, the desk and the publisher: the test does not depend on the
# day it runs (a year without holiday data, a gateway ahead of the desk across midnight).
DAY = date(2026, 11, 24)
ANSWER_TEXT = "经查，反映的问题部分属实，已责令退还款项并给予诫勉谈话。"
COMMENT = "款项至今没有退还，请再次核查。"


@dataclass
class Portal:
    """A published site and a gateway, both on loopback, and what the browser did."""

    root: Path
    keys_dir: Path
    db_path: Path
    site_dir: Path
    site_url: str
    gateway: GatewayProcess
    requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)

    def publish(self) -> None:
        publish(
            PublishSettings(
                self.db_path, self.keys_dir, self.site_dir, DAY, gateway_url=self.gateway.url
            )
        )


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium fonts-noto-cjk")
    root = tmp_path_factory.mktemp("portal")
    init_keys(root / "keys")
    site_dir = root / "site"
    site_dir.mkdir()
    server = make_server(site_dir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{server.server_address[1]}"
    gateway = GatewayProcess(
        db_path=root / "lianxin.sqlite",
        keys_dir=root / "keys",
        port=free_port(),
        log_path=root / "gateway.log",
        extra_args=["--portal-origin", site_url, "--today", DAY.isoformat()],
    ).start()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    p = Portal(root, root / "keys", root / "lianxin.sqlite", site_dir, site_url, gateway)
    p.publish()
    try:
        yield p
    finally:
        gateway.stop()
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(portal: Portal) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def open_page(browser: Any, portal: Portal, path: str, *, phone: bool = True) -> Any:
    """A new page in its own context, with every request and CSP violation recorded."""
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, accept_downloads=True)
    context.on("request", lambda request: portal.requests.append(request.url))
    context.on(
        "response",
        lambda r: portal.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    context.expose_function("lxViolation", lambda text: portal.violations.append(text))
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "window.lxViolation(`${location.pathname}: ${e.violatedDirective} ${e.blockedURI}`))"
    )
    page = context.new_page()
    page.on("pageerror", lambda error: portal.page_errors.append(str(error)))
    page.goto(portal.site_url + path)
    return page


UNLABELLED = """
[...document.querySelectorAll('.lx input, .lx select, .lx textarea, .lx button, .lx fieldset')]
  .filter((el) => el.tagName === 'FIELDSET'
    ? !el.querySelector(':scope > legend')
    : !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
  .map((el) => el.id || el.outerHTML.slice(0, 80))
"""


def assert_labelled(page: Any) -> None:
    """Every control of the page's forms has a label, every fieldset a legend."""
    assert page.evaluate(UNLABELLED) == []


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def close(page: Any) -> None:
    page.context.close()


def wait_ready(page: Any) -> None:
    """The page has loaded libsodium and verified the published keys."""
    page.wait_for_selector("#lx-keyinfo:not([hidden])")
    page.wait_for_selector("#lx-limits:has-text('10')")


def fill_report(page: Any, *, real_name: bool, marker: str) -> None:
    page.check("#lx-mode-real" if real_name else "#lx-mode-anonymous")
    if real_name:
        page.fill("#lx-identity-name", "李四")
        page.fill("#lx-identity-contact", "13800000000")
    page.fill("#lx-reported-name", "王某某")
    page.fill("#lx-reported-unit", "某县住建局")
    page.fill("#lx-reported-post", "科长")
    page.select_option("#lx-rank", "township_section")
    page.select_option("#lx-region", "town.dongshan")
    page.select_option("#lx-category", "legal")
    page.select_option("#lx-subtype", "legal.embezzlement_bribery")
    page.fill("#lx-title", f"工程款问题 {marker}")
    page.fill("#lx-text", f"反映某科长在工程验收中收受好处。{marker}\n第二段。")
    page.check("#lx-acknowledge")


def shown_token(page: Any) -> str:
    page.wait_for_selector("#lx-result:not([hidden]) .lx-token")
    assert_no_stray_values(page.inner_text("#lx-result"))
    text = page.inner_text("#lx-result .lx-token")
    return re.sub(r"\s+", "", text)


def assert_below_the_header(page: Any, *selectors: str) -> None:
    """Each element is in the viewport and not under Material's sticky header."""
    header = page.evaluate("document.querySelector('.md-header').getBoundingClientRect().bottom")
    height = page.evaluate("innerHeight")
    for selector in selectors:
        box = page.evaluate(
            "s => { const r = document.querySelector(s).getBoundingClientRect();"
            " return [r.top, Math.min(r.bottom, r.top + 60)]; }",
            selector,
        )
        assert header <= box[0] and box[1] <= height, (selector, header, box, height)


def assert_no_stray_values(text: str) -> None:
    """No JavaScript value leaked into the words of a page."""
    assert not re.search(r"\b(null|undefined|false|true|NaN)\b|\[object", text), text


# --- 1. submitting ---------------------------------------------------------------------------


def test_1_submit_anonymous_in_chinese_on_a_phone(browser: Any, portal: Portal) -> None:
    page = open_page(browser, portal, "/submit/")
    wait_ready(page)
    office = load_keyring(portal.keys_dir).current_office
    # The key check is a closed "verify" disclosure in plain words; the fingerprint is inside.
    keyinfo = page.locator("#lx-keyinfo")
    assert keyinfo.evaluate("e => e.tagName") == "DETAILS" and not keyinfo.get_attribute("open")
    assert page.inner_text("#lx-keyinfo summary") == "核对加密密钥（可选）"
    assert group_fingerprint(office.fingerprint) not in page.inner_text("#lx-keyinfo")
    page.click("#lx-keyinfo summary")
    assert group_fingerprint(office.fingerprint) in page.inner_text("#lx-keyinfo")
    assert "不核对也可以放心提交" in page.inner_text("#lx-keyinfo")
    assert page.is_hidden("#lx-identity")
    assert_labelled(page)
    shot(page, "1-submit-form-zh")

    page.click("#lx-send")  # nothing filled in: the summary lists every problem, with links
    summary = page.locator("#lx-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "lx-summary"
    assert summary.locator("a").count() >= 6
    assert page.get_attribute("#lx-title", "aria-invalid") == "true"
    shot(page, "1-submit-errors-zh")
    summary.locator("a[href='#lx-title']").click()
    assert page.evaluate("document.activeElement.id") == "lx-title"
    # Fixing a field clears its message at once, not at the next send.
    page.fill("#lx-title", "标题")
    assert page.get_attribute("#lx-title", "aria-invalid") is None
    assert page.locator("#lx-title-error").count() == 0
    assert summary.locator("a[href='#lx-title']").count() == 0 and summary.is_visible()
    page.fill("#lx-title", "")  # emptied again: stays clear until the next send

    fill_report(page, real_name=False, marker="A")
    page.click("#lx-send")
    token = shown_token(page)
    Token.parse(token)  # well formed, check character right
    assert page.evaluate("document.activeElement.id") == "lx-result"
    assert_below_the_header(page, "#lx-result h2", "#lx-result .lx-token")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#lx-result").get_by_role("button", name="复制查询码").click()
    page.wait_for_selector("#lx-result >> text=查询码已复制")
    assert page.evaluate("navigator.clipboard.readText()") == token
    page.evaluate("document.documentElement.classList.add('lx-print-result')")
    page.emulate_media(media="print")  # what "Print" prints: the token and the advice only
    assert page.is_visible("#lx-result .lx-token") and page.is_hidden("#lx-form")
    assert not page.is_visible(".md-header") and not page.is_visible("#lx-keyinfo")
    page.emulate_media(media="screen")
    assert page.input_value("#lx-title") == ""  # delivered: nothing left on a shared screen
    with page.expect_download() as download:
        page.locator("#lx-result").get_by_role("button", name="下载回执").click()
    receipt = json.loads(Path(download.value.path()).read_text())
    assert receipt["kind"] == "report" and re.fullmatch(r"[0-9a-f]{64}", receipt["receipt_id"])
    assert token not in json.dumps(receipt)
    stored = page.evaluate("JSON.stringify([localStorage, sessionStorage, document.cookie])")
    assert token not in stored and token.replace("-", "") not in stored
    shot(page, "1-submit-token-zh")
    portal.shared["anonymous"] = token
    close(page)


def test_1_submit_real_name_with_attachment_in_english(browser: Any, portal: Portal) -> None:
    page = open_page(browser, portal, "/en/submit/", phone=False)
    wait_ready(page)
    page.check("#lx-mode-real")
    assert page.is_visible("#lx-identity-name")
    fill_report(page, real_name=True, marker="B")
    evidence = b"%PDF-1.4 evidence " * 100
    page.set_input_files(
        "#lx-files", files=[{"name": "收据.pdf", "mimeType": "application/pdf", "buffer": evidence}]
    )
    assert "收据.pdf" in page.inner_text("#lx-file-list")
    shot(page, "1-submit-real-name-en")
    page.click("#lx-send")
    token = shown_token(page)
    Token.parse(token)
    assert "Sent" in page.inner_text("#lx-result h2")
    shot(page, "1-submit-token-en")
    portal.shared["real_name"] = token
    portal.shared["evidence"] = evidence
    close(page)


# --- 2. the desk answers; the portal is published again -------------------------------------


def test_2_desk_opens_registers_answers_and_the_site_is_rebuilt(portal: Portal) -> None:
    assert "anonymous" in portal.shared and "real_name" in portal.shared, "step 1 failed"
    desk = make_desk(portal.db_path, DAY)
    keys = load_office_keys(portal.keys_dir)
    try:
        items = {item.doc["title"]: item for item in read_inbox(desk, keys)}
        anonymous, real = items["工程款问题 A"], items["工程款问题 B"]
        assert anonymous.doc["real_name"] is False and "identity" not in anonymous.doc
        assert anonymous.doc["lang"] == "zh" and anonymous.doc["reported"]["name"] == "王某某"
        assert real.doc["identity"]["name"] == "李四" and real.doc["lang"] == "en"
        assert [(a.name, a.data) for a in real.attachments] == [
            ("收据.pdf", portal.shared["evidence"])
        ]
        assert anonymous.doc["problem_type"] == "legal.embezzlement_bribery"
        mark_opened(desk, [anonymous, real])
        for item, real_name in ((anonymous, "anonymous"), (real, "claimed")):
            register(
                desk,
                item.case_id,
                Registration(
                    item_type="accusation",
                    problem_type=item.doc["problem_type"],
                    rank=item.doc["reported"]["rank"],
                    region=item.doc["region"],
                    real_name=real_name,
                ),
            )
            route(
                desk,
                item.case_id,
                Route(mode="direct", unit="office.letters", manual=Manual.parse(30, "working")),
            )
        conclude(desk, anonymous.case_id, keys, "partly", answer=ANSWER_TEXT)
        portal.shared["case_id"] = anonymous.case_id
    finally:
        desk.close()
    portal.publish()
    found = read_status(str(portal.site_dir), Token.parse(portal.shared["anonymous"]))
    assert found is not None and found.status["state"] == "answered"
    received = found.status["steps"][0]["date"]
    assert found.sent == [
        {"attachments": [], "date": received, "files": 0, "kind": "report",
         "schema": "lianxin/sent/v1", "title": "工程款问题 A"}
    ]  # fmt: skip
    assert f"  {received}  Report: “工程款问题 A”" in found.lines()


# --- 3. the status page ----------------------------------------------------------------------


def requests_since(portal: Portal, start: int) -> list[str]:
    return portal.requests[start:]


def test_3_status_shows_the_answer(browser: Any, portal: Portal) -> None:
    token = portal.shared["anonymous"]
    for lang, path in (("zh", "/status/"), ("en", "/en/status/")):
        page = open_page(browser, portal, path, phone=lang == "zh")
        page.wait_for_selector("#lx-check:not([disabled])")
        page.wait_for_load_state("networkidle")
        start = len(portal.requests)
        # Typed the way people type: lower case, spaces instead of dashes.
        page.fill("#lx-token", token.lower().replace("-", " "))
        page.click("#lx-check")
        page.wait_for_selector("#lx-case:not([hidden])")
        text = page.inner_text("#lx-case")
        assert_no_stray_values(text)
        assert ANSWER_TEXT in text
        assert ("已反馈" if lang == "zh" else "Answered") in text
        assert ("部分属实" if lang == "zh" else "Partly substantiated") in text
        # What the reporter sent: the report's title and the day it was received.
        sent = page.locator("#lx-sent li").all_inner_texts()
        assert [re.sub(r"^\d{4}-\d{2}-\d{2} ", "DAY ", s) for s in sent] == [
            "DAY 举报：“工程款问题 A”" if lang == "zh" else "DAY Report: “工程款问题 A”"
        ], sent
        assert page.inner_text("#lx-case h3:has(+ #lx-sent)") == (
            "您提交的内容" if lang == "zh" else "What you sent"
        )
        # The index and exactly one shard; nothing to the gateway. (Material may still fetch
        # its own assets meanwhile: they carry nothing about the token.)
        made = requests_since(portal, start)
        assert not [u for u in made if u.startswith(portal.gateway.url)], made
        status = [urlsplit(u).path for u in made if urlsplit(u).path.startswith("/status/")]
        shards = [p for p in status if re.fullmatch(r"/status/\d+\.bin", p)]
        assert len(shards) == 1 and sorted(status) == sorted(["/status/index.json", *shards])
        # The public log: the receipt is an entry, proven from the tiles against the checkpoint.
        page.wait_for_selector("#lx-log")
        assert ("公开日志的第" if lang == "zh" else "is entry") in page.inner_text("#lx-log")
        assert page.locator("#lx-log .lx-log-bad").count() == 0
        others = [u for u in made if not urlsplit(u).path.startswith(("/status/", "/log/"))]
        assert all("/assets/" in u or u.endswith("sitemap.xml") for u in others), others
        assert page.is_enabled("#lx-rating-not")
        assert_labelled(page)
        shot(page, f"3-status-answer-{lang}")
        close(page)


def test_3_a_tampered_log_tile_is_reported(browser: Any, portal: Portal) -> None:
    size = int((portal.site_dir / "log" / "checkpoint").read_text().split("\n")[1])
    tile = portal.site_dir / "log" / tile_path(0, 0, min(size, 256))
    original = tile.read_bytes()
    tile.write_bytes(bytes(len(original)))  # every hash of the tile the proof reads
    try:
        page = open_page(browser, portal, "/en/status/", phone=False)
        page.wait_for_selector("#lx-check:not([disabled])")
        page.fill("#lx-token", portal.shared["anonymous"])
        page.click("#lx-check")
        page.wait_for_selector("#lx-log .lx-log-bad")
        assert "does not verify" in page.inner_text("#lx-log")
        close(page)
    finally:
        tile.write_bytes(original)


def test_3_a_mistyped_token_is_refused_without_any_request(browser: Any, portal: Portal) -> None:
    token = portal.shared["anonymous"]
    # Change one data symbol (not a dash) into another symbol of the alphabet.
    position = 5
    wrong = "1" if token[position] != "1" else "2"
    typo = token[:position] + wrong + token[position + 1 :]
    page = open_page(browser, portal, "/status/")
    page.wait_for_selector("#lx-check:not([disabled])")
    page.wait_for_load_state("networkidle")
    start = len(portal.requests)
    page.fill("#lx-token", typo)
    page.click("#lx-check")
    page.wait_for_selector("#lx-token-summary:not([hidden])")
    assert "校验位不符" in page.inner_text("#lx-token-summary")
    assert page.get_attribute("#lx-token", "aria-invalid") == "true"
    page.wait_for_timeout(300)
    assert requests_since(portal, start) == []
    shot(page, "3-status-typo-zh")
    close(page)


def test_3_an_unknown_token_is_not_found_without_error(browser: Any, portal: Portal) -> None:
    page = open_page(browser, portal, "/en/status/", phone=False)
    page.wait_for_selector("#lx-check:not([disabled])")
    errors_before = len(portal.page_errors)
    page.fill("#lx-token", str(Token.generate()))
    page.click("#lx-check")
    page.wait_for_selector("#lx-status-live:has-text('No case was found')")
    assert page.is_hidden("#lx-status-message") and page.is_hidden("#lx-token-summary")
    assert page.is_hidden("#lx-case")
    assert len(portal.page_errors) == errors_before
    shot(page, "3-status-unknown-en")
    close(page)


# --- 4. not satisfied ------------------------------------------------------------------------


def test_4_not_satisfied_reaches_the_desk_on_the_right_case(browser: Any, portal: Portal) -> None:
    page = open_page(browser, portal, "/status/")
    page.wait_for_selector("#lx-check:not([disabled])")
    page.fill("#lx-token", portal.shared["anonymous"])
    page.click("#lx-check")
    page.wait_for_selector("#lx-followups:not([hidden])")
    page.check("#lx-rating-not")
    page.fill("#lx-rating-text", COMMENT)
    page.click("#lx-rating-form button[type=submit]")
    confirmation = page.locator("#lx-rating-form .lx-send-message")
    confirmation.wait_for()
    assert "服务器已于" in confirmation.inner_text()
    # In words, not only a receipt number: the rating was delivered and will be recorded.
    assert "您的评价“不满意”已经送达受理机关" in confirmation.inner_text()
    assert page.input_value("#lx-rating-text") == ""
    shot(page, "4-status-not-satisfied-zh")
    close(page)

    desk = make_desk(portal.db_path, DAY)
    try:
        items = read_inbox(desk, load_office_keys(portal.keys_dir))
        followups = [i for i in items if i.kind == "followup"]
        assert len(followups) == 1, items
        item = followups[0]
        assert item.case_id == portal.shared["case_id"] and not item.problem
        assert item.doc["type"] == "satisfaction" and item.doc["rating"] == "not"
        assert item.doc["text"] == COMMENT
        (marked,) = mark_opened(desk, followups)
        assert "satisfaction recorded: not" in marked.notice
    finally:
        desk.close()


def test_4_additional_material_with_an_attachment(browser: Any, portal: Portal) -> None:
    page = open_page(browser, portal, "/en/status/", phone=False)
    page.wait_for_selector("#lx-check:not([disabled])")
    page.fill("#lx-token", portal.shared["anonymous"])
    page.click("#lx-check")
    page.wait_for_selector("#lx-followups:not([hidden])")
    page.fill("#lx-material-text", "A second receipt.")
    page.set_input_files(
        "#lx-material-files",
        files=[{"name": "receipt-2.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8 jpeg"}],
    )
    page.click("#lx-material-form button[type=submit]")
    confirmation = page.locator("#lx-material-form .lx-send-message")
    confirmation.wait_for()
    assert "received your additional material" in confirmation.inner_text()
    shot(page, "4-status-material-en")
    page.click("#lx-clear")
    assert page.input_value("#lx-token") == "" and page.is_hidden("#lx-case")
    close(page)

    desk = make_desk(portal.db_path, DAY)
    try:
        (item,) = read_inbox(desk, load_office_keys(portal.keys_dir))
        assert item.case_id == portal.shared["case_id"] and item.doc["type"] == "material"
        assert item.doc["text"] == "A second receipt."
        assert [(a.name, a.type, a.data) for a in item.attachments] == [
            ("receipt-2.jpg", "image/jpeg", b"\xff\xd8 jpeg")
        ]
        mark_opened(desk, [item])
    finally:
        desk.close()


def test_4_after_the_next_publish_the_reporter_sees_their_follow_ups(
    browser: Any, portal: Portal
) -> None:
    portal.publish()
    for path, followup, rating in (
        ("/status/", "收到您的评价或补充材料", "不满意（受理机关已记录）"),
        ("/en/status/", "Your rating or additional material received", "Not satisfied"),
    ):
        page = open_page(browser, portal, path, phone=path == "/status/")
        page.wait_for_selector("#lx-check:not([disabled])")
        page.fill("#lx-token", portal.shared["anonymous"])
        page.click("#lx-check")
        page.wait_for_selector("#lx-case:not([hidden])")
        timeline = page.locator(".lx-timeline li").all_inner_texts()
        assert sum(followup in line for line in timeline) == 2, timeline  # rating and material
        assert rating in page.inner_text(".lx-facts")
        # Every item sent, with its date: the report, the rating, the material and its file.
        sent = [
            re.sub(r"^\d{4}-\d{2}-\d{2} ", "", s)
            for s in page.locator("#lx-sent li").all_inner_texts()
        ]
        assert sent == (
            ["举报：“工程款问题 A”", "评价：不满意", "补充材料：“A second receipt.”（附件 1 个）"]
            if path == "/status/"
            else ["Report: “工程款问题 A”", "Your rating: Not satisfied",
                  "Additional material: “A second receipt.” (1 file(s) attached)"]
        ), sent  # fmt: skip
        hint = page.inner_text("#lx-cli-hint")
        assert hint == f"lianxin status --site {portal.site_url}/ -"
        shot(page, "4-status-followups-" + ("zh" if path == "/status/" else "en"))
        close(page)
    found = read_status(str(portal.site_dir), Token.parse(portal.shared["anonymous"]))
    assert found is not None
    assert [line.split("  ", 2)[-1] for line in found.lines() if line.startswith("  20")][-3:] == [
        "Report: “工程款问题 A”",
        "Your rating: not satisfied",
        "Additional material: “A second receipt.” (1 file)",
    ]


# --- 5. the gateway is down ------------------------------------------------------------------


def test_5_gateway_down_keeps_the_text_and_retry_works(browser: Any, portal: Portal) -> None:
    page = open_page(browser, portal, "/en/submit/", phone=True)
    wait_ready(page)
    fill_report(page, real_name=False, marker="C")
    portal.gateway.stop()
    try:
        page.click("#lx-send")
        message = page.locator("#lx-send-message")
        message.wait_for()
        text = message.inner_text()
        assert "cannot be reached" in text and "still on this page" in text
        assert page.evaluate("document.activeElement.id") == "lx-send-message"
        assert page.input_value("#lx-title") == "工程款问题 C"
        assert page.input_value("#lx-text") == "反映某科长在工程验收中收受好处。C\n第二段。"
        assert page.is_checked("#lx-acknowledge") and page.is_enabled("#lx-title")
        shot(page, "5-gateway-down-en")
    finally:
        portal.gateway.start()
    page.locator("#lx-send-message").get_by_role("button", name="Try again").click()
    Token.parse(shown_token(page))
    shot(page, "5-gateway-back-en")
    close(page)

    zh = open_page(browser, portal, "/submit/")
    wait_ready(zh)
    fill_report(zh, real_name=False, marker="D")
    zh.route(f"{portal.gateway.url}/v1/challenges", lambda r: r.abort("connectionrefused"))
    zh.click("#lx-send")
    zh.locator("#lx-send-message").wait_for()
    assert "无法连接受理机关的服务器" in zh.inner_text("#lx-send-message")
    assert zh.input_value("#lx-title") == "工程款问题 D"
    shot(zh, "5-gateway-down-zh")
    close(zh)


# --- the whole run ---------------------------------------------------------------------------


def test_no_request_left_the_site_and_the_gateway(portal: Portal) -> None:
    allowed = {portal.site_url, portal.gateway.url}
    origins = set()
    for url in portal.requests:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            continue  # made inside the page, not a network request
        origins.add(f"{parts.scheme}://{parts.netloc}")
    assert portal.requests and origins <= allowed, origins - allowed
    assert portal.violations == []
    assert portal.page_errors == []
    unexpected = [f for f in portal.failed if "/v1/" not in f]
    assert unexpected == []
