"""Repeat detection over opened Chinese reports, and special ledgers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from desk.answers import conclude
from desk.deadlines import Manual
from desk.duplicates import bigrams, dice, find_duplicates
from desk.ledger import all_ledgers, ledger
from desk.register import Registration, register
from desk.routing import Route, route
from tests.desk_support import intake_letter, make_desk, new_store, office_keys

DAY = date(2026, 2, 10)


def test_near_duplicate_chinese_reports_are_suggested(tmp_path: Path, keys_dir: Path) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    keys = office_keys(keys_dir)
    desk = make_desk(db_path, DAY)
    first = intake_letter(
        desk, keys, text="反映东山镇村道硬化工程验收中，副镇长刘某收受施工方好处费五万元。"
    )
    # The same matter in other words, sent again a week later.
    second = intake_letter(
        desk,
        keys,
        title="再次反映村道工程问题",
        text="东山镇村道硬化工程验收时，副镇长刘某收了施工方的好处费五万元，至今无人处理。",
    )
    # Same person, little text in common: suggested because of the person.
    third = intake_letter(desk, keys, title="刘某公车私用", text="副镇长经常周末开公车回老家。")
    # Unrelated.
    intake_letter(
        desk,
        keys,
        reported={
            "name": "赵某",
            "unit": "西河镇某村委会",
            "post": "主任",
            "rank": "village_community",
        },
        title="低保优亲厚友",
        text="反映西河镇某村低保评定中优亲厚友。",
    )
    found = find_duplicates(desk, keys)
    pairs = [(s.earlier, s.later, s.same_person) for s in found]
    assert pairs[0] == (first.case_id, second.case_id, True)
    assert found[0].score > 0.6
    # Unregistered cases by their bare ids: a shell reads "#2" as the start of a comment.
    assert found[0].command == f"register {second.case_id} --repeat-of {first.case_id}"
    assert all(4 not in (a, b) for a, b, _ in pairs)
    assert (first.case_id, third.case_id, True) not in pairs  # too little text in common
    # Confirmed by staff: the pair is no longer suggested.
    for case_id in (first.case_id, second.case_id):
        register(
            desk,
            case_id,
            Registration(
                "accusation",
                "legal.embezzlement_bribery",
                region="town.dongshan",
                real_name="claimed",
            ),
        )
    register(desk, second.case_id, Registration(repeat_of=first.case_id))
    assert (first.case_id, second.case_id) not in [
        (s.earlier, s.later) for s in find_duplicates(desk, keys)
    ]
    desk.close()


def test_bigram_similarity() -> None:
    assert bigrams("低保，优亲 厚友") == frozenset({"低保", "保优", "优亲", "亲厚", "厚友"})
    assert dice(bigrams("低保优亲厚友"), bigrams("低保优亲厚友")) == 1.0
    assert dice(bigrams("低保"), bigrams("公车")) == 0.0


def test_ledger_open_and_cleared(tmp_path: Path, keys_dir: Path) -> None:
    db_path = new_store(tmp_path / "desk.sqlite")
    keys = office_keys(keys_dir)
    desk = make_desk(db_path, DAY)
    form = Registration(
        "accusation",
        "integrity.property",
        region="town.beiling",
        real_name="anonymous",
        add_tags=("poverty_alleviation",),
    )
    ids = [intake_letter(desk, keys, m).case_id for m in ("一", "二")]
    for case_id in ids:
        register(desk, case_id, form)
        route(
            desk, case_id, Route("assign", unit="town.beiling", manual=Manual.parse(20, "working"))
        )
    conclude(desk, ids[0], keys, "substantiated")
    found = ledger(desk, "poverty_alleviation")
    assert (found.open, found.cleared, found.cleared_to_zero) == (1, 1, False)
    assert [c.cleared_date for c in found.cases] == [None, "2026-02-10"]
    conclude(desk, ids[1], keys, "partly")
    assert ledger(desk, "poverty_alleviation").cleared_to_zero
    summary = {lg.tag: (lg.open, lg.cleared) for lg in all_ledgers(desk)}
    assert summary["poverty_alleviation"] == (0, 2) and summary["epidemic"] == (0, 0)
    desk.close()
