"""Office cards and the directory of linked offices (issue 15): a card is signed by the
publisher and pinned by fingerprint; a changed key is refused until an officer confirms it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from desk_support import make_desk, new_store, officer_env, setup_office

from desk.offices import (
    confirm_card,
    init_identity,
    link_office,
    offices,
    refresh_card,
    unlink_office,
)
from desk.refusals import BadValue, Refused
from lianxin.keys import init_keys, load_publisher_signer, rotate_office
from lianxin.offices.card import CardError, OfficeCard, sign_card, verify_card
from lianxin.offices.identity import Identity, own_card

DAY = date(2026, 3, 2)


def _identity(office_id: str, parent: str | None, level: str = "county") -> Identity:
    return Identity(
        office_id=office_id,
        name=f"{office_id} 纪委监委",
        level=level,
        region="330100",
        gateway_url=f"http://127.0.0.1:1/{office_id}",
        portal_url=f"http://127.0.0.1:2/{office_id}",
        parent=parent,
    )


def _publish_card(keys_dir: Path, identity: Identity, out: Path) -> OfficeCard:
    """What the publisher does: build the card from the identity and keys, sign, write."""
    card = own_card(identity, keys_dir, "2026-03-01")
    data, sig = sign_card(card, load_publisher_signer(keys_dir))
    out.mkdir(parents=True, exist_ok=True)
    (out / "office.json").write_bytes(data)
    (out / "office.json.sig").write_text(sig + "\n")
    return card


@pytest.fixture
def county(tmp_path: Path) -> tuple[Path, Identity]:
    keys = tmp_path / "county-keys"
    init_keys(keys)
    desk = make_desk(new_store(tmp_path / "county.db"), DAY, officer="admin")
    try:
        identity = init_identity(desk, _identity("county-a", "city"), keys)
    finally:
        desk.close()
    return keys, identity


def test_a_card_verifies_and_names_each_bad_field(county: tuple[Path, Identity], tmp_path: Path):
    keys, identity = county
    card = _publish_card(keys, identity, tmp_path / "site")
    data = (tmp_path / "site" / "office.json").read_bytes()
    sig = (tmp_path / "site" / "office.json.sig").read_text()
    assert verify_card(data, sig, publisher_fp=card.publisher_fp) == card
    assert card.level == "county" and card.parent == "city"
    with pytest.raises(CardError, match="does not sign"):
        verify_card(data.replace(b"county-a", b"county-b"), sig)
    with pytest.raises(CardError, match="not the expected"):
        verify_card(data, sig, publisher_fp="00" * 32)
    doc = json.loads(data)
    doc["level"] = "village"
    with pytest.raises(CardError, match="level"):
        OfficeCard.from_json(doc)
    doc = json.loads(data)
    doc["office_key"]["fingerprint"] = "00" * 32
    with pytest.raises(CardError, match="office_key.fingerprint"):
        OfficeCard.from_json(doc)


def test_directory_add_list_refresh_confirm_remove(county: tuple[Path, Identity], tmp_path: Path):
    keys, identity = county
    site = tmp_path / "site"
    card = _publish_card(keys, identity, site)
    city = make_desk(new_store(tmp_path / "city.db"), DAY, officer="admin")
    init_identity(city, _identity("city", None, "city"))
    # the wrong fingerprint: refused, nothing kept
    with pytest.raises(BadValue, match="not the expected"):
        link_office(city, str(site), "child", "ab" * 32)
    assert offices(city) == []
    entry = link_office(city, str(site), "child", card.publisher_fp)
    assert [(e.office_id, e.relation) for e in offices(city)] == [("county-a", "child")]
    assert entry.card.office_fp == card.office_fp
    with pytest.raises(BadValue, match="already in the directory"):
        link_office(city, str(site), "child", card.publisher_fp)
    # same keys, new version: replaced at once
    _publish_card(keys, Identity(**{**identity.__dict__, "version": 2}), site)
    assert refresh_card(city, "county-a", str(site)).card.version == 2
    # a rotated office key: kept aside, refused until confirmed
    rotate_office(keys)
    changed = _publish_card(keys, Identity(**{**identity.__dict__, "version": 3}), site)
    with pytest.raises(Refused, match="other keys"):
        refresh_card(city, "county-a", str(site))
    (pinned,) = offices(city)
    assert pinned.card.office_fp == card.office_fp and pinned.pending is not None
    with pytest.raises(BadValue, match="--fingerprint"):
        confirm_card(city, "county-a", "cd" * 32)
    confirmed = confirm_card(city, "county-a", changed.publisher_fp)
    assert confirmed.card.office_fp == changed.office_fp and confirmed.pending is None
    query = "SELECT type FROM events WHERE type LIKE 'office-%' ORDER BY seq"
    kinds = [r[0] for r in city.db.execute(query)]
    assert kinds == [
        "office-created",
        "office-identity",
        "office-linked",
        "office-card-refreshed",
        "office-card-pending",
        "office-card-confirmed",
    ]
    unlink_office(city, "county-a")
    assert offices(city) == []
    with pytest.raises(BadValue, match="not in the directory"):
        unlink_office(city, "county-a")
    city.close()


def test_a_child_card_must_name_this_office_as_parent(
    county: tuple[Path, Identity], tmp_path: Path
) -> None:
    keys, _ = county
    site = tmp_path / "site"
    card = _publish_card(keys, _identity("county-a", "another-city"), site)
    city = make_desk(new_store(tmp_path / "city.db"), DAY, officer="admin")
    init_identity(city, _identity("city", None, "city"))
    with pytest.raises(BadValue, match="names another-city as its parent"):
        link_office(city, str(site), "child", card.publisher_fp)
    with pytest.raises(Refused, match="needs the role"):
        city.officer = make_desk(tmp_path / "city.db", DAY, officer="hand1").officer
        link_office(city, str(site), "parent", card.publisher_fp)
    city.close()


def test_every_office_command_is_documented() -> None:
    from desk.cli_packages import office_group

    root = Path(__file__).resolve().parent.parent / "portal" / "docs"
    guide = (root / "desk.en.md").read_text(encoding="utf-8")
    zh = (root / "desk.zh.md").read_text(encoding="utf-8")
    for name, command in office_group.commands.items():
        assert f"lianxin office {name}" in guide, name
        assert f"lianxin office {name}" in zh, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt not in ("--help",):
                    assert opt in guide, f"{name} {opt}"


def test_the_office_commands(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    init_keys(keys)
    db = new_store(tmp_path / "office.db")
    setup_office(db, DAY)
    env = {**os.environ, **officer_env("admin"), "LIANXIN_DB": str(db)}

    def office(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "lianxin_cli", "office", *args, "--today", str(DAY)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    made = office(
        "init", "--id", "county-a", "--name", "甲县纪委监委", "--level", "county",
        "--region", "330101", "--gateway-url", "http://127.0.0.1:1",
        "--portal-url", "http://127.0.0.1:2", "--parent", "city", "--keys", str(keys),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "office county-a (county, 330101), card version 1" in made.stdout
    assert (keys / "office_signer.key").stat().st_mode & 0o777 == 0o600
    bad = office("init", "--id", "County A", "--name", "x", "--level", "county", "--region",
                 "1", "--gateway-url", "x", "--portal-url", "x")  # fmt: skip
    assert bad.returncode == 2 and "office_id" in bad.stderr, bad.stderr
    missing = office("add", str(tmp_path / "nowhere"), "--relation", "parent", "--fingerprint", "0")
    assert missing.returncode == 2 and "CARD: " in missing.stderr, missing.stderr
    listed = office("list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [], listed.stderr


def test_the_publisher_writes_the_signed_card(
    county: tuple[Path, Identity], tmp_path: Path
) -> None:
    from lianxin.store.db import connect
    from publisher.build import _office_card
    from publisher.context import Build, PublishSettings

    keys, _ = county
    db = connect(tmp_path / "county.db")
    settings = PublishSettings(tmp_path / "county.db", keys, tmp_path / "out", DAY)
    build = Build(settings, tmp_path / "work", db)
    build.docs.mkdir(parents=True)
    _office_card(build)
    data = (build.docs / "office.json").read_bytes()
    sig = (build.docs / "office.json.sig").read_text()
    publisher_fp = load_publisher_signer(keys).verify_key.encode().hex()
    card = verify_card(data, sig)
    assert card.office_id == "county-a" and card.issued == DAY.isoformat()
    assert card.publisher_key.hex() == publisher_fp  # the publisher's own key signs it
    db.conn.close()
