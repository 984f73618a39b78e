"""The gateway's work, independent of HTTP: verify, store, issue tokens, sign receipts."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
from nacl.signing import VerifyKey

from lianxin.keys import GatewayKeys
from lianxin.protocol import (
    Envelope,
    MalformedError,
    ProtocolError,
    Receipt,
    Token,
    UnknownKeyError,
    parse_envelope,
)
from lianxin.protocol import pow as pow_
from lianxin.protocol.encoding import b64d
from lianxin.protocol.errors import ProofOfWorkError

from .intake import TokenRow, prune_spent, store_followup, store_report
from .settings import GatewaySettings
from .writer import Writer

PRUNE_EVERY_SECONDS = 60


@dataclass
class Gateway:
    """Everything a request needs, built once at startup."""

    settings: GatewaySettings
    keys: GatewayKeys
    writer: Writer
    reader: sqlite_utils.Database
    pow_key: bytes
    last_prune: float = 0.0

    @classmethod
    def create(
        cls,
        settings: GatewaySettings,
        keys: GatewayKeys,
        writer: Writer,
        reader: sqlite_utils.Database,
    ) -> Gateway:
        """Assemble the service."""
        return cls(settings, keys, writer, reader, keys.secret.derive("pow"))

    # --- public information -------------------------------------------------------------
    def public_info(self) -> dict[str, Any]:
        """Published keys and limits (GET /v1/keys)."""
        s = self.settings
        return {
            "keyring": self.keys.keyring.to_json(),
            "limits": {
                "max_body_bytes": s.max_body_bytes,
                "max_ciphertext_bytes": s.max_ciphertext_bytes,
                "max_plaintext_bytes": s.max_plaintext_bytes,
                "max_attachments": s.max_attachments,
                "pow_difficulty": s.pow_difficulty,
                "pow_ttl_seconds": s.pow_ttl_seconds,
            },
        }

    def challenge(self) -> dict[str, Any]:
        """A new proof-of-work challenge."""
        c = pow_.issue(self.pow_key, self.settings.pow_difficulty, self.settings.pow_ttl_seconds)
        expires = datetime.fromtimestamp(c.expires, UTC).isoformat().replace("+00:00", "Z")
        return {"challenge": c.text, "difficulty": c.difficulty, "expires": expires}

    # --- submissions -------------------------------------------------------------------
    def _parse(self, body: bytes, kind: str) -> tuple[Envelope, pow_.Challenge, bytes]:
        doc = parse_body(body)
        proof = doc["pow"]
        if not isinstance(proof, dict):
            raise ProofOfWorkError("pow: expected an object", slug="pow-missing")
        if set(proof) - {"challenge", "answer", "sig"}:
            raise ProtocolError(
                "pow: only challenge, answer and sig are allowed", slug="bad-request", status=400
            )
        challenge = pow_.verify(
            self.pow_key,
            proof.get("challenge"),
            proof.get("answer"),
            min_difficulty=self.settings.pow_difficulty,
        )
        if proof.get("sig") is None:
            raise ProofOfWorkError(
                "pow.sig: the envelope's key must sign the challenge", slug="pow-missing"
            )
        try:
            binding = b64d(proof["sig"], "pow.sig", size=64)
        except MalformedError as exc:
            raise ProofOfWorkError(exc.detail, slug="pow-unbound") from exc
        envelope = parse_envelope(
            doc["envelope"], max_ciphertext=self.settings.max_ciphertext_bytes
        )
        if envelope.kind != kind:
            raise MalformedError(f"kind: this endpoint takes '{kind}' envelopes", slug="bad-kind")
        if self.keys.keyring.office_key(envelope.key_id) is None:
            raise UnknownKeyError(f"key_id: {envelope.key_id} is not a published office key")
        return envelope, challenge, binding

    def _receipt(self, envelope: Envelope, received: str) -> dict[str, Any]:
        signer = self.keys.receipt_signer
        return Receipt.issue(
            signer.raw,
            signer.key_id,
            receipt_id=envelope.receipt_id,
            kind=envelope.kind,
            received=received,
            key_id=envelope.key_id,
        ).to_json()

    async def submit_report(self, body: bytes) -> tuple[dict[str, Any], bool]:
        """Verify and store a report; return the answer body and whether it was a retry."""
        envelope, challenge, binding = self._parse(body, "report")
        envelope.verify()
        envelope.verify_binding(challenge.raw, binding)
        token = Token.generate()
        keys = token.keys()
        row = TokenRow(keys.lookup_id, bytes(keys.reply_public), bytes(keys.followup_verify))
        now = time.time()
        today = _today(self.settings.timezone)
        stored = await self.writer.run(
            lambda db: store_report(db, envelope, challenge, row, today=today, now=int(now))
        )
        await self._prune_if_due(now)
        return {
            "token": str(token),
            "receipt": self._receipt(envelope, stored.received_date),
            "duplicate": stored.duplicate,
        }, stored.duplicate

    async def submit_followup(self, body: bytes) -> tuple[dict[str, Any], bool]:
        """Verify a follow-up against its lookup id's key and store it."""
        envelope, challenge, binding = self._parse(body, "followup")
        found = self.reader.execute(
            "SELECT case_id, followup_vk FROM tokens WHERE lookup_id = ?", [envelope.author]
        ).fetchone()
        if found is None:
            raise ProtocolError(
                "lookup_id: no case has this lookup id", slug="unknown-lookup-id", status=404
            )
        case_id, vk = found
        envelope.verify(VerifyKey(vk))
        envelope.verify_binding(challenge.raw, binding, VerifyKey(vk))
        now = time.time()
        today = _today(self.settings.timezone)
        stored = await self.writer.run(
            lambda db: store_followup(db, envelope, challenge, case_id, today=today, now=int(now))
        )
        await self._prune_if_due(now)
        return {
            "receipt": self._receipt(envelope, stored.received_date),
            "duplicate": stored.duplicate,
        }, stored.duplicate

    async def _prune_if_due(self, now: float) -> None:
        if now - self.last_prune > PRUNE_EVERY_SECONDS:
            self.last_prune = now
            await self.writer.run(lambda db: prune_spent(db, int(now)))

    def healthy(self) -> bool:
        """Whether the store answers."""
        try:
            return bool(self.reader.execute("SELECT 1").fetchone() == (1,))
        except sqlite3.Error:
            return False


def _today(timezone: str) -> str:
    # The office's calendar date: deadlines count in the office's days, not UTC's.
    return datetime.now(ZoneInfo(timezone)).date().isoformat()


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate member {ascii(key)[:40]}")
        seen[key] = value
    return seen


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(body: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8 only, no duplicate members, no NaN/Infinity, the documented shape."""
    try:
        doc = json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_refuse_duplicate_keys,
            parse_constant=_refuse_constant,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and over-long integer literals.
        detail = str(exc)[:200].encode("ascii", "replace").decode()
        raise ProtocolError(
            f"the body is not strict UTF-8 JSON ({detail})", slug="bad-json", status=400
        ) from exc
    if not isinstance(doc, dict) or set(doc) != {"envelope", "pow"}:
        raise ProtocolError(
            'the body must be {"envelope": {...}, "pow": {"challenge", "answer", "sig"}}',
            slug="bad-request",
            status=400,
        )
    return doc
