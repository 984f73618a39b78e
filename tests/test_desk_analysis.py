"""The monthly analysis on a small register whose figures are known, as Markdown and CSV; and
the synthetic register generator (whose event log verifies)."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from desk.analysis import monthly_analysis
from desk.analysis_compare import Table, compare_months, months_beside, sheet_names, to_xlsx
from desk.analysis_render import rows, to_csv, to_markdown
from desk.answers import conclude, satisfaction
from desk.context import Desk
from desk.deadlines import Manual
from desk.intake import intake
from desk.refusals import BadValue
from desk.register import Registration, register
from desk.routing import Route, route
from desk.supervision import issue_warnings
from desk.synth import synthesize_register
from desk.verify import verify_register
from desk.warnings import compute_warnings
from tests.desk_support import letter, make_desk, new_store, office_keys

MARCH = "2026-03"


def _register(db_path: Path, keys_dir: Path) -> None:
    keys = office_keys(keys_dir)

    def on(day: int) -> Desk:
        return make_desk(db_path, date(2026, 3, day))

    desk = on(2)
    one = intake(desk, keys, letter("一"), channel="letter").case_id
    register(
        desk,
        one,
        Registration(
            "accusation",
            "legal.embezzlement_bribery",
            "township_section",
            "town.dongshan",
            "verified",
            add_tags=("livelihood",),
        ),
    )
    route(desk, one, Route("assign", unit="town.dongshan", manual=Manual.parse(15, "working")))
    desk = on(3)
    two = intake(
        desk,
        keys,
        letter("二", real_name=False, identity=None, title="餐馆油烟扰民"),
        channel="visit",
    ).case_id
    register(desk, two, Registration("out_of_scope", "other", "other", "town.nanhu", "anonymous"))
    route(
        desk,
        two,
        Route("forward", to="external.ecology_environment", manual=Manual.parse(30, "calendar")),
    )
    desk = on(4)
    three = intake(desk, keys, letter("三"), channel="phone").case_id
    register(
        desk, three, Registration("no_substance", "other", region="county", real_name="claimed")
    )
    from desk.register import not_accepted

    not_accepted(desk, three, keys, "无实质内容")
    desk = on(5)
    four = intake(desk, keys, letter("四"), channel="letter").case_id
    register(
        desk,
        four,
        Registration(
            "accusation", "mass.harming_interests", "village_community", "town.xihe", "anonymous"
        ),
    )
    route(desk, four, Route("assign", unit="town.xihe", manual=Manual.parse(5, "working")))
    six = intake(desk, keys, letter("六"), channel="letter").case_id
    register(
        desk,
        six,
        Registration(
            "accusation",
            "legal.embezzlement_bribery",
            "township_section",
            "town.dongshan",
            "claimed",
            repeat_of=one,
            escalated=True,
        ),
    )
    desk = on(13)
    issue_warnings(desk, compute_warnings(desk))  # case 4 is overdue (due 03-12)
    desk = on(20)
    conclude(desk, one, keys, "substantiated", answer="经核查，反映问题属实，已立案审查。")
    satisfaction(desk, one, "satisfied")
    desk = on(31)
    intake(desk, keys, letter("五"), channel="complaint_box")
    desk.close()


def test_monthly_analysis_figures(tmp_path: Path, keys_dir: Path) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    _register(db_path, keys_dir)
    desk = make_desk(db_path, date(2026, 4, 1))
    result = monthly_analysis(desk, MARCH)
    assert result.received_total == 6
    assert dict(result.received["channel"]) == {
        "letter": 3,
        "visit": 1,
        "phone": 1,
        "complaint_box": 1,
    }
    assert dict(result.received["decision"]) == {
        "accepted": 3,
        "forwarded": 1,
        "not_accepted": 1,
        "pending": 1,
    }
    assert dict(result.tags) == {"livelihood": 1}
    flows = result.flows
    assert (
        flows["concluded"],
        flows["on_time"],
        flows["open_at_end"],
        flows["overdue_at_end"],
    ) == (1, 1, 3, 1)
    assert result.rate("real_name_answered_in_window", "real_name_concluded") == 1.0
    assert (flows["answered"], flows["satisfaction_satisfied"]) == (1, 1)
    assert result.rate("substantiated", "with_finding") == 1.0
    assert result.received_rate("repeat", 1) == result.received_rate("escalated", 1) == 1 / 6
    # Case 4 overdue at 西河镇; case 6 accepted but not routed within 5 working days.
    assert dict(result.warnings) == {("red", "town.xihe"): 1, ("red", "-"): 1}

    markdown = to_markdown(desk, result)
    assert "生成于 2026-04-01" in markdown  # the desk's clock, not the day the test runs
    for line in (
        "# 月分析 2026-03",
        "## 按渠道",
        "| 来信 | 3 |",
        "| 按期办结率 | 100.0% |",
        "| 月末超期 | 1 |",
        "| 重复率 | 16.7% |",
        "| 红色督办 | 2 |",
        "| 查实率 | 100.0% |",
        "| 转办 | 1 |",
        "| 实名反馈率（期限内） | 100.0% |",
        "| 满意 | 1 |",
    ):
        assert line in markdown, line
    assert "| Letter | 3 |" in to_markdown(desk, result, lang="en")
    rows = list(csv.DictReader(io.StringIO(to_csv(desk, result))))
    figures = {(r["section"], r["code"]): r["value"] for r in rows}
    assert figures[("received", "total")] == "6"
    assert figures[("handling", "on_time_rate")] == "1.0000"
    assert figures[("decision", "pending")] == "1"
    assert figures[("units", "town.xihe:overdue_at_end")] == "1"
    assert figures[("satisfaction", "rate")] == "1.0000"
    empty = monthly_analysis(desk, "2025-01")
    assert empty.received_total == 0 and "n/a" in to_markdown(desk, empty)
    desk.close()


def test_the_month_beside_the_month_before_and_a_year_before(
    tmp_path: Path, keys_dir: Path
) -> None:
    assert months_beside("2026-03") == ("2026-03", "2026-02", "2025-03")
    assert months_beside("2026-01") == ("2026-01", "2025-12", "2025-01")
    with pytest.raises(BadValue, match="--month"):
        months_beside("2026-13")
    db_path = new_store(tmp_path / "desk.sqlite")
    _register(db_path, keys_dir)
    desk = make_desk(db_path, date(2026, 5, 2))
    april = compare_months(desk, "2026-04")
    assert april.months == ("2026-04", "2026-03", "2025-04")
    table = {t.section: t for t in april.tables}
    march = {(r.section, r.code): r.value for r in rows(desk, monthly_analysis(desk, "2026-03"))}
    for section, t in table.items():  # the month before is March's own analysis
        for line in t.lines:
            assert line.values[1] == march.get((section, line.code), line.values[1]), line
    channel = {line.code: line.values for line in table["channel"].lines}
    assert channel["letter"] == (0, 3, 0)  # a channel with no case in April is 0 there
    assert table["handling"].lines[-1].code == "on_time_rate"
    assert table["handling"].lines[-1].values == (None, 1.0, None)
    path = tmp_path / "月分析.xlsx"
    path.write_bytes(to_xlsx(april))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == sheet_names(april.tables, "zh") and "按渠道" in book.sheetnames
    sheet = book["按渠道"]
    assert [c.value for c in sheet[1]] == ["项目", "2026-04", "2026-03", "2025-04"]
    assert ["来信", 0, 3, 0] in [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    rate = next(r for r in book["办理情况"].iter_rows(min_row=2) if r[0].value == "按期办结率")
    assert rate[2].value == 1.0 and rate[2].number_format == "0.0%" and rate[1].value is None
    english = openpyxl.load_workbook(io.BytesIO(to_xlsx(april, lang="en")))
    assert all(len(n) <= 31 for n in english.sheetnames) and "By channel" in english.sheetnames
    desk.close()


def test_sheet_names_are_short_distinct_and_valid() -> None:
    long = [Table("a", "x", "Satisfaction: after [a] second answer / review?"), Table("b", "x", "")]
    long[1].en = long[0].en
    names = sheet_names(long, "en")
    assert names[0] == "Satisfaction_ after _a_ second "[:31] and len(names[1]) <= 31
    assert names[0] != names[1] and not set("[]:*?/\\") & set("".join(names))


def test_synthetic_register_is_realistic_and_verifies(tmp_path: Path) -> None:
    db_path = tmp_path / "synthetic.sqlite"
    summary = synthesize_register(
        db_path, 3000, seed=7, start_month="2025-07", months=6, with_events=True, with_tokens=True
    )
    assert summary.cases == summary.tokens == 3000
    assert set(summary.states) >= {"closed", "not_accepted", "in_progress", "answered", "forwarded"}
    assert summary.states["closed"] > summary.states["in_progress"]
    desk = make_desk(db_path, date(2026, 1, 1))
    assert verify_register(desk.db).ok
    result = monthly_analysis(desk, "2025-09")
    assert 350 < result.received_total < 650
    assert 0 < result.flows["overdue_at_end"] < result.flows["open_at_end"]
    assert compute_warnings(desk).totals()["red"] > 0
    desk.close()
    again = synthesize_register(
        tmp_path / "again.sqlite", 3000, seed=7, start_month="2025-07", months=6
    )
    assert again.states == summary.states  # reproducible by seed
