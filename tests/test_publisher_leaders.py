"""Reception leaders: the data file, reception dates and the iCalendar feed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import holidays
import pytest
from icalendar import Calendar

from publisher.errors import LeadersFileError
from publisher.leaders import (
    Leader,
    MonthlyDay,
    MonthlyNth,
    NonWorkingDays,
    Weekly,
    leaders_ics,
    load_leaders,
    next_receptions,
    parse_leaders,
)

SAMPLE = Path(__file__).resolve().parents[1] / "portal" / "data" / "leaders.yaml"

BASE = """\
version: 1
leaders:
  - id: wu-ceshi
    name: 吴测试
    photo: assets/leaders/wu.jpg
    post: 县纪委副书记
    duties: [信访举报]
    responsible_for: [城关镇]
    office: 示例县行政中心101室
    phone: 0000-5550001
    email: wu@example.org
    sites:
      - name: 县接待室
        address: 示例县人民路1号
    schedule:
      - monthly: {day: 15}
        start: "09:00"
        end: "12:00"
  - id: zheng-ceshi
    name: 郑测试
    post: 镇纪委书记
    duties: [镇纪委工作]
    responsible_for: [青石乡]
    office: 青石乡政府201室
    phone: 0000-5550002
    email: zheng@example.org
    sites:
      - name: 县接待室
        address: 示例县人民路1号
      - name: 乡诉求站
        address: 青石乡青石街2号
    schedule:
      - weekly: {weekday: tue}
        start: 9:30
        end: "11:30"
        site: 县接待室
      - monthly_nth: {nth: 1, weekday: mon}
        start: "14:00"
        end: "16:00"
        site: 乡诉求站
"""


def leader(rule: MonthlyDay | Weekly | MonthlyNth) -> Leader:
    """The first test leader with a single reception rule."""
    base = parse_leaders(BASE)[0]
    return replace(base, schedule=(replace(base.schedule[0], rule=rule),))


def dates(person: Leader, today: date, count: int, **options: object) -> list[str]:
    found = next_receptions(person, today, count, **options)  # type: ignore[arg-type]
    return [r.date.isoformat() for r in found]


# --- the file -----------------------------------------------------------------------------------


def test_sample_file_loads() -> None:
    leaders = load_leaders(SAMPLE)
    assert len(leaders) == 3
    assert len({p.id for p in leaders}) == 3
    for person in leaders:
        assert person.phone.startswith("0000-")
        assert person.email.endswith("@example.org")
        assert person.schedule and person.sites


def test_fields_are_read_as_written() -> None:
    wu, zheng = parse_leaders(BASE)
    assert wu.photo == "assets/leaders/wu.jpg" and zheng.photo is None
    assert wu.phone == "0000-5550001"
    assert wu.schedule[0].rule == MonthlyDay(15)
    assert zheng.schedule[0].start == time(9, 30)  # unquoted 9:30 is not YAML's base-60 570
    assert zheng.schedule[1].rule == MonthlyNth(1, 0)
    assert zheng.schedule[1].site.name == "乡诉求站"


def bad(old: str, new: str, count: int = 1) -> str:
    assert old in BASE
    return BASE.replace(old, new, count)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = text.splitlines()
    hits = [n for n, line in enumerate(lines, 1) if needle in line]
    return hits[occurrence - 1]


CASES = [
    ("day: 15}", "day: 31}", "day: 31", "leaders[0].schedule[0].monthly.day: must be 1–28"),
    ("day: 15}", "day: fifteen}", "fifteen", "leaders[0].schedule[0].monthly.day: must be a whole"),
    ("weekday: tue", "weekday: tuesday", "tuesday", "leaders[1].schedule[0].weekly.weekday: must"),
    ("nth: 1,", "nth: 5,", "nth: 5", "leaders[1].schedule[1].monthly_nth.nth: must be 1–4"),
    ('start: "09:00"', 'start: "9h"', "9h", "leaders[0].schedule[0].start: must be a time"),
    ('end: "12:00"', 'end: "08:00"', "08:00", "leaders[0].schedule[0].end: must be later"),
    ("wu@example.org", "wu at example", "wu at", "leaders[0].email: must be an e-mail"),
    ("0000-5550001", "call me", "call me", "leaders[0].phone: must be digits"),
    (
        "    schedule:\n      - monthly",
        "    shedule:\n      - monthly",
        "shedule",
        "leaders[0].shedule: unknown field",
    ),
    ("id: zheng-ceshi", "id: wu-ceshi", "id: wu-ceshi|2", "leaders[1].id: already used on line 3"),
    ("id: wu-ceshi", "id: Wu_Ceshi", "Wu_Ceshi", "leaders[0].id: must be lower-case"),
    (
        "    name: 吴测试\n",
        "    name: 吴测试\n    name: 吴二\n",
        "吴二",
        "leaders[0].name: given twice",
    ),
    ("    name: 吴测试\n", "    name:\n", "name:", "leaders[0].name: must not be empty"),
    ("    post: 县纪委副书记\n", "", "- id: wu-ceshi", "leaders[0].post: required"),
    ("assets/leaders/wu.jpg", "../secret.jpg", "secret", "leaders[0].photo: must be a relative"),
    ("assets/leaders/wu.jpg", "https://cdn.test/wu.jpg", "cdn", "leaders[0].photo: must be"),
    ("assets/leaders/wu.jpg", "/etc/wu.jpg", "/etc", "leaders[0].photo: must be"),
    ("assets/leaders/wu.jpg", "assets/wu.exe", "wu.exe", "leaders[0].photo: must be"),
    ("site: 乡诉求站", "site: 无此地", "无此地", "leaders[1].schedule[1].site: not one of"),
    ("        site: 县接待室\n", "", "- weekly", "leaders[1].schedule[0].site: required when"),
    ("duties: [信访举报]", "duties: []", "duties", "leaders[0].duties: must be a list"),
    ("duties: [信访举报]", "duties: 信访举报", "duties", "leaders[0].duties: must be a list"),
    ("version: 1", "version: 2", "version", "version: must be 1"),
    (
        "        address: 青石乡青石街2号",
        "        address: x\n      - name: 乡诉求站\n        address: y",
        "- name: 乡诉求站|2",
        "leaders[1].sites[2].name: another site",
    ),
    (
        "monthly: {day: 15}",
        "monthly: {day: 15}\n        weekly: {weekday: mon}",
        "- monthly",
        "leaders[0].schedule[0]: needs exactly one",
    ),
    (
        "monthly: {day: 15}",
        "monthly: {date: 15}",
        "date",
        "leaders[0].schedule[0].monthly.date: unknown field",
    ),
    # the optional English texts
    (
        "    email: wu@example.org\n",
        "    email: wu@example.org\n    en: {duties: [Reports, Visits]}\n",
        "en: {duties",
        "leaders[0].en.duties: must have 1 items",
    ),
    (
        "    email: wu@example.org\n",
        "    email: wu@example.org\n    en:\n      nickname: Wu\n",
        "nickname",
        "leaders[0].en.nickname: unknown field",
    ),
    (
        "    email: wu@example.org\n",
        "    email: wu@example.org\n    en:\n      name:\n",
        "      name:",
        "leaders[0].en.name: must not be empty",
    ),
    (
        "    email: wu@example.org\n",
        "    email: wu@example.org\n    en: Wu Ceshi\n",
        "en: Wu",
        "leaders[0].en: must be a mapping",
    ),
    (
        "        address: 青石乡青石街2号",
        "        address: 青石乡青石街2号\n        en: {name: [Station]}",
        "en: {name",
        "leaders[1].sites[1].en.name: must be text",
    ),
]


@pytest.mark.parametrize(("old", "new", "needle", "message"), CASES)
def test_every_bad_field_names_file_line_and_field(
    old: str, new: str, needle: str, message: str
) -> None:
    text = bad(old, new)
    needle, _, nth = needle.partition("|")
    line = line_of(text, needle, int(nth or 1))
    with pytest.raises(LeadersFileError) as caught:
        parse_leaders(text, source="leaders.yaml")
    assert str(caught.value).startswith(f"leaders.yaml:{line}: {message}")
    assert caught.value.line == line
    assert caught.value.field == message.split(":")[0]


def test_yaml_syntax_and_empty_files() -> None:
    with pytest.raises(LeadersFileError, match=r"^leaders.yaml:\d+: not valid YAML"):
        parse_leaders(bad("duties: [信访举报]", "duties: [信访举报"))
    with pytest.raises(LeadersFileError, match=r"^leaders.yaml:1: the file is empty"):
        parse_leaders("# nothing\n")
    with pytest.raises(LeadersFileError, match=r"^leaders.yaml:2: leaders: must be a list"):
        parse_leaders("version: 1\nleaders: {}\n")
    with pytest.raises(
        LeadersFileError, match=r"^leaders.yaml:1: \(top level\): must be a mapping"
    ):
        parse_leaders("- 1\n")


def test_load_names_the_real_path(tmp_path: Path) -> None:
    path = tmp_path / "leaders.yaml"
    path.write_text(bad("day: 15}", "day: 0}"), encoding="utf-8")
    expected = re.escape(f"{path}:16: leaders[0].schedule[0].monthly.day: must be 1–28")
    with pytest.raises(LeadersFileError, match=f"^{expected}"):
        load_leaders(path)
    with pytest.raises(LeadersFileError, match="cannot read"):
        load_leaders(tmp_path / "missing.yaml")


# --- dates --------------------------------------------------------------------------------------


def test_monthly_day() -> None:
    wu = parse_leaders(BASE)[0]
    assert dates(wu, date(2025, 1, 15), 3) == ["2025-01-15", "2025-02-15", "2025-03-15"]
    assert dates(wu, date(2025, 12, 16), 2) == ["2026-01-15", "2026-02-15"]


def test_weekly() -> None:
    person = leader(Weekly(1))
    assert dates(person, date(2025, 1, 1), 3) == ["2025-01-07", "2025-01-14", "2025-01-21"]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (MonthlyNth(1, 0), ["2025-01-06", "2025-02-03", "2025-03-03"]),
        (MonthlyNth(3, 3), ["2025-01-16", "2025-02-20", "2025-03-20"]),
        (MonthlyNth(-1, 4), ["2025-01-31", "2025-02-28", "2025-03-28"]),
    ],
)
def test_monthly_nth(rule: MonthlyNth, expected: list[str]) -> None:
    assert dates(leader(rule), date(2025, 1, 1), 3) == expected


def test_several_slots_merge_in_time_order() -> None:
    zheng = parse_leaders(BASE)[1]
    found = next_receptions(zheng, date(2025, 2, 1), 4)
    assert [(r.date.isoformat(), r.site.name) for r in found] == [
        ("2025-02-03", "乡诉求站"),
        ("2025-02-04", "县接待室"),
        ("2025-02-11", "县接待室"),
        ("2025-02-18", "县接待室"),
    ]


def test_closed_days_move_or_drop_receptions() -> None:
    person = leader(Weekly(2))  # Wednesdays
    golden_week = {date(2025, 10, 1) + timedelta(days=n) for n in range(8)}
    assert dates(person, date(2025, 9, 30), 3, closed=golden_week) == [
        "2025-10-09",  # Wednesday 1 and 8 October both land on Thursday 9 October: one reception
        "2025-10-15",
        "2025-10-22",
    ]
    moved = next_receptions(person, date(2025, 9, 30), 1, closed=golden_week)[0]
    assert moved.scheduled == date(2025, 10, 1)
    assert dates(person, date(2025, 9, 30), 2, closed=golden_week, move_closed=False) == [
        "2025-10-15",
        "2025-10-22",
    ]
    # a reception moved from before today is still ahead of us
    assert dates(person, date(2025, 10, 9), 1, closed=golden_week) == ["2025-10-09"]


def test_closed_days_from_the_holidays_package() -> None:
    wu = parse_leaders(BASE)[0]
    china = holidays.country_holidays("CN", years=range(2024, 2027))
    # Sunday 15 February 2026 opens the Spring Festival break but is not in the holiday list, so
    # the list alone would keep the reception on a closed Sunday.
    assert date(2026, 2, 15) not in china
    assert dates(wu, date(2026, 2, 1), 1, closed=china) == ["2026-02-15"]
    closed = NonWorkingDays(china)
    found = next_receptions(wu, date(2026, 2, 1), 1, closed=closed)[0]
    assert (found.scheduled, found.date) == (date(2026, 2, 15), date(2026, 2, 24))
    # a make-up working Saturday (调休) is open: 14 February 2026
    person = leader(MonthlyDay(14))
    assert dates(person, date(2026, 2, 1), 1, closed=closed) == ["2026-02-14"]


# --- the calendar -------------------------------------------------------------------------------


def test_ics_parses_back_with_the_expected_events() -> None:
    leaders = parse_leaders(BASE)
    today = date(2025, 1, 10)
    data = leaders_ics(leaders, today, 2)
    cal = Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    expected = sorted(
        (p.id, r.date)
        for p in leaders
        for r in next_receptions(p, today, 50)
        if r.date < date(2025, 3, 10)
    )
    assert len(events) == len(expected) == 2 + 8 + 2
    starts = sorted(
        (str(e["uid"]).split("-")[0] + "-ceshi", e.decoded("dtstart").date()) for e in events
    )
    assert starts == expected
    first = next(e for e in events if str(e["uid"]) == "wu-ceshi-0-20250115@lianxin.invalid")
    start = first.decoded("dtstart")
    assert start.utcoffset() == timedelta(hours=8)
    assert start.astimezone(UTC) == datetime(2025, 1, 15, 1, 0, tzinfo=UTC)
    assert first.decoded("dtstamp") == datetime(2025, 1, 10, tzinfo=UTC)
    assert "吴测试" in str(first["summary"]) and "县接待室" in str(first["location"])
    assert len({str(e["uid"]) for e in events}) == len(events)
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert cal["version"] == "2.0" and "prodid" in cal


def test_ics_is_deterministic_and_uids_are_stable() -> None:
    leaders = parse_leaders(BASE)
    assert leaders_ics(leaders, date(2025, 1, 10), 2) == leaders_ics(leaders, date(2025, 1, 10), 2)
    earlier = Calendar.from_ical(leaders_ics(leaders, date(2025, 1, 10), 2))
    later = Calendar.from_ical(leaders_ics(leaders, date(2025, 2, 1), 2))
    shared = {str(e["uid"]) for e in earlier.walk("VEVENT")} & {
        str(e["uid"]) for e in later.walk("VEVENT")
    }
    assert "wu-ceshi-0-20250215@lianxin.invalid" in shared


def test_ics_lines_are_folded_within_75_octets() -> None:
    data = leaders_ics(load_leaders(SAMPLE), date(2025, 9, 20), 3)
    assert data.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    data.decode("utf-8")  # folding never splits a character


def test_months_ahead_is_bounded() -> None:
    with pytest.raises(ValueError):
        leaders_ics(parse_leaders(BASE), date(2025, 1, 1), 25)
    assert (
        Calendar.from_ical(leaders_ics(parse_leaders(BASE), date(2025, 1, 1), 0)).walk("VEVENT")
        == []
    )


# --- the English page ----------------------------------------------------------------------------


def test_english_texts_are_read_and_optional() -> None:
    text = BASE.replace(
        "    email: wu@example.org\n",
        "    email: wu@example.org\n    en:\n      name: Wu Ceshi\n"
        "      duties: [Reports and petitions]\n",
    ).replace("        address: 青石乡青石街2号", "        address: 青石乡青石街2号\n"
              "        en: {name: Qingshi station}")  # fmt: skip
    wu, zheng = parse_leaders(text)
    assert wu.en.name == "Wu Ceshi" and wu.en.duties == ("Reports and petitions",)
    assert wu.en.post is None and wu.en.responsible_for is None
    assert zheng.en.name is None
    assert zheng.sites[1].en.name == "Qingshi station" and zheng.sites[1].en.address is None


@pytest.mark.parametrize(
    ("name", "latin"),
    [
        ("林示范", "Lin Shifan"),
        ("曾国藩", "Zeng Guofan"),  # a surname's own reading, not the common "ceng"
        ("单田芳", "Shan Tianfang"),
        ("欧阳修", "Ouyang Xiu"),  # two-character surname
        ("王", "Wang"),
        ("吕布", "Lü Bu"),
        ("Anna Smith", "Anna Smith"),  # not Chinese: unchanged
    ],
)
def test_names_without_english_are_transliterated(name: str, latin: str) -> None:
    from publisher.romanize import romanize_name

    assert romanize_name(name) == latin


def test_english_page_context_links_and_fallbacks() -> None:
    from publisher.leaderpage import _person

    text = BASE.replace(
        "    email: wu@example.org\n",
        "    email: wu@example.org\n    en: {post: Deputy Secretary}\n",
    ).replace("0000-5550001", "+86 (0000) 555-0001")
    wu, zheng = parse_leaders(text)
    page = _person(wu, date(2026, 12, 6), NonWorkingDays(_Open()))
    assert page["tel"] == "tel:+8600005550001"
    assert page["en"]["name"] == "Wu Ceshi" and page["en"]["transliterated"]
    assert page["en"]["post"] == {"text": "Deputy Secretary", "lang": "en"}
    assert page["en"]["office"] == {"text": "示例县行政中心101室", "lang": "zh"}
    assert page["en"]["duties"] == [{"text": "信访举报", "lang": "zh"}]
    assert page["sites"][0]["en"]["name"] == {"text": "县接待室", "lang": "zh"}
    other = _person(zheng, date(2026, 12, 6), NonWorkingDays(_Open()))
    assert other["en"]["name"] == "Zheng Ceshi"


class _Open:
    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


def test_sample_places_are_in_the_regions_list() -> None:
    """The sample's towns are the towns of the desk's regions list (青石镇, not 青石乡)."""
    from lianxin.domain.datafiles import load_taxonomy

    towns = {r.zh for r in load_taxonomy().regions.items if r.zh.endswith(("镇", "乡"))}
    named = set()
    for person in load_leaders(SAMPLE):
        texts = [*person.responsible_for, person.office, *(s.name for s in person.sites)]
        texts += [s.address for s in person.sites]
        named |= {m for t in texts for m in re.findall(r"[\u4e00-\u9fff]{2}[镇乡]", t)}
    assert named and named <= towns, named - towns
    for person in load_leaders(SAMPLE):  # and the sample has English for everything
        assert person.en.name and person.en.post and person.en.office
        assert person.en.duties and person.en.responsible_for
        assert all(s.en.name and s.en.address for s in person.sites)
