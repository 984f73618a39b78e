"""Protocol errors.

Every way an input can be wrong has its own subclass with a stable ``type`` slug. The gateway
turns them into RFC 9457 problem documents (``type`` becomes
``https://lianxin.invalid/problems/<slug>``); the CLI turns them into one-line messages.

    ProtocolError
    ├── MalformedError          (bad-json, bad-field, bad-base64, bad-length, bad-version, ...)
    ├── SignatureError          (bad-signature)
    ├── UnknownKeyError         (unknown-key-id)
    ├── TokenError              (token-format, token-check)
    ├── ProofOfWorkError        (pow-missing, pow-invalid, pow-expired, pow-replayed, pow-wrong)
    └── PayloadError            (bad-payload: a sealed payload that opens but is not well formed)
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Root of every error raised while parsing, verifying or opening protocol data."""

    slug = "protocol-error"
    status = 400
    title = "Protocol error"

    def __init__(self, detail: str, *, slug: str | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        if status is not None:
            self.status = status


class MalformedError(ProtocolError):
    """A field is missing, of the wrong type, not valid base64, or of the wrong length."""

    slug = "bad-field"
    status = 422
    title = "Malformed envelope"


class SignatureError(ProtocolError):
    """An Ed25519 signature does not verify."""

    slug = "bad-signature"
    status = 422
    title = "Signature does not verify"


class UnknownKeyError(ProtocolError):
    """The envelope names a key id that is not (or no longer) published."""

    slug = "unknown-key-id"
    status = 422
    title = "Unknown key id"


class TokenError(ProtocolError):
    """A tracking token is not well formed or its check character does not match."""

    slug = "token-format"
    status = 400
    title = "Invalid tracking token"


class ProofOfWorkError(ProtocolError):
    """A proof-of-work answer is missing, forged, expired, already used, or wrong."""

    slug = "pow-invalid"
    status = 403
    title = "Proof of work refused"


class PayloadError(ProtocolError):
    """A sealed payload opened, but its content is not a well-formed report or follow-up."""

    slug = "bad-payload"
    status = 422
    title = "Malformed payload"


class DecryptionError(ProtocolError):
    """A sealed box could not be opened with the key given."""

    slug = "cannot-open"
    status = 422
    title = "Cannot open sealed data"
