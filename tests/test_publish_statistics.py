"""The published statistics: what each table counts, suppression over random registers, releases
computed once (differencing), differential privacy, downloads and their data package."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from publish_support import (
    insert_cases,
    lists,
    reader_equations,
    recoverable,
    release_file,
    run_statistics,
    specs,
)

from lianxin.store.db import connect
from publisher.downloads import write_downloads
from publisher.measures import MEASURES_TABLE
from publisher.statistics import ensure_releases

TODAY = date(2026, 11, 23)  # November is the current month: never published
CLOSED = ("2026-08", "2026-09", "2026-10")


def _values(records: list[dict[str, Any]]) -> dict[tuple[str, str], Any]:
    return {(r["table"], r["category"]): r["value"] for r in records}


# --- what the tables count -----------------------------------------------------------------------


def _walked(n: int, **case: Any) -> list[dict[str, Any]]:
    return [dict(case) for _ in range(n)]


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """A register small enough to count by hand, all received in October 2026."""
    tmp = tmp_path_factory.mktemp("counted")
    registered = {"registered_date": "2026-10-03", "number": "x", "problem_type": "integrity",
                  "rank": "township_section", "region": "town.dongshan"}  # fmt: skip
    accepted = {**registered, "item_type": "accusation", "accepted_date": "2026-10-03"}
    cases = [
        # 12 concluded on time in 10 days, answered, satisfied; real name verified, answered late
        *_walked(12, channel="letter", received_date="2026-10-01", state="answered", **accepted,
                 due_date="2026-10-30", concluded_date="2026-10-11", real_name="verified",
                 answer_due="2026-10-20", answered_date="2026-10-25", satisfaction="satisfied"),
        # 11 due in October, still in progress: late; 20 days old when the month ends
        *_walked(11, channel="online", received_date="2026-10-02", state="in_progress",
                 **accepted, due_date="2026-10-28", tags=[("livelihood", None)]),
        # 10 forwarded out of scope, 3 not accepted, 4 never registered
        *_walked(10, channel="online", received_date="2026-10-05", state="forwarded",
                 **{**registered, "item_type": "out_of_scope"}, route="forward"),
        *_walked(3, channel="visit", received_date="2026-10-06", state="not_accepted",
                 **{**registered, "item_type": "no_substance"}),
        *_walked(4, channel="phone", received_date="2026-10-30"),
        # 10 repeats of case 1
        *_walked(10, channel="letter", received_date="2026-10-09", state="accepted",
                 **{**accepted, "item_type": "repeat"}, repeat_of=1),
    ]  # fmt: skip
    db_path = tmp / "db.sqlite"
    insert_cases(db_path, cases)
    docs, _ = run_statistics(db_path, tmp, TODAY, threshold=1)  # threshold 1: nothing hidden
    return _values(release_file(docs, "2026-10"))


def test_received_tables_share_the_monthly_total(counted: dict[tuple[str, str], Any]) -> None:
    for table in ("channel", "item_type", "problem_type", "rank_band", "region", "decision"):
        assert counted[table, "_total"] == 50, table
    assert counted["channel", "letter"] == 22
    assert counted["channel", "online"] == 21
    assert counted["channel", "visit"] == 3
    assert counted["channel", "phone"] == 4
    assert counted["item_type", "accusation"] == 23
    assert counted["decision", "accepted"] == 33
    assert counted["decision", "forwarded"] == 10
    assert counted["repeat", "repeat"] == 10
    assert counted["rank_band", "band4"] == 46
    assert counted["decision", "pending"] == 4
    for table in ("item_type", "problem_type", "rank_band", "region"):
        assert counted[table, "_unregistered"] == 4


def test_flows_stocks_rates_and_medians(counted: dict[tuple[str, str], Any]) -> None:
    assert counted["caseload", "concluded"] == 12
    assert counted["caseload", "in_progress"] == 31  # 11 open, 10 repeats, 10 forwarded
    assert counted["on_time", "on_time"] == 12
    assert counted["on_time", "late"] == 11
    assert counted["real_name_answers", "late"] == 12
    assert counted["satisfaction", "satisfied"] == 12
    assert counted["ledger_new", "livelihood"] == 11
    assert counted["ledger_open", "livelihood"] == 11
    assert counted[MEASURES_TABLE, "median_days"] == 10
    assert counted[MEASURES_TABLE, "on_time_rate"] == round(100 * 12 / 23, 1)
    assert counted[MEASURES_TABLE, "repeat_rate"] == 20.0
    assert counted[MEASURES_TABLE, "real_name_answer_rate"] == 0.0
    assert counted[MEASURES_TABLE, "satisfaction_rate"] == 100.0


# --- suppression over random registers -----------------------------------------------------------

_PROGRESS = ("received", "accepted", "in_progress", "concluded", "answered", "reviewed")
_case = st.fixed_dictionaries({
    "month": st.sampled_from((*CLOSED, "2026-11")),
    "day": st.integers(1, 28),
    "channel": st.sampled_from(("letter", "visit", "online", "phone", "bogus")),
    "registered": st.booleans(),
    "item_type": st.sampled_from(("accusation", "appeal", "out_of_scope", "repeat")),
    "problem": st.sampled_from(("integrity", "mass", "legal.embezzlement_bribery")),
    "rank": st.sampled_from((None, "township_section", "village_community", "enterprise")),
    "region": st.sampled_from(("county", "town.dongshan", "town.xihe")),
    "progress": st.sampled_from(_PROGRESS),
    "delays": st.lists(st.integers(0, 40), min_size=4, max_size=4),
    "rating": st.sampled_from((None, "satisfied", "basically", "not")),
    "real_name": st.sampled_from(("anonymous", "verified")),
    "tag": st.sampled_from((None, "livelihood", "poverty_alleviation")),
})  # fmt: skip
_register = st.lists(st.tuples(_case, st.integers(1, 14)), max_size=24)


def _row(spec: dict[str, Any]) -> dict[str, Any]:
    """A register row walked as far as ``progress`` says."""
    received = date.fromisoformat(f"{spec['month']}-{spec['day']:02d}")
    a, b, c, d = (timedelta(days=x) for x in spec["delays"])
    row: dict[str, Any] = {"channel": spec["channel"], "received_date": received.isoformat()}
    step = _PROGRESS.index(spec["progress"])
    if not spec["registered"] or step == 0:
        return row
    row.update(registered_date=(received + a).isoformat(), number="n", real_name=spec["real_name"],
               item_type=spec["item_type"], problem_type=spec["problem"], rank=spec["rank"],
               region=spec["region"], state="accepted", accepted_date=(received + a).isoformat(),
               due_date=(received + a + b).isoformat())  # fmt: skip
    if spec["item_type"] == "out_of_scope":
        row.update(state="forwarded", route="forward", accepted_date=None)
    if spec["tag"]:
        row["tags"] = [(spec["tag"], None if step < 3 else (received + a + c).isoformat())]
    if step >= 3:
        row.update(
            state="concluded",
            concluded_date=(received + a + c).isoformat(),
            answer_due=(received + a + c + d).isoformat(),
        )
    if step >= 4:
        row.update(
            state="answered",
            answered_date=(received + a + c + d).isoformat(),
            satisfaction=spec["rating"],
        )
    if step >= 5:
        row.update(
            review_kind="review",
            review_outcome="upheld",
            second_answer_date=(received + a + c + 2 * d).isoformat(),
        )
    return row


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "empty.sqlite"
    connect(path).conn.close()
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(register=_register, threshold=st.sampled_from((3, 5, 10)))
def test_no_small_cell_and_nothing_recoverable(
    register: list[tuple[dict[str, Any], int]], threshold: int, empty_store: Path
) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        shutil.copy(empty_store, tmp / "db.sqlite")
        insert_cases(tmp / "db.sqlite", [_row(spec) for spec, n in register for _ in range(n)])
        db = connect(tmp / "db.sqlite")
        try:  # the statistics step of a build, without its charts and pages
            releases = ensure_releases(db, TODAY, *lists(), threshold=threshold)
        finally:
            db.conn.close()
        tables = specs()
        write_downloads(tmp / "data", tables, releases)
        docs = tmp
        published = sorted(p.stem for p in (docs / "data" / "releases").glob("*.json"))
        assert published == sorted(releases)
        assert "2026-11" not in published
        for month in published:
            records = release_file(docs, month)
            values = _values(records)
            for (table, code), value in values.items():
                if table != MEASURES_TABLE and value is not None:
                    assert not 0 < value < threshold, (month, table, code, value)
            found = recoverable(records, reader_equations(records, tables))
            assert found == [], (month, found)
            _check_measures(values, threshold)
        _check_stock_differences(docs, published, threshold)


def _check_stock_differences(docs: Path, months: list[str], threshold: int) -> None:
    """Last month's stock, this month's stock and flow must not reveal a small other flow."""
    for before, after in pairwise(months):
        old, new = _values(release_file(docs, before)), _values(release_file(docs, after))
        started = [new["caseload", "in_progress"], old["caseload", "in_progress"],
                   new["caseload", "concluded"]]  # fmt: skip
        if None not in started:
            assert not 0 < abs(started[0] - started[1] + started[2]) < threshold, (after, started)
        for (table, tag), value in new.items():
            parts = [value, old.get((table, tag)), new.get(("ledger_new", tag))]
            if table == "ledger_open" and None not in parts:
                assert not 0 < abs(parts[0] - parts[1] - parts[2]) < threshold, (after, tag)


def _check_measures(values: dict[tuple[str, str], Any], threshold: int) -> None:
    """Rates only from published parts with a denominator of at least the threshold."""
    parts = {
        "repeat_rate": [("repeat", "repeat"), ("repeat", "_total")],
        "on_time_rate": [("on_time", "on_time"), ("on_time", "_total")],
        "real_name_answer_rate": [("real_name_answers", "in_time"),
                                  ("real_name_answers", "_total")],
        "satisfaction_rate": [("satisfaction", c) for c in ("satisfied", "basically", "not")],
        "median_days": [("caseload", "concluded")],
    }  # fmt: skip
    for measure, needed in parts.items():
        if values[MEASURES_TABLE, measure] is None:
            continue
        found = [values[k] for k in needed]
        assert None not in found, measure
        base = sum(found) if measure == "satisfaction_rate" else found[-1]
        assert base >= threshold, measure


# --- releases: computed once --------------------------------------------------------------------


def test_a_released_month_never_changes_and_the_current_month_waits(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    insert_cases(db_path, [{"channel": "letter", "received_date": "2026-10-05"}] * 30
                 + [{"channel": "letter", "received_date": "2026-11-02"}] * 30)  # fmt: skip
    docs, context = run_statistics(db_path, tmp_path / "a", TODAY)
    first = (docs / "data" / "releases" / "2026-10.json").read_bytes()
    assert context["months"] == ["2026-10"]
    insert_cases(db_path, [{"channel": "visit", "received_date": "2026-10-20"}])
    docs, context = run_statistics(db_path, tmp_path / "b", TODAY)
    assert (docs / "data" / "releases" / "2026-10.json").read_bytes() == first
    assert context["months"] == ["2026-10"]
    # December: November is released now, with what was there when it closed.
    docs, context = run_statistics(db_path, tmp_path / "c", date(2026, 12, 1))
    assert context["months"] == ["2026-10", "2026-11"]
    assert (docs / "data" / "releases" / "2026-10.json").read_bytes() == first
    assert _values(release_file(docs, "2026-11"))["channel", "letter"] == 30
    stored = connect(db_path).execute("SELECT count(DISTINCT month) FROM releases").fetchone()
    assert stored[0] == 2


def test_differential_privacy_is_stored_accounted_and_never_redrawn(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    insert_cases(db_path, [{"channel": "online", "received_date": f"2026-{m:02d}-03"}
                           for m in (9, 10) for _ in range(200)])  # fmt: skip
    docs, context = run_statistics(db_path, tmp_path / "a", TODAY, dp=1.0)
    noisy = (docs / "data" / "releases" / "2026-10.json").read_bytes()
    assert context["dp"]["used"] and context["dp"]["years"][0]["year"] == "2026"
    assert float(context["dp"]["years"][0]["epsilon"]) <= 2.0 + 1e-9  # two months of ε = 1
    values = _values(release_file(docs, "2026-10"))
    assert values[MEASURES_TABLE, "median_days"] is None
    online = values["channel", "online"]  # noisy; may be hidden next to small noisy cells
    assert online is None or abs(online - 200) < 200
    docs, _ = run_statistics(db_path, tmp_path / "b", TODAY)  # DP off now: stored months stay
    assert (docs / "data" / "releases" / "2026-10.json").read_bytes() == noisy


def test_bad_settings_are_refused_before_anything_is_stored(tmp_path: Path) -> None:
    from publisher.errors import PrivacyParameterError, SuppressionInputError

    db_path = tmp_path / "db.sqlite"
    insert_cases(db_path, [{"channel": "online", "received_date": "2026-10-03"}])
    with pytest.raises(SuppressionInputError, match="threshold"):
        run_statistics(db_path, tmp_path, TODAY, threshold=0)
    with pytest.raises(PrivacyParameterError, match="epsilon"):
        run_statistics(db_path, tmp_path, TODAY, dp=-1.0)
    assert connect(db_path).execute("SELECT count(*) FROM releases").fetchone()[0] == 0


# --- downloads -----------------------------------------------------------------------------------


def test_downloads_match_their_data_package(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    sample = {
        "day": 3,
        "channel": "letter",
        "registered": True,
        "item_type": "accusation",
        "problem": "mass",
        "rank": None,
        "region": "county",
        "progress": "answered",
        "delays": [1, 30, 20, 3],
        "rating": "satisfied",
        "real_name": "verified",
        "tag": None,
    }
    insert_cases(db_path, [_row({**sample, "month": m, "day": d}) for m in CLOSED
                           for d in range(1, 16)])  # fmt: skip
    docs, context = run_statistics(db_path, tmp_path, TODAY)
    data = docs / "data"
    package = json.loads((data / "datapackage.json").read_text())
    names = [r["name"] for r in package["resources"]]
    assert len(names) == len(set(names))
    for resource in package["resources"]:
        path = data / resource["path"]
        fields = [f["name"] for f in resource["schema"]["fields"]]
        if resource["format"] == "csv":
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.reader(handle))
            assert rows[0] == fields, resource["name"]
            json_twin = json.loads(path.with_suffix(".json").read_text())
            assert len(json_twin) == len(rows) - 1
            for line, record in zip(rows[1:], json_twin, strict=True):
                assert line == ["" if record[f] is None else str(record[f]) for f in fields]
        else:
            records = json.loads(path.read_text())
            assert all(sorted(r) == sorted(fields) for r in records), resource["name"]
    for table in context["tables"]:
        for lang in ("zh", "en"):
            svg = (docs / table["charts"][lang]["path"]).read_text()
            assert svg.startswith("<svg") and 'role="img"' in svg


def test_the_page_states_the_threshold_and_the_yearly_epsilon(tmp_path: Path) -> None:
    from conftest import ROOT

    from publisher.build import Build, PublishSettings, render_templates
    from publisher.statpage import statistics_page

    db_path = tmp_path / "db.sqlite"
    insert_cases(db_path, [{"channel": "online", "received_date": "2026-10-03"}] * 50)
    templates = tmp_path / "portal" / "templates"
    templates.mkdir(parents=True)
    for lang in ("zh", "en"):
        name = f"statistics.{lang}.md.j2"
        shutil.copy(ROOT / "portal" / "templates" / name, templates / name)
    settings = PublishSettings(db_path, tmp_path, tmp_path / "site", TODAY, threshold=7,
                               dp_epsilon=0.5)  # fmt: skip
    build = Build(settings, tmp_path, connect(db_path))
    build.docs.mkdir(parents=True)
    statistics_page(build)
    render_templates(build)
    zh = (build.docs / "statistics.zh.md").read_text()
    en = (build.docs / "statistics.en.md").read_text()
    assert "少于 7 件" in zh and "below 7" in en
    assert "2026 年 ε = 0.5" in zh and "2026: ε = 0.5" in en
    noisy = _values(release_file(build.docs, "2026-10"))
    assert all(v is None or v == 0 or v >= 7 for (t, _), v in noisy.items() if t != MEASURES_TABLE)


def test_a_stock_does_not_give_a_small_flow_away(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    accepted = {"channel": "letter", "state": "accepted", "registered_date": "2026-09-02",
                "accepted_date": "2026-09-02", "received_date": "2026-09-01"}  # fmt: skip
    insert_cases(db_path, [accepted] * 20)  # in progress at the end of September: 20
    october = {**accepted, "received_date": "2026-10-01", "accepted_date": "2026-10-02"}
    insert_cases(db_path, [october] * 3)  # 3 started in October, none concluded
    docs, _ = run_statistics(db_path, tmp_path, TODAY)
    assert _values(release_file(docs, "2026-09"))["caseload", "in_progress"] == 20
    october_values = _values(release_file(docs, "2026-10"))
    assert october_values["caseload", "concluded"] == 0
    assert october_values["caseload", "in_progress"] is None  # 23 - 20 + 0 = 3 started
