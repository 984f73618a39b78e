"""The gateway's HTTP process: published keys, challenges, health, and hand-off to the worker.

Submissions are checked, stored and answered by the intake worker process (``worker.py``);
this process keeps only what a request needs before that: the public keyring, the limits and
the proof-of-work key that issues challenges. It never holds the store's write connection.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from lianxin.keys import GatewayKeys
from lianxin.protocol import Receipt, Token
from lianxin.protocol import pow as pow_
from lianxin.protocol.token import public_values

from .frames import ANSWER_JSON, KIND_NAMES, STORED, TOKEN_ROW
from .health import MIN_FREE_BYTES, Health, check_health, log_change
from .metrics import Metrics
from .settings import GatewaySettings
from .worker import is_busy
from .worker_client import Answer, IntakeWorker


@dataclass
class Gateway:
    """Everything a request needs, built once at startup."""

    settings: GatewaySettings
    keys: GatewayKeys
    worker: IntakeWorker
    reader: sqlite_utils.Database
    pow_key: bytes
    metrics: Metrics = field(default_factory=Metrics)
    store_error: tuple[str, float] | None = None  # the last failed commit's error, and when
    last_health: Health | None = None

    @classmethod
    def create(
        cls,
        settings: GatewaySettings,
        keys: GatewayKeys,
        worker: IntakeWorker,
        reader: sqlite_utils.Database,
        metrics: Metrics | None = None,
    ) -> Gateway:
        """Assemble the service."""
        gateway = cls(
            settings, keys, worker, reader, keys.secret.derive("pow"), metrics or Metrics()
        )
        worker.on_stats = gateway.observe_commit
        return gateway

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
        row = TOKEN_ROW.pack(*public_values(token))
        return self.receipt_answer(await self.worker.submit("report", body, row), token)

    async def submit_followup(self, body: bytes) -> Answer:
        """Have the intake worker check and store a follow-up."""
        return self.receipt_answer(await self.worker.submit("followup", body))

    def receipt_answer(self, answer: Answer, token: Token | None = None) -> Answer:
        """The answer to a stored envelope: its receipt, signed here from the worker's fields
        once the worker has committed, after the report's token; any other answer as it is."""
        if not answer.stored:
            return answer
        kind, duplicate, receipt_id, received, key_id = STORED.unpack(answer.body)
        signer = self.keys.receipt_signer
        receipt = Receipt.issue(
            signer.raw,
            signer.key_id,
            receipt_id=receipt_id,
            kind=KIND_NAMES[kind],
            received=received.decode("ascii"),
            key_id=key_id.decode("ascii"),
        )
        doc = {"receipt": receipt.to_json(), "duplicate": duplicate}
        if token is not None:
            doc = {"token": str(token), **doc}
        return Answer(answer.status, ANSWER_JSON, json.dumps(doc, ensure_ascii=False).encode())

    async def submit_package(self, body: bytes) -> Answer:
        """Have the intake worker check a package from a linked office against the directory
        and store it for the desk (``POST /v1/packages``)."""
        return await self.worker.submit("package", body)

    def health(self) -> Health:
        """Whether the gateway can accept reports now, and if not, why (GET /v1/health)."""
        health = check_health(
            self.settings.db_path,
            self.reader,
            self.worker.running,
            self.store_error,
            min_free_bytes=max(MIN_FREE_BYTES, 4 * self.settings.max_body_bytes),
        )
        log_change(self.last_health, health, self.settings.db_path)
        self.last_health = health
        return health

    def render_metrics(self) -> str:
        """The Prometheus text for the metrics port."""
        return self.metrics.render(
            {
                "lianxin_gateway_queue_depth": (
                    "Submissions handed to the intake worker and not yet answered.",
                    self.worker.queue_depth,
                ),
                "lianxin_gateway_pow_difficulty_bits": (
                    "Proof-of-work difficulty asked of clients.",
                    self.settings.pow_difficulty,
                ),
                "lianxin_gateway_accepting": (
                    "1 if the gateway can accept reports now, else 0 (see /v1/health).",
                    1 if self.health().accepting else 0,
                ),
            }
        )

    def observe_commit(self, seconds: float, error: str | None) -> None:
        """The intake worker's statistics after a batch: remember a failing store."""
        self.metrics.observe_commit(seconds, error)
        if error and not is_busy(error):
            self.store_error = (error, time.monotonic())
        elif error is None:
            self.store_error = None
