"""Offline intake (来信 / 来访 / 来电 / 诉求箱): a report that did not come through the gateway.

Staff type the report (or give the same JSON document a reporter would submit online); it is
validated like an online report, sealed to the office's current public key and signed with a
one-time key exactly as a browser would, and stored as the case's report submission, already
opened. A tracking token is generated the way the gateway does (``Token.generate()``), its
derived public values go into the same ``tokens`` table, and the token itself is returned once
to be printed on the slip handed to the reporter; it is never stored. The report's record
(``sent``: its title and date, sealed to the token) is published with the token's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from nacl.public import PublicKey
from nacl.signing import SigningKey

from lianxin.protocol import Attachment, PayloadError, Token, seal_report, validate_report
from lianxin.store.records import bind_token_keys, insert_submission, new_case

from .context import Desk
from .officekeys import OfficeKeys
from .refusals import BadValue
from .roles import desk_action
from .sent import record_sent

# How a report field is typed on the command line, for refusals that name the argument.
FIELD_OPTIONS = {
    "identity.name": "--name",
    "identity.contact": "--contact",
    "identity.id_number": "--id-number",
    "identity": "--name",
    "reported.name": "--reported-name",
    "reported.unit": "--reported-unit",
    "reported.post": "--reported-post",
    "reported.rank": "--rank",
    "region": "--region",
    "problem_type": "--problem-type",
    "title": "--title",
    "text": "--text",
}


@dataclass(frozen=True, repr=False)
class Slip:
    """What the reporter is handed. ``token`` is shown once and never stored."""

    case_id: int
    channel: str
    received_date: str
    token: Token

    def __repr__(self) -> str:
        return f"Slip(case={self.case_id}, token=<redacted>)"


def _argument(exc: PayloadError) -> str:
    field = str(exc).split(":", 1)[0]
    if field.startswith("attachments["):
        return "--attach"
    return FIELD_OPTIONS.get(field, "--report")


@desk_action("intake")
def intake(
    desk: Desk,
    keys: OfficeKeys,
    doc: dict[str, Any],
    *,
    channel: str,
    received: date | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> Slip:
    """Register the arrival of an offline report and issue its token; one transaction."""
    if channel not in desk.taxonomy.channels:
        codes = ", ".join(desk.taxonomy.channels.codes())
        raise BadValue(
            f"unknown channel {channel!r} ({codes})", argument="--channel", code="unknown_code"
        )
    if channel == "online":
        raise BadValue(
            "online reports come through the gateway", argument="--channel", code="online_intake"
        )
    day = received or desk.today
    if day > desk.today:
        raise BadValue(
            f"{day.isoformat()} is after today", argument="--received", code="after_today"
        )
    key = keys.sealing_key()
    full = {"schema": "lianxin/report/v1", **doc}
    try:
        envelope = seal_report(
            full,
            attachments,
            office_key=PublicKey(key.public_key),
            office_key_id=key.key_id,
            client_key=SigningKey.generate(),
        )
    except PayloadError as exc:
        raise BadValue(
            str(exc).split(": ", 1)[-1], argument=_argument(exc), code="report_field"
        ) from exc
    token = Token.generate()
    derived = token.keys()
    received_iso, today = day.isoformat(), desk.today.isoformat()
    with desk.transaction():
        case_id = new_case(desk.db, channel, received_iso)
        insert_submission(desk.db, envelope, case_id, received_iso, opened_at=today)
        bind_token_keys(desk.db, case_id, derived, today)
        files = [a.describe() for a in attachments]
        sent = record_sent(
            desk, case_id, validate_report(full) | {"attachments": files}, received_iso
        )
        desk.event(
            case_id,
            "received",
            {
                "channel": channel,
                "receipt_id": envelope.receipt_id.hex(),
                "received": received_iso,
                "sent": sent,
            },
        )
    return Slip(case_id, channel, received_iso, token)


def report_from_options(
    *,
    title: str,
    text: str,
    reported_name: str,
    reported_unit: str = "",
    reported_post: str = "",
    rank: str = "",
    region: str = "",
    problem_type: str = "",
    real_name: bool = False,
    name: str = "",
    contact: str = "",
    id_number: str = "",
) -> dict[str, Any]:
    """A report document from the intake form's fields."""
    doc: dict[str, Any] = {
        "real_name": real_name,
        "reported": {
            "name": reported_name,
            "unit": reported_unit,
            "post": reported_post,
            "rank": rank,
        },
        "region": region,
        "problem_type": problem_type,
        "title": title,
        "text": text,
    }
    if real_name:
        doc["identity"] = {"name": name, "contact": contact, "id_number": id_number}
    elif name or contact or id_number:
        raise BadValue(
            "an anonymous report carries no identity: add --real-name", "--name", code="anonymous"
        )
    return doc
