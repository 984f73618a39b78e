"""The forwarding letter (转办函): a printable document for a case forwarded out of scope.

Rendered from a Jinja2 template: the bundled ``desk/data/templates/forwarding-letter.html.j2``
(or ``.txt.j2`` for plain text), or a template the office writes itself (``--template FILE``)
with the same variables. The letter carries the case's registration number, the receiving
authority, the dates and the classification, never the report's text (that goes as an enclosure
through the office's own channel). Printing a letter is recorded as an event with the SHA-256 of
the text printed; the first one sets the case's ``forward_letter_date`` (:mod:`desk.forwarding`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .cases import Case, load_case
from .changes import change
from .context import Desk
from .refusals import BadValue, Refused
from .roles import desk_action

TEMPLATES = Path(__file__).parent / "data" / "templates"
FORMATS = {"html": "forwarding-letter.html.j2", "text": "forwarding-letter.txt.j2"}


@dataclass(frozen=True)
class Letter:
    """A rendered letter and the case it is for."""

    case: Case
    text: str
    fmt: str


def _label(desk: Desk, catalogue: str, code: str | None) -> str:
    if code is None:
        return ""
    entry = getattr(desk.taxonomy, catalogue).get(code)
    return str(entry.zh) if entry is not None else code


def letter_fields(desk: Desk, case: Case) -> dict[str, Any]:
    """The template's variables."""
    row = desk.db.execute(
        "SELECT at FROM events WHERE case_id = ? AND type = 'forwarded' ORDER BY seq DESC LIMIT 1",
        [case.id],
    ).fetchone()
    authority = case.forwarded_to or ""
    me = desk.me().record
    return {
        "number": case.number,
        "authority": _label(desk, "units", authority) or authority,
        "authority_code": authority,
        "forwarded_date": row[0] if row else "",
        "received_date": case.received_date,
        "due_date": case.forward_reply_due or case.due_date or "",
        "channel": case.channel,
        "problem_type": _label(desk, "problem_types", case.problem_subtype or case.problem_type),
        "region": _label(desk, "regions", case.region),
        "office": _label(desk, "units", me.unit),
        "officer": me.name,
        "today": desk.today.isoformat(),
    }


@desk_action("letter")
def forwarding_letter(
    desk: Desk, ref: int | str, *, fmt: str = "html", template: Path | None = None
) -> Letter:
    """Render the forwarding letter of a forwarded case and record that it was issued."""
    case = load_case(desk.db, ref)
    if case.route != "forward" or not case.forwarded_to:
        raise Refused(
            f"case {case.label} was not forwarded (转办); a forwarding letter follows"
            " route --forward",
            argument="CASE",
        )
    if fmt not in FORMATS:
        raise BadValue(f"{fmt!r} is not one of {', '.join(FORMATS)}", argument="--format")
    if template is not None:
        try:
            source = template.read_text(encoding="utf-8")
        except OSError as exc:
            raise BadValue(f"{template}: {exc.strerror}", argument="--template") from exc
    else:
        source = (TEMPLATES / FORMATS[fmt]).read_text(encoding="utf-8")
    # The HTML letter is escaped; the plain-text one is not HTML.
    escape = fmt == "html"
    env = jinja2.Environment(
        autoescape=escape,  # noqa: S701
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    try:
        text = env.from_string(source).render(**letter_fields(desk, case))
    except jinja2.TemplateError as exc:
        raise BadValue(f"the template does not render: {exc}", argument="--template") from exc
    record = {"letter": "forwarding", "to": case.forwarded_to, "sha256": sha256_hex(text)}
    with desk.transaction():
        if case.forward_reply_due and not case.forward_letter_date:  # the first one issued
            change(desk, case, "letter-issued", {"forward_letter_date": desk.today.isoformat()},
                   record)  # fmt: skip
        else:
            desk.event(case.id, "letter-issued", record)
    return Letter(load_case(desk.db, case.id), text, fmt)


def sha256_hex(text: str) -> str:
    """The digest the event records of the letter as printed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
