"""Routing (分流): assign (交办), forward (转办), handle directly (直查快办), and extensions.

The deadline comes from the case's policy (its handling rule) or, where the policy sets none
(``cn-jijian-2020`` leaves it to the assigning office), from ``--days``. The event records which
rule and start day the deadline came from, so an extension can recompute it under the same rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from lianxin.domain.workdays import Deadline

from .cases import Case, load_case
from .changes import change
from .context import Desk
from .deadlines import Manual, rule_deadline, stage_rule, uncertain
from .lifecycle import follows_proposal, require
from .officekeys import OfficeKeys
from .refusals import BadValue, Refused
from .roles import desk_action
from .values import clean_text

MODES = ("assign", "forward", "direct")
MAX_AUTHORITY = 100


@dataclass(frozen=True)
class Route:
    """Where a case goes: ``mode`` and the unit (assign, direct) or authority (forward)."""

    mode: str
    unit: str | None = None
    to: str | None = None  # forward: a unit code of the list, or a named authority (to_name)
    to_name: str | None = None
    manual: Manual | None = None


def known_unit(desk: Desk, code: str, kind: str, argument: str) -> str:
    """``code`` if it is a unit of the list of that kind (internal, external); else refused."""
    unit = desk.taxonomy.units.get(code)
    if unit is None:
        raise BadValue(
            f"unknown unit {code!r} (in {desk.taxonomy.units.source})",
            argument=argument,
            code="unknown_code",
        )
    if unit.kind != kind:
        raise BadValue(
            f"{code!r} is an {unit.kind} unit, not {kind}", argument=argument, code="unknown_code"
        )
    return code


def _target(desk: Desk, route: Route) -> dict[str, Any]:
    if route.mode not in MODES:
        raise BadValue(
            f"{route.mode!r} is not one of {', '.join(MODES)}", argument="--mode", code="not_one_of"
        )
    if route.mode == "forward":
        if route.unit:
            raise BadValue(
                "a forwarded case goes to --to, not to a unit",
                argument="--unit",
                code="not_for_this",
            )
        if bool(route.to) == bool(route.to_name):
            raise BadValue(
                "name the competent authority: --to CODE or --to-name TEXT",
                argument="--to",
                code="one_authority",
            )
        if route.to:
            return {"unit": None, "forwarded_to": known_unit(desk, route.to, "external", "--to")}
        name = clean_text(route.to_name, "--to-name", limit=MAX_AUTHORITY, required=True)
        return {"unit": None, "forwarded_to": name}
    if route.to or route.to_name:
        raise BadValue(
            "only a forwarded case goes to an authority", argument="--to", code="not_for_this"
        )
    # The unit of an assignment is given as --assign UNIT; of direct handling as --unit.
    argument = "--assign" if route.mode == "assign" else "--unit"
    if route.mode == "assign" and not route.unit:
        raise BadValue("name the handling unit to assign to", argument=argument, code="empty")
    unit = known_unit(desk, route.unit, "internal", argument) if route.unit else None
    return {"unit": unit, "forwarded_to": None}


def _deadline(desk: Desk, case: Case, route: Route) -> tuple[dict[str, Any], dict[str, Any]]:
    """The deadline columns and the event's record of where they came from."""
    today = desk.today
    if route.manual is not None:
        deadline = route.manual.after(today, desk.calendar)
        source: dict[str, Any] = {"manual": route.manual.describe(), "start": today.isoformat()}
    elif case.due_date and case.state != "received":
        return {}, {}  # set at acceptance, or re-routing: the deadline stands
    else:
        policy = desk.policy(case.policy)
        stage = "forward" if route.mode == "forward" else "handle"
        rule = stage_rule(policy, stage, real_name=case.real_name)
        if rule is None:
            raise BadValue(
                f"policy {policy.name} sets no handling deadline (it is set case by case): "
                "give --days N (working days; add --calendar for calendar days)",
                argument="--days",
                code="need_days",
            )
        start = date.fromisoformat(case.accepted_date) if case.accepted_date else today
        if route.mode == "forward":  # the authority's feedback, from the acknowledgement
            start = today
            if rule.start_event == "acknowledged" and case.acknowledged_date:
                start = date.fromisoformat(case.acknowledged_date)
        deadline = rule_deadline(rule, start, desk.calendar)
        source = {"rule": rule.code, "start": start.isoformat()}
    columns = {"due_date": deadline.due.isoformat(), "due_uncertain": uncertain(deadline)}
    if route.manual is not None or case.state == "received":
        columns["extensions"] = 0
    return columns, {"deadline": source}


def _signing(desk: Desk, case: Case, route: Route) -> dict[str, Any]:
    """An assigned case waits for its unit to sign for it (签收), by the policy's ``sign_for``
    rule when it has one; other routes need no signing."""
    out: dict[str, Any] = {"phase": None, "sign_due": None, "signed_date": None}
    if route.mode != "assign":
        return out if case.phase or case.sign_due else {}
    rule = stage_rule(desk.policy(case.policy), "sign")
    due = rule_deadline(rule, desk.today, desk.calendar).due.isoformat() if rule else None
    return {"phase": "assigned", "sign_due": due, "signed_date": None, "report_date": None}


@desk_action("route")
def route(desk: Desk, ref: int | str, route: Route) -> Case:
    """Assign, forward or handle directly, with the deadline; one transaction."""
    case = load_case(desk.db, ref)
    require(case, f"route --{route.mode}" if route.mode in MODES else "route --assign")
    target = _target(desk, route)
    follows_proposal(case, route.mode)
    columns, source = _deadline(desk, case, route)
    state = "forwarded" if route.mode == "forward" else "in_progress"
    updates = {"state": state, "route": route.mode, **target, **columns}
    updates.update(_signing(desk, case, route))
    kind = {"assign": "assigned", "forward": "forwarded", "direct": "handled-directly"}[route.mode]
    if case.state == "in_progress":
        kind = "rerouted"
    with desk.transaction():
        from .scope import rescope

        scope = rescope(desk, case, target["unit"])
        change(desk, case, kind, updates, {**source, **scope})
    return load_case(desk.db, case.id)


def _deadline_source(desk: Desk, case: Case) -> dict[str, Any]:
    rows = desk.db.execute(
        "SELECT data FROM events WHERE case_id = ? ORDER BY seq DESC", [case.id]
    ).fetchall()
    for (data,) in rows:
        doc = json.loads(data)
        if "deadline" in doc:
            return dict(doc["deadline"])
    return {}


@desk_action("extend")
def extend(
    desk: Desk, ref: int | str, keys: OfficeKeys, reason: str, manual: Manual | None = None
) -> Case:
    """Extend the handling deadline with a reason (sealed as a note); one transaction."""
    from .notes import note_ready, write_note

    case = load_case(desk.db, ref)
    require(case, "extend")
    text = clean_text(reason, "--reason", required=True)
    source = _deadline_source(desk, case)
    count = (case.extensions or 0) + 1
    deadline: Deadline
    if "rule" in source:
        rule = desk.policy(case.policy).rule(str(source["rule"]))
        if manual is not None:
            raise BadValue(
                f"the deadline follows rule {rule.code}: drop --days",
                argument="--days",
                code="rule_sets_days",
            )
        if count > rule.max_extensions:
            raise Refused(
                f"rule {rule.code} of policy {desk.policy(case.policy).name} allows "
                f"{rule.max_extensions} extension(s); case {case.label} has had {count - 1}",
                code="no_more_extensions",
                allowed=rule.max_extensions,
                case=case.label,
            )
        start = date.fromisoformat(str(source["start"]))
        deadline = rule_deadline(rule, start, desk.calendar, extensions=count)
    else:
        if manual is None:
            raise BadValue(
                "this deadline was set by hand: give --days N", argument="--days", code="need_days"
            )
        assert case.due_date is not None  # require(..., "extend") checked it
        deadline = manual.after(date.fromisoformat(case.due_date), desk.calendar)
    note_ready(desk, case, keys)
    updates = {
        "due_date": deadline.due.isoformat(),
        "due_uncertain": uncertain(deadline),
        "extensions": count,
    }
    with desk.transaction():
        note = write_note(desk, case, keys, "reason", text)
        change(desk, case, "extended", updates, note)
    return load_case(desk.db, case.id)
