"""Working-day arithmetic on China's State Council calendar, the override file, deadlines from
policies, three-colour warnings and the clock."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from holidays.countries.china import China
from holidays.version import __version__ as holidays_version
from hypothesis import given, settings
from hypothesis import strategies as st

from lianxin.domain.errors import DataFileError, DeadlineError
from lianxin.domain.policy import Span, SpanUnit, load_policy
from lianxin.domain.workcalendar import WorkCalendar, load_calendar_override
from lianxin.domain.workdays import (
    Clock,
    Colour,
    Deadline,
    FixedClock,
    SystemClock,
    add_months,
    add_working_days,
    deadline_for,
    warning_colour,
    working_days_between,
)

CAL = WorkCalendar()
NONE: frozenset[int] = frozenset()

# --- the oracle and the 2026 notice --------------------------------------------------------


def test_oracle_15_working_days_across_spring_festival_2026() -> None:
    assert add_working_days(date(2026, 2, 10), 15) == Deadline(date(2026, 3, 9), NONE)
    assert working_days_between(date(2026, 2, 10), date(2026, 3, 9)).days == 15


def test_spring_festival_2026_make_up_days_are_working_days() -> None:
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday
    assert CAL.is_working_day(date(2026, 2, 28))  # Saturday
    # 春节 2/15-2/23 off, weekdays included.
    off = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert not any(CAL.is_working_day(d) for d in off)
    assert CAL.is_working_day(date(2026, 2, 24))


def test_2026_matches_the_state_council_notice() -> None:
    # Weekend working days in the 2026 notice (domain-rules-cn.md §5.1).
    make_up = {date(2026, m, d) for m, d in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)]}
    weekends = [d for d in _days(date(2026, 1, 1), date(2026, 12, 31)) if d.weekday() >= 5]
    assert {d for d in weekends if CAL.is_working_day(d)} == make_up
    assert working_days_between(date(2025, 12, 31), date(2026, 12, 31)).days == 248


def test_agrees_with_the_package_day_by_day() -> None:
    package = China(years=range(2001, 2028))  # type: ignore[no-untyped-call]
    for day in _days(date(2001, 1, 1), date(2027, 12, 31)):
        assert CAL.is_working_day(day) == package.is_working_day(day), day


def test_cross_year_make_up_day_is_a_working_day() -> None:
    # The 2002 notice made Saturday 2001-12-29 a working day.
    assert CAL.is_working_day(date(2001, 12, 29))


# --- years without data ---------------------------------------------------------------------


def test_a_year_without_a_notice_is_flagged() -> None:
    assert CAL.has_data(2026)
    assert not CAL.has_data(2027)  # holidays 0.109 knows notices up to 2026
    assert not CAL.has_data(2000)  # and from 2001
    assert add_working_days(date(2027, 3, 1), 5).uncertain_years == {2027}
    crossing = add_working_days(date(2026, 12, 20), 15)
    assert crossing.due.year == 2027
    assert crossing.uncertain_years == {2027}
    assert not crossing.certain
    assert working_days_between(date(2026, 6, 1), date(2031, 1, 1)).uncertain_years == {
        2027,
        2028,
        2029,
        2030,
        2031,
    }
    assert add_working_days(date(2026, 6, 1), 10).certain


def test_calendar_day_rules_are_flagged_only_when_they_consult_the_calendar() -> None:
    xinfang = load_policy("cn-xinfang-2022")  # rolls a deadline off rest days
    eu = load_policy("eu-2019-1937")  # does not
    assert deadline_for(xinfang.rule("notify"), date(2027, 3, 1)).uncertain_years == {2027}
    assert deadline_for(eu.rule("acknowledge"), date(2027, 3, 1)).certain


# --- the override file ------------------------------------------------------------------------


def _override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_override_adds_a_holiday_and_a_make_up_day(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        """
        version: "2026.2"
        years:
          2026:
            notice: 县政府临时通知
            holidays: [2026-03-02]
            workdays: [2026-03-07]
        """,
    )
    cal = WorkCalendar(load_calendar_override(path))
    assert not cal.is_working_day(date(2026, 3, 2))  # a Monday, now off
    assert cal.is_working_day(date(2026, 3, 7))  # a Saturday, now worked
    assert CAL.is_working_day(date(2026, 3, 2)) and not CAL.is_working_day(date(2026, 3, 7))
    assert add_working_days(date(2026, 2, 10), 15, calendar=cal).due == date(2026, 3, 9)
    assert add_working_days(date(2026, 2, 10), 16, calendar=cal).due == date(2026, 3, 10)
    assert cal.version == f"holidays {holidays_version} + override 2026.2 ({path})"


def test_override_supplies_a_new_years_notice(tmp_path: Path) -> None:
    path = _override(
        tmp_path,
        """
        version: "2026.3"
        years:
          2027:
            notice: 国务院办公厅关于2027年部分节假日安排的通知
            holidays: [2027-02-11, 2027-02-12]
            workdays: [2027-02-09, 2027-02-20]
        """,
    )
    cal = WorkCalendar(load_calendar_override(path))
    assert cal.has_data(2027)
    assert add_working_days(date(2027, 3, 1), 5, calendar=cal).certain
    assert cal.is_working_day(date(2027, 2, 20))  # Saturday make-up day
    assert not cal.is_working_day(date(2027, 2, 11))  # Thursday off
    # The package guessed an in-lieu day on Tuesday 2027-02-09; the notice wins.
    assert not CAL.is_working_day(date(2027, 2, 9))
    assert cal.is_working_day(date(2027, 2, 9))


def _override_refused(tmp_path: Path, text: str) -> str:
    path = _override(tmp_path, text)
    with pytest.raises(DataFileError) as caught:
        load_calendar_override(path)
    return str(caught.value)[len(f"{path}:") :]


def test_bad_override_files(tmp_path: Path) -> None:
    head = 'version: "2027.1"\nyears:\n  2027:\n    notice: n\n'
    assert _override_refused(tmp_path, head + "    holidays: [2028-01-01]\n") == (
        "5: years.2027.holidays[0]: 2028-01-01 is not in 2027"
    )
    assert (
        _override_refused(
            tmp_path, head + "    holidays: [2027-02-11]\n    workdays: [2027-02-11]\n"
        )
        == "6: years.2027.workdays[0]: 2027-02-11 is already listed as a holiday"
    )
    assert _override_refused(tmp_path, head + "    holidays: [2027-02-11 09:00:00]\n") == (
        "5: years.2027.holidays[0]: expected a date (YYYY-MM-DD) without a time"
    )
    assert _override_refused(tmp_path, head + "    holidays: [11 Feb 2027]\n") == (
        "5: years.2027.holidays[0]: expected a date, got a string"
    )
    assert _override_refused(tmp_path, head + "    extra: []\n") == (
        "5: years.2027.extra: unknown field (allowed: holidays, notice, workdays)"
    )
    text = 'version: "2027.1"\nyears:\n  "2027":\n    notice: n\n'
    assert _override_refused(tmp_path, text) == "3: years.2027: expected an integer, got a string"
    text = 'version: "2027.1"\nyears:\n  1900:\n    notice: n\n'
    assert _override_refused(tmp_path, text) == "3: years.1900: 1900 is out of range (1950..2100)"
    text = 'version: "2027.1"\nyears:\n  2027: {notice: a}\n  2027: {notice: b}\n'
    assert _override_refused(tmp_path, text) == "4: years.2027: duplicate key"


# --- deadlines from policies -------------------------------------------------------------------


def test_real_name_answer_with_shifted_rest_day_start() -> None:
    answer = load_policy("cn-jijian-2020").rule("answer_real_name")
    # Concluded on Tuesday 2026-02-10: 15 working days later.
    assert deadline_for(answer, date(2026, 2, 10)).due == date(2026, 3, 9)
    # Concluded on Sunday 2026-03-01: the clock starts Monday 03-02, so 15 WD after that.
    assert deadline_for(answer, date(2026, 3, 1)).due == add_working_days(date(2026, 3, 2), 15).due


def test_xinfang_handling_rolls_off_national_day_and_extends() -> None:
    handle = load_policy("cn-xinfang-2022").rule("handle")
    # 60 days after 2026-08-02 is 10-01, inside the National Day break: ends 10-08.
    assert deadline_for(handle, date(2026, 8, 2)) == Deadline(date(2026, 10, 8), NONE)
    # One 30-day extension: 10-31 is a Saturday, so Monday 11-02.
    assert deadline_for(handle, date(2026, 8, 2), extensions=1).due == date(2026, 11, 2)
    with pytest.raises(DeadlineError, match="allows 1 extension"):
        deadline_for(handle, date(2026, 8, 2), extensions=2)


def test_eu_months() -> None:
    eu = load_policy("eu-2019-1937")
    assert deadline_for(eu.rule("feedback"), date(2026, 11, 30)).due == date(2027, 2, 28)
    # Extensions are summed first: six months from 11-30 is 05-30, not 02-28 plus three months.
    external = eu.rule("feedback_external")
    assert deadline_for(external, date(2026, 11, 30), extensions=1).due == date(2027, 5, 30)
    # No rest-day roll in the EU preset: a Saturday stays a Saturday.
    assert deadline_for(eu.rule("acknowledge"), date(2026, 2, 7)).due == date(2026, 2, 14)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(DeadlineError):
        add_working_days(date(2026, 3, 2), -1)


# --- warning colours ----------------------------------------------------------------------------


def test_warning_colours() -> None:
    due = date(2026, 3, 9)  # Monday
    assert warning_colour(due, date(2026, 3, 10)).colour is Colour.RED
    assert warning_colour(due, due).colour is Colour.YELLOW  # due until 24:00
    # 5 working days before: Monday 03-02 (03-03..03-06 and 03-09).
    assert warning_colour(due, date(2026, 3, 2)).colour is Colour.YELLOW
    # Saturday 02-28 is a make-up working day, so 02-28 itself is still 6 WD out.
    assert warning_colour(due, date(2026, 2, 28)).colour is Colour.GREEN
    assert warning_colour(due, date(2026, 3, 10), concluded=True).colour is Colour.BLUE
    assert warning_colour(due, date(2026, 3, 8), window=Span(0, SpanUnit.WORKING)).colour is (
        Colour.GREEN
    )
    calendar_window = Span(7, SpanUnit.CALENDAR)
    assert warning_colour(due, date(2026, 3, 2), window=calendar_window).colour is Colour.YELLOW
    assert warning_colour(due, date(2026, 3, 1), window=calendar_window).colour is Colour.GREEN


def test_warning_in_a_year_without_data_is_flagged() -> None:
    state = warning_colour(date(2027, 3, 9), date(2027, 3, 1))
    assert state.uncertain_years == {2027}


# --- the clock --------------------------------------------------------------------------------


def test_clocks() -> None:
    def today_of(clock: Clock) -> date:
        return clock.today()

    assert today_of(FixedClock(date(2026, 2, 10))) == date(2026, 2, 10)
    before = datetime.now(UTC).date()
    assert today_of(SystemClock(UTC)) in {before, datetime.now(UTC).date()}
    assert isinstance(today_of(SystemClock()), date)


# --- properties -------------------------------------------------------------------------------

KNOWN = st.dates(min_value=date(2001, 1, 1), max_value=date(2026, 6, 30))
ANY = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=200, deadline=None)
@given(start=ANY, n=st.integers(min_value=0, max_value=300))
def test_adding_then_counting_gives_back_n(start: date, n: int) -> None:
    result = add_working_days(start, n, calendar=CAL)
    assert working_days_between(start, result.due, calendar=CAL).days == n
    if n > 0:
        assert CAL.is_working_day(result.due)
    expected = {y for y in range(start.year, result.due.year + 1) if not 2001 <= y <= 2026}
    assert result.uncertain_years == expected


@settings(max_examples=100, deadline=None)
@given(start=KNOWN, m=st.integers(0, 100), n=st.integers(0, 100))
def test_adding_is_additive(start: date, m: int, n: int) -> None:
    first = add_working_days(start, m, calendar=CAL).due
    assert add_working_days(first, n, calendar=CAL).due == add_working_days(start, m + n).due


@settings(max_examples=100, deadline=None)
@given(a=ANY, b=ANY)
def test_counting_is_antisymmetric(a: date, b: date) -> None:
    forward = working_days_between(a, b, calendar=CAL)
    assert forward.days == -working_days_between(b, a, calendar=CAL).days
    assert (forward.days >= 0) == (a <= b) or forward.days == 0


@settings(max_examples=100, deadline=None)
@given(due=KNOWN, offsets=st.lists(st.integers(-40, 40), min_size=2, max_size=6))
def test_colours_only_get_worse_as_time_passes(due: date, offsets: list[int]) -> None:
    order = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}
    days = sorted(due + timedelta(days=o) for o in offsets)
    ranks = [order[warning_colour(due, d, calendar=CAL).colour] for d in days]
    assert ranks == sorted(ranks)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
