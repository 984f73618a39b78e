"""Secret keys behind types that never print their bytes.

PyNaCl's ``str(PrivateKey)`` prints the key. These wrappers expose only what callers need
(sign, open) and redact ``str``/``repr``, so a stray log line or traceback cannot leak a key.
"""

from __future__ import annotations

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from .protocol.errors import DecryptionError


class OfficeSecretKey:
    """The office's X25519 decryption key for one key id."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: PrivateKey, key_id: str):
        self._key = key
        self.key_id = key_id

    def open(self, sealed: bytes) -> bytes:
        """Open a sealed box addressed to this key."""
        try:
            return bytes(SealedBox(self._key).decrypt(sealed))
        except CryptoError as exc:
            raise DecryptionError(f"cannot open data sealed to office key {self.key_id}") from exc

    def secret_bytes(self) -> bytes:
        """The raw private key, only to seal it to an officer's key (never print it)."""
        return bytes(self._key)

    @property
    def public_key(self) -> bytes:
        """The public half."""
        return bytes(self._key.public_key)

    def __repr__(self) -> str:
        return f"OfficeSecretKey(key_id={self.key_id}, <redacted>)"

    __str__ = __repr__


class SigningSecret:
    """An Ed25519 signing key (gateway receipts, publisher manifests)."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: SigningKey, key_id: str):
        self._key = key
        self.key_id = key_id

    @property
    def raw(self) -> SigningKey:
        """The PyNaCl key, for protocol code that signs (never print it)."""
        return self._key

    @property
    def verify_key(self) -> VerifyKey:
        """The public half."""
        return self._key.verify_key

    def sign(self, message: bytes) -> bytes:
        """A detached 64-byte signature."""
        return bytes(self._key.sign(message).signature)

    def __repr__(self) -> str:
        return f"SigningSecret(key_id={self.key_id}, <redacted>)"

    __str__ = __repr__


class GatewaySecret:
    """The gateway's 32-byte secret, from which per-purpose keys are derived."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes):
        if len(secret) != 32:
            raise ValueError("the gateway secret must be 32 bytes")
        self._secret = secret

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (BLAKE2b keyed with the secret)."""
        from .protocol.encoding import blake2b

        return blake2b(purpose.encode(), key=self._secret)

    def __repr__(self) -> str:
        return "GatewaySecret(<redacted>)"

    __str__ = __repr__
