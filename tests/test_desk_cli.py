"""``lianxin desk`` in a child process: the main commands, their --json and --csv output, and a
check that every command is documented in the staff guide."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import openpyxl

from desk.cli import desk_group
from lianxin.protocol import Token, open_answer
from tests.desk_support import OFFICER, ROOT, cli, new_store, officer_env, setup_office


def test_main_commands(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    setup_office(db, date(2026, 2, 1), keys_dir=keys_dir)
    env = {"LIANXIN_DB": str(db), **officer_env(OFFICER)}

    def ok(*args: str) -> str:
        result = cli(*args, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        return result.stdout

    out = ok(
        "intake",
        "--channel",
        "visit",
        "--today",
        "2026-02-10",
        "--title",
        "征地补偿款未足额发放",
        "--text",
        "反映青石镇某村征地补偿款未足额发放到户。",
        "--reported-name",
        "吴某",
        "--reported-unit",
        "青石镇某村",
        "--rank",
        "village_community",
        "--region",
        "town.qingshi",
        "--real-name",
        "--name",
        "李某",
        "--contact",
        "0000-0000003",
    )
    slip_line = re.search(r"^\|\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4}){6})\s+\|$", out, re.M)
    assert slip_line is not None, out
    token = Token.parse(slip_line.group(1))
    [item] = json.loads(ok("inbox", "--all", "--json", "--today", "2026-02-10"))
    assert item["document"]["identity"]["name"] == "李某" and item["new"] is False
    ok(
        "register",
        "1",
        "--item-type",
        "accusation",
        "--problem-type",
        "mass.harming_interests",
        "--rank",
        "village_community",
        "--region",
        "town.qingshi",
        "--real-name",
        "verified",
        "--tag",
        "rural_revitalisation",
        "--today",
        "2026-02-10",
    )
    assert "due 2026-03-09" in ok(
        "route", "1", "--assign", "town.qingshi", "--days", "15", "--today", "2026-02-10"
    )
    rows = list(csv.DictReader(io.StringIO(ok("list", "--csv"))))
    assert [(r["number"], r["state"], r["due"]) for r in rows] == [
        ("2026-000001", "in_progress", "2026-03-09")
    ]
    doc = json.loads(ok("warnings", "--today", "2026-03-02", "--json"))
    assert [(f["number"], f["colour"], f["days"]) for f in doc["flagged"]] == [
        ("2026-000001", "yellow", 7)
    ]
    assert "Case 2026-000001" in ok("show", "2026-000001", "--today", "2026-03-02")
    listing = tmp_path / "督办单.md"
    assert "1 warning(s) issued." in ok(
        "warnings", "--today", "2026-03-10", "--supervision-list", str(listing)
    )
    assert "| 红 red | 2026-000001 |" in listing.read_text()
    ok(
        "note",
        "1",
        "--text",
        "已调取补偿款发放台账",
        "--document",
        "--reference",
        "QS-2026-07",
        "--today",
        "2026-03-10",
    )
    ok(
        "conclude",
        "1",
        "--outcome",
        "substantiated",
        "--answer",
        "经核查属实，已督促补发到户。",
        "--today",
        "2026-03-11",
    )
    shown = json.loads(ok("show", "1", "--json", "--today", "2026-03-11"))
    assert shown["case"]["state"] == "answered" and shown["next_steps"] == [
        "register",
        "satisfaction",
        "close",
        "note",
        "message",
    ]
    assert [n["text"] for n in shown["notes"]] == [
        "已调取补偿款发放台账",
        "经核查属实，已督促补发到户。",
    ]
    conn = sqlite3.connect(db)
    [(sealed,)] = conn.execute("SELECT sealed FROM answers").fetchall()
    conn.close()
    assert open_answer(sealed, token.keys()).doc["text"] == "经核查属实，已督促补发到户。"
    ledger = json.loads(ok("ledger", "rural_revitalisation", "--json"))
    assert (ledger["open"], ledger["cleared"], ledger["cleared_to_zero"]) == (0, 1, True)
    analysis = list(csv.DictReader(io.StringIO(ok("analysis", "--month", "2026-03", "--csv"))))
    assert {(r["section"], r["code"]): r["value"] for r in analysis}[
        ("handling", "concluded")
    ] == "1"
    [hit] = json.loads(ok("search", "--words", "补偿款 青石镇", "--json"))
    assert hit["number"] == "2026-000001"
    assert "1 reports opened" in ok("search", "--person", "吴某", "--since", "2026-02-01")
    assert json.loads(ok("search", "--words", "油烟", "--json")) == []
    book = tmp_path / "月分析.xlsx"
    assert "written to" in ok("analysis", "--month", "2026-03", "--xlsx", "--out", str(book))
    sheet = openpyxl.load_workbook(book)["办理情况"]
    assert ["本月办结", 1, 0, 0] in [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    no_out = cli("analysis", "--month", "2026-03", "--xlsx", env=env)
    assert no_out.returncode == 2 and "--xlsx" in no_out.stderr
    assert json.loads(ok("verify", "--json"))["ok"] is True
    logged = json.loads(ok("events", "--case", "2026-000001", "--type", "assigned", "--json"))
    assert [(e["type"], e["date"]) for e in logged] == [("assigned", "2026-02-10")]
    assert len(json.loads(ok("events", "--since", "2026-03-11", "--json"))) >= 1
    reads = json.loads(ok("reads", "--until", "2026-03-02", "--json"))
    assert {r["date"] for r in reads} <= {"2026-02-10", "2026-03-02"} and reads
    bad = cli("events", "--since", "11.3.2026", env=env)
    assert bad.returncode == 2 and "--since" in bad.stderr
    assert json.loads(ok("duplicates", "--json")) == []
    assert "it verifies" in ok("backup", str(tmp_path / "backup.sqlite"))


def test_verify_reports_an_edited_event_with_its_position(tmp_path: Path, keys_dir: Path) -> None:
    db = new_store(tmp_path / "desk.sqlite")
    setup_office(db, date(2026, 2, 1), keys_dir=keys_dir)
    env = {"LIANXIN_DB": str(db), **officer_env(OFFICER)}
    assert (
        cli(
            "intake",
            "--channel",
            "letter",
            "--title",
            "t",
            "--text",
            "x",
            "--reported-name",
            "某",
            env=env,
        ).returncode
        == 0
    )
    conn = sqlite3.connect(db)
    first = conn.execute("SELECT min(seq) FROM events WHERE case_id = 1").fetchone()[0]
    conn.execute("UPDATE events SET at = '2020-01-01' WHERE seq = ?", [first])
    conn.commit()
    conn.close()
    result = cli("verify", env=env)
    assert result.returncode == 1
    assert (
        f"chain: event {first}, case 1: content was changed after it was written" in result.stdout
    )


def test_every_command_is_documented() -> None:
    guide = (ROOT / "portal" / "docs" / "desk.en.md").read_text(encoding="utf-8")
    zh = (ROOT / "portal" / "docs" / "desk.zh.md").read_text(encoding="utf-8")
    for name, command in desk_group.commands.items():
        assert f"lianxin desk {name}" in guide, name
        assert f"lianxin desk {name}" in zh, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in ("--help",):
                    assert opt in guide, f"{name} {opt}"
