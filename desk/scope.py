"""Who is in a case's scope, kept true by keys: registration, routing, recusal, content.

* :func:`seal_content` (at registration): each opened submission of the case is copied
  under the case key, so handlers read it without the office key.
* :func:`rescope` (at routing): the case key is wrapped to the new unit's handlers, and
  removed from officers no longer in scope.
* :func:`recuse` (回避): an approver removes a named officer from one case.
"""

from __future__ import annotations

import json
from typing import Any

from lianxin.protocol import Envelope, open_envelope

from .casekeys import (
    case_key,
    has_case_key,
    in_scope,
    new_case_key,
    open_case,
    open_case_key,
    revoke,
    seal_case,
    wrap_case_key,
)
from .cases import Case, load_case
from .context import Desk
from .envelopes import drop_envelopes, envelope_problem, envelopes_kept, is_removed
from .officekeys import OfficeKeys, digest
from .officers import load_officer
from .refusals import BadValue, Refused
from .roles import desk_action
from .values import clean_text


def ensure_case_key(desk: Desk, case: Case, unit: str | None) -> bytes:
    """The case key (made now for a case registered before accounts existed)."""
    if has_case_key(desk.db, case.id):
        return case_key(desk, case.id, case.label)
    return new_case_key(desk, case.id, unit)


def rescope(desk: Desk, case: Case, unit: str | None) -> dict[str, Any]:
    """Wrap the case key to everyone now in scope; drop the rest. Returns event data."""
    key = ensure_case_key(desk, case, unit)
    scope = in_scope(desk.db, case.id, unit)
    added = wrap_case_key(desk.db, case.id, key, scope)
    keep = {o.id for o in scope}
    removed = []
    for (holder,) in desk.db.execute(
        "SELECT holder FROM case_keys WHERE case_id = ? AND holder NOT LIKE 'office:%'",
        [case.id],
    ).fetchall():
        if holder not in keep:
            revoke(desk.db, holder, case.id)
            removed.append(holder)
    out: dict[str, Any] = {}
    if added:
        out["granted"] = sorted(added)
    if removed:
        out["revoked"] = sorted(removed)
    return out


def seal_content(desk: Desk, case: Case, key: bytes, keys: OfficeKeys) -> dict[str, Any]:
    """Copy each submission of the case the office keys open under the case key, then remove
    the original envelopes so copied (:mod:`desk.envelopes`), and move notes written before
    registration (sealed to the office key) under the case key. Returns the event data that
    records it (what was removed and resealed, with hashes ``desk verify`` checks)."""
    copied = 0
    for sid, kind, key_id, author, ciphertext, sig in desk.db.execute(
        "SELECT id, kind, key_id, author, ciphertext, sig FROM submissions WHERE case_id = ?"
        " AND id NOT IN (SELECT submission_id FROM case_content)",
        [case.id],
    ).fetchall():
        if key_id not in keys.secrets or is_removed(bytes(ciphertext)):
            continue
        envelope = Envelope(kind, key_id, bytes(author), bytes(ciphertext), bytes(sig))
        if envelope_problem(desk.db, envelope):
            continue  # altered after the gateway accepted it: inbox and verify show it
        payload = open_envelope(envelope, keys.secrets)
        doc = {
            "kind": kind,
            "document": payload.doc,
            "attachments": [
                {"name": a.name, "type": a.type, "data": a.data.hex()} for a in payload.attachments
            ],
        }
        blob = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
        desk.db.execute(
            "INSERT INTO case_content (submission_id, case_id, sealed) VALUES (?, ?, ?)",
            [sid, case.id, seal_case(key, blob)],
        )
        copied += 1
    out: dict[str, Any] = {"content_sealed": copied}
    removed = drop_envelopes(desk.db, case.id)
    if removed:
        out["envelopes_removed"] = removed
    resealed = _reseal_notes(desk, case, key, keys)
    if resealed:
        out["notes_resealed"] = resealed
    return out


def _reseal_notes(desk: Desk, case: Case, key: bytes, keys: OfficeKeys) -> list[list[Any]]:
    out: list[list[Any]] = []
    for note_id, key_id, sealed in desk.db.execute(
        "SELECT id, key_id, sealed FROM notes WHERE case_id = ? AND sealed_with = 'office'"
        " ORDER BY id",
        [case.id],
    ).fetchall():
        secret = keys.secrets.get(key_id)
        if secret is None:
            continue
        resealed = seal_case(key, secret.open(bytes(sealed)))
        desk.db.execute(
            "UPDATE notes SET sealed = ?, key_id = 'case', sealed_with = 'case' WHERE id = ?",
            [resealed, note_id],
        )
        out.append([note_id, digest(resealed)])
    return out


def read_content(desk: Desk, case: Case) -> list[dict[str, Any]]:
    """The case's report content as the acting officer's case key opens it."""
    rows = desk.db.execute(
        "SELECT submission_id, sealed FROM case_content WHERE case_id = ? ORDER BY submission_id",
        [case.id],
    ).fetchall()
    if not rows:
        return []
    key = case_key(desk, case.id, case.label)
    out = []
    for sid, sealed in rows:
        doc = json.loads(open_case(key, bytes(sealed)))
        out.append({"submission": sid, **doc})
    return out


@desk_action("recuse")
def recuse(desk: Desk, ref: int | str, officer_id: str, reason: str) -> Case:
    """回避: remove ``officer_id`` from the case's scope (their key wrap is deleted)."""
    case = load_case(desk.db, ref)
    officer = load_officer(desk.db, officer_id, "--recuse")
    text = clean_text(reason, "--reason", required=True)
    if officer.id == desk.actor():
        raise BadValue("recuse yourself by asking another approver", "--recuse")
    if desk.db.execute(
        "SELECT 1 FROM recusals WHERE case_id = ? AND officer = ?", [case.id, officer.id]
    ).fetchone():
        raise Refused(f"officer {officer.id} is already recused from case {case.label}")
    from .notes import note_ready, write_note

    note_ready(desk, case, None)
    with desk.transaction():
        desk.db.execute(
            "INSERT INTO recusals (case_id, officer) VALUES (?, ?)", [case.id, officer.id]
        )
        removed = revoke(desk.db, officer.id, case.id)
        note = write_note(desk, case, None, "reason", text)  # type: ignore[arg-type]
        data: dict[str, Any] = {"officer": officer.id, "wraps_removed": removed, **note}
        dropped = drop_envelopes(desk.db, case.id)
        if dropped:
            data["envelopes_removed"] = dropped
        kept = envelopes_kept(desk.db, case.id)
        if kept:
            data["envelopes_kept"] = kept
        desk.event(case.id, "recused", data)
    return case


@desk_action("seal-envelopes")
def seal_envelopes(desk: Desk, keys: OfficeKeys) -> tuple[int, int, list[str]]:
    """For a store made before envelopes were removed at registration: copy each registered
    case's submissions under its case key (made now for a case registered before accounts)
    and remove their envelopes, one signed ``envelopes-sealed`` event per case. Returns the
    cases done, the envelopes removed, and the cases the acting registrar holds no key for
    (another registrar in scope must run it)."""
    rows = desk.db.execute(
        "SELECT DISTINCT s.case_id FROM submissions s JOIN cases c ON c.id = s.case_id"
        " WHERE c.number IS NOT NULL AND length(s.ciphertext) > 0 ORDER BY s.case_id"
    ).fetchall()
    done, removed, skipped = 0, 0, []
    for (case_id,) in rows:
        case = load_case(desk.db, case_id)
        with desk.transaction():
            data: dict[str, Any] = {}
            if has_case_key(desk.db, case.id):
                key = open_case_key(desk.db, case.id, desk.me())
                if key is None:
                    skipped.append(case.label)
                    continue
            else:
                key = new_case_key(desk, case.id, case.unit)
                data["case_key"] = sorted(o.id for o in in_scope(desk.db, case.id, case.unit))
            data.update(seal_content(desk, case, key, keys))
            desk.event(case.id, "envelopes-sealed", data)
        done += 1
        removed += len(data.get("envelopes_removed", []))
    return done, removed, skipped
