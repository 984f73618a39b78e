"""The linked-offices demo's desk side (``lianxin demo --linked``): three demo offices — a city
and two counties — each with its own officers, card and directory, and one online report to
the city walked down to county A and back, by the right officer at each step."""

from __future__ import annotations

from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

from lianxin.domain.workdays import FixedClock
from lianxin.offices.identity import Identity

from .casekeys import desk_keys
from .context import Desk, open_desk
from .demo import create_demo_office
from .inbox import mark_opened, read_inbox
from .linkwork import apply_packages, assign_to_office, check_office_report, report_up
from .officekeys import load_office_keys
from .officers import UnlockedOfficer
from .offices import init_identity, link_office
from .packages import deliver
from .register import Registration, register
from .routing import Route, route
from .unitwork import accept_report, sign_for, submit_report

Cast = dict[str, UnlockedOfficer]
ANSWER = "经县纪委监委核查，反映的问题部分属实，已责令整改并对相关人员批评教育。"


def create_linked_office(db_path: Path, keys_dir: Path, identity: Identity, day: date) -> Cast:
    """A demo office (officers printed with their passphrases) with its card's identity; its
    approvers hold the office signing key."""
    made = create_demo_office(db_path, load_office_keys(keys_dir), identity.name, day)
    cast = {oid: officer for oid, (officer, _) in made.items()}
    with _opened(db_path, cast["admin"], day) as desk:
        init_identity(desk, identity, keys_dir)
    return cast


def link(db_path: Path, cast: Cast, card: Path, relation: str, fingerprint: str, day: date) -> None:
    """The administrator adds a linked office from its card."""
    with _opened(db_path, cast["admin"], day) as desk:
        entry = link_office(desk, str(card), relation, fingerprint)
        print(f"  {entry.relation} {entry.office_id} ({entry.card.name}) pinned")


def _opened(db_path: Path, officer: UnlockedOfficer, day: date) -> closing[Desk]:
    """The desk of one office as ``officer`` on ``day``, closed when the block ends."""
    return closing(open_desk(db_path, officer=officer, clock=FixedClock(day)))


def _as(desk: Desk, cast: Cast, role: str) -> Desk:
    desk.officer = cast[role]
    return desk


def walk_linked_case(
    city: tuple[Path, Cast], county: tuple[Path, Cast], county_id: str, today: date
) -> str:
    """The city registers the online report and assigns it to the county; the county signs
    for it, runs its loop and reports back with an answer; the city accepts, which answers the
    reporter. Returns the city's case number."""
    (city_db, city_cast), (county_db, county_cast) = city, county
    with _opened(city_db, city_cast["registrar"], today) as desk:
        [item] = mark_opened(desk, read_inbox(desk, desk_keys(desk)))
        form = Registration(
            "accusation",
            str(item.doc["problem_type"]),
            rank=str(item.doc["reported"]["rank"]),
            region=str(item.doc["region"]),
            real_name="anonymous",
        )
        case = register(desk, item.case_id, form)
        _as(desk, city_cast, "approver")
        assign_to_office(desk, case.id, county_id, "请核查并报告结果。", today + timedelta(days=30))
        print(f"  city: case {case.label} registered and assigned to {county_id}")
        _delivered(desk)
    with _opened(county_db, county_cast["registrar"], today) as desk:
        [applied] = apply_packages(desk, desk_keys(desk))
        ref = applied.case_label
        print(f"  {county_id}: registered as case {ref}, assigned from above")
        report_up(_as(desk, county_cast, "approver"), ref, "signed-for")
        route(desk, ref, Route("assign", unit="town.dongshan"))
        sign_for(_as(desk, county_cast, "handler.dongshan"), ref)
        submit_report(desk, ref, "partly", "核查报告：反映问题部分属实。")
        accept_report(_as(desk, county_cast, "approver"), ref)
        report_up(desk, ref, "completion", text="办结报告：部分属实，已处理。", answer_text=ANSWER)
        print(f"  {county_id}: signed for, handled, completion report and answer sent up")
        _delivered(desk)
    with _opened(city_db, city_cast["registrar"], today) as desk:
        apply_packages(desk, desk_keys(desk))
        _as(desk, city_cast, "approver")
        done = check_office_report(desk, case.id, desk_keys(desk), accept=True)
        print(f"  city: completion report accepted; case {done.label} {done.state}")
        _delivered(desk)
    with _opened(county_db, county_cast["registrar"], today) as desk:
        apply_packages(desk, desk_keys(desk))
    return str(case.label)


def _delivered(desk: Desk) -> None:
    for result in deliver(desk):
        print(f"    package #{result.seq} {result.kind} to {result.office_id}: {result.result}")
