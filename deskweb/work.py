"""What the pages show, built only from the desk's own functions.

"My work" is :func:`desk.listing.list_cases` (which limits a handler to their unit) with the
steps :func:`desk.lifecycle.allowed_steps` allows and the officer's roles permit, and the
per-unit counts of :func:`desk.warnings.unit_counts` (kept while the register is unchanged);
the case page is :func:`desk.listing.show_case`, which opens the report for officers in scope
and records the read. Nothing here decides who may see or do what: the desk refuses, and the
page says so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from desk.casekeys import desk_keys
from desk.cases import Case, load_case
from desk.context import Desk
from desk.duties import HOW
from desk.letters import LETTERS, letters_for
from desk.lifecycle import OPEN_STATES, REVIEW_KINDS, REVIEW_LABELS, allowed_steps
from desk.listing import Filters, listed_cases, scoped_unit, show_case
from desk.messages import LABELS as MESSAGE_LABELS
from desk.officers import all_officers
from desk.offices import offices
from desk.refusals import Refused
from desk.supervise import KINDS as SUPERVISE_KINDS
from desk.warnings import CaseColours, UnitCounts, WarningReport, compute_warnings, unit_counts
from lianxin.domain.workdays import working_days_between
from lianxin.officetime import office_zone
from lianxin.protocol.documents import RATINGS

from .i18n import Labels, step_action

WORK_ROWS = 200  # the newest cases of the officer's scope the work list orders and pages
PAGE_ROWS = 50  # rows on one page of the work list
KEPT_PAGES = 1000  # rendered work list pages kept (per officer, language and page; ~25 KB each)


def my_steps(desk: Desk, steps: list[str]) -> list[str]:
    """The steps among ``steps`` that the acting officer holds a role for."""
    me = desk.me().record
    out = []
    for step in steps:
        action = step_action(step)
        if action is not None and any(me.has(r) for r in action.roles):
            out.append(step)
    return out


def office_time(utc: str | None, day: str) -> str:
    """An event's UTC time as the office's local time (``2026-11-24 12:00``); an event recorded
    without a time (a legacy event from before signed events, a synthetic demo case, the
    gateway's receipt of a report) shows its office-local date ``day``."""
    if not utc:
        return day
    moment = datetime.strptime(utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return moment.astimezone(office_zone()).strftime("%Y-%m-%d %H:%M")


def days_left(desk: Desk, due: str | None, memo: dict[str, int] | None = None) -> int | None:
    """Working days from today to ``due`` (negative: overdue); ``memo`` keeps each due date's
    count for a page that shows many rows."""
    if not due:
        return None
    if memo is not None and due in memo:
        return memo[due]
    days = working_days_between(desk.today, date.fromisoformat(due), calendar=desk.calendar).days
    if memo is not None:
        memo[due] = days
    return days


@dataclass
class WorkPage:
    """One page of the officer's work list: the listed cases in one order (those with a step
    for the officer first, red and yellow first among them, then the rest newest first), cut
    into pages of :data:`PAGE_ROWS`; ``for_me`` and ``others`` are this page's rows of each
    part, ``mine`` and ``listed`` the parts' totals over every page."""

    for_me: list[dict[str, Any]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)
    units: list[UnitCounts] = field(default_factory=list)
    refusal: str | None = None
    page: int = 1
    pages: int = 1
    mine: int = 0
    listed: int = 0

    @property
    def first(self) -> int:
        """The place of the page's first row in the whole list (1-based)."""
        return (self.page - 1) * PAGE_ROWS + 1

    @property
    def last(self) -> int:
        """The place of the page's last row in the whole list."""
        return min(self.page * PAGE_ROWS, self.mine + self.listed)


class BadPage(ValueError):
    """``?page=`` is not a page of the work list (``pages``: how many there are)."""

    def __init__(self, asked: str, pages: int) -> None:
        super().__init__(f"page {asked!r} is not one of 1..{pages}")
        self.asked = asked
        self.pages = pages


def page_asked(text: str | None) -> int:
    """``?page=`` as a page number (1 when absent); :class:`BadPage` for anything but a
    whole number from 1 (the pages are counted later)."""
    if text is None or text == "":
        return 1
    if not text.isascii() or not text.isdigit() or len(text) > 6 or int(text) < 1:
        raise BadPage(text[:20], 0)
    return int(text)


Changes = tuple[int, int]


def register_changes(desk: Desk) -> Changes:
    """What cached figures are checked against: the register's change counter (moved by every
    update or deletion of a case and every change to their tags, warnings and supervision
    actions; migration 0012_counts) and the largest case id, which every new case moves
    (migration 0015_inserts_by_id: the gateway adds cases in batches, without a trigger)."""
    row = desk.db.execute(
        "SELECT n, (SELECT coalesce(max(id), 0) FROM cases) FROM register_changes WHERE id = 1"
    ).fetchone()
    return int(row[0]), int(row[1])


class UnitCountsCache:
    """The per-unit warning counts and the warnings report, kept for the desk's day while the
    register's change counter stays the same: any change (a step on the web desk, the CLI, the
    gateway) makes the next request work them out again, so they are never stale. The counts
    themselves read the per-group totals the store keeps up to date (a few thousand rows).
    Each officer's work list pages, rendered, are kept the same way (what a page shows depends
    only on the officer's roles and unit, the day and the register)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._units: tuple[tuple[date, Changes], list[UnitCounts]] | None = None
        self._report: tuple[tuple[date, Changes], WarningReport] | None = None
        self._pages: dict[tuple[Any, ...], str] = {}  # work list pages' bodies, rendered

    def report(self, desk: Desk) -> WarningReport:
        """The warnings on the desk's day: per-unit counts and the flagged cases."""
        key = (desk.today, register_changes(desk))  # read before the figures it keys
        with self._lock:
            kept = self._report
        if kept is not None and kept[0] == key:
            return kept[1]
        report = compute_warnings(desk)
        with self._lock:
            self._report = (key, report)
        return report

    def units(self, desk: Desk) -> list[UnitCounts]:
        """Every unit's counts on the desk's day."""
        key = (desk.today, register_changes(desk))
        with self._lock:
            kept = self._units
        if kept is None or kept[0] != key:
            found, _ = unit_counts(desk)
            kept = (key, sorted(found.values(), key=lambda u: u.unit))
            with self._lock:
                self._units = kept
        return list(kept[1])

    def clear(self) -> None:
        """Forget the figures (a step changed the register)."""
        with self._lock:
            self._units = self._report = None
            self._pages.clear()

    def work_key(self, desk: Desk, lang: str, page: int) -> tuple[Any, ...]:
        """What one officer's work list page depends on: who they are (id, roles, unit), the
        language, the page, the desk's day and the register's change counter."""
        me = desk.me().record
        return (me.id, tuple(me.roles), me.unit, lang, page, desk.today, register_changes(desk))

    def work_page(self, key: tuple[Any, ...]) -> str | None:
        """A work list page's body kept under ``key`` (:meth:`work_key`), or None."""
        with self._lock:
            return self._pages.get(key)

    def keep_work_page(self, key: tuple[Any, ...], html: str) -> None:
        """Keep a page's body; bodies of an older day or register are forgotten, and at most
        :data:`KEPT_PAGES` are kept."""
        with self._lock:
            self._pages = {
                k: v for k, v in self._pages.items() if k[-2:] == key[-2:]
            }  # the same day and register change counter
            if len(self._pages) >= KEPT_PAGES:
                self._pages.pop(next(iter(self._pages)))
            self._pages[key] = html


def listing_row(
    desk: Desk,
    labels: Labels,
    row: dict[str, Any],
    case: Case | None = None,
    memo: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A listing row (:func:`desk.listing.list_cases`) as a page shows it, with the steps the
    officer may take on it now (``case``: the row's case when the caller has it already;
    ``memo``: working days left per due date, shared by a page's rows)."""
    steps: list[str] = []
    if row["state"] in OPEN_STATES:
        steps = my_steps(desk, allowed_steps(case or load_case(desk.db, row["id"])))
    return shown_row(desk, labels, row, steps, memo)


def shown_row(
    desk: Desk,
    labels: Labels,
    row: dict[str, Any],
    steps: list[str],
    memo: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A listing row with the officer's ``steps`` on it, named as the page shows it."""
    return {
        **row,
        "label": row["number"] or f"#{row['id']}",
        "channel_name": labels.channel(row["channel"]),
        "state_name": labels.state(row["state"]),
        "problem_name": labels.problem(row["problem"]),
        "unit_name": labels.unit(row["unit"]),
        "days_left": days_left(desk, row["due"], memo) if row["colour"] != "blue" else None,
        "steps": [labels.step(s) for s in steps],
    }


def my_work(desk: Desk, labels: Labels, counts: UnitCountsCache, page: int = 1) -> WorkPage:
    """Page ``page`` of the cases in front of the officer, those with a step for them first;
    :class:`BadPage` past the last page. Every listed case's steps are worked out (they
    decide the order), but only the page's rows are named, dated and rendered."""
    work = WorkPage(page=page)
    try:
        rows = listed_cases(desk, Filters(limit=WORK_ROWS))
    except Refused as exc:  # roles that list no cases (administrator, auditor)
        work.refusal = labels.refusal(exc)
        return work
    mine: list[tuple[dict[str, Any], list[str]]] = []
    rest: list[tuple[dict[str, Any], list[str]]] = []
    for row, case in rows:
        steps = my_steps(desk, allowed_steps(case)) if row["state"] in OPEN_STATES else []
        (mine if steps else rest).append((row, steps))
    mine.sort(key=lambda r: ({"red": 0, "yellow": 1}.get(r[0]["colour"], 2), r[0]["due"] or ""))
    work.mine, work.listed = len(mine), len(rest)
    work.pages = max(1, -(-(len(mine) + len(rest)) // PAGE_ROWS))
    if page > work.pages:
        raise BadPage(str(page), work.pages)
    start = (page - 1) * PAGE_ROWS
    memo: dict[str, int] = {}
    for i, (row, steps) in enumerate((mine + rest)[start : start + PAGE_ROWS]):
        shown = shown_row(desk, labels, row, steps, memo)
        (work.for_me if start + i < len(mine) else work.others).append(shown)
    only = scoped_unit(desk)
    work.units = [u for u in counts.units(desk) if only is None or u.unit == only]
    if only is not None and not work.units:  # the handler's own unit, even with nothing yet
        work.units = [UnitCounts(only)]
    return work


@dataclass
class CasePage:
    """One case as the officer may see it."""

    case: dict[str, Any]
    details: list[tuple[str, str]]
    timeline: list[dict[str, str]]
    content: list[dict[str, Any]] | None
    notes: list[dict[str, Any]] | None
    steps: list[str]
    colour: str
    due: str | None
    days_left: int | None
    units: list[tuple[str, str]]
    outcomes: list[tuple[str, str]]
    children: list[tuple[str, str]]  # lower offices a case can be assigned to
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    letters: list[tuple[str, str]] = field(default_factory=list)
    answer_draft: str = ""  # the latest draft of the answer to the reporter, if any
    files: list[dict[str, Any]] = field(default_factory=list)  # downloads (logged reads)


def pairs(codes: Any, names: dict[str, tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """(code, name) for a form's choices, named in ``lang`` from a (zh, en) table."""
    return [(c, names[c][0] if lang == "zh" else names[c][1]) for c in codes]


def step_choices(desk: Desk, labels: Labels) -> dict[str, list[tuple[str, str]]]:
    """The choices of the step forms, each named from the desk's own tables and lists."""
    lang = labels.lang
    return {
        "review_kinds": pairs(REVIEW_KINDS, REVIEW_LABELS, lang),
        "review_outcomes": [
            (o.code, labels.entry(o)) for o in desk.outcomes if o.stage == "review"
        ],
        "dispositions": [
            (d.code, labels.entry(d))
            for d in desk.taxonomy.dispositions
            if d.stage == "disposition"
        ],
        "messages": pairs(MESSAGE_LABELS, MESSAGE_LABELS, lang),
        "ratings": [(r, labels.t(f"rating_{r}")) for r in RATINGS],
        "supervise": pairs(SUPERVISE_KINDS, SUPERVISE_KINDS, lang),
        "how": [(h, labels.t(f"how_{h}")) for h in HOW],
    }


def case_page(desk: Desk, ref: str, labels: Labels) -> CasePage:
    """The case page; refused (by the desk) for an officer out of scope."""
    shown = show_case(desk, ref, desk_keys(desk))
    case = shown["case"]
    names = {o.id: o.name for o in all_officers(desk.db)}
    timeline = [
        {
            "time": office_time(e["time"], e["at"]),
            "who": names.get(e["actor"], e["actor"]),
            "what": labels.event(e["type"]),
        }
        for e in shown["events"]
    ]
    loaded = load_case(desk.db, case["id"])  # once, for the colour and the letters
    colour = CaseColours(desk).of(loaded)
    details = [
        (labels.t("received"), case["received_date"]),
        (labels.t("channel"), labels.channel(case["channel"])),
        (labels.t("state"), labels.state(case["state"])),
        (labels.t("item_type"), labels.item_type(case["item_type"])),
        (labels.t("problem"), labels.problem(case["problem_subtype"] or case["problem_type"])),
        (labels.t("rank"), labels.rank(case["rank"])),
        (labels.t("region"), labels.region(case["region"])),
        (labels.t("unit"), labels.unit(case["unit"] or case["forwarded_to"])),
        (labels.t("tags"), "、".join(labels.tag(t) for t in case["tags"])),
        (labels.t("outcome"), labels.entry(desk.outcomes.get(case["outcome"] or ""))),
    ]
    internal = [(u.code, labels.entry(u)) for u in desk.taxonomy.units if u.kind == "internal"]
    return CasePage(
        case=case,
        details=[(k, v) for k, v in details if v],
        timeline=timeline,
        content=shown.get("content"),
        notes=[{**n, "officer": names.get(n["officer"], n["officer"])} for n in shown["notes"]]
        if "notes" in shown
        else None,
        steps=my_steps(desk, shown["next_steps"]),
        colour=colour,
        due=shown["current_due"],
        days_left=days_left(desk, shown["current_due"]) if colour != "blue" else None,
        units=internal,
        outcomes=[(o.code, labels.entry(o)) for o in desk.outcomes if o.stage == "conclusion"],
        children=[(e.office_id, e.card.name) for e in offices(desk) if e.relation == "child"],
        choices=step_choices(desk, labels),
        letters=_letters(desk, loaded, labels.lang),
        files=shown.get("files", []),
        answer_draft=latest_draft(shown.get("notes") or []),
    )


def latest_draft(notes: list[dict[str, Any]]) -> str:
    """The text of the newest draft of the answer among a case's notes ('' for none)."""
    drafts = [n["text"] for n in notes if n.get("kind") == "draft"]
    return drafts[-1] if drafts else ""


def _letters(desk: Desk, case: Case, lang: str) -> list[tuple[str, str]]:
    """The letters the officer may issue for the case now."""
    return pairs(letters_for(case, desk.me().record), LETTERS, lang)
