"""The case lifecycle: states, the steps allowed in each, and refusals that list the next steps.

    received ─register─▶ accepted ─route --assign/--direct─▶ in_progress ─conclude─▶ concluded
       │ (out of scope:      │  └─route --forward─▶ forwarded ─conclude──────────────┘    │
       │  stays received)    └─not-accepted─▶ not_accepted                         answer │
       └─route --forward / not-accepted                                                  ▼
    answered ─close─▶ closed
    answered (not satisfied) ─review─▶ reviewing ─second-answer─▶ answered

A step is named the way staff type it (``route --assign``), so a refusal can say what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def _registered(case: Case) -> str | None:
    return None if case.registered else "it is not registered yet (register it first)"


def _has_due(case: Case) -> str | None:
    return None if case.due_date else "it has no deadline to extend"


def _unhappy(case: Case) -> str | None:
    if case.satisfaction != "not":
        return "the reporter has not said they are not satisfied"
    if case.review_kind == REVIEW_KINDS[-1]:
        return "a re-review (复核) was already given; the same matter is not reopened"
    return None


def _may_close(case: Case) -> str | None:
    if case.satisfaction == "not" and case.review_kind is None:
        return "the reporter is not satisfied: open a second answer or review first (review)"
    return None


def _always(case: Case) -> str | None:
    return None


@dataclass(frozen=True)
class Step:
    """A step staff can take, the states it is allowed in and any further condition."""

    name: str
    states: frozenset[str]
    condition: Callable[[Case], str | None] = _always


def _step(name: str, states: str, condition: Callable[[Case], str | None] = _always) -> Step:
    return Step(name, frozenset(states.split()), condition)


STEPS: dict[str, Step] = {
    s.name: s
    for s in (
        _step("register", "received accepted forwarded in_progress concluded answered reviewing"),
        _step("not-accepted", "received accepted", _registered),
        _step("route --assign", "accepted in_progress"),
        _step("route --direct", "accepted in_progress"),
        _step("route --forward", "received accepted in_progress", _registered),
        _step("extend", "forwarded in_progress", _has_due),
        _step("conclude", "forwarded in_progress"),
        _step("answer", "concluded"),
        _step("satisfaction", "answered closed"),
        _step("review", "answered", _unhappy),
        _step("second-answer", "reviewing"),
        _step("close", "answered", _may_close),
        _step("note", " ".join(STATES)),
    )
}


def allowed_steps(case: Case) -> list[str]:
    """The steps staff may take on ``case`` now, in lifecycle order."""
    return [s.name for s in STEPS.values() if case.state in s.states and s.condition(case) is None]


def require(case: Case, step: str) -> None:
    """Refuse ``step`` on ``case`` unless the lifecycle allows it, listing what is allowed."""
    rule = STEPS[step]
    if case.state not in rule.states:
        reason = f"it is {state_label(case.state)}"
    else:
        problem = rule.condition(case)
        if problem is None:
            return
        reason = problem
    raise IllegalTransition(f"cannot {step} case {case.label}: {reason}", allowed_steps(case))
