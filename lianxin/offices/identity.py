"""This office's own identity (what its card says) and fetching another office's card.

The identity (id, name, level, region code, gateway and portal URLs, parent) is kept in the
store's ``office`` table under ``office_card``; the keys come from the keys folder (the current
X25519 office key, ``office_signer.json``, ``publisher.json``). The publisher builds the card
from both at every publish, so a rotated key is on the next card with a higher version.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlite_utils

from ..keys import load_keyring, load_office_signer_public
from .card import CardError, OfficeCard

_SETTING = "office_card"


@dataclass(frozen=True)
class Identity:
    """What an office says about itself on its card, apart from its keys."""

    office_id: str
    name: str
    level: str
    region: str
    gateway_url: str
    portal_url: str
    parent: str | None
    version: int = 1


def set_identity(db: sqlite_utils.Database, identity: Identity) -> Identity:
    """Record (or change) this office's identity; a change raises the card's version. Checked
    by building a card with placeholder keys, so a bad field is named before anything is kept."""
    old = own_identity(db)
    version = old.version + 1 if old is not None and old != identity else identity.version
    kept = Identity(**{**asdict(identity), "version": version})
    dummy = bytes(32)
    _card(kept, dummy, dummy, dummy, "2000-01-01")  # raises CardError naming the field
    db.execute(
        "INSERT OR REPLACE INTO office (name, value) VALUES (?, ?)",
        [_SETTING, json.dumps(asdict(kept), ensure_ascii=False)],
    )
    return kept


def own_identity(db: sqlite_utils.Database) -> Identity | None:
    """This office's identity, or None before ``lianxin office init``."""
    row = db.execute("SELECT value FROM office WHERE name = ?", [_SETTING]).fetchone()
    return Identity(**json.loads(row[0])) if row else None


def _card(identity: Identity, box: bytes, sign: bytes, pub: bytes, issued: str) -> OfficeCard:
    doc: dict[str, Any] = asdict(identity)
    card = OfficeCard(office_key=box, signing_key=sign, publisher_key=pub, issued=issued, **doc)
    return OfficeCard.from_json(card.to_json())  # the same checks as a received card


def own_card(identity: Identity, keys_dir: Path, issued: str) -> OfficeCard:
    """The card of this office: its identity and the public keys in ``keys_dir``."""
    keyring = load_keyring(keys_dir)
    signer = load_office_signer_public(keys_dir)
    return _card(
        identity,
        keyring.current_office.public_key,
        signer.public_key,
        keyring.publisher.public_key,
        issued,
    )


def fetch_card(source: str, *, timeout: float = 10.0) -> tuple[bytes, str]:
    """A card's bytes and signature from a portal URL (``…/office.json`` and ``.sig``), or from
    a file (``office.json`` with ``office.json.sig`` beside it) for an office reached offline."""
    if source.startswith(("http://", "https://")):
        url = source if source.endswith(".json") else source.rstrip("/") + "/office.json"
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                data = client.get(url)
                sig = client.get(url + ".sig")
        except httpx.HTTPError as exc:
            raise CardError(f"{url}: cannot fetch the card ({exc})") from exc
        for answer in (data, sig):
            if answer.status_code != 200:
                raise CardError(f"{answer.url}: HTTP {answer.status_code}")
        return data.content, sig.text
    path = Path(source)
    if path.is_dir():
        path = path / "office.json"
    try:
        return path.read_bytes(), path.with_name(path.name + ".sig").read_text()
    except OSError as exc:
        raise CardError(f"{path}: cannot read the card or its .sig ({exc})") from exc
