"""What a new user reads from the CLI: coloured warnings with unit names, a register listing
that fits 80 columns, a slip with both borders, key files named for what they are, every
missing field of a report at once, and a status in words with its own exit code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from desk.cli import desk_group
from desk.deadlines import Manual
from desk.register import Registration, register
from desk.routing import Route, route
from lianxin.status import CaseStatus
from tests.desk_support import (
    OFFICER,
    ROOT,
    intake_letter,
    make_desk,
    new_store,
    office_keys,
    officer_env,
    setup_office,
)

DAY = date(2026, 2, 10)
ADMIN = "admin"
FORM = Registration("accusation", "legal.dereliction", region="county", real_name="verified")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def store(tmp_path: Path, keys_dir: Path) -> Path:
    """Three cases routed on DAY to 东山镇纪委 with 5, 20 and 40 working days."""
    db_path = new_store(tmp_path / "desk.sqlite")
    desk = make_desk(db_path, DAY)
    keys = office_keys(keys_dir)
    for marker, days in (("甲", 5), ("乙", 20), ("丙", 40)):
        case_id = intake_letter(desk, keys, marker).case_id
        register(desk, case_id, FORM)
        route(
            desk,
            case_id,
            Route("assign", unit="town.dongshan", manual=Manual.parse(days, "working")),
        )
    desk.close()
    return db_path


def desk_cli(db: Path, *args: str, env: dict[str, str] | None = None) -> str:
    env = {"LIANXIN_DB": str(db), **officer_env(OFFICER), **(env or {})}
    result = CliRunner().invoke(desk_group, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_warnings_are_coloured_in_a_terminal_with_unit_names(store: Path) -> None:
    # 2026-03-10: the 5-day case is overdue (red), the 20-day one near (yellow), 40 days green.
    coloured = desk_cli(store, "warnings", "--today", "2026-03-10", env={"FORCE_COLOR": "1"})
    counts = next(line for line in coloured.splitlines() if "东山镇纪委" in line)  # first table
    # the unit's counts, each in its colour: red 1, yellow 1, green 1, blue 0
    for code, count in (("31", 1), ("33", 1), ("32", 1), ("34", 0)):
        assert re.search(rf"\x1b\[{code}m{count} *\x1b\[0m", counts), repr(counts)
    flagged = [line for line in coloured.splitlines() if "2026-000001" in line]
    assert flagged and "\x1b[31mred" in flagged[0]  # the overdue case's colour, in red
    plain = ANSI.sub("", coloured)
    assert "green 绿" in plain and "red 红" in plain and "blue 蓝" in plain
    assert "东山镇纪委" in plain and "town.dongshan" not in plain
    # Not a terminal (a pipe, a file): no escape codes.
    piped = desk_cli(store, "warnings", "--today", "2026-03-10")
    assert "\x1b[" not in piped and "东山镇纪委" in piped
    # Programs still get the codes.
    doc = json.loads(desk_cli(store, "warnings", "--today", "2026-03-10", "--json"))
    assert {u["unit"] for u in doc["units"]} == {"town.dongshan"}


def test_the_register_listing_fits_80_columns(store: Path) -> None:
    out = desk_cli(store, "list", "--today", "2026-03-10")
    widths = [cell_len(line) for line in out.splitlines()]
    assert max(widths) <= 80, out
    assert re.search(r"2026-000001 .* in_progress .* 东山镇纪委 .* 2026-02-24 .* red", out), out
    assert "desk show CASE" in out
    rows = json.loads(desk_cli(store, "list", "--today", "2026-03-10", "--json"))
    assert sorted(r["colour"] for r in rows) == ["green", "red", "yellow"]


def test_the_token_slip_has_both_borders(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    setup_office(db, DAY, keys_dir=keys_dir)  # the registrar holds the office key, wrapped
    out = desk_cli(
        db, "intake", "--channel", "visit", "--today", "2026-02-10",
        "--title", "征地补偿款未足额发放", "--text", "反映某村征地补偿款未足额发放到户。",
        "--reported-name", "吴某",
    )  # fmt: skip
    box = [line for line in out.splitlines() if line.startswith(("+", "|"))]
    assert box[0].startswith("+-") and box[-1] == box[0] and len(box) > 5
    assert all(line.startswith("| ") and line.endswith(" |") for line in box[1:-1]), box
    assert {cell_len(line) for line in box} == {cell_len(box[0])}, box


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("gateway.key", "this is the gateway's signing key (gateway.key)"),
        ("publisher.key", "this is the publisher's signing key (publisher.key)"),
        ("gateway.secret", "this is the gateway secret (gateway.secret)"),
        ("gateway.json", "this is a gateway public key, not a private key"),
    ],
)
def test_a_wrong_key_file_says_what_it_is_and_what_is_needed(
    store: Path, keys_dir: Path, name: str, said: str
) -> None:
    # An administrator grants the office key to a registrar from the key's safe (--office-key).
    result = CliRunner().invoke(
        desk_group,
        ["officers", "roles", "reg", "--role", "registrar", "--office-key", str(keys_dir / name)],
        env={"LIANXIN_DB": str(store), **officer_env(ADMIN)},
    )
    assert result.exit_code != 0 and result.stderr.count("\n") == 1, result.stderr
    assert said in result.stderr
    assert "an office private key (office-*.key) is needed" in result.stderr
    assert "JSON" not in result.stderr and "key_id" not in result.stderr


def test_submit_names_every_missing_field_before_any_network(
    tmp_path: Path, keys_dir: Path
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"real_name": True, "reported": {"unit": "某局"}}))
    result = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "submit", "--gateway", "http://127.0.0.1:9",
         "--keys", str(keys_dir), "--report", str(report)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    for field in ("identity: required", "reported.name: required", "title: required", "text:"):
        assert field in result.stderr, result.stderr
    assert result.stderr.startswith(f"Error: {report}: ") and "Traceback" not in result.stderr


def test_status_is_printed_in_words() -> None:
    found = CaseStatus(
        {
            "state": "concluded",
            "as_of": "2026-03-10",
            "steps": [{"step": "received", "date": "2026-02-10"}],
            "due": "2026-03-09",
            "due_uncertain": False,
            "colour": "blue",
        },
        [],
    )
    text = "\n".join(found.lines())
    assert "Deadline: 2026-03-09, done" in text and "[" not in text
    assert "as of 2026-03-10, the office's date" in text
