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
    open_item,
    seal_answer_for_reporter,
    seal_followup,
    seal_report,
    seal_sent_for_reporter,
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
    "open_item",
    "parse_envelope",
    "seal_answer_for_reporter",
    "seal_followup",
    "seal_report",
    "seal_sent_for_reporter",
    "validate_followup",
    "validate_report",
]
