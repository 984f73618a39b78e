"""Following a case forwarded to an authority outside Lianxin (转办) until the authority replies.

An environment bureau or a court runs no Lianxin: the office sends it a forwarding letter
(转办函, :mod:`desk.letters`) and waits for its written reply. ``route --forward`` sets the reply
deadline (``forward_reply_due``: the policy's ``feedback_external`` rule, or ``--days``); the
first letter issued sets ``forward_letter_date``; :func:`forward_reply` records the day the reply
arrived and seals what it says (a summary, the scanned reply, or both) as a note, like every
other piece of case content. Until then the warnings chase the reply (yellow when near, red when
overdue) and the supervision list carries it in a section of its own, whatever the case's state:
a forwarded case the office concluded without the reply still shows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from .cases import Case, load_case
from .changes import change
from .context import Desk
from .lifecycle import require
from .notes import MAX_FILE, note_ready, write_note
from .officekeys import OfficeKeys
from .refusals import BadValue
from .roles import desk_action
from .values import MAX_NOTE, clean_text, parse_day


def forwarded_on(desk: Desk, case: Case) -> str:
    """The day the case was (last) forwarded."""
    row = desk.db.execute(
        "SELECT at FROM events WHERE case_id = ? AND type = 'forwarded' ORDER BY seq DESC LIMIT 1",
        [case.id],
    ).fetchone()
    return str(row[0])[:10] if row else case.received_date


def _read_file(file: Path | None) -> bytes:
    if file is None:
        return b""
    try:
        if file.stat().st_size > MAX_FILE:
            raise BadValue(f"larger than {MAX_FILE // 2**20} MiB", argument="--file")
        return file.read_bytes()
    except OSError as exc:
        raise BadValue(f"{file}: {exc.strerror}", argument="--file") from exc


@desk_action("forward-reply")
def forward_reply(
    desk: Desk,
    ref: int | str,
    keys: OfficeKeys,
    *,
    received: str,
    summary: str = "",
    file: Path | None = None,
) -> Case:
    """Record the authority's reply to a forwarded case: the day it arrived (``received``, an
    ISO date, not after today nor before the case was forwarded) and its summary or scanned
    copy, sealed as a note; one transaction."""
    case = load_case(desk.db, ref)
    require(case, "forward-reply")
    day = parse_day(received, "--received")
    forwarded = forwarded_on(desk, case)
    if day > desk.today:
        raise BadValue(
            f"{day} is after today ({desk.today})", argument="--received", code="after_today"
        )
    if day < date.fromisoformat(forwarded):
        raise BadValue(
            f"{day} is before case {case.label} was forwarded ({forwarded})",
            argument="--received",
            code="before_forwarded",
            forwarded=forwarded,
        )
    text = clean_text(summary, "--summary", limit=MAX_NOTE, required=file is None)
    data = _read_file(file)
    note_ready(desk, case, keys)
    assert case.forward_reply_due is not None  # require(..., "forward-reply") checked it
    late = day.isoformat() > case.forward_reply_due
    with desk.transaction():
        note = write_note(
            desk,
            case,
            keys,
            "reply",
            text,
            reference=case.forwarded_to or "",
            file_name=file.name if file is not None else "",
            data=data,
        )
        updates = {"forward_reply_date": day.isoformat()}
        change(desk, case, "forward-reply-received", updates, {**note, "late": late})
    return load_case(desk.db, case.id)
