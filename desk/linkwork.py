"""A case worked across two offices: assigned down (交办), progress reported up, checked.

Upper office: an approver assigns a registered case to a child office with instructions, a
deadline and what it wants back (:func:`assign_to_office`); the child's progress arrives as
packages and goes on the case's timeline (signed for, extended, completion report, answer);
an approver checks the completion report (:func:`check_office_report`): accepted, the case is
concluded and the child's answer is sealed to the reporter's tokens, as any answer; returned,
the new deadline goes down with the reasons.

Lower office: the assignment is registered as a case "assigned from above" (``source``
``assigned``) with the upper office's deadline, and the office's own loop runs on it; an
approver reports progress up (:func:`report_up`); a returned report reopens the case for
rework with the new deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from nacl.public import PublicKey
from nacl.signing import SigningKey

from lianxin.offices.package import open_package
from lianxin.protocol import Attachment, PayloadError, ProtocolError, seal_report
from lianxin.store.records import insert_submission, new_case

from .answers import answer
from .cases import Case, load_case
from .changes import change
from .context import Desk
from .deadlines import Manual
from .lifecycle import require
from .notes import read_notes, write_note
from .officekeys import OfficeKeys
from .offices import identity_of
from .packages import linked, send, stored_package
from .refusals import BadValue, Refused
from .register import Registration, register
from .roles import desk_action
from .scope import read_content, rescope
from .unitwork import accept_report, return_report
from .values import clean_text, parse_day

WANTED = ("completion", "answer")


def office_unit(office_id: str) -> str:
    """The ``unit`` of a case assigned to a lower office: ``office:<its id>``."""
    return f"office:{office_id}"


def _link(desk: Desk, case: Case, role: str) -> tuple[str, str, str | None]:
    """``(office id, link, due date)`` of a linked case; refused if it is not linked so."""
    row = desk.db.execute(
        "SELECT office_id, link, due_date FROM case_links WHERE case_id = ? AND role = ?",
        [case.id, role],
    ).fetchone()
    if row is None:
        how = "assigned to a lower office" if role == "upper" else "assigned from above"
        raise Refused(f"case {case.label} was not {how}")
    return str(row[0]), str(row[1]), row[2]


# --- the upper office ------------------------------------------------------------------------
@desk_action("assign-office")
def assign_to_office(
    desk: Desk,
    ref: int | str,
    office_id: str,
    instructions: str,
    deadline: date,
    wanted: tuple[str, ...] = WANTED,
) -> Case:
    """交办: pack the case (its registration, report and material, the instructions, the
    deadline and what is wanted back) for a child office; one transaction with its event."""
    case = load_case(desk.db, ref)
    require(case, "route --assign")
    linked(desk, office_id, "child")
    text = clean_text(instructions, "--instructions", required=True)
    if deadline <= desk.today:
        raise BadValue(f"{deadline.isoformat()} is not after today", "--deadline")
    for item in wanted:
        if item not in WANTED:
            raise BadValue(f"{item!r} is not one of {', '.join(WANTED)}", "--want")
    identity = identity_of(desk)
    content = read_content(desk, case)
    reports = [c for c in content if c.get("kind") == "report"]
    if not reports:
        raise Refused(f"case {case.label} holds no report to send (its material was destroyed?)")
    link = f"{identity.office_id}/{case.number}"
    attachments = tuple(
        Attachment(a["name"], a["type"], bytes.fromhex(a["data"]))
        for c in reports
        for a in c["attachments"]
    )
    body = {
        "link": link,
        "case": {
            "number": case.number,
            "received": case.received_date,
            "channel": case.channel,
            "item_type": case.item_type,
            "problem_type": case.problem_subtype or case.problem_type,
            "rank": case.rank,
            "region": case.region,
            "real_name": case.real_name,
        },
        "reports": [
            {k: v for k, v in c["document"].items() if k != "attachments"} for c in reports
        ],
        "instructions": text,
        "deadline": deadline.isoformat(),
        "wanted": list(wanted),
    }
    updates = {
        "state": "in_progress",
        "route": "assign",
        "unit": office_unit(office_id),  # warnings and listings show the lower office
        "forwarded_to": None,
        "phase": "assigned",
        "due_date": deadline.isoformat(),
        "due_uncertain": 0,
        "sign_due": None,
        "signed_date": None,
        "report_date": None,
    }
    with desk.transaction():
        sent = send(desk, office_id, "assignment", case.id, body, attachments)
        desk.db.execute(
            "INSERT OR REPLACE INTO case_links (case_id, office_id, role, link, due_date)"
            " VALUES (?, ?, 'upper', ?, ?)",
            [case.id, office_id, link, deadline.isoformat()],
        )
        scope = rescope(desk, case, office_unit(office_id))  # no unit's handlers hold it now
        data = {"office": office_id, "link": link, "wanted": list(wanted), **sent, **scope}
        change(desk, case, "assigned-to-office", updates, data)
    return load_case(desk.db, case.id)


@desk_action("check")
def check_office_report(
    desk: Desk,
    ref: int | str,
    keys: OfficeKeys,
    *,
    accept: bool,
    reason: str = "",
    manual: Manual | None = None,
) -> Case:
    """审核 of a lower office's completion report. Accepted: the case is concluded and the
    lower office's answer (if it sent one) answers the reporter. Returned: the reasons and the
    new deadline go down. One transaction, with the package to the lower office."""
    case = load_case(desk.db, ref)
    office_id, link, _ = _link(desk, case, "upper")
    linked(desk, office_id, "child")
    with desk.transaction():
        if accept:
            checked = accept_report(desk, case.id, reason, keys)
            body: dict[str, Any] = {"link": link, "result": "accept"}
            text = _office_answer(desk, checked, keys, office_id)
            if text:
                checked = answer(desk, case.id, keys, text)
        else:
            checked = return_report(desk, case.id, reason, manual=manual, keys=keys)
            body = {
                "link": link,
                "result": "return",
                "reason": reason,
                "deadline": checked.due_date,
            }
            desk.db.execute(
                "UPDATE case_links SET due_date = ? WHERE case_id = ?", [checked.due_date, case.id]
            )
        sent = send(desk, office_id, "check", case.id, body)
        desk.event(case.id, "office-check-sent", {"result": body["result"], **sent})
    return load_case(desk.db, case.id)


def _office_answer(desk: Desk, case: Case, keys: OfficeKeys, office_id: str) -> str:
    """The latest answer to the reporter the lower office sent, if any."""
    notes = [
        n
        for n in read_notes(desk, case, keys)
        if n.kind == "answer" and n.reference == f"office:{office_id}"
    ]
    return notes[-1].text if notes else ""


# --- the lower office ------------------------------------------------------------------------
UP_KINDS = ("signed-for", "extension", "completion", "answer")


@desk_action("report-up")
def report_up(
    desk: Desk,
    ref: int | str,
    kind: str,
    *,
    text: str = "",
    answer_text: str = "",
) -> Case:
    """向上级报告: tell the upper office that the case was signed for, extended (``text``: the
    reasons; the case's new deadline goes up), concluded (``text``: the completion report, with
    the outcome; ``answer_text``: the answer to the reporter), or send the answer alone."""
    case = load_case(desk.db, ref)
    office_id, link, _ = _link(desk, case, "lower")
    linked(desk, office_id, "parent")
    body: dict[str, Any] = {"link": link, "date": desk.today.isoformat()}
    if kind == "signed-for":
        pass
    elif kind == "extension":
        body["reasons"] = clean_text(text, "--text", required=True)
        body["deadline"] = case.due_date
    elif kind == "completion":
        if case.state not in ("concluded", "answered") or case.outcome is None:
            raise Refused(
                f"case {case.label} is not concluded here yet (its completion report goes up"
                " once this office has accepted its unit's report)"
            )
        body["outcome"] = case.outcome
        body["text"] = clean_text(text, "--text", required=True)
        if answer_text:
            body["answer"] = clean_text(answer_text, "--answer", required=True)
    elif kind == "answer":
        body["answer"] = clean_text(answer_text or text, "--answer", required=True)
    else:
        raise BadValue(f"{kind!r} is not one of {', '.join(UP_KINDS)}", "KIND")
    with desk.transaction():
        sent = send(desk, office_id, kind, case.id, body)
        desk.db.execute(
            "UPDATE case_links SET remote_phase = ?, remote_date = ? WHERE case_id = ?",
            [kind, desk.today.isoformat(), case.id],
        )
        # The reporter holds a token of the upper office only: once the answer has gone up,
        # answering is the upper office's duty, not this office's (no answer deadline here).
        answered_up = "answer" in body and case.answer_due is not None
        updates = {"answer_due": None} if answered_up else {}
        change(desk, case, "progress-sent", updates, {"kind": kind, **sent})
    return load_case(desk.db, case.id)


# --- taking packages in ----------------------------------------------------------------------
@dataclass(frozen=True)
class Applied:
    """One incoming package applied to the register."""

    office_id: str
    seq: int
    kind: str
    case_label: str
    problem: str = ""


@desk_action("packages")
def apply_packages(desk: Desk, keys: OfficeKeys) -> list[Applied]:
    """Apply every package taken in and not yet applied, each in its own transaction: an
    assignment becomes a case; progress and checks go on the linked case's timeline."""
    rows = desk.db.execute(
        "SELECT id FROM packages WHERE direction = 'in' AND done_date IS NULL ORDER BY id"
    ).fetchall()
    out = []
    for (row_id,) in rows:
        package = stored_package(desk, int(row_id))
        try:
            secret = keys.secret(package.key_id, f"package {package.seq} from {package.sender}")
            payload = open_package(package, secret)
            with desk.transaction():
                case = _APPLY[package.kind](desk, keys, package.sender, payload.doc, payload)
                desk.db.execute(
                    "UPDATE packages SET case_id = ?, done_date = ? WHERE id = ?",
                    [case.id, desk.today.isoformat(), row_id],
                )
            out.append(Applied(package.sender, package.seq, package.kind, case.label))
        except (Refused, ProtocolError) as exc:
            problem = str(exc) if isinstance(exc, Refused) else exc.detail
            out.append(Applied(package.sender, package.seq, package.kind, "", problem))
    return out


def _linked_case(desk: Desk, office_id: str, doc: dict[str, Any]) -> Case:
    row = desk.db.execute(
        "SELECT case_id FROM case_links WHERE office_id = ? AND link = ?",
        [office_id, str(doc.get("link"))],
    ).fetchone()
    if row is None:
        raise Refused(f"no case here is linked to {doc.get('link')} of office {office_id}")
    return load_case(desk.db, int(row[0]))


def _origin(office_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    return {"office": office_id, "seq": doc["seq"], "link": doc["link"]}


def _apply_assignment(
    desk: Desk, keys: OfficeKeys, office_id: str, doc: dict[str, Any], payload: Any
) -> Case:
    """An assignment from the parent: a new case, registered as assigned from above, its
    deadline the parent's, the instructions kept as a note."""
    info, deadline = doc["case"], parse_day(str(doc["deadline"]), "deadline")
    reports = doc["reports"]
    if not isinstance(reports, list) or not reports:
        raise Refused("the assignment holds no report")
    key = keys.sealing_key()
    today = desk.today.isoformat()
    case_id = new_case(desk.db, info["channel"], today)
    files, receipts = payload.attachments, []
    for report in reports:
        try:
            envelope = seal_report(
                report,
                files,
                office_key=PublicKey(key.public_key),
                office_key_id=key.key_id,
                client_key=SigningKey.generate(),
            )
        except PayloadError as exc:
            raise Refused(f"the assignment's report is not valid: {exc}") from exc
        insert_submission(desk.db, envelope, case_id, today, opened_at=today)
        receipts.append(envelope.receipt_id.hex())
        files = ()  # the material travels once, with the first report
    desk.db.execute(
        "INSERT INTO case_links (case_id, office_id, role, link, due_date)"
        " VALUES (?, ?, 'lower', ?, ?)",
        [case_id, office_id, doc["link"], deadline.isoformat()],
    )
    received = {"channel": info["channel"], "received": today, "receipt_ids": receipts}
    desk.event(
        case_id, "received-from-office", {**received, **_origin(office_id, doc), "upper": info}
    )
    form = Registration(
        item_type=info["item_type"],
        problem_type=info["problem_type"],
        rank=info["rank"],
        region=info["region"],
        real_name=info["real_name"],
        source="assigned",
    )
    case = register(desk, case_id, form, keys)
    note = write_note(
        desk, case, keys, "step", str(doc["instructions"]), reference="交办 instructions"
    )
    updates = {"due_date": deadline.isoformat(), "due_uncertain": 0}
    data = {**_origin(office_id, doc), "wanted": doc.get("wanted", []), **note}
    change(desk, case, "office-assignment", updates, data)
    return load_case(desk.db, case_id)


def _apply_check(
    desk: Desk, keys: OfficeKeys, office_id: str, doc: dict[str, Any], payload: Any
) -> Case:
    """The parent's check of this office's completion report: accepted, or returned with
    reasons and a new deadline (the case is reopened for rework)."""
    case = _linked_case(desk, office_id, doc)
    origin = _origin(office_id, doc)
    if doc.get("result") == "accept":
        desk.db.execute(
            "UPDATE case_links SET remote_phase = 'accepted', remote_date = ? WHERE case_id = ?",
            [desk.today.isoformat(), case.id],
        )
        change(desk, case, "office-checked", {}, {**origin, "result": "accept"})
        return case
    deadline = parse_day(str(doc.get("deadline")), "deadline").isoformat()
    note = write_note(desk, case, keys, "reason", str(doc.get("reason", "")), reference="上级退回")
    updates = {
        "state": "in_progress",
        "phase": "rework",
        "due_date": deadline,
        "due_uncertain": 0,
        "concluded_date": None,
        "report_returns": (case.report_returns or 0) + 1,
    }
    desk.db.execute(
        "UPDATE case_links SET due_date = ?, remote_phase = 'returned', remote_date = ?"
        " WHERE case_id = ?",
        [deadline, desk.today.isoformat(), case.id],
    )
    change(desk, case, "office-checked", updates, {**origin, "result": "return", **note})
    return load_case(desk.db, case.id)


def _apply_progress(
    desk: Desk, keys: OfficeKeys, office_id: str, doc: dict[str, Any], payload: Any
) -> Case:
    """Progress from a child on the case this office assigned to it."""
    case = _linked_case(desk, office_id, doc)
    kind, origin = doc["kind"], _origin(office_id, doc)
    updates: dict[str, Any] = {}
    data: dict[str, Any] = {**origin, "date": doc.get("date")}
    if kind == "signed-for":
        if case.phase == "assigned":
            updates = {"phase": "signed", "signed_date": desk.today.isoformat()}
        event = "office-signed-for"
    elif kind == "extension":
        deadline = parse_day(str(doc.get("deadline")), "deadline").isoformat()
        updates = {"due_date": deadline, "extensions": (case.extensions or 0) + 1}
        data.update(write_note(desk, case, keys, "reason", str(doc["reasons"]), reference="延期"))
        desk.db.execute("UPDATE case_links SET due_date = ? WHERE case_id = ?", [deadline, case.id])
        event = "office-extended"
    elif kind == "completion":
        if case.phase not in ("assigned", "signed", "rework"):
            raise Refused(f"case {case.label} awaits no completion report (it is {case.phase})")
        if str(doc["outcome"]) not in desk.outcomes:
            raise Refused(f"the completion report's outcome {doc['outcome']!r} is unknown here")
        note = write_note(desk, case, keys, "report", str(doc["text"]), reference="办结报告")
        updates = {"phase": "reported", "report_date": desk.today.isoformat()}
        rounds = (case.report_returns or 0) + 1
        data.update(outcome=doc["outcome"], round=rounds, **note)
        event = "office-reported"
    else:  # answer
        data.update(_answer_note(desk, case, keys, office_id, str(doc["answer"])))
        event = "office-answer-received"
    desk.db.execute(
        "UPDATE case_links SET remote_phase = ?, remote_date = ? WHERE case_id = ?",
        [kind, desk.today.isoformat(), case.id],
    )
    change(desk, case, event, updates, data)
    if kind == "completion" and doc.get("answer"):  # one note per event (desk verify)
        note = _answer_note(desk, case, keys, office_id, str(doc["answer"]))
        change(desk, load_case(desk.db, case.id), "office-answer-received", {}, {**origin, **note})
    return load_case(desk.db, case.id)


def _answer_note(
    desk: Desk, case: Case, keys: OfficeKeys, office_id: str, text: str
) -> dict[str, Any]:
    return write_note(desk, case, keys, "answer", text, reference=f"office:{office_id}")


_APPLY = {
    "assignment": _apply_assignment,
    "check": _apply_check,
    "signed-for": _apply_progress,
    "extension": _apply_progress,
    "completion": _apply_progress,
    "answer": _apply_progress,
}
