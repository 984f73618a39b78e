"""The inbox: verify, open and show new reports and follow-ups, and mark them opened.

Each envelope's signature is checked again at the desk (the report's own client key; for a
follow-up, the follow-up key registered for its token), then it is opened with the office
private key. A key that cannot open a submission refuses the whole command and changes nothing;
a signature that no longer verifies (data altered after the gateway accepted it) is shown as a
problem and the submission stays unopened. Satisfaction answers are recorded on their case, and
every submission opened is recorded for its reporter (``sent``: what they sent, sealed to their
token).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from lianxin.protocol import Attachment, Envelope, ProtocolError, open_envelope
from lianxin.protocol.errors import DecryptionError

from .answers import record_satisfaction
from .cases import load_case
from .context import Desk
from .envelopes import envelope_problem, is_removed
from .officekeys import OfficeKeys
from .refusals import BadValue, WrongKey
from .roles import desk_action
from .sent import record_sent
from .values import command_ref


@dataclass(frozen=True)
class Opened:
    """One submission as the desk sees it."""

    submission_id: int
    case_id: int
    case_label: str
    kind: str
    received_date: str
    doc: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    problem: str = ""
    notice: str = ""
    # what the notice says, as a code the web desk words: material, rating-early,
    # rating-recorded, rating-unhappy
    notice_code: str = ""
    new: bool = True
    unlisted: tuple[str, ...] = ()  # a region or problem type outside the published lists

    def as_dict(self) -> dict[str, Any]:
        """For JSON output (attachments by name, type and size)."""
        return {
            "submission": self.submission_id,
            "case": self.case_id,
            "case_label": self.case_label,
            "kind": self.kind,
            "received_date": self.received_date,
            "new": self.new,
            "document": {k: v for k, v in self.doc.items() if k != "attachments"},
            "attachments": [a.describe() for a in self.attachments],
            "problem": self.problem,
            "notice": self.notice,
            "unlisted": list(self.unlisted),
        }


_SELECT = (
    "SELECT s.id, s.kind, s.case_id, s.key_id, s.author, s.ciphertext, s.sig, s.received_date,"
    " s.opened_at, c.number FROM submissions s JOIN cases c ON c.id = s.case_id"
)


def _from_case_key(desk: Desk, base: dict[str, Any], sid: int) -> Opened:
    """A submission whose envelope was removed: its copy under the case key, if the officer
    is in the case's scope."""
    from .casekeys import open_case, open_case_key

    row = desk.db.execute(
        "SELECT sealed FROM case_content WHERE submission_id = ?", [sid]
    ).fetchone()
    if row is None:
        destroyed = desk.db.execute(
            "SELECT at FROM events WHERE case_id = ? AND type = 'material-destroyed'"
            " AND data LIKE '%\"content\"%' ORDER BY seq LIMIT 1",
            [base["case_id"]],
        ).fetchone()
        if destroyed is not None:  # desk.retention
            why = f"destroyed on {destroyed[0]} after its retention period"
            return Opened(**base, problem=why)
        return Opened(**base, problem="its envelope was removed but no case-key copy is stored")
    key = open_case_key(desk.db, base["case_id"], desk.me())
    if key is None:
        return Opened(
            **base,
            problem=f"held under the case key of case {base['case_label']}, which officer"
            f" {desk.actor()} does not hold (not in the case's scope)",
        )
    doc = json.loads(open_case(key, bytes(row[0])))
    attachments = tuple(
        Attachment(a["name"], a["type"], bytes.fromhex(a["data"])) for a in doc["attachments"]
    )
    return Opened(**base, doc=doc["document"], attachments=attachments)


@desk_action("inbox")
def waiting(desk: Desk) -> dict[str, int]:
    """How many submissions wait to be opened, by kind (``report``, ``followup``); opens
    nothing and records nothing."""
    rows = desk.db.execute(
        "SELECT kind, count(*) FROM submissions WHERE opened_at IS NULL GROUP BY kind"
    ).fetchall()
    return {str(kind): int(n) for kind, n in rows}


@desk_action("inbox")
def read_inbox(
    desk: Desk, keys: OfficeKeys, *, include_opened: bool = False, case: int | str | None = None
) -> list[Opened]:
    """Verify and open submissions (new ones, or all of one case); records a read event for
    each one opened and changes nothing else."""
    where, params = " WHERE s.opened_at IS NULL", []
    if case is not None:
        where, params = " WHERE s.case_id = ?", [load_case(desk.db, case).id]
    elif include_opened:
        where = ""
    items = []
    for (
        sid,
        kind,
        case_id,
        key_id,
        author,
        ciphertext,
        sig,
        received,
        opened_at,
        number,
    ) in desk.db.execute(_SELECT + where + " ORDER BY s.id", params).fetchall():
        label = number or f"#{case_id}"
        envelope = Envelope(kind, key_id, bytes(author), bytes(ciphertext), bytes(sig))
        base = {
            "submission_id": sid,
            "case_id": case_id,
            "case_label": label,
            "kind": kind,
            "received_date": received,
            "new": opened_at is None,
        }
        if is_removed(bytes(ciphertext)):  # registered: its content is under the case key
            items.append(_from_case_key(desk, base, sid))
            continue
        problem = envelope_problem(desk.db, envelope)
        if problem:
            items.append(Opened(**base, problem=problem))
            continue
        keys.secret(key_id, f"submission {sid} (case {label})")
        try:
            payload = open_envelope(envelope, keys.secrets)
        except DecryptionError as exc:
            raise WrongKey(f"cannot open submission {sid} (case {label}): {exc}") from exc
        except ProtocolError as exc:
            items.append(Opened(**base, problem=f"opens but is not well formed: {exc}"))
            continue
        unlisted = unlisted_codes(desk, payload.doc) if kind == "report" else ()
        items.append(
            Opened(**base, doc=payload.doc, attachments=payload.attachments, unlisted=unlisted)
        )
    with desk.transaction():  # every read of report content is an event
        for item in items:
            if not item.problem:
                desk.event(
                    item.case_id, "read", {"what": item.kind, "submission": item.submission_id}
                )
    return items


def open_inbox(
    desk: Desk,
    keys: OfficeKeys,
    *,
    include_opened: bool = False,
    case: int | str | None = None,
    peek: bool = False,
) -> list[Opened]:
    """``desk inbox`` (and the web desk's inbox page): :func:`read_inbox`, then, unless
    ``peek``, :func:`mark_opened` when anything new opened without a problem."""
    items = read_inbox(desk, keys, include_opened=include_opened, case=case)
    if not peek and any(i.new and not i.problem for i in items):
        items = mark_opened(desk, items, keys)
    return items


@desk_action("inbox")
def mark_opened(desk: Desk, items: list[Opened], keys: OfficeKeys | None = None) -> list[Opened]:
    """Mark new, verified submissions opened, record satisfaction answers and, for each
    reporter, what they sent (sealed to their tokens); one transaction.
    With the office keys, a follow-up to a registered case is copied under its case key (so
    the case's handlers read it too). Returns the items with a notice where staff have
    something to do."""
    out = []
    today = desk.today.isoformat()
    late = [i for i in items if i.new and not i.problem and i.received_date > today]
    if late:
        raise BadValue(
            f"{today} is before submission {late[0].submission_id} was received"
            f" ({late[0].received_date})",
            argument="--today",
        )
    with desk.transaction():
        for item in items:
            if not item.new or item.problem:
                out.append(item)
                continue
            desk.db.execute(
                "UPDATE submissions SET opened_at = ? WHERE id = ?",
                [desk.today.isoformat(), item.submission_id],
            )
            sent = record_sent(desk, item.case_id, item.doc, item.received_date)
            sealed = _to_case_key(desk, item.case_id, keys) if keys is not None else {}
            desk.event(
                item.case_id,
                "opened",
                {"submission": item.submission_id, "kind": item.kind, "sent": sent, **sealed},
            )
            out.append(_followup(desk, item))
    return out


def _to_case_key(desk: Desk, case_id: int, keys: OfficeKeys) -> dict[str, Any]:
    """A follow-up to a registered case: copied under its case key, its envelope removed."""
    from .casekeys import has_case_key, open_case_key
    from .scope import seal_content

    if not has_case_key(desk.db, case_id):
        return {}
    key = open_case_key(desk.db, case_id, desk.me())
    if key is None:
        return {}
    sealed = seal_content(desk, load_case(desk.db, case_id), key, keys)
    return {k: v for k, v in sealed.items() if k != "content_sealed"}


def _followup(desk: Desk, item: Opened) -> Opened:
    if item.kind != "followup":
        return item
    if item.doc.get("type") != "satisfaction":
        return replace(item, notice="additional material: see the case", notice_code="material")
    rating = str(item.doc.get("rating"))
    case = load_case(desk.db, item.case_id)
    if case.answered_date is None:
        notice = f"rating {rating!r} arrived before any answer: not recorded"
        return replace(item, notice=notice, notice_code="rating-early")
    record_satisfaction(
        desk, case, rating, source="followup", data={"submission": item.submission_id}
    )
    notice = f"satisfaction recorded: {rating}"
    code = "rating-recorded"
    if rating == "not":
        notice += f"; open a second answer or review (desk review {case.label})"
        code = "rating-unhappy"
    return replace(item, notice=notice, notice_code=code)


def unlisted_codes(desk: Desk, doc: dict[str, Any]) -> tuple[str, ...]:
    """A report's region or problem type that is not in the published lists (an older portal,
    or a hand-made envelope: the gateway does not know the lists), each with the valid values
    staff choose from when registering."""
    tax = desk.taxonomy
    out = []
    region = str(doc.get("region", ""))
    if region and region not in tax.regions:
        valid = ", ".join(tax.regions.codes())
        out.append(
            f"region {region!r} is not in the published list ({tax.regions.source});"
            f" register with --region, one of: {valid}"
        )
    problem = str(doc.get("problem_type", ""))
    if problem and problem not in tax.problem_types:
        valid = ", ".join(
            p.code for p in tax.problem_types if p.parent is not None or not tax.subtypes(p.code)
        )
        out.append(
            f"problem type {problem!r} is not in the published list"
            f" ({tax.problem_types.source}); register with --problem-type, one of: {valid}"
        )
    return tuple(out)


def suggested_fields(desk: Desk, doc: dict[str, Any]) -> dict[str, str]:
    """The registration a report's own fields suggest, as ``register``'s option names without
    dashes (``problem_type``, ``rank``, ``region`` when listed; ``item_type``, ``real_name``);
    staff confirm or correct it (the web desk's registration form starts from it)."""
    tax = desk.taxonomy
    out = {"item_type": "accusation"}
    problem = str(doc.get("problem_type", ""))
    if problem in tax.problem_types:
        out["problem_type"] = problem
    rank = str(doc.get("reported", {}).get("rank", ""))
    if rank in tax.ranks:
        out["rank"] = rank
    region = str(doc.get("region", ""))
    if region in tax.regions:
        out["region"] = region
    out["real_name"] = "claimed" if doc.get("real_name") else "anonymous"
    return out


def suggest_registration(desk: Desk, item: Opened) -> str:
    """The ``register`` command a report's own fields suggest (staff confirm or correct it)."""
    parts = [f"register {command_ref(item.case_label, item.case_id)}"]
    for name, value in suggested_fields(desk, item.doc).items():
        parts.append(f"--{name.replace('_', '-')} {value}")
    return " ".join(parts)
