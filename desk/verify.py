"""``verify``: is the register what its event log says it is?

Three checks, each reporting the case and the event position where it can:

1. the hash chain (:func:`lianxin.store.events.verify_chain`): an edited, reordered or deleted
   event breaks it;
2. replay: folding every event's recorded changes (``"set"``, tags, cleared ledgers) must give
   each case row exactly as it is, and every sealed answer and note must be present with the
   hash its event recorded, so a row edited outside the desk is caught too;
3. submissions: each stored envelope's receipt id must still be the hash of its contents.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from lianxin.protocol import Envelope
from lianxin.store.events import verify_chain

from .cases import COLUMNS, SELECT
from .context import Desk, store_kind
from .officekeys import digest
from .roles import desk_action
from .verify_signed import verify_signatures

MAX_PROBLEMS = 200


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


def _fold_events(db: sqlite_utils.Database) -> tuple[dict[int, _Fold], dict[str, dict[int, Any]]]:
    folds: dict[int, _Fold] = defaultdict(_Fold)
    sealed: dict[str, dict[int, Any]] = {"answers": {}, "notes": {}}
    for seq, case_id, at, kind, data in db.execute(
        "SELECT seq, case_id, at, type, data FROM events ORDER BY seq"
    ):
        if case_id is None:
            continue  # office events (the officer registry)
        doc = json.loads(data)
        fold = folds[case_id]
        fold.last = seq
        if kind == "received":
            fold.row.update(
                state="received", channel=doc.get("channel"), received_date=doc.get("received", at)
            )
        fold.row.update(doc.get("set", {}))
        if "tags" in doc:
            fold.tags = {t: fold.tags.get(t) for t in doc["tags"]}
        if doc.get("cleared_tags"):
            fold.tags = {t: cleared or at for t, cleared in fold.tags.items()}
        for answer_id, answer_hash in doc.get("answers", []):
            sealed["answers"][answer_id] = (case_id, answer_hash, seq)
        if "note" in doc:
            sealed["notes"][doc["note"]] = (case_id, doc["note_hash"], seq)
    return folds, sealed


def _replay(db: sqlite_utils.Database, report: Report) -> None:
    folds, sealed = _fold_events(db)
    tags: dict[int, dict[str, str | None]] = defaultdict(dict)
    for case_id, tag, cleared in db.execute("SELECT case_id, tag, cleared_date FROM case_tags"):
        tags[case_id][tag] = cleared
    columns = COLUMNS[1:]
    for row in db.execute(SELECT + " ORDER BY id"):
        report.cases += 1
        case_id = row[0]
        fold = folds.get(case_id)
        if fold is None or "state" not in fold.row:
            report.problems.append(Problem("replay", case_id, None, "has no 'received' event"))
            continue
        for name, value in zip(columns, row[1:], strict=True):
            if fold.row.get(name) != value:
                expected = fold.row.get(name)
                report.problems.append(
                    Problem(
                        "replay",
                        case_id,
                        fold.last,
                        f"{name} is {value!r} but its events say {expected!r}: "
                        "changed outside the desk",
                    )
                )
        if tags.get(case_id, {}) != fold.tags:
            report.problems.append(
                Problem("replay", case_id, fold.last, "special-ledger tags differ from its events")
            )
    for table in ("answers", "notes"):
        expected = sealed[table]
        for row_id, case_id, blob in db.execute(
            f"SELECT id, case_id, sealed FROM {table} ORDER BY id"  # noqa: S608 - fixed names
        ):
            want = expected.pop(row_id, None)
            if want is None or want[0] != case_id or want[1] != digest(bytes(blob)):
                position = want[2] if want else None
                report.problems.append(
                    Problem("sealed", case_id, position, f"{table[:-1]} {row_id} was altered")
                )
        for row_id, (case_id, _hash, seq) in expected.items():
            report.problems.append(
                Problem("sealed", case_id, seq, f"{table[:-1]} {row_id} was deleted")
            )


def _submissions(db: sqlite_utils.Database, report: Report) -> None:
    logged = {
        (case_id, json.loads(data).get("receipt_id"))
        for case_id, data in db.execute(
            "SELECT case_id, data FROM events WHERE type IN ('received', 'followup-received')"
        )
    }
    for sid, receipt_id, kind, case_id, key_id, author, ciphertext, sig in db.execute(
        "SELECT id, receipt_id, kind, case_id, key_id, author, ciphertext, sig FROM submissions"
    ):
        envelope = Envelope(kind, key_id, bytes(author), bytes(ciphertext), bytes(sig))
        if envelope.receipt_id != bytes(receipt_id):
            report.problems.append(
                Problem("submission", case_id, None, f"submission {sid} was altered")
            )
        elif (case_id, bytes(receipt_id).hex()) not in logged:
            report.problems.append(
                Problem("submission", case_id, None, f"submission {sid} has no event receiving it")
            )


def verify_register(db: sqlite_utils.Database) -> Report:
    """Run every check; the report lists at most :data:`MAX_PROBLEMS` problems."""
    report = Report()
    report.events = int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    chain = verify_chain(db)
    report.problems += [Problem("chain", p.case_id, p.position, p.reason) for p in chain]
    report.kind = store_kind(db)
    signed = verify_signatures(db, report.kind)
    report.signed, report.unsigned, report.legacy = signed.signed, signed.unsigned, signed.legacy
    report.first_admin, report.fingerprint = signed.first_admin, signed.fingerprint
    report.problems += [Problem("signature", c, s, m) for s, c, m in signed.problems]
    _replay(db, report)
    _submissions(db, report)
    del report.problems[MAX_PROBLEMS:]
    return report


@desk_action("verify")
def verify_desk(desk: Desk) -> Report:
    """``desk verify`` for the acting officer (auditors and administrators)."""
    return verify_register(desk.db)
