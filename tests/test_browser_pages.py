"""The home, statistics and reception leaders pages in real headless Chromium (issue 16).

One site is published from fourteen closed months of a synthetic register (a fixed "today", so
the test does not depend on the day it runs) and served on loopback. Each page is opened in
Chinese and English, at 1280 px (desktop) and 390 px (phone), and screenshots go to
test-artifacts/pages/ (git-ignored). Every response is recorded: no page may ask for a file the
site does not have (Material's sitemap.xml probe included).
"""

from __future__ import annotations

import re
import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from publish_support import publish_sample_site

from publisher.serve import make_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-gpu", "--disable-quic"]  # fmt: skip
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TODAY = date(2026, 12, 6)
LATEST, PREVIOUS, YEAR_AGO = "2026-11", "2026-10", "2025-11"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
SVG = "{http://www.w3.org/2000/svg}"
VIEWS = [("zh", "desktop"), ("zh", "phone"), ("en", "desktop"), ("en", "phone")]


class Site:
    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url
        self.failed: list[str] = []
        self.sitemaps: list[str] = []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium fonts-noto-cjk")
    folder = publish_sample_site(tmp_path_factory.mktemp("pages"), TODAY, cases=1800, months=14)
    server = make_server(folder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    try:
        yield Site(folder, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def visit(browser: Any, site: Site, path: str, device: str) -> Any:
    context = browser.new_context(viewport=PHONE if device == "phone" else DESKTOP)

    def seen(response: Any) -> None:
        if response.status >= 400:
            site.failed.append(f"{response.status} {response.url}")
        if response.url.endswith("/sitemap.xml"):
            site.sitemaps.append(f"{response.status} {response.url}")

    context.on("response", seen)
    page = context.new_page()
    page.goto(site.url + path)
    page.wait_for_load_state("networkidle")
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def prefix(lang: str) -> str:
    return "/en" if lang == "en" else ""


# --- statistics ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "device"), VIEWS)
def test_statistics_summary_comes_first(browser: Any, site: Site, lang: str, device: str) -> None:
    page = visit(browser, site, f"{prefix(lang)}/statistics/", device)
    shot(page, f"statistics-{lang}-{device}")
    first_h2 = page.locator("article h2").first
    assert LATEST in first_h2.inner_text()
    cards = page.locator(".lx-stat-card")
    assert cards.count() == 3
    texts = [cards.nth(n).inner_text() for n in range(3)]
    for text in texts:
        assert PREVIOUS in text and YEAR_AGO in text
    total = page.locator("#summary-received .lx-stat-card__value").inner_text()
    assert re.fullmatch(r"[\d,]+", total)
    # The summary's total is the latest column of the received table: released figures only.
    # (textContent: the table is below the fold, not laid out yet, and innerText reads layout)
    first_cell = page.locator("table").first.locator("tbody td").first.text_content()
    assert total.replace(",", "") == first_cell
    box = cards.first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    page.context.close()


@pytest.mark.parametrize(("lang", "device"), VIEWS)
def test_tables_show_the_newest_month_first_and_whole_captions(
    browser: Any, site: Site, lang: str, device: str
) -> None:
    page = visit(browser, site, f"{prefix(lang)}/statistics/", device)
    found = page.evaluate(
        """() => [...document.querySelectorAll('.lx-scroll')].map((wrap) => {
          const w = wrap.getBoundingClientRect();
          const range = document.createRange();  // the caption's text, not its box
          range.selectNodeContents(wrap.querySelector('caption'));
          const cap = range.getBoundingClientRect();
          const head = [...wrap.querySelectorAll('thead th')];
          const newest = head[1].getBoundingClientRect();
          return {months: head.slice(1).map((th) => th.textContent),
                  focusable: wrap.tabIndex === 0 && !!wrap.getAttribute('aria-label'),
                  lazy: getComputedStyle(wrap).contentVisibility,
                  caption: [cap.left - w.left, w.right - cap.right],
                  newest: [newest.left - w.left, w.right - newest.right, newest.right]};
        })"""
    )
    assert len(found) >= 17
    width = page.viewport_size["width"]
    for table in found:
        assert table["months"][0] == LATEST
        assert table["months"] == sorted(table["months"], reverse=True)
        assert table["focusable"]  # a keyboard can reach and scroll the wrapper
        assert table["lazy"] == "auto"  # laid out when near the viewport (bench/lighthouse_bench)
        assert min(table["caption"]) >= -1, table  # caption inside the visible part
        assert min(table["newest"][:2]) >= -1 and table["newest"][2] <= width, table
    page.context.close()


def _svg_text_sizes(svg: ET.Element) -> tuple[float, list[float]]:
    width = float((svg.get("viewBox") or "").split()[2])
    default = float(svg.get("font-size") or 16)
    sizes = [float(t.get("font-size") or default) for t in svg.iter(f"{SVG}text")]
    return width, sizes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_have_titles_periods_and_readable_text_on_a_phone(
    browser: Any, site: Site, lang: str
) -> None:
    page = visit(browser, site, f"{prefix(lang)}/statistics/", "phone")
    # The charts are laid out only near the viewport (content-visibility: auto in pages.css), as
    # a reader scrolls: bring each into view, let it lay out and decode, then measure it.
    images = page.evaluate(
        """async () => {
          const out = [];
          const within = (ms, p) => Promise.race([p, new Promise((r) => setTimeout(r, ms))]);
          const frame = () => new Promise((r) => requestAnimationFrame(r));
          for (const img of document.querySelectorAll('.lx-chart img')) {
            img.scrollIntoView({block: 'center'});
            await within(500, frame().then(frame));
            await within(2000, img.decode().catch(() => null));
            out.push({src: new URL(img.getAttribute('src'), location.href).pathname,
                      shown: img.getBoundingClientRect().width, loaded: img.naturalWidth > 0});
          }
          return out;
        }"""
    )
    assert len(images) >= 10
    for image in images:
        assert image["loaded"], image
        svg = ET.parse(site.folder / image["src"].lstrip("/")).getroot()
        width, sizes = _svg_text_sizes(svg)
        smallest = min(sizes) * image["shown"] / width
        assert smallest >= 11.9, (image, smallest)  # CSS px on a 390 px wide screen
        texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
        title = svg.find(f"{SVG}title")
        assert title is not None and texts[0] == title.text  # the title, visible, on top
        assert LATEST in texts[1]  # then the month(s) it covers
    empty = page.locator(".lx-chart-empty")
    assert empty.count() >= 1  # tables whose every figure of the month is suppressed
    words = "too small to publish" if lang == "en" else "人数过少而不公布"
    for n in range(empty.count()):
        assert words in empty.nth(n).inner_text()
    page.context.close()


# --- home ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "device"), VIEWS)
def test_home_buttons_channels_and_office_footer(
    browser: Any, site: Site, lang: str, device: str
) -> None:
    page = visit(browser, site, f"{prefix(lang)}/", device)
    shot(page, f"home-{lang}-{device}")
    buttons = page.locator(".lx-home-actions a.md-button")
    assert buttons.count() == 2
    targets = [buttons.nth(n).evaluate("a => new URL(a.href).pathname") for n in range(2)]
    assert targets == [f"{prefix(lang)}/submit/", f"{prefix(lang)}/status/"]
    for n in range(2):
        box = buttons.nth(n).bounding_box()
        assert box["y"] + box["height"] <= page.viewport_size["height"]  # without scrolling
        if device == "phone":
            assert box["width"] >= 0.9 * (page.viewport_size["width"] - 32)  # full width
    assert page.locator('.lx-channels a[href="tel:12388"]').count() == 1
    channels = page.locator(".lx-channel h3").all_inner_texts()
    assert len(channels) == 3
    footer = page.locator(".md-footer").inner_text()
    assert "Made with" not in footer
    office = "Sample County" if lang == "en" else "示例县纪委监委信访室"
    assert office in footer and "12388" in footer
    page.context.close()


# --- leaders -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "device"), VIEWS)
def test_leaders_links_english_and_captions(
    browser: Any, site: Site, lang: str, device: str
) -> None:
    page = visit(browser, site, f"{prefix(lang)}/leaders/", device)
    shot(page, f"leaders-{lang}-{device}")
    tel = page.locator('.lx-leader a[href^="tel:"]')
    mail = page.locator('.lx-leader a[href^="mailto:"]')
    assert tel.count() == 3 and mail.count() == 3
    assert tel.first.get_attribute("href") == "tel:00005550101"
    assert mail.first.get_attribute("href") == "mailto:lin.shifan@example.org"
    if lang == "en":
        assert "Lin Shifan" in page.locator("article h2").first.inner_text()
        leftover = page.evaluate(
            """() => [...document.querySelectorAll('.lx-leader')].map((box) => {
              const copy = box.cloneNode(true);
              copy.querySelectorAll('[lang="zh"]').forEach((el) => el.remove());
              return copy.textContent.match(/[\\u4e00-\\u9fff]+/g) || [];
            }).flat()"""
        )
        assert leftover == []  # every Chinese text on the English page is marked as such
    geometry = page.evaluate(
        """() => [...document.querySelectorAll('.lx-leader table')].map((t) => {
          const c = t.querySelector('caption').getBoundingClientRect();
          const r = t.querySelector('tr').getBoundingClientRect();
          return [Math.abs(c.left - r.left), r.top - c.bottom];
        })"""
    )
    assert len(geometry) == 6
    for left_gap, below in geometry:
        assert left_gap <= 1 and below >= -1  # the caption sits above the table's box
    page.context.close()


# --- every page ----------------------------------------------------------------------------------


def test_no_page_asks_for_a_missing_file(browser: Any, site: Site) -> None:
    pages = sorted(
        "/" + str(p.parent.relative_to(site.folder)).replace(".", "").strip("/") + "/"
        for p in site.folder.rglob("index.html")
    )
    assert len(pages) >= 16
    for path in pages:
        visit(browser, site, path.replace("//", "/"), "desktop").context.close()
    assert site.failed == []
    assert site.sitemaps and all(s.startswith("200 ") for s in site.sitemaps)
