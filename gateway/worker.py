"""The intake worker: the process that checks, stores and answers submissions.

The gateway's HTTP process (uvicorn, one worker) parses HTTP, issues tokens and signs receipts;
every POST body it receives for ``/v1/reports``, ``/v1/followups`` or ``/v1/packages`` comes here
over a private socketpair (``frames.py``). This process owns the store's only write connection
and does the checking and storing: strict JSON, the proof of work, both Ed25519 signature
checks, the inserts and the commit. It answers a stored envelope with its receipt's fields; the
HTTP process signs the receipt (this process never holds the receipt key). Two processes, not
two threads: CPython runs one thread of Python at a time, and the HTTP process keeps most of a
core busy on its own.

It takes requests in batches: whatever has arrived while the previous batch committed is
checked, stored in one transaction (the batch's reports a statement per table,
``intake.store_reports``; one savepoint per batch, and a savepoint per request only when one of
them refuses) and committed once with ``synchronous=FULL``; then every answer of the batch is
sent. An answer is never sent before its commit, so a 201 still means durable.

Started by ``worker_client.IntakeWorker`` as ``python -m gateway.worker FD``. It dies with its
parent (``PR_SET_PDEATHSIG``) and stops when the socket closes, after the batch in hand.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils
from nacl.signing import VerifyKey

from lianxin.keys import GatewayKeys
from lianxin.offices.package import parse_package
from lianxin.offices.receive import Received, accept_package
from lianxin.protocol import (
    Envelope,
    MalformedError,
    ProtocolError,
    UnknownKeyError,
    parse_envelope,
)
from lianxin.protocol import pow as pow_
from lianxin.protocol.encoding import b64d, b64e
from lianxin.protocol.errors import ProofOfWorkError
from lianxin.protocol.strict_json import loads_strict
from lianxin.store.db import connect

from .collector import quiet_collector
from .frames import (
    ANSWER_JSON,
    ID,
    KIND_NAMES,
    PROBLEM_JSON,
    REQUEST,
    STATS_ID,
    STATS_JSON,
    STORED_FIELDS,
    TOKEN_ROW,
    FrameError,
    FrameReader,
    answer_frame,
    frame,
    stored_answer,
)
from .intake import (
    NewReport,
    Stored,
    TokenRow,
    prune_spent,
    store_followup,
    store_report,
    store_reports,
)
from .settings import GatewaySettings

PRUNE_EVERY_SECONDS = 60
RECV_BYTES = 1 << 20
HANDSHAKE_MAX = 64 * 1024
CACHE_KIB = 64 * 1024
MMAP_BYTES = 1 << 30
# What lives only in the WAL is bounded by time and by pages: a checkpointer thread, on its own
# connection and off the commit path, brings the main file up to date (a PASSIVE checkpoint,
# which never waits for readers or the writer) after every commit, at most every
# CHECKPOINT_PAUSE seconds; should it fall behind, the writer checkpoints itself once the WAL
# holds WRITER_CHECKPOINT_PAGES pages. A copy of the main file alone is then at most that far
# behind; the supported backup is still the online backup API (`lianxin desk backup`).
CHECKPOINT_PAUSE = 0.1
WRITER_CHECKPOINT_PAGES = 4_000


@dataclass(frozen=True)
class WorkerConfig:
    """What the worker needs, sent by the HTTP process in the handshake."""

    db_path: str
    timezone: str
    today: str | None  # a fixed office date (demo and test gateways), else the clock's
    pow_key: str  # b64url
    pow_difficulty: int
    office_key_ids: list[str]
    max_ciphertext_bytes: int
    max_body_bytes: int
    batch_max: int

    def to_bytes(self) -> bytes:
        """The handshake payload."""
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> WorkerConfig:
        """Read the handshake payload."""
        return cls(**json.loads(data))


# --- checking and storing submissions ---------------------------------------------------------
class Intake:
    """Checks submissions and writes them; one per worker process."""

    def __init__(self, config: WorkerConfig, db: sqlite_utils.Database):
        self.config = config
        self.db = db
        self.pow_key = b64d(config.pow_key, "pow_key", size=32)
        self.office_key_ids = frozenset(config.office_key_ids)
        self.zone = ZoneInfo(config.timezone)
        self.last_prune = 0.0
        self.last_logged: tuple[str, float] = ("", 0.0)

    def report_store_error(self, name: str) -> None:
        """One log line naming the error class and the store (never a request's content); the
        same error again is logged at most once a minute."""
        now = time.monotonic()
        if is_busy(name) or (name == self.last_logged[0] and now - self.last_logged[1] < 60):
            return
        self.last_logged = (name, now)
        print(
            f"lianxin intake worker: cannot write the store {self.config.db_path}: {name}",
            file=sys.stderr,
            flush=True,
        )

    def parse(self, body: bytes, kind: str) -> tuple[Envelope, pow_.Challenge, bytes]:
        """Everything that needs neither a signature check nor the store."""
        doc = parse_body(body)
        proof = doc["pow"]
        if not isinstance(proof, dict):
            raise ProofOfWorkError("pow: expected an object", slug="pow-missing")
        if set(proof) - {"challenge", "answer", "sig"}:
            raise ProtocolError(
                "pow: only challenge, answer and sig are allowed", slug="bad-request", status=400
            )
        challenge = pow_.verify(
            self.pow_key,
            proof.get("challenge"),
            proof.get("answer"),
            min_difficulty=self.config.pow_difficulty,
        )
        if proof.get("sig") is None:
            raise ProofOfWorkError(
                "pow.sig: the envelope's key must sign the challenge", slug="pow-missing"
            )
        try:
            binding = b64d(proof["sig"], "pow.sig", size=64)
        except MalformedError as exc:
            raise ProofOfWorkError(exc.detail, slug="pow-unbound") from exc
        envelope = parse_envelope(doc["envelope"], max_ciphertext=self.config.max_ciphertext_bytes)
        if envelope.kind != kind:
            raise MalformedError(f"kind: this endpoint takes '{kind}' envelopes", slug="bad-kind")
        if envelope.key_id not in self.office_key_ids:
            raise UnknownKeyError(f"key_id: {envelope.key_id} is not a published office key")
        return envelope, challenge, binding

    def prepare(self, payload: bytes, today: str, now: int) -> Job:
        """Check a request frame's submission completely; return the write that stores it."""
        _, kind_code = REQUEST.unpack_from(payload)
        kind = KIND_NAMES[kind_code]
        if kind == "package":
            return self.prepare_package(payload[REQUEST.size :], today)
        if kind == "report":
            # The token itself stays in the HTTP process: this one only binds its public values.
            row = TokenRow(*TOKEN_ROW.unpack_from(payload, REQUEST.size))
            envelope, challenge, binding = self.parse(
                payload[REQUEST.size + TOKEN_ROW.size :], kind
            )
            envelope.verify()
            envelope.verify_binding(challenge.raw, binding)

            report = NewReport(envelope, challenge, row)

            def store(db: sqlite_utils.Database) -> Stored:
                return store_report(db, envelope, challenge, row, today=today)

            return Job(envelope, store, report=report)
        envelope, challenge, binding = self.parse(payload[REQUEST.size :], kind)
        found = self.db.execute(
            "SELECT case_id, followup_vk FROM tokens WHERE lookup_id = ?", [envelope.author]
        ).fetchone()
        if found is None:
            raise ProtocolError(
                "lookup_id: no case has this lookup id", slug="unknown-lookup-id", status=404
            )
        case_id, vk = found
        envelope.verify(VerifyKey(vk))
        envelope.verify_binding(challenge.raw, binding, VerifyKey(vk))

        def store_followup_(db: sqlite_utils.Database) -> Stored:
            return store_followup(db, envelope, challenge, case_id, today=today)

        return Job(envelope, store_followup_)

    def prepare_package(self, body: bytes, today: str) -> Job:
        """A package from a linked office (``POST /v1/packages``): parsed here, then checked
        against the directory and stored in the batch's transaction, so that a replay in the
        same batch is refused too (:func:`lianxin.offices.receive.accept_package`)."""
        parse_package(body)  # a malformed body is refused before the transaction
        key_ids = self.office_key_ids

        def store(db: sqlite_utils.Database) -> Received:
            return accept_package(db, body, key_ids, today=today)

        def respond(received: Any) -> tuple[int, bytes]:
            doc = {
                "package": received.package.digest,
                "from": received.package.sender,
                "seq": received.package.seq,
                "received": received.received_date,
            }
            return 201, json.dumps(doc).encode()

        return Job(None, store, respond)

    def answer(self, job: Job, stored: Any) -> tuple[int, int, bytes]:
        """The HTTP status, form and answer for a stored submission: for an envelope, the
        fields of its receipt (the HTTP process signs it)."""
        if job.respond is not None:
            status, doc = job.respond(stored)
            return status, ANSWER_JSON, doc
        envelope = job.envelope
        assert envelope is not None  # every job without its own answer has an envelope
        fields = stored_answer(
            envelope.kind, stored.duplicate, envelope.receipt_id, stored.received_date,
            envelope.key_id,
        )  # fmt: skip
        return (200 if stored.duplicate else 201), STORED_FIELDS, fields

    def today(self) -> str:
        """The office's calendar date: deadlines count in the office's days, not UTC's."""
        return self.config.today or datetime.now(self.zone).date().isoformat()


@dataclass(frozen=True)
class Job:
    """A checked submission and the write that stores it."""

    envelope: Envelope | None
    store: Callable[[sqlite_utils.Database], Any]
    respond: Callable[[Any], tuple[int, bytes]] | None = None  # packages answer their own way
    report: NewReport | None = None  # a report: stored with the batch's other reports at once


# --- the body --------------------------------------------------------------------------------
def parse_body(body: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8 only, no duplicate members, no NaN/Infinity, the documented shape."""
    doc = loads_strict(body)
    if not isinstance(doc, dict) or set(doc) != {"envelope", "pow"}:
        raise ProtocolError(
            'the body must be {"envelope": {...}, "pow": {"challenge", "answer", "sig"}}',
            slug="bad-request",
            status=400,
        )
    return doc


# --- the batch loop ---------------------------------------------------------------------------
class Worker:
    """Reads request frames, answers each after its batch commits."""

    def __init__(self, sock: socket.socket, intake: Intake, checkpointer: Checkpointer):
        self.sock = sock
        self.intake = intake
        self.reader = FrameReader(intake.config.max_body_bytes + REQUEST.size)
        self.checkpointer = checkpointer

    def run(self) -> None:
        """Serve until the HTTP process closes the socket."""
        size = self.intake.config.batch_max
        while True:
            data = self.sock.recv(RECV_BYTES)
            if not data:
                return
            pending = self.reader.feed(data) + self._drain()
            for start in range(0, len(pending), size):
                self.sock.sendall(b"".join(self.handle(pending[start : start + size])))

    def _drain(self) -> list[bytes]:
        # Whatever else has already arrived joins this batch; never wait for more.
        frames: list[bytes] = []
        with contextlib.suppress(BlockingIOError):
            while data := self.sock.recv(RECV_BYTES, socket.MSG_DONTWAIT):
                frames += self.reader.feed(data)
        return frames

    def handle(self, batch: list[bytes]) -> list[bytes]:
        """Check, store and answer one batch of request frames."""
        intake = self.intake
        now = time.time()
        today = intake.today()
        answers: list[bytes] = []
        jobs: list[tuple[int, Job]] = []
        for payload in batch:
            (request_id,) = ID.unpack_from(payload)
            try:
                jobs.append((request_id, intake.prepare(payload, today, int(now))))
            except Exception as exc:
                answers.append(answer_frame(request_id, *refusal(exc)))
        writes: list[Callable[[sqlite_utils.Database], Any]] = [job.store for _, job in jobs]
        if now - intake.last_prune > PRUNE_EVERY_SECONDS:
            intake.last_prune = now
            writes.append(lambda db: prune_spent(db, int(now)))  # outcome not needed
        started = time.perf_counter()
        outcomes = transaction(intake.db, writes, together(jobs, writes, today))
        elapsed = time.perf_counter() - started
        self.checkpointer.committed()
        for (request_id, job), (ok, value) in zip(jobs, outcomes, strict=False):
            if ok:
                answers.append(answer_frame(request_id, *intake.answer(job, value)))
            else:
                answers.append(answer_frame(request_id, *refusal(value)))
        if writes:
            error = store_error(outcomes)
            if error:
                intake.report_store_error(error)
            stats = {"commit_seconds": round(elapsed, 6), "error": error}
            answers.append(answer_frame(STATS_ID, 0, STATS_JSON, json.dumps(stats).encode()))
        return answers


def together(
    jobs: list[tuple[int, Job]], writes: list[Callable[[sqlite_utils.Database], Any]], today: str
) -> Callable[[sqlite_utils.Database], list[Any]]:
    """All of a batch's writes as one: its reports stored together (``store_reports``: a
    statement per table, not per report), then the others one by one; results in ``writes``'
    order."""

    def write_all(db: sqlite_utils.Database) -> list[Any]:
        reports = [job.report for _, job in jobs if job.report is not None]
        stored = iter(store_reports(db, reports, today=today) if reports else [])
        results = [next(stored) if job.report is not None else job.store(db) for _, job in jobs]
        return results + [write(db) for write in writes[len(jobs) :]]

    return write_all


def store_error(outcomes: list[tuple[bool, Any]]) -> str | None:
    """The SQLite error name if the batch's writes failed in the store (not a refusal)."""
    for ok, value in outcomes:
        if not ok and isinstance(value, sqlite3.Error):
            return getattr(value, "sqlite_errorname", None) or type(value).__name__
    return None


def is_busy(name: str) -> bool:
    """Whether a SQLite error means "another writer holds the lock": retrying will work."""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def refusal(exc: BaseException) -> tuple[int, int, bytes]:
    """Status, form and problem JSON for an exception raised while checking or storing."""
    if isinstance(exc, ProtocolError):
        doc = {"slug": exc.slug, "detail": exc.detail, "status": exc.status}
        return exc.status or 400, PROBLEM_JSON, json.dumps(doc, ensure_ascii=True).encode()
    if isinstance(exc, sqlite3.Error):
        # The batch was rolled back: nothing of this request is stored, a retry is safe. Another
        # writer holding the lock past busy_timeout is "busy, retry"; anything else (read-only,
        # full disk, I/O error, damaged file) is a failing store that needs its operator.
        name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
        if is_busy(name):
            doc = {"slug": "store-unavailable", "detail": "the store is busy; try again shortly"}
        else:
            doc = {
                "slug": "store-failing",
                "detail": f"the gateway cannot write its store ({name}); its operator must act",
            }
        return 503, PROBLEM_JSON, json.dumps(doc).encode()
    # A bug, not a bad input: say so without the request's content, and keep serving.
    print(f"lianxin intake worker: {type(exc).__name__} while handling a request", file=sys.stderr)
    return 500, PROBLEM_JSON, b'{"slug": "internal"}'


def transaction(
    db: sqlite_utils.Database,
    writes: list[Callable[[sqlite_utils.Database], Any]],
    write_all: Callable[[sqlite_utils.Database], list[Any]] | None = None,
) -> list[tuple[bool, Any]]:
    """Run ``writes`` in one transaction; one refusing write undoes only itself.

    Fast path: the whole batch in one savepoint (two statements per batch, not two per
    write), through ``write_all`` when given (the same writes at once). If a write refuses
    (rare), the batch is undone and run again with a savepoint per write. If the commit
    fails, every write reports the error.
    """
    if not writes:
        return []
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("SAVEPOINT batch")
        try:
            results = write_all(db) if write_all else [write(db) for write in writes]
            outcomes: list[tuple[bool, Any]] = [(True, result) for result in results]
            db.execute("RELEASE batch")
        except Exception:
            db.execute("ROLLBACK TO batch")
            db.execute("RELEASE batch")
            outcomes = [_one(db, write) for write in writes]
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        if db.conn.in_transaction:
            db.conn.rollback()
        outcomes = [(False, exc)] * len(writes)
    return outcomes


def _one(
    db: sqlite_utils.Database, write: Callable[[sqlite_utils.Database], Any]
) -> tuple[bool, Any]:
    db.execute("SAVEPOINT job")
    try:
        result = write(db)
    except Exception as exc:
        db.execute("ROLLBACK TO job")
        db.execute("RELEASE job")
        return False, exc
    db.execute("RELEASE job")
    return True, result


class Checkpointer:
    """Copies committed pages from the WAL into the main file, in a thread of its own on its
    own connection, so that the writer's commits never wait for it (SQLite runs a PASSIVE
    checkpoint beside a writer; the thread waits in SQLite and on the disk with the GIL
    released). After a commit it checkpoints, then pauses ``CHECKPOINT_PAUSE`` seconds, so
    that at most about that much of the latest commits lives only in the WAL."""

    def __init__(self, db_path: Path):
        self.db = connect(db_path, migrate=False)
        self.dirty = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="checkpointer", daemon=True)
        self.thread.start()

    def committed(self) -> None:
        """A commit happened: checkpoint soon."""
        self.dirty.set()

    def stop(self) -> None:
        """One last checkpoint of what is committed, then close."""
        self.stopping = True
        self.dirty.set()
        self.thread.join()
        self.db.conn.close()

    def _run(self) -> None:
        while True:
            self.dirty.wait()
            self.dirty.clear()
            with contextlib.suppress(sqlite3.Error):  # a failing store: its commits say so
                self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            if self.stopping:
                return
            time.sleep(CHECKPOINT_PAUSE)


# --- process entry --------------------------------------------------------------------------
def _die_with_parent() -> None:
    # Linux: the kernel kills this process when the HTTP process dies, however it dies; a
    # SIGKILLed gateway must not leave a writer behind holding the store.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _read_handshake(sock: socket.socket) -> WorkerConfig:
    reader = FrameReader(HANDSHAKE_MAX)
    while True:
        data = sock.recv(HANDSHAKE_MAX)
        if not data:
            raise EOFError("the gateway closed the socket before the handshake")
        frames = reader.feed(data)
        if frames:
            return WorkerConfig.from_bytes(frames[0])


def main(argv: list[str]) -> int:
    """``python -m gateway.worker FD PARENT_PID``: serve the socketpair end ``FD``."""
    _die_with_parent()
    fd, parent = int(argv[0]), int(argv[1])
    if os.getppid() != parent:
        return 1  # the parent died before PR_SET_PDEATHSIG took effect
    # Ctrl-C reaches the whole process group; the HTTP process stops this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    try:
        config = _read_handshake(sock)
        try:
            db = connect(Path(config.db_path))
            checkpointer = Checkpointer(Path(config.db_path))
        except Exception as exc:  # the HTTP process reports it and refuses to start
            sock.sendall(frame(json.dumps({"error": str(exc)}).encode()))
            return 1
        # The only writer: keep the indexes it inserts into at random (receipt ids, lookup ids)
        # in memory, and read the main file through a memory map (no read system call and no
        # copy for an index page that the envelopes' pages pushed out of the cache); the
        # checkpointer copies the WAL back, the writer only if it lags.
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        db.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        quiet_collector()
        sock.sendall(frame(b'{"ready": true}'))
        try:
            Worker(sock, Intake(config, db), checkpointer).run()
        finally:
            checkpointer.stop()
            db.conn.close()
    except (EOFError, ConnectionError, FrameError):
        return 0  # the HTTP process went away: nothing is half-written (each batch is atomic)
    return 0


def config_for(settings: GatewaySettings, keys: GatewayKeys) -> WorkerConfig:
    """The worker's configuration from the gateway's settings and keys."""
    return WorkerConfig(
        db_path=str(settings.db_path),
        timezone=settings.timezone,
        today=settings.today,
        pow_key=b64e(keys.secret.derive("pow")),
        pow_difficulty=settings.pow_difficulty,
        office_key_ids=[key.key_id for key in keys.keyring.office],
        max_ciphertext_bytes=settings.max_ciphertext_bytes,
        max_body_bytes=settings.max_body_bytes,
        batch_max=settings.batch_max,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
