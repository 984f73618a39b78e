"""The demo's desk walk on a register the demo filled through a real gateway."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from desk.demo import walk_sample_cases
from desk.verify import verify_register
from desk.warnings import compute_warnings
from lianxin.keys import Keyring
from lianxin_cli.demo.run import sample_reports
from tests.conftest import GatewayProcess
from tests.desk_support import make_desk
from tests.support import post, sealed_report

# The office's day for the gateway and the desk alike, so the test does not depend on the day
# it runs (a year without holiday data, or a gateway a day ahead of the desk).
DAY = date(2026, 11, 24)


def test_walk_sample_cases(
    start_gateway: Callable[..., GatewayProcess],
    keyring: Keyring,
    keys_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gateway = start_gateway("--today", DAY.isoformat())
    for report in sample_reports():
        doc = dict(report, schema="lianxin/report/v1")
        assert post(gateway.url, "/v1/reports", sealed_report(keyring, doc)).status_code == 201
    walk_sample_cases(gateway.db_path, keys_dir, "演示科员", DAY)
    printed = capsys.readouterr().out
    assert printed.count("token slip:") == 4
    desk = make_desk(gateway.db_path, DAY)
    # The online reports carry the gateway's fixed office day; the paper ones are back-dated.
    online = desk.db.execute(
        "SELECT count(*) FROM submissions WHERE received_date = ?", [DAY.isoformat()]
    )
    assert online.fetchone()[0] == len(sample_reports())
    states = dict(desk.db.execute("SELECT state, count(*) FROM cases GROUP BY state").fetchall())
    assert states == {
        "in_progress": 5,
        "forwarded": 1,
        "answered": 2,
        "not_accepted": 1,
        "closed": 1,
    }
    forwarded = desk.db.execute(
        "SELECT forwarded_to FROM cases WHERE state = 'forwarded'"
    ).fetchone()
    assert forwarded == ("external.ecology_environment",)
    assert (
        desk.db.execute("SELECT count(*) FROM answers").fetchone()[0] == 4
    )  # 3 answers + 1 second
    warnings = compute_warnings(desk)
    colours = warnings.totals()
    assert colours["red"] >= 1 and colours["blue"] >= 4
    # The office loop, by its roles: a proposal returned, a report returned, slow signing.
    steps = dict(
        desk.db.execute(
            "SELECT type || ' ' || actor, count(*) FROM events WHERE type IN ('screened',"
            " 'proposal-returned', 'proposal-approved', 'signed-for', 'report-submitted',"
            " 'report-returned', 'report-accepted') GROUP BY 1"
        ).fetchall()
    )
    assert steps["proposal-returned approver"] == 1
    assert steps["report-returned approver"] == 1 and steps["report-accepted approver"] == 1
    assert steps["report-submitted handler.supervision"] == 2
    assert steps["signed-for handler.dongshan"] >= 1
    assert [f.colour for f in warnings.signing if f.unit == "town.nanhu"] == ["red"]
    actions = dict(
        desk.db.execute("SELECT kind, count(*) FROM supervision_actions GROUP BY kind").fetchall()
    )
    assert actions == {"phone": 1, "letter": 1, "visit": 1}
    acknowledged = desk.db.execute(
        "SELECT count(*) FROM cases WHERE acknowledged_date IS NOT NULL"
    ).fetchone()
    assert acknowledged == (1,)
    assert desk.db.execute(
        "SELECT count(*) FROM cases WHERE inquiry_delivered IS NOT NULL"
    ).fetchone() == (1,)
    [letter] = gateway.db_path.parent.glob("转办函-*.html")
    assert "县生态环境局" in letter.read_text(encoding="utf-8")
    assert verify_register(desk.db).ok
    desk.close()
