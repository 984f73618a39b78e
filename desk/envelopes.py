"""The original envelopes in the live store: kept while a submission waits in the inbox,
removed once its content is held under the case key.

An envelope is sealed to the office key, and the office key is wrapped to every registrar: as
long as it is stored, every registrar can open it, recused or not. So when a registered case's
submission is copied under the case key (at registration, when a follow-up to a registered case
is opened, by a recusal, or by ``desk seal-envelopes`` for a store made before this), its
ciphertext is removed from ``submissions`` (the column keeps an empty value): the case-key copy
is then the only one the live store can open, and the case key is wrapped only to the officers
in scope. What the rest of Lianxin reads from a submission stays: the receipt id (receipts, the
gateway's duplicate detection, the public log, the status pages), kind, office key id, author
(the client key or the follow-up's lookup id, which the token table names), signature and dates.

The signed event that removes envelopes records, for each, its receipt id and the hash of its
case-key copy; ``desk verify`` checks those in place of recomputing the receipt id. A submission
still in the inbox (not yet registered into a case) is necessarily openable by the registrars:
that is what the office key is for.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from nacl.signing import VerifyKey

from lianxin.protocol import Envelope, SignatureError

from .officekeys import digest

REMOVED = b""


def is_removed(ciphertext: bytes) -> bool:
    """Whether a stored envelope's ciphertext was removed (its content is under a case key)."""
    return len(ciphertext) == 0


def envelope_problem(db: sqlite_utils.Database, envelope: Envelope) -> str:
    """Why a stored envelope's signature does not check out ("" when it does)."""
    try:
        if envelope.kind == "report":
            envelope.verify()
            return ""
        row = db.execute(
            "SELECT followup_vk FROM tokens WHERE lookup_id = ?", [envelope.author]
        ).fetchone()
        if row is None:
            return "no token is registered for this follow-up's lookup id"
        envelope.verify(VerifyKey(bytes(row[0])))
    except SignatureError:
        return "the signature does not verify: the stored envelope was altered"
    return ""


def drop_envelopes(db: sqlite_utils.Database, case_id: int) -> list[list[Any]]:
    """Remove the ciphertext of every envelope of the case whose content is held under the
    case key (inside the caller's transaction); returns ``[submission, receipt id, hash of
    the case-key copy]`` for each, for the event that records it."""
    rows = db.execute(
        "SELECT s.id, s.receipt_id, c.sealed FROM submissions s JOIN case_content c"
        " ON c.submission_id = s.id WHERE s.case_id = ? AND length(s.ciphertext) > 0"
        " ORDER BY s.id",
        [case_id],
    ).fetchall()
    for sid, _receipt, _sealed in rows:
        db.execute("UPDATE submissions SET ciphertext = ? WHERE id = ?", [REMOVED, sid])
    return [[sid, bytes(receipt).hex(), digest(bytes(sealed))] for sid, receipt, sealed in rows]


def envelopes_kept(db: sqlite_utils.Database, case_id: int) -> int:
    """How many envelopes of the case are still stored (sealed to the office key)."""
    row = db.execute(
        "SELECT count(*) FROM submissions WHERE case_id = ? AND length(ciphertext) > 0",
        [case_id],
    ).fetchone()
    return int(row[0])
