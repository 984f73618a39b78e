"""Writing to the reporter at any stage: a question, a request for more material, an
acceptance notice (受理告知).

A message is a ``lianxin/message/v1`` document (protocol §7.5) sealed, like an answer, to the
reply key of every token of the case (``reporter_items``, kind ``message:<kind>``); the
publisher adds it to the token's status row, so the status page and ``lianxin status`` show it
after the next publish. The office keeps its own copy as a note under the case key. The signed
``message-sent`` event records each sealed copy's row id and hash (never the text), so that
``desk verify`` notices a message altered or deleted outside the desk. The reporter replies
with an ordinary follow-up (additional material), which the gateway files on the token's case.

An acceptance notice to a real-name reporter who has not yet been told is also the 受理告知
duty (policy rule ``acknowledge_real_name``): the same event records it as given on the
status page, and the warning for it clears.
"""

from __future__ import annotations

from typing import Any

from lianxin.protocol import seal_message_for_reporter
from lianxin.protocol.documents import MESSAGE_KINDS

from .casekeys import desk_keys
from .cases import Case, load_case
from .changes import change
from .context import Desk
from .duties import late_notice
from .lifecycle import require
from .notes import note_ready, write_note
from .officekeys import OfficeKeys
from .refusals import BadValue, Refused
from .reporter import require_tokens, seal_to_tokens
from .roles import desk_action
from .values import clean_text

ITEM_PREFIX = "message:"  # reporter_items.kind of a message: message:question, ...
LABELS = {
    "question": ("问题", "question"),
    "material": ("请补充材料", "request for material"),
    "acceptance": ("受理告知", "acceptance notice"),
}


def _tokens(desk: Desk, case: Case) -> None:
    require_tokens(desk, case.id, case.label, "write to")


def seal_message(desk: Desk, case: Case, kind: str, text: str) -> list[list[Any]]:
    """Seal the message to every token of the case (inside the caller's transaction); returns
    ``[row id, hash]`` of each sealed copy for the event."""
    doc: dict[str, object] = {
        "kind": kind,
        "number": case.number or "",
        "date": desk.today.isoformat(),
        "text": text,
    }
    _tokens(desk, case)
    return seal_to_tokens(
        desk,
        case.id,
        "reporter_items",
        ITEM_PREFIX + kind,
        lambda reply_pk: seal_message_for_reporter(doc, reply_pk),
    )


@desk_action("message")
def send_message(desk: Desk, ref: int | str, keys: OfficeKeys | None, kind: str, text: str) -> Case:
    """Write to the reporter of a case: ``kind`` question, material (a request for more
    material) or acceptance (an acceptance notice, once the case is accepted)."""
    case = load_case(desk.db, ref)
    require(case, "message")
    if kind not in MESSAGE_KINDS:
        raise BadValue(
            f"{kind!r} is not one of {', '.join(MESSAGE_KINDS)}",
            argument="--kind",
            code="not_one_of",
        )
    body = clean_text(text, "--text", required=True)
    if kind == "acceptance" and not case.accepted_date:
        raise Refused(
            f"case {case.label} has not been accepted (受理): an acceptance notice follows"
            " registration as accepted",
            code="letter_not_accepted",
            case=case.label,
        )
    office = keys if keys is not None else desk_keys(desk)
    note_ready(desk, case, office)
    _tokens(desk, case)
    updates: dict[str, Any] = {}
    data: dict[str, Any] = {"kind": kind}
    owed = case.real_name in ("claimed", "verified") and not case.acknowledged_date
    if kind == "acceptance" and owed:
        updates["acknowledged_date"] = desk.today.isoformat()
        data["acknowledged"] = {"how": "status", "late": late_notice(desk, case)}
    with desk.transaction():
        rows = seal_message(desk, case, kind, body)
        note = write_note(desk, case, office, "message", body, reference=kind)
        change(desk, case, "message-sent", updates, {**data, "messages": rows, **note})
    return load_case(desk.db, case.id)
