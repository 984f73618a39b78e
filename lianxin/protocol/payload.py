"""What goes inside the sealed box: a JSON document followed by the raw attachment bytes.

    payload = u32be(len(doc)) || doc (UTF-8 JSON) || attachment_1 || attachment_2 || ...

``doc["attachments"]`` lists ``{"name", "type", "size"}`` in the same order as the bytes, so that
attachments travel without base64 inflation. ``doc["schema"]`` names the document type:
``lianxin/report/v1``, ``lianxin/followup/v1``, ``lianxin/answer/v1``, ``lianxin/sent/v1`` or
``lianxin/message/v1``.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .errors import PayloadError

SCHEMAS = (
    "lianxin/report/v1",
    "lianxin/followup/v1",
    "lianxin/answer/v1",
    "lianxin/sent/v1",
    "lianxin/message/v1",
    "lianxin/package-body/v1",  # between linked offices (lianxin.offices.package)
)
MAX_NAME = 255
# A media type as RFC 6838 names one (type "/" subtype, 127 characters each), without parameters.
_MEDIA_PART = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(f"{_MEDIA_PART}/{_MEDIA_PART}")


def check_attachment(index: int, name: object, media_type: object) -> None:
    """Refuse an attachment name or media type outside the protocol's limits (§8.1)."""
    where = f"attachments[{index}]"
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise PayloadError(f"{where}.name: expected 1 to {MAX_NAME} characters")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise PayloadError(f"{where}.name: contains a control character")
    if not isinstance(media_type, str) or not _MEDIA_TYPE.fullmatch(media_type):
        raise PayloadError(f"{where}.type: expected a media type such as application/pdf")


@dataclass(frozen=True)
class Attachment:
    """One attached file."""

    name: str
    type: str
    data: bytes = field(repr=False)

    def describe(self) -> dict[str, Any]:
        """The attachment's entry in the document."""
        return {"name": self.name, "type": self.type, "size": len(self.data)}


@dataclass(frozen=True)
class Payload:
    """A decoded payload: the JSON document and its attachments."""

    doc: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()

    @property
    def schema(self) -> str:
        """The document's schema name."""
        return str(self.doc.get("schema", ""))


def pack(doc: dict[str, Any], attachments: tuple[Attachment, ...] | list[Attachment] = ()) -> bytes:
    """Encode a document and its attachments (the document's attachment list is written here)."""
    if doc.get("schema") not in SCHEMAS:
        raise PayloadError(f"schema must be one of {', '.join(SCHEMAS)}")
    for i, attachment in enumerate(attachments):
        check_attachment(i, attachment.name, attachment.type)
    full = dict(doc, attachments=[a.describe() for a in attachments])
    try:
        body = json.dumps(
            full, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        )
    except (TypeError, ValueError) as exc:  # NaN or a value JSON cannot hold
        raise PayloadError(f"document cannot be written as JSON ({exc})") from exc
    encoded = body.encode("utf-8")
    return struct.pack(">I", len(encoded)) + encoded + b"".join(a.data for a in attachments)


def _no_constants(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def unpack(data: bytes, *, any_schema: bool = False) -> Payload:
    """Decode ``pack``'s output; raise ``PayloadError`` on any inconsistency. With
    ``any_schema``, a document of a type this module does not know is decoded too (its
    ``schema`` must still be a string): the items of a status row (§13.3)."""
    if len(data) < 4:
        raise PayloadError("payload shorter than its header")
    (doc_len,) = struct.unpack(">I", data[:4])
    if doc_len > len(data) - 4:
        raise PayloadError("payload shorter than its document")
    try:
        doc = json.loads(data[4 : 4 + doc_len].decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("payload document is not UTF-8 JSON") from exc
    known = isinstance(doc, dict) and (
        doc.get("schema") in SCHEMAS or (any_schema and isinstance(doc.get("schema"), str))
    )
    if not known:
        raise PayloadError("payload document has no known schema")
    entries = doc.get("attachments", [])
    if not isinstance(entries, list):
        raise PayloadError("attachments must be a list")
    rest = memoryview(data)[4 + doc_len :]
    offset = 0
    attachments = []
    for i, entry in enumerate(entries):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("type"), str)
            and isinstance(entry.get("size"), int)
            and not isinstance(entry.get("size"), bool)
            and entry["size"] >= 0
        ):
            raise PayloadError(f"attachments[{i}] must have name, type and size")
        check_attachment(i, entry["name"], entry["type"])
        end = offset + entry["size"]
        if end > len(rest):
            raise PayloadError(f"attachments[{i}] runs past the end of the payload")
        attachments.append(Attachment(entry["name"], entry["type"], bytes(rest[offset:end])))
        offset = end
    if offset != len(rest):
        raise PayloadError("payload has bytes after its last attachment")
    return Payload(doc, tuple(attachments))
