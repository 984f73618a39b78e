"""Three-colour warnings at chosen dates, across the 2026 Spring Festival and its make-up
working days; the supervision list; deadlines in a year without holiday data are flagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desk.answers import conclude
from desk.deadlines import Manual
from desk.listing import Filters, list_cases
from desk.register import Registration, register
from desk.routing import Route, route
from desk.supervision import issue_warnings, supervision_markdown
from desk.warnings import compute_warnings
from tests.desk_support import intake_letter, make_desk, new_store, office_keys

FEB_10 = date(2026, 2, 10)
FORM = Registration("accusation", "integrity.gifts", region="town.xihe", real_name="anonymous")


@pytest.fixture
def store(tmp_path: Path, keys_dir: Path) -> Path:
    """Case 1: assigned to 西河镇 on 02-10, due in 15 working days (2026-03-09).
    Case 2: concluded. Case 3: received on 02-10, never registered (registration due 02-24)."""
    db_path = new_store(tmp_path / "desk.sqlite")
    keys = office_keys(keys_dir)
    desk = make_desk(db_path, FEB_10)
    for marker in ("一", "二"):
        case_id = intake_letter(desk, keys, marker).case_id
        register(desk, case_id, FORM)
        route(desk, case_id, Route("assign", unit="town.xihe", manual=Manual.parse(15, "working")))
    intake_letter(desk, keys, "三")
    conclude(desk, 2, keys, "unsubstantiated")
    desk.close()
    return db_path


def colours(db_path: Path, day: date) -> dict[int, str]:
    desk = make_desk(db_path, day)
    report = compute_warnings(desk)
    desk.close()
    flagged = {f.case_id: f.colour for f in report.flagged}
    return {case_id: flagged.get(case_id, "-") for case_id in (1, 3)} | {
        0: ",".join(f"{u.unit}:{u.red}{u.yellow}{u.green}{u.blue}" for u in report.units)
    }


@pytest.mark.parametrize(
    ("day", "case_1", "case_3", "units"),
    [
        # 02-13: registration due 02-24 is 2 working days away (02-14 is a make-up Saturday).
        (date(2026, 2, 13), "-", "yellow", "-:0100,town.xihe:0011"),
        # 02-25: registration overdue; handling due 03-09 still 9 working days away.
        (date(2026, 2, 25), "-", "red", "-:1000,town.xihe:0011"),
        # 03-01 (Sunday): 6 working days left (03-02 … 03-06, 03-09): still green.
        (date(2026, 3, 1), "-", "red", "-:1000,town.xihe:0011"),
        # 03-02: 5 working days left: yellow (warning 5 working days before, seed 003).
        (date(2026, 3, 2), "yellow", "red", "-:1000,town.xihe:0101"),
        # 03-09: due today, not yet overdue.
        (date(2026, 3, 9), "yellow", "red", "-:1000,town.xihe:0101"),
        # 03-10: overdue.
        (date(2026, 3, 10), "red", "red", "-:1000,town.xihe:1001"),
    ],
)
def test_colours_on_chosen_days(
    store: Path, day: date, case_1: str, case_3: str, units: str
) -> None:
    assert colours(store, day) == {1: case_1, 3: case_3, 0: units}


def test_supervision_list_issues_each_warning_once(store: Path) -> None:
    desk = make_desk(store, date(2026, 3, 2))
    report = compute_warnings(desk)
    issued = issue_warnings(desk, report)
    assert sorted((w.case_id, w.colour) for w in issued) == [(1, "yellow"), (3, "red")]
    assert issue_warnings(desk, compute_warnings(desk)) == []
    text = supervision_markdown(desk, report, "王科员")
    assert "# 督办单 Supervision list — 2026-03-02" in text
    assert "## 西河镇纪委 (town.xihe)" in text and "| 黄 yellow | 2026-000001 |" in text
    desk.close()
    desk = make_desk(store, date(2026, 3, 10))
    again = issue_warnings(desk, compute_warnings(desk))
    assert [(w.case_id, w.colour) for w in again] == [(1, "red")]  # case 1 turned red
    rows = desk.db.execute(
        "SELECT case_id, colour, unit, issued_date FROM warnings ORDER BY id"
    ).fetchall()
    assert rows == [
        (3, "red", None, "2026-03-02"),
        (1, "yellow", "town.xihe", "2026-03-02"),
        (1, "red", "town.xihe", "2026-03-10"),
    ]
    desk.close()


def test_a_deadline_in_a_year_without_holiday_data_is_flagged(
    tmp_path: Path, keys_dir: Path
) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db_path, date(2026, 12, 21))
    case_id = intake_letter(desk, office_keys(keys_dir)).case_id
    register(desk, case_id, FORM)
    case = route(
        desk, case_id, Route("assign", unit="town.xihe", manual=Manual.parse(15, "working"))
    )
    # 2027's notice is not in the holidays package: computed, but flagged, never silently.
    assert (case.due_date, case.due_uncertain) == ("2027-01-12", 1)
    [row] = list_cases(desk, Filters())
    assert row["due"] == "2027-01-12" and row["provisional"] is True
    desk.close()
    desk = make_desk(db_path, date(2027, 1, 6))
    [flagged] = compute_warnings(desk).flagged
    assert (flagged.colour, flagged.uncertain) == ("yellow", True)
    desk.close()


# The groups the per-unit counts read, worked out from the cases themselves.
FRESH_GROUPS = """
SELECT COALESCE(unit, forwarded_to, '-'), state, COALESCE(policy, ''),
       COALESCE(CASE WHEN state IN ('accepted', 'in_progress', 'forwarded') THEN due_date
                     WHEN state = 'concluded' THEN answer_due
                     WHEN state = 'reviewing' THEN review_due END, ''),
       COALESCE(CASE WHEN state = 'received' OR (state = 'accepted' AND due_date IS NULL)
                     THEN received_date END, ''),
       count(*)
FROM cases GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
"""
KEPT_GROUPS = "SELECT * FROM case_counts ORDER BY 1, 2, 3, 4, 5"


def test_the_kept_counts_follow_every_change_to_the_cases(store: Path, tmp_path: Path) -> None:
    desk = make_desk(store, date(2026, 3, 2))
    db = desk.db
    assert db.execute(KEPT_GROUPS).fetchall() == db.execute(FRESH_GROUPS).fetchall()
    changes = db.execute("SELECT n FROM register_changes").fetchone()[0]
    assert changes > 0  # the steps of the fixture moved the change counter
    before = colours(store, date(2026, 3, 10))
    db.execute("UPDATE cases SET due_date = '2026-03-20' WHERE id = 1")  # as a later step would
    db.execute("UPDATE cases SET state = 'closed' WHERE id = 2")
    db.execute("UPDATE cases SET unit = 'town.dongshan', forwarded_to = NULL WHERE id = 3")
    assert db.execute(KEPT_GROUPS).fetchall() == db.execute(FRESH_GROUPS).fetchall()
    assert db.execute("SELECT n FROM register_changes").fetchone()[0] == changes + 3
    assert colours(store, date(2026, 3, 10)) != before  # case 1 is no longer overdue
    db.execute("CREATE TEMP TABLE copied AS SELECT * FROM cases WHERE id = 1")
    db.execute("UPDATE copied SET id = 99, number = NULL")
    db.execute("INSERT INTO cases SELECT * FROM copied")  # a new case in case 1's group
    kept = db.execute(KEPT_GROUPS).fetchall()
    assert kept == db.execute(FRESH_GROUPS).fetchall() and 2 in [row[-1] for row in kept]
    db.execute("DELETE FROM cases WHERE id = 99")
    assert db.execute(KEPT_GROUPS).fetchall() == db.execute(FRESH_GROUPS).fetchall()
    desk.close()
