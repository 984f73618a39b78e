"""A case's files: a report's attachments and the files of its notes, each read one at a time
through a logged read (``desk file``; the web desk's download links).

A file is named by a short reference the case page and ``desk show`` list: ``s3.0`` is the
first attachment of submission 3, ``n5`` the file of note 5. Reading one needs the ``show``
role and the case in the officer's scope (a handler: their unit's case; anyone: holding its
case key, so a recused officer is refused); it records a ``read`` event naming the reference
and the size, never the file's name or bytes. A refusal reads nothing and records nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .casekeys import case_key, has_case_key
from .cases import load_case
from .context import Desk
from .notes import read_notes
from .officekeys import OfficeKeys
from .refusals import BadValue
from .roles import desk_action
from .scope import read_content

_REF = re.compile(r"^(?:s(\d{1,12})\.(\d{1,4})|n(\d{1,12}))$")
_UNSAFE = re.compile(r"[^\w.\-]+")


@dataclass(frozen=True)
class CaseFile:
    """One file of a case, opened."""

    ref: str
    name: str
    type: str
    data: bytes

    def safe_name(self) -> str:
        """A file name safe to offer for download or to write in a folder: the last path
        part, letters (any script), digits, dot, dash and underscore only, never hidden."""
        base = PurePosixPath(self.name.replace("\\", "/")).name
        safe = _UNSAFE.sub("_", base).strip("._")[:120]
        return safe or f"file-{self.ref}"


def attachment_refs(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The attachments of opened report content (:func:`desk.scope.read_content` rows), each
    with its reference, name, type and size (for the case page and ``desk show``)."""
    out = []
    for row in content:
        for i, a in enumerate(row.get("attachments", [])):
            out.append(
                {
                    "file": f"s{row['submission']}.{i}",
                    "submission": row["submission"],
                    "name": str(a["name"]),
                    "type": str(a["type"]),
                    "size": len(a["data"]) // 2,  # stored as hex
                }
            )
    return out


def parse_file_ref(text: str) -> str:
    """A file reference as typed (``s3.0``, ``n5``), or refused naming the form."""
    ref = text.strip().lower()
    if not _REF.match(ref):
        raise BadValue(
            f"{text!r} is not a file reference (s<submission>.<n> or n<note>)",
            "FILE",
            code="not_a_file_ref",
            text=text[:40],
        )
    return ref


@desk_action("show")
def read_case_file(desk: Desk, ref: int | str, keys: OfficeKeys, file: str) -> CaseFile:
    """Open one file of a case in the officer's scope and record the read (its own event)."""
    which = parse_file_ref(file)
    case = load_case(desk.db, ref)
    if has_case_key(desk.db, case.id):
        case_key(desk, case.id, case.label)  # refused out of scope, before anything is opened
    found = _REF.match(which)
    assert found is not None
    opened: CaseFile | None = None
    if found[3] is not None:
        for note in read_notes(desk, case, keys):
            if note.id == int(found[3]) and note.file_name:
                opened = CaseFile(which, note.file_name, "application/octet-stream", note.data)
    else:
        sid, index = int(found[1]), int(found[2])
        for row in read_content(desk, case):
            attachments = row.get("attachments", [])
            if row["submission"] == sid and index < len(attachments):
                a = attachments[index]
                opened = CaseFile(which, str(a["name"]), str(a["type"]), bytes.fromhex(a["data"]))
    if opened is None:
        raise BadValue(
            f"case {case.label} has no file {which}",
            "FILE",
            code="no_such_file",
            case=case.label,
            file=which,
        )
    desk.record_read(case.id, "attachment", file=which, size=len(opened.data))
    return opened
