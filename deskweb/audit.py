"""The auditor's pages: ``verify`` results, the read log and the event log, filterable by case,
officer and office days (and, for events, by kind).

Each page calls the desk's own function (:func:`desk.verify_parallel.verify_desk`,
:func:`desk.reads.list_reads`, :func:`desk.reads.list_events`), which refuses an officer whose
roles do not allow it; the page then says so in words. No report text is shown: events hold
codes and hashes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from desk.context import Desk
from desk.officers import all_officers
from desk.reads import list_events, list_reads
from desk.refusals import BadValue, Refused, UnknownCase
from desk.roles import ROLEBOOK
from desk.values import parse_day
from desk.verify_parallel import verify_desk

from .i18n import Labels
from .pages import labels_of, on_desk, render, session_of, worded_refusal
from .work import office_time

router = APIRouter()
LOG_ROWS = 500


@dataclass
class LogFilters:
    """What the read log or the event log is narrowed to, as typed in the form."""

    case: str = ""
    officer: str = ""
    kind: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def of(cls, request: Request) -> LogFilters:
        q = request.query_params
        return cls(
            *(q.get(k, "").strip()[:64] for k in ("case", "officer", "kind", "since", "until"))
        )

    def days(self) -> tuple[date | None, date | None]:
        """The office days asked for (a malformed one is refused, naming the field)."""
        since = parse_day(self.since, "--since") if self.since else None
        until = parse_day(self.until, "--until") if self.until else None
        return since, until


@dataclass
class LogPage:
    """A log page: its rows, the officers and kinds to choose from."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    officers: list[tuple[str, str]] = field(default_factory=list)
    kinds: list[tuple[str, str]] = field(default_factory=list)
    limit: int = LOG_ROWS


def _names(desk: Desk) -> dict[str, str]:
    return {o.id: o.name for o in all_officers(desk.db)}


def _shown(row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {
        **row,
        "when": office_time(row["time"], row["date"]),
        "who": names.get(row["officer"], row["officer"] or ""),
    }


def read_log(desk: Desk, filters: LogFilters, labels: Labels) -> LogPage:
    """The read log (``desk reads``), the latest :data:`LOG_ROWS` first."""
    since, until = filters.days()
    rows = list_reads(
        desk,
        filters.case or None,
        filters.officer or None,
        since=since,
        until=until,
        limit=LOG_ROWS,
    )
    names = _names(desk)
    shown = [{**_shown(r, names), "what_name": labels.read_what(r["what"])} for r in reversed(rows)]
    return LogPage(shown, sorted(names.items(), key=lambda kv: kv[0]))


def event_log(desk: Desk, filters: LogFilters, labels: Labels) -> LogPage:
    """The event log (``desk events``), newest first."""
    since, until = filters.days()
    kinds = sorted({kind for a in ROLEBOOK.actions.values() for kind in a.events})
    if filters.kind and filters.kind not in kinds:
        raise BadValue(f"{filters.kind!r} is not an event type of the roles file", "--type")
    rows = list_events(
        desk,
        filters.case or None,
        filters.officer or None,
        kind=filters.kind or None,
        since=since,
        until=until,
        limit=LOG_ROWS,
    )
    names = _names(desk)
    shown = [{**_shown(r, names), "what_name": labels.event(r["type"])} for r in rows]
    named = sorted(((k, f"{labels.event(k)}（{k}）") for k in kinds), key=lambda kv: kv[1])
    return LogPage(shown, sorted(names.items(), key=lambda kv: kv[0]), named)


async def _page(request: Request, template: str, build: Any, **values: Any) -> Response:
    """A page built on the desk; a refusal (role) or a bad filter says why, in words."""
    session = session_of(request)
    labels = labels_of(request)
    try:
        page = await on_desk(request, session, lambda desk: build(desk, labels))
    except (BadValue, UnknownCase) as exc:
        return worded_refusal(request, session, 400, "bad_filter", exc)
    except Refused as exc:
        return worded_refusal(request, session, 403, "no_access", exc)
    return render(request, template, 200, session, page=page, **values)


@router.get("/audit/verify")
async def verify_page(request: Request) -> Response:
    """``desk verify``: the chain, the signatures, the replay and the submissions."""
    return await _page(request, "verify.html.j2", lambda desk, labels: verify_desk(desk))


@router.get("/audit/reads")
async def reads_page(request: Request) -> Response:
    """The read log, filterable."""
    filters = LogFilters.of(request)
    return await _page(
        request,
        "reads.html.j2",
        lambda desk, labels: read_log(desk, filters, labels),
        filters=filters,
    )


@router.get("/audit/events")
async def events_page(request: Request) -> Response:
    """The event log, filterable."""
    filters = LogFilters.of(request)
    return await _page(
        request,
        "events.html.j2",
        lambda desk, labels: event_log(desk, filters, labels),
        filters=filters,
    )
