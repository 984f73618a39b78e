"""``verify``'s signature pass: every event signed by an officer who held the right role.

Replays the officer registry from the chain (``office-created`` self-signed by the first
administrator, then account changes signed by administrators) and, for each event:

* a legacy (version 1) event may only come before the first signed one;
* an unsigned event is allowed only from the gateway (``received``, ``followup-received``),
  or as ``synthetic`` data in demo and test stores;
* the signature must verify with the key the registry gave its officer at that point; the
  officer must be active and hold a role whose action writes that event type (a handler only
  on a case of their unit);
* wall-clock times never go backwards, and the office-local date is that time's date (±1 day
  for the office's time zone).

Finally the ``officers`` table must match the registry the events describe.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import sqlite_utils
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError

from lianxin.store.events import GENESIS, row_hash

from .officers import all_officers
from .roles import ROLEBOOK

GATEWAY_TYPES = frozenset({"received", "followup-received"})
OFFICE_TYPES = frozenset(
    {"office-created", "officer-added", "officer-roles", "officer-disabled", "officer-passphrase",
     "case-keys-granted"}
)  # fmt: skip


@dataclass
class _Account:
    sign_pk: bytes
    unit: str
    roles: tuple[str, ...]
    disabled: bool = False


@dataclass
class SignedReport:
    """What the signature pass found (and the chain pass, when asked for)."""

    signed: int = 0
    unsigned: int = 0
    legacy: int = 0
    first_admin: str | None = None
    fingerprint: str | None = None
    problems: list[tuple[int | None, int | None, str]] = field(default_factory=list)
    chain: list[tuple[int, int | None, str]] = field(default_factory=list)


@cache
def _allowed(kind: str, roles: tuple[str, ...], own_unit: bool) -> str | None:
    """Why an officer with ``roles`` may not write ``kind`` (None when they may);
    ``own_unit``: the case is assigned to the officer's unit. Cached: a few dozen answers
    serve millions of events."""
    actions = ROLEBOOK.actions_writing(kind)
    if not actions:
        return f"unknown event type {kind!r}"
    for action in actions:
        held = [r for r in action.roles if r in roles]
        if not held:
            continue
        if action.unit_scope and held == ["handler"] and not own_unit:
            continue
        return None
    needed = " or ".join(sorted({ROLEBOOK.needed(a) for a in actions}))
    has = ", ".join(roles) or "no role"
    return f"{kind} needs the role {needed} (in scope); its officer had {has} at the time"


def _apply(kind: str, doc: dict[str, Any], registry: dict[str, _Account]) -> None:
    if kind in ("office-created", "officer-added"):
        o = doc["officer"]
        registry[o["id"]] = _Account(bytes.fromhex(o["sign_pk"]), o["unit"], tuple(o["roles"]))
    elif kind == "officer-roles" and doc.get("id") in registry:
        account = registry[doc["id"]]
        account.roles, account.unit = tuple(doc["roles"]), doc["unit"]
    elif kind == "officer-disabled" and doc.get("id") in registry:
        registry[doc["id"]].disabled = True


def _date_matches(at: str, time: str) -> bool:
    if at == time[:10]:
        return True
    try:
        return abs((date.fromisoformat(at) - date.fromisoformat(time[:10])).days) <= 1
    except ValueError:
        return False


def verify_signatures(
    db: sqlite_utils.Database,
    kind: str,
    *,
    since: int = 0,
    until: int | None = None,
    chain: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SignedReport:
    """The signature pass over every event, or over ``since < seq <= until`` (a day's events
    since the last signed chain head, or one worker's share): the officer registry is then
    replayed from the office events before it, the time order starts from the event at
    ``since``, and case units come from the register (a handler's unit scope is checked
    against the case's present unit).

    With ``chain``, the same pass (one cursor over the rows) also recomputes the hash chain
    from the stored hash of event ``since``, as :func:`lianxin.store.events.verify_chain`
    does, into ``chain``: the first break is reported and the chain check stops there.
    Signatures are checked with libsodium directly (``crypto_sign_open``), no key object per
    event."""
    out = SignedReport()
    registry: dict[str, _Account] = {}
    units: dict[int, str | None] = {}
    last_time: str | None = None
    seen_signed = False
    top = until if until is not None else 2**62
    prev, expected, chaining = GENESIS, since + 1, chain
    if since:
        units = dict(  # only the cases the share touches: an incremental pass stays small
            db.execute(
                "SELECT id, unit FROM cases WHERE id IN (SELECT case_id FROM events"
                " WHERE seq > ? AND seq <= ?)",
                [since, top],
            ).fetchall()
        )
        row = db.execute(
            "SELECT max(time) FROM events WHERE seq <= ? AND seq > ? - 1000", [since, since]
        ).fetchone()
        last_time = row[0] if row else None
        seen_signed = True
        if chain:
            head = db.execute("SELECT hash FROM events WHERE seq = ?", [since]).fetchone()
            if head is None:
                out.chain.append((since, None, "missing (a signed chain head names it)"))
                chaining = False
            else:
                prev = bytes(head[0])
    problem = out.problems.append
    # three cursors in sequence order, none needing a sort: the office events before the
    # share (to replay the registry), the share itself, and (for the first share, which
    # compares the officers table) the office events after it
    select = "SELECT seq, case_id, at, time, actor, type, data, prev_hash, hash, v, sig FROM events"
    cursor = itertools.chain(
        db.execute(select + " WHERE case_id IS NULL AND seq <= ? ORDER BY seq", [since])
        if since
        else (),
        db.execute(select + " WHERE seq > ? AND seq <= ? ORDER BY seq", [since, top]),
        db.execute(select + " WHERE case_id IS NULL AND seq > ? ORDER BY seq", [top])
        if until is not None and not since
        else (),
    )
    for seq, case_id, at, time, actor, kind_, data, prev_hash, digest, v, sig in cursor:
        check = since < seq <= top
        if check and chaining:
            if seq != expected:
                out.chain.append((expected, None, f"missing (the next event present is {seq})"))
                chaining = False
            elif prev_hash != prev:
                out.chain.append((seq, case_id, "does not follow the previous event"))
                chaining = False
            elif row_hash(v, prev, seq, case_id, at, time, actor, kind_, data) != digest:
                out.chain.append((seq, case_id, "content was changed after it was written"))
                chaining = False
            else:
                prev, expected = digest, expected + 1
        doc = json.loads(data) if (kind_ in OFFICE_TYPES or '"unit"' in data) else {}
        if v == 1:
            if check:
                out.legacy += 1
                if seen_signed:
                    problem((seq, case_id, "a legacy (unsigned) event after signed events"))
            if case_id is not None and "unit" in doc.get("set", {}):
                units[case_id] = doc["set"]["unit"]
            continue
        if sig is None:
            if check:
                out.unsigned += 1
                ok = (actor == "gateway" and kind_ in GATEWAY_TYPES) or (
                    actor == "synthetic" and kind != "production"
                )
                if not ok:
                    problem((seq, case_id, f"{kind_} by {actor} is not signed"))
        else:
            seen_signed = True
            if check:
                out.signed += 1
            if kind_ == "office-created":
                if out.first_admin is not None:
                    problem((seq, case_id, "a second office-created event"))
                else:
                    _apply(kind_, doc, registry)
                    out.first_admin = doc["officer"]["id"]
                    from lianxin.keys import fingerprint

                    out.fingerprint = fingerprint(bytes.fromhex(doc["officer"]["sign_pk"]))
            account = registry.get(actor)
            if account is None:
                if check:
                    problem((seq, case_id, f"signed by {actor}, not in the officer registry"))
            elif check:
                try:
                    crypto_sign_open(sig + digest, account.sign_pk)
                except BadSignatureError:
                    problem((seq, case_id, f"the signature is not {actor}'s (forged or altered)"))
                if account.disabled:
                    problem((seq, case_id, f"{actor} was disabled before this event"))
                unit = units.get(case_id) if case_id is not None else None
                why = _allowed(kind_, account.roles, unit == account.unit)
                if why:
                    problem((seq, case_id, why))
            if time is None:
                if check:
                    problem((seq, case_id, "a signed event without its wall-clock time"))
            else:
                if last_time is not None and time < last_time and check:
                    problem(
                        (seq, case_id, f"dated {time}, before the event it follows ({last_time})")
                    )
                if check and at != time[:10] and not _date_matches(at, time):
                    problem((seq, case_id, f"office date {at} is not the date of {time}"))
                if last_time is None or time > last_time:
                    last_time = time
            if kind_ != "office-created":
                _apply(kind_, doc, registry)
        if case_id is not None and "unit" in doc.get("set", {}):
            units[case_id] = doc["set"]["unit"]
        if progress is not None and seq % 100_000 == 0:
            progress(seq)
    if chaining and until is None:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        if row and row[0] >= expected:
            out.chain.append((expected, None, f"events {expected}..{row[0]} were deleted"))
    if since:
        return out  # a later share or an incremental pass: the first share compares the table
    for officer in all_officers(db):
        account = registry.get(officer.id)
        if account is None:
            out.problems.append((None, None, f"officer {officer.id} has no registry event"))
        elif (officer.sign_pk, officer.unit, officer.roles, officer.disabled) != (
            account.sign_pk,
            account.unit,
            account.roles,
            account.disabled,
        ):
            out.problems.append(
                (None, None, f"officer {officer.id} differs from the registry events")
            )
    return out
