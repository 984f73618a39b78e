"""The documents inside sealed payloads: reports, follow-ups and answers.

Validation is the same for every client (CLI, browser, desk intake): a field that is missing, of
the wrong type or too long raises ``PayloadError`` naming the field.
"""

from __future__ import annotations

from typing import Any

from .errors import PayloadError

REPORT = "lianxin/report/v1"
FOLLOWUP = "lianxin/followup/v1"
ANSWER = "lianxin/answer/v1"
RATINGS = ("satisfied", "basically", "not")
MAX_TITLE = 200
MAX_TEXT = 100_000
MAX_SHORT = 200


def _text(doc: dict[str, Any], path: str, key: str, limit: int, *, required: bool) -> str:
    value = doc.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PayloadError(f"{path}{key}: expected text")
    if required and not value.strip():
        raise PayloadError(f"{path}{key}: required")
    if len(value) > limit:
        raise PayloadError(f"{path}{key}: longer than {limit} characters")
    return value


def _only(doc: dict[str, Any], path: str, allowed: set[str]) -> None:
    extra = sorted(set(doc) - allowed)
    if extra:
        raise PayloadError(f"{path}{extra[0]}: unknown field")


def validate_report(doc: Any) -> dict[str, Any]:
    """Check a report document; return it normalised (missing optional text as '')."""
    if not isinstance(doc, dict) or doc.get("schema") != REPORT:
        raise PayloadError(f"schema: expected {REPORT!r}")
    _only(
        doc,
        "",
        {
            "schema",
            "real_name",
            "identity",
            "reported",
            "region",
            "problem_type",
            "title",
            "text",
            "attachments",
            "lang",
        },
    )
    real_name = doc.get("real_name", False)
    if not isinstance(real_name, bool):
        raise PayloadError("real_name: expected true or false")
    out: dict[str, Any] = {"schema": REPORT, "real_name": real_name}
    identity = doc.get("identity")
    if real_name:
        if not isinstance(identity, dict):
            raise PayloadError("identity: required for a real-name report")
        _only(identity, "identity.", {"name", "contact", "id_number"})
        out["identity"] = {
            "name": _text(identity, "identity.", "name", MAX_SHORT, required=True),
            "contact": _text(identity, "identity.", "contact", MAX_SHORT, required=True),
            "id_number": _text(identity, "identity.", "id_number", 40, required=False),
        }
    elif identity not in (None, {}):
        raise PayloadError("identity: an anonymous report carries no identity")
    reported = doc.get("reported", {})
    if not isinstance(reported, dict):
        raise PayloadError("reported: expected an object")
    _only(reported, "reported.", {"name", "unit", "post", "rank"})
    out["reported"] = {
        key: _text(reported, "reported.", key, MAX_SHORT, required=key == "name")
        for key in ("name", "unit", "post", "rank")
    }
    for key in ("region", "problem_type", "lang"):
        out[key] = _text(doc, "", key, MAX_SHORT, required=False)
    out["title"] = _text(doc, "", "title", MAX_TITLE, required=True)
    out["text"] = _text(doc, "", "text", MAX_TEXT, required=True)
    return out


def validate_followup(doc: Any) -> dict[str, Any]:
    """Check a follow-up document: additional material or a satisfaction answer."""
    if not isinstance(doc, dict) or doc.get("schema") != FOLLOWUP:
        raise PayloadError(f"schema: expected {FOLLOWUP!r}")
    _only(doc, "", {"schema", "type", "rating", "text", "attachments"})
    kind = doc.get("type")
    out: dict[str, Any] = {"schema": FOLLOWUP, "type": kind}
    if kind == "satisfaction":
        if doc.get("rating") not in RATINGS:
            raise PayloadError(f"rating: expected one of {', '.join(RATINGS)}")
        out["rating"] = doc["rating"]
        out["text"] = _text(doc, "", "text", MAX_TEXT, required=False)
    elif kind == "material":
        # A material follow-up carries no rating: one may be given (a form's leftover) but it
        # must still be a valid one, and it is dropped.
        if doc.get("rating") is not None and doc["rating"] not in RATINGS:
            raise PayloadError(f"rating: expected one of {', '.join(RATINGS)}, or none")
        out["text"] = _text(doc, "", "text", MAX_TEXT, required=False)
    else:
        raise PayloadError("type: expected 'material' or 'satisfaction'")
    return out
