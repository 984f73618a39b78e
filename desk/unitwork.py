"""The assigned unit's part of the loop and the office's check of it.

签收: a handler of the assigned unit signs for the case, within the policy's ``sign_for`` window
(counted from the assignment); a late signing is recorded as late, and until then the case is on
the slow-signing list (:mod:`desk.warnings`). 书面报告/办结报告: the unit's handler sends the
completion report, with the outcome it proposes; its text is sealed as a note. 审核: an approver
accepts the report, which concludes the case with that outcome, or returns it for rework with
reasons and a new deadline (the policy's ``rework`` rule, or ``--days``), which replaces the
handling deadline so the warnings chase it; a second report can then be accepted.
"""

from __future__ import annotations

import json
from typing import Any

from .answers import answer_due_columns, disposition_of, outcome_of
from .casekeys import desk_keys
from .cases import Case, load_case
from .changes import change, clear_tags
from .context import Desk
from .deadlines import Manual, rule_deadline, stage_rule, uncertain
from .lifecycle import require
from .notes import note_ready, write_note
from .officekeys import OfficeKeys
from .refusals import BadValue
from .roles import desk_action
from .values import clean_text


def _keys(desk: Desk, keys: OfficeKeys | None) -> OfficeKeys:
    return keys if keys is not None else desk_keys(desk)


@desk_action("sign-for")
def sign_for(desk: Desk, ref: int | str) -> Case:
    """签收: the assigned unit takes the case on; recorded as late after the signing deadline."""
    case = load_case(desk.db, ref)
    require(case, "sign-for")
    today = desk.today.isoformat()
    late = bool(case.sign_due and today > case.sign_due)
    with desk.transaction():
        updates = {"phase": "signed", "signed_date": today}
        change(desk, case, "signed-for", updates, {"sign_due": case.sign_due, "late": late})
    return load_case(desk.db, case.id)


@desk_action("report")
def submit_report(
    desk: Desk,
    ref: int | str,
    outcome: str,
    text: str,
    *,
    disposition: str | None = None,
    keys: OfficeKeys | None = None,
) -> Case:
    """书面报告/办结报告: the unit's completion report, with the outcome it proposes."""
    case = load_case(desk.db, ref)
    require(case, "report")
    outcome_of(desk, outcome, "conclusion", "--outcome")
    data: dict[str, Any] = {"outcome": outcome, "round": (case.report_returns or 0) + 1}
    if disposition is not None:
        data["disposition"] = disposition_of(desk, disposition)
    body = clean_text(text, "--text", required=True)
    office = _keys(desk, keys)
    note_ready(desk, case, office)
    late = bool(case.due_date and desk.today.isoformat() > case.due_date)
    with desk.transaction():
        note = write_note(desk, case, office, "report", body, reference="办结报告")
        updates = {"phase": "reported", "report_date": desk.today.isoformat()}
        change(desk, case, "report-submitted", updates, {**data, "late": late, **note})
    return load_case(desk.db, case.id)


def last_report(desk: Desk, case: Case) -> dict[str, Any]:
    """The event data of the case's latest completion report (its unit's, or a lower
    office's: :mod:`desk.linkwork`)."""
    row = desk.db.execute(
        "SELECT data FROM events WHERE case_id = ? AND type IN ('report-submitted',"
        " 'office-reported')"
        " ORDER BY seq DESC LIMIT 1",
        [case.id],
    ).fetchone()
    return dict(json.loads(row[0])) if row else {}


@desk_action("check")
def accept_report(
    desk: Desk, ref: int | str, comment: str = "", keys: OfficeKeys | None = None
) -> Case:
    """审核通过: accept the completion report; the case is concluded with its outcome."""
    case = load_case(desk.db, ref)
    require(case, "check")
    report = last_report(desk, case)
    text = clean_text(comment, "--comment", required=False)
    office = _keys(desk, keys)
    if text:
        note_ready(desk, case, office)
    updates: dict[str, Any] = {
        "state": "concluded",
        "phase": None,
        "concluded_date": desk.today.isoformat(),
        "outcome": report["outcome"],
    }
    updates.update(answer_due_columns(desk, case))
    data: dict[str, Any] = {
        k: report[k] for k in ("outcome", "disposition", "round") if k in report
    }
    with desk.transaction():
        note: dict[str, Any] = {}
        if text:
            note = write_note(desk, case, office, "reason", text, reference="审核 check")
        clear_tags(desk, case)
        change(desk, case, "report-accepted", updates, {**data, **note, "cleared_tags": True})
    return load_case(desk.db, case.id)


@desk_action("check")
def return_report(
    desk: Desk,
    ref: int | str,
    reason: str,
    *,
    manual: Manual | None = None,
    keys: OfficeKeys | None = None,
) -> Case:
    """审核退回: return the report for rework with reasons and a new deadline."""
    case = load_case(desk.db, ref)
    require(case, "check")
    text = clean_text(reason, "--reason", required=True)
    today = desk.today
    source: dict[str, Any]
    if manual is not None:
        deadline = manual.after(today, desk.calendar)
        source = {"manual": manual.describe(), "start": today.isoformat()}
    else:
        policy = desk.policy(case.policy)
        rule = stage_rule(policy, "rework")
        if rule is None:
            raise BadValue(
                f"policy {policy.name} sets no rework deadline: give --days N",
                argument="--days",
                code="need_days",
            )
        deadline = rule_deadline(rule, today, desk.calendar)
        source = {"rule": rule.code, "start": today.isoformat()}
    office = _keys(desk, keys)
    note_ready(desk, case, office)
    updates = {
        "phase": "rework",
        "report_returns": (case.report_returns or 0) + 1,
        "due_date": deadline.due.isoformat(),
        "due_uncertain": uncertain(deadline),
    }
    with desk.transaction():
        note = write_note(desk, case, office, "reason", text, reference="审核退回 returned")
        data = {"deadline": source, "previous_due": case.due_date, **note}
        change(desk, case, "report-returned", updates, data)
    return load_case(desk.db, case.id)
