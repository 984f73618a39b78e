"""Packages to and from linked offices: sending, delivering, the file transport, taking in.

A package is made and kept (``packages``, direction ``out``) in the same transaction as the
desk step it belongs to, then delivered: posted to the other office's gateway
(``POST /v1/packages``, :func:`deliver`), or written as files for an office that is offline
(:func:`export_files`) and taken in there with :func:`import_file`. Packages taken in by the
gateway or from a file wait (direction ``in``) until the desk applies them
(:func:`desk.linkwork.apply_packages`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from nacl.signing import SigningKey

from lianxin.offices.directory import Entry, get_office
from lianxin.offices.package import Package, make_package, parse_package
from lianxin.offices.receive import Received, accept_package
from lianxin.protocol import Attachment, ProtocolError

from .context import Desk
from .offices import identity_of, office_signer_of
from .refusals import BadValue, Refused
from .roles import desk_action

SUFFIX = ".lianxin-package.json"


def linked(desk: Desk, office_id: str, relation: str | None = None) -> Entry:
    """The directory entry of ``office_id`` (of ``relation`` when given); refused if absent."""
    entry = get_office(desk.db, office_id)
    if entry is None:
        raise BadValue(f"office {office_id} is not in this office's directory", "--office")
    if relation is not None and entry.relation != relation:
        raise BadValue(f"office {office_id} is this office's {entry.relation}", "--office")
    if entry.pending is not None:
        raise Refused(
            f"office {office_id}'s card changed keys and awaits confirmation"
            " (lianxin office confirm) before anything is sent to it"
        )
    return entry


def send(
    desk: Desk,
    office_id: str,
    kind: str,
    case_id: int,
    body: dict[str, Any],
    attachments: tuple[Attachment, ...] = (),
) -> dict[str, Any]:
    """Make a package signed by the acting officer and the office, sealed to ``office_id``'s
    office key, and keep it to deliver (inside the caller's transaction). Returns what the
    step's event records of it."""
    entry = linked(desk, office_id)
    own = identity_of(desk)
    me = desk.me()
    row = desk.db.execute(
        "SELECT max(seq) FROM packages WHERE direction = 'out' AND office_id = ?", [office_id]
    ).fetchone()
    seq = int(row[0] or 0) + 1
    package = make_package(
        sender=own.office_id,
        receiver=office_id,
        seq=seq,
        kind=kind,
        body=body,
        attachments=attachments,
        office_key=entry.card.office_key,
        officer_id=me.id,
        officer_key=me.record.sign_pk,
        officer_sign=me.sign,
        office_signer=SigningKey(office_signer_of(desk)),
    )
    data = json.dumps(package.to_json()).encode()
    desk.db.execute(
        "INSERT INTO packages (direction, office_id, seq, kind, case_id, body, digest,"
        " created_date) VALUES ('out', ?, ?, ?, ?, ?, ?, ?)",
        [office_id, seq, kind, case_id, data, package.digest, desk.today.isoformat()],
    )
    return {"package": {"to": office_id, "seq": seq, "kind": kind, "digest": package.digest}}


@dataclass(frozen=True)
class Delivery:
    """What became of one outgoing package."""

    office_id: str
    seq: int
    kind: str
    result: str  # delivered | already there | waiting: <why> | refused: <problem>


def _pending(desk: Desk, office_id: str | None) -> list[tuple[int, str, int, str, bytes]]:
    rows = desk.db.execute(
        "SELECT id, office_id, seq, kind, body FROM packages WHERE direction = 'out'"
        " AND done_date IS NULL AND (:office IS NULL OR office_id = :office) ORDER BY id",
        {"office": office_id},
    ).fetchall()
    return [(int(r[0]), str(r[1]), int(r[2]), str(r[3]), bytes(r[4])) for r in rows]


def _done(desk: Desk, row_id: int) -> None:
    with desk.transaction():
        desk.db.execute(
            "UPDATE packages SET done_date = ? WHERE id = ?", [desk.today.isoformat(), row_id]
        )


def deliver(desk: Desk, office_id: str | None = None, *, timeout: float = 10.0) -> list[Delivery]:
    """Post every waiting outgoing package to its office's gateway. One that cannot be posted
    (the office is offline) keeps waiting: send it again later or export it as a file."""
    desk.me()
    out: list[Delivery] = []
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for row_id, to, seq, kind, body in _pending(desk, office_id):
            entry = get_office(desk.db, to)
            if entry is None:
                out.append(Delivery(to, seq, kind, "waiting: the office left the directory"))
                continue
            url = entry.card.gateway_url + "/v1/packages"
            try:
                answer = client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
            except httpx.HTTPError as exc:
                out.append(Delivery(to, seq, kind, f"waiting: {type(exc).__name__} at {url}"))
                continue
            if answer.status_code == 201:
                _done(desk, row_id)
                out.append(Delivery(to, seq, kind, "delivered"))
            elif answer.status_code == 409:  # taken before (an answer lost on the way)
                _done(desk, row_id)
                out.append(Delivery(to, seq, kind, "already there"))
            else:
                why = _problem(answer)
                out.append(Delivery(to, seq, kind, f"refused: {why}"))
    return out


def _problem(answer: httpx.Response) -> str:
    try:
        doc = answer.json()
        return f"{doc['type'].rsplit('/', 1)[-1]}: {doc['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {answer.status_code}"


def export_files(desk: Desk, office_id: str, folder: Path) -> list[Path]:
    """Write every waiting package to ``office_id`` as a file in ``folder`` (for an office
    that is offline: carried on a medium, then ``lianxin office import`` there)."""
    linked(desk, office_id)
    folder.mkdir(parents=True, exist_ok=True)
    own = identity_of(desk)
    written = []
    for row_id, to, seq, _kind, body in _pending(desk, office_id):
        path = folder / f"{own.office_id}-{to}-{seq:06d}{SUFFIX}"
        path.write_bytes(body)
        _done(desk, row_id)
        written.append(path)
    return written


def _office_key_ids(desk: Desk) -> list[str]:
    return [
        str(name).split(":", 1)[1]
        for (name,) in desk.db.execute("SELECT name FROM office WHERE name LIKE 'office_key:%'")
    ]


@desk_action("packages")
def import_file(desk: Desk, path: Path) -> Received:
    """Take in a package file with the same checks as the gateway; refused ones change
    nothing."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise BadValue(f"cannot read {path}: {exc}", "FILE") from exc
    try:
        with desk.transaction():
            received = accept_package(
                desk.db, body, _office_key_ids(desk), today=desk.today.isoformat()
            )
    except ProtocolError as exc:
        raise Refused(f"{path.name}: refused ({exc.slug}): {exc.detail}") from exc
    return received


def stored_package(desk: Desk, row_id: int) -> Package:
    """An incoming package as it was stored."""
    row = desk.db.execute("SELECT body FROM packages WHERE id = ?", [row_id]).fetchone()
    return parse_package(bytes(row[0]))
