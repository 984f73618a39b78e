"""The office's letters: printable documents rendered from templates the office can edit.

Four letters, each for a case at the right point of its lifecycle:

- ``forwarding`` 转办函: to the authority a case was forwarded to (``route --forward``);
- ``supervision`` 督办函: to the unit (or authority) an open case waits on, chasing its stage;
- ``not-accepted`` 不予受理告知书: to the reporter of a case not accepted, with the reason;
- ``acceptance`` 受理告知书: to a real-name reporter of an accepted case.

Each is rendered from a Jinja2 template: the bundled ``desk/data/templates/<kind>-letter.html.j2``
(or ``.txt.j2`` for plain text), replaced by a file of the same name in the office's
``templates/`` folder under ``--data-dir`` (the CLI and the web desk look in the same place), or
by a single file given with ``--template FILE``. A letter carries the registration number, the
addressee, the dates and the classification, never the report's text (that goes as an
enclosure through the office's own channel). Issuing a letter is recorded as an event with the
SHA-256 of the text printed; the first forwarding letter sets the case's ``forward_letter_date``
(:mod:`desk.forwarding`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .casekeys import desk_keys
from .cases import Case, load_case
from .changes import change
from .context import Desk
from .lifecycle import STEPS
from .notes import read_notes
from .officers import Officer
from .refusals import BadValue, Refused
from .roles import ROLEBOOK, desk_action
from .supervise import chased

TEMPLATES = Path(__file__).parent / "data" / "templates"
SUFFIX = {"html": "html.j2", "text": "txt.j2"}
LETTERS: dict[str, tuple[str, str]] = {
    "forwarding": ("转办函", "forwarding letter"),
    "supervision": ("督办函", "supervision letter"),
    "not-accepted": ("不予受理告知书", "notice of non-acceptance"),
    "acceptance": ("受理告知书", "acceptance notice"),
}
# Who issues which letter (each also needs the ``letter`` action of the roles file).
LETTER_ROLES: dict[str, tuple[str, ...]] = {
    "forwarding": ("registrar", "approver"),
    "supervision": ("supervisor", "approver"),
    "not-accepted": ("registrar", "approver"),
    "acceptance": ("registrar", "approver"),
}
STAGES = {
    "sign": "签收",
    "handle": "办理",
    "rework": "退回重报",
    "answer": "答复",
    "review": "复查",
}


@dataclass(frozen=True)
class Letter:
    """A rendered letter and the case it is for."""

    case: Case
    text: str
    fmt: str
    kind: str = "forwarding"


def _label(desk: Desk, catalogue: str, code: str | None) -> str:
    if code is None:
        return ""
    entry = getattr(desk.taxonomy, catalogue).get(code)
    return str(entry.zh) if entry is not None else code


def _not_forwarded(case: Case) -> str | None:
    if case.route == "forward" and case.forwarded_to:
        return None
    return (
        f"case {case.label} was not forwarded (转办); a forwarding letter follows route --forward"
    )


def _not_open(case: Case) -> str | None:
    if case.state not in STEPS["supervise"].states or not (case.unit or case.forwarded_to):
        return (
            f"case {case.label} is not open with a unit or authority to chase; a supervision"
            " letter (督办函) chases an assigned or forwarded case"
        )
    return None


def _accepted_or_not(case: Case) -> str | None:
    if case.state == "not_accepted":
        return None
    return f"case {case.label} was not refused (不予受理); this notice follows not-accepted"


def _accepted_real_name(case: Case) -> str | None:
    if not case.accepted_date:
        return f"case {case.label} has not been accepted (受理); the notice follows registration"
    if case.real_name not in ("claimed", "verified"):
        return f"case {case.label} is anonymous: there is no one to address an acceptance notice to"
    return None


WHY_NOT = {  # the refusal code of each letter's condition
    "forwarding": "letter_not_forwarded",
    "supervision": "letter_not_open",
    "not-accepted": "letter_not_refused",
    "acceptance": "letter_not_accepted",
}
WHEN: dict[str, Callable[[Case], str | None]] = {
    "forwarding": _not_forwarded,
    "supervision": _not_open,
    "not-accepted": _accepted_or_not,
    "acceptance": _accepted_real_name,
}


def may_issue(officer: Officer, kind: str) -> bool:
    """Whether ``officer``'s roles let them issue a ``kind`` letter."""
    return any(officer.has(r) for r in LETTER_ROLES[kind])


def letters_for(case: Case, officer: Officer) -> list[str]:
    """The letters ``officer`` may issue for ``case`` now."""
    return [k for k, why in WHEN.items() if why(case) is None and may_issue(officer, k)]


def _event_day(desk: Desk, case: Case, kind: str) -> str:
    row = desk.db.execute(
        "SELECT at FROM events WHERE case_id = ? AND type = ? ORDER BY seq DESC LIMIT 1",
        [case.id, kind],
    ).fetchone()
    return str(row[0]) if row else ""


def _reason(desk: Desk, case: Case) -> str:
    """The reason given for not accepting (a sealed note), for officers who can open it."""
    row = desk.db.execute(
        "SELECT data FROM events WHERE case_id = ? AND type = 'not-accepted'"
        " ORDER BY seq DESC LIMIT 1",
        [case.id],
    ).fetchone()
    note_id = json.loads(row[0]).get("note") if row else None
    if note_id is None:
        return ""
    try:
        notes = read_notes(desk, case, desk_keys(desk))
    except Refused:
        return ""
    return next((n.text for n in notes if n.id == note_id), "")


def letter_fields(desk: Desk, case: Case, kind: str = "forwarding") -> dict[str, Any]:
    """The template's variables (every letter has them all; some are empty for a kind)."""
    authority = case.forwarded_to or ""
    me = desk.me().record
    unit = case.unit or case.forwarded_to
    return {
        "number": case.number,
        "authority": _label(desk, "units", authority) or authority,
        "authority_code": authority,
        "unit": _label(desk, "units", unit) or (unit or ""),
        "forwarded_date": _event_day(desk, case, "forwarded"),
        "received_date": case.received_date,
        "accepted_date": case.accepted_date or "",
        "not_accepted_date": _event_day(desk, case, "not-accepted"),
        "due_date": (case.forward_reply_due if kind == "forwarding" else "")
        or case.due_date
        or case.review_due
        or "",
        "stage": STAGES[chased(case)],
        "reason": _reason(desk, case) if kind == "not-accepted" else "",
        "channel": case.channel,
        "problem_type": _label(desk, "problem_types", case.problem_subtype or case.problem_type),
        "region": _label(desk, "regions", case.region),
        "office": _label(desk, "units", me.unit),
        "officer": me.name,
        "today": desk.today.isoformat(),
    }


def template_source(kind: str, fmt: str, office: Path | None = None) -> str:
    """A letter's template: the office's own file of that name under ``office`` (its
    ``templates/`` folder) if there is one, else the bundled one."""
    name = f"{kind}-letter.{SUFFIX[fmt]}"
    for folder in (office, TEMPLATES):
        if folder is not None and (folder / name).is_file():
            return (folder / name).read_text(encoding="utf-8")
    raise BadValue(f"no template {name}", argument="--template")


def office_templates(data_dir: Path | None) -> Path | None:
    """The office's letter templates folder: ``templates/`` under its data folder."""
    return data_dir / "templates" if data_dir is not None else None


@desk_action("letter")
def issue_letter(
    desk: Desk,
    ref: int | str,
    kind: str = "forwarding",
    *,
    fmt: str = "html",
    template: Path | None = None,
    office: Path | None = None,
) -> Letter:
    """Render one of the office's letters for a case and record that it was issued."""
    if kind not in LETTERS:
        raise BadValue(
            f"{kind!r} is not one of {', '.join(LETTERS)}", argument="--kind", code="not_one_of"
        )
    me = desk.me()
    if not may_issue(me.record, kind):
        zh, en = LETTERS[kind]
        needed = " or ".join(ROLEBOOK.roles[r].label for r in LETTER_ROLES[kind])
        raise Refused(
            f"issue a {en} ({zh}) needs the role {needed}; officer {me.id} has"
            f" {', '.join(me.record.roles)}",
            argument="--officer",
            code="role_needed",
            action="letter",
            roles=LETTER_ROLES[kind],
        )
    case = load_case(desk.db, ref)
    problem = WHEN[kind](case)
    if problem is not None:
        code = WHY_NOT[kind]
        if kind == "acceptance" and case.accepted_date:
            code = "letter_anonymous"
        raise Refused(problem, argument="CASE", code=code, case=case.label)
    if fmt not in SUFFIX:
        raise BadValue(
            f"{fmt!r} is not one of {', '.join(SUFFIX)}", argument="--format", code="not_one_of"
        )
    if template is not None:
        try:
            source = template.read_text(encoding="utf-8")
        except OSError as exc:
            raise BadValue(f"{template}: {exc.strerror}", argument="--template") from exc
    else:
        source = template_source(kind, fmt, office)
    # The HTML letter is escaped; the plain-text one is not HTML.
    escape = fmt == "html"
    env = jinja2.Environment(
        autoescape=escape,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    try:
        text = env.from_string(source).render(**letter_fields(desk, case, kind))
    except jinja2.TemplateError as exc:
        raise BadValue(f"the template does not render: {exc}", argument="--template") from exc
    data: dict[str, Any] = {"letter": kind, "sha256": sha256_hex(text)}
    if kind in ("forwarding", "supervision"):
        data["to"] = case.forwarded_to if kind == "forwarding" else case.unit or case.forwarded_to
    with desk.transaction():
        if kind == "forwarding" and case.forward_reply_due and not case.forward_letter_date:
            # the first forwarding letter issued starts the authority's reply clock
            change(desk, case, "letter-issued", {"forward_letter_date": desk.today.isoformat()},
                   data)  # fmt: skip
        else:
            desk.event(case.id, "letter-issued", data)
    return Letter(load_case(desk.db, case.id), text, fmt, kind)


def sha256_hex(text: str) -> str:
    """The digest the event records of the letter as printed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def forwarding_letter(
    desk: Desk, ref: int | str, *, fmt: str = "html", template: Path | None = None
) -> Letter:
    """The forwarding letter (转办函) of a forwarded case (:func:`issue_letter`)."""
    return issue_letter(desk, ref, "forwarding", fmt=fmt, template=template)
