"""OpenAPI descriptions of the hand-parsed bodies (the handlers read raw bytes for speed and
for exact error control, so FastAPI cannot infer these schemas)."""

from __future__ import annotations

from typing import Any

_B64 = {"type": "string", "pattern": "^[A-Za-z0-9_-]*$", "description": "base64url, no padding"}
_PROBLEM = {
    "application/problem+json": {
        "schema": {
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
            },
        }
    }
}
ENVELOPE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["envelope", "pow"],
                "additionalProperties": False,
                "properties": {
                    "envelope": {
                        "type": "object",
                        "required": ["v", "kind", "key_id", "ciphertext", "sig"],
                        "properties": {
                            "v": {"type": "integer", "enum": [1]},
                            "kind": {"type": "string", "enum": ["report", "followup"]},
                            "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                            "client_pk": _B64,
                            "lookup_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                            "ciphertext": _B64,
                            "sig": _B64,
                        },
                    },
                    "pow": {
                        "type": "object",
                        "required": ["challenge", "answer", "sig"],
                        "additionalProperties": False,
                        "properties": {
                            "challenge": _B64,
                            "answer": {"type": "integer", "minimum": 0},
                            "sig": {
                                **_B64,
                                "description": "Ed25519 signature by the envelope's key over "
                                'lp("lianxin/v1/pow-binding", challenge, receipt id)',
                            },
                        },
                    },
                },
            }
        }
    },
}
_RECEIPT = {
    "type": "object",
    "properties": {
        "v": {"type": "integer"},
        "receipt_id": {"type": "string"},
        "kind": {"type": "string"},
        "received": {"type": "string", "format": "date"},
        "key_id": {"type": "string"},
        "gateway_key_id": {"type": "string"},
        "sig": _B64,
    },
}
_ERRORS = {
    str(code): {"description": "Problem", "content": _PROBLEM}
    for code in (400, 403, 404, 409, 413, 415, 422)
}
REPORT_ANSWER: dict[str, Any] = {
    "201": {
        "description": "Stored durably; the token is shown once",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "token": {"type": "string"},
                        "receipt": _RECEIPT,
                        "duplicate": {"type": "boolean"},
                    },
                }
            }
        },
    },
    "200": {"description": "The same envelope was stored before: same case, new token"},
    **_ERRORS,
}
FOLLOWUP_ANSWER: dict[str, Any] = {
    "201": {
        "description": "Stored durably",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "receipt": _RECEIPT,
                        "duplicate": {"type": "boolean"},
                    },
                }
            }
        },
    },
    "200": {"description": "The same follow-up was stored before"},
    **_ERRORS,
}
