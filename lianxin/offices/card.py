"""The office card (``lianxin/office-card/v1``): who an office is and which keys speak for it.

Every portal publishes its card at ``/office.json`` with the publisher's signature beside it
(``/office.json.sig``: base64url of Ed25519 over ``lp("lianxin/v1/office-card", bytes)``, the
exact bytes of the file). The card names the office (id, name, level, region code), its
current X25519 office key (packages to it are sealed to that key), its Ed25519 office signing
key (packages from it are signed with that key), the publisher key that signs the card, its
gateway and portal URLs and its parent office. Another office pins a card by the fingerprints
of those three keys (:mod:`lianxin.offices.directory`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ..keys import fingerprint
from ..protocol.encoding import b64d, b64e, lp
from ..secrets import SigningSecret

CARD_SCHEMA = "lianxin/office-card/v1"
CARD_DOMAIN = b"lianxin/v1/office-card"
LEVELS = ("province", "city", "county", "township")
_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]{0,63}$")
_REGION = re.compile(r"^[0-9]{6,12}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FIELDS = {
    "schema",
    "office_id",
    "name",
    "level",
    "region",
    "office_key",
    "signing_key",
    "publisher_key",
    "gateway_url",
    "portal_url",
    "parent",
    "version",
    "issued",
}


class CardError(Exception):
    """A card is malformed, or its signature or a pinned fingerprint does not hold."""

    def __init__(self, detail: str, *, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field


def _key_doc(alg: str, key: bytes) -> dict[str, str]:
    return {"alg": alg, "public_key": b64e(key), "fingerprint": fingerprint(key)}


def _key_of(doc: dict[str, Any], name: str, alg: str) -> bytes:
    entry = doc.get(name)
    if not isinstance(entry, dict) or set(entry) != {"alg", "public_key", "fingerprint"}:
        raise CardError(f"{name}: expected alg, public_key and fingerprint", field=name)
    if entry["alg"] != alg:
        raise CardError(f"{name}.alg: expected {alg}", field=name)
    try:
        key = b64d(entry["public_key"], f"{name}.public_key", size=32)
    except Exception as exc:
        raise CardError(f"{name}.public_key: {exc}", field=name) from exc
    if entry["fingerprint"] != fingerprint(key):
        raise CardError(f"{name}.fingerprint: does not match the public key", field=name)
    return key


def _url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", value):
        raise CardError(f"{name}: expected an http(s) URL", field=name)
    return value.rstrip("/")


@dataclass(frozen=True)
class OfficeCard:
    """One office's card, parsed and checked."""

    office_id: str
    name: str
    level: str
    region: str
    office_key: bytes  # X25519: packages to this office are sealed to it
    signing_key: bytes  # Ed25519: packages from this office are signed with it
    publisher_key: bytes  # Ed25519: signs this card
    gateway_url: str
    portal_url: str
    parent: str | None
    version: int
    issued: str

    @property
    def office_fp(self) -> str:
        """Fingerprint of the office X25519 key."""
        return fingerprint(self.office_key)

    @property
    def signing_fp(self) -> str:
        """Fingerprint of the office signing key."""
        return fingerprint(self.signing_key)

    @property
    def publisher_fp(self) -> str:
        """Fingerprint of the publisher key."""
        return fingerprint(self.publisher_key)

    def pins(self) -> tuple[str, str, str]:
        """The three fingerprints a directory pins."""
        return self.office_fp, self.signing_fp, self.publisher_fp

    def to_json(self) -> dict[str, Any]:
        """The published document."""
        return {
            "schema": CARD_SCHEMA,
            "office_id": self.office_id,
            "name": self.name,
            "level": self.level,
            "region": self.region,
            "office_key": _key_doc("x25519", self.office_key),
            "signing_key": _key_doc("ed25519", self.signing_key),
            "publisher_key": _key_doc("ed25519", self.publisher_key),
            "gateway_url": self.gateway_url,
            "portal_url": self.portal_url,
            "parent": self.parent,
            "version": self.version,
            "issued": self.issued,
        }

    def to_bytes(self) -> bytes:
        """The exact bytes published as ``office.json`` (and signed)."""
        return (json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, doc: Any) -> OfficeCard:
        """Parse and check a card document; ``CardError`` names the field."""
        if not isinstance(doc, dict):
            raise CardError("a card is a JSON object")
        if doc.get("schema") != CARD_SCHEMA:
            raise CardError(f"schema: expected {CARD_SCHEMA}", field="schema")
        extra, missing = set(doc) - _FIELDS, _FIELDS - set(doc)
        if extra or missing:
            what = "unknown" if extra else "missing"
            raise CardError(f"{what} field(s): {', '.join(sorted(extra or missing))}")
        office_id = doc["office_id"]
        if not isinstance(office_id, str) or not _ID.match(office_id):
            raise CardError("office_id: lower-case letters, digits, '.' and '-'", field="office_id")
        parent = doc["parent"]
        if parent is not None and (not isinstance(parent, str) or not _ID.match(parent)):
            raise CardError("parent: an office id or null", field="parent")
        name = doc["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise CardError("name: a non-empty text of at most 200 characters", field="name")
        if doc["level"] not in LEVELS:
            raise CardError(f"level: one of {', '.join(LEVELS)}", field="level")
        if not isinstance(doc["region"], str) or not _REGION.match(doc["region"]):
            raise CardError("region: a region code of 6 to 12 digits", field="region")
        version = doc["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise CardError("version: an integer of at least 1", field="version")
        if not isinstance(doc["issued"], str) or not _DAY.match(doc["issued"]):
            raise CardError("issued: a date YYYY-MM-DD", field="issued")
        return cls(
            office_id=office_id,
            name=name,
            level=doc["level"],
            region=doc["region"],
            office_key=_key_of(doc, "office_key", "x25519"),
            signing_key=_key_of(doc, "signing_key", "ed25519"),
            publisher_key=_key_of(doc, "publisher_key", "ed25519"),
            gateway_url=_url(doc["gateway_url"], "gateway_url"),
            portal_url=_url(doc["portal_url"], "portal_url"),
            parent=parent,
            version=version,
            issued=doc["issued"],
        )


def card_signing_message(data: bytes) -> bytes:
    """What the publisher signs: the exact bytes of ``office.json``."""
    return lp(CARD_DOMAIN, data)


def sign_card(card: OfficeCard, publisher: SigningSecret) -> tuple[bytes, str]:
    """The card's bytes and the publisher's signature over them (base64url)."""
    if bytes(publisher.verify_key) != card.publisher_key:
        raise CardError("the card names another publisher key than the one signing it")
    data = card.to_bytes()
    return data, b64e(publisher.sign(card_signing_message(data)))


def verify_card(data: bytes, sig: str, *, publisher_fp: str | None = None) -> OfficeCard:
    """Parse a published card and check the publisher's signature over its exact bytes.

    The signature is checked against the publisher key the card names; ``publisher_fp`` pins
    that key (a fingerprint read aloud, or the one a directory holds)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CardError(f"not a JSON document ({exc})") from exc
    card = OfficeCard.from_json(doc)
    try:
        raw_sig = b64d(sig.strip(), "signature", size=64)
        VerifyKey(card.publisher_key).verify(card_signing_message(data), raw_sig)
    except BadSignatureError as exc:
        raise CardError("signature: the publisher key does not sign this card") from exc
    except Exception as exc:
        raise CardError(f"signature: {exc}", field="signature") from exc
    if publisher_fp is not None and card.publisher_fp != publisher_fp.replace(" ", "").lower():
        raise CardError(
            f"publisher_key: fingerprint {card.publisher_fp} is not the expected {publisher_fp}",
            field="publisher_key",
        )
    return card
