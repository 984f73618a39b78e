"""Receipts: the gateway's signed statement that it stored an envelope.

    {"v": 1, "receipt_id": "<64 hex>", "kind": "report", "received": "YYYY-MM-DD",
     "key_id": "<office key id>", "gateway_key_id": "<16 hex>", "sig": "<b64u 64 bytes>"}

    sig = Ed25519(gateway receipt key,
                  lp("lianxin/v1/receipt", "1", receipt_id raw, kind, received, key_id))

The received time is a date only: a finer time would help match a submission with network logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .encoding import b64d, b64e, lp
from .errors import MalformedError, SignatureError

RECEIPT_DOMAIN = b"lianxin/v1/receipt"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_RECEIPT_ID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Receipt:
    """A signed receipt."""

    receipt_id: bytes
    kind: str
    received: str
    key_id: str
    gateway_key_id: str
    sig: bytes

    @staticmethod
    def message(receipt_id: bytes, kind: str, received: str, key_id: str) -> bytes:
        """The bytes the gateway signs."""
        return lp(
            RECEIPT_DOMAIN, b"1", receipt_id, kind.encode(), received.encode(), key_id.encode()
        )

    @classmethod
    def issue(
        cls,
        signer: SigningKey,
        gateway_key_id: str,
        *,
        receipt_id: bytes,
        kind: str,
        received: str,
        key_id: str,
    ) -> Receipt:
        """Sign a receipt (gateway side)."""
        sig = signer.sign(cls.message(receipt_id, kind, received, key_id)).signature
        return cls(receipt_id, kind, received, key_id, gateway_key_id, sig)

    def verify(self, gateway_key: VerifyKey) -> None:
        """Check the gateway's signature; raise ``SignatureError`` if it fails."""
        try:
            gateway_key.verify(
                self.message(self.receipt_id, self.kind, self.received, self.key_id), self.sig
            )
        except BadSignatureError as exc:
            raise SignatureError("the receipt's signature does not verify") from exc

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "v": 1,
            "receipt_id": self.receipt_id.hex(),
            "kind": self.kind,
            "received": self.received,
            "key_id": self.key_id,
            "gateway_key_id": self.gateway_key_id,
            "sig": b64e(self.sig),
        }

    @classmethod
    def from_json(cls, doc: object) -> Receipt:
        """Parse the wire form (does not verify); members it does not know are ignored."""
        if not isinstance(doc, dict) or doc.get("v") != 1 or isinstance(doc.get("v"), bool):
            raise MalformedError("receipt: expected a version 1 receipt object")
        fields = [
            doc.get(k) for k in ("receipt_id", "kind", "received", "key_id", "gateway_key_id")
        ]
        id_hex, kind, received, key_id, gateway_key_id = fields
        if not all(isinstance(f, str) for f in fields):
            raise MalformedError("receipt: missing or malformed field")
        if not _RECEIPT_ID.fullmatch(str(id_hex)) or not _DATE.fullmatch(str(received)):
            raise MalformedError("receipt: malformed receipt id or date")
        sig = b64d(doc.get("sig"), "sig", size=64)
        return cls(
            bytes.fromhex(str(id_hex)),
            str(kind),
            str(received),
            str(key_id),
            str(gateway_key_id),
            sig,
        )
