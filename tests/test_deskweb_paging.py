"""The work list a page at a time and the analysis body made once, in process with a real store
holding a synthetic register: the pages hold every listed case once, in the order of the whole
list (the officer's own steps first, red and yellow first among them); a page past the end or a
page number that is not one is refused in words; the analysis body is reused while the register
is unchanged and made again after a change."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from desk_support import new_store, setup_office
from deskweb_support import signed_in
from fastapi.testclient import TestClient

from desk.synth import synthesize_register
from deskweb.app import create_app
from deskweb.desks import WebSettings
from deskweb.work import PAGE_ROWS, WORK_ROWS

DAY = date(2026, 3, 31)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = new_store(tmp_path_factory.mktemp("paging") / "desk.sqlite")
    setup_office(db, DAY, officers=("admin", "reg", "appr"))
    synthesize_register(db, 400, start_month="2025-10", months=6, today=DAY)
    return db


@pytest.fixture
def app(register: Path) -> Iterator[Any]:
    yield create_app(WebSettings(db=register, today=DAY))


ROW = re.compile(r'<tr class="row-(\w+)" data-case="(\d+)">')


def rows(html: str, table: str) -> list[tuple[str, int]]:
    """(colour, case id) of each row of one table of the work list."""
    start = html.find(f'id="{table}"')
    if start < 0:
        return []
    end = html.index("</table>", start)
    return [(colour, int(case)) for colour, case in ROW.findall(html[start:end])]


def test_the_work_list_pages_hold_every_listed_case_once_in_order(app: Any) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "appr")
        first = client.get("/work")
        assert first.status_code == 200
        pages = WORK_ROWS // PAGE_ROWS  # 400 cases: the newest WORK_ROWS are listed
        assert f"第 1 页，共 {pages} 页（第 1–{PAGE_ROWS} 条，共 {WORK_ROWS} 条）" in first.text
        assert 'href="/work?page=2" rel="next"' in first.text
        assert 'rel="prev"' not in first.text
        mine: list[tuple[str, int]] = []
        others: list[tuple[str, int]] = []
        for n in range(1, pages + 1):
            html = first.text if n == 1 else client.get(f"/work?page={n}").text
            here = rows(html, "lx-for-me") + rows(html, "lx-others")
            assert len(here) == PAGE_ROWS, n
            assert f'<a href="/work?page={n}" aria-current="page">{n}</a>' in html
            if rows(html, "lx-for-me"):  # the officer's own steps before the rest, over pages
                assert not others, n
            mine += rows(html, "lx-for-me")
            others += rows(html, "lx-others")
        counts = re.findall(r'<span class="count">(\d+)</span>', first.text)
        assert [int(c) for c in counts] == [len(mine), len(others)]
        assert mine and others  # an approver has steps on some listed cases, not on all
        ids = [case for _, case in mine + others]
        assert len(set(ids)) == WORK_ROWS  # every listed case once
        rank = {"red": 0, "yellow": 1}
        assert [rank.get(c, 2) for c, _ in mine] == sorted(rank.get(c, 2) for c, _ in mine)
        listed = [case for _, case in others]
        assert listed == sorted(listed, reverse=True)  # the rest newest first
        newest = max(ids)
        assert set(ids) == set(range(newest - WORK_ROWS + 1, newest + 1))


def test_a_page_that_is_not_one_is_refused_in_words(app: Any) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "appr")
        pages = WORK_ROWS // PAGE_ROWS
        beyond = client.get(f"/work?page={pages + 1}")
        assert beyond.status_code == 400
        assert "没有这一页。" in beyond.text and f"所请求的页码：{pages + 1}。" in beyond.text
        assert f"工作清单共 {pages} 页，请选择 1 至 {pages}。" in beyond.text
        for bad in ("0", "-1", "two", "1.5", "９", "9" * 30):
            page = client.get("/work", params={"page": bad, "lang": "en"})
            assert page.status_code == 400, bad
            assert "There is no such page." in page.text, bad
        assert client.get("/work?page=").status_code == 200  # empty: the first page


def test_the_analysis_body_is_made_once_and_again_after_a_register_change(
    app: Any, register: Path
) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "appr")
        cache = app.state.analyses
        first = client.get("/analysis?month=2026-03")
        assert first.status_code == 200 and 'id="lx-who"' in first.text
        made = {k: v for k, v in cache._made.items() if k[0] == "2026-03" and k[3] == "page"}
        assert len(made) == 1
        again = client.get("/analysis?month=2026-03")
        assert again.text == first.text
        assert {k: v for k, v in cache._made.items() if k[3] == "page"} == made  # reused
        english = client.get("/analysis?month=2026-03&lang=en")
        assert '<html lang="en">' in english.text
        assert english.text != first.text
        before = _figures(first.text)
        # the register changes (cases received this month): the body is made again
        synthesize_register(register, 30, seed=7, start_month="2026-03", months=1, today=DAY)
        after = client.get("/analysis?month=2026-03&lang=zh")
        assert after.status_code == 200
        assert _figures(after.text) != before
        keys = [k for k in cache._made if k[0] == "2026-03" and k[3] == "page"]
        assert keys and all(k[2] > next(iter(made))[2] for k in keys)  # the older ones gone
        book = client.get("/analysis.xlsx?month=2026-03")
        assert book.status_code == 200 and book.content[:2] == b"PK"
        assert client.get("/analysis.xlsx?month=2026-03").content == book.content


def _figures(html: str) -> list[str]:
    return re.findall(r'<td class="num" data-value="([^"]*)"', html)


def test_a_kept_work_list_page_is_made_again_after_a_register_change(
    app: Any, register: Path
) -> None:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        signed_in(client, "appr")
        first = client.get("/work?page=4").text
        assert client.get("/work?page=4").text == first  # kept
        with sqlite3.connect(register) as db:
            newest = int(db.execute("SELECT max(id) FROM cases").fetchone()[0])
        assert newest - WORK_ROWS + 1 in [c for _, c in rows(first, "lx-others")]  # the oldest
        synthesize_register(register, 5, seed=11, start_month="2026-03", months=1, today=DAY)
        later = client.get("/work?page=4").text
        assert later != first
        ids = [case for _, case in rows(later, "lx-for-me") + rows(later, "lx-others")]
        assert newest - WORK_ROWS + 1 not in ids  # five newer cases pushed the oldest off
        page_one = client.get("/work").text
        now = [c for _, c in rows(page_one, "lx-for-me") + rows(page_one, "lx-others")]
        assert set(now) != set(ids)
