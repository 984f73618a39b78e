"""``desk search``: register fields narrow the cases an officer may see; the reported person
and words of the report are matched only in reports the officer may read, each opened report
a read event, nothing written but the events."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from desk.deadlines import Manual
from desk.refusals import BadValue, Refused
from desk.register import Registration, register
from desk.routing import Route, route
from desk.search import Query, search_cases
from desk.verify import verify_register
from tests.desk_support import intake_letter, make_desk, new_store, office_keys, unlocked

DAY = date(2026, 11, 24)
FORM = Registration(
    "accusation", "legal.embezzlement_bribery", "township_section", "town.dongshan", "verified"
)


@pytest.fixture
def office(tmp_path: Path, keys_dir: Path) -> tuple[Path, list[int]]:
    """Three letters: A (东山, 刘某, tagged) and B (西河, 王某) routed; C received only."""
    db = new_store(tmp_path / "office.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    a = intake_letter(desk, keys, "桥梁").case_id
    register(desk, a, FORM, keys)
    b = intake_letter(
        desk,
        keys,
        "水库",
        reported={"name": "王某", "unit": "西河镇水利站", "post": "站长", "rank": "other"},
    ).case_id
    register(desk, b, FORM, keys)
    c = intake_letter(desk, keys, "桥梁").case_id
    desk.officer = unlocked("appr")
    route(desk, a, Route("assign", unit="town.dongshan", manual=Manual.parse(5, "working")))
    route(desk, b, Route("assign", unit="town.xihe", manual=Manual.parse(5, "working")))
    desk.close()
    return db, [a, b, c]


def reads(db: Path, officer: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT case_id FROM events WHERE type = 'read' AND actor = ? ORDER BY case_id",
            [officer],
        ).fetchall()
    finally:
        conn.close()
    return [r[0] for r in rows]


def ids(found: object) -> list[int]:
    return sorted(r["id"] for r in found.rows)  # type: ignore[attr-defined]


def test_register_fields_narrow_without_opening_anything(office: tuple[Path, list[int]]) -> None:
    db, (a, b, c) = office
    desk = make_desk(db, DAY, officer="sup")
    assert ids(search_cases(desk, Query())) == [a, b, c]
    assert ids(search_cases(desk, Query(unit="town.xihe"))) == [b]
    assert ids(search_cases(desk, Query(state="received"))) == [c]
    assert ids(search_cases(desk, Query(number="000001"))) == [a]
    assert ids(search_cases(desk, Query(since=date(2026, 11, 25)))) == []
    assert ids(search_cases(desk, Query(until=DAY, number="%"))) == []  # LIKE escaped
    found = search_cases(desk, Query(state="in_progress"))
    assert ids(found) == [a, b] and found.opened == 0
    with pytest.raises(BadValue, match="--tag"):
        search_cases(desk, Query(tag="no_such_ledger"))
    with pytest.raises(BadValue, match="--since"):
        search_cases(desk, Query(since=DAY, until=date(2026, 11, 1)))
    with pytest.raises(Refused, match="needs the role"):  # supervisors read no report
        search_cases(desk, Query(words="桥梁"))
    assert reads(db, "sup") == []
    desk.officer = unlocked("aud")
    with pytest.raises(Refused, match="list cases"):
        search_cases(desk, Query())
    desk.close()


def test_words_and_person_only_in_reports_one_may_read(office: tuple[Path, list[int]]) -> None:
    db, (a, b, _c) = office
    desk = make_desk(db, DAY, officer="hand1")  # Dongshan's handler: case A only
    found = search_cases(desk, Query(words="桥梁"))
    assert ids(found) == [a] and found.opened == 1 and found.not_opened == 0
    assert reads(db, "hand1") == [a]  # the opened report is a recorded read
    assert ids(search_cases(desk, Query(person="刘某"))) == [a]
    with pytest.raises(Refused, match="unit"):
        search_cases(desk, Query(unit="town.xihe", words="水库"))
    desk.officer = unlocked("appr")
    found = search_cases(desk, Query(words="验收  桥梁"))  # every word, spaces ignored
    assert ids(found) == [a] and found.opened == 2 and found.not_opened == 1  # C: no case key
    assert ids(search_cases(desk, Query(person="西河镇水利"))) == [b]
    assert ids(search_cases(desk, Query(person="王某", words="桥梁"))) == []
    assert ids(search_cases(desk, Query(words="ＡＢＣ水库".lower()))) == []
    assert reads(db, "appr") == [a, a, a, a, b, b, b, b]
    with pytest.raises(BadValue, match="--words"):
        search_cases(desk, Query(words="字" * 201))
    report = verify_register(desk.db)
    assert report.ok, report.problems
    desk.close()


def test_nothing_of_the_report_is_written_but_read_events(
    office: tuple[Path, list[int]],
) -> None:
    db, _ = office
    before = {p.name: p.stat().st_size for p in db.parent.iterdir()}
    desk = make_desk(db, DAY, officer="appr")
    search_cases(desk, Query(words="桥梁"))
    desk.close()
    conn = sqlite3.connect(db)
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert "桥梁" not in dump and "刘某" not in dump  # only sealed content is stored
    assert set(p.name for p in db.parent.iterdir()) <= set(before) | {
        db.name + "-wal",
        db.name + "-shm",
    }
