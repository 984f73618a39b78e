"""Packages between linked offices (``lianxin/package/v1``; protocol page §20.3).

A package carries one step of a case between an upper and a lower office: down, an assignment
(the case, its report and material, instructions, a deadline and what is wanted back) or the
check of a completion report; up, signing for, an extension, the completion report or the
answer to the reporter. Its body (``lianxin/package-body/v1``, with attachments) is packed
like a report's payload, padded and sealed to the receiving office's X25519 key named on its
card. The acting officer signs the package with their own Ed25519 key (which travels in the
package: the other office knows officers only through the office's signature) and the office
signs everything, the officer's signature included, with the signing key on its card.

    message    = lp("lianxin/v1/package", "1", from, to, u64be(seq), kind, key_id,
                    signer_fp, officer_id, officer_key, sealed)
    officer_sig = Ed25519(officer, message)
    office_sig  = Ed25519(office signing key, lp(message, officer_sig))

``seq`` numbers the sender's packages to one receiver; the receiver keeps every ``(from,
seq)`` it accepted and refuses one seen before (a replay).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from ..keys import fingerprint, key_id_of
from ..protocol.encoding import b64d, b64e, blake2b, lp
from ..protocol.errors import MalformedError, PayloadError, ProtocolError, SignatureError
from ..protocol.padding import pad, unpad
from ..protocol.payload import Attachment, Payload, pack, unpack
from ..protocol.strict_json import loads_strict
from ..secrets import OfficeSecretKey

PACKAGE_SCHEMA = "lianxin/package/v1"
BODY_SCHEMA = "lianxin/package-body/v1"
PACKAGE_DOMAIN = b"lianxin/v1/package"
DOWN = ("assignment", "check")  # from a parent to a child
UP = ("signed-for", "extension", "completion", "answer")  # from a child to its parent
KINDS = DOWN + UP
MAX_SEALED = 16 * 1024 * 1024
_FIELDS = {
    "schema",
    "from",
    "to",
    "seq",
    "kind",
    "key_id",
    "signer_fp",
    "officer",
    "sealed",
    "officer_sig",
    "office_sig",
}


class PackageRefused(ProtocolError):
    """A package that an office will not take: unknown sender, wrong key, replay."""

    status = 403


@dataclass(frozen=True)
class Package:
    """A package as it travels (everything but the body is in clear)."""

    sender: str
    receiver: str
    seq: int
    kind: str
    key_id: str  # the receiver's office key it is sealed to
    signer_fp: str  # fingerprint of the sender's office signing key
    officer_id: str
    officer_key: bytes
    sealed: bytes
    officer_sig: bytes
    office_sig: bytes

    def message(self) -> bytes:
        """What the acting officer signs."""
        return lp(
            PACKAGE_DOMAIN,
            b"1",
            self.sender.encode(),
            self.receiver.encode(),
            struct.pack(">Q", self.seq),
            self.kind.encode(),
            self.key_id.encode(),
            self.signer_fp.encode(),
            self.officer_id.encode(),
            self.officer_key,
            self.sealed,
        )

    def office_message(self) -> bytes:
        """What the sending office signs: the officer's message and signature."""
        return lp(self.message(), self.officer_sig)

    @property
    def digest(self) -> str:
        """A hash naming this package (of what the office signed), hex."""
        return blake2b(self.office_message(), size=16).hex()

    def to_json(self) -> dict[str, Any]:
        """The wire form (``application/json``; also the file of the file transport)."""
        return {
            "schema": PACKAGE_SCHEMA,
            "from": self.sender,
            "to": self.receiver,
            "seq": self.seq,
            "kind": self.kind,
            "key_id": self.key_id,
            "signer_fp": self.signer_fp,
            "officer": {"id": self.officer_id, "public_key": b64e(self.officer_key)},
            "sealed": b64e(self.sealed),
            "officer_sig": b64e(self.officer_sig),
            "office_sig": b64e(self.office_sig),
        }

    def verify(self, signing_key: bytes) -> None:
        """Check both signatures; ``signing_key`` is the sender's pinned office signing key."""
        if fingerprint(signing_key) != self.signer_fp:
            raise PackageRefused(
                f"signer_fp: {self.from_label} signs with {self.signer_fp[:16]}…, not the key"
                f" pinned in this office's directory ({fingerprint(signing_key)[:16]}…)",
                slug="wrong-key",
            )
        try:
            VerifyKey(signing_key).verify(self.office_message(), self.office_sig)
            VerifyKey(self.officer_key).verify(self.message(), self.officer_sig)
        except BadSignatureError as exc:
            raise SignatureError(
                "the package's signatures do not verify: it was altered after signing"
            ) from exc

    @property
    def from_label(self) -> str:
        """``office SENDER``."""
        return f"office {self.sender}"


def _text(doc: dict[str, Any], name: str, limit: int = 64) -> str:
    value = doc[name]
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise MalformedError(f"{name}: expected a text of 1 to {limit} characters")
    return value


def parse_package(body: bytes) -> Package:
    """Parse a package strictly (§4.4 JSON rules); ``MalformedError`` names the field."""
    doc = loads_strict(body)
    if not isinstance(doc, dict):
        raise MalformedError("a package is a JSON object", slug="bad-request")
    if doc.get("schema") != PACKAGE_SCHEMA:
        raise MalformedError(f"schema: expected {PACKAGE_SCHEMA}", slug="bad-version")
    missing, extra = _FIELDS - set(doc), set(doc) - _FIELDS
    if missing:
        raise MalformedError(f"{sorted(missing)[0]}: missing", slug="missing-field")
    if extra:
        raise MalformedError(f"{sorted(extra)[0]}: not a package field", slug="unknown-field")
    seq = doc["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < 2**63:
        raise MalformedError("seq: expected a positive integer")
    if doc["kind"] not in KINDS:
        raise MalformedError(f"kind: one of {', '.join(KINDS)}", slug="bad-kind")
    officer = doc["officer"]
    if not isinstance(officer, dict) or set(officer) != {"id", "public_key"}:
        raise MalformedError("officer: expected id and public_key")
    return Package(
        sender=_text(doc, "from"),
        receiver=_text(doc, "to"),
        seq=seq,
        kind=doc["kind"],
        key_id=_text(doc, "key_id", 16),
        signer_fp=_text(doc, "signer_fp"),
        officer_id=_text(officer, "id"),
        officer_key=b64d(officer["public_key"], "officer.public_key", size=32),
        sealed=b64d(doc["sealed"], "sealed", max_size=MAX_SEALED),
        officer_sig=b64d(doc["officer_sig"], "officer_sig", size=64),
        office_sig=b64d(doc["office_sig"], "office_sig", size=64),
    )


def make_package(
    *,
    sender: str,
    receiver: str,
    seq: int,
    kind: str,
    body: dict[str, Any],
    attachments: tuple[Attachment, ...] = (),
    office_key: bytes,
    officer_id: str,
    officer_key: bytes,
    officer_sign: Callable[[bytes], bytes],
    office_signer: SigningKey,
) -> Package:
    """Seal ``body`` to the receiver's office key and sign as officer and office. The body
    repeats from, to, seq and kind, so a sealed body cannot be moved to another package."""
    if kind not in KINDS:
        raise MalformedError(f"kind: one of {', '.join(KINDS)}", slug="bad-kind")
    doc = {**body, "schema": BODY_SCHEMA, "from": sender, "to": receiver, "seq": seq, "kind": kind}
    sealed = bytes(SealedBox(PublicKey(office_key)).encrypt(pad(pack(doc, attachments))))
    unsigned = Package(
        sender,
        receiver,
        seq,
        kind,
        key_id_of(office_key),
        fingerprint(bytes(office_signer.verify_key)),
        officer_id,
        officer_key,
        sealed,
        b"",
        b"",
    )
    officer_sig = officer_sign(unsigned.message())
    signed = Package(**{**unsigned.__dict__, "officer_sig": officer_sig, "office_sig": b""})
    office_sig = bytes(office_signer.sign(signed.office_message()).signature)
    return Package(**{**signed.__dict__, "office_sig": office_sig})


def open_package(package: Package, secret: OfficeSecretKey) -> Payload:
    """Open the sealed body with the receiving office's private key; the body must repeat the
    package's from, to, seq and kind."""
    try:
        payload = unpack(unpad(secret.open(package.sealed)), any_schema=True)
    except (CryptoError, ProtocolError) as exc:
        raise PayloadError(f"sealed: cannot open the body ({exc})") from exc
    doc = payload.doc
    if doc.get("schema") != BODY_SCHEMA:
        raise PayloadError(f"sealed: the body is not a {BODY_SCHEMA} document")
    outer = (package.sender, package.receiver, package.seq, package.kind)
    if (doc.get("from"), doc.get("to"), doc.get("seq"), doc.get("kind")) != outer:
        raise PayloadError("sealed: the body belongs to another package")
    return payload
