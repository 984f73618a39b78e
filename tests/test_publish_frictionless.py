"""The published data package, checked by an outside implementation: Frictionless (PyPI
``frictionless[json]``, pinned in the dev extra) validates every CSV and JSON resource of a
built site's ``data/datapackage.json``, offline."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from publish_support import publish_sample_site

TODAY = date(2026, 12, 6)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish_sample_site(tmp_path_factory.mktemp("frictionless"), TODAY, months=3)


def _no_network(*args: Any, **kwargs: Any) -> None:
    raise AssertionError(f"Frictionless tried to reach the network: {args!r}")


def test_every_resource_of_the_data_package_is_valid(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frictionless import Package

    monkeypatch.setattr(socket.socket, "connect", _no_network)  # the check runs offline
    path = site / "data" / "datapackage.json"
    declared = json.loads(path.read_text(encoding="utf-8"))["resources"]
    formats = {r["format"] for r in declared}
    assert formats == {"csv", "json"}
    assert len(declared) > 30  # 16 series as CSV and JSON, one release file per month
    report = Package(str(path)).validate()
    problems = [
        f"{task.name}: {error.message}" for task in report.tasks for error in task.errors[:3]
    ]
    assert problems == []
    assert report.valid
    assert sorted(task.name for task in report.tasks) == sorted(r["name"] for r in declared)


def test_json_rows_follow_the_schema_order(site: Path) -> None:
    """Frictionless reads a JSON record's keys by position, so they follow the schema."""
    data = site / "data"
    for resource in json.loads((data / "datapackage.json").read_text())["resources"]:
        if resource["format"] != "json":
            continue
        fields = [f["name"] for f in resource["schema"]["fields"]]
        records = json.loads((data / resource["path"]).read_text(encoding="utf-8"))
        assert records, resource["name"]
        assert all(list(r) == fields for r in records), resource["name"]
