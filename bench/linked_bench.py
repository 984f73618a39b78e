"""Assignments between two linked offices on loopback: how many cases per second a city can
assign down to a county, and the county take in, through the real gateway.

Builds, in a temporary folder, two offices (keys, store, officers, cards pinned in each other's
directory) and starts the county's gateway (`lianxin gateway serve`, as shipped). The city
takes in N letters and registers them (not timed), then, timed phase by phase:

1. **assign**: the city's approver assigns each case to the county (the package is made: report
   read under the case key, sealed to the county's office key, signed by the officer and by the
   office, kept with the case's event, one transaction per case);
2. **deliver**: `POST /v1/packages` of every package to the county's gateway, one after the
   other (the gateway's worker checks the directory, both signatures and the sequence, and
   stores each);
3. **receive**: the county's registrar applies them (opens each, registers a new case assigned
   from above with the city's deadline, one transaction per case).

    .venv/bin/python bench/linked_bench.py [--cases 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from desk.casekeys import grant_office_key  # noqa: E402
from desk.context import Desk, open_desk  # noqa: E402
from desk.intake import intake  # noqa: E402
from desk.linkwork import apply_packages, assign_to_office  # noqa: E402
from desk.officekeys import load_office_keys  # noqa: E402
from desk.officers import NewOfficer, new_officer  # noqa: E402
from desk.offices import init_identity, link_office  # noqa: E402
from desk.packages import deliver  # noqa: E402
from desk.register import Registration, register  # noqa: E402
from desk.registry import add_officer, init_office  # noqa: E402
from lianxin.domain.workdays import FixedClock  # noqa: E402
from lianxin.keys import init_keys, load_keyring, load_publisher_signer  # noqa: E402
from lianxin.offices.card import sign_card  # noqa: E402
from lianxin.offices.identity import Identity, own_card  # noqa: E402
from lianxin.store.db import connect  # noqa: E402

DAY = date(2026, 3, 2)
PHRASE = "benchmark passphrase"
FORM = Registration(
    "accusation",
    "legal.embezzlement_bribery",
    rank="township_section",
    region="town.dongshan",
    real_name="anonymous",
)
LETTER = {
    "real_name": False,
    "reported": {
        "name": "刘某",
        "unit": "东山镇人民政府",
        "post": "副镇长",
        "rank": "township_section",
    },
    "region": "town.dongshan",
    "problem_type": "legal.embezzlement_bribery",
    "title": "村道工程验收收受好处",
    "text": "反映东山镇村道硬化工程验收中，副镇长刘某收受施工方好处费。" * 8,
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _officers() -> dict[str, NewOfficer]:
    return {
        "admin": new_officer("admin", "管理员", "office.letters", ("administrator",), PHRASE),
        "clerk": new_officer(
            "clerk", "受理审批", "office.letters", ("registrar", "approver"), PHRASE
        ),
    }


def _office(
    folder: Path, office_id: str, level: str, parent: str | None, port: int, people: dict
) -> tuple[Path, Path]:
    keys, db = folder / f"{office_id}-keys", folder / f"{office_id}.sqlite"
    init_keys(keys)
    connect(db).conn.close()
    desk = open_desk(db, officer=people["admin"].unlocked, clock=FixedClock(DAY))
    init_office(desk, people["admin"], kind="test")
    add_officer(desk, people["clerk"])
    with desk.transaction():
        grant_office_key(desk.db, load_office_keys(keys), people["clerk"].record)
    url = f"http://127.0.0.1:{port}"
    identity = Identity(office_id, office_id, level, "330100", url, url, parent)
    init_identity(desk, identity, keys)
    desk.close()
    card = own_card(identity, keys, DAY.isoformat())
    data, sig = sign_card(card, load_publisher_signer(keys))
    site = folder / f"{office_id}-site"
    site.mkdir()
    (site / "office.json").write_bytes(data)
    (site / "office.json.sig").write_text(sig)
    return keys, db


def _desk(db: Path, people: dict, who: str = "clerk") -> Desk:
    return open_desk(db, officer=people[who].unlocked, clock=FixedClock(DAY))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    n = args.cases
    people = _officers()
    with tempfile.TemporaryDirectory(prefix="lianxin-linked-") as tmp:
        folder = Path(tmp)
        city_port, county_port = _port(), _port()
        city_keys, city_db = _office(folder, "city", "city", None, city_port, people)
        county_keys, county_db = _office(folder, "county", "county", "city", county_port, people)
        for db, other, relation in ((city_db, "county", "child"), (county_db, "city", "parent")):
            desk = _desk(db, people, "admin")
            fp = load_keyring(folder / f"{other}-keys").publisher.fingerprint
            link_office(desk, str(folder / f"{other}-site"), relation, fp)
            desk.close()
        log = (folder / "gateway.log").open("wb")
        gateway = subprocess.Popen(
            [sys.executable, "-m", "lianxin_cli", "gateway", "serve", "--db", str(county_db),
             "--keys", str(county_keys), "--host", "127.0.0.1", "--port", str(county_port),
             "--today", DAY.isoformat()],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        try:
            _wait(f"http://127.0.0.1:{county_port}")
            city_office_keys = load_office_keys(city_keys)
            desk = _desk(city_db, people)
            cases = []
            for _ in range(n):
                slip = intake(desk, city_office_keys, LETTER, channel="letter")
                cases.append(register(desk, slip.case_id, FORM, city_office_keys).id)
            due = DAY + timedelta(days=30)
            started = time.perf_counter()
            for case_id in cases:
                assign_to_office(desk, case_id, "county", "请核查。", due)
            assign_s = time.perf_counter() - started
            started = time.perf_counter()
            results = deliver(desk)
            deliver_s = time.perf_counter() - started
            desk.close()
            assert all(r.result == "delivered" for r in results), results[:3]
            desk = _desk(county_db, people)
            started = time.perf_counter()
            applied = apply_packages(desk, load_office_keys(county_keys))
            receive_s = time.perf_counter() - started
            desk.close()
            assert len(applied) == n and not any(a.problem for a in applied)
        finally:
            os.killpg(gateway.pid, signal.SIGTERM)
            gateway.wait(timeout=30)
    total = assign_s + deliver_s + receive_s
    print(f"linked offices, {n} assignments city -> county on loopback ({platform.node()},"
          f" {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")  # fmt: skip
    for name, seconds in (("assign", assign_s), ("deliver", deliver_s), ("receive", receive_s)):
        print(f"  {name:8} {seconds:7.2f} s  {n / seconds:8.1f} per second")
    print(f"  end to end {total:5.2f} s  {n / total:8.1f} assignments per second")
    print(f"command: .venv/bin/python bench/linked_bench.py --cases {n}")


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"the gateway at {url} did not start")


if __name__ == "__main__":
    main()
