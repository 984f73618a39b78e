"""Two duties with their own deadlines, recorded so the warnings can chase them.

受理告知: a verified real-name reporter is told whether the report is accepted, within the
policy's ``acknowledge_real_name`` rule (cn-jijian-2020: 15 working days of receipt; repeat
reports get no notice). The notice itself goes by phone, letter or in person; the desk records
that it was given and how. 函询回复: a 谈话函询 letter delivered to the person asked must be
answered within the ``inquiry_reply`` rule (15 working days of delivery); the desk records the
delivery and the reply. ``desk warnings`` lists both when near or past their deadlines.
"""

from __future__ import annotations

from datetime import date

from .cases import Case, load_case
from .changes import change
from .context import Desk
from .deadlines import rule_deadline, stage_rule
from .lifecycle import require
from .refusals import BadValue, Refused
from .roles import desk_action

HOW = ("phone", "letter", "visit", "sms")


@desk_action("acknowledge")
def acknowledge(desk: Desk, ref: int | str, how: str) -> Case:
    """Record the acceptance notice (受理告知) given to a real-name reporter."""
    case = load_case(desk.db, ref)
    require(case, "acknowledge")
    if how not in HOW:
        raise BadValue(
            f"{how!r} is not one of {', '.join(HOW)}", argument="--how", code="not_one_of"
        )
    if case.real_name not in ("claimed", "verified"):
        raise Refused(
            f"case {case.label} is anonymous: there is no contact to notify (the reporter"
            " follows the case on the status page)",
            code="anonymous_no_contact",
            case=case.label,
        )
    if case.acknowledged_date:
        raise Refused(
            f"case {case.label} was acknowledged on {case.acknowledged_date}",
            code="already_acknowledged",
            case=case.label,
            day=case.acknowledged_date,
        )
    late = late_notice(desk, case)
    with desk.transaction():
        updates = {"acknowledged_date": desk.today.isoformat()}
        change(desk, case, "acknowledged", updates, {"how": how, "late": late})
    return load_case(desk.db, case.id)


def late_notice(desk: Desk, case: Case) -> bool:
    """Whether an acceptance notice given today is past the policy's rule for it."""
    rule = stage_rule(desk.policy(case.policy), "acknowledge", real_name=case.real_name)
    if rule is None:
        return False
    due = rule_deadline(rule, date.fromisoformat(case.received_date), desk.calendar).due
    return desk.today > due


@desk_action("inquiry")
def inquiry_delivered(desk: Desk, ref: int | str) -> Case:
    """Record that a 谈话函询 letter reached the person asked: the reply is now due."""
    case = load_case(desk.db, ref)
    require(case, "inquiry")
    if case.inquiry_delivered and not case.inquiry_replied:
        raise Refused(
            f"case {case.label}: an inquiry delivered on {case.inquiry_delivered} awaits its"
            " reply (inquiry --replied)",
            code="inquiry_awaits_reply",
            case=case.label,
            day=case.inquiry_delivered,
        )
    with desk.transaction():
        updates = {"inquiry_delivered": desk.today.isoformat(), "inquiry_replied": None}
        change(desk, case, "inquiry-delivered", updates)
    return load_case(desk.db, case.id)


@desk_action("inquiry")
def inquiry_replied(desk: Desk, ref: int | str) -> Case:
    """Record the written reply to a 谈话函询 letter."""
    case = load_case(desk.db, ref)
    require(case, "inquiry")
    if not case.inquiry_delivered or case.inquiry_replied:
        raise Refused(
            f"case {case.label} has no inquiry awaiting a reply (inquiry --delivered first)",
            code="no_inquiry_out",
            case=case.label,
        )
    with desk.transaction():
        change(desk, case, "inquiry-replied", {"inquiry_replied": desk.today.isoformat()})
    return load_case(desk.db, case.id)
