"""The one error body of the API: RFC 9457 problem+json with a stable ``type`` per failure."""

from __future__ import annotations

import json

from starlette.responses import Response

PROBLEM_BASE = "https://lianxin.invalid/problems/"
MEDIA_TYPE = "application/problem+json"

# Every problem type the gateway can answer with, and its title. The protocol page documents
# this table; tests/test_gateway_errors.py checks that each one is reachable and documented.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-json": (400, "Body is not JSON"),
    "bad-content-type": (415, "Content type must be application/json"),
    "body-too-large": (413, "Request body too large"),
    "body-not-allowed": (400, "This route takes no request body"),
    "body-timeout": (408, "Request body not received in time"),
    "bad-request": (400, "Request body has the wrong shape"),
    "bad-version": (422, "Unsupported protocol version"),
    "bad-kind": (422, "Unknown envelope kind"),
    "missing-field": (422, "A required field is missing"),
    "unknown-field": (422, "An unknown field is present"),
    "bad-field": (422, "A field has the wrong type or format"),
    "bad-base64": (422, "A field is not valid base64url"),
    "bad-length": (422, "A field has the wrong length"),
    "unknown-key-id": (422, "Unknown office key id"),
    "bad-signature": (422, "Signature does not verify"),
    "pow-missing": (403, "Proof of work missing"),
    "pow-invalid": (403, "Proof of work challenge not valid"),
    "pow-expired": (403, "Proof of work challenge expired"),
    "pow-replayed": (409, "Proof of work challenge already used"),
    "pow-wrong": (403, "Proof of work answer wrong"),
    "pow-unbound": (403, "Proof of work not signed by the envelope's key"),
    "unknown-lookup-id": (404, "Unknown lookup id"),
    "unknown-office": (403, "Package from an office not in the directory"),
    "wrong-office": (422, "Package addressed to another office"),
    "wrong-direction": (403, "Package kind not accepted from this office"),
    "wrong-key": (403, "Package not signed by the pinned office signing key"),
    "replayed": (409, "Package already received"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "cors-refused": (403, "Cross-origin request refused"),
    "unavailable": (503, "Gateway temporarily unavailable"),
    "store-unavailable": (503, "Store busy; retry shortly"),
    "store-failing": (503, "Store failing; retrying will not help until an operator acts"),
}


def problem(slug: str, detail: str, *, status: int | None = None) -> Response:
    """Build the problem+json response for ``slug``."""
    known_status, title = PROBLEMS[slug]
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status or known_status,
        "detail": detail,
    }
    return Response(
        json.dumps(body, ensure_ascii=True),  # ASCII: a lone surrogate cannot break the body
        status_code=status or known_status,
        media_type=MEDIA_TYPE,
    )
