"""Registration (登记编号, 受理): numbering and classifying a case, and not accepting one.

Registering an in-scope item accepts it (受理): the case moves to ``accepted`` and, when the
policy has a handling rule counted from acceptance (``cn-xinfang-2022``: 60 days), gets its
deadline. An out-of-scope item (``item_type`` with ``in_scope: false``) is numbered and stays
``received`` until it is forwarded (``route --forward``) or not accepted. Registering again
corrects the classification; the event records what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lianxin.domain.taxonomy import Catalogue, E

from .cases import Case, find_case_id, load_case
from .changes import change, clear_tags, set_tags
from .context import Desk
from .deadlines import rule_deadline, stage_rule, uncertain
from .lifecycle import follows_proposal, require
from .officekeys import OfficeKeys
from .refusals import BadValue
from .roles import desk_action
from .values import clean_text

REAL_NAME = ("anonymous", "claimed", "verified")
SOURCES = ("own", "assigned")
REQUIRED_FIRST = (
    ("item_type", "--item-type"),
    ("problem_type", "--problem-type"),
    ("region", "--region"),
    ("real_name", "--real-name"),
)


@dataclass(frozen=True)
class Registration:
    """What staff give to ``register``; None leaves a field as it is."""

    item_type: str | None = None
    problem_type: str | None = None  # a second-level code (细类), or a category without any
    rank: str | None = None
    region: str | None = None
    real_name: str | None = None
    source: str | None = None
    repeat_of: int | str | None = None
    escalated: bool | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _code(catalogue: Catalogue[E], code: str, argument: str) -> str:
    if code not in catalogue:
        sample = ", ".join(catalogue.codes()[:8])
        more = ", …" if len(catalogue) > 8 else ""
        raise BadValue(
            f"unknown code {code!r} (in {catalogue.source}: {sample}{more})",
            argument=argument,
            code="unknown_code",
        )
    return code


def _choice(value: str, options: tuple[str, ...], argument: str) -> str:
    if value not in options:
        raise BadValue(
            f"{value!r} is not one of: {', '.join(options)}", argument=argument, code="not_one_of"
        )
    return value


def _classify(desk: Desk, case: Case, form: Registration) -> dict[str, Any]:
    """Validate ``form`` against the lists; return the columns it changes."""
    tax = desk.taxonomy
    out: dict[str, Any] = {}
    if form.item_type is not None:
        out["item_type"] = _code(tax.item_types, form.item_type, "--item-type")
    if form.problem_type is not None:
        code = _code(tax.problem_types, form.problem_type, "--problem-type")
        entry = tax.problem_types[code]
        if entry.parent is None:
            subtypes = tax.subtypes(code)
            if subtypes:
                sample = ", ".join(s.code for s in subtypes[:4])
                raise BadValue(
                    f"{code!r} is a category; give one of its subtypes ({sample}, …)",
                    argument="--problem-type",
                    code="category",
                )
            out["problem_type"], out["problem_subtype"] = code, None
        else:
            out["problem_type"], out["problem_subtype"] = entry.parent, code
    if form.rank is not None:
        out["rank"] = _code(tax.ranks, form.rank, "--rank")
    if form.region is not None:
        out["region"] = _code(tax.regions, form.region, "--region")
    if form.real_name is not None:
        out["real_name"] = _choice(form.real_name, REAL_NAME, "--real-name")
    if form.source is not None:
        out["source"] = _choice(form.source, SOURCES, "--source")
    if form.escalated is not None:
        out["escalated"] = int(form.escalated)
    if form.repeat_of is not None:
        out["repeat_of"] = _repeat_target(desk, case, form.repeat_of)
    for tag in (*form.add_tags, *form.remove_tags):
        _code(tax.tags, tag, "--tag")
    return {k: v for k, v in out.items() if getattr(case, k) != v}


def _repeat_target(desk: Desk, case: Case, ref: int | str) -> int:
    target = find_case_id(desk.db, ref, "--repeat-of")
    seen = {case.id}
    current: int | None = target
    while current is not None:  # refuse a loop of repeat-of links
        if current in seen:
            raise BadValue(
                "would make a loop of repeat-of links", argument="--repeat-of", code="repeat_loop"
            )
        seen.add(current)
        row = desk.db.execute("SELECT repeat_of FROM cases WHERE id = ?", [current]).fetchone()
        current = row[0] if row else None
    return target


def _next_number(desk: Desk) -> str:
    year = desk.today.year
    row = desk.db.execute(
        "SELECT max(number) FROM cases WHERE number >= ? AND number < ?",
        [f"{year}-", f"{year}."],
    ).fetchone()
    last = int(row[0].split("-")[1]) if row and row[0] else 0
    return f"{year}-{last + 1:06d}"


@desk_action("register")
def register(
    desk: Desk, ref: int | str, form: Registration, keys: OfficeKeys | None = None
) -> Case:
    """Register (or correct the registration of) a case, in one transaction.

    The first registration makes the case key, wraps it to the officers in scope and, with
    the office keys, copies the report content under it."""
    case = load_case(desk.db, ref)
    require(case, "register")
    updates = _classify(desk, case, form)
    first = not case.registered
    if first:
        for name, argument in REQUIRED_FIRST:
            if updates.get(name) is None:
                raise BadValue(
                    "required when a case is first registered", argument=argument, code="required"
                )
    tags = tuple(sorted((set(case.tags) | set(form.add_tags)) - set(form.remove_tags)))
    today = desk.today.isoformat()
    with desk.transaction():
        if first:
            updates.update(
                number=_next_number(desk),
                registered_date=today,
                source=updates.get("source", "own"),
                escalated=updates.get("escalated", 0),
                extensions=0,
                policy=desk.policy_name,
            )
        item = updates.get("item_type", case.item_type)
        in_scope = desk.taxonomy.item_types[item].in_scope if item else False
        data: dict[str, Any] = {}
        if case.state == "received" and in_scope:
            accepted, source = _accept(desk, case, updates.get("real_name", case.real_name))
            updates.update(accepted)
            data.update(source)
        if tags != case.tags:
            data.update(set_tags(desk, case, tags))
        if first:
            data.update(_make_key(desk, case, keys))
        if updates or data:
            change(desk, case, "registered" if first else "reclassified", updates, data)
    return load_case(desk.db, case.id)


def _make_key(desk: Desk, case: Case, keys: OfficeKeys | None) -> dict[str, Any]:
    from .casekeys import desk_keys, in_scope
    from .scope import ensure_case_key, seal_content

    key = ensure_case_key(desk, case, case.unit)
    office = keys if keys is not None else desk_keys(desk)
    sealed = seal_content(desk, case, key, office) if office.secrets else {"content_sealed": 0}
    holders = sorted(o.id for o in in_scope(desk.db, case.id, case.unit))
    return {"case_key": holders, **sealed}


def _accept(desk: Desk, case: Case, real_name: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """受理: the state change and, if the policy counts handling from acceptance, the deadline
    (with the event's record of the rule it came from)."""
    today = desk.today
    out: dict[str, Any] = {"state": "accepted", "accepted_date": today.isoformat()}
    policy = desk.policy(case.policy)
    rule = stage_rule(policy, "handle", real_name=real_name)
    if rule is None or rule.start_event != "accepted" or case.due_date:
        return out, {}
    deadline = rule_deadline(rule, today, desk.calendar)
    out.update(due_date=deadline.due.isoformat(), due_uncertain=uncertain(deadline))
    return out, {"deadline": {"rule": rule.code, "start": today.isoformat()}}


@desk_action("not-accepted")
def not_accepted(desk: Desk, ref: int | str, keys: OfficeKeys, reason: str) -> Case:
    """不予受理: refuse the case with a reason (sealed as a note), in one transaction."""
    from .notes import note_ready, write_note

    case = load_case(desk.db, ref)
    require(case, "not-accepted")
    follows_proposal(case, "not_accepted")
    text = clean_text(reason, "--reason", required=True)
    note_ready(desk, case, keys)
    with desk.transaction():
        note = write_note(desk, case, keys, "reason", text)
        updates: dict[str, Any] = {"state": "not_accepted", "due_date": None, "due_uncertain": None}
        if case.phase:
            updates["phase"] = None
        clear_tags(desk, case)
        change(desk, case, "not-accepted", updates, {**note, "cleared_tags": True})
    return load_case(desk.db, case.id)
