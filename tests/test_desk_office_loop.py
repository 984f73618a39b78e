"""The office loop of issue 11, each step by an officer of the right role: screen (甄别) →
approve or return (审批) → assign (交办) → sign for (签收) → completion report (办结报告) →
check (审核: returned for rework, then accepted) → answer → close, for a letter and for an
online report; the refusals (wrong role, wrong unit, wrong state) with their messages; slow
signing yellow then red and on the supervision list; the register verifies throughout."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from desk.answers import answer, close, conclude
from desk.approval import Proposal, approve, return_proposal, screen
from desk.cli import desk_group
from desk.context import Desk
from desk.deadlines import Manual
from desk.inbox import mark_opened, read_inbox
from desk.refusals import BadValue, IllegalTransition, Refused
from desk.register import Registration, register
from desk.routing import Route, route
from desk.supervision import supervision_markdown
from desk.unitwork import accept_report, return_report, sign_for, submit_report
from desk.verify import verify_register
from desk.warnings import compute_warnings
from lianxin.domain.workdays import add_working_days
from lianxin.keys import Keyring
from lianxin.protocol import Token, open_answer
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

DAY = date(2026, 3, 2)  # a Monday
FORM = Registration(
    "accusation",
    "legal.embezzlement_bribery",
    rank="township_section",
    region="town.dongshan",
    real_name="verified",
)
PLAN = Proposal(
    "assign", "拟交办东山镇纪委初步核实。", unit="town.dongshan", disposition="preliminary_check"
)


def as_(desk: Desk, officer_id: str) -> Desk:
    desk.officer = unlocked(officer_id)
    return desk


def on(db: Path, day: date, officer_id: str) -> Desk:
    return make_desk(db, day, officer=officer_id)


def _events(db: Path, case_id: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT type, actor FROM events WHERE case_id = ? AND type != 'read' ORDER BY seq",
        [case_id],
    ).fetchall()
    conn.close()
    return [(t, a) for t, a in rows]


def walk_loop(db: Path, case_id: int, start: date) -> date:
    """From a registered case to its accepted completion report; returns the day of the check."""
    desk = on(db, start, "reg")
    # 甄别 by the registrar; nobody else proposes.
    with pytest.raises(Refused, match="screen and propose a disposition .甄别. needs the role"
                       " registrar 受理; officer hand1 has handler 承办"):  # fmt: skip
        screen(as_(desk, "hand1"), case_id, PLAN)
    with pytest.raises(BadValue, match="--opinion: must not be empty"):
        screen(as_(desk, "reg"), case_id, Proposal("assign", " ", unit="town.dongshan"))
    with pytest.raises(BadValue, match="--unit: unknown unit 'town.nowhere'"):
        screen(desk, case_id, Proposal("assign", "拟交办", unit="town.nowhere"))
    case = screen(desk, case_id, PLAN)
    assert (case.state, case.phase, case.proposal) == ("accepted", "screened", "assign")
    # The proposal awaits approval: no routing until then, and only an approver approves.
    with pytest.raises(IllegalTransition, match="its proposal awaits approval .approve, or"):
        route(as_(desk, "appr"), case_id, Route("assign", unit="town.dongshan"))
    with pytest.raises(Refused, match="needs the role approver 审批; officer reg has registrar"):
        approve(as_(desk, "reg"), case_id)
    # 审批退回, then screened again and approved.
    with pytest.raises(BadValue, match="--reason: must not be empty"):
        return_proposal(as_(desk, "appr"), case_id, "")
    case = return_proposal(desk, case_id, "请补充核实被反映人职务。")
    assert case.phase == "returned"
    with pytest.raises(IllegalTransition, match="its proposal was returned .screen it again"):
        route(desk, case_id, Route("assign", unit="town.dongshan"))
    with pytest.raises(IllegalTransition, match="cannot approve case .*needs to be screened"):
        approve(desk, case_id)
    screen(as_(desk, "reg"), case_id, PLAN)
    case = approve(as_(desk, "appr"), case_id, "同意。")
    assert case.phase == "approved"
    # The routing follows the approved proposal.
    with pytest.raises(IllegalTransition, match="the approved proposal is route --assign"):
        route(desk, case_id, Route("forward", to_name="县生态环境局"))
    case = route(
        desk, case_id, Route("assign", unit="town.dongshan", manual=Manual.parse(15, "working"))
    )
    sign_due = add_working_days(start, 2).due.isoformat()  # cn-jijian-2020 sign_for: 2 WD
    assert (case.state, case.phase, case.sign_due, case.unit) == (
        "in_progress", "assigned", sign_due, "town.dongshan",
    )  # fmt: skip
    # 签收: only a handler of the assigned unit, and before anything else of the unit's.
    with pytest.raises(Refused, match="is not assigned to your unit town.xihe"):
        sign_for(as_(desk, "hand2"), case_id)
    with pytest.raises(Refused, match="sign for an assigned case .签收. needs the role handler"):
        sign_for(as_(desk, "appr"), case_id)
    with pytest.raises(IllegalTransition, match="its unit has not signed for it yet .sign-for"):
        submit_report(as_(desk, "hand1"), case_id, "partly", "已核实。")
    case = sign_for(desk, case_id)
    assert (case.phase, case.signed_date) == ("signed", start.isoformat())
    with pytest.raises(IllegalTransition, match="cannot sign-for .*needs to be awaiting signing"):
        sign_for(desk, case_id)
    desk.close()

    # 办结报告 from the unit, then 审核: returned for rework with a new deadline.
    day = start + timedelta(days=14)
    desk = on(db, day, "hand1")
    with pytest.raises(BadValue, match="--outcome: 'nonsense' is not a conclusion outcome"):
        submit_report(desk, case_id, "nonsense", "已核实。")
    case = submit_report(
        desk, case_id, "partly", "经初步核实，反映问题部分属实。", disposition="preliminary_check"
    )
    assert (case.phase, case.report_date) == ("reported", day.isoformat())
    with pytest.raises(Refused, match="check a completion report .审核. needs the role approver"):
        accept_report(desk, case_id)
    with pytest.raises(IllegalTransition, match="completion report awaits the check"):
        conclude(as_(desk, "appr"), case_id, None, "partly")
    case = return_report(desk, case_id, "证据材料不全，请补充银行流水。")
    rework_due = add_working_days(day, 10).due.isoformat()  # cn-jijian-2020 rework: 10 WD
    assert (case.phase, case.report_returns, case.due_date) == ("rework", 1, rework_due)
    desk.close()

    # The rework deadline passes: red, stage rework, on the supervision list.
    late = date.fromisoformat(rework_due) + timedelta(days=1)
    desk = on(db, late, "sup")
    [flag] = [f for f in compute_warnings(desk).flagged if f.case_id == case_id]
    assert (flag.colour, flag.stage, flag.due) == ("red", "rework", rework_due)
    assert "退回重报 rework" in supervision_markdown(desk, compute_warnings(desk), "钱督办")
    desk.close()

    # The second report is accepted: the case is concluded with its outcome.
    desk = on(db, late, "hand1")
    submit_report(desk, case_id, "partly", "补充银行流水后，反映问题部分属实，已责令退还。")
    case = accept_report(as_(desk, "appr"), case_id, "同意办结。")
    assert (case.state, case.phase, case.outcome, case.concluded_date) == (
        "concluded", None, "partly", late.isoformat(),
    )  # fmt: skip
    assert case.answer_due is not None  # verified real name: the answer is due
    desk.close()
    return late


def finish(db: Path, keys_dir: Path, case_id: int, day: date) -> None:
    desk = on(db, day, "appr")
    with pytest.raises(Refused, match="answer the reporter .答复. needs the role approver"):
        answer(as_(desk, "hand1"), case_id, office_keys(keys_dir), "答复")
    answer(
        as_(desk, "appr"), case_id, office_keys(keys_dir), "经核实，反映问题部分属实，已责令退还。"
    )
    close(as_(desk, "reg"), case_id)
    report = verify_register(desk.db)
    assert report.ok, report.problems
    desk.close()
    steps = [e for e in _events(db, case_id) if e[0] not in ("received", "opened")]
    assert steps == [
        ("registered", "reg"),
        ("screened", "reg"),
        ("proposal-returned", "appr"),
        ("screened", "reg"),
        ("proposal-approved", "appr"),
        ("assigned", "appr"),
        ("signed-for", "hand1"),
        ("report-submitted", "hand1"),
        ("report-returned", "appr"),
        ("report-submitted", "hand1"),
        ("report-accepted", "appr"),
        ("answered", "appr"),
        ("closed", "reg"),
    ]


def test_the_loop_for_a_letter(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    case_id = intake_letter(desk, office_keys(keys_dir), "（来信）").case_id
    register(desk, case_id, FORM)
    desk.close()
    day = walk_loop(db, case_id, DAY)
    finish(db, keys_dir, case_id, day)
    # A loop column edited outside the desk does not verify.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE cases SET report_returns = 0 WHERE id = ?", [case_id])
    conn.commit()
    conn.close()
    desk = on(db, day, "aud")
    report = verify_register(desk.db)
    desk.close()
    assert not report.ok
    assert any("report_returns" in str(p) for p in report.problems), report.problems


def test_the_loop_for_an_online_report(
    start_gateway: Callable[..., GatewayProcess], keyring: Keyring, keys_dir: Path
) -> None:
    gateway = start_gateway("--today", DAY.isoformat())
    sent = post(
        gateway.url, "/v1/reports", sealed_report(keyring, report_doc("环节", real_name=True))
    )
    assert sent.status_code == 201, sent.text
    token = Token.parse(sent.json()["token"])
    db = gateway.db_path
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    [item] = read_inbox(desk, office_keys(keys_dir))
    mark_opened(desk, [item])
    register(desk, item.case_id, FORM)
    desk.close()
    day = walk_loop(db, item.case_id, DAY)
    finish(db, keys_dir, item.case_id, day)
    conn = sqlite3.connect(db)
    [(sealed,)] = conn.execute("SELECT sealed FROM answers").fetchall()
    conn.close()
    doc = open_answer(sealed, token.keys()).doc
    assert (doc["outcome"], doc["kind"]) == ("partly", "answer")


def test_slow_signing_turns_yellow_then_red_and_is_on_the_supervision_list(
    tmp_path: Path, keys_dir: Path
) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    case_id = intake_letter(desk, office_keys(keys_dir)).case_id
    register(desk, case_id, FORM)
    case = route(
        as_(desk, "appr"),
        case_id,
        Route("assign", unit="town.dongshan", manual=Manual.parse(30, "working")),
    )
    assert case.sign_due == "2026-03-04"  # 2 working days after Monday 03-02
    desk.close()

    def signing(day: date) -> list[tuple[str, int]]:
        desk = on(db, day, "sup")
        report = compute_warnings(desk)
        desk.close()
        assert all(f.case_id != case_id for f in report.flagged)  # handling is far off
        return [(f.colour, f.days) for f in report.signing if f.case_id == case_id]

    assert signing(DAY) == []  # two working days left: not yet
    assert signing(date(2026, 3, 3)) == [("yellow", 1)]  # one working day left
    assert signing(date(2026, 3, 4)) == [("yellow", 0)]  # due today
    assert signing(date(2026, 3, 5)) == [("red", 1)]  # overdue
    desk = on(db, date(2026, 3, 5), "sup")
    text = supervision_markdown(desk, compute_warnings(desk), "钱督办")
    assert "## 签收超时 Slow signing" in text
    assert (
        "| 红 red | 2026-000001 | 东山镇纪委 (town.dongshan) | 2026-03-04 | 超期 1 overdue |"
        in text
    )
    desk.close()
    # Signed late: recorded as late, and off the list.
    desk = on(db, date(2026, 3, 5), "hand1")
    sign_for(desk, case_id)
    late = desk.db.execute(
        "SELECT data FROM events WHERE type = 'signed-for' AND case_id = ?", [case_id]
    ).fetchone()[0]
    assert '"late":true' in late.replace(" ", "")
    assert compute_warnings(desk).signing == []
    desk.close()


def test_the_loop_commands(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    case_id = intake_letter(desk, office_keys(keys_dir)).case_id
    register(desk, case_id, FORM)
    desk.close()

    def run(officer_id: str, *args: str, code: int = 0) -> str:
        env = {
            "LIANXIN_DB": str(db),
            "LIANXIN_OFFICER": officer_id,
            "LIANXIN_PASSPHRASE": passphrase(officer_id),
        }
        result = CliRunner().invoke(desk_group, [*args, "--today", DAY.isoformat()], env=env)
        assert result.exit_code == code, (result.output, result.exception)
        return result.stdout if code == 0 else result.stderr

    out = run("reg", "screen", "2026-000001", "--propose", "assign", "--unit", "town.dongshan",
              "--opinion", "拟交办。")  # fmt: skip
    assert out == (
        "Case 2026-000001: 已受理 accepted (已甄别待审批 screened, proposal awaiting approval):"
        " proposed assign.\n"
    )
    assert run("appr", "approve", "2026-000001", "--comment", "同意。").endswith(
        "(已审批 proposal approved).\n"
    )
    run("appr", "route", "2026-000001", "--assign", "town.dongshan", "--days", "15")
    err = run("hand2", "sign-for", "2026-000001", code=1)
    assert err == (
        "Error: --officer: case 2026-000001 is not assigned to your unit town.xihe (sign for an"
        " assigned case needs the role handler 承办 for it)\n"
    )
    assert "已签收 signed for" in run("hand1", "sign-for", "2026-000001")
    assert "办结报告待审核" in run(
        "hand1", "report", "2026-000001", "--outcome", "partly", "--text", "已核实。"
    )
    err = run("appr", "check", "2026-000001", code=2)
    assert err == "Error: --accept: give exactly one of --accept, --return\n"
    out = run("appr", "check", "2026-000001", "--return", "--reason", "补充材料", "--days", "5")
    assert out == (
        "Case 2026-000001: 办理中 in progress (退回重报 completion report returned for rework),"
        " new deadline 2026-03-09.\n"
    )
    run("hand1", "report", "2026-000001", "--outcome", "partly", "--text", "已补充。")
    out = run("appr", "check", "2026-000001", "--accept")
    assert out.startswith("Case 2026-000001: 已办结 concluded, outcome partly; answer due ")
