"""OpenAPI descriptions of the hand-parsed bodies and hand-written answers (the handlers read raw
bytes and write JSON themselves, for speed and exact error control, so FastAPI cannot infer these
schemas). Each follows the protocol page (portal/docs/protocol.*.md), which is the specification."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from lianxin import __version__

MAX_POW_ANSWER = 2**53 - 1  # a JavaScript number holds every answer exactly


def _b64(size: int | None = None, description: str = "base64url, no padding") -> dict[str, Any]:
    if size is None:
        return {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "description": description}
    chars = (size * 4 + 2) // 3
    return {
        "type": "string",
        "pattern": f"^[A-Za-z0-9_-]{{{chars}}}$",
        "description": f"{description}: {size} bytes",
    }


def _hex(digits: int, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^[0-9a-f]{{{digits}}}$", "description": description}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object with exactly these members, all required."""
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
        **extra,
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_PROBLEM = {
    "application/problem+json": {
        "schema": _object(
            {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
            }
        )
    }
}
_ERRORS = {
    str(code): {"description": "Problem", "content": _PROBLEM}
    for code in (400, 403, 404, 409, 413, 415, 422)
}
_UNAVAILABLE = {
    "503": {"description": "Unavailable; retry after Retry-After seconds", "content": _PROBLEM}
}

# --- GET /v1/keys ------------------------------------------------------------------------------
_KEY_ID = _hex(16, "first 16 hex digits of the fingerprint")


def _key(kind: str, alg: str, serial: dict[str, Any]) -> dict[str, Any]:
    return _object(
        {
            "kind": {"type": "string", "const": kind},
            "alg": {"type": "string", "const": alg},
            "key_id": _KEY_ID,
            "fingerprint": _hex(64, "BLAKE2b-256 of the raw public key"),
            "public_key": _b64(32, "the raw public key, base64url"),
            "created": _DATE,
            "serial": serial,
        }
    )


_KEYRING = _object(
    {
        "v": {"type": "integer", "const": 1},
        "office": {
            "type": "array",
            "minItems": 1,
            "description": "every accepted office key, newest (highest serial) first",
            "items": _key("office", "x25519", {"type": "integer", "minimum": 0}),
        },
        "current_office_key_id": {
            **_KEY_ID,
            "description": "the office key with the highest serial",
        },
        "gateway": _key("gateway", "ed25519", {"type": "integer", "const": 0}),
        "publisher": _key("publisher", "ed25519", {"type": "integer", "const": 0}),
    },
    description="the same object as keys.json; unsigned here: take the office key only from the "
    "publisher-signed keys.json",
)
_LIMITS = _object(
    {
        name: {"type": "integer", "minimum": 0}
        for name in (
            "max_body_bytes",
            "max_ciphertext_bytes",
            "max_plaintext_bytes",
            "max_attachments",
            "pow_difficulty",
            "pow_ttl_seconds",
        )
    },
    description="the live values (protocol page §15)",
)
KEYS_ANSWER: dict[str, Any] = {
    "200": _json(_object({"keyring": _KEYRING, "limits": _LIMITS}), "The keyring and the limits"),
}

# --- POST /v1/challenges -----------------------------------------------------------------------
_CHALLENGE = {
    **_b64(42, "the challenge, base64url"),
    "description": "0x01 || difficulty u8 || expires u64be || nonce[16] || mac[16], base64url",
}
CHALLENGE_ANSWER: dict[str, Any] = {
    "201": _json(
        _object(
            {
                "challenge": _CHALLENGE,
                "difficulty": {"type": "integer", "minimum": 1, "maximum": 40},
                "expires": {"type": "string", "format": "date-time", "description": "UTC"},
            }
        ),
        "A new challenge (the bytes are authoritative; difficulty and expires repeat them)",
    ),
    "4XX": {
        "description": "Refused: the request has a body, or another problem",
        "content": _PROBLEM,
    },
    **_UNAVAILABLE,
}

# --- POST /v1/reports, /v1/followups --------------------------------------------------------------
_POW = _object(
    {
        "challenge": _CHALLENGE,
        "answer": {"type": "integer", "minimum": 0, "maximum": MAX_POW_ANSWER},
        "sig": _b64(
            64,
            "Ed25519 signature by the envelope's key over "
            'lp("lianxin/v1/pow-binding", challenge, receipt id), base64url',
        ),
    }
)
_ENVELOPE_COMMON = {
    "v": {"type": "integer", "const": 1},
    "key_id": {**_KEY_ID, "description": "the office key the ciphertext is sealed to"},
    "ciphertext": _b64(description="the sealed, padded payload, base64url"),
    "sig": _b64(64, "Ed25519 signature of the envelope, base64url"),
}
_REPORT_ENVELOPE = _object(
    {
        "kind": {"type": "string", "const": "report"},
        **_ENVELOPE_COMMON,
        "client_pk": _b64(32, "a fresh Ed25519 public key, base64url"),
    }
)
_FOLLOWUP_ENVELOPE = _object(
    {
        "kind": {"type": "string", "const": "followup"},
        **_ENVELOPE_COMMON,
        "lookup_id": _hex(32, "the token's lookup id"),
    }
)


def _body(envelope: dict[str, Any]) -> dict[str, Any]:
    schema = _object({"envelope": envelope, "pow": _POW})
    return {"required": True, "content": {"application/json": {"schema": schema}}}


REPORT_BODY = _body(_REPORT_ENVELOPE)
FOLLOWUP_BODY = _body(_FOLLOWUP_ENVELOPE)

_RECEIPT = _object(
    {
        "v": {"type": "integer", "const": 1},
        "receipt_id": _hex(64, "BLAKE2b-256 of the envelope's signing message and signature"),
        "kind": {"type": "string", "enum": ["report", "followup"]},
        "received": {**_DATE, "description": "the date stored, in the office's time zone"},
        "key_id": {**_KEY_ID, "description": "the envelope's office key id"},
        "gateway_key_id": {**_KEY_ID, "description": "the gateway key that signed"},
        "sig": _b64(64, "Ed25519 signature of the receipt message, base64url"),
    }
)
_TOKEN = {
    "type": "string",
    "pattern": "^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){6}$",
    "description": "the tracking token; shown once, never stored",
}


def _stored(first: bool, *, token: bool) -> dict[str, Any]:
    members = {"token": _TOKEN} if token else {}
    return _object(
        {**members, "receipt": _RECEIPT, "duplicate": {"type": "boolean", "const": not first}}
    )


REPORT_ANSWER: dict[str, Any] = {
    "201": _json(_stored(True, token=True), "Stored durably; the token is shown once"),
    "200": _json(
        _stored(False, token=True),
        "The identical envelope was stored before: the same case and receipt, a new token",
    ),
    **_ERRORS,
    **_UNAVAILABLE,
}
FOLLOWUP_ANSWER: dict[str, Any] = {
    "201": _json(_stored(True, token=False), "Stored durably"),
    "200": _json(
        _stored(False, token=False), "The identical follow-up was stored before: the same receipt"
    ),
    **_ERRORS,
    **_UNAVAILABLE,
}

# --- POST /v1/packages (linked offices, protocol page §20) ---------------------------------------
_OFFICE_ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9.\\-]{0,63}$"}
_PACKAGE = _object(
    {
        "schema": {"type": "string", "const": "lianxin/package/v1"},
        "from": {**_OFFICE_ID, "description": "the sending office's id"},
        "to": {**_OFFICE_ID, "description": "this office's id"},
        "seq": {"type": "integer", "minimum": 1, "description": "the sender's sequence number"},
        "kind": {
            "type": "string",
            "enum": ["assignment", "check", "signed-for", "extension", "completion", "answer"],
        },
        "key_id": {**_KEY_ID, "description": "this office's key the body is sealed to"},
        "signer_fp": _hex(64, "fingerprint of the sender's office signing key"),
        "officer": _object({"id": {"type": "string"}, "public_key": _b64(32, "Ed25519")}),
        "sealed": _b64(None, "the body, sealed to this office's key"),
        "officer_sig": _b64(64, "the acting officer's signature"),
        "office_sig": _b64(64, "the sending office's signature"),
    }
)
PACKAGE_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": _PACKAGE}},
}
PACKAGE_ANSWER: dict[str, Any] = {
    "201": _json(
        _object(
            {
                "package": _hex(32, "the package's digest"),
                "from": _OFFICE_ID,
                "seq": {"type": "integer"},
                "received": _DATE,
            }
        ),
        "Stored for the desk",
    ),
    **_ERRORS,
    **_UNAVAILABLE,
}


def _integers(value: Any) -> Any:
    """FastAPI's schema model stores bounds as floats (``"maximum": 40.0``); write whole numbers
    as integers, so that ``answer``'s bound reads 9007199254740991 as the protocol page says."""
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s routes (served at /v1/openapi.json, and committed)."""
    return _integers(  # type: ignore[no-any-return]
        get_openapi(
            title="Lianxin gateway",
            version=__version__,
            summary="Accepts sealed, signed reports and follow-ups; issues tracking tokens.",
            routes=app.routes,
        )
    )
