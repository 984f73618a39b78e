"""The statistics page's summary: released figures only, changes on the previous month and the
same month a year earlier, and words where a figure is suppressed or a month was not released."""

from __future__ import annotations

from typing import Any

from publisher.measures import MEASURES_TABLE
from publisher.releases import StoredTable
from publisher.statsummary import summary


def _month(month: str, received: int | None, on_time: float | None, satisfied: float | None
           ) -> dict[str, StoredTable]:  # fmt: skip
    def table(name: str, data: dict[str, Any]) -> StoredTable:
        return StoredTable(month, name, f"{month}-28", {"threshold": 10}, data)

    values = {"on_time_rate": on_time, "satisfaction_rate": satisfied, "median_days": None}
    return {
        "channel": table("channel", {"rows": [["letter", received]], "total": received}),
        MEASURES_TABLE: table(MEASURES_TABLE, {"values": values}),
    }


def _items(releases: dict[str, dict[str, StoredTable]], lang: str) -> dict[str, dict[str, Any]]:
    found = summary(releases)
    assert found is not None
    return {item["name"]: item for item in found[lang]}


def test_changes_on_the_previous_month_and_a_year_earlier() -> None:
    releases = {
        "2025-11": _month("2025-11", 200, 80.0, 90.0),
        "2026-10": _month("2026-10", 186, 91.4, 85.5),
        "2026-11": _month("2026-11", 234, 89.4, 85.9),
    }
    found = summary(releases)
    assert found is not None
    assert (found["month"], found["previous"], found["year_ago"]) == (
        "2026-11",
        "2026-10",
        "2025-11",
    )
    zh, en = _items(releases, "zh"), _items(releases, "en")
    assert en["received"]["value"] == "234"
    assert en["received"]["previous"] == "+48 (+25.8%)"
    assert en["received"]["year_ago"] == "+34 (+17.0%)"
    assert zh["received"]["previous"] == "+48 件（+25.8%）"
    assert en["on_time_rate"]["value"] == "89.4%"
    assert en["on_time_rate"]["previous"] == "−2.0 points"
    assert zh["on_time_rate"]["year_ago"] == "+9.4 个百分点"
    assert en["satisfaction_rate"]["previous"] == "+0.4 points"


def test_suppressed_figures_and_missing_months_are_said_in_words() -> None:
    releases = {
        "2026-10": _month("2026-10", None, 91.4, None),
        "2026-11": _month("2026-11", 234, None, 85.9),
    }
    en, zh = _items(releases, "en"), _items(releases, "zh")
    assert en["on_time_rate"]["value"] == "too few to publish"
    assert en["on_time_rate"]["suppressed"] is True
    assert zh["on_time_rate"]["value"] == "人数过少，不公布"
    assert en["on_time_rate"]["previous"] == "—"  # nothing to compare from
    assert en["received"]["previous"] == "too few to publish; no comparison"
    assert zh["satisfaction_rate"]["previous"] == "人数过少，无法比较"
    assert en["received"]["year_ago"] == "no figures"  # 2025-11 was never released
    assert zh["received"]["year_ago"] == "无数据"


def test_no_release_no_summary() -> None:
    assert summary({}) is None
