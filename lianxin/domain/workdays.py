"""Deadline arithmetic: working days, calendar days and months, and three-colour warnings.

Conventions (configurable per policy, see :class:`lianxin.domain.policy.Counting`):

* The start day is not counted (民法典 Art. 201): ``add_working_days(d, 1)`` is the first
  working day *after* ``d``. So ``working_days_between(a, b)`` counts working days in
  ``(a, b]``, and ``working_days_between(d, add_working_days(d, n).due) == n``.
* A deadline ends at 24:00 on its due day: a case is overdue from the next day.

Every result that depends on the calendar carries the years whose State Council notice is not
known (:attr:`Deadline.uncertain_years`); see :mod:`lianxin.domain.workcalendar` for how that is
detected. Callers show such deadlines as provisional and recompute them once the override file
has the notice.
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from typing import Protocol

from lianxin.officetime import office_zone

from .errors import DeadlineError
from .policy import Rule, Span, SpanUnit
from .workcalendar import WorkCalendar

DEFAULT_WARNING = Span(5, SpanUnit.WORKING)  # 到期前5个工作日下发预警通知 (seed 003)
_ONE_DAY = timedelta(days=1)


class Clock(Protocol):
    """Where "today" comes from; inject a :class:`FixedClock` in tests."""

    def today(self) -> date: ...

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class SystemClock:
    """Today in the office's time zone (``LIANXIN_TIMEZONE``, see :mod:`lianxin.officetime`),
    not the server's own date."""

    tz: tzinfo = field(default_factory=office_zone)

    def today(self) -> date:
        """The current date in ``tz``."""
        return datetime.now(self.tz).date()

    def now(self) -> datetime:
        """The current instant (aware)."""
        return datetime.now(self.tz)


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at ``day``."""

    day: date
    hour: time = time(12)

    def today(self) -> date:
        """Always ``day``."""
        return self.day

    def now(self) -> datetime:
        """``hour`` (noon by default) of ``day`` in the office's time zone."""
        return datetime.combine(self.day, self.hour, office_zone())


@dataclass(frozen=True)
class Deadline:
    """A due date, with the years whose holiday data was missing when it was computed."""

    due: date
    uncertain_years: frozenset[int] = frozenset()

    @property
    def certain(self) -> bool:
        """True when every year the computation touched had a known holiday notice."""
        return not self.uncertain_years


@dataclass(frozen=True)
class DayCount:
    """A number of working days, with the years whose holiday data was missing."""

    days: int
    uncertain_years: frozenset[int] = frozenset()


class Colour(StrEnum):
    """Three-colour supervision (红黄蓝, seed 001), plus green for "nothing to do yet"."""

    RED = "red"  # overdue: 督办
    YELLOW = "yellow"  # inside the warning window: 催办提醒
    GREEN = "green"  # open and not yet close to the deadline
    BLUE = "blue"  # concluded: 对账销号


@dataclass(frozen=True)
class WarningState:
    """A case's colour, with the years whose holiday data was missing."""

    colour: Colour
    uncertain_years: frozenset[int] = frozenset()


@cache
def default_calendar() -> WorkCalendar:
    """The package calendar without an override, built on first use and then shared."""
    return WorkCalendar()


def add_working_days(start: date, n: int, *, calendar: WorkCalendar | None = None) -> Deadline:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` returns ``start``. Raises :class:`~lianxin.domain.errors.DeadlineError` for a
    negative ``n``.
    """
    if n < 0:
        raise DeadlineError(f"cannot add a negative number of working days ({n})")
    cal = calendar or default_calendar()
    day, left = start, n
    while left:
        day += _ONE_DAY
        if cal.is_working_day(day):
            left -= 1
    return Deadline(day, cal.unknown_years(start, day))


def working_days_between(a: date, b: date, *, calendar: WorkCalendar | None = None) -> DayCount:
    """Working days in ``(a, b]``; negative (minus those in ``(b, a]``) when ``b < a``."""
    cal = calendar or default_calendar()
    low, high = sorted((a, b))
    count, day = 0, low
    while day < high:
        day += _ONE_DAY
        count += cal.is_working_day(day)
    return DayCount(count if a <= b else -count, cal.unknown_years(a, b))


def add_months(start: date, n: int) -> date:
    """``start`` plus ``n`` calendar months; a day missing in the target month becomes its
    last day (Jan 31 + 1 month = Feb 28/29)."""
    months = start.year * 12 + start.month - 1 + n
    year, month = divmod(months, 12)
    last = gregorian.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(start.day, last))


def _roll_to_working_day(deadline: Deadline, cal: WorkCalendar) -> Deadline:
    rolled = cal.next_working_day(deadline.due)
    return Deadline(rolled, deadline.uncertain_years | cal.unknown_years(deadline.due, rolled))


def _add_span(start: date, span: Span, cal: WorkCalendar) -> Deadline:
    if span.unit is SpanUnit.WORKING:
        return add_working_days(start, span.count, calendar=cal)
    if span.unit is SpanUnit.CALENDAR:
        return Deadline(start + timedelta(days=span.count))
    return Deadline(add_months(start, span.count))


def deadline_for(
    rule: Rule, start: date, *, extensions: int = 0, calendar: WorkCalendar | None = None
) -> Deadline:
    """When ``rule`` falls due for a clock started on ``start``, after ``extensions`` extensions.

    Extensions lengthen the period (like units are summed, so month ends do not drift). A
    calendar-day or month deadline that ends on a rest day moves to the next working day only
    if the policy's counting says so (``roll_rest_day_end``).
    Raises :class:`~lianxin.domain.errors.DeadlineError` for more extensions than the rule allows.
    """
    if not 0 <= extensions <= rule.max_extensions:
        allowed = rule.max_extensions
        raise DeadlineError(f"rule {rule.code!r} allows {allowed} extension(s), not {extensions}")
    cal = calendar or default_calendar()
    uncertain: frozenset[int] = frozenset()
    if rule.span.unit is SpanUnit.WORKING and rule.counting.shift_rest_day_start:
        shifted = cal.next_working_day(start)
        uncertain = cal.unknown_years(start, shifted)
        start = shifted
    spans = [rule.span]
    for _ in range(extensions):
        assert rule.extension is not None  # the policy loader refuses max_extensions without one
        if rule.extension.unit is spans[-1].unit:
            # Sum like units first: 3 + 3 months from Nov 30 is May 30, not Feb 28 + 3 months.
            spans[-1] = Span(spans[-1].count + rule.extension.count, rule.extension.unit)
        else:
            spans.append(rule.extension)
    result = Deadline(start)
    for span in spans:
        step = _add_span(result.due, span, cal)
        result = Deadline(step.due, result.uncertain_years | step.uncertain_years)
    if spans[-1].unit is not SpanUnit.WORKING and rule.counting.roll_rest_day_end:
        result = _roll_to_working_day(result, cal)
    return Deadline(result.due, result.uncertain_years | uncertain)


def warning_colour(
    due: date,
    today: date,
    *,
    concluded: bool = False,
    window: Span = DEFAULT_WARNING,
    calendar: WorkCalendar | None = None,
) -> WarningState:
    """The case's colour on ``today``: blue if concluded, red once ``due`` has passed, yellow
    when ``due`` is at most ``window`` away (working days in ``(today, due]``), else green.

    A window of 0 turns yellow off. Month windows are refused (the policy loader never makes one).
    """
    if concluded:
        return WarningState(Colour.BLUE)
    if today > due:
        return WarningState(Colour.RED)
    if window.unit is SpanUnit.MONTHS:
        raise DeadlineError("a warning window is counted in days, not months")
    if window.unit is SpanUnit.CALENDAR:
        left = DayCount((due - today).days)
    else:
        left = working_days_between(today, due, calendar=calendar)
    colour = Colour.YELLOW if window.count > 0 and left.days <= window.count else Colour.GREEN
    return WarningState(colour, left.uncertain_years)
