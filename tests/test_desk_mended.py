"""The defects the last review found, each as it was found: review (复查) after a case was
closed, and a close that skipped the review window; suggested commands a shell reads as a
comment (``#2411``); a report whose region or problem type is outside the published lists."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from desk.answers import close, conclude, open_review, satisfaction
from desk.cli import desk_group
from desk.context import Desk
from desk.deadlines import Manual
from desk.duplicates import Suggestion
from desk.duties import acknowledge, inquiry_delivered, inquiry_replied
from desk.inbox import read_inbox, suggest_registration
from desk.refusals import BadValue, IllegalTransition, Refused
from desk.register import Registration, register
from desk.routing import Route, route
from desk.supervision import supervision_markdown
from desk.values import case_ref
from desk.verify import verify_register
from desk.warnings import compute_warnings
from lianxin.domain.workdays import add_working_days
from lianxin.keys import Keyring
from tests.conftest import GatewayProcess
from tests.desk_support import (
    intake_letter,
    make_desk,
    new_store,
    office_keys,
    passphrase,
    unlocked,
)
from tests.support import post, report_doc, sealed_report

DAY = date(2026, 3, 2)
FORM = Registration("accusation", "integrity.gifts", region="town.xihe", real_name="anonymous")


def as_(desk: Desk, officer_id: str) -> Desk:
    desk.officer = unlocked(officer_id)
    return desk


@pytest.fixture
def answered(tmp_path: Path, keys_dir: Path) -> Path:
    """Two cases under cn-xinfang-2022 (review requests within 30 days of the answer),
    concluded and answered on 2026-03-02."""
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, policy="cn-xinfang-2022")
    keys = office_keys(keys_dir)
    for marker in ("一", "二"):
        case_id = intake_letter(desk, keys, marker).case_id
        register(desk, case_id, FORM)
        route(desk, case_id, Route("direct", manual=Manual.parse(10, "working")))
        conclude(desk, case_id, keys, "unsubstantiated", answer="经核查，反映问题不属实。")
    desk.close()
    return db


def test_close_right_after_the_answer_does_not_skip_the_review_window(answered: Path) -> None:
    desk = make_desk(answered, DAY, policy="cn-xinfang-2022")
    with pytest.raises(IllegalTransition) as caught:
        close(desk, 1)
    assert str(caught.value).startswith(
        "cannot close case 2026-000001: the reporter may ask for a review until 2026-04-01"
        " (rule review_request of policy cn-xinfang-2022); close after that day, or once the"
        " reporter says they are satisfied."
    )
    satisfaction(desk, 2, "satisfied")
    assert close(desk, 2).state == "closed"  # a satisfied reporter: no need to wait
    desk.close()
    desk = make_desk(answered, date(2026, 4, 2), policy="cn-xinfang-2022")
    assert close(desk, 1).closed_date == "2026-04-02"  # the window has passed
    desk.close()


def test_a_closed_case_reaches_review_within_the_window(answered: Path) -> None:
    desk = make_desk(answered, date(2026, 3, 10), policy="cn-xinfang-2022")
    satisfaction(desk, 2, "basically")
    close(desk, 2)
    # The reporter calls back: not satisfied after all, still within the 30 days.
    satisfaction(desk, 2, "not")
    case = open_review(desk, 2, "review")
    assert (case.state, case.closed_date, case.review_kind) == ("reviewing", None, "review")
    assert verify_register(desk.db).ok
    desk.close()


def test_a_closed_case_past_its_window_is_not_reopened(answered: Path) -> None:
    desk = make_desk(answered, date(2026, 4, 2), policy="cn-xinfang-2022")
    close(desk, 1)
    satisfaction(desk, 1, "not")
    with pytest.raises(Refused, match="its review window ended on 2026-04-01 .rule review_request"):
        open_review(desk, 1, "review")
    desk.close()


def test_suggested_commands_can_be_pasted_into_a_shell(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir)
    keys = office_keys(keys_dir)
    intake_letter(desk, keys, "甲")
    [item] = read_inbox(desk, keys, include_opened=True)
    assert item.case_label == "#1"  # how messages show an unregistered case
    command = suggest_registration(desk, item)
    assert command.startswith("register 1 --item-type accusation") and "#" not in command
    suggestion = Suggestion(1, 2, "#1", "2026-000002", 0.9, True, "甲", "乙")
    assert suggestion.command == "register 2026-000002 --repeat-of 1"
    assert case_ref("#1") == 1  # and a pasted "#1" in quotes names the case too
    desk.close()
    # The inbox's suggestion, run as printed, registers the case.
    env = {
        "LIANXIN_DB": str(db),
        "LIANXIN_OFFICER": "wang",
        "LIANXIN_PASSPHRASE": passphrase("wang"),
    }
    result = CliRunner().invoke(desk_group, [*command.split(), "--today", DAY.isoformat()], env=env)
    assert result.exit_code == 0, result.output
    assert "Case 2026-000001 registered" in result.stdout


def test_a_report_outside_the_published_lists_is_a_problem_with_the_valid_values(
    start_gateway: Callable[..., GatewayProcess], keyring: Keyring, keys_dir: Path
) -> None:
    gateway = start_gateway("--today", DAY.isoformat())
    doc = report_doc("列表外") | {"region": "town.atlantis", "problem_type": "legal.piracy"}
    sent = post(gateway.url, "/v1/reports", sealed_report(keyring, doc))
    assert sent.status_code == 201, sent.text  # the gateway does not know the lists
    desk = make_desk(gateway.db_path, DAY, keys_dir=keys_dir)
    [item] = read_inbox(desk, office_keys(keys_dir))
    region, problem = item.unlisted
    assert region.startswith(
        "region 'town.atlantis' is not in the published list (lianxin/domain/data/regions.yaml);"
        " register with --region, one of: county, "
    )
    assert "town.dongshan" in region
    assert problem.startswith("problem type 'legal.piracy' is not in the published list")
    assert "legal.embezzlement_bribery" in problem and "'legal'" not in problem
    # The suggestion leaves them out: registering asks for them.
    assert "--region" not in suggest_registration(desk, item)
    desk.close()
    env = {
        "LIANXIN_DB": str(gateway.db_path),
        "LIANXIN_OFFICER": "wang",
        "LIANXIN_PASSPHRASE": passphrase("wang"),
    }
    result = CliRunner().invoke(
        desk_group, ["inbox", "--peek", "--today", DAY.isoformat()], env=env
    )
    assert "PROBLEM: region 'town.atlantis' is not in the published list" in result.stdout
    assert "1 submission(s); 0 with problems; 1 with codes outside the lists." in result.stdout


def _duties(db: Path, day: date) -> list[tuple[int, str, str, str]]:
    desk = make_desk(db, day, officer="sup")
    duties = compute_warnings(desk).duties
    desk.close()
    return [(f.case_id, f.stage, f.colour, f.due) for f in duties]


def test_the_acceptance_notice_to_a_real_name_reporter_is_chased(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    for marker in ("实名", "匿名"):
        intake_letter(desk, keys, marker)
    register(desk, 1, Registration("accusation", "integrity.gifts", region="town.xihe",
                                   real_name="verified"))  # fmt: skip
    register(desk, 2, FORM)  # anonymous: nobody to notify
    desk.close()
    # cn-jijian-2020 acknowledge_real_name: 15 working days of receipt, warned 5 before.
    due = add_working_days(DAY, 15).due.isoformat()
    assert due == "2026-03-23"
    assert _duties(db, date(2026, 3, 13)) == []
    assert _duties(db, date(2026, 3, 16)) == [(1, "acknowledge", "yellow", due)]
    assert _duties(db, date(2026, 3, 24)) == [(1, "acknowledge", "red", due)]
    desk = make_desk(db, date(2026, 3, 24), officer="sup")
    text = supervision_markdown(desk, compute_warnings(desk), "钱督办")
    assert "| 红 red | 2026-000001 | 实名受理告知 acceptance notice | 2026-03-23 |" in text
    with pytest.raises(Refused, match="record the acceptance notice .* needs the role registrar"):
        acknowledge(desk, 1, "phone")
    as_(desk, "reg")
    with pytest.raises(Refused, match="case 2026-000002 is anonymous: there is no contact"):
        acknowledge(desk, 2, "phone")
    with pytest.raises(BadValue, match="--how: 'pigeon' is not one of phone, letter"):
        acknowledge(desk, 1, "pigeon")
    assert acknowledge(desk, 1, "phone").acknowledged_date == "2026-03-24"
    with pytest.raises(Refused, match="was acknowledged on 2026-03-24"):
        acknowledge(desk, 1, "letter")
    assert verify_register(desk.db).ok
    desk.close()
    assert _duties(db, date(2026, 3, 25)) == []


def test_an_inquiry_letters_reply_is_chased(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    intake_letter(desk, office_keys(keys_dir))
    register(desk, 1, FORM)
    route(
        as_(desk, "appr"), 1, Route("assign", unit="town.xihe", manual=Manual.parse(40, "working"))
    )
    with pytest.raises(Refused, match="not assigned to your unit town.dongshan"):
        inquiry_delivered(as_(desk, "hand1"), 1)
    with pytest.raises(Refused, match="has no inquiry awaiting a reply .inquiry --delivered"):
        inquiry_replied(as_(desk, "hand2"), 1)
    assert inquiry_delivered(desk, 1).inquiry_delivered == DAY.isoformat()
    with pytest.raises(Refused, match="awaits its reply .inquiry --replied"):
        inquiry_delivered(desk, 1)
    desk.close()
    # inquiry_reply: 15 working days of delivery.
    due = add_working_days(DAY, 15).due.isoformat()
    assert _duties(db, date(2026, 3, 24)) == [(1, "inquiry", "red", due)]
    desk = make_desk(db, date(2026, 3, 24), officer="hand2")
    assert inquiry_replied(desk, 1).inquiry_replied == "2026-03-24"
    assert verify_register(desk.db).ok
    desk.close()
    assert _duties(db, date(2026, 3, 25)) == []


def test_a_forwarded_case_waits_for_the_external_authoritys_feedback(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg", policy="eu-2019-1937")
    intake_letter(desk, office_keys(keys_dir))
    register(desk, 1, Registration("out_of_scope", "other", region="county", real_name="verified"))
    case = route(as_(desk, "appr"), 1, Route("forward", to="external.ecology_environment"))
    # Art. 11(2)(d): the competent authority's feedback within 3 months.
    assert (case.state, case.due_date) == ("forwarded", "2026-06-02")
    source = desk.db.execute("SELECT data FROM events WHERE type = 'forwarded'").fetchone()[0]
    assert '"rule": "feedback_external"' in source or '"rule":"feedback_external"' in source
    desk.close()
