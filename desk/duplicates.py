"""Suggesting repeat reports (重复举报) among opened reports, for staff to confirm.

Chinese has no spaces, so texts are compared as sets of character bigrams (two consecutive
Han characters, letters or digits; punctuation and spaces dropped), scored with the Dice
coefficient ``2|A∩B| / (|A| + |B|)``. Reports about the same person at the same unit need less
textual similarity to be suggested. Nothing is changed: staff confirm a suggestion with
``register LATER --repeat-of EARLIER``. Candidate pairs come from an inverted index of bigrams,
so only reports that share text are compared.
"""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from lianxin.protocol import Envelope, ProtocolError, open_envelope

from .context import Desk
from .envelopes import is_removed
from .officekeys import OfficeKeys
from .roles import desk_action
from .values import command_ref

THRESHOLD = 0.6
SAME_PERSON_THRESHOLD = 0.3
MAX_SHARED = 200  # bigrams in more reports than this say little (常见词) and are skipped


@dataclass(frozen=True)
class Report:
    """What comparison needs of one opened report."""

    case_id: int
    label: str
    received: str
    title: str
    person: tuple[str, str]
    grams: frozenset[str]


@dataclass(frozen=True)
class Suggestion:
    """A likely repeat: ``later`` probably repeats ``earlier``."""

    earlier: int
    later: int
    earlier_label: str
    later_label: str
    score: float
    same_person: bool
    earlier_title: str
    later_title: str

    @property
    def command(self) -> str:
        """The ``register`` command that confirms it."""
        later = command_ref(self.later_label, self.later)
        return f"register {later} --repeat-of {command_ref(self.earlier_label, self.earlier)}"

    def as_dict(self) -> dict[str, Any]:
        """For JSON and CSV output."""
        return {**self.__dict__, "score": round(self.score, 3), "command": self.command}


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if c.isalnum())


def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of ``text`` (letters, digits and Han characters only)."""
    clean = _normal(text)
    return frozenset(clean[i : i + 2] for i in range(len(clean) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice similarity of two bigram sets."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def opened_reports(desk: Desk, keys: OfficeKeys) -> list[Report]:
    """Open every report that staff have already opened (first report of each case)."""
    rows = desk.db.execute(
        "SELECT s.id, s.case_id, c.number, s.received_date, s.kind, s.key_id, s.author,"
        " s.ciphertext, s.sig FROM submissions s JOIN cases c ON c.id = s.case_id"
        " WHERE s.kind = 'report' AND s.opened_at IS NOT NULL ORDER BY s.id"
    ).fetchall()
    out: dict[int, Report] = {}
    for sid, case_id, number, received, kind, key_id, author, ciphertext, sig in rows:
        if case_id in out:
            continue
        if is_removed(bytes(ciphertext)):  # registered: read under the case key, in scope only
            found = _case_copy(desk, case_id, sid)
            if found is None:
                continue
            doc = found
        else:
            keys.secret(key_id, f"the report of case {number or case_id}")
            envelope = Envelope(kind, key_id, bytes(author), bytes(ciphertext), bytes(sig))
            try:
                doc = open_envelope(envelope, keys.secrets).doc
            except ProtocolError:
                continue  # shown as a problem by inbox and verify; nothing to compare
        reported = doc.get("reported", {})
        out[case_id] = Report(
            case_id,
            number or f"#{case_id}",
            received,
            str(doc.get("title", "")),
            (_normal(str(reported.get("name", ""))), _normal(str(reported.get("unit", "")))),
            bigrams(f"{doc.get('title', '')} {doc.get('text', '')}"),
        )
    with desk.transaction():
        for case_id in out:
            desk.event(case_id, "read", {"what": "report", "for": "duplicates"})
    return list(out.values())


def _case_copy(desk: Desk, case_id: int, sid: int) -> dict[str, Any] | None:
    """The report's document from its case-key copy, or None when the officer holds no key
    for the case (recused, for one): then it is not compared."""
    from .casekeys import open_case, open_case_key

    key = open_case_key(desk.db, case_id, desk.me())
    row = desk.db.execute(
        "SELECT sealed FROM case_content WHERE submission_id = ?", [sid]
    ).fetchone()
    if key is None or row is None:
        return None
    doc = json.loads(open_case(key, bytes(row[0])))["document"]
    return doc if isinstance(doc, dict) else None


def _linked(desk: Desk) -> set[tuple[int, int]]:
    rows = desk.db.execute("SELECT id, repeat_of FROM cases WHERE repeat_of IS NOT NULL")
    return {(min(a, b), max(a, b)) for a, b in rows}


@desk_action("duplicates")
def find_duplicates(
    desk: Desk, keys: OfficeKeys, *, threshold: float = THRESHOLD
) -> list[Suggestion]:
    """Likely repeats among opened reports, best first; pairs already linked are left out."""
    reports = opened_reports(desk, keys)
    index: dict[str, list[int]] = defaultdict(list)
    for i, report in enumerate(reports):
        for gram in report.grams:
            index[gram].append(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for holders in index.values():
        if len(holders) > MAX_SHARED:
            continue
        for x, i in enumerate(holders):
            for j in holders[x + 1 :]:
                shared[(i, j)] += 1
    by_person: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, report in enumerate(reports):  # same person, even with little text in common
        if report.person[0]:
            by_person[report.person].append(i)
    for holders in by_person.values():
        for x, i in enumerate(holders):
            for j in holders[x + 1 :]:
                shared.setdefault((i, j), 0)
    linked = _linked(desk)
    out = []
    for (i, j), _count in shared.items():
        a, b = sorted((reports[i], reports[j]), key=lambda r: (r.received, r.case_id))
        if (min(a.case_id, b.case_id), max(a.case_id, b.case_id)) in linked:
            continue
        score = dice(a.grams, b.grams)
        same = bool(a.person[0]) and a.person == b.person
        if score >= threshold or (same and score >= SAME_PERSON_THRESHOLD):
            out.append(
                Suggestion(a.case_id, b.case_id, a.label, b.label, score, same, a.title, b.title)
            )
    out.sort(key=lambda s: (-s.score, s.later))
    return out
