"""Print-ready pages: the special ledgers (专项台账) and the supervision list (督办单).

The ledgers are :func:`desk.ledger.all_ledgers` and :func:`desk.ledger.ledger` (the ``ledger``
action: registrars, approvers, supervisors, analysts); the supervision list is the flagged
cases of :func:`desk.warnings.compute_warnings` (the ``warnings`` action: supervisors), one
unit a printed page. Both only read: issuing the warnings (the events that record them)
stays ``desk warnings``. A print stylesheet drops the page's controls; the print button is the
desk's own script file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk.context import Desk
from desk.ledger import Ledger, all_ledgers, ledger
from desk.refusals import BadValue, Refused
from desk.warnings import NO_UNIT, Flagged

from .i18n import Labels
from .pages import labels_of, on_desk, render, session_of, worded_refusal

router = APIRouter()


def ledgers_page(desk: Desk) -> list[Ledger]:
    desk.authorize("ledger")
    return all_ledgers(desk)


def ledger_page(desk: Desk, tag: str) -> Ledger:
    desk.authorize("ledger")
    return ledger(desk, tag)


@dataclass
class UnitList:
    """One unit's part of the supervision list."""

    unit: str
    name: str
    items: list[Flagged] = field(default_factory=list)


@dataclass
class SupervisionPage:
    today: date
    units: list[UnitList]
    replies: list[tuple[Flagged, str]] = field(default_factory=list)  # (case, authority's name)


def supervision_page(desk: Desk, labels: Labels, counts: Any) -> SupervisionPage:
    desk.authorize("warnings")
    report = counts.report(desk)
    by_unit: dict[str, list[Flagged]] = defaultdict(list)
    for item in report.flagged:
        by_unit[item.unit].append(item)
    units = [
        UnitList(
            unit,
            labels.t("no_unit") if unit == NO_UNIT else labels.unit(unit),
            sorted(items, key=lambda f: (f.colour != "red", f.due)),
        )
        for unit, items in by_unit.items()
    ]
    units.sort(key=lambda u: u.name)
    replies = [(f, labels.unit(f.unit)) for f in report.replies]  # forwarded, reply owed (转办)
    return SupervisionPage(report.today, units, replies)


async def _show(request: Request, template: str, build: Any, **values: Any) -> Response:
    session = session_of(request)
    labels = labels_of(request)
    try:
        page = await on_desk(request, session, lambda desk: build(desk, labels))
    except BadValue as exc:
        return worded_refusal(request, session, 404, "not_found", exc)
    except Refused as exc:
        return worded_refusal(request, session, 403, "no_access", exc)
    return render(request, template, 200, session, page=page, **values)


@router.get("/ledgers")
async def ledgers(request: Request) -> Response:
    """Every special ledger: open, cleared, cleared to zero."""
    return await _show(request, "ledgers.html.j2", lambda desk, labels: ledgers_page(desk))


@router.get("/ledgers/{tag}")
async def one_ledger(request: Request, tag: str) -> Response:
    """One ledger's cases, open first."""
    return await _show(request, "ledger.html.j2", lambda desk, labels: ledger_page(desk, tag))


@router.get("/supervision")
async def supervision(request: Request) -> Response:
    """The supervision list (督办单): overdue and near cases, one unit a page."""
    counts = request.app.state.desks.counts
    return await _show(
        request,
        "supervision.html.j2",
        lambda desk, labels: supervision_page(desk, labels, counts),
    )
