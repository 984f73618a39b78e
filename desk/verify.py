"""``verify``: is the register what its event log says it is?

Three checks, each reporting the case and the event position where it can (the first in
sequence order, the others a range of cases at a time, so both split over processes):

1. the hash chain (as :func:`lianxin.store.events.verify_chain`, in the signature pass's own
   cursor): an edited, reordered or deleted event breaks it;
2. replay: folding every event's recorded changes (``"set"``, tags, cleared ledgers) must give
   each case row exactly as it is, and every sealed answer, note, record of what a reporter
   sent and message from the office must be present with the hash its event recorded, so a
   row edited outside the desk is caught too;
3. submissions: each stored envelope's receipt id must still be the hash of its contents; an
   envelope removed once its content was held under the case key (:mod:`desk.envelopes`) must
   be recorded by a signed event, with the hash of its case-key copy.

Material destroyed after its retention period (:mod:`desk.retention`) is recorded by a signed
``material-destroyed`` event naming the rows: their absence is then expected, not "deleted".
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from lianxin.protocol import Envelope

from .cases import COLUMNS, SELECT
from .context import store_kind
from .envelopes import is_removed
from .officekeys import digest
from .verify_signed import SignedReport, verify_signatures

MAX_PROBLEMS = 200
# the (signed) event types that may remove envelopes: registration, opening a follow-up to a
# registered case, a recusal, and sealing an older store's envelopes
REMOVING = frozenset({"registered", "opened", "recused", "envelopes-sealed"})


@dataclass(frozen=True)
class Problem:
    """One thing that does not add up."""

    check: str  # chain | signature | replay | sealed | submission | head
    case_id: int | None
    position: int | None  # event sequence number, where one applies
    message: str

    def __str__(self) -> str:
        where = f"event {self.position}, " if self.position is not None else ""
        case = f"case {self.case_id}" if self.case_id is not None else "no case"
        return f"{self.check}: {where}{case}: {self.message}"


@dataclass
class Report:
    """The outcome of ``verify``."""

    events: int = 0
    cases: int = 0
    kind: str = "production"
    signed: int = 0
    unsigned: int = 0
    legacy: int = 0
    first_admin: str | None = None
    fingerprint: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """For JSON output."""
        return {
            "ok": self.ok,
            "events": self.events,
            "cases": self.cases,
            "store_kind": self.kind,
            "signed": self.signed,
            "unsigned": self.unsigned,
            "legacy": self.legacy,
            "first_admin": self.first_admin,
            "first_admin_fingerprint": self.fingerprint,
            "problems": [p.__dict__ | {"text": str(p)} for p in self.problems],
        }


@dataclass
class _Fold:
    row: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str | None] = field(default_factory=dict)
    last: int = 0


@dataclass
class _Chunk:
    """What the events of one range of cases say."""

    folds: dict[int, _Fold] = field(default_factory=lambda: defaultdict(_Fold))
    answers: dict[int, Any] = field(default_factory=dict)
    notes: dict[int, Any] = field(default_factory=dict)
    sent: dict[int, Any] = field(default_factory=dict)  # records of what the reporter sent
    messages: set[int] = field(default_factory=set)  # the office's messages among ``sent``
    destroyed: dict[int, Any] = field(default_factory=dict)  # submissions, by retention
    removed: dict[int, Any] = field(default_factory=dict)
    logged: set[tuple[int, str]] = field(default_factory=set)


# an event's JSON is parsed only when it holds one of these (most reads and openings do not)
_FOLDED = ('"set"', '"tags"', '"cleared_tags"', '"answers"', '"note"', '"notes_resealed"',
           '"envelopes_removed"', '"sent"', '"messages"')  # fmt: skip
DESTROYING = "material-destroyed"  # retention (desk.retention): the rows it names are gone
_RECEIVING = frozenset({"received", "followup-received", "received-from-office"})
_OPENING = frozenset({"received", "received-from-office"})  # a case's first event


def _fold_events(db: sqlite_utils.Database, lo: int, hi: int) -> _Chunk:
    out = _Chunk()
    for seq, case_id, at, kind, data in db.execute(
        "SELECT seq, case_id, at, type, data FROM events WHERE case_id > ? AND case_id <= ?"
        " ORDER BY case_id, seq",
        [lo, hi],
    ):
        fold = out.folds[case_id]
        fold.last = seq
        if kind not in _RECEIVING and kind != DESTROYING and not any(k in data for k in _FOLDED):
            continue
        doc = json.loads(data)
        if kind in _RECEIVING:  # an assignment from above may carry several reports
            for receipt in doc.get("receipt_ids") or [doc.get("receipt_id")]:
                out.logged.add((case_id, receipt))
        if kind in _OPENING:
            fold.row.update(
                state="received", channel=doc.get("channel"), received_date=doc.get("received", at)
            )
        fold.row.update(doc.get("set", {}))
        if "tags" in doc:
            fold.tags = {t: fold.tags.get(t) for t in doc["tags"]}
        if doc.get("cleared_tags"):
            fold.tags = {t: cleared or at for t, cleared in fold.tags.items()}
        for answer_id, answer_hash in doc.get("answers", []):
            out.answers[answer_id] = (case_id, answer_hash, seq)
        for item_id, item_hash in doc.get("sent", []):
            out.sent[item_id] = (case_id, item_hash, seq)
        for item_id, item_hash in doc.get("messages", []):  # reporter_items too
            out.sent[item_id] = (case_id, item_hash, seq)
            out.messages.add(item_id)
        if "note" in doc:
            out.notes[doc["note"]] = (case_id, doc["note_hash"], seq)
        for note_id, note_hash in doc.get("notes_resealed", []):
            out.notes[note_id] = (case_id, note_hash, seq)
        for sid, receipt, copy_hash in doc.get("envelopes_removed", []) if kind in REMOVING else []:
            out.removed[sid] = (case_id, receipt, copy_hash, seq)
        if kind == DESTROYING:  # signed by an officer allowed to (the signature pass checks)
            _fold_destroyed(out, case_id, doc, seq)
    return out


def _fold_destroyed(out: _Chunk, case_id: int, doc: dict[str, Any], seq: int) -> None:
    """The rows a retention event destroyed are no longer expected (the event recorded them)."""
    destroyed = doc.get("destroyed", {})
    for key, expected in (("notes", out.notes), ("answers", out.answers), ("items", out.sent)):
        for row_id in destroyed.get(key, []):
            if row_id in expected and expected[row_id][0] == case_id:
                del expected[row_id]
    for sid, receipt in destroyed.get("content", []):
        out.destroyed[sid] = (case_id, receipt, seq)


_ITEM_WHAT = "CASE WHEN kind LIKE 'message:%' THEN 'message' ELSE 'sent record' END"


def _replay(db: sqlite_utils.Database, lo: int, hi: int, problems: list[Problem]) -> int:
    """Check the cases ``lo < id <= hi`` and their sealed items and submissions against
    their events; returns how many cases there were."""
    chunk = _fold_events(db, lo, hi)
    folds = chunk.folds
    tags: dict[int, dict[str, str | None]] = defaultdict(dict)
    for case_id, tag, cleared in db.execute(
        "SELECT case_id, tag, cleared_date FROM case_tags WHERE case_id > ? AND case_id <= ?",
        [lo, hi],
    ):
        tags[case_id][tag] = cleared
    columns = COLUMNS[1:]
    cases = 0
    for row in db.execute(SELECT + " WHERE id > ? AND id <= ? ORDER BY id", [lo, hi]):
        cases += 1
        case_id = row[0]
        fold = folds.get(case_id)
        if fold is None or "state" not in fold.row:
            problems.append(Problem("replay", case_id, None, "has no 'received' event"))
            continue
        for name, value in zip(columns, row[1:], strict=True):
            if fold.row.get(name) != value:
                expected = fold.row.get(name)
                problems.append(
                    Problem(
                        "replay",
                        case_id,
                        fold.last,
                        f"{name} is {value!r} but its events say {expected!r}: "
                        "changed outside the desk",
                    )
                )
        if tags.get(case_id, {}) != fold.tags:
            problems.append(
                Problem("replay", case_id, fold.last, "special-ledger tags differ from its events")
            )
    for table, what, expected in (
        ("answers", "'answer'", chunk.answers),
        ("notes", "'note'", chunk.notes),
        # a reporter item is a sent record (kind report, material, ...) or a message
        ("reporter_items", _ITEM_WHAT, chunk.sent),
    ):
        for row_id, case_id, blob, label in db.execute(
            f"SELECT id, case_id, CAST(sealed AS BLOB), {what} FROM {table}"  # noqa: S608
            " WHERE case_id > ? AND case_id <= ? ORDER BY id",
            [lo, hi],
        ):
            want = expected.pop(row_id, None)
            if want is None or want[0] != case_id or want[1] != digest(bytes(blob)):
                position = want[2] if want else None
                problems.append(
                    Problem("sealed", case_id, position, f"{label} {row_id} was altered")
                )
        for row_id, (case_id, _hash, seq) in expected.items():
            label = what.strip("'")
            if table == "reporter_items":
                label = "message" if row_id in chunk.messages else "sent record"
            problems.append(Problem("sealed", case_id, seq, f"{label} {row_id} was deleted"))
    _submissions(db, lo, hi, chunk, problems)
    return cases


def _submissions(
    db: sqlite_utils.Database, lo: int, hi: int, chunk: _Chunk, problems: list[Problem]
) -> None:
    """Each stored envelope's receipt id is still the hash of its contents; an envelope whose
    ciphertext was removed must be recorded by the signed event that removed it, and its copy
    under the case key must have the hash that event recorded."""
    copies = {
        sid: digest(bytes(blob))
        for sid, blob in db.execute(
            "SELECT c.submission_id, CAST(c.sealed AS BLOB) FROM submissions s JOIN case_content"
            " c ON c.submission_id = s.id WHERE s.case_id > ? AND s.case_id <= ?"
            " AND length(s.ciphertext) = 0",
            [lo, hi],
        )
    }
    for sid, receipt_id, kind, case_id, key_id, author, ciphertext, sig in db.execute(
        "SELECT id, receipt_id, kind, case_id, key_id, author, ciphertext, sig FROM submissions"
        " WHERE case_id > ? AND case_id <= ? ORDER BY id",
        [lo, hi],
    ):
        receipt = bytes(receipt_id)
        if not is_removed(bytes(ciphertext)):
            envelope = Envelope(kind, key_id, bytes(author), bytes(ciphertext), bytes(sig))
            if envelope.receipt_id != receipt:
                problems.append(
                    Problem("submission", case_id, None, f"submission {sid} was altered")
                )
                continue
        if (case_id, receipt.hex()) not in chunk.logged:
            problems.append(
                Problem("submission", case_id, None, f"submission {sid} has no event receiving it")
            )
        elif sid in chunk.destroyed:
            case, receipt_hex, seq = chunk.destroyed[sid]
            if case != case_id or receipt_hex != receipt.hex():
                problems.append(
                    Problem(
                        "submission", case_id, seq, f"submission {sid} is not the one destroyed"
                    )
                )
            elif not is_removed(bytes(ciphertext)) or sid in copies:
                problems.append(
                    Problem(
                        "submission",
                        case_id,
                        seq,
                        f"submission {sid} was destroyed (retention) but its content is stored",
                    )
                )
        elif is_removed(bytes(ciphertext)):
            record = chunk.removed.get(sid)
            if record is None or record[0] != case_id or record[1] != receipt.hex():
                problems.append(
                    Problem(
                        "submission",
                        case_id,
                        None,
                        f"submission {sid}'s envelope was removed without a signed event"
                        " recording it",
                    )
                )
            elif copies.get(sid) != record[2]:
                what = "deleted" if sid not in copies else "altered"
                problems.append(
                    Problem(
                        "sealed",
                        case_id,
                        record[3],
                        f"the case-key copy of submission {sid} was {what}",
                    )
                )


CHUNK = 20_000  # cases folded at a time: memory stays bounded at any register size


def case_span(db: sqlite_utils.Database) -> int:
    """The highest case id any table names (cases, events, notes, answers, submissions)."""
    top = 0
    for table, column in (("cases", "id"), ("events", "case_id"), ("notes", "case_id"),
                          ("answers", "case_id"), ("submissions", "case_id")):  # fmt: skip
        row = db.execute(f"SELECT max({column}) FROM {table}").fetchone()  # noqa: S608
        top = max(top, int(row[0] or 0))
    return top


def check_cases(
    db: sqlite_utils.Database, lo: int = 0, hi: int | None = None
) -> tuple[int, list[Problem]]:
    """Replay, sealed items and submissions of the cases ``lo < id <= hi`` (all by
    default), :data:`CHUNK` cases at a time; returns the cases counted and the problems."""
    top = case_span(db) if hi is None else hi
    problems: list[Problem] = []
    cases = 0
    start = lo
    while start < top and len(problems) <= MAX_PROBLEMS:
        end = min(start + CHUNK, top)
        cases += _replay(db, start, end, problems)
        start = end
    return cases, problems


def verify_register(db: sqlite_utils.Database) -> Report:
    """Run every check in this process; the report lists at most :data:`MAX_PROBLEMS`
    problems. (``desk verify`` runs the same checks on both cores:
    :func:`desk.verify_parallel.verify_full`.)"""
    report = Report()
    report.kind = store_kind(db)
    signed = verify_signatures(db, report.kind, chain=True)
    absorb_signed(report, signed)
    report.cases, problems = check_cases(db)
    report.problems += problems
    del report.problems[MAX_PROBLEMS:]
    return report


def absorb_signed(report: Report, signed: SignedReport) -> None:
    """Add a chain-and-signature pass's counts and problems to ``report``."""
    report.events += signed.signed + signed.unsigned + signed.legacy
    report.signed += signed.signed
    report.unsigned += signed.unsigned
    report.legacy += signed.legacy
    report.first_admin = report.first_admin or signed.first_admin
    report.fingerprint = report.fingerprint or signed.fingerprint
    report.problems += [Problem("chain", c, s, m) for s, c, m in signed.chain]
    report.problems += [Problem("signature", c, s, m) for s, c, m in signed.problems]
