"""Supervision actions (电话督办, 实地督办, 督办函) recorded by a supervisor and counted in the
monthly analysis; the forwarding letter (转办函) of a forwarded case, from the bundled template
or the office's own."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyotp
import pytest

from desk.analysis import monthly_analysis
from desk.analysis_render import to_csv
from desk.cases import load_case
from desk.context import Desk
from desk.deadlines import Manual
from desk.letters import forwarding_letter, issue_letter, letters_for
from desk.refusals import BadValue, IllegalTransition, Refused
from desk.register import Registration, not_accepted, register
from desk.routing import Route, route
from desk.signins import enrol_totp, new_totp_secret, sealed_totp
from desk.supervise import supervise
from desk.verify import verify_register
from lianxin.domain.datafiles import DEFAULT_DATA_DIR
from tests.desk_support import (
    cli,
    intake_letter,
    make_desk,
    new_store,
    office_keys,
    officer_env,
    unlocked,
)

DAY = date(2026, 3, 2)
FORM = Registration("accusation", "integrity.gifts", region="town.xihe", real_name="anonymous")
OUT = Registration("out_of_scope", "other", region="county", real_name="anonymous")


def as_(desk: Desk, officer_id: str) -> Desk:
    desk.officer = unlocked(officer_id)
    return desk


@pytest.fixture
def office(tmp_path: Path, keys_dir: Path) -> Path:
    """Case 1 assigned to 西河镇; case 2 forwarded to the environment bureau; case 3 forwarded
    to a named authority; case 4 received, not registered."""
    db = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db, DAY, keys_dir=keys_dir, officer="reg")
    keys = office_keys(keys_dir)
    for marker in ("一", "二", "三", "四"):
        intake_letter(desk, keys, marker)
    register(desk, 1, FORM)
    register(desk, 2, OUT)
    register(desk, 3, OUT)
    as_(desk, "appr")
    route(desk, 1, Route("assign", unit="town.xihe", manual=Manual.parse(15, "working")))
    days = Manual.parse(30, "calendar")
    route(desk, 2, Route("forward", to="external.ecology_environment", manual=days))
    route(desk, 3, Route("forward", to_name="县市场监督管理局<东区>", manual=days))
    desk.close()
    return db


def test_supervision_actions_are_recorded_by_a_supervisor_and_counted(office: Path) -> None:
    desk = make_desk(office, date(2026, 3, 5), officer="sup")
    record = supervise(desk, 1, "phone")
    assert (record["kind"], record["unit"], record["stage"]) == ("phone", "town.xihe", "sign")
    supervise(desk, 1, "letter", reference="督办函〔2026〕3号")
    supervise(desk, 2, "visit")  # a forwarded case is followed until solved
    with pytest.raises(BadValue, match="--kind: 'email' is not one of phone, visit, letter"):
        supervise(desk, 1, "email")
    with pytest.raises(Refused, match="record a supervision action .督办. needs the role"
                       " supervisor 督办; officer appr has approver"):  # fmt: skip
        supervise(as_(desk, "appr"), 1, "phone")
    desk.close()
    desk = make_desk(office, date(2026, 4, 1), officer="sup")
    supervise(desk, 2, "phone")  # next month
    desk.close()
    desk = make_desk(office, date(2026, 4, 2), officer="ana")
    march = monthly_analysis(desk, "2026-03")
    assert dict(march.supervision) == {"phone": 1, "letter": 1, "visit": 1}
    assert dict(monthly_analysis(desk, "2026-04").supervision) == {"phone": 1}
    rows = {
        (r.split(",")[1], r.split(",")[2]): r.split(",")[5]
        for r in to_csv(desk, march).splitlines()[1:]
    }
    assert (rows[("supervision", "phone")], rows[("supervision", "letter")]) == ("1", "1")
    assert verify_register(desk.db).ok
    desk.close()


def test_only_a_case_under_way_is_supervised(office: Path, keys_dir: Path) -> None:
    desk = make_desk(office, DAY, officer="sup")
    with pytest.raises(IllegalTransition, match="cannot supervise case #4: it is 已收到 received"):
        supervise(desk, 4, "phone")
    register(as_(desk, "reg"), 4, OUT)
    not_accepted(as_(desk, "appr"), 4, office_keys(keys_dir), "无具体内容，不予受理。")
    with pytest.raises(IllegalTransition, match="it is 不予受理 not accepted"):
        supervise(as_(desk, "sup"), 4, "phone")
    desk.close()


def test_the_forwarding_letter(office: Path, tmp_path: Path) -> None:
    desk = make_desk(office, date(2026, 3, 3), officer="reg")
    letter = forwarding_letter(desk, 2)
    assert "<h1>转办函</h1>" in letter.text
    assert "编号：2026-000002" in letter.text and "县生态环境局" in letter.text
    assert "2026-04-01" in letter.text  # the deadline: 30 calendar days after 03-02
    # A named authority is escaped in HTML, printed as it is in text.
    assert "县市场监督管理局&lt;东区&gt;" in forwarding_letter(desk, 3).text
    text = forwarding_letter(desk, 3, fmt="text").text
    assert text.startswith("转办函\n") and "县市场监督管理局<东区>：" in text
    # The office's own template, with the same variables.
    own = tmp_path / "own.txt.j2"
    own.write_text("{{ office }} 转 {{ authority }}（{{ number }}）\n", encoding="utf-8")
    assert forwarding_letter(desk, 2, fmt="text", template=own).text == (
        "信访室 转 县生态环境局（2026-000002）\n"
    )
    own.write_text("{{ nonsense }}", encoding="utf-8")
    with pytest.raises(BadValue, match="--template: the template does not render: 'nonsense'"):
        forwarding_letter(desk, 2, template=own)
    with pytest.raises(Refused, match="CASE: case 2026-000001 was not forwarded"):
        forwarding_letter(desk, 1)
    with pytest.raises(Refused, match="issue a forwarding letter .转办函. needs the role"):
        forwarding_letter(as_(desk, "sup"), 2)
    issued = desk.db.execute("SELECT count(*) FROM events WHERE type = 'letter-issued'").fetchone()
    assert issued[0] == 4  # every letter printed is recorded, the refused ones are not
    assert verify_register(desk.db).ok
    desk.close()


def test_the_supervision_letter_and_the_notices_to_the_reporter(
    office: Path, tmp_path: Path, keys_dir: Path
) -> None:
    desk = make_desk(office, date(2026, 3, 4), officer="sup")
    letter = issue_letter(desk, 1, "supervision")
    assert "<h1>督办函</h1>" in letter.text and "西河镇" in letter.text
    assert "“签收”环节" in letter.text  # it chases the stage the case waits at
    assert issue_letter(desk, 2, "supervision", fmt="text").text.startswith("督办函\n")
    with pytest.raises(Refused, match="issue a forwarding letter .转办函. needs the role"):
        issue_letter(desk, 2, "forwarding")
    with pytest.raises(Refused, match="CASE: case #4 is not open"):
        issue_letter(desk, 4, "supervision")
    as_(desk, "reg")
    with pytest.raises(Refused, match="supervision letter .督办函. needs the role supervisor"):
        issue_letter(desk, 1, "supervision")
    with pytest.raises(BadValue, match="--kind: 'memo' is not one of forwarding, supervision"):
        issue_letter(desk, 1, "memo")
    # A real-name case accepted: the acceptance notice; refused: the notice with the reason.
    keys = office_keys(keys_dir)
    named = intake_letter(desk, keys, "五").case_id
    register(
        desk,
        named,
        Registration("accusation", "integrity.gifts", region="town.xihe", real_name="verified"),
    )
    notice = issue_letter(desk, named, "acceptance").text
    assert "<h1>受理告知书</h1>" in notice and "依规受理" in notice
    with pytest.raises(Refused, match="is anonymous"):
        issue_letter(desk, 1, "acceptance")
    with pytest.raises(Refused, match="was not refused"):
        issue_letter(desk, named, "not-accepted")
    register(desk, 4, OUT)
    not_accepted(as_(desk, "appr"), 4, keys, "无具体内容，不予受理。")
    refusal = issue_letter(as_(desk, "reg"), 4, "not-accepted").text
    assert "<h1>不予受理告知书</h1>" in refusal and "理由：无具体内容，不予受理。" in refusal
    # The office's own template (templates/ under its data folder) replaces the bundled one.
    own = tmp_path / "data" / "templates"
    own.mkdir(parents=True)
    (own / "acceptance-letter.txt.j2").write_text("{{ office }}受理 {{ number }}\n", "utf-8")
    text = issue_letter(desk, named, "acceptance", fmt="text", office=own).text
    assert text == f"信访室受理 {load_case(desk.db, named).number}\n"
    assert issue_letter(desk, 4, "not-accepted", fmt="text", office=own).text.startswith(
        "不予受理告知书\n"
    )  # the bundled one where the office has none
    assert letters_for(load_case(desk.db, named), unlocked("reg").record) == ["acceptance"]
    assert letters_for(load_case(desk.db, 1), unlocked("sup").record) == ["supervision"]
    kinds = desk.db.execute(
        "SELECT json_extract(data, '$.letter') FROM events WHERE type = 'letter-issued'"
    ).fetchall()
    assert [k for (k,) in kinds] == ["supervision"] * 2 + ["acceptance", "not-accepted"] * 2
    assert verify_register(desk.db).ok
    desk.close()


def test_the_letter_command_prints_each_kind_from_the_offices_templates(
    office: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, data)
    (data / "templates").mkdir()
    (data / "templates" / "supervision-letter.txt.j2").write_text(
        "督办 {{ unit }} {{ stage }} {{ number }}\n", "utf-8"
    )
    env = {"LIANXIN_DB": str(office), **officer_env("sup")}
    own = cli("letter", "1", "--kind", "supervision", "--format", "text",
              "--data-dir", str(data), env=env)  # fmt: skip
    assert own.returncode == 0, own.stderr
    assert own.stdout == "督办 西河镇纪委 签收 2026-000001\n"
    out = tmp_path / "督办函.html"
    done = cli("letter", "1", "--kind", "supervision", "--out", str(out), env=env)
    assert done.returncode == 0 and "Supervision letter (督办函) of case 2026-000001" in done.stdout
    assert "<h1>督办函</h1>" in out.read_text("utf-8")  # the bundled one without --data-dir
    refused = cli("letter", "1", "--kind", "forwarding", env=env)
    assert refused.returncode != 0 and "needs the role" in refused.stderr
    bad = cli("letter", "1", "--kind", "memo", env=env)
    assert bad.returncode != 0 and "--kind" in bad.stderr


def test_an_administrator_resets_a_second_factor_from_the_command_line(office: Path) -> None:
    env = {"LIANXIN_DB": str(office)}
    none = cli("officers", "reset-totp", "hand2", env={**env, **officer_env("admin")})
    assert none.returncode != 0 and "has no second factor to reset" in none.stderr
    desk = make_desk(office, date(2026, 3, 4), officer="hand2")
    secret = new_totp_secret()
    enrol_totp(desk, secret, pyotp.TOTP(secret).at(desk.clock.now()))
    desk.close()
    handler = cli("officers", "reset-totp", "hand2", env={**env, **officer_env("hand1")})
    assert handler.returncode != 0 and "needs the role administrator" in handler.stderr
    done = cli("officers", "reset-totp", "hand2", env={**env, **officer_env("admin")})
    assert done.returncode == 0 and "second factor reset" in done.stdout
    desk = make_desk(office, date(2026, 3, 4), officer="admin")
    assert sealed_totp(desk, "hand2") is None
    desk.close()
