"""Every refusal path: a bad transition, an unknown case, a bad code or date, a wrong key, a bad
data file; each is one line naming the argument, exits 1 or 2, and changes nothing."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from desk.answers import close, conclude, open_review, satisfaction
from desk.cli import desk_group
from desk.deadlines import Manual
from desk.intake import intake
from desk.refusals import BadValue, IllegalTransition, UnknownCase, WrongKey
from desk.register import Registration, register
from desk.routing import Route, extend, route
from lianxin.domain.datafiles import DEFAULT_DATA_DIR
from lianxin.keys import init_keys
from lianxin.protocol import Attachment
from tests.desk_support import (
    OFFICER,
    intake_letter,
    letter,
    make_desk,
    new_store,
    office_keys,
    passphrase,
)
from tests.support import snapshot

DAY = date(2026, 2, 10)
FORM = Registration("accusation", "legal.dereliction", region="county", real_name="verified")


@pytest.fixture
def store(tmp_path: Path, keys_dir: Path) -> Path:
    """A store with one case received by letter (case 1) and one registered (case 2)."""
    db_path = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db_path, DAY, keys_dir=keys_dir)
    keys = office_keys(keys_dir)
    intake_letter(desk, keys, "甲")
    register(desk, intake_letter(desk, keys, "乙").case_id, FORM)
    desk.close()
    return db_path


def run(db: Path, keys_dir: Path, *args: str, officer: str = OFFICER) -> tuple[int, str]:
    env = {
        "LIANXIN_DB": str(db),
        "LIANXIN_OFFICER": officer,
        "LIANXIN_PASSPHRASE": passphrase(officer or OFFICER),
    }
    result = CliRunner().invoke(desk_group, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def test_concluding_a_case_never_accepted_lists_the_next_steps(store: Path, keys_dir: Path) -> None:
    desk = make_desk(store, DAY)
    with pytest.raises(IllegalTransition) as caught:
        conclude(desk, 1, office_keys(keys_dir), "substantiated")
    assert caught.value.allowed == ("register", "note", "message")
    assert "it is 已收到 received" in str(caught.value)
    desk.close()
    before = snapshot(store)
    code, err = run(store, keys_dir, "conclude", "1", "--outcome", "substantiated")
    assert code == 1
    assert err == (
        "Error: cannot conclude case #1: it is 已收到 received."
        " Allowed next steps: register, note, message\n"
    )
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["register", "99", "--item-type", "accusation"], 1, "CASE: no case '99' in the register"),
        (["show", "2026-000099"], 1, "CASE: no case '2026-000099' in the register"),
        (["register", "abc"], 2, "CASE: 'abc' is neither a case id nor a registration number"),
        (["register", "1", "--item-type", "gossip"], 2, "--item-type: unknown code 'gossip'"),
        (
            ["register", "1", "--problem-type", "integrity"],
            2,
            "--problem-type: 'integrity' is a category; give one of its subtypes",
        ),
        (
            ["register", "1", "--item-type", "accusation"],
            2,
            "--problem-type: required when a case is first registered",
        ),
        (
            ["register", "1", "--real-name", "maybe"],
            2,
            "--real-name: 'maybe' is not one of: anonymous, claimed, verified",
        ),
        (["register", "2", "--repeat-of", "2"], 2, "--repeat-of: would make a loop"),
        (
            ["route", "2", "--assign", "town.dongshan"],
            2,
            "--days: policy cn-jijian-2020 sets no handling deadline",
        ),
        (
            ["route", "2", "--assign", "external.court", "--days", "5"],
            2,
            "--assign: 'external.court' is an external unit, not internal",
        ),
        (
            ["route", "2", "--assign", "nowhere.unit", "--days", "5"],
            2,
            "--assign: unknown unit 'nowhere.unit'",
        ),
        (
            ["route", "2", "--direct", "--unit", "nowhere.unit", "--days", "5"],
            2,
            "--unit: unknown unit 'nowhere.unit'",
        ),
        (["route", "2", "--forward"], 2, "--to: name the competent authority"),
        (["route", "2", "--assign", "town.xihe", "--days", "0"], 2, "--days: 0 is out of range"),
        (
            ["route", "2", "--assign", "town.xihe", "--days", "5", "--today", "2026-02-30"],
            2,
            "--today: '2026-02-30' is not a date (YYYY-MM-DD)",
        ),
        (["warnings", "--today", "tomorrow"], 2, "--today: 'tomorrow' is not a date"),
        (["analysis", "--month", "2026-13"], 2, "--month: '2026-13' is not a month (YYYY-MM)"),
        (
            ["route", "2", "--direct", "--days", "5", "--policy", "cn-nowhere"],
            2,
            "--policy: no policy preset 'cn-nowhere'",
        ),
        (["satisfaction", "2", "happy"], 1, "cannot satisfaction case 2026-000001"),
        (["conclude", "2"], 2, "Missing option '--outcome'"),
        (
            ["route", "2", "--assign", "town.xihe", "--days", "five"],
            2,
            "'five' is not a valid integer",
        ),
        (["register", "1", "--region", "county"], 2, "--officer: who is acting?"),
    ],
)
def test_refusals_are_one_line_and_change_nothing(
    store: Path, keys_dir: Path, args: list[str], code: int, message: str
) -> None:
    before = snapshot(store)
    officer = "" if "--region" in args and args[-1] == "county" else OFFICER
    exit_code, err = run(store, keys_dir, *args, officer=officer)
    assert exit_code == code, err
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert message in err
    assert snapshot(store) == before


def test_a_wrong_key_refuses_the_inbox_and_changes_nothing(
    tmp_path: Path, store: Path, keys_dir: Path
) -> None:
    import sqlite3

    conn = sqlite3.connect(store)
    conn.execute("UPDATE submissions SET opened_at = NULL")
    conn.commit()
    conn.close()
    other = tmp_path / "other-keys"
    init_keys(other)
    before = snapshot(store)
    code, err = run(store, other, "inbox", officer="appr")
    assert code == 1
    assert err == (
        "Error: --officer: open online submissions (开启网上举报) needs the role registrar 受理;"
        " officer appr has approver 审批\n"
    )
    assert snapshot(store) == before
    desk = make_desk(store, DAY)
    with pytest.raises(WrongKey):
        from desk.inbox import read_inbox

        read_inbox(desk, office_keys(other))
    desk.close()
    assert snapshot(store) == before


def test_a_bad_data_file_is_named_with_its_line_and_changes_nothing(
    tmp_path: Path, store: Path, keys_dir: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    units = data / "units.yaml"
    units.write_text(
        units.read_text().replace(
            "kind: external, region: county, zh: 县人民法院",
            "kind: outside, region: county, zh: 县人民法院",
        )
    )
    before = snapshot(store)
    code, err = run(
        store, keys_dir, "register", "1", "--item-type", "accusation", "--data-dir", str(data)
    )
    assert code == 1
    line = next(i for i, text in enumerate(units.read_text().splitlines(), 1) if "outside" in text)
    assert (
        err
        == f"Error: {units}:{line}: items[21].kind: 'outside' is not one of: external, internal\n"
    )
    assert snapshot(store) == before


def test_a_missing_database_is_not_created(tmp_path: Path, keys_dir: Path) -> None:
    code, err = run(tmp_path / "nope.sqlite", keys_dir, "list")
    assert (code, err) == (2, f"Error: --db: no database at {tmp_path / 'nope.sqlite'}\n")
    assert not (tmp_path / "nope.sqlite").exists()


def test_lifecycle_conditions(store: Path, keys_dir: Path) -> None:
    keys = office_keys(keys_dir)
    desk = make_desk(store, DAY, policy="cn-xinfang-2022")
    # Registered under cn-xinfang-2022: handled within 60 days of acceptance, extendable once.
    case = register(desk, 1, FORM)
    assert (case.due_date, case.policy) == ("2026-04-13", "cn-xinfang-2022")  # 04-11 is a Saturday
    route(desk, 1, Route("assign", unit="town.xihe"))
    assert extend(desk, 1, keys, "需调取银行流水").due_date == "2026-05-11"
    before = snapshot(store)
    with pytest.raises(Exception, match="allows 1 extension"):
        extend(desk, 1, keys, "再次延期")
    with pytest.raises(BadValue, match="--reason: must not be empty"):
        extend(desk, 1, keys, " ")
    assert snapshot(store) == before
    conclude(desk, 1, keys, "unsubstantiated", answer="经核查，反映问题不属实。")
    with pytest.raises(IllegalTransition, match="has not said they are not satisfied"):
        open_review(desk, 1, "review")
    satisfaction(desk, 1, "not")
    with pytest.raises(
        IllegalTransition, match="not satisfied: open a second answer or review first"
    ):
        close(desk, 1)
    open_review(desk, 1, "review")  # 复查: 30 days under the 条例
    assert (
        desk.db.execute("SELECT review_due FROM cases WHERE id = 1").fetchone()[0] == "2026-03-12"
    )
    with pytest.raises(UnknownCase):
        register(desk, 404, FORM)
    desk.close()


def test_review_kinds_only_move_forward(store: Path, keys_dir: Path) -> None:
    keys = office_keys(keys_dir)
    desk = make_desk(store, DAY)
    route(desk, 2, Route("direct", manual=Manual.parse(10, "working")))
    conclude(desk, 2, keys, "unsubstantiated", answer="不属实。")
    satisfaction(desk, 2, "not")
    open_review(desk, 2, "review", manual=Manual.parse(30, "calendar"))
    from desk.answers import second_answer

    second_answer(desk, 2, keys, "复查维持原意见。", "upheld")
    with pytest.raises(BadValue, match="already had a review; next: re_review"):
        open_review(desk, 2, "second_answer", manual=Manual.parse(5, "working"))
    with pytest.raises(BadValue, match="--outcome: 'partly' is not a review outcome"):
        open_review(desk, 2, "re_review", manual=Manual.parse(5, "working"))
        second_answer(desk, 2, keys, "复核。", "partly")
    desk.close()


def test_an_attachment_outside_the_protocols_limits_is_refused_by_its_option(
    store: Path, keys_dir: Path
) -> None:
    desk = make_desk(store, DAY)
    before = snapshot(store)
    bad = Attachment("扫描件\n.pdf", "application/pdf", b"%PDF")
    with pytest.raises(BadValue) as caught:
        intake(desk, office_keys(keys_dir), letter("丙"), channel="letter", attachments=(bad,))
    assert caught.value.argument == "--attach"
    assert "control character" in str(caught.value)
    desk.close()
    assert snapshot(store) == before
