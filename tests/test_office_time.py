"""One office time zone everywhere (LIANXIN_TIMEZONE): the gateway's received date, the desk's
today, the publisher's build date and the status page's "as of" agree, whatever the zone of
the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import ROOT, GatewayProcess
from support import post, sealed_report

from desk.context import open_desk
from lianxin.domain.workdays import SystemClock
from lianxin.keys import Keyring, init_keys
from lianxin.officetime import OfficeZoneError, office_today, office_zone
from lianxin.protocol import Token
from lianxin.status import read_status
from tests.desk_support import new_store


def test_the_office_date_is_not_the_machines() -> None:
    late = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already 12-07 in China
    assert office_today(late, office_zone({})) == date(2026, 12, 7)
    assert office_today(late, office_zone({"LIANXIN_TIMEZONE": "UTC"})) == date(2026, 12, 6)
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert office_today(new_year, office_zone({})) == date(2027, 1, 1)
    with pytest.raises(OfficeZoneError, match="LIANXIN_TIMEZONE: unknown time zone 'Mars/Base'"):
        office_zone({"LIANXIN_TIMEZONE": "Mars/Base"})


def _zone_on_another_day() -> str:
    """A zone whose date differs from UTC's right now (so the test can fail on any day)."""
    return "Etc/GMT+12" if datetime.now(UTC).hour < 12 else "Etc/GMT-14"


def test_gateway_desk_publisher_and_keys_share_the_office_date(
    start_gateway: Callable[..., GatewayProcess],
    keyring: Keyring,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zone = _zone_on_another_day()
    monkeypatch.setenv("LIANXIN_TIMEZONE", zone)  # inherited by the gateway and publisher
    monkeypatch.setenv("TZ", "UTC")  # a machine on UTC
    office_days = {office_today().isoformat()}
    assert datetime.now(UTC).date().isoformat() not in office_days
    gateway = start_gateway()
    answer = post(gateway.url, "/v1/reports", sealed_report(keyring))
    assert answer.status_code == 201, answer.text
    token = Token.parse(answer.json()["token"])
    assert answer.json()["receipt"]["received"] in office_days | {office_today().isoformat()}
    assert SystemClock().today().isoformat() in office_days | {office_today().isoformat()}
    desk = open_desk(gateway.db_path)
    assert desk.today.isoformat() in office_days | {office_today().isoformat()}
    desk.close()
    init_keys(tmp_path / "more-keys")
    created = json.loads((tmp_path / "more-keys" / "gateway.json").read_text())["created"]

    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "publish", "--db", str(gateway.db_path),
         "--keys", str(gateway.keys_dir), "--out", str(site)],
        capture_output=True, text=True, cwd=ROOT, env=os.environ, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    office_days.add(office_today().isoformat())  # the test may have crossed the office midnight
    built = json.loads((site / "manifest.json").read_text())["built"]
    as_of = json.loads((site / "status" / "index.json").read_text())["as_of"]
    found = read_status(str(site), token)
    assert found is not None
    [received] = [s["date"] for s in found.status["steps"] if s["step"] == "received"]
    assert {built, as_of, found.status["as_of"], received, created} <= office_days
    assert found.status["as_of"] >= received  # "data as of" is never before the steps it shows


def test_an_unknown_office_zone_is_one_line_from_every_part(tmp_path: Path) -> None:
    env = {**os.environ, "LIANXIN_TIMEZONE": "Mars/Base"}
    db, keys = new_store(tmp_path / "desk.sqlite"), tmp_path / "keys"
    init_keys(keys)
    for args in (
        ["desk", "list", "--db", str(db)],
        ["publish", "--db", str(db), "--keys", str(keys), "--out", str(tmp_path / "site")],
        ["gateway", "serve", "--db", str(db), "--keys", str(keys)],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "lianxin_cli", *args],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert "Mars/Base" in result.stderr, result.stderr
