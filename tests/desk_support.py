"""Helpers for the desk tests: a desk on a real SQLite file with a fixed clock, intake, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from desk.context import Desk, open_desk
from desk.intake import Slip, intake
from desk.officekeys import OfficeKeys, load_office_keys
from lianxin.domain.workdays import FixedClock
from lianxin.store.db import connect

ROOT = Path(__file__).resolve().parent.parent
OFFICER = "王科员"


def new_store(path: Path) -> Path:
    """Create (and migrate) an empty store."""
    connect(path).conn.close()
    return path


def make_desk(db_path: Path, day: date, *, officer: str = OFFICER, **options: Any) -> Desk:
    """A desk whose clock is stopped at ``day``."""
    return open_desk(db_path, officer=officer, clock=FixedClock(day), **options)


def office_keys(keys_dir: Path) -> OfficeKeys:
    """The office keys of a keys folder."""
    return load_office_keys(keys_dir)


def letter(marker: str = "", **changes: Any) -> dict[str, Any]:
    """A report as staff type it from a letter."""
    doc: dict[str, Any] = {
        "real_name": True,
        "identity": {"name": "陈某", "contact": "0000-0000001", "id_number": ""},
        "reported": {
            "name": "刘某",
            "unit": "东山镇人民政府",
            "post": "副镇长",
            "rank": "township_section",
        },
        "region": "town.dongshan",
        "problem_type": "legal.embezzlement_bribery",
        "title": f"村道工程验收收受好处{marker}",
        "text": f"反映东山镇村道硬化工程验收中，副镇长刘某收受施工方好处费。{marker}",
    }
    doc.update(changes)
    return doc


def intake_letter(desk: Desk, keys: OfficeKeys, marker: str = "", **changes: Any) -> Slip:
    """Receive a letter at the desk."""
    return intake(desk, keys, letter(marker, **changes), channel="letter")


def cli(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``lianxin desk ARGS`` in a child process."""
    full_env = {**os.environ, **(env or {})}
    for name in ("LIANXIN_DB", "LIANXIN_OFFICER", "LIANXIN_OFFICE_KEY", "LIANXIN_POLICY"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "lianxin_cli", "desk", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        input=stdin,
        timeout=60,
    )
