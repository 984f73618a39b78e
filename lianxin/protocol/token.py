"""Tracking tokens and the values derived from them.

A token is 27 random symbols of Crockford's base32 alphabet (135 bits from the operating
system's CSPRNG) followed by one check symbol (Luhn mod 32), written in seven groups of four:
``7KQ2-M9XD-...``. Reading is forgiving the way Crockford intended: full-width forms fold to
ASCII (NFKC), case is ignored, ``O`` reads as ``0``, ``I`` and ``L`` as ``1``, white space and
dashes are dropped.

Nobody stores the token. Everyone who holds it derives the same values with keyed BLAKE2b:

    tk          = BLAKE2b-256(key="lianxin/token/v1", msg=the 27 data symbols, ASCII)
    lookup_id   = BLAKE2b-128(key=tk, msg="lookup-id")
    reply seed  = BLAKE2b-256(key=tk, msg="reply-key")      -> crypto_box_seed_keypair
    follow seed = BLAKE2b-256(key=tk, msg="followup-key")   -> crypto_sign_seed_keypair
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from nacl.bindings import crypto_box_seed_keypair, crypto_sign_seed_keypair
from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from .encoding import blake2b
from .errors import TokenError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_SYMBOLS = 27
GROUP = 4
TOKEN_KEY = b"lianxin/token/v1"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_ALIASES = {"O": "0", "I": "1", "L": "1"}


def check_symbol(data: str) -> str:
    """Luhn mod 32 check symbol over ``data`` (symbols of ``ALPHABET``)."""
    n = len(ALPHABET)
    total = 0
    factor = 2
    for char in reversed(data):
        addend = factor * _VALUE[char]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


DASHES = "-\u2010\u2011\u2012\u2013\u2014"


def normalize(text: str) -> str:
    """Fold full-width forms (NFKC: Chinese input methods type them), drop white space and
    dashes, upper-case ASCII letters and map Crockford aliases; raise on foreign symbols."""
    out = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isspace() or char in DASHES:
            continue
        if char.isascii():
            char = char.upper()
        char = _ALIASES.get(char, char)
        if char not in _VALUE:
            raise TokenError(f"the token contains {char!r}, which is not a token symbol")
        out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class Token:
    """A tracking token. ``str()`` gives the grouped form; ``repr()`` never shows it."""

    data: str

    @classmethod
    def generate(cls) -> Token:
        """A fresh token from the CSPRNG: 135 bits, read at once (27 reads cost 27 syscalls)."""
        bits = int.from_bytes(secrets.token_bytes(17), "big") >> 1  # 136 bits, keep 135
        return cls("".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(DATA_SYMBOLS)))

    @classmethod
    def parse(cls, text: str) -> Token:
        """Parse a typed token; raise ``TokenError`` (slug ``token-check`` for a typo)."""
        symbols = normalize(text)
        if len(symbols) != DATA_SYMBOLS + 1:
            raise TokenError(f"a token has {DATA_SYMBOLS + 1} symbols, this one has {len(symbols)}")
        data, check = symbols[:-1], symbols[-1]
        if check_symbol(data) != check:
            raise TokenError(
                "the token's check symbol does not match: a symbol was mistyped",
                slug="token-check",
            )
        return cls(data)

    def __post_init__(self) -> None:
        if len(self.data) != DATA_SYMBOLS or any(c not in _VALUE for c in self.data):
            raise TokenError("token data must be 27 symbols of the token alphabet")

    def __str__(self) -> str:
        full = self.data + check_symbol(self.data)
        return "-".join(full[i : i + GROUP] for i in range(0, len(full), GROUP))

    def __repr__(self) -> str:
        return "Token(<redacted>)"

    def keys(self) -> TokenKeys:
        """Derive every value a token holder needs."""
        return TokenKeys.derive(self)


@dataclass(frozen=True, repr=False)
class TokenKeys:
    """Values derived from a token. The public halves may be stored; the secret halves not."""

    lookup_id: bytes
    reply_key: PrivateKey
    followup_key: SigningKey

    @classmethod
    def derive(cls, token: Token) -> TokenKeys:
        """Derive lookup id, reply key pair and follow-up signing key pair from ``token``."""
        lookup_id, reply_seed, followup_seed = _seeds(token)
        return cls(
            lookup_id=lookup_id,
            reply_key=PrivateKey.from_seed(reply_seed),
            followup_key=SigningKey(followup_seed),
        )

    @property
    def lookup_hex(self) -> str:
        """The lookup id as lower-case hex (how it appears in URLs and status data)."""
        return self.lookup_id.hex()

    @property
    def reply_public(self) -> PublicKey:
        """The public half of the reply key pair: answers are sealed to it."""
        return self.reply_key.public_key

    @property
    def followup_verify(self) -> VerifyKey:
        """The public half of the follow-up signing key pair: the gateway checks with it."""
        return self.followup_key.verify_key

    def __repr__(self) -> str:
        return f"TokenKeys(lookup_id={self.lookup_hex}, secrets=<redacted>)"


def _seeds(token: Token) -> tuple[bytes, bytes, bytes]:
    """The lookup id and the two key seeds of ``token`` (the module docstring's derivation)."""
    tk = blake2b(token.data.encode("ascii"), key=TOKEN_KEY)
    return (
        blake2b(b"lookup-id", size=16, key=tk),
        blake2b(b"reply-key", key=tk),
        blake2b(b"followup-key", key=tk),
    )


def public_values(token: Token) -> tuple[bytes, bytes, bytes]:
    """The lookup id, the reply public key and the follow-up verify key of ``token``: the same
    values as ``TokenKeys.derive(token)``'s public halves, in one scalar multiplication per key
    pair (PyNaCl's ``PrivateKey.from_seed`` does the reply key's twice). The gateway binds these
    for every report it takes."""
    lookup_id, reply_seed, followup_seed = _seeds(token)
    reply_pk, _ = crypto_box_seed_keypair(reply_seed)
    followup_vk, _ = crypto_sign_seed_keypair(followup_seed)
    return lookup_id, reply_pk, followup_vk
