"""The Lianxin protocol: one module used by the client, the gateway and the office desk.

The wire format is documented in ``portal/docs/protocol.en.md`` (and ``protocol.zh.md``);
test vectors are in ``tests/vectors/protocol-v1.json``.
"""

from .documents import validate_followup, validate_report
from .envelope import Envelope, parse_envelope
from .errors import (
    DecryptionError,
    MalformedError,
    PayloadError,
    ProofOfWorkError,
    ProtocolError,
    SignatureError,
    TokenError,
    UnknownKeyError,
)
from .payload import Attachment, Payload
from .receipt import Receipt
from .sealing import (
    open_answer,
    open_envelope,
    seal_answer_for_reporter,
    seal_followup,
    seal_report,
)
from .token import Token, TokenKeys

__all__ = [
    "Attachment",
    "DecryptionError",
    "Envelope",
    "MalformedError",
    "Payload",
    "PayloadError",
    "ProofOfWorkError",
    "ProtocolError",
    "Receipt",
    "SignatureError",
    "Token",
    "TokenError",
    "TokenKeys",
    "UnknownKeyError",
    "open_answer",
    "open_envelope",
    "parse_envelope",
    "seal_answer_for_reporter",
    "seal_followup",
    "seal_report",
    "validate_followup",
    "validate_report",
]
