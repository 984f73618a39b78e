"""The monthly analysis page (月分析): the month beside the month before and the same month
last year, a bar chart per table drawn as SVG on the server (no script, nothing from another
site), and the same tables as an ``.xlsx`` download.

Both call :func:`desk.analysis_compare.compare_months` (the ``analysis`` action: approvers,
supervisors, analysts), kept per month and day until the register changes (three analyses
read a large part of the register: seconds at a million cases); the desk's own check runs on
every request first.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk.analysis_compare import Comparison, Line, Table, compare_months, to_xlsx
from desk.context import Desk
from desk.refusals import BadValue, Refused
from desk.values import parse_month

from .pages import labels_of, on_desk, render, session_of
from .work import register_changes

router = APIRouter()
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
        self._kept: dict[tuple[str, date], tuple[int, Comparison]] = {}
        self._working: dict[tuple[str, date], threading.Lock] = {}  # one computation per key

    def get(self, desk: Desk, month: str) -> Comparison:
        desk.authorize("analysis")  # the desk's own check, cached figures or not
        return self._figures(desk, month)

    def _figures(self, desk: Desk, month: str) -> Comparison:
        key, changes = (month, desk.today), register_changes(desk)  # before the figures
        with self._lock:
            kept = self._kept.get(key)
            working = self._working.setdefault(key, threading.Lock())
        if kept is not None and kept[0] == changes:
            return kept[1]
        with working:  # a request asking while another works the figures out waits for them
            with self._lock:
                kept = self._kept.get(key)
            if kept is None or kept[0] != changes:
                kept = (changes, _compare(desk, month))
                with self._lock:
                    self._kept = {k: v for k, v in self._kept.items() if k[1] == desk.today}
                    self._kept[key] = kept
                    self._working = {k: v for k, v in self._working.items() if k[1] == desk.today}
        return kept[1]

    def warm(self, desk: Desk) -> None:
        """Work out the current month's comparison now (the first visitor does not wait)."""
        self._figures(desk, f"{desk.today:%Y-%m}")

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


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


async def _comparison(request: Request) -> tuple[Any, Comparison | Response]:
    session = session_of(request)
    cache: ComparisonCache = request.app.state.analyses

    def work(desk: Desk) -> Comparison:
        month = month_asked(request, desk.today)
        parse_month(month)
        return cache.get(desk, month)

    try:
        return session, await on_desk(request, session, work)
    except BadValue as exc:
        page = render(
            request,
            "message.html.j2",
            400,
            session,
            message_key="bad_month",
            detail=labels_of(request).refusal(exc),
        )
        return session, page
    except Refused as exc:
        page = render(
            request,
            "message.html.j2",
            403,
            session,
            message_key="no_access",
            detail=labels_of(request).refusal(exc),
        )
        return session, page


@router.get("/analysis")
async def analysis_page(request: Request) -> Response:
    """The monthly analysis with the month before and a year before, charts and tables."""
    session, found = await _comparison(request)
    if isinstance(found, Response):
        return found
    lang = labels_of(request).lang
    tables = [(t, chart(t, lang)) for t in found.tables]
    return render(
        request,
        "analysis.html.j2",
        200,
        session,
        cmp=found,
        tables=tables,
        shown=shown,
        colours=COLOURS,
    )


@router.get("/analysis.xlsx")
async def analysis_xlsx(request: Request) -> Response:
    """The same tables as an .xlsx workbook, one sheet per table."""
    _session, found = await _comparison(request)
    if isinstance(found, Response):
        return found
    lang = labels_of(request).lang
    name = ("yuefenxi" if lang == "zh" else "monthly-analysis") + f"-{found.months[0]}.xlsx"
    return Response(
        to_xlsx(found, lang=lang),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
