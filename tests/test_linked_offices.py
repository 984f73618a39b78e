"""Linked offices end to end (issue 15): a city and two counties, each with its own keys, store
and desk, the city and county A each with its own gateway on loopback; county B offline.

A report to the city is assigned to county A, signed for, returned once for rework (the new
deadline holds at both offices), concluded with an answer that the city accepts; the reporter
reads the answer on the city's status rows with the token the city's gateway issued. Packages
from an unknown office, signed by the wrong key, replayed or altered in transit are refused
with their problem type and change neither register. County B gets its package as a file.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, TEST_POW_DIFFICULTY, free_port
from desk_support import new_store, office_keys, setup_office, unlocked
from nacl.signing import SigningKey
from support import post, report_doc, sealed_report

from desk.context import Desk, open_desk
from desk.deadlines import Manual
from desk.inbox import mark_opened, read_inbox
from desk.linkwork import apply_packages, assign_to_office, check_office_report, report_up
from desk.offices import init_identity, link_office
from desk.packages import deliver, export_files, import_file
from desk.register import Registration, register
from desk.routing import Route, extend, route
from desk.unitwork import accept_report, sign_for, submit_report
from desk.verify import verify_register
from desk.warnings import compute_warnings
from lianxin.domain.workdays import FixedClock
from lianxin.keys import init_keys, load_keyring, load_publisher_signer
from lianxin.offices.card import sign_card
from lianxin.offices.identity import Identity, own_card
from lianxin.offices.package import make_package
from lianxin.protocol import Token
from lianxin.protocol.encoding import b64e
from lianxin.status import read_status
from publisher.status import write_status

DAY = date(2026, 3, 2)  # a Monday
FORM = Registration(
    "accusation",
    "legal.embezzlement_bribery",
    rank="township_section",
    region="town.dongshan",
    real_name="anonymous",
)
ANSWER = "经县纪委核查，反映的问题部分属实，已依规处理。"


@dataclass
class Office:
    """One office: its keys, store, card folder and (for online offices) its gateway."""

    office_id: str
    keys: Path
    db: Path
    site: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def desk(self, day: date, officer: str = "wang") -> Desk:
        return open_desk(self.db, officer=unlocked(officer), clock=FixedClock(day))

    def publisher_fp(self) -> str:
        return load_keyring(self.keys).publisher.fingerprint


def _office(tmp_path: Path, office_id: str, level: str, parent: str | None) -> Office:
    office = Office(
        office_id,
        tmp_path / f"{office_id}-keys",
        tmp_path / f"{office_id}.sqlite",
        tmp_path / f"{office_id}-site",
        free_port(),
    )
    init_keys(office.keys)
    setup_office(new_store(office.db), DAY, keys_dir=office.keys)
    identity = Identity(
        office_id, f"{office_id} 纪委监委", level, "330100", office.url, office.url, parent
    )
    desk = office.desk(DAY, "admin")
    init_identity(desk, identity, office.keys)
    desk.close()
    card = own_card(identity, office.keys, DAY.isoformat())  # what `lianxin publish` writes
    data, sig = sign_card(card, load_publisher_signer(office.keys))
    office.site.mkdir()
    (office.site / "office.json").write_bytes(data)
    (office.site / "office.json.sig").write_text(sig)
    return office


def _serve(office: Office, log: Path) -> None:
    args = [sys.executable, "-m", "lianxin_cli", "gateway", "serve", "--db", str(office.db)]
    args += ["--keys", str(office.keys), "--host", "127.0.0.1", "--port", str(office.port)]
    args += ["--pow-difficulty", str(TEST_POW_DIFFICULTY), "--today", DAY.isoformat()]
    office.process = subprocess.Popen(
        args, stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )


def _wait(office: Office) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert office.process is not None and office.process.poll() is None, "gateway exited"
        try:
            if httpx.get(office.url + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"gateway of {office.office_id} did not start")


@pytest.fixture
def offices(tmp_path: Path) -> Iterator[dict[str, Office]]:
    made = {
        "city": _office(tmp_path, "city", "city", None),
        "county-a": _office(tmp_path, "county-a", "county", "city"),
        "county-b": _office(tmp_path, "county-b", "county", "city"),
    }
    for name in ("city", "county-a"):  # county B stays offline
        _serve(made[name], tmp_path / f"{name}-gateway.log")
    try:
        for name in ("city", "county-a"):
            _wait(made[name])
        city = made["city"].desk(DAY, "admin")
        for child in ("county-a", "county-b"):
            link_office(city, str(made[child].site), "child", made[child].publisher_fp())
            lower = made[child].desk(DAY, "admin")
            link_office(lower, str(made["city"].site), "parent", made["city"].publisher_fp())
            lower.close()
        city.close()
        yield made
    finally:
        for office in made.values():
            if office.process is not None and office.process.poll() is None:
                os.killpg(office.process.pid, signal.SIGTERM)
                office.process.wait(timeout=20)


def _registers(*offices: Office) -> list[tuple[int, int, int]]:
    out = []
    for office in offices:
        desk = office.desk(DAY)
        row = desk.db.execute(
            "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM events),"
            " (SELECT count(*) FROM packages)"
        ).fetchone()
        desk.close()
        out.append(tuple(row))
    return out


def _receive(office: Office, day: date) -> list[str]:
    desk = office.desk(day)
    applied = apply_packages(desk, office_keys(office.keys))
    desk.close()
    assert all(not a.problem for a in applied), applied
    return [a.case_label for a in applied]


def _send(office: Office, day: date) -> list[str]:
    desk = office.desk(day)
    results = [r.result for r in deliver(desk, timeout=5)]
    desk.close()
    return results


def _lower_loop(office: Office, ref: str, day: date, *, first: bool) -> None:
    """County A's own loop on the assigned case: route, sign for, report, check."""
    desk = office.desk(day)
    if first:
        route(desk, ref, Route("assign", unit="town.dongshan"))
        desk.officer = unlocked("hand1")
        sign_for(desk, ref)
    desk.officer = unlocked("hand1")
    submit_report(desk, ref, "partly", "核查报告：部分属实。", keys=office_keys(office.keys))
    desk.officer = unlocked("wang")
    accept_report(desk, ref, keys=office_keys(office.keys))
    report_up(desk, ref, "completion", text="办结报告：部分属实，已处理。", answer_text=ANSWER)
    desk.close()


def test_a_case_goes_down_and_back_up(offices: dict[str, Office], tmp_path: Path) -> None:
    city, county_a, county_b = offices["city"], offices["county-a"], offices["county-b"]
    sent = post(city.url, "/v1/reports", sealed_report(load_keyring(city.keys), report_doc("交办")))
    assert sent.status_code == 201, sent.text
    token = Token.parse(sent.json()["token"])

    desk = city.desk(DAY)
    [item] = read_inbox(desk, office_keys(city.keys))
    mark_opened(desk, [item])
    case = register(desk, item.case_id, FORM)
    due = DAY + timedelta(days=30)
    assigned = assign_to_office(desk, case.id, "county-a", "请核查并于期限内报告。", due)
    assert (assigned.state, assigned.phase, assigned.due_date) == (
        "in_progress",
        "assigned",
        due.isoformat(),
    )
    desk.close()
    assert _send(city, DAY) == ["delivered"]

    # County A registers it as assigned from above, with the city's deadline, and signs for it.
    [lower_ref] = _receive(county_a, DAY)
    desk = county_a.desk(DAY)
    lower = desk.db.execute(
        "SELECT source, state, due_date FROM cases WHERE number = ?", [lower_ref]
    ).fetchone()
    assert tuple(lower) == ("assigned", "accepted", due.isoformat())
    report_up(desk, lower_ref, "signed-for")
    desk.close()
    _lower_loop(county_a, lower_ref, DAY + timedelta(days=3), first=True)
    assert _send(county_a, DAY + timedelta(days=3)) == ["delivered", "delivered"]
    day = DAY + timedelta(days=4)
    assert _receive(city, day) == [case.label, case.label]
    desk = city.desk(day)
    query = "SELECT type FROM events WHERE case_id = ? ORDER BY seq"
    timeline = [r[0] for r in desk.db.execute(query, [case.id])]
    assert timeline[-4:] == [
        "assigned-to-office",
        "office-signed-for",
        "office-reported",
        "office-answer-received",
    ]

    # Returned for rework with a new deadline: it holds at both offices.
    keys = office_keys(city.keys)
    five = Manual.parse(5, "working")
    returned = check_office_report(
        desk, case.id, keys, accept=False, reason="证据不充分，请补充。", manual=five
    )
    desk.close()
    new_due = returned.due_date
    assert returned.phase == "rework" and new_due == (day + timedelta(days=7)).isoformat()
    assert _send(city, day) == ["delivered"]
    _receive(county_a, day)
    desk = county_a.desk(day)
    row = desk.db.execute(
        "SELECT state, phase, due_date FROM cases WHERE number = ?", [lower_ref]
    ).fetchone()
    assert tuple(row) == ("in_progress", "rework", new_due)
    # overdue at the lower office: red at both
    late = date.fromisoformat(new_due) + timedelta(days=1)
    red_lower = [f.number for f in compute_warnings(desk, late).flagged if f.colour == "red"]
    desk.close()
    desk = city.desk(day)
    flagged = compute_warnings(desk, late).flagged
    red_upper = [(f.number, f.unit) for f in flagged if f.colour == "red"]
    desk.close()
    # on the city's supervision list, under the county it was assigned to
    assert lower_ref in red_lower and (case.label, "office:county-a") in red_upper

    _lower_loop(county_a, lower_ref, day + timedelta(days=2), first=False)
    assert _send(county_a, day + timedelta(days=2)) == ["delivered"]
    day += timedelta(days=3)
    _receive(city, day)
    desk = city.desk(day)
    done = check_office_report(desk, case.id, office_keys(city.keys), accept=True)
    assert (done.state, done.outcome) == ("answered", "partly")
    desk.close()
    assert _send(city, day) == ["delivered"]
    _receive(county_a, day)
    desk = county_a.desk(day)
    row = desk.db.execute("SELECT state, answer_due FROM cases WHERE number = ?", [lower_ref])
    assert tuple(row.fetchone()) == ("concluded", None)  # the city answers the reporter
    desk.close()

    # The reporter reads the county's answer on the city's status rows with the city's token.
    site = tmp_path / "city-status"
    desk = city.desk(day)
    write_status(desk.db, site / "status", day, day)
    desk.close()
    status = read_status(str(site), token)
    assert status is not None and status.answers[0]["text"] == ANSWER
    for office in (city, county_a):
        desk = office.desk(day, "aud")
        report = verify_register(desk.db)
        desk.close()
        assert report.ok, report.problems

    # --- refusals at county A's gateway: each a problem type, neither register changed ---------
    before = _registers(city, county_a)
    desk = city.desk(day)
    query = "SELECT body FROM packages WHERE direction = 'out' ORDER BY id"
    delivered = bytes(desk.db.execute(query).fetchone()[0])
    desk.close()
    a_card = json.loads((county_a.site / "office.json").read_text())
    a_key = base64.urlsafe_b64decode(a_card["office_key"]["public_key"] + "=")

    def forged(
        sender: str, signer: SigningKey, receiver: str = "county-a", kind: str = "check"
    ) -> bytes:
        officer = SigningKey.generate()
        package = make_package(
            sender=sender,
            receiver=receiver,
            seq=99,
            kind=kind,
            body={"link": "city/x", "result": "accept"},
            office_key=a_key,
            officer_id="x",
            officer_key=bytes(officer.verify_key),
            officer_sign=lambda m: bytes(officer.sign(m).signature),
            office_signer=signer,
        )
        return json.dumps(package.to_json()).encode()

    altered_doc = json.loads(delivered)
    sealed = bytearray(base64.urlsafe_b64decode(altered_doc["sealed"] + "=" * 3))
    sealed[40] ^= 1
    altered_doc["sealed"] = b64e(bytes(sealed))
    cases = {
        "unknown-office": forged("county-x", SigningKey.generate()),
        "wrong-office": forged("city", SigningKey.generate(), receiver="county-b"),
        "wrong-direction": forged("city", SigningKey.generate(), kind="completion"),
        "wrong-key": forged("city", SigningKey.generate()),
        "replayed": delivered,
        "bad-signature": json.dumps(altered_doc).encode(),
    }
    for slug, body in cases.items():
        json_type = {"content-type": "application/json"}
        answer = httpx.post(county_a.url + "/v1/packages", content=body, headers=json_type)
        assert 400 <= answer.status_code < 500, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("/" + slug), answer.text
    assert _registers(city, county_a) == before

    # --- county B offline: the package waits, goes as a file, and the case continues -----------
    second = post(city.url, "/v1/reports", sealed_report(load_keyring(city.keys), report_doc("B")))
    assert second.status_code == 201
    desk = city.desk(day)
    [item] = read_inbox(desk, office_keys(city.keys))
    mark_opened(desk, [item])
    case_b = register(desk, item.case_id, FORM)
    assign_to_office(desk, case_b.id, "county-b", "请核查。", day + timedelta(days=30))
    desk.close()
    assert _send(city, day)[0].startswith("waiting: ConnectError")
    desk = city.desk(day)
    [file] = export_files(desk, "county-b", tmp_path / "carried")
    desk.close()
    desk = county_b.desk(day + timedelta(days=1))
    import_file(desk, file)
    with pytest.raises(Exception, match="replayed"):
        import_file(desk, file)
    desk.close()
    [b_ref] = _receive(county_b, day + timedelta(days=1))
    desk = county_b.desk(day + timedelta(days=1))
    report_up(desk, b_ref, "signed-for")
    route(desk, b_ref, Route("assign", unit="town.dongshan"))
    ten = Manual.parse(10, "working")
    extended = extend(desk, b_ref, office_keys(county_b.keys), "需补充调取银行流水。", ten)
    report_up(desk, b_ref, "extension", text="需补充调取银行流水。")
    up_files = export_files(desk, "city", tmp_path / "carried-up")
    desk.close()
    assert len(up_files) == 2
    desk = city.desk(day + timedelta(days=2))
    for up_file in up_files:
        import_file(desk, up_file)
    desk.close()
    _receive(city, day + timedelta(days=2))
    desk = city.desk(day + timedelta(days=2))
    row = desk.db.execute("SELECT phase, due_date FROM cases WHERE id = ?", [case_b.id])
    assert tuple(row.fetchone()) == ("signed", extended.due_date)
    report = verify_register(desk.db)
    desk.close()
    assert report.ok, report.problems
