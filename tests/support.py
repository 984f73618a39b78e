"""Helpers for tests that talk to a real gateway."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
from nacl.signing import SigningKey

from lianxin.keys import Keyring
from lianxin.protocol import Attachment, Envelope, TokenKeys, seal_followup, seal_report
from lianxin.protocol import pow as pow_


def report_doc(marker: str = "", *, real_name: bool = False) -> dict[str, Any]:
    """A valid report document."""
    doc: dict[str, Any] = {
        "schema": "lianxin/report/v1",
        "real_name": real_name,
        "reported": {
            "name": "王某某",
            "unit": "某县住建局",
            "post": "科长",
            "rank": "township_section",
        },
        "region": "town.dongshan",
        "problem_type": "legal.embezzlement_bribery",
        "title": f"工程款问题 {marker}",
        "text": f"反映某科长在工程验收中收受好处。{marker}",
    }
    if real_name:
        doc["identity"] = {"name": f"李四{marker}", "contact": "13800000000", "id_number": ""}
    return doc


def sealed_report(
    keyring: Keyring, doc: dict[str, Any] | None = None, attachments: list[Attachment] | None = None
) -> Envelope:
    """A sealed, signed report envelope for the keyring's current office key."""
    office = keyring.current_office
    return seal_report(
        doc or report_doc(),
        attachments or [],
        office_key=keyring.office_key(office.key_id),  # type: ignore[arg-type]
        office_key_id=office.key_id,
        client_key=SigningKey.generate(),
    )


def sealed_followup(keyring: Keyring, token_keys: TokenKeys, doc: dict[str, Any]) -> Envelope:
    """A sealed follow-up signed with the token's key."""
    office = keyring.current_office
    return seal_followup(
        dict(doc, schema="lianxin/followup/v1"),
        [],
        office_key=keyring.office_key(office.key_id),  # type: ignore[arg-type]
        office_key_id=office.key_id,
        token_keys=token_keys,
    )


def solved(url: str, envelope: Envelope) -> dict[str, Any]:
    """A fresh proof of work from the gateway at ``url``, solved and bound to ``envelope``."""
    answer = httpx.post(url + "/v1/challenges")
    assert answer.status_code == 201, answer.text
    challenge = pow_.decode(answer.json()["challenge"])
    return envelope.proof(challenge.raw, pow_.solve(challenge))


def post(
    url: str, path: str, envelope: Envelope, proof: dict[str, Any] | None = None
) -> httpx.Response:
    """POST an envelope with a proof of work."""
    body = {"envelope": envelope.to_json(), "pow": proof or solved(url, envelope)}
    return httpx.post(url + path, json=body, timeout=30)


def snapshot(db_path: Path) -> list[str]:
    """Every row of every table, as SQL, for 'nothing changed' assertions."""
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def problem_slug(answer: httpx.Response) -> str:
    """The slug of a problem+json answer (and check its shape)."""
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    doc = answer.json()
    assert set(doc) == {"type", "title", "status", "detail"}
    assert doc["status"] == answer.status_code
    assert doc["type"].startswith("https://lianxin.invalid/problems/")
    return str(doc["type"]).rsplit("/", 1)[1]
