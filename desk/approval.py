"""Screening (甄别) and approval (审批): the registrar proposes, the approver decides.

The registrar reads a registered case and proposes what to do with it: assign it to a unit
(交办), forward it out of scope (转办), handle it directly (直查快办) or not accept it, with a
disposition of the lead where one applies (谈话函询, 初步核实, …) and an opinion, sealed as a
note. The approver approves the proposal, which the next routing must then follow, or returns it
with reasons, and the registrar screens again. A case nobody screened can still be routed by an
approver: the short path of an office of one or two people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .answers import disposition_of
from .casekeys import desk_keys
from .cases import Case, load_case
from .changes import change
from .context import Desk
from .lifecycle import require
from .notes import note_ready, write_note
from .officekeys import OfficeKeys
from .refusals import BadValue
from .roles import desk_action
from .routing import MAX_AUTHORITY, known_unit
from .values import clean_text

PROPOSALS = ("assign", "forward", "direct", "not_accepted")


@dataclass(frozen=True)
class Proposal:
    """The registrar's proposed disposition (拟办意见)."""

    mode: str  # one of PROPOSALS
    opinion: str  # why (sealed as a note)
    unit: str | None = None  # assign, direct: the unit
    to: str | None = None  # forward: an external unit code or the authority's name
    disposition: str | None = None  # a disposition code (dispositions.yaml, stage disposition)


def _checked(desk: Desk, case: Case, p: Proposal) -> dict[str, Any]:
    if p.mode not in PROPOSALS:
        raise BadValue(
            f"{p.mode!r} is not one of {', '.join(PROPOSALS)}",
            argument="--propose",
            code="not_one_of",
        )
    out: dict[str, Any] = {"mode": p.mode}
    if p.mode == "assign" and not p.unit:
        raise BadValue("name the unit to assign to", argument="--unit", code="empty")
    if p.unit:
        if p.mode not in ("assign", "direct"):
            raise BadValue(
                f"a {p.mode} proposal names no unit", argument="--unit", code="not_for_this"
            )
        out["unit"] = known_unit(desk, p.unit, "internal", "--unit")
    if p.mode == "forward":
        if not p.to:
            raise BadValue(
                "name the competent authority to forward to", argument="--to", code="empty"
            )
        if p.to in desk.taxonomy.units:
            out["to"] = known_unit(desk, p.to, "external", "--to")
        else:
            out["to"] = clean_text(p.to, "--to", limit=MAX_AUTHORITY, required=True)
    elif p.to:
        raise BadValue(
            "only a forward proposal names an authority", argument="--to", code="not_for_this"
        )
    if p.disposition is not None:
        out["disposition"] = disposition_of(desk, p.disposition)
    return out


def _keys(desk: Desk, keys: OfficeKeys | None) -> OfficeKeys:
    return keys if keys is not None else desk_keys(desk)


@desk_action("screen")
def screen(desk: Desk, ref: int | str, proposal: Proposal, keys: OfficeKeys | None = None) -> Case:
    """甄别: propose a disposition for the approver; the opinion is sealed as a note."""
    case = load_case(desk.db, ref)
    require(case, "screen")
    checked = _checked(desk, case, proposal)
    text = clean_text(proposal.opinion, "--opinion", required=True)
    office = _keys(desk, keys)
    note_ready(desk, case, office)
    with desk.transaction():
        note = write_note(desk, case, office, "reason", text, reference="甄别 screening")
        updates = {"phase": "screened", "proposal": proposal.mode}
        change(desk, case, "screened", updates, {"proposal": checked, **note})
    return load_case(desk.db, case.id)


@desk_action("approve")
def approve(desk: Desk, ref: int | str, comment: str = "", keys: OfficeKeys | None = None) -> Case:
    """审批: approve the proposal (an optional comment is sealed as a note)."""
    case = load_case(desk.db, ref)
    require(case, "approve")
    text = clean_text(comment, "--comment", required=False)
    office = _keys(desk, keys)
    if text:
        note_ready(desk, case, office)
    with desk.transaction():
        note: dict[str, Any] = {}
        if text:
            note = write_note(desk, case, office, "reason", text, reference="审批 approval")
        data = {"proposal": case.proposal, **note}
        change(desk, case, "proposal-approved", {"phase": "approved"}, data)
    return load_case(desk.db, case.id)


@desk_action("approve")
def return_proposal(
    desk: Desk, ref: int | str, reason: str, keys: OfficeKeys | None = None
) -> Case:
    """审批退回: return the proposal to the registrar with reasons (sealed as a note)."""
    case = load_case(desk.db, ref)
    require(case, "approve --return")
    text = clean_text(reason, "--reason", required=True)
    office = _keys(desk, keys)
    note_ready(desk, case, office)
    with desk.transaction():
        note = write_note(desk, case, office, "reason", text, reference="审批退回 returned")
        data = {"proposal": case.proposal, **note}
        change(desk, case, "proposal-returned", {"phase": "returned"}, data)
    return load_case(desk.db, case.id)
