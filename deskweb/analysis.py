"""The monthly analysis page (月分析): the month beside the month before and the same month
last year, a bar chart per table drawn as SVG on the server (no script, nothing from another
site), and the same tables as an ``.xlsx`` download.

Both call :func:`desk.analysis_compare.compare_months` (the ``analysis`` action: approvers,
supervisors, analysts), kept per month and day until the register changes (three analyses
read a large part of the register: seconds at a million cases); the desk's own check runs on
every request first. The page's body (charts and tables) and the ``.xlsx`` are the same for
every officer who may see them, so each is made once per (month, day, language, register
change counter) and kept beside the figures; the header (the officer's name, the CSRF token)
is rendered per request.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from desk.analysis_compare import Comparison, Line, Table, compare_months, to_xlsx
from desk.context import Desk
from desk.refusals import BadValue, Refused
from desk.values import parse_month

from .pages import labels_of, on_desk, render, session_of, worded_refusal
from .work import Changes, register_changes

router = APIRouter()
T = TypeVar("T")
# compare_months without its own role check: ComparisonCache.get checks it on every request
# (cached figures or not), and warm() fills the cache before anyone has signed in.
_compare = inspect.unwrap(compare_months)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLOURS = ("#0b5cad", "#8fb3de", "#b7791f")  # this month, the month before, a year before
CHART_WIDTH, LABEL_WIDTH, BAR_HEIGHT, GAP = 680, 230, 9, 10


class ComparisonCache:
    """Comparisons kept per (month, day) while the register's change counter stays the same
    (:func:`~deskweb.work.register_changes`): a month's figures change only when cases, tags,
    warnings or supervision actions do, and any such change makes the next request work them
    out again. ``warm`` works out the current month's in the background at start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, date], tuple[Changes, Comparison]] = {}
        self._working: dict[tuple[str, date], threading.Lock] = {}  # one computation per key
        # what is made from a comparison (the page's body, the .xlsx), per language
        self._made: dict[tuple[str, date, Changes, str, str], Any] = {}

    def get(self, desk: Desk, month: str) -> Comparison:
        desk.authorize("analysis")  # the desk's own check, cached figures or not
        return self._figures(desk, month)[1]

    def kept(self, desk: Desk, month: str) -> tuple[tuple[str, date, Changes], Comparison]:
        """:meth:`get` with the key its figures are kept under (month, day, change counter)."""
        desk.authorize("analysis")
        changes, found = self._figures(desk, month)
        return (month, desk.today, changes), found

    def made(
        self, key: tuple[str, date, Changes], what: str, lang: str, make: Callable[[], T]
    ) -> T:
        """``what`` made in ``lang`` from the comparison kept under ``key`` (:meth:`kept`):
        made once, then reused while that key is current; made again (and the older ones
        forgotten) when the register or the day has moved on."""
        full = (*key, what, lang)
        with self._lock:
            if full in self._made:
                return self._made[full]  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            current = dict(self._kept)
            self._made = {
                k: v for k, v in self._made.items() if current.get((k[0], k[1]), (None,))[0] == k[2]
            }
            if current.get((key[0], key[1]), (None,))[0] == key[2]:
                self._made[full] = value
        return value

    def _figures(self, desk: Desk, month: str) -> tuple[Changes, Comparison]:
        key, changes = (month, desk.today), register_changes(desk)  # before the figures
        with self._lock:
            kept = self._kept.get(key)
            working = self._working.setdefault(key, threading.Lock())
        if kept is not None and kept[0] == changes:
            return kept
        with working:  # a request asking while another works the figures out waits for them
            with self._lock:
                kept = self._kept.get(key)
            if kept is None or kept[0] != changes:
                kept = (changes, _compare(desk, month))
                with self._lock:
                    self._kept = {k: v for k, v in self._kept.items() if k[1] == desk.today}
                    self._kept[key] = kept
                    self._working = {k: v for k, v in self._working.items() if k[1] == desk.today}
        return kept

    def warm(self, desk: Desk) -> None:
        """Work out the current month's comparison now (the first visitor does not wait)."""
        self._figures(desk, f"{desk.today:%Y-%m}")

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._made.clear()


def shown(line: Line, index: int) -> str:
    """A figure as the page shows it (rates in per cent; nothing to divide by: —)."""
    value = line.values[index]
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if line.rate else str(value)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    colour: str
    value: str


@dataclass(frozen=True)
class ChartLine:
    label: str
    y: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Chart:
    """A horizontal grouped bar chart of a table's counts (rates stay in the table)."""

    height: float
    width: int
    label_width: int
    lines: tuple[ChartLine, ...]


def chart(table: Table, lang: str) -> Chart | None:
    """The table's counts as bars, three per figure; None when every count is 0."""
    counted = [line for line in table.lines if not line.rate]
    top = max((int(v or 0) for line in counted for v in line.values), default=0)
    if not top:
        return None
    span = CHART_WIDTH - LABEL_WIDTH - 50
    group = 3 * BAR_HEIGHT + GAP
    lines = []
    for i, line in enumerate(counted):
        y = 4 + i * group
        bars = tuple(
            Bar(
                LABEL_WIDTH,
                y + k * BAR_HEIGHT,
                max(1.0, int(v or 0) / top * span) if v else 0.0,
                COLOURS[k],
                str(v or 0),
            )
            for k, v in enumerate(line.values)
        )
        label = line.label(lang)
        label = label if len(label) <= 18 else label[:17] + "…"
        lines.append(ChartLine(label, y + 1.5 * BAR_HEIGHT, bars))
    return Chart(4 + len(counted) * group, CHART_WIDTH, LABEL_WIDTH, tuple(lines))


def month_asked(request: Request, today: date) -> str:
    """``?month=`` (checked by the desk), or the desk's current month."""
    return request.query_params.get("month", "").strip()[:7] or f"{today:%Y-%m}"


Kept = tuple[tuple[str, date, Changes], Comparison]


async def _comparison(request: Request) -> tuple[Any, Kept | Response]:
    session = session_of(request)
    cache: ComparisonCache = request.app.state.analyses

    def work(desk: Desk) -> Kept:
        month = month_asked(request, desk.today)
        parse_month(month)
        return cache.kept(desk, month)

    try:
        return session, await on_desk(request, session, work)
    except BadValue as exc:
        page = worded_refusal(request, session, 400, "bad_month", exc)
        return session, page
    except Refused as exc:
        page = worded_refusal(request, session, 403, "no_access", exc)
        return session, page


def body(request: Request, found: Comparison) -> Markup:
    """The page's body: the month form, the legend, a chart and a table per section (nothing
    in it depends on who asks, only on the figures and the language)."""
    labels = labels_of(request)
    lang = labels.lang
    html = request.app.state.templates.get_template("analysis_body.html.j2").render(
        L=labels,
        lang=lang,
        cmp=found,
        tables=[(t, chart(t, lang)) for t in found.tables],
        shown=shown,
        colours=COLOURS,
    )
    return Markup(html)  # noqa: S704 - rendered by the autoescaping environment


@router.get("/analysis")
async def analysis_page(request: Request) -> Response:
    """The monthly analysis with the month before and a year before, charts and tables."""
    session, found = await _comparison(request)
    if isinstance(found, Response):
        return found
    key, figures = found
    cache: ComparisonCache = request.app.state.analyses
    lang = labels_of(request).lang
    made = cache.made(key, "page", lang, lambda: body(request, figures))
    return render(request, "analysis.html.j2", 200, session, cmp=figures, body=made)


@router.get("/analysis.xlsx")
async def analysis_xlsx(request: Request) -> Response:
    """The same tables as an .xlsx workbook, one sheet per table."""
    _session, found = await _comparison(request)
    if isinstance(found, Response):
        return found
    key, figures = found
    cache: ComparisonCache = request.app.state.analyses
    lang = labels_of(request).lang
    name = ("yuefenxi" if lang == "zh" else "monthly-analysis") + f"-{figures.months[0]}.xlsx"
    return Response(
        cache.made(key, "xlsx", lang, lambda: to_xlsx(figures, lang=lang)),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
