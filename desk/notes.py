"""Investigation notes and documents, sealed to the office key: no case content in clear.

A note is a JSON document (``kind``, ``text``, ``reference``, ``file``) plus optional file bytes,
sealed to the office's current public key. The event log keeps only the note's id and a hash of
its sealed bytes, so a note edited or deleted in the database fails ``verify``. Reasons staff
give (for an extension, for not accepting) and the office's copy of each answer are notes too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .casekeys import case_key, has_case_key, open_case, seal_case
from .cases import Case, load_case
from .context import Desk
from .lifecycle import require
from .officekeys import OfficeKeys, digest, open_from_office, pack_note, seal_to_office, unpack_note
from .refusals import BadValue
from .roles import desk_action
from .values import MAX_NOTE, clean_text

MAX_FILE = 20 * 1024 * 1024
NOTE_KINDS = ("step", "document", "reason", "answer", "report", "message", "reply", "draft")
# The kinds an officer adds with ``note``: an investigation step, a document received, or a draft
# of the answer to the reporter (the web desk's answer form starts from the latest draft).
ADDED_KINDS = ("step", "document", "draft")


@dataclass(frozen=True)
class Note:
    """A note as opened by the desk."""

    id: int
    case_id: int
    created_at: str
    officer: str
    kind: str
    text: str
    reference: str
    file_name: str
    data: bytes

    def as_dict(self) -> dict[str, Any]:
        """For JSON output (file bytes as their size)."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "officer": self.officer,
            "kind": self.kind,
            "text": self.text,
            "reference": self.reference,
            "file": self.file_name,
            "file_size": len(self.data),
        }


def write_note(
    desk: Desk,
    case: Case,
    keys: OfficeKeys,
    kind: str,
    text: str,
    *,
    reference: str = "",
    file_name: str = "",
    data: bytes = b"",
) -> dict[str, Any]:
    """Seal and store a note inside the caller's transaction; returns its reference for events.

    A registered case's notes are sealed under its case key; before registration, to the
    office key."""
    doc = {"kind": kind, "text": text, "reference": reference, "file": file_name}
    if has_case_key(desk.db, case.id):
        sealed = seal_case(case_key(desk, case.id, case.label), pack_note(doc, data))
        key_id, sealed_with = "case", "case"
    else:
        key = keys.sealing_key()
        sealed, key_id, sealed_with = seal_to_office(doc, data, key), key.key_id, "office"
    cursor = desk.db.execute(
        "INSERT INTO notes (case_id, key_id, sealed, created_at, officer, sealed_with)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [case.id, key_id, sealed, desk.today.isoformat(), desk.actor(), sealed_with],
    )
    return {"note": int(cursor.lastrowid or 0), "note_hash": digest(sealed)}


def note_ready(desk: Desk, case: Case, keys: OfficeKeys | None) -> None:
    """Refuse before anything is written if the officer cannot seal a note on ``case``."""
    if has_case_key(desk.db, case.id):
        case_key(desk, case.id, case.label)
    elif keys is None:
        raise BadValue("a note on an unregistered case needs the office key", "--officer")
    else:
        keys.sealing_key()


@desk_action("note")
def add_note(
    desk: Desk,
    ref: int | str,
    keys: OfficeKeys,
    *,
    text: str = "",
    reference: str = "",
    file: Path | None = None,
    kind: str = "step",
) -> int:
    """Record an investigation step, a document received (``file`` is sealed with it) or a
    draft of the answer to the reporter (``kind="draft"``; sent later with ``answer``)."""
    case = load_case(desk.db, ref)
    require(case, "note")
    if kind not in ADDED_KINDS:
        raise BadValue(
            f"{kind!r} is not one of {', '.join(ADDED_KINDS)}",
            argument="--kind",
            code="unknown_code",
        )
    body = clean_text(text, "--text", limit=MAX_NOTE, required=not (reference or file))
    ref_text = clean_text(reference, "--reference", limit=200, required=False)
    data = b""
    if file is not None:
        try:
            if file.stat().st_size > MAX_FILE:
                raise BadValue(f"larger than {MAX_FILE // 2**20} MiB", argument="--file")
            data = file.read_bytes()
        except OSError as exc:
            raise BadValue(f"{file}: {exc.strerror}", argument="--file") from exc
    note_ready(desk, case, keys)
    with desk.transaction():
        sealed = write_note(
            desk,
            case,
            keys,
            kind,
            body,
            reference=ref_text,
            file_name=file.name if file else "",
            data=data,
        )
        desk.event(case.id, "note-added", {**sealed, "kind": kind})
    return int(sealed["note"])


def read_notes(desk: Desk, case: Case, keys: OfficeKeys) -> list[Note]:
    """Open every note of ``case`` with the office keys."""
    rows = desk.db.execute(
        "SELECT id, key_id, sealed, created_at, officer, sealed_with FROM notes"
        " WHERE case_id = ? ORDER BY id",
        [case.id],
    ).fetchall()
    notes = []
    ck: bytes | None = None
    for note_id, key_id, sealed, created_at, officer, sealed_with in rows:
        if sealed_with == "case":
            ck = ck or case_key(desk, case.id, case.label)
            doc, data = unpack_note(open_case(ck, bytes(sealed)))
        else:
            doc, data = open_from_office(sealed, keys.secret(key_id, f"note {note_id}"))
        notes.append(
            Note(
                note_id,
                case.id,
                created_at,
                officer,
                str(doc.get("kind", "")),
                str(doc.get("text", "")),
                str(doc.get("reference", "")),
                str(doc.get("file", "")),
                data,
            )
        )
    return notes
