"""The gateway's HTTP process: published keys, challenges, health, and hand-off to the worker.

Submissions are checked, stored and answered by the intake worker process (``worker.py``);
this process keeps only what a request needs before that: the public keyring, the limits and
the proof-of-work key that issues challenges. It never holds the store's write connection.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from lianxin.keys import GatewayKeys
from lianxin.protocol import Token
from lianxin.protocol import pow as pow_

from .frames import TOKEN_ROW
from .settings import GatewaySettings
from .worker_client import Answer, IntakeWorker


@dataclass
class Gateway:
    """Everything a request needs, built once at startup."""

    settings: GatewaySettings
    keys: GatewayKeys
    worker: IntakeWorker
    reader: sqlite_utils.Database
    pow_key: bytes

    @classmethod
    def create(
        cls,
        settings: GatewaySettings,
        keys: GatewayKeys,
        worker: IntakeWorker,
        reader: sqlite_utils.Database,
    ) -> Gateway:
        """Assemble the service."""
        return cls(settings, keys, worker, reader, keys.secret.derive("pow"))

    def public_info(self) -> dict[str, Any]:
        """Published keys and limits (GET /v1/keys)."""
        s = self.settings
        return {
            "keyring": self.keys.keyring.to_json(),
            "limits": {
                "max_body_bytes": s.max_body_bytes,
                "max_ciphertext_bytes": s.max_ciphertext_bytes,
                "max_plaintext_bytes": s.max_plaintext_bytes,
                "max_attachments": s.max_attachments,
                "pow_difficulty": s.pow_difficulty,
                "pow_ttl_seconds": s.pow_ttl_seconds,
            },
        }

    def challenge(self) -> dict[str, Any]:
        """A new proof-of-work challenge."""
        c = pow_.issue(self.pow_key, self.settings.pow_difficulty, self.settings.pow_ttl_seconds)
        expires = datetime.fromtimestamp(c.expires, UTC).isoformat().replace("+00:00", "Z")
        return {"challenge": c.text, "difficulty": c.difficulty, "expires": expires}

    async def submit_report(self, body: bytes) -> Answer:
        """Issue a token and have the intake worker check and store the report under it.

        The token is made and kept here; the worker, which writes the store, sees only its
        public values. The token goes into the answer only once the report is committed.
        """
        token = Token.generate()
        keys = token.keys()
        row = TOKEN_ROW.pack(keys.lookup_id, bytes(keys.reply_public), bytes(keys.followup_verify))
        answer = await self.worker.submit("report", body, row)
        if answer.problem:
            return answer
        # The worker's answer is a JSON object; the token goes in as its first member.
        body = b'{"token": "' + str(token).encode() + b'", ' + answer.body.removeprefix(b"{")
        return Answer(answer.status, False, body)

    async def submit_followup(self, body: bytes) -> Answer:
        """Have the intake worker check and store a follow-up."""
        return await self.worker.submit("followup", body)

    def healthy(self) -> bool:
        """Whether the store answers and the intake worker runs."""
        try:
            store_ok = self.reader.execute("SELECT 1").fetchone() == (1,)
        except sqlite3.Error:
            return False
        return bool(store_ok) and self.worker.running
