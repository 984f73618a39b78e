"""Named schema migrations, each applied in one transaction and recorded.

Never edit a migration that has shipped: add a new one. ``tests/test_store.py`` applies them to a
database that already holds data.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

MIGRATIONS = Migrations("lianxin")


@MIGRATIONS(name="0001_intake")
def _intake(db: sqlite_utils.Database) -> None:
    # Cases: one row per matter, whatever its channel. No plaintext, no token, no address.
    db.execute(
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            received_date TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'received'
        )
        """
    )
    # Sealed envelopes exactly as received (reports and follow-ups).
    db.execute(
        """
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            receipt_id BLOB NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('report', 'followup')),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            key_id TEXT NOT NULL,
            author BLOB NOT NULL,
            ciphertext BLOB NOT NULL,
            sig BLOB NOT NULL,
            received_date TEXT NOT NULL,
            opened_at TEXT
        )
        """
    )
    db.execute("CREATE INDEX submissions_case ON submissions(case_id)")
    # Public values derived from tracking tokens; the tokens themselves are never stored.
    db.execute(
        """
        CREATE TABLE tokens (
            lookup_id BLOB PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            reply_pk BLOB NOT NULL,
            followup_vk BLOB NOT NULL,
            issued_date TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX tokens_case ON tokens(case_id)")
    # Proof-of-work nonces already used, kept until their challenge expires.
    db.execute(
        "CREATE TABLE spent_challenges (nonce BLOB PRIMARY KEY, expires INTEGER NOT NULL)"
        " WITHOUT ROWID"
    )
    # The append-only, hash-chained case history.
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_case ON events(case_id, seq)")
