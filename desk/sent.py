"""What the reporter sent, shown back to them: a record sealed to every token of the case.

When the desk opens a report or a follow-up (``inbox.mark_opened``), or types an offline report
in (``intake``), it seals ``lianxin/sent/v1`` — the kind, the day received, the title (a
report's title, the start of a material's text) and the number of files; a rating — to the
reply key of every token of the case, as answers are (``answers.seal_answer``). The publisher
adds these items to the token's status row, so that the status page and ``lianxin status``
list "what you sent". Nothing is kept in clear but the kind and the date; the event that opens
the submission records each sealed copy's row id and hash, as answers do.
"""

from __future__ import annotations

from typing import Any

from lianxin.protocol import seal_sent_for_reporter
from lianxin.protocol.documents import sent_record

from .context import Desk
from .reporter import seal_to_tokens


def record_sent(desk: Desk, case_id: int, doc: dict[str, Any], received: str) -> list[list[Any]]:
    """Seal the record of an opened report or follow-up ``doc`` to every token of its case,
    inside the caller's transaction; returns what the caller's event records, ``[row id,
    hash]`` of each sealed copy (never the title), so that ``verify`` notices an edit."""
    record = sent_record(doc, received)
    return seal_to_tokens(
        desk,
        case_id,
        "reporter_items",
        record["kind"],
        lambda reply_pk: seal_sent_for_reporter(record, reply_pk),
    )
