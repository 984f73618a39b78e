"""Stateless, expiring, single-use proof-of-work challenges.

The gateway hands out a 42-byte challenge and keeps nothing:

    challenge = 0x01 || difficulty (u8) || expires (u64be, Unix seconds) || nonce (16 random bytes)
                || mac (16 bytes)
    mac       = BLAKE2b-128(key=pow key, msg=the first 26 bytes)

A client searches for an integer ``answer`` (0 <= answer < 2**53, so JavaScript numbers hold it)
such that ``BLAKE2b-256(challenge || u64be(answer))`` starts with ``difficulty`` zero bits.
The gateway checks the MAC, the expiry and the answer, and records the 16-byte nonce as spent
until the challenge expires, in the same transaction that stores the submission.
"""

from __future__ import annotations

import hmac
import secrets
import struct
import time
from dataclasses import dataclass

from .encoding import b64d, b64e, blake2b
from .errors import MalformedError, ProofOfWorkError

CHALLENGE_VERSION = 1
CHALLENGE_SIZE = 42
MAX_ANSWER = 2**53


@dataclass(frozen=True)
class Challenge:
    """A decoded, authenticated challenge."""

    raw: bytes
    difficulty: int
    expires: int
    nonce: bytes

    @property
    def text(self) -> str:
        """The wire form (base64url)."""
        return b64e(self.raw)


def issue(pow_key: bytes, difficulty: int, ttl_seconds: int, now: float | None = None) -> Challenge:
    """Make a new challenge (gateway side)."""
    expires = int(now if now is not None else time.time()) + ttl_seconds
    nonce = secrets.token_bytes(16)
    body = struct.pack(">BBQ", CHALLENGE_VERSION, difficulty, expires) + nonce
    return Challenge(body + blake2b(body, size=16, key=pow_key), difficulty, expires, nonce)


def decode(text: object) -> Challenge:
    """Decode a challenge's wire form without authenticating it."""
    try:
        raw = b64d(text, "pow.challenge", size=CHALLENGE_SIZE)
    except MalformedError as exc:
        raise ProofOfWorkError(exc.detail, slug="pow-invalid") from exc
    version, difficulty, expires = struct.unpack(">BBQ", raw[:10])
    if version != CHALLENGE_VERSION:
        raise ProofOfWorkError("pow.challenge: unknown challenge version", slug="pow-invalid")
    return Challenge(raw, difficulty, expires, raw[10:26])


def leading_zero_bits(digest: bytes) -> int:
    """Number of leading zero bits of ``digest``."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def meets(challenge_raw: bytes, answer: int, difficulty: int) -> bool:
    """Whether ``answer`` solves the challenge at ``difficulty``."""
    digest = blake2b(challenge_raw + struct.pack(">Q", answer))
    return leading_zero_bits(digest) >= difficulty


def verify(
    pow_key: bytes, text: object, answer: object, *, min_difficulty: int, now: float | None = None
) -> Challenge:
    """Authenticate a challenge and check its answer; the caller then spends the nonce."""
    if text is None or answer is None:
        raise ProofOfWorkError("pow: a challenge and its answer are required", slug="pow-missing")
    challenge = decode(text)
    expected = blake2b(challenge.raw[:26], size=16, key=pow_key)
    if not hmac.compare_digest(expected, challenge.raw[26:]):
        raise ProofOfWorkError("pow.challenge: not issued by this gateway", slug="pow-invalid")
    if challenge.difficulty < min_difficulty:
        raise ProofOfWorkError(
            "pow.challenge: difficulty below the current minimum", slug="pow-invalid"
        )
    if challenge.expires < int(now if now is not None else time.time()):
        raise ProofOfWorkError("pow.challenge: expired; ask for a new one", slug="pow-expired")
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < MAX_ANSWER:
        raise ProofOfWorkError(
            "pow.answer: expected an integer 0 <= answer < 2**53", slug="pow-wrong"
        )
    if not meets(challenge.raw, answer, challenge.difficulty):
        raise ProofOfWorkError("pow.answer: does not solve the challenge", slug="pow-wrong")
    return challenge


MAX_DIFFICULTY = 40


def solve(challenge: Challenge, *, start: int = 0) -> int:
    """Find an answer (client side). Expected work: 2**difficulty hashes."""
    import hashlib

    if challenge.difficulty > MAX_DIFFICULTY:
        # A hostile or misconfigured gateway must not keep a client hashing for ever.
        raise ProofOfWorkError(
            f"pow.challenge: difficulty {challenge.difficulty} is above {MAX_DIFFICULTY} bits",
            slug="pow-invalid",
        )
    prefix = hashlib.blake2b(challenge.raw, digest_size=32)
    threshold = 1 << (256 - challenge.difficulty)
    answer = start
    while True:
        h = prefix.copy()
        h.update(answer.to_bytes(8, "big"))
        if int.from_bytes(h.digest(), "big") < threshold:
            return answer
        answer += 1
