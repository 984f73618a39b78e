"""The case lifecycle: states, the steps allowed in each, and refusals that list the next steps.

The office loop (issue 11) adds steps within states, recorded in the ``phase`` column so that
the states the reporter and the published figures see do not change:

    accepted (or received, out of scope) ─screen─▶ screened ─approve─▶ approved ─route/not-accepted
                                                      └─approve --return─▶ returned ─screen─▶ …
    in_progress (route --assign) = assigned ─sign-for─▶ signed ─report─▶ reported
        reported ─check --accept─▶ concluded;  reported ─check --return─▶ rework ─report─▶ reported

A case that was never screened may still be routed by an approver (the existing short path);
``conclude`` stays the office's own conclusion of a case it handles.

    received ─register─▶ accepted ─route --assign/--direct─▶ in_progress ─conclude─▶ concluded
       │ (out of scope:      │  └─route --forward─▶ forwarded ─conclude──────────────┘    │
       │  stays received)    └─not-accepted─▶ not_accepted                         answer │
       └─route --forward / not-accepted                                                  ▼
    answered ─close─▶ closed (not before the policy's review window has passed, unless the
                             reporter is satisfied)
    answered or closed (not satisfied, within the window) ─review─▶ reviewing ─second-answer─▶
    answered

A step is named the way staff type it (``route --assign``), so a refusal can say what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cases import Case
from .refusals import IllegalTransition

STATES: dict[str, tuple[str, str]] = {
    "received": ("已收到", "received"),
    "accepted": ("已受理", "accepted"),
    "not_accepted": ("不予受理", "not accepted"),
    "forwarded": ("已转办", "forwarded"),
    "in_progress": ("办理中", "in progress"),
    "concluded": ("已办结", "concluded"),
    "answered": ("已反馈", "answered"),
    "reviewing": ("复查中", "under review"),
    "closed": ("已结案", "closed"),
}
PHASES: dict[str, tuple[str, str]] = {
    "screened": ("已甄别待审批", "screened, proposal awaiting approval"),
    "approved": ("已审批", "proposal approved"),
    "returned": ("审批退回", "proposal returned"),
    "assigned": ("待签收", "awaiting signing for"),
    "signed": ("已签收", "signed for"),
    "reported": ("办结报告待审核", "completion report awaiting the check"),
    "rework": ("退回重报", "completion report returned for rework"),
}
OPEN_STATES = ("received", "accepted", "forwarded", "in_progress", "concluded", "reviewing")
REVIEW_KINDS = ("second_answer", "review", "re_review")  # each may follow only an earlier one
REVIEW_LABELS = {
    "second_answer": ("二次反馈", "second answer"),
    "review": ("复查", "review"),
    "re_review": ("复核", "re-review"),
}


def state_label(state: str) -> str:
    """``已受理 accepted``."""
    zh, en = STATES.get(state, (state, state))
    return f"{zh} {en}"


def case_stage(case: Case) -> str:
    """``办理中 in progress (待签收 awaiting signing for)``: the state and the loop step."""
    label = state_label(case.state)
    if case.phase in PHASES:
        zh, en = PHASES[case.phase]
        label += f" ({zh} {en})"
    return label


@dataclass(frozen=True)
class Why:
    """Why a step is not allowed now: a stable ``code`` (the web desk words it from its
    catalogue), the English ``text`` the CLI prints, and the ``params`` that fill it."""

    code: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


def _registered(case: Case) -> Why | None:
    if case.registered:
        return None
    return Why("not_registered", "it is not registered yet (register it first)")


def _has_due(case: Case) -> Why | None:
    return None if case.due_date else Why("no_deadline", "it has no deadline to extend")


def _unhappy(case: Case) -> Why | None:
    if case.satisfaction != "not":
        return Why("not_unhappy", "the reporter has not said they are not satisfied")
    if case.review_kind == REVIEW_KINDS[-1]:
        return Why(
            "re_reviewed", "a re-review (复核) was already given; the same matter is not reopened"
        )
    return None


def _may_close(case: Case) -> Why | None:
    if case.satisfaction == "not" and case.review_kind is None:
        return Why(
            "unhappy",
            "the reporter is not satisfied: open a second answer or review first (review)",
        )
    return None


def _not_pending(case: Case) -> Why | None:
    if case.phase == "screened":
        return Why(
            "awaits_approval", "its proposal awaits approval (approve, or approve --return, first)"
        )
    if case.phase == "returned":
        return Why("proposal_returned", "its proposal was returned (screen it again first)")
    return None


def _registered_not_pending(case: Case) -> Why | None:
    return _registered(case) or _not_pending(case)


def _may_screen(case: Case) -> Why | None:
    if case.phase not in (None, "returned", "approved"):
        return Why(
            "already_phase",
            f"it is already {PHASES[case.phase][1]} (screening comes before routing)",
            {"phase": case.phase},
        )
    return _registered(case)


def _phase(*wanted: str | None) -> Callable[[Case], Why | None]:
    def check(case: Case) -> Why | None:
        if case.phase in wanted:
            return None
        needed = " or ".join(PHASES[w][1] if w else "not yet assigned" for w in wanted)
        return Why("needs_phase", f"it needs to be {needed}", {"phases": wanted})

    return check


def _may_report(case: Case) -> Why | None:
    if case.phase == "assigned":
        return Why("not_signed", "its unit has not signed for it yet (sign-for first)")
    if case.phase == "reported":
        return Why(
            "report_waiting", "a completion report already awaits the office's check (check)"
        )
    if case.phase is None:
        return Why(
            "nobody_signed",
            "no unit signed for it (a report follows route --assign and sign-for)",
        )
    return None


def _may_conclude(case: Case) -> Why | None:
    if case.phase == "reported":
        return Why(
            "report_to_check",
            "its unit's completion report awaits the check (check --accept or --return)",
        )
    return None


def follows_proposal(case: Case, mode: str) -> None:
    """Refuse a routing (or not accepting) other than the one the approver approved."""
    if case.phase == "approved" and case.proposal and case.proposal != mode:
        step = "not-accepted" if case.proposal == "not_accepted" else f"route --{case.proposal}"
        asked = "not-accepted" if mode == "not_accepted" else f"route --{mode}"
        why = Why(
            "not_the_proposal",
            f"the approved proposal is {step} (take it, or screen again)",
            {"proposal": step},
        )
        raise IllegalTransition(
            f"cannot {asked} case {case.label}: {why}",
            allowed_steps(case),
            step=asked,
            case=case.label,
            why=why,
        )


def _always(case: Case) -> Why | None:
    return None


@dataclass(frozen=True)
class Step:
    """A step staff can take, the states it is allowed in and any further condition."""

    name: str
    states: frozenset[str]
    condition: Callable[[Case], Why | None] = _always


def _step(name: str, states: str, condition: Callable[[Case], Why | None] = _always) -> Step:
    return Step(name, frozenset(states.split()), condition)


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        _step("register", "received accepted forwarded in_progress concluded answered reviewing"),
        _step("screen", "received accepted", _may_screen),
        _step("approve", "received accepted", _phase("screened")),
        _step("approve --return", "received accepted", _phase("screened")),
        _step("not-accepted", "received accepted", _registered_not_pending),
        _step("route --assign", "accepted in_progress", _not_pending),
        _step("route --direct", "accepted in_progress", _not_pending),
        _step("route --forward", "received accepted in_progress", _registered_not_pending),
        _step("sign-for", "in_progress", _phase("assigned")),
        _step("report", "in_progress", _may_report),
        _step("check", "in_progress", _phase("reported")),
        _step("extend", "forwarded in_progress", _has_due),
        _step("conclude", "forwarded in_progress", _may_conclude),
        _step("answer", "concluded"),
        _step("satisfaction", "answered closed"),
        _step("review", "answered closed", _unhappy),
        _step("second-answer", "reviewing"),
        _step("close", "answered", _may_close),
        _step("note", " ".join(STATES)),
        _step("supervise", "accepted forwarded in_progress concluded reviewing"),
        _step("acknowledge", "received accepted not_accepted forwarded in_progress", _registered),
        _step("inquiry", "in_progress"),
        _step("message", " ".join(STATES)),
    )
}


def allowed_steps(case: Case) -> list[str]:
    """The steps staff may take on ``case`` now, in lifecycle order."""
    return [s.name for s in STEPS.values() if case.state in s.states and s.condition(case) is None]


def require(case: Case, step: str) -> None:
    """Refuse ``step`` on ``case`` unless the lifecycle allows it, listing what is allowed."""
    rule = STEPS[step]
    if case.state not in rule.states:
        reason = Why(
            "in_state", f"it is {case_stage(case)}", {"state": case.state, "phase": case.phase}
        )
    else:
        problem = rule.condition(case)
        if problem is None:
            return
        reason = problem
    raise IllegalTransition(
        f"cannot {step} case {case.label}: {reason}",
        allowed_steps(case),
        step=step,
        case=case.label,
        why=reason,
    )
