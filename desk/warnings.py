"""Three-colour warnings (红黄蓝) per handling unit, and the supervision list (督办单).

Each open case has one current deadline: registration (received, or accepted without a
handling deadline: the policy's intake rule from the received date), handling (``due_date``),
the real-name answer (concluded, ``answer_due``) or the review (``review_due``). Red: the
deadline has passed; yellow: it is within the policy's warning window; green: open, not yet
close; blue: concluded, answered, closed or not accepted (对账销号).

Slow signing (签收超时) is a list of its own: a case assigned to a unit that has not signed for
it (签收) is yellow within the policy's ``sign_for`` warning window and red once that deadline
has passed, whatever its handling deadline; the supervision list carries it in its own section.
The acceptance notice owed to a verified real-name reporter (受理告知, rule
``acknowledge_real_name``) and the reply owed to a 谈话函询 letter (rule ``inquiry_reply``) are a
third list, ``duties``, coloured the same way. A completion report returned for rework (退回重报)
is chased on its new deadline, stage
``rework``. A case forwarded to an authority outside Lianxin (转办) is a fourth list,
``replies``: every one whose reply is not recorded yet, green, yellow or red on the authority's
reply deadline (stage ``forward``), whatever the case's state, until ``forward-reply`` records
it; such a case is not listed again among the red and yellow cases.

Colours depend only on (deadline, window, today), so the counts read the register grouped by
those and each distinct deadline is coloured once, not a working-day count per case. The groups
are kept by the store's triggers as cases change (``case_counts``, migration 0010_counts): the
per-unit counts read a few thousand groups, not every case.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lianxin.domain.policy import SpanUnit
from lianxin.domain.workdays import Colour, add_working_days

from .cases import Case
from .context import Desk
from .deadlines import counts_working_days, rule_deadline, stage_rule, warning_window

NO_UNIT = "-"  # not yet routed, handled directly without a unit, or not accepted
_STAGE_OF_STATE = {
    "accepted": "handle",
    "in_progress": "handle",
    "forwarded": "handle",
    "concluded": "answer",
    "reviewing": "review",
}
# One row per (unit, state, policy, deadline, received date when the deadline is the intake one)
# with how many cases it holds, kept by triggers as cases change (migration 0010_counts; '' for
# none): the counts read a few thousand groups, not every case of the register.
_GROUPED = "SELECT unit_key, state, policy, due, intake_from, n FROM case_counts WHERE n > 0"


@dataclass(frozen=True)
class Flagged:
    """A red or yellow case."""

    case_id: int
    number: str | None
    unit: str
    state: str
    stage: str
    due: str
    colour: str
    days: int  # calendar days overdue (red) or left (yellow)
    uncertain: bool

    def as_dict(self) -> dict[str, Any]:
        """For JSON and CSV output."""
        return dict(self.__dict__)


@dataclass
class UnitCounts:
    """Colour counts for one handling unit."""

    unit: str
    red: int = 0
    yellow: int = 0
    green: int = 0
    blue: int = 0

    def as_dict(self) -> dict[str, Any]:
        """For JSON and CSV output."""
        return dict(self.__dict__)


@dataclass
class WarningReport:
    """Every unit's counts and the red and yellow cases, on ``today``."""

    today: date
    units: list[UnitCounts] = field(default_factory=list)
    flagged: list[Flagged] = field(default_factory=list)
    signing: list[Flagged] = field(default_factory=list)  # slow signing (签收超时)
    duties: list[Flagged] = field(default_factory=list)  # acceptance notices, inquiry replies
    replies: list[Flagged] = field(default_factory=list)  # forwarded, the authority's reply owed

    def totals(self) -> Counter[str]:
        """Counts per colour over all units."""
        total: Counter[str] = Counter()
        for u in self.units:
            total.update(red=u.red, yellow=u.yellow, green=u.green, blue=u.blue)
        return total


class _Colourer:
    """Colours deadlines for one ``today``; each (policy, stage, deadline) is worked out once."""

    def __init__(self, desk: Desk, today: date) -> None:
        self.desk, self.today = desk, today
        self._until: dict[tuple[str | None, str], date] = {}
        self._colours: dict[tuple[str | None, str, str], Colour] = {}
        self._intake: dict[tuple[str | None, str], tuple[str | None, bool]] = {}

    def yellow_until(self, policy_name: str | None, stage: str) -> date:
        """The last deadline that is yellow today (the day before today: no yellow)."""
        key = (policy_name, stage)
        if key not in self._until:
            window = warning_window(self.desk.policy(policy_name), stage)
            if window.count == 0:
                until = self.today - timedelta(days=1)
            elif window.unit is SpanUnit.WORKING:
                # Yellow while at most N working days are left: before the (N+1)-th one.
                after = add_working_days(self.today, window.count + 1, calendar=self.desk.calendar)
                until = after.due - timedelta(days=1)
            else:
                until = self.today + timedelta(days=window.count)
            self._until[key] = until
        return self._until[key]

    def colour(self, policy_name: str | None, stage: str, due: str) -> Colour:
        """Red, yellow or green for an open case's deadline."""
        key = (policy_name, stage, due)
        if key not in self._colours:
            day = date.fromisoformat(due)
            if day < self.today:
                colour = Colour.RED
            elif day <= self.yellow_until(policy_name, stage):
                colour = Colour.YELLOW
            else:
                colour = Colour.GREEN
            self._colours[key] = colour
        return self._colours[key]

    def intake_due(self, policy_name: str | None, received: str) -> tuple[str | None, bool]:
        """The registration deadline of a case received on ``received``, and its flag."""
        key = (policy_name, received)
        if key not in self._intake:
            rule = stage_rule(self.desk.policy(policy_name), "intake")
            if rule is None:
                self._intake[key] = (None, False)
            else:
                found = rule_deadline(rule, date.fromisoformat(received), self.desk.calendar)
                self._intake[key] = (found.due.isoformat(), not found.certain)
        return self._intake[key]

    def uncertain(self, policy_name: str | None, due: str) -> bool:
        """Whether a deadline falls in a year whose holiday notice is not known."""
        policy = self.desk.policy(policy_name)
        return counts_working_days(policy) and not self.desk.calendar.has_data(int(due[:4]))


class CaseColours:
    """The colour of single cases on the desk's today, as the warnings count them (listings)."""

    def __init__(self, desk: Desk) -> None:
        self._colourer = _Colourer(desk, desk.today)

    def of(self, case: Case) -> str:
        """red, yellow or green for an open case; blue once it is finished."""
        if case.state not in _STAGE_OF_STATE and case.state != "received":
            return Colour.BLUE.value
        due: str | None
        if case.state == "received" or (case.state == "accepted" and case.due_date is None):
            stage = "intake"
            due, _ = self._colourer.intake_due(case.policy, case.received_date)
        else:
            stage = _STAGE_OF_STATE[case.state]
            due = {"handle": case.due_date, "answer": case.answer_due, "review": case.review_due}[
                stage
            ]
        if due is None:  # as in the counts: concluded with no answer duty is done
            return Colour.BLUE.value if case.state == "concluded" else Colour.GREEN.value
        return self._colourer.colour(case.policy, stage, due).value


def unit_counts(
    desk: Desk, colourer: _Colourer | None = None
) -> tuple[dict[str, UnitCounts], set[str | None]]:
    """Every unit's colour counts (on the colourer's day, default the desk's) and the policies
    of the open cases."""
    colourer = colourer or _Colourer(desk, desk.today)
    units: dict[str, UnitCounts] = {}
    policies: set[str | None] = {None}
    for unit, state, stored_policy, stored_due, intake_from, count in desk.db.execute(_GROUPED):
        counts = units.setdefault(unit, UnitCounts(unit))
        if state not in _STAGE_OF_STATE and state != "received":  # finished: blue
            counts.blue += count
            continue
        policy: str | None = stored_policy or None
        due: str | None = stored_due or None
        policies.add(policy)
        stage = "intake" if intake_from else _STAGE_OF_STATE.get(state, "handle")
        if intake_from:
            due, _ = colourer.intake_due(policy, intake_from)
        if due is None:  # concluded with no answer duty: blue; open without a deadline: green
            if state == "concluded":
                counts.blue += count
            else:
                counts.green += count
            continue
        colour = colourer.colour(policy, stage, due)
        setattr(counts, colour.value, getattr(counts, colour.value) + count)
    return units, policies


def compute_warnings(desk: Desk, today: date | None = None) -> WarningReport:
    """Colour every case on ``today`` (default: the desk's clock)."""
    day = today or desk.today
    colourer = _Colourer(desk, day)
    units, policies = unit_counts(desk, colourer)
    report = WarningReport(day, sorted(units.values(), key=lambda u: u.unit))
    report.flagged = _flagged(desk, colourer, policies)
    report.signing = _slow_signing(desk, colourer, policies)
    report.duties = _duties(desk, colourer)
    report.replies = _replies(desk, colourer)
    return report


# Forwarded cases whose authority has not replied yet (the WHERE of 0011's partial index).
_REPLIES = """
SELECT id, number, forwarded_to, state, policy, forward_reply_due
FROM cases INDEXED BY cases_reply_owed
WHERE forward_reply_due IS NOT NULL AND forward_reply_date IS NULL
"""


def _replies(desk: Desk, colourer: _Colourer) -> list[Flagged]:
    """Every forwarded case still owed its authority's reply, coloured on the reply deadline."""
    out = []
    for cid, number, authority, state, policy, due in desk.db.execute(_REPLIES):
        colour = colourer.colour(policy, "forward", due)
        days = abs((date.fromisoformat(due) - colourer.today).days)
        uncertain = colourer.uncertain(policy, due)
        out.append(
            Flagged(cid, number, authority or NO_UNIT, state, "forward", due, colour.value, days,
                    uncertain)
        )  # fmt: skip
    order = {"red": 0, "yellow": 1, "green": 2}
    out.sort(key=lambda f: (order[f.colour], f.due, f.case_id))
    return out


# Verified real-name reporters not yet told whether the report is accepted, while the case is
# under way (repeat reports get no notice; once concluded, the answer tells them), and 谈话函询
# letters delivered and not yet answered. Each WHERE is that of a partial index (0009_loop).
_DUTIES = """
SELECT 'acknowledge', id, number, COALESCE(unit, forwarded_to, '-'), state, policy,
       received_date FROM cases INDEXED BY cases_notice_owed
WHERE real_name = 'verified' AND acknowledged_date IS NULL AND repeat_of IS NULL
  AND state IN ('received', 'accepted', 'forwarded', 'in_progress')
UNION ALL
SELECT 'inquiry', id, number, COALESCE(unit, forwarded_to, '-'), state, policy, inquiry_delivered
FROM cases INDEXED BY cases_inquiry_open
WHERE inquiry_delivered IS NOT NULL AND inquiry_replied IS NULL
"""


def _duties(desk: Desk, colourer: _Colourer) -> list[Flagged]:
    """The acceptance notices and inquiry replies near or past their deadlines."""
    out = []
    dues: dict[tuple[str, str | None, str], tuple[str, bool] | None] = {}
    for stage, cid, number, unit, state, policy, start in desk.db.execute(_DUTIES):
        key = (stage, policy, start)
        if key not in dues:  # one working-day count per (duty, policy, start day)
            rule = stage_rule(desk.policy(policy), stage, real_name="verified")
            found = rule_deadline(rule, date.fromisoformat(start), desk.calendar) if rule else None
            dues[key] = (found.due.isoformat(), not found.certain) if found else None
        entry = dues[key]
        if entry is None:
            continue
        due, provisional = entry
        colour = colourer.colour(policy, stage, due)
        if colour not in (Colour.RED, Colour.YELLOW):
            continue
        days = abs((date.fromisoformat(due) - colourer.today).days)
        uncertain = provisional or colourer.uncertain(policy, due)
        out.append(Flagged(cid, number, unit, state, stage, due, colour.value, days, uncertain))
    out.sort(key=lambda f: (f.colour != "red", f.due, f.case_id))
    return out


_SIGNING = """
SELECT id, number, unit, policy, sign_due FROM cases
WHERE phase = 'assigned' AND state = 'in_progress' AND sign_due <= :until
"""


def _slow_signing(desk: Desk, colourer: _Colourer, policies: set[str | None]) -> list[Flagged]:
    """Assigned cases not signed for (签收) near or past their signing deadline."""
    until = max(colourer.yellow_until(p, "sign") for p in policies)
    out = []
    for cid, number, unit, policy, due in desk.db.execute(_SIGNING, {"until": until.isoformat()}):
        colour = colourer.colour(policy, "sign", due)
        if colour not in (Colour.RED, Colour.YELLOW):
            continue
        days = abs((date.fromisoformat(due) - colourer.today).days)
        uncertain = colourer.uncertain(policy, due)
        out.append(
            Flagged(cid, number, unit, "in_progress", "sign", due, colour.value, days, uncertain)
        )
    out.sort(key=lambda f: (f.colour != "red", f.due, f.case_id))
    return out


_FLAGGED = """
SELECT id, number, COALESCE(unit, forwarded_to, '-'), state, policy, received_date, due_date,
       answer_due, review_due, due_uncertain, phase,
       state = 'forwarded' AND forward_reply_due IS NOT NULL AND forward_reply_date IS NULL
FROM cases WHERE (state IN ('accepted', 'in_progress', 'forwarded') AND due_date <= :until)
   OR (state = 'concluded' AND answer_due <= :until)
   OR (state = 'reviewing' AND review_due <= :until)
   OR state = 'received' OR (state = 'accepted' AND due_date IS NULL)
"""


def _flagged(desk: Desk, colourer: _Colourer, policies: set[str | None]) -> list[Flagged]:
    stages = ("intake", "handle", "answer", "review")
    until = max(colourer.yellow_until(p, s) for p in policies for s in stages)
    out = []
    rows = desk.db.execute(_FLAGGED, {"until": until.isoformat()})
    for row in rows:
        cid, number, unit, state, policy, received, due_date, answer_due, review_due = row[:9]
        flag, phase, awaits_reply = row[9], row[10], row[11]
        if awaits_reply:  # chased in the list of replies owed
            continue
        stage = _STAGE_OF_STATE.get(state, "intake")
        due = {"handle": due_date, "answer": answer_due, "review": review_due}.get(stage)
        uncertain = bool(flag) if stage == "handle" else False
        if state == "received" or (state == "accepted" and due_date is None):
            stage = "intake"
            due, uncertain = colourer.intake_due(policy, received)
        if due is None:
            continue
        colour = colourer.colour(policy, stage, due)
        if colour not in (Colour.RED, Colour.YELLOW):
            continue
        days = (date.fromisoformat(due) - colourer.today).days
        out.append(
            Flagged(
                cid,
                number,
                unit,
                state,
                "rework" if phase == "rework" else stage,
                due,
                colour.value,
                abs(days),
                uncertain or colourer.uncertain(policy, due),
            )
        )
    out.sort(key=lambda f: (f.colour != "red", f.due, f.case_id))
    return out
