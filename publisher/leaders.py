"""Reception leaders (点名接访): the data file, their next reception days, and an iCalendar feed.

The YAML file is checked on the PyYAML node tree rather than on loaded Python values. That way
every error names its line, and text fields keep exactly what was typed. YAML 1.1 would otherwise
read ``start: 9:00`` as the integer 540 (base 60) and ``phone: 0571`` as an integer.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import NoReturn, Protocol
from zoneinfo import ZoneInfo

import yaml
from icalendar import Calendar, Event, Timezone, TimezoneStandard
from yaml.constructor import SafeConstructor

from publisher.errors import LeadersFileError

__all__ = [
    "English",
    "Leader",
    "LeadersFileError",
    "MonthlyDay",
    "MonthlyNth",
    "NonWorkingDays",
    "Reception",
    "ReceptionSlot",
    "Site",
    "Weekly",
    "WorkingDayCalendar",
    "leaders_ics",
    "load_leaders",
    "next_receptions",
    "parse_leaders",
    "receptions_between",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_Date = date  # Reception has a field named "date"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_MOVE = timedelta(days=31)  # a reception that cannot be held within a month is dropped


@dataclass(frozen=True, slots=True)
class English:
    """The English versions given in the file (``en:``) of a leader's or a site's text; what
    is missing the English page transliterates (names) or shows in Chinese."""

    name: str | None = None
    post: str | None = None
    duties: tuple[str, ...] | None = None
    responsible_for: tuple[str, ...] | None = None
    office: str | None = None
    address: str | None = None


NO_ENGLISH = English()


@dataclass(frozen=True, slots=True)
class Site:
    """A reception site (接访地点)."""

    name: str
    address: str
    en: English = NO_ENGLISH


@dataclass(frozen=True, slots=True)
class MonthlyDay:
    """Every month on ``day`` (1–28, so every month has it)."""

    day: int


@dataclass(frozen=True, slots=True)
class Weekly:
    """Every week on ``weekday`` (0 = Monday)."""

    weekday: int


@dataclass(frozen=True, slots=True)
class MonthlyNth:
    """Every month on the ``nth`` (1–4, or -1 for the last) ``weekday`` (0 = Monday)."""

    nth: int
    weekday: int


Rule = MonthlyDay | Weekly | MonthlyNth


@dataclass(frozen=True, slots=True)
class ReceptionSlot:
    """One line of a leader's reception schedule."""

    rule: Rule
    start: time
    end: time
    site: Site


@dataclass(frozen=True, slots=True)
class Leader:
    """A reception leader as published on the portal."""

    id: str
    name: str
    photo: str | None
    post: str
    duties: tuple[str, ...]
    responsible_for: tuple[str, ...]
    office: str
    phone: str
    email: str
    sites: tuple[Site, ...]
    schedule: tuple[ReceptionSlot, ...]
    en: English = NO_ENGLISH


@dataclass(frozen=True, slots=True)
class Reception:
    """One reception day. ``scheduled`` differs from ``date`` when it was moved off a closed day."""

    leader_id: str
    slot: int
    date: _Date
    scheduled: _Date
    start: time
    end: time
    site: Site


class WorkingDayCalendar(Protocol):
    """Anything that knows working days, such as ``holidays.China(...)``."""

    def is_working_day(self, day: date) -> bool: ...


@dataclass(frozen=True, slots=True)
class NonWorkingDays:
    """``day in NonWorkingDays(cal)`` is true on weekends and public holidays, for ``closed=``.

    A holiday list alone is not enough: ``holidays.China`` leaves out the weekend days inside a
    break (the Sunday that starts Spring Festival 2026) and knows the make-up working Saturdays
    (调休). ``is_working_day`` accounts for both.
    """

    calendar: WorkingDayCalendar

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and not self.calendar.is_working_day(day)


def load_leaders(path: str | Path) -> tuple[Leader, ...]:
    """Read and check a leaders file; raise :class:`LeadersFileError` naming file, line, field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LeadersFileError(str(path), 0, "", f"cannot read the file: {exc}") from exc
    return parse_leaders(text, source=str(path))


def parse_leaders(text: str, source: str = "leaders.yaml") -> tuple[Leader, ...]:
    """Check leaders YAML given as text; ``source`` is the file name used in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise LeadersFileError(source, line, "", f"not valid YAML: {exc.problem}") from exc
    if root is None:
        raise LeadersFileError(source, 1, "", "the file is empty")
    return _Reader(source).document(root)


def receptions_between(
    leader: Leader,
    first: date,
    last: date,
    *,
    closed: Container[date] = frozenset(),
    move_closed: bool = True,
) -> list[Reception]:
    """Receptions from ``first`` to ``last`` inclusive, in time order.

    ``closed`` holds the days the office does not receive: a set of dates, or
    :class:`NonWorkingDays` for weekends and public holidays. A reception on a closed day moves to
    the next open day when ``move_closed`` is true (dropped if none within a month), else it is
    dropped.
    """
    found: dict[tuple[date, time, str], Reception] = {}
    start = first - MAX_MOVE if move_closed else first  # a moved reception may land in the range
    for n, slot in enumerate(leader.schedule):
        for day in _dates(slot.rule, start, last):
            held = _open_day(day, closed) if move_closed else (None if day in closed else day)
            if held is None or not first <= held <= last:
                continue
            rec = Reception(leader.id, n, held, day, slot.start, slot.end, slot.site)
            found.setdefault((held, slot.start, slot.site.name), rec)  # one per day, time and site
    return sorted(found.values(), key=lambda r: (r.date, r.start, r.slot))


def next_receptions(
    leader: Leader,
    today: date,
    count: int,
    *,
    closed: Container[date] = frozenset(),
    move_closed: bool = True,
) -> list[Reception]:
    """The next ``count`` receptions from ``today`` (included); see :func:`receptions_between`."""
    if count < 1:
        return []
    horizon = 31 * (count + 2)
    while True:
        found = receptions_between(
            leader, today, today + timedelta(days=horizon), closed=closed, move_closed=move_closed
        )
        if len(found) >= count or horizon > 3660:  # give up after ten years (all days closed)
            return found[:count]
        horizon *= 2


def leaders_ics(
    leaders: Sequence[Leader],
    today: date,
    months_ahead: int = 3,
    *,
    closed: Container[date] = frozenset(),
    move_closed: bool = True,
    uid_domain: str = "lianxin.invalid",
) -> bytes:
    """An RFC 5545 calendar with one event per reception from ``today`` for ``months_ahead``.

    UIDs come from the leader id, the schedule line and the scheduled date, so a build repeated on
    another day, or a reception moved by a holiday, updates the same event. DTSTAMP is ``today``
    at 00:00 UTC, not the clock, so the same input gives the same bytes.
    """
    if not 0 <= months_ahead <= 24:
        raise ValueError("months_ahead must be between 0 and 24")
    cal = Calendar()
    cal.add("prodid", "-//Lianxin//Reception leaders//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "点名接访")
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add_component(_shanghai())
    stamp = datetime(today.year, today.month, today.day, tzinfo=UTC)
    last = _add_months(today, months_ahead) - timedelta(days=1)
    for leader in leaders:
        for rec in receptions_between(leader, today, last, closed=closed, move_closed=move_closed):
            event = Event()
            event.add("uid", f"{leader.id}-{rec.slot}-{rec.scheduled:%Y%m%d}@{uid_domain}")
            event.add("dtstamp", stamp)
            event.add("dtstart", datetime.combine(rec.date, rec.start, tzinfo=SHANGHAI))
            event.add("dtend", datetime.combine(rec.date, rec.end, tzinfo=SHANGHAI))
            event.add("summary", f"{leader.name}（{leader.post}）接访")
            event.add("location", f"{rec.site.name}，{rec.site.address}")
            event.add("description", _description(leader, rec))
            cal.add_component(event)
    return bytes(cal.to_ical())


def _description(leader: Leader, rec: Reception) -> str:
    lines = [
        f"分管工作：{'、'.join(leader.duties)}",
        f"联系乡镇/单位：{'、'.join(leader.responsible_for)}",
        f"办公地点：{leader.office}",
        f"电话：{leader.phone}",
        f"邮箱：{leader.email}",
    ]
    if rec.date != rec.scheduled:
        lines.append(f"原定 {rec.scheduled.isoformat()}，因节假日或休息日顺延。")
    return "\n".join(lines)


def _shanghai() -> Timezone:
    # Written out rather than generated from tzdata: China has kept +08:00 without daylight time
    # since 1991, and a fixed component keeps the feed byte-identical across tzdata versions.
    tz = Timezone()
    tz.add("tzid", "Asia/Shanghai")
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", timedelta(hours=8))
    standard.add("tzoffsetto", timedelta(hours=8))
    standard.add("tzname", "CST")
    tz.add_component(standard)
    return tz


def _dates(rule: Rule, first: date, last: date) -> Iterator[date]:
    if isinstance(rule, Weekly):
        day = first + timedelta(days=(rule.weekday - first.weekday()) % 7)
        while day <= last:
            yield day
            day += timedelta(days=7)
        return
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        day = _in_month(rule, year, month)
        if first <= day <= last:
            yield day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _in_month(rule: MonthlyDay | MonthlyNth, year: int, month: int) -> date:
    if isinstance(rule, MonthlyDay):
        return date(year, month, rule.day)
    if rule.nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(rule.weekday - first.weekday()) % 7 + 7 * (rule.nth - 1))
    end = date(year, month, calendar.monthrange(year, month)[1])
    return end - timedelta(days=(end.weekday() - rule.weekday) % 7)


def _open_day(day: date, closed: Container[date]) -> date | None:
    held = day
    while held in closed:
        held += timedelta(days=1)
        if held - day > MAX_MOVE:
            return None
    return held


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- checking the file --------------------------------------------------------------------------

_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{2,30}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
_LEADER_FIELDS = ("id", "name", "post", "duties", "responsible_for", "office", "phone", "email")


class _Reader:
    """Walks the YAML node tree; every failure names the file, line and field path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.id_lines: dict[str, int] = {}

    def fail(self, node: yaml.Node, field: str, problem: str) -> NoReturn:
        raise LeadersFileError(self.source, node.start_mark.line + 1, field, problem)

    def document(self, root: yaml.Node) -> tuple[Leader, ...]:
        fields = self.mapping(root, "", ("version", "leaders"))
        if self.integer(fields["version"], "version") != 1:
            self.fail(fields["version"], "version", "must be 1")
        items = self.sequence(fields["leaders"], "leaders")
        return tuple(self.leader(node, f"leaders[{n}]") for n, node in enumerate(items))

    def leader(self, node: yaml.Node, path: str) -> Leader:
        f = self.mapping(node, path, (*_LEADER_FIELDS, "sites", "schedule"), ("photo", "en"))
        leader_id = self.text(f["id"], f"{path}.id")
        if not _ID.fullmatch(leader_id):
            self.fail(f["id"], f"{path}.id", "must be lower-case letters, digits and '-'")
        if leader_id in self.id_lines:
            self.fail(f["id"], f"{path}.id", f"already used on line {self.id_lines[leader_id]}")
        self.id_lines[leader_id] = f["id"].start_mark.line + 1
        phone, email = (
            self.text(f["phone"], f"{path}.phone"),
            self.text(f["email"], f"{path}.email"),
        )
        if not _PHONE.fullmatch(phone):
            self.fail(f["phone"], f"{path}.phone", "must be digits, spaces, '-' or '()'")
        if not _EMAIL.fullmatch(email):
            self.fail(f["email"], f"{path}.email", "must be an e-mail address")
        sites: list[Site] = []
        for n, item in enumerate(self.sequence(f["sites"], f"{path}.sites")):
            sites.append(self.site(item, f"{path}.sites[{n}]"))
            if sites[-1].name in (s.name for s in sites[:-1]):
                self.fail(item, f"{path}.sites[{n}].name", "another site has this name")
        schedule = tuple(
            self.slot(item, f"{path}.schedule[{n}]", tuple(sites))
            for n, item in enumerate(self.sequence(f["schedule"], f"{path}.schedule"))
        )
        duties = self.texts(f["duties"], f"{path}.duties")
        responsible_for = self.texts(f["responsible_for"], f"{path}.responsible_for")
        return Leader(
            id=leader_id,
            name=self.text(f["name"], f"{path}.name"),
            photo=self.photo(f["photo"], f"{path}.photo") if "photo" in f else None,
            post=self.text(f["post"], f"{path}.post"),
            duties=duties,
            responsible_for=responsible_for,
            office=self.text(f["office"], f"{path}.office"),
            phone=phone,
            email=email,
            sites=tuple(sites),
            schedule=schedule,
            en=self.english(f["en"], f"{path}.en", duties, responsible_for)
            if "en" in f
            else NO_ENGLISH,
        )

    def english(
        self,
        node: yaml.Node,
        path: str,
        duties: tuple[str, ...],
        responsible_for: tuple[str, ...],
    ) -> English:
        """A leader's optional ``en:`` block; its lists match the Chinese ones item by item."""
        singles = ("name", "post", "office")
        f = self.mapping(node, path, (), (*singles, "duties", "responsible_for"))
        lists: dict[str, tuple[str, ...]] = {}
        for key, chinese in (("duties", duties), ("responsible_for", responsible_for)):
            if key in f:
                lists[key] = self.texts(f[key], f"{path}.{key}")
                if len(lists[key]) != len(chinese):
                    self.fail(
                        f[key],
                        f"{path}.{key}",
                        f"must have {len(chinese)} items, one for each of {key} "
                        f"({'、'.join(chinese)})",
                    )
        texts = {k: self.text(f[k], f"{path}.{k}") if k in f else None for k in singles}
        return English(
            name=texts["name"],
            post=texts["post"],
            office=texts["office"],
            duties=lists.get("duties"),
            responsible_for=lists.get("responsible_for"),
        )

    def site(self, node: yaml.Node, path: str) -> Site:
        f = self.mapping(node, path, ("name", "address"), ("en",))
        english = NO_ENGLISH
        if "en" in f:
            e = self.mapping(f["en"], f"{path}.en", (), ("name", "address"))
            english = English(
                name=self.text(e["name"], f"{path}.en.name") if "name" in e else None,
                address=self.text(e["address"], f"{path}.en.address") if "address" in e else None,
            )
        return Site(
            self.text(f["name"], f"{path}.name"),
            self.text(f["address"], f"{path}.address"),
            english,
        )

    def slot(self, node: yaml.Node, path: str, sites: tuple[Site, ...]) -> ReceptionSlot:
        kinds = ("monthly", "weekly", "monthly_nth")
        f = self.mapping(node, path, ("start", "end"), (*kinds, "site"))
        given = [k for k in kinds if k in f]
        if len(given) != 1:
            self.fail(node, path, "needs exactly one of monthly, weekly, monthly_nth")
        kind = given[0]
        rule = self.rule(kind, f[kind], f"{path}.{kind}")
        start, end = self.time(f["start"], f"{path}.start"), self.time(f["end"], f"{path}.end")
        if end <= start:
            self.fail(f["end"], f"{path}.end", "must be later than start")
        if "site" in f:
            name = self.text(f["site"], f"{path}.site")
            match = [s for s in sites if s.name == name]
            if not match:
                known = ", ".join(s.name for s in sites)
                self.fail(f["site"], f"{path}.site", f"not one of this leader's sites ({known})")
            site = match[0]
        elif len(sites) == 1:
            site = sites[0]
        else:
            self.fail(node, f"{path}.site", "required when the leader has several sites")
        return ReceptionSlot(rule, start, end, site)

    def rule(self, kind: str, node: yaml.Node, path: str) -> Rule:
        if kind == "monthly":
            f = self.mapping(node, path, ("day",))
            day = self.integer(f["day"], f"{path}.day")
            if not 1 <= day <= 28:
                self.fail(f["day"], f"{path}.day", "must be 1–28 (a day every month has)")
            return MonthlyDay(day)
        if kind == "weekly":
            f = self.mapping(node, path, ("weekday",))
            return Weekly(self.weekday(f["weekday"], f"{path}.weekday"))
        f = self.mapping(node, path, ("nth", "weekday"))
        nth = self.integer(f["nth"], f"{path}.nth")
        if nth not in (1, 2, 3, 4, -1):
            self.fail(f["nth"], f"{path}.nth", "must be 1–4, or -1 for the last")
        return MonthlyNth(nth, self.weekday(f["weekday"], f"{path}.weekday"))

    def mapping(
        self, node: yaml.Node, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, path or "(top level)", "must be a mapping of fields")
        found: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            field = f"{path}.{key}" if path else key
            if key not in required + optional:
                self.fail(
                    key_node, field, f"unknown field (known: {', '.join(required + optional)})"
                )
            if key in found:
                self.fail(key_node, field, "given twice")
            found[key] = value
        for key in required:
            if key not in found:
                self.fail(node, f"{path}.{key}" if path else key, "required")
        return found

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.fail(node, path, "must be a list with at least one item")
        return list(node.value)

    def text(self, node: yaml.Node, path: str) -> str:
        # The raw scalar, not the resolved value: "0571-…" or "9:00" stay as written.
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, path, "must be text")
        value = str(node.value).strip()
        if node.tag == _NULL or not value:
            self.fail(node, path, "must not be empty")
        if _CONTROL.search(value) or len(value) > 200:
            self.fail(node, path, "must be one line of at most 200 characters")
        return value

    def texts(self, node: yaml.Node, path: str) -> tuple[str, ...]:
        return tuple(
            self.text(item, f"{path}[{n}]") for n, item in enumerate(self.sequence(node, path))
        )

    def integer(self, node: yaml.Node, path: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _INT:
            self.fail(node, path, "must be a whole number")
        return int(SafeConstructor().construct_yaml_int(node))  # 1_000, 0x1F… as YAML reads them

    def weekday(self, node: yaml.Node, path: str) -> int:
        value = self.text(node, path).lower()
        if value not in WEEKDAYS:
            self.fail(node, path, f"must be one of {', '.join(WEEKDAYS)}")
        return WEEKDAYS.index(value)

    def time(self, node: yaml.Node, path: str) -> time:
        match = _TIME.fullmatch(self.text(node, path))
        if match is None:
            self.fail(node, path, "must be a time like 09:00")
        return time(int(match[1]), int(match[2]))

    def photo(self, node: yaml.Node, path: str) -> str:
        value = self.text(node, path)
        parts = value.split("/")
        if (
            any(ch in value for ch in "\\:?#")
            or value.startswith("/")
            or any(part in ("", ".", "..") for part in parts)
            or not value.lower().endswith(_PHOTO_SUFFIXES)
        ):
            self.fail(node, path, "must be a relative path inside the portal to a .jpg/.png/.webp")
        return str(PurePosixPath(value))
