"""Concluding a case and answering the reporter; satisfaction, second answers, reviews, closing.

An answer is sealed with :func:`lianxin.protocol.seal_answer_for_reporter` to the reply key of
*every* token of the case (a retried online report or a reissued slip gives a case more than
one), so whoever holds any of its tokens can read it once the portal is published; the office
keeps its own copy as a sealed note. The answer document is::

    {"schema": "lianxin/answer/v1", "kind": "answer" | "second_answer" | "review",
     "number": "2026-000012", "date": "2026-03-09", "outcome": "partly",
     "outcome_zh": "部分属实", "outcome_en": "Partly substantiated", "text": "…", "attachments": []}
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lianxin.protocol import seal_answer_for_reporter
from lianxin.protocol.documents import RATINGS

from .cases import Case, load_case
from .changes import change, clear_tags
from .context import Desk
from .deadlines import Manual, rule_deadline, stage_rule
from .lifecycle import REVIEW_KINDS, allowed_steps, require
from .notes import note_ready, write_note
from .officekeys import OfficeKeys
from .refusals import BadValue, IllegalTransition, Refused
from .reporter import require_tokens, seal_to_tokens
from .roles import desk_action
from .values import clean_text


def outcome_of(desk: Desk, code: str, stage: str, argument: str) -> dict[str, str]:
    """The outcome ``code`` of ``stage`` with its labels; refused with the valid codes."""
    entry = desk.outcomes.get(code)
    if entry is None or entry.stage != stage:
        codes = ", ".join(o.code for o in desk.outcomes if o.stage == stage)
        raise BadValue(
            f"{code!r} is not a {stage} outcome ({codes})", argument=argument, code="not_one_of"
        )
    return {"outcome": code, "outcome_zh": entry.zh, "outcome_en": entry.en}


def disposition_of(desk: Desk, code: str) -> str:
    """``code`` if it is a disposition of the lead (谈话函询, 初步核实, …); else refused."""
    entry = desk.taxonomy.dispositions.get(code)
    if entry is None or entry.stage != "disposition":
        codes = ", ".join(d.code for d in desk.taxonomy.dispositions if d.stage == "disposition")
        raise BadValue(
            f"{code!r} is not a disposition ({codes})", "--disposition", code="not_one_of"
        )
    return code


def _tokens(desk: Desk, case: Case) -> None:
    require_tokens(desk, case.id, case.label, "answer to")


def seal_answer(
    desk: Desk, case: Case, keys: OfficeKeys, kind: str, text: str, outcome: dict[str, str]
) -> dict[str, Any]:
    """Seal the answer to every token of the case, keep the office's copy as a note, and
    return what the event records (row ids and hashes, never the text)."""
    doc: dict[str, object] = {
        "kind": kind,
        "number": case.number or "",
        "date": desk.today.isoformat(),
        **outcome,
        "text": text,
    }
    _tokens(desk, case)
    sealed_rows = seal_to_tokens(
        desk, case.id, "answers", kind, lambda reply_pk: seal_answer_for_reporter(doc, reply_pk)
    )
    note = write_note(desk, case, keys, "answer", text, reference=kind)
    return {"answers": sealed_rows, **note}


def answer_due_columns(desk: Desk, case: Case) -> dict[str, Any]:
    """``answer_due`` for a case concluded today (the real-name answer rule, if any)."""
    rule = stage_rule(desk.policy(case.policy), "answer", real_name=case.real_name)
    if rule is None:
        return {"answer_due": None}
    return {"answer_due": rule_deadline(rule, desk.today, desk.calendar).due.isoformat()}


@desk_action("conclude")
def conclude(
    desk: Desk,
    ref: int | str,
    keys: OfficeKeys | None,
    outcome: str,
    *,
    disposition: str | None = None,
    answer: str | None = None,
) -> Case:
    """办结: record the outcome; with ``answer``, answer the reporter in the same transaction."""
    case = load_case(desk.db, ref)
    require(case, "conclude")
    result = outcome_of(desk, outcome, "conclusion", "--outcome")
    data: dict[str, Any] = {}
    if disposition is not None:
        data["disposition"] = disposition_of(desk, disposition)
    text = clean_text(answer, "--answer", required=False)
    if text:
        desk.authorize("answer")  # concluding with an answer also answers the reporter
        if keys is None:
            raise BadValue("answering needs the office key for the office's copy", "--key")
        note_ready(desk, case, keys)
        _tokens(desk, case)
    today = desk.today.isoformat()
    updates = {"state": "concluded", "concluded_date": today, "outcome": outcome}
    updates.update(answer_due_columns(desk, case))
    with desk.transaction():
        clear_tags(desk, case)
        change(desk, case, "concluded", updates, {**data, "cleared_tags": True})
        if text:
            assert keys is not None
            sealed = seal_answer(desk, case, keys, "answer", text, result)
            change(desk, case, "answered", {"state": "answered", "answered_date": today}, sealed)
    return load_case(desk.db, case.id)


@desk_action("answer")
def answer(desk: Desk, ref: int | str, keys: OfficeKeys, text: str) -> Case:
    """反馈: answer the reporter of a concluded case."""
    case = load_case(desk.db, ref)
    require(case, "answer")
    body = clean_text(text, "--text", required=True)
    assert case.outcome is not None
    result = outcome_of(desk, case.outcome, "conclusion", "--outcome")
    note_ready(desk, case, keys)
    _tokens(desk, case)
    with desk.transaction():
        sealed = seal_answer(desk, case, keys, "answer", body, result)
        updates = {"state": "answered", "answered_date": desk.today.isoformat()}
        change(desk, case, "answered", updates, sealed)
    return load_case(desk.db, case.id)


def record_satisfaction(
    desk: Desk, case: Case, rating: str, *, source: str, data: dict[str, Any] | None = None
) -> None:
    """Record a satisfaction answer inside the caller's transaction."""
    if rating not in RATINGS:
        raise BadValue(
            f"{rating!r} is not one of {', '.join(RATINGS)}", argument="RATING", code="not_one_of"
        )
    change(desk, case, "satisfaction", {"satisfaction": rating}, {**(data or {}), "source": source})


@desk_action("satisfaction")
def satisfaction(desk: Desk, ref: int | str, rating: str) -> Case:
    """Record a satisfaction answer given by phone, letter or visit (回访)."""
    case = load_case(desk.db, ref)
    require(case, "satisfaction")
    with desk.transaction():
        record_satisfaction(desk, case, rating, source="staff")
    return load_case(desk.db, case.id)


def review_window(desk: Desk, case: Case) -> tuple[str, str] | None:
    """The last day the reporter may ask for a review (复查; a re-review 复核 after a review
    answer) under the case's policy, and the rule it comes from; None when the policy sets
    no window."""
    policy = desk.policy(case.policy)
    after_review = case.review_kind is not None and case.second_answer_date is not None
    rule = stage_rule(policy, "rereview_window" if after_review else "review_window")
    start = case.second_answer_date if after_review else case.answered_date
    if rule is None or start is None:
        return None
    due = rule_deadline(rule, date.fromisoformat(start), desk.calendar).due
    return due.isoformat(), f"rule {rule.code} of policy {policy.name}"


@desk_action("review")
def open_review(
    desk: Desk,
    ref: int | str,
    kind: str,
    *,
    manual: Manual | None = None,
    keys: OfficeKeys | None = None,
    reason: str = "",
) -> Case:
    """Open a second answer (二次反馈), review (复查) or re-review (复核) with its own deadline."""
    case = load_case(desk.db, ref)
    require(case, "review")
    window = review_window(desk, case) if case.state == "closed" else None
    if window is not None and desk.today.isoformat() > window[0]:
        raise Refused(
            f"case {case.label} was closed and its review window ended on {window[0]}"
            f" ({window[1]})",
            code="review_window_ended",
            case=case.label,
            until=window[0],
        )
    if kind not in REVIEW_KINDS:
        raise BadValue(
            f"{kind!r} is not one of {', '.join(REVIEW_KINDS)}",
            argument="--kind",
            code="not_one_of",
        )
    done = REVIEW_KINDS.index(case.review_kind) if case.review_kind else -1
    if REVIEW_KINDS.index(kind) <= done:
        later = ", ".join(REVIEW_KINDS[done + 1 :])
        raise BadValue(
            f"case {case.label} already had a {case.review_kind}; next: {later}",
            "--kind",
            code="review_given",
            case=case.label,
            kind=case.review_kind,
        )
    text = clean_text(reason, "--reason", required=False)
    if text and keys is None:
        raise BadValue("a reason is sealed as a note: give the office key", argument="--key")
    today = desk.today
    source: dict[str, Any]
    if manual is not None:
        due = manual.after(today, desk.calendar).due
        source = {"manual": manual.describe(), "start": today.isoformat()}
    else:
        policy = desk.policy(case.policy)
        rule = stage_rule(policy, kind, real_name=case.real_name)
        if rule is None:
            raise BadValue(
                f"policy {policy.name} sets no {kind} deadline: give --days",
                "--days",
                code="need_days",
            )
        due = rule_deadline(rule, today, desk.calendar).due
        source = {"rule": rule.code, "start": today.isoformat()}
    updates: dict[str, Any] = {
        "state": "reviewing",
        "review_kind": kind,
        "review_due": due.isoformat(),
        "review_outcome": None,
    }
    if case.state == "closed":
        updates["closed_date"] = None  # reopened: closed again after the review answer
    with desk.transaction():
        note = write_note(desk, case, keys, "reason", text) if text and keys else {}
        change(desk, case, "review-opened", updates, {"review_deadline": source, **note})
    return load_case(desk.db, case.id)


@desk_action("answer")
def second_answer(desk: Desk, ref: int | str, keys: OfficeKeys, text: str, outcome: str) -> Case:
    """Give the second answer or the review answer; the case is answered again."""
    case = load_case(desk.db, ref)
    require(case, "second-answer")
    result = outcome_of(desk, outcome, "review", "--outcome")
    body = clean_text(text, "--text", required=True)
    note_ready(desk, case, keys)
    _tokens(desk, case)
    kind = "second_answer" if case.review_kind == "second_answer" else "review"
    updates = {
        "state": "answered",
        "review_outcome": outcome,
        "second_answer_date": desk.today.isoformat(),
    }
    with desk.transaction():
        sealed = seal_answer(desk, case, keys, kind, body, result)
        change(desk, case, "second-answer", updates, sealed)
    return load_case(desk.db, case.id)


@desk_action("close")
def close(desk: Desk, ref: int | str) -> Case:
    """结案: end the loop."""
    case = load_case(desk.db, ref)
    require(case, "close")
    window = review_window(desk, case)
    content = case.satisfaction in ("satisfied", "basically")
    if window is not None and not content and desk.today.isoformat() <= window[0]:
        raise IllegalTransition(
            f"cannot close case {case.label}: the reporter may ask for a review until"
            f" {window[0]} ({window[1]}); close after that day, or once the reporter says"
            " they are satisfied",
            allowed_steps(case),
            code="review_window",
            case=case.label,
            until=window[0],
        )
    with desk.transaction():
        change(desk, case, "closed", {"state": "closed", "closed_date": desk.today.isoformat()})
    return load_case(desk.db, case.id)
