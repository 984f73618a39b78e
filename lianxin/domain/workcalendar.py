"""China's working-day calendar: the ``holidays`` package plus an override file.

Working days follow the State Council General Office's yearly notice, which also turns some
weekend days into working days (调休). ``holidays.China`` encodes each notice as "substituted"
days: the weekday off goes into the holiday table and the weekend day worked goes into
``weekend_workdays``. Both come from one per-year table, ``special_public_holidays``.

**How a year without data is detected.** For a year whose notice the installed package does
not know, ``holidays`` still returns the statutory festivals (the lunar dates are computed up
to 2100) and even guesses in-lieu days, but it has no make-up working days, so it would
silently treat that year's weekends as rest days. A year therefore counts as *known* only if
``special_public_holidays`` has an entry for it (every notice since 2001 has one), or if the
override file lists it. Every other year (before 2001, and 2027 onwards with holidays 0.109)
is reported by the arithmetic in :mod:`lianxin.domain.workdays` as uncertain, never assumed.

The override file lets staff enter a new notice in November without a release::

    version: "2026.2"
    years:
      2027:
        notice: 国务院办公厅关于2027年部分节假日安排的通知
        holidays: [2027-02-05, 2027-02-11]   # days off
        workdays: [2027-02-20]               # days worked (usually weekend make-up days)

A listed year counts as known. Override dates win over the package: a ``workdays`` entry is a
working day even if the package guessed an in-lieu holiday there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import MappingProxyType

from holidays.countries.china import China
from holidays.version import __version__ as HOLIDAYS_VERSION

from .yamlnodes import Value, display_path, read_document

FIRST_YEAR = 1950  # holidays.China.start_year
LAST_YEAR = 2100  # holidays' default end year; the lunar tables stop there
_SATURDAY = 5


@dataclass(frozen=True)
class OverrideYear:
    """One year's notice as entered by staff."""

    year: int
    notice: str
    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass(frozen=True)
class CalendarOverride:
    """Extra holidays and working days, merged on top of the ``holidays`` package."""

    version: str
    file: str
    years: Mapping[int, OverrideYear]

    def holidays(self) -> frozenset[date]:
        """Every day off the override lists."""
        return frozenset().union(*(y.holidays for y in self.years.values()))

    def workdays(self) -> frozenset[date]:
        """Every working day the override lists."""
        return frozenset().union(*(y.workdays for y in self.years.values()))


def _dates(v: Value, year: int, seen: dict[date, str], kind: str) -> frozenset[date]:
    out: set[date] = set()
    for item in v.sequence():
        day = item.day()
        # A notice may make a late-December day of the year before a working day (2002, 2012).
        allowed = (year,) if kind == "holiday" else (year - 1, year)
        if day.year not in allowed:
            item.fail(f"{day.isoformat()} is not in {year}")
        if day in seen:
            item.fail(f"{day.isoformat()} is already listed as a {seen[day]}")
        seen[day] = kind
        out.add(day)
    return frozenset(out)


def load_calendar_override(path: Path) -> CalendarOverride:
    """Load and validate an override file; problems raise
    :class:`~lianxin.domain.errors.DataFileError` naming the file, line and field."""
    top = read_document(path).mapping(("version", "years"))
    version = top["version"].version()
    seen: dict[date, str] = {}
    years: dict[int, OverrideYear] = {}
    for key, value in top["years"].pairs():
        year = key.integer(FIRST_YEAR, LAST_YEAR)
        f = value.mapping(("notice",), ("holidays", "workdays"))
        off = _dates(f["holidays"], year, seen, "holiday") if "holidays" in f else frozenset()
        on = _dates(f["workdays"], year, seen, "working day") if "workdays" in f else frozenset()
        years[year] = OverrideYear(year, f["notice"].string(), off, on)
    return CalendarOverride(version, display_path(path), MappingProxyType(years))


def _package(years: int | tuple[()]) -> China:
    # holidays' country constructors take untyped *args/**kwargs.
    return China(years=years)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class _Year:
    weekdays_off: frozenset[date]
    weekends_on: frozenset[date]


class WorkCalendar:
    """Which days are working days in mainland China, and which years that is known for."""

    def __init__(self, override: CalendarOverride | None = None) -> None:
        self.override = override
        probe = _package(())
        # If a future `holidays` renames this table, no year is known and every deadline is
        # flagged: failing closed, and caught by the tests that expect 2026 to be known.
        self._notice_years = frozenset(getattr(probe, "special_public_holidays", {}))
        self._extra_off = override.holidays() if override else frozenset()
        self._extra_on = override.workdays() if override else frozenset()
        self._years: dict[int, _Year] = {}

    @property
    def version(self) -> str:
        """What the answers are based on, for audit: package version and override version."""
        text = f"holidays {HOLIDAYS_VERSION}"
        if self.override is not None:
            text += f" + override {self.override.version} ({self.override.file})"
        return text

    def has_data(self, year: int) -> bool:
        """Whether that year's State Council notice is known (package or override)."""
        return year in self._notice_years or (
            self.override is not None and year in self.override.years
        )

    def unknown_years(self, first: date, last: date) -> frozenset[int]:
        """Years from ``first`` to ``last`` (either order) whose notice is not known."""
        low, high = sorted((first.year, last.year))
        return frozenset(y for y in range(low, high + 1) if not self.has_data(y))

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            package = _package(year)
            # weekend_workdays also holds make-up days that a *later* year's notice moved into
            # this year's December (e.g. 2001-12-29 from the 2002 notice): the constructor
            # loads those for all years, so populating this year alone is enough.
            days_off = {d for d in package if d.weekday() < _SATURDAY}
            weekdays_off = (days_off - self._extra_on) | {
                d for d in self._extra_off if d.year == year and d.weekday() < _SATURDAY
            }
            weekends_on = {d for d in package.weekend_workdays | self._extra_on if d.year == year}
            cached = _Year(frozenset(weekdays_off), frozenset(weekends_on - self._extra_off))
            self._years[year] = cached  # a racing thread computes the same value: harmless
        return cached

    def is_working_day(self, day: date) -> bool:
        """True for a working day: a weekday that is not a day off, or a make-up weekend day."""
        year = self._year(day.year)
        if day.weekday() >= _SATURDAY:
            return day in year.weekends_on
        return day not in year.weekdays_off

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day = date.fromordinal(day.toordinal() + 1)
        return day
