"""The register's signed chain head on the site: ``register-head.json``.

Each publish signs the event log's head (sequence number and hash) with the publisher key and
records it in the store (``lianxin.store.heads``); the site carries the latest head and every
earlier one, so ``lianxin desk verify --against SITE`` detects a rewritten register. (The
public log of issue 11 will also include these heads.)"""

from __future__ import annotations

import json
from pathlib import Path

import sqlite_utils

from lianxin.secrets import SigningSecret
from lianxin.store.heads import recorded_heads, sign_head

FILE = "register-head.json"


def write_register_head(
    db: sqlite_utils.Database, site: Path, signer: SigningSecret, day: str
) -> None:
    """Sign the current head, record it, and write every recorded head into the site."""
    db.execute("BEGIN IMMEDIATE")
    try:
        latest = sign_head(db, signer, day)
        heads = recorded_heads(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    doc = {
        "schema": "lianxin/register-heads/v1",
        "publisher_key_id": signer.key_id,
        "latest": latest,
        "heads": heads,
    }
    (site / FILE).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
