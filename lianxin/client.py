"""The Python client: what ``lianxin submit`` and ``lianxin followup`` do, as a library.

The office key comes from the *published* keys (a file, a keys folder or a URL), never from the
gateway's answer, so that a compromised gateway cannot substitute its own key.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from nacl.exceptions import BadSignatureError
from nacl.public import PublicKey
from nacl.signing import SigningKey, VerifyKey

from .keys import KeyFileError, Keyring, fingerprint, load_keyring, verify_keyring_signature
from .protocol import (
    Attachment,
    Envelope,
    Receipt,
    TokenKeys,
    seal_followup,
    seal_report,
)
from .protocol import pow as pow_
from .protocol.encoding import b64d

# A fresh challenge may do; a busy or restarting gateway after a short wait.
RETRYABLE = {"pow-expired", "pow-replayed", "pow-invalid", "unavailable", "store-unavailable"}


class ClientError(Exception):
    """Something the user must fix or retry; the message says what."""


class GatewayRefused(ClientError):
    """The gateway answered with a problem document."""

    def __init__(self, status: int, slug: str, detail: str):
        super().__init__(f"the gateway refused the request ({status} {slug}): {detail}")
        self.status = status
        self.slug = slug
        self.detail = detail


@dataclass(frozen=True)
class PublishedKeys:
    """The keyring a client trusts, and whether a publisher signature was checked."""

    keyring: Keyring
    signed: bool

    @property
    def office(self) -> tuple[str, PublicKey]:
        """The current office key id and key."""
        info = self.keyring.current_office
        return info.key_id, PublicKey(info.public_key)


def load_published_keys(source: str, *, publisher_fingerprint: str | None = None) -> PublishedKeys:
    """Read published keys from a keys folder, a keys.json file or an http(s) URL.

    A ``keys.json.sig`` beside the file (or at URL + ".sig") is checked with the publisher key;
    ``publisher_fingerprint`` pins that key.
    """
    sig: bytes | None = None
    if source.startswith(("http://", "https://")):
        try:
            data = httpx.get(source, timeout=30).raise_for_status().content
            sig_answer = httpx.get(source + ".sig", timeout=30)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot fetch the published keys from {source}: {exc}") from exc
        if sig_answer.status_code == 200:
            sig = b64d(sig_answer.text.strip(), "keys.json.sig", size=64)
        else:
            raise ClientError(f"{source}.sig: the published keys are not signed")
    else:
        path = Path(source)
        if path.is_dir():
            keyring = load_keyring(path)
            _pin(keyring, publisher_fingerprint)
            return PublishedKeys(keyring, signed=False)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ClientError(f"cannot read the published keys {path}: {exc.strerror}") from exc
        sig_path = path.with_name(path.name + ".sig")
        if not sig_path.exists():
            raise ClientError(f"{sig_path}: the published keys are not signed")
        sig = b64d(sig_path.read_text().strip(), "keys.json.sig", size=64)
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ClientError(f"{source}: not JSON ({exc})") from exc
    keyring = Keyring.from_json(doc.get("keyring", doc) if isinstance(doc, dict) else doc, source)
    if sig is not None:
        try:
            verify_keyring_signature(data, sig, VerifyKey(keyring.publisher.public_key))
        except BadSignatureError as exc:
            raise ClientError(f"{source}: the publisher's signature does not verify") from exc
    _pin(keyring, publisher_fingerprint)
    return PublishedKeys(keyring, signed=sig is not None)


def _pin(keyring: Keyring, expected: str | None) -> None:
    if expected is None:
        return
    actual = fingerprint(keyring.publisher.public_key)
    if actual.replace(" ", "") != expected.replace(" ", "").lower():
        raise KeyFileError(f"publisher fingerprint is {actual}, not the expected {expected}")


def read_attachments(paths: Sequence[Path]) -> list[Attachment]:
    """Read files to attach."""
    out = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ClientError(f"cannot read attachment {path}: {exc.strerror}") from exc
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        out.append(Attachment(path.name, kind, data))
    return out


class GatewayClient:
    """Talks to one gateway."""

    def __init__(self, base_url: str, *, timeout: float = 60.0, retries: int = 3):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._retries = retries

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            return self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach the gateway at {self.base_url}: {exc}") from exc

    @staticmethod
    def _refusal(answer: httpx.Response) -> GatewayRefused:
        try:
            doc = answer.json()
            slug = str(doc.get("type", "")).rsplit("/", 1)[-1] or "unknown"
            detail = str(doc.get("detail", answer.reason_phrase))
        except (ValueError, AttributeError):
            slug, detail = "unknown", answer.text[:200] or answer.reason_phrase
        return GatewayRefused(answer.status_code, slug, detail)

    def limits(self) -> dict[str, Any]:
        """The gateway's live limits (GET /v1/keys); its keys there are not trusted."""
        try:
            answer = self._http.get("/v1/keys")
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach the gateway at {self.base_url}: {exc}") from exc
        if answer.status_code != 200:
            raise self._refusal(answer)
        limits: dict[str, Any] = answer.json().get("limits", {})
        return limits

    def solve_challenge(self, envelope: Envelope) -> dict[str, Any]:
        """Fetch and solve a proof-of-work challenge, signed with the envelope's key."""
        answer = self._post("/v1/challenges")
        if answer.status_code != 201:
            raise self._refusal(answer)
        challenge = pow_.decode(answer.json()["challenge"])
        return envelope.proof(challenge.raw, pow_.solve(challenge))

    def send(self, path: str, envelope: Envelope) -> dict[str, Any]:
        """Send an envelope with a fresh proof of work; retry with a new one when it lapsed,
        and after a lost connection (an identical envelope never makes a second case)."""
        last: ClientError | None = None
        for _ in range(self._retries):
            proof = self.solve_challenge(envelope)
            try:
                answer = self._http.post(path, json={"envelope": envelope.to_json(), "pow": proof})
            except httpx.TransportError as exc:
                last = ClientError(f"lost the connection to {self.base_url} ({exc})")
                continue
            if answer.status_code in (200, 201):
                result: dict[str, Any] = answer.json()
                return result
            refusal = self._refusal(answer)
            if refusal.slug not in RETRYABLE:
                raise refusal
            if refusal.status == 503:
                time.sleep(min(float(answer.headers.get("retry-after", "2") or 2), 10.0))
            last = refusal
        assert last is not None
        raise last


@dataclass(frozen=True)
class Submitted:
    """What a successful submission hands back."""

    token: str
    receipt: Receipt
    duplicate: bool


def submit_report(
    client: GatewayClient,
    keys: PublishedKeys,
    report: dict[str, Any],
    attachments: Sequence[Attachment] = (),
) -> Submitted:
    """Seal, sign and submit a report; verify the receipt with the published gateway key."""
    check_limits(client.limits(), attachments)
    key_id, office_key = keys.office
    envelope = seal_report(
        dict(report, schema="lianxin/report/v1"),
        attachments,
        office_key=office_key,
        office_key_id=key_id,
        client_key=SigningKey.generate(),
    )
    answer = client.send("/v1/reports", envelope)
    receipt = _check_receipt(answer, envelope, keys)
    return Submitted(str(answer["token"]), receipt, bool(answer.get("duplicate")))


def submit_followup(
    client: GatewayClient,
    keys: PublishedKeys,
    token_keys: TokenKeys,
    doc: dict[str, Any],
    attachments: Sequence[Attachment] = (),
) -> Receipt:
    """Seal and sign a follow-up with the token's key; return the verified receipt."""
    check_limits(client.limits(), attachments)
    key_id, office_key = keys.office
    envelope = seal_followup(
        dict(doc, schema="lianxin/followup/v1"),
        attachments,
        office_key=office_key,
        office_key_id=key_id,
        token_keys=token_keys,
    )
    answer = client.send("/v1/followups", envelope)
    return _check_receipt(answer, envelope, keys)


def check_limits(limits: dict[str, Any], attachments: Sequence[Attachment]) -> None:
    """Refuse, before any sealing or proof of work, what the gateway would refuse anyway."""
    most = limits.get("max_attachments")
    if isinstance(most, int) and len(attachments) > most:
        raise ClientError(f"{len(attachments)} attachments: the gateway takes at most {most}")
    room = limits.get("max_plaintext_bytes")
    size = sum(len(a.data) for a in attachments)
    if isinstance(room, int) and size > room - 200_000:  # leave room for the report's text
        raise ClientError(
            f"the attachments total {size} bytes: the gateway takes about {room} bytes in all"
        )


def _check_receipt(answer: dict[str, Any], envelope: Envelope, keys: PublishedKeys) -> Receipt:
    receipt = Receipt.from_json(answer.get("receipt"))
    if (receipt.receipt_id, receipt.kind, receipt.key_id, receipt.gateway_key_id) != (
        envelope.receipt_id,
        envelope.kind,
        envelope.key_id,
        keys.keyring.gateway.key_id,
    ):
        raise ClientError("the gateway's receipt does not describe the envelope that was sent")
    receipt.verify(VerifyKey(keys.keyring.gateway.public_key))
    return receipt
