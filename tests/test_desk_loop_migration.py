"""Migration 0009_loop on a store that has data: a store made by the release before the office
loop (its code taken from git history), with officers, a case assigned the old way and a case
concluded and answered, opens with this code, verifies, and takes the new steps."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
from datetime import date
from pathlib import Path

import pytest

from desk.approval import Proposal, screen
from desk.context import open_desk
from desk.officers import unlock
from desk.refusals import IllegalTransition
from desk.routing import Route, route
from desk.unitwork import sign_for
from desk.verify import verify_register
from lianxin.domain.workdays import FixedClock
from lianxin.store.schema import applied_names, latest
from tests.desk_support import ROOT, passphrase

# The branch point of the office loop (issue 11): the last code without migration 0009_loop.
BEFORE_THE_LOOP = "83e61d307ce69773eb77711f921f638eb4a6bbe6"
DAY = date(2026, 3, 2)
OLD_OFFICE = textwrap.dedent(
    """
    import sys
    from datetime import date
    from pathlib import Path
    from desk.answers import conclude
    from desk.deadlines import Manual
    from desk.register import Registration, register
    from desk.routing import Route, route
    from tests.desk_support import intake_letter, make_desk, new_store, office_keys

    db, keys_dir = Path(sys.argv[1]), Path(sys.argv[2])
    new_store(db)
    desk = make_desk(db, date(2026, 3, 2), keys_dir=keys_dir)
    keys = office_keys(keys_dir)
    form = Registration("accusation", "integrity.gifts", region="town.dongshan",
                        real_name="verified")
    for marker in ("一", "二", "三"):
        case_id = intake_letter(desk, keys, marker).case_id
        register(desk, case_id, form)
    days = Manual.parse(15, "working")
    route(desk, 1, Route("assign", unit="town.dongshan", manual=days))
    route(desk, 2, Route("direct", manual=days))
    conclude(desk, 2, keys, "partly", answer="部分属实。")
    desk.close()
    """
)


def test_a_store_from_before_the_loop_migrates(tmp_path: Path, keys_dir: Path) -> None:
    old = tmp_path / "release"
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE_THE_LOOP],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(old, filter="data")
    db = tmp_path / "old.sqlite"
    env = {**os.environ, "PYTHONPATH": str(old)}
    done = subprocess.run(
        [sys.executable, "-c", OLD_OFFICE, str(db), str(keys_dir)],
        env=env, cwd=old, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    desk = open_desk(db, clock=FixedClock(DAY))  # opening migrates

    def act_as(officer_id: str) -> None:  # the old office's officers, unlocked from the store
        desk.officer = unlock(desk.db, officer_id, passphrase(officer_id))

    assert "0009_loop" in applied_names(desk.db)
    assert applied_names(desk.db)[-1] == latest()
    report = verify_register(desk.db)
    assert report.ok, report.problems
    row = desk.db.execute("SELECT phase, sign_due, acknowledged_date FROM cases WHERE id = 1")
    assert row.fetchone() == (None, None, None)  # the old data is left as it was
    # The case assigned the old way goes on the old way (conclude), or is assigned again to
    # go through signing for; the new steps refuse it with what to do.
    act_as("hand1")
    with pytest.raises(IllegalTransition, match="cannot sign-for case 2026-000001"):
        sign_for(desk, 1)
    act_as("appr")
    case = route(desk, 1, Route("assign", unit="town.dongshan"))
    assert case.phase == "assigned" and case.sign_due is not None
    act_as("hand1")
    assert sign_for(desk, 1).phase == "signed"
    # A new case walks the loop from the start.
    act_as("wang")
    screen(desk, 3, Proposal("direct", "拟直查快办。"))
    assert verify_register(desk.db).ok
    desk.close()
