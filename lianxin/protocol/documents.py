"""The documents inside sealed payloads: reports, follow-ups, answers and sent records.

Validation is the same for every client (CLI, browser, desk intake): a field that is missing, of
the wrong type or too long raises ``PayloadError`` naming the field.
"""

from __future__ import annotations

from typing import Any

from .errors import PayloadError

REPORT = "lianxin/report/v1"
FOLLOWUP = "lianxin/followup/v1"
ANSWER = "lianxin/answer/v1"
SENT = "lianxin/sent/v1"  # a record of what the reporter sent, sealed to their reply key
SENT_KINDS = ("report", "material", "satisfaction")
MAX_EXCERPT = 80  # the part of a material text that titles its record
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


class _Problems:
    """Collects every field's problem, so that one refusal names them all."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def text(self, doc: dict[str, Any], path: str, key: str, limit: int, *, required: bool) -> str:
        try:
            return _text(doc, path, key, limit, required=required)
        except PayloadError as exc:
            self.found.append(str(exc))
            return ""

    def add(self, message: str) -> None:
        self.found.append(message)

    def raise_any(self) -> None:
        if self.found:
            raise PayloadError("; ".join(self.found))


def validate_report(doc: Any) -> dict[str, Any]:
    """Check a report document; return it normalised (missing optional text as '').

    A refusal names every bad field (``title: required; text: required``), not only the first.
    """
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
    problems = _Problems()
    real_name = doc.get("real_name", False)
    if not isinstance(real_name, bool):
        problems.add("real_name: expected true or false")
    out: dict[str, Any] = {"schema": REPORT, "real_name": real_name}
    identity = doc.get("identity")
    if real_name is True:
        if not isinstance(identity, dict):
            problems.add("identity: required for a real-name report")
        else:
            _only(identity, "identity.", {"name", "contact", "id_number"})
            out["identity"] = {
                "name": problems.text(identity, "identity.", "name", MAX_SHORT, required=True),
                "contact": problems.text(
                    identity, "identity.", "contact", MAX_SHORT, required=True
                ),
                "id_number": problems.text(identity, "identity.", "id_number", 40, required=False),
            }
    elif real_name is False and identity not in (None, {}):
        problems.add("identity: an anonymous report carries no identity")
    reported = doc.get("reported", {})
    if not isinstance(reported, dict):
        problems.add("reported: expected an object")
    else:
        _only(reported, "reported.", {"name", "unit", "post", "rank"})
        out["reported"] = {
            key: problems.text(reported, "reported.", key, MAX_SHORT, required=key == "name")
            for key in ("name", "unit", "post", "rank")
        }
    for key in ("region", "problem_type", "lang"):
        out[key] = problems.text(doc, "", key, MAX_SHORT, required=False)
    out["title"] = problems.text(doc, "", "title", MAX_TITLE, required=True)
    out["text"] = problems.text(doc, "", "text", MAX_TEXT, required=True)
    problems.raise_any()
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


def sent_record(doc: dict[str, Any], received: str) -> dict[str, Any]:
    """The record of a report or follow-up (an opened, validated document) that its reporter
    is shown back (``lianxin/sent/v1``, protocol §7.4): what it was, the day it was received,
    its title — a report's title, the first line of a material's text cut to ``MAX_EXCERPT``
    characters — and the number of files; a rating for a satisfaction answer."""
    files = len(doc.get("attachments") or [])
    if doc.get("schema") == REPORT:
        return {"kind": "report", "date": received, "title": doc["title"], "files": files}
    if doc.get("type") == "satisfaction":
        record = {"kind": "satisfaction", "date": received, "title": "", "files": files}
        return record | {"rating": doc["rating"]}
    lines = [line.strip() for line in str(doc.get("text") or "").splitlines()]
    first = next((line for line in lines if line), "")
    title = first if len(first) <= MAX_EXCERPT else first[: MAX_EXCERPT - 1] + "…"
    return {"kind": "material", "date": received, "title": title, "files": files}
