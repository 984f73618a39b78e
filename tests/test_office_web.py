"""The web desk's form to assign a case to a lower office calls the same desk function as
``lianxin office assign``: refused with words on the page and nothing changed, or assigned
with its package waiting to be sent."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from conftest import ROOT, free_port
from desk_support import letter, make_desk, new_store, office_keys, passphrase
from test_office_directory import _identity, _publish_card

from desk.intake import intake
from desk.offices import init_identity, link_office
from desk.register import Registration, register
from lianxin.keys import init_keys, init_office_signer

DAY = date(2026, 3, 2)
FORM = Registration(
    "accusation",
    "legal.embezzlement_bribery",
    rank="township_section",
    region="town.dongshan",
    real_name="verified",
)


def test_assign_to_a_lower_office_from_the_case_page(tmp_path: Path) -> None:
    city_keys, county_keys = tmp_path / "city-keys", tmp_path / "county-keys"
    init_keys(city_keys)
    init_keys(county_keys)
    init_office_signer(county_keys)
    card = _publish_card(county_keys, _identity("county-a", "city"), tmp_path / "county-site")
    db = new_store(tmp_path / "city.sqlite")
    desk = make_desk(db, DAY, officer="admin", keys_dir=city_keys)
    init_identity(desk, _identity("city", None, "city"), city_keys)
    link_office(desk, str(tmp_path / "county-site"), "child", card.publisher_fp)
    desk.officer = make_desk(db, DAY, officer="wang").officer
    slip = intake(desk, office_keys(city_keys), letter("网页交办"), channel="letter")
    register(desk, slip.case_id, FORM)
    desk.close()

    port = free_port()
    args = [sys.executable, "-m", "lianxin_cli", "desk", "serve", "--db", str(db)]
    args += ["--port", str(port), "--today", DAY.isoformat()]
    log = (tmp_path / "serve.log").open("ab")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/login", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        with httpx.Client() as client:
            page = client.get(url + "/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf
            form = {"csrf": csrf[1], "officer": "wang", "passphrase": passphrase("wang")}
            assert client.post(url + "/login", data=form).status_code == 303
            case_page = client.get(url + f"/case/{slip.case_id}")
            assert 'id="lx-office-form"' in case_page.text and "county-a 纪委监委" in case_page.text
            token = re.search(r'name="csrf" value="([^"]+)"', case_page.text)
            assert token
            step = url + f"/case/{slip.case_id}/assign-office"
            bad = {"csrf": token[1], "office": "county-a", "deadline": "2026-02-30"}
            refused = client.post(step, data={**bad, "instructions": "请核查。"})
            assert refused.status_code in (400, 409, 422) and "--deadline" in refused.text
            good = {**bad, "deadline": "2026-04-01", "instructions": "请核查并报告。"}
            done = client.post(step, data=good)
            assert done.status_code == 303, done.text
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    desk = make_desk(db, DAY)
    row = desk.db.execute(
        "SELECT state, phase, due_date FROM cases WHERE id = ?", [slip.case_id]
    ).fetchone()
    waiting = desk.db.execute("SELECT office_id, kind FROM packages WHERE direction = 'out'")
    assert tuple(row) == ("in_progress", "assigned", "2026-04-01")
    assert [tuple(r) for r in waiting] == [("county-a", "assignment")]
    desk.close()
