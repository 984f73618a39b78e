"""The demo's desk work: sample cases walked through the register so published figures have
something real to show.

``walk_sample_cases`` opens the reports the demo submitted online and takes them through the
desk (registered and assigned, one forwarded out of scope to the environment bureau, some
concluded and answered with answers sealed to the reporters' tokens), then receives a letter, a
visit, a phone call and a complaint-box note with past dates (their token slips are printed):
one overdue and never signed for by its unit (slow signing), one taken through the whole
office loop (screened, its proposal returned and screened again, approved, assigned, signed for
late, its completion report returned for rework and accepted the second time, answered, not
satisfied, answered a second time, closed), one not accepted, one near its deadline. The online
reports are screened, approved and assigned; the units with a handler in the demo office sign
for them. The supervisor then chases the case never signed for (by phone and by letter) and
visits the environment bureau about the forwarded case, whose forwarding letter (转办函) is
written beside the database. ``synthesize_register`` (from :mod:`desk.synth`) writes large
synthetic registers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from lianxin.domain.workdays import FixedClock

from .answers import answer, close, conclude, open_review, satisfaction, second_answer
from .approval import Proposal, approve, return_proposal, screen
from .casekeys import grant_office_key
from .context import Desk, open_desk
from .deadlines import Manual
from .duties import acknowledge, inquiry_delivered
from .inbox import mark_opened, read_inbox
from .intake import intake
from .letters import forwarding_letter
from .notes import add_note
from .officekeys import OfficeKeys, load_office_keys
from .officers import UnlockedOfficer, new_officer, suggest_passphrase
from .register import Registration, not_accepted, register
from .registry import add_officer, init_office, is_initialised
from .routing import Route, route
from .supervise import supervise
from .synth import synthesize_register
from .unitwork import accept_report, return_report, sign_for, submit_report

__all__ = ["synthesize_register", "walk_sample_cases"]


def _days(n: int, unit: str = "working") -> Manual | None:
    return Manual.parse(n, unit)


def _form(doc: dict[str, Any], desk: Desk, **changes: Any) -> Registration:
    tax = desk.taxonomy
    problem = str(doc.get("problem_type", ""))
    rank = str(doc.get("reported", {}).get("rank", ""))
    fields: dict[str, Any] = {
        "item_type": "accusation",
        "problem_type": problem if problem in tax.problem_types else "other",
        "rank": rank if rank in tax.ranks else "other",
        "region": doc.get("region") if doc.get("region") in tax.regions else "county",
        "real_name": "verified" if doc.get("real_name") else "anonymous",
    }
    fields.update(changes)
    return Registration(**fields)


Step = Callable[[Desk, OfficeKeys, int, dict[str, Any]], None]

DEMO_OFFICERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("admin", "演示管理员", "office.letters", ("administrator",)),
    ("registrar", "演示受理员", "office.letters", ("registrar",)),
    ("approver", "演示主任", "office.letters", ("approver",)),
    ("handler.dongshan", "东山镇承办员", "town.dongshan", ("handler",)),
    ("handler.supervision", "第一监督检查室承办员", "office.supervision_1", ("handler",)),
    ("supervisor", "演示督办员", "office.case_management", ("supervisor",)),
    ("auditor", "演示审计员", "office.case_management", ("auditor",)),
    ("analyst", "演示分析员", "office.case_management", ("analyst",)),
)
_CAST: dict[str, UnlockedOfficer] = {}


def as_(desk: Desk, role: str) -> Desk:
    """Switch the demo desk to the demo officer of ``role`` (or id)."""
    desk.officer = _CAST[role]
    return desk


def create_demo_office(
    db_path: Path, keys: OfficeKeys, office: str, day: date
) -> dict[str, tuple[UnlockedOfficer, str]]:
    """The demo office: one officer of each role, two handling units; prints passphrases."""
    made = {}
    for oid, name, unit, roles in DEMO_OFFICERS:
        phrase = suggest_passphrase()
        made[oid] = (new_officer(oid, f"{name}（{office}）", unit, roles, phrase), phrase)
    admin = made["admin"][0]
    desk = open_desk(db_path, officer=admin.unlocked, clock=FixedClock(day))
    try:
        if is_initialised(desk.db):
            raise ValueError(f"{db_path} already has an office")
        init_office(desk, admin, kind="demo")
        print(f"  office created; first administrator's key fingerprint {admin.record.fingerprint}")
        for oid, (new, _) in made.items():
            if oid != "admin":
                add_officer(desk, new, keys if "registrar" in new.record.roles else None)
        with desk.transaction():
            grant_office_key(desk.db, keys, made["registrar"][0].record)
    finally:
        desk.close()
    for oid, (new, phrase) in made.items():
        _CAST[oid] = new.unlocked
        held = ", ".join(new.record.roles)
        print(f"  officer {oid:<20} {held:<14} {new.record.unit:<24} passphrase: {phrase}")
    return {oid: (new.unlocked, phrase) for oid, (new, phrase) in made.items()}


HANDLERS = {"town.dongshan": "handler.dongshan", "office.supervision_1": "handler.supervision"}


def _assign(unit: str, days: int, **changes: Any) -> Step:
    def step(desk: Desk, keys: OfficeKeys, case_id: int, doc: dict[str, Any]) -> None:
        register(as_(desk, "registrar"), case_id, _form(doc, desk, **changes), keys)
        opinion = f"反映问题具体，拟交办{unit}初步核实。"
        plan = Proposal("assign", opinion, unit=unit, disposition="preliminary_check")
        screen(as_(desk, "registrar"), case_id, plan)
        approve(as_(desk, "approver"), case_id, "同意。")
        route(as_(desk, "approver"), case_id, Route("assign", unit=unit, manual=_days(days)))
        if unit in HANDLERS:  # the unit's handler signs for it and records a first step
            sign_for(as_(desk, HANDLERS[unit]), case_id)
            add_note(as_(desk, HANDLERS[unit]), case_id, keys, text="已签收，开始核查。")
            if unit == "town.dongshan":  # a 谈话函询 letter, its reply now due
                inquiry_delivered(as_(desk, HANDLERS[unit]), case_id)

    return step


def _forward_fumes(desk: Desk, keys: OfficeKeys, case_id: int, doc: dict[str, Any]) -> None:
    form = _form(doc, desk, item_type="out_of_scope", add_tags=("ecology",))
    register(as_(desk, "registrar"), case_id, form, keys)
    plan = Route("forward", to="external.ecology_environment", manual=_days(30, "calendar"))
    route(as_(desk, "approver"), case_id, plan)


def _answered(unit: str, outcome: str, text: str) -> Step:
    def step(desk: Desk, keys: OfficeKeys, case_id: int, doc: dict[str, Any]) -> None:
        register(as_(desk, "registrar"), case_id, _form(doc, desk), keys)
        route(as_(desk, "approver"), case_id, Route("direct", unit=unit, manual=_days(20)))
        conclude(as_(desk, "approver"), case_id, keys, outcome, answer=text)

    return step


PLAN: dict[str, Step] = {
    "村道工程验收收受好处": _assign("town.dongshan", 30, rank="township_section"),
    "低保名额优亲厚友": _assign("town.xihe", 20, add_tags=("poverty_alleviation", "livelihood")),
    "餐馆油烟扰民": _forward_fumes,
    "项目审批推诿拖延": _answered(
        "office.supervision_1",
        "partly",
        "经核查，反映的审批拖延问题部分属实，已对相关人员批评教育并督促办结。",
    ),
    "套取扶贫资金": _assign("town.beiling", 15, add_tags=("poverty_alleviation",)),
    "征地补偿款未足额发放": _answered(
        "town.qingshi",
        "substantiated",
        "经核查，反映问题属实，补偿款已全部补发到户，相关人员已被问责。",
    ),
}


def _online(db_path: Path, keys: OfficeKeys, officer: str, today: date) -> None:
    desk = open_desk(db_path, officer=_CAST["registrar"], clock=FixedClock(today))
    newest = desk.db.execute(
        "SELECT max(received_date) FROM submissions WHERE opened_at IS NULL"
    ).fetchone()[0]
    if newest and newest > today.isoformat():  # the gateway counts days in China's time zone
        desk.clock = FixedClock(date.fromisoformat(newest))
    try:
        items = mark_opened(as_(desk, "registrar"), read_inbox(as_(desk, "registrar"), keys))
        for item in items:
            if item.kind != "report" or item.problem:
                continue
            step = PLAN.get(str(item.doc.get("title")), _assign("office.supervision_1", 30))
            step(desk, keys, item.case_id, item.doc)
            print(f"  online case {item.case_id}: {item.doc.get('title')}")
    finally:
        desk.close()


def _on(db_path: Path, officer: str, day: date) -> Desk:
    return open_desk(db_path, officer=_CAST["registrar"], clock=FixedClock(day))


def _slip(desk: Desk, keys: OfficeKeys, channel: str, received: date, doc: dict[str, Any]) -> int:
    slip = intake(as_(desk, "registrar"), keys, doc, channel=channel, received=received)
    print(f"  {channel} received {received}: case {slip.case_id}, token slip: {slip.token}")
    return slip.case_id


def _report(
    title: str,
    text: str,
    name: str,
    unit: str,
    rank: str,
    region: str,
    problem: str,
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "real_name": identity is not None,
        "reported": {"name": name, "unit": unit, "post": "", "rank": rank},
        "region": region,
        "problem_type": problem,
        "title": title,
        "text": text,
    }
    if identity is not None:
        doc["identity"] = identity
    return doc


def _offline(db_path: Path, keys: OfficeKeys, officer: str, today: date) -> None:
    def ago(n: int) -> date:
        return today - timedelta(days=n)

    desk = _on(db_path, officer, ago(60))
    overdue = _slip(
        desk,
        keys,
        "letter",
        ago(62),
        _report(
            "工程款拖欠与虚报冒领",
            "示例来信：反映南湖乡某站站长虚报冒领工程款。",
            "钱某",
            "南湖乡农技站",
            "township_section",
            "town.nanhu",
            "integrity.property",
        ),
    )
    register(
        as_(desk, "registrar"),
        overdue,
        Registration(
            "accusation", "integrity.property", "township_section", "town.nanhu", "anonymous"
        ),
    )
    route(as_(desk, "approver"), overdue, Route("assign", unit="town.nanhu", manual=_days(20)))
    desk.close()
    desk = _on(db_path, officer, ago(45))
    visit = _slip(
        desk,
        keys,
        "visit",
        ago(45),
        _report(
            "违规发放补贴",
            "示例来访：反映县某局违规发放津贴补贴。",
            "孙某",
            "县某局",
            "county_division",
            "county",
            "integrity.allowances",
            {"name": "周某（示例）", "contact": "0000-0000004"},
        ),
    )
    register(
        as_(desk, "registrar"),
        visit,
        Registration(
            "accusation",
            "integrity.allowances",
            "county_division",
            "county",
            "verified",
            add_tags=("eight_point_rules",),
        ),
    )
    screen(
        as_(desk, "registrar"),
        visit,
        Proposal("assign", "拟交办第一监督检查室核实。", unit="office.supervision_1"),
    )
    desk.close()
    desk = _on(db_path, officer, ago(44))
    acknowledge(as_(desk, "registrar"), visit, "phone")  # 受理告知 to the real-name reporter
    return_proposal(as_(desk, "approver"), visit, "请写明处置方式。")
    plan = Proposal(
        "assign",
        "涉及津贴补贴发放，拟交办第一监督检查室初步核实。",
        unit="office.supervision_1",
        disposition="preliminary_check",
    )
    screen(as_(desk, "registrar"), visit, plan)
    desk.close()
    desk = _on(db_path, officer, ago(43))
    approve(as_(desk, "approver"), visit, "同意。")
    plan_route = Route("assign", unit="office.supervision_1", manual=_days(15))
    route(as_(desk, "approver"), visit, plan_route)
    desk.close()
    desk = _on(db_path, officer, ago(38))
    sign_for(as_(desk, "handler.supervision"), visit)  # late: slow signing
    desk.close()
    desk = _on(db_path, officer, ago(30))
    phone = _slip(
        desk,
        keys,
        "phone",
        ago(30),
        _report(
            "情况反映",
            "示例来电：内容笼统，无具体人和事。",
            "某领导",
            "",
            "other",
            "county",
            "other",
        ),
    )
    register(
        as_(desk, "registrar"),
        phone,
        Registration("no_substance", "other", "other", "county", "anonymous"),
    )
    not_accepted(as_(desk, "approver"), phone, keys, "反映内容笼统，无具体对象和事实，不予受理。")
    desk.close()
    desk = _on(db_path, officer, ago(20))
    submit_report(
        as_(desk, "handler.supervision"), visit, "partly", "核查报告：部分属实。", keys=keys
    )
    desk.close()
    desk = _on(db_path, officer, ago(18))
    return_report(as_(desk, "approver"), visit, "未附退还凭证，请补充后重报。", keys=keys)
    desk.close()
    desk = _on(db_path, officer, ago(14))
    submit_report(
        as_(desk, "handler.supervision"),
        visit,
        "partly",
        "核查报告（补充）：部分属实，已责令退还，附退还凭证。",
        disposition="preliminary_check",
        keys=keys,
    )
    desk.close()
    desk = _on(db_path, officer, ago(12))
    accept_report(as_(desk, "approver"), visit, "同意办结。", keys=keys)
    answer(
        as_(desk, "approver"), visit, keys, "经核查，反映问题部分属实，已责令退还违规发放的补贴。"
    )
    desk.close()
    desk = _on(db_path, officer, ago(6))
    satisfaction(as_(desk, "registrar"), visit, "not")  # phone callback (回访)
    open_review(
        as_(desk, "approver"),
        visit,
        "second_answer",
        manual=_days(10),
        keys=keys,
        reason="举报人认为退还不彻底。",
    )
    desk.close()
    desk = _on(db_path, officer, ago(2))
    second_answer(
        as_(desk, "approver"),
        visit,
        keys,
        "补充核查后，违规补贴已全部退还，相关负责人被诫勉谈话。",
        "supplemented",
    )
    close(as_(desk, "registrar"), visit)
    box = _slip(
        desk,
        keys,
        "complaint_box",
        ago(9),
        _report(
            "村务不公开",
            "示例诉求箱：反映城关镇某村村务财务长期不公开。",
            "郑某",
            "城关镇某村",
            "village_community",
            "town.chengguan",
            "mass.right_to_know",
        ),
    )
    register(
        as_(desk, "registrar"),
        box,
        Registration(
            "accusation",
            "mass.right_to_know",
            "village_community",
            "town.chengguan",
            "anonymous",
            add_tags=("livelihood",),
        ),
    )
    route(as_(desk, "approver"), box, Route("assign", unit="town.chengguan", manual=_days(5)))
    desk.close()


def walk_sample_cases(db_path: Path, office_key_path: Path, office: str, today: date) -> None:
    """Create the demo office (one officer of each role; passphrases printed), then take a
    few offline reports and the demo's online ones through the desk by the right roles.
    Offline reports come first: their stated dates are in the past, and no event may be
    recorded before the one it follows."""
    keys = load_office_keys(office_key_path)
    print("Desk: the demo office's officers (demo passphrases: a real office never prints them)")
    create_demo_office(db_path, keys, office, today - timedelta(days=70))
    print("Desk: offline reports (letter, visit, phone, complaint box) — token slips")
    _offline(db_path, keys, "", today)
    print("Desk: opening and routing the online reports")
    _online(db_path, keys, "", today)
    print("Desk: supervision (督办) and forwarding letters (转办函)")
    _supervise_and_letters(db_path, today)


def _supervise_and_letters(db_path: Path, today: date) -> None:
    """The supervisor chases the slow and the overdue cases; the registrar prints the
    forwarding letter of each forwarded case beside the database."""
    desk = _on(db_path, "", today)
    try:
        slow = desk.db.execute(
            "SELECT id FROM cases WHERE phase = 'assigned' AND sign_due < ? ORDER BY id",
            [today.isoformat()],
        ).fetchall()
        forwarded = desk.db.execute(
            "SELECT id FROM cases WHERE route = 'forward' ORDER BY id"
        ).fetchall()
        for (case_id,) in slow:
            supervise(as_(desk, "supervisor"), case_id, "phone")
            supervise(as_(desk, "supervisor"), case_id, "letter", reference="督办函（示例）1号")
            print(f"  case {case_id}: not signed for in time — 电话督办 and 督办函 recorded")
        for (case_id,) in forwarded:
            supervise(as_(desk, "supervisor"), case_id, "visit")
            letter = forwarding_letter(as_(desk, "registrar"), case_id)
            out = db_path.parent / f"转办函-{letter.case.label}.html"
            out.write_text(letter.text, encoding="utf-8")
            print(f"  case {case_id}: forwarded — 实地督办 recorded, forwarding letter {out}")
    finally:
        desk.close()
