"""Which policy rule sets which deadline, and deadlines typed by staff (``--days``).

Policies name their rules freely; the desk looks for these codes, in order, for each stage:

======================  ============================================================
intake (register)       register_forward, accept_or_forward, acknowledge
handle (conclude)       handle, feedback
sign (sign for)         sign_for (a unit signs for an assigned case)
rework                  rework (a returned completion report is sent again)
forward                 feedback_external, handle, feedback (a forwarded case's authority)
acknowledge             acknowledge_real_name (acceptance notice, verified real name only)
inquiry                 inquiry_reply (reply to a 谈话函询 letter, from its delivery)
answer (real-name)      answer_real_name (verified real-name reports only)
second_answer           second_answer, answer_real_name, review_answer
review_window           review_request (how long the reporter may ask for a review)
rereview_window         rereview_request, review_request (after a review answer)
review / re_review      review_answer / rereview_answer
======================  ============================================================

A stage without a rule (``cn-jijian-2020`` sets handling deadlines case by case when a report
is assigned) needs ``--days`` from staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lianxin.domain.policy import Policy, Rule, Span, SpanUnit
from lianxin.domain.workcalendar import WorkCalendar
from lianxin.domain.workdays import Deadline, add_working_days, deadline_for

from .refusals import BadValue

STAGE_RULES: dict[str, tuple[str, ...]] = {
    "intake": ("register_forward", "accept_or_forward", "acknowledge"),
    "handle": ("handle", "feedback"),
    "sign": ("sign_for",),
    "rework": ("rework",),
    "forward": ("feedback_external", "handle", "feedback"),
    "acknowledge": ("acknowledge_real_name",),
    "inquiry": ("inquiry_reply",),
    "answer": ("answer_real_name",),
    "second_answer": ("second_answer", "answer_real_name", "review_answer"),
    "review": ("review_answer",),
    "review_window": ("review_request",),
    "rereview_window": ("rereview_request", "review_request"),
    "re_review": ("rereview_answer",),
}
MAX_MANUAL_DAYS = 365


@dataclass(frozen=True)
class Manual:
    """A deadline typed by staff: ``days`` of a kind after the start day."""

    days: int
    unit: SpanUnit

    @classmethod
    def parse(cls, days: int | None, unit: str) -> Manual | None:
        """From ``--days`` / ``--unit``; None when no ``--days`` was given."""
        if days is None:
            return None
        if not 1 <= days <= MAX_MANUAL_DAYS:
            raise BadValue(
                f"{days} is out of range (1..{MAX_MANUAL_DAYS})",
                argument="--days",
                code="out_of_range",
                low=1,
                high=MAX_MANUAL_DAYS,
            )
        if unit not in ("working", "calendar"):
            raise BadValue(f"{unit!r} is not 'working' or 'calendar'", argument="--unit")
        return cls(days, SpanUnit(unit))

    def after(self, start: date, calendar: WorkCalendar) -> Deadline:
        """The deadline ``days`` after ``start``."""
        if self.unit is SpanUnit.WORKING:
            return add_working_days(start, self.days, calendar=calendar)
        return Deadline(start + timedelta(days=self.days))

    def describe(self) -> str:
        """``30 working days``."""
        return str(Span(self.days, self.unit))


def stage_rule(policy: Policy, stage: str, *, real_name: str | None = None) -> Rule | None:
    """The policy's rule for ``stage`` (see the table above), or None if it has none.

    Rules marked ``real_name_only`` apply only to verified real-name reports."""
    codes = {r.code: r for r in policy.rules}
    for code in STAGE_RULES[stage]:
        rule = codes.get(code)
        if rule is None:
            continue
        if rule.real_name_only and real_name != "verified":
            continue
        return rule
    return None


def warning_window(policy: Policy, stage: str) -> Span:
    """How long before a ``stage`` deadline a case turns yellow."""
    rule = stage_rule(policy, stage, real_name="verified")
    return rule.warning if rule is not None else policy.warning


def rule_deadline(
    rule: Rule, start: date, calendar: WorkCalendar, *, extensions: int = 0
) -> Deadline:
    """``rule``'s deadline from ``start``."""
    return deadline_for(rule, start, extensions=extensions, calendar=calendar)


def uncertain(deadline: Deadline) -> int:
    """The register's ``due_uncertain`` flag for a deadline."""
    return 0 if deadline.certain else 1


def counts_working_days(policy: Policy) -> bool:
    """Whether the policy consults the working-day calendar at all (China, not the EU preset)."""
    spans = [policy.warning]
    for rule in policy.rules:
        spans += [rule.span, rule.warning] + ([rule.extension] if rule.extension else [])
    return policy.counting.roll_rest_day_end or any(s.unit is SpanUnit.WORKING for s in spans)
