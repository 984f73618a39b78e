"""Envelopes: what a client sends to the gateway, parsed strictly and verified.

A report envelope (JSON):

    {"v": 1, "kind": "report", "key_id": "<16 hex>", "client_pk": "<b64u 32 bytes>",
     "ciphertext": "<b64u sealed box>", "sig": "<b64u 64 bytes>"}

A follow-up envelope replaces ``client_pk`` with ``"lookup_id": "<32 hex>"``; its signature is
made with the token-derived follow-up key that the gateway registered for that lookup id.

The signature is Ed25519 over

    lp("lianxin/v1/envelope", "1", kind, key_id, <client_pk raw | lookup_id raw>, ciphertext raw)

and the receipt id is ``BLAKE2b-256(lp("lianxin/v1/receipt-id", signing message, sig))``: an
identical envelope always has the same receipt id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from .encoding import b64d, b64e, blake2b, lp
from .errors import MalformedError, SignatureError
from .padding import MIN_BUCKET, bucket

VERSION = 1
ENVELOPE_DOMAIN = b"lianxin/v1/envelope"
RECEIPT_ID_DOMAIN = b"lianxin/v1/receipt-id"
SEAL_OVERHEAD = 48  # crypto_box_SEALBYTES
KEY_ID = re.compile(r"[0-9a-f]{16}")
LOOKUP_ID = re.compile(r"[0-9a-f]{32}")
POW_BINDING_DOMAIN = b"lianxin/v1/pow-binding"
Kind = Literal["report", "followup"]
_FIELDS: dict[str, tuple[str, ...]] = {
    "report": ("v", "kind", "key_id", "client_pk", "ciphertext", "sig"),
    "followup": ("v", "kind", "key_id", "lookup_id", "ciphertext", "sig"),
}


@dataclass(frozen=True, repr=False)
class Envelope:
    """A parsed envelope. ``author`` is the client key (report) or the lookup id (follow-up)."""

    kind: Kind
    key_id: str
    author: bytes
    ciphertext: bytes
    sig: bytes
    # Kept by the client that sealed the envelope (never sent): it also signs each proof of
    # work, so that only the holder of the envelope's key can submit it or retry it.
    signer: SigningKey | None = field(default=None, compare=False, repr=False)

    @cached_property
    def signing_message(self) -> bytes:
        """The exact bytes the signature covers."""
        return lp(
            ENVELOPE_DOMAIN,
            str(VERSION).encode(),
            self.kind.encode(),
            self.key_id.encode(),
            self.author,
            self.ciphertext,
        )

    @cached_property
    def receipt_id(self) -> bytes:
        """32 bytes naming this envelope; identical envelopes share it (computed once: the
        gateway needs it four times per request, each a copy and hash of the ciphertext)."""
        return blake2b(lp(RECEIPT_ID_DOMAIN, self.signing_message, self.sig))

    @property
    def lookup_id(self) -> str:
        """The addressed lookup id (follow-ups only)."""
        if self.kind != "followup":
            raise ValueError("only follow-ups are addressed by a lookup id")
        return self.author.hex()

    def verify(self, key: VerifyKey | None = None) -> None:
        """Check the signature with ``key`` (follow-ups) or the envelope's own client key."""
        if key is None:
            if self.kind != "report":
                raise ValueError("a follow-up is verified with the registered follow-up key")
            key = VerifyKey(self.author)
        try:
            key.verify(self.signing_message, self.sig)
        except BadSignatureError as exc:
            raise SignatureError("the envelope's signature does not verify") from exc

    def binding_message(self, challenge_raw: bytes) -> bytes:
        """What the envelope's key signs to bind a proof of work to this envelope."""
        return lp(POW_BINDING_DOMAIN, challenge_raw, self.receipt_id)

    def proof(self, challenge_raw: bytes, answer: int) -> dict[str, Any]:
        """The body's ``pow`` member for a solved challenge (client side)."""
        if self.signer is None:
            raise ValueError("only the client that sealed an envelope can bind a proof of work")
        sig = self.signer.sign(self.binding_message(challenge_raw)).signature
        return {"challenge": b64e(challenge_raw), "answer": answer, "sig": b64e(sig)}

    def verify_binding(
        self, challenge_raw: bytes, sig: bytes, key: VerifyKey | None = None
    ) -> None:
        """Check that the envelope's key signed this challenge (gateway side)."""
        from .errors import ProofOfWorkError

        try:
            (key or VerifyKey(self.author)).verify(self.binding_message(challenge_raw), sig)
        except BadSignatureError as exc:
            raise ProofOfWorkError(
                "pow.sig: not signed by the envelope's key", slug="pow-unbound"
            ) from exc

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        doc: dict[str, Any] = {"v": VERSION, "kind": self.kind, "key_id": self.key_id}
        if self.kind == "report":
            doc["client_pk"] = b64e(self.author)
        else:
            doc["lookup_id"] = self.author.hex()
        doc["ciphertext"] = b64e(self.ciphertext)
        doc["sig"] = b64e(self.sig)
        return doc

    def __repr__(self) -> str:
        return f"Envelope(kind={self.kind}, key_id={self.key_id}, {len(self.ciphertext)} bytes)"


def parse_envelope(doc: object, *, max_ciphertext: int) -> Envelope:
    """Parse the wire form strictly. Any defect raises a ``MalformedError`` with its own slug."""
    if not isinstance(doc, dict):
        raise MalformedError("envelope: expected a JSON object")
    version = doc.get("v")
    if type(version) is not int or version != VERSION:
        raise MalformedError(
            f"v: protocol version {version!r} is not supported (this gateway speaks {VERSION})",
            slug="bad-version",
        )
    kind = doc.get("kind")
    if kind not in _FIELDS:
        raise MalformedError("kind: must be 'report' or 'followup'", slug="bad-kind")
    expected = _FIELDS[kind]
    missing = [name for name in expected if name not in doc]
    if missing:
        raise MalformedError(f"{missing[0]}: missing", slug="missing-field")
    extra = sorted(set(doc) - set(expected))
    if extra:
        shown = ascii(extra[0])[:40]  # untrusted name: ASCII-escaped and short
        raise MalformedError(f"{shown}: unknown field", slug="unknown-field")
    key_id = doc["key_id"]
    if not isinstance(key_id, str) or not KEY_ID.fullmatch(key_id):
        raise MalformedError("key_id: expected 16 lower-case hex digits")
    if kind == "report":
        author = b64d(doc["client_pk"], "client_pk", size=32)
    else:
        lookup = doc["lookup_id"]
        if not isinstance(lookup, str) or not LOOKUP_ID.fullmatch(lookup):
            raise MalformedError("lookup_id: expected 32 lower-case hex digits")
        author = bytes.fromhex(lookup)
    ciphertext = b64d(doc["ciphertext"], "ciphertext", max_size=max_ciphertext)
    padded = len(ciphertext) - SEAL_OVERHEAD
    if padded < MIN_BUCKET or bucket(padded) != padded:
        # Only padded payloads can be opened: refuse junk before it gets a case and a token.
        raise MalformedError(
            f"ciphertext: {len(ciphertext)} bytes is not a sealed padding bucket", slug="bad-length"
        )
    sig = b64d(doc["sig"], "sig", size=64)
    return Envelope(kind, key_id, author, ciphertext, sig)
