"""The crypto façade: seal and open reports, follow-ups, and the items sealed to a reporter.

Callers never handle nonces or raw key bytes. Every payload is packed (``payload``), padded
(``padding``) and sealed with ``crypto_box_seal`` to an X25519 public key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox
from nacl.signing import SigningKey

from ..secrets import OfficeSecretKey
from .documents import ANSWER, FOLLOWUP, REPORT, SENT, validate_followup, validate_report
from .envelope import Envelope
from .errors import DecryptionError, PayloadError, UnknownKeyError
from .padding import pad, pad_block, unpad, unpad_block
from .payload import Attachment, Payload, pack, unpack
from .token import TokenKeys


def _seal(doc: dict[str, object], attachments: Iterable[Attachment], to: PublicKey) -> bytes:
    return bytes(SealedBox(to).encrypt(pad(pack(doc, tuple(attachments)))))


def seal_report(
    doc: dict[str, object],
    attachments: Iterable[Attachment],
    *,
    office_key: PublicKey,
    office_key_id: str,
    client_key: SigningKey,
) -> Envelope:
    """Validate, pad, seal and sign a report. ``client_key`` is fresh for each report."""
    clean = validate_report(doc)
    ciphertext = _seal(clean, attachments, office_key)
    unsigned = Envelope("report", office_key_id, bytes(client_key.verify_key), ciphertext, b"")
    sig = client_key.sign(unsigned.signing_message).signature
    return Envelope("report", office_key_id, unsigned.author, ciphertext, bytes(sig), client_key)


def seal_followup(
    doc: dict[str, object],
    attachments: Iterable[Attachment],
    *,
    office_key: PublicKey,
    office_key_id: str,
    token_keys: TokenKeys,
) -> Envelope:
    """Validate, seal and sign a follow-up with the token-derived follow-up key."""
    clean = validate_followup(doc)
    ciphertext = _seal(clean, attachments, office_key)
    unsigned = Envelope("followup", office_key_id, token_keys.lookup_id, ciphertext, b"")
    signer = token_keys.followup_key
    sig = signer.sign(unsigned.signing_message).signature
    return Envelope("followup", office_key_id, token_keys.lookup_id, ciphertext, bytes(sig), signer)


def open_envelope(envelope: Envelope, office_keys: Mapping[str, OfficeSecretKey]) -> Payload:
    """Open a stored envelope with the office's private keys (desk side) and validate it."""
    secret = office_keys.get(envelope.key_id)
    if secret is None:
        raise UnknownKeyError(
            f"no office private key with id {envelope.key_id} was loaded", slug="unknown-key-id"
        )
    payload = unpack(unpad(secret.open(envelope.ciphertext)))
    expected = REPORT if envelope.kind == "report" else FOLLOWUP
    if payload.schema != expected:
        raise PayloadError(f"a {envelope.kind} envelope holds a {payload.schema!r} document")
    validate = validate_report if envelope.kind == "report" else validate_followup
    doc = validate(payload.doc)
    doc["attachments"] = payload.doc.get("attachments", [])
    return Payload(doc, payload.attachments)


def seal_for_reporter(doc: dict[str, object], reply_public_key: bytes) -> bytes:
    """Seal a document (its ``schema`` set) so that only the token holder can read it: an
    item of the token's status row (§13.2).

    Items travel inside the fixed-size status shards, so they use compact block padding
    (``pad_block``) instead of the report buckets."""
    return bytes(SealedBox(PublicKey(reply_public_key)).encrypt(pad_block(pack(doc, ()))))


def seal_answer_for_reporter(doc: dict[str, object], reply_public_key: bytes) -> bytes:
    """Seal the office's answer (``lianxin/answer/v1``) to a token's reply key."""
    return seal_for_reporter(dict(doc, schema=ANSWER), reply_public_key)


def seal_sent_for_reporter(doc: dict[str, object], reply_public_key: bytes) -> bytes:
    """Seal the record of what the reporter sent (``lianxin/sent/v1``) to a token's reply key."""
    return seal_for_reporter(dict(doc, schema=SENT), reply_public_key)


def open_item(sealed: bytes, token_keys: TokenKeys) -> Payload:
    """Open an item of a status row sealed to the token's reply key, whatever its type: the
    caller shows the ``schema`` it knows and ignores any other (§13.3)."""
    return unpack(open_with_reply_key(sealed, token_keys), any_schema=True)


def open_answer(sealed: bytes, token_keys: TokenKeys) -> Payload:
    """Open an answer sealed to the token's reply key."""
    payload = open_item(sealed, token_keys)
    if payload.schema != ANSWER:
        raise PayloadError(f"expected an answer, found a {payload.schema!r} document")
    return payload


def open_with_reply_key(sealed: bytes, token_keys: TokenKeys) -> bytes:
    """Open block-padded bytes sealed to the reply key (answers, status rows)."""
    try:
        padded = bytes(SealedBox(token_keys.reply_key).decrypt(sealed))
    except CryptoError as exc:
        raise DecryptionError("this token cannot open the data") from exc
    return unpad_block(padded)


def seal_for_reply_key(data: bytes, reply_public_key: bytes) -> bytes:
    """Block-pad and seal bytes to a reply key (publisher side, status rows)."""
    return bytes(SealedBox(PublicKey(reply_public_key)).encrypt(pad_block(data)))
