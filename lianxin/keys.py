"""Key files: creation, rotation, listing and loading.

A keys folder holds, per key, a public JSON file and (for the machine that owns it) a private
file with mode 0600:

    office-<key id>.json / .key   X25519, reports are sealed to it; rotation adds more
    gateway.json / .key           Ed25519, signs receipts
    publisher.json / .key         Ed25519, signs the published keys and the site manifest
    gateway.secret                32 random bytes: proof-of-work MACs

Key id = the first 16 hex digits of the fingerprint; fingerprint = BLAKE2b-256 of the raw public
key, in hex. Each component loads only what it needs: the gateway never reads an office ``.key``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from .officetime import office_today
from .protocol.encoding import b64d, b64e, blake2b, lp
from .secrets import GatewaySecret, OfficeSecretKey, SigningSecret

KEYRING_DOMAIN = b"lianxin/v1/keyring"


class KeyError_(Exception):
    """Root of key-file errors (named to avoid shadowing the builtin ``KeyError``)."""


class KeysExistError(KeyError_):
    """``keys init`` would overwrite an existing key."""


class KeyFileError(KeyError_):
    """A key file is missing, unreadable or malformed."""


def fingerprint(public_key: bytes) -> str:
    """BLAKE2b-256 of the raw public key, hex."""
    return blake2b(public_key).hex()


def key_id_of(public_key: bytes) -> str:
    """The first 16 hex digits of the fingerprint."""
    return fingerprint(public_key)[:16]


def group_fingerprint(fp: str) -> str:
    """A fingerprint in groups of four for reading aloud."""
    return " ".join(fp[i : i + 4] for i in range(0, len(fp), 4))


@dataclass(frozen=True)
class PublicKeyInfo:
    """One public key as published."""

    kind: str  # office | gateway | publisher
    alg: str  # x25519 | ed25519
    key_id: str
    public_key: bytes
    created: str
    serial: int = 0

    @property
    def fingerprint(self) -> str:
        """The full fingerprint."""
        return fingerprint(self.public_key)

    def to_json(self) -> dict[str, Any]:
        """The file / published form."""
        return {
            "kind": self.kind,
            "alg": self.alg,
            "key_id": self.key_id,
            "fingerprint": self.fingerprint,
            "public_key": b64e(self.public_key),
            "created": self.created,
            "serial": self.serial,
        }

    @classmethod
    def from_json(cls, doc: Any, source: str) -> PublicKeyInfo:
        """Parse and check a public key document (the key id must match the key)."""
        try:
            info = cls(
                kind=str(doc["kind"]),
                alg=str(doc["alg"]),
                key_id=str(doc["key_id"]),
                public_key=b64d(doc["public_key"], "public_key", size=32),
                created=str(doc["created"]),
                serial=doc.get("serial", 0),
            )
        except Exception as exc:
            raise KeyFileError(f"{source}: not a valid public key document ({exc})") from exc
        if not isinstance(info.serial, int) or isinstance(info.serial, bool) or info.serial < 0:
            raise KeyFileError(f"{source}: serial: expected an integer of at least 0")
        expected_alg = {
            "office": "x25519",
            "gateway": "ed25519",
            "publisher": "ed25519",
            "office_signer": "ed25519",
        }
        if info.kind not in expected_alg:
            raise KeyFileError(f"{source}: kind: unknown key kind {info.kind!r}")
        if info.alg != expected_alg[info.kind]:
            raise KeyFileError(f"{source}: alg: a {info.kind} key is {expected_alg[info.kind]}")
        if "fingerprint" in doc and doc["fingerprint"] != info.fingerprint:
            raise KeyFileError(f"{source}: fingerprint: does not match the public key")
        if info.key_id != key_id_of(info.public_key):
            raise KeyFileError(f"{source}: key_id: does not match the public key")
        return info


@dataclass(frozen=True)
class Keyring:
    """Every public key of an installation."""

    office: tuple[PublicKeyInfo, ...]
    gateway: PublicKeyInfo
    publisher: PublicKeyInfo

    @property
    def current_office(self) -> PublicKeyInfo:
        """The office key new reports are sealed to (the newest)."""
        return max(self.office, key=lambda k: k.serial)

    def office_key(self, key_id: str) -> PublicKey | None:
        """The office public key with this id, if listed."""
        for info in self.office:
            if info.key_id == key_id:
                return PublicKey(info.public_key)
        return None

    def gateway_verify_key(self) -> VerifyKey:
        """The gateway's receipt verification key."""
        return VerifyKey(self.gateway.public_key)

    def to_json(self) -> dict[str, Any]:
        """The published keyring document."""
        return {
            "v": 1,
            "office": [k.to_json() for k in sorted(self.office, key=lambda k: -k.serial)],
            "current_office_key_id": self.current_office.key_id,
            "gateway": self.gateway.to_json(),
            "publisher": self.publisher.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Any, source: str) -> Keyring:
        """Parse a published keyring document."""
        if (
            not isinstance(doc, dict)
            or doc.get("v") != 1
            or not isinstance(doc.get("office"), list)
        ):
            raise KeyFileError(f"{source}: not a version 1 keyring")
        office = tuple(PublicKeyInfo.from_json(k, source) for k in doc["office"])
        if not office:
            raise KeyFileError(f"{source}: lists no office key")
        keyring = cls(
            office,
            PublicKeyInfo.from_json(doc.get("gateway"), source),
            PublicKeyInfo.from_json(doc.get("publisher"), source),
        )
        kinds = [k.kind for k in office] + [keyring.gateway.kind, keyring.publisher.kind]
        if kinds != ["office"] * len(office) + ["gateway", "publisher"]:
            raise KeyFileError(f"{source}: a key is listed under the wrong kind")
        serials = [k.serial for k in office]
        if len(set(serials)) != len(serials):
            raise KeyFileError(f"{source}: two office keys share a serial")
        if serials != sorted(serials, reverse=True):
            # The order is part of the format (newest first), so that office[0] is the current key.
            raise KeyFileError(
                f"{source}: office keys are not listed newest (highest serial) first"
            )
        current = doc.get("current_office_key_id", keyring.current_office.key_id)
        if current != keyring.current_office.key_id:
            raise KeyFileError(f"{source}: current_office_key_id is not the newest office key")
        return keyring


def keyring_signing_message(keyring_bytes: bytes) -> bytes:
    """What the publisher signs: the exact bytes of the published keys.json."""
    return lp(KEYRING_DOMAIN, keyring_bytes)


def _today() -> str:
    return office_today().isoformat()


def _write_private(path: Path, doc: dict[str, Any]) -> None:
    # O_EXCL: never overwrite; 0600 from the start, not chmod after the bytes are on disk.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
        fh.write("\n")


def _write_public(path: Path, info: PublicKeyInfo) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as fh:
        json.dump(info.to_json(), fh, indent=2)
        fh.write("\n")


def _new_office(directory: Path, serial: int) -> PublicKeyInfo:
    secret = PrivateKey.generate()
    pub = bytes(secret.public_key)
    info = PublicKeyInfo("office", "x25519", key_id_of(pub), pub, _today(), serial)
    _write_private(
        directory / f"office-{info.key_id}.key",
        {"kind": "office", "key_id": info.key_id, "secret_key": b64e(bytes(secret))},
    )
    _write_public(directory / f"office-{info.key_id}.json", info)
    return info


def _new_signer(directory: Path, kind: str) -> PublicKeyInfo:
    seed = secrets.token_bytes(32)
    pub = bytes(SigningKey(seed).verify_key)
    info = PublicKeyInfo(kind, "ed25519", key_id_of(pub), pub, _today())
    _write_private(
        directory / f"{kind}.key", {"kind": kind, "key_id": info.key_id, "secret_key": b64e(seed)}
    )
    _write_public(directory / f"{kind}.json", info)
    return info


def init_keys(directory: Path) -> Keyring:
    """Create every key of a new installation; refuse if any key file already exists."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = sorted(
        p.name
        for p in directory.iterdir()
        if p.suffix in (".key", ".secret") or (p.suffix == ".json" and p.stem != "keys")
    )
    if existing:
        raise KeysExistError(
            f"{directory}: already holds keys ({', '.join(existing)}); refusing to overwrite"
        )
    _new_office(directory, 1)
    _new_signer(directory, "gateway")
    _new_signer(directory, "publisher")
    _write_private_bytes(directory / "gateway.secret", secrets.token_bytes(32))
    return load_keyring(directory)


def _write_private_bytes(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(b64e(data) + "\n")


def rotate_office(directory: Path) -> PublicKeyInfo:
    """Add a new office key; older ones stay listed so their reports remain openable."""
    keyring = load_keyring(directory)
    return _new_office(directory, keyring.current_office.serial + 1)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path}: missing (run 'lianxin keys init')") from exc
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: unreadable ({exc})") from exc


def load_keyring(directory: Path) -> Keyring:
    """Read every public key in ``directory`` (never a private file)."""
    if not directory.is_dir():
        raise KeyFileError(f"{directory}: no such keys folder (run 'lianxin keys init')")
    office = tuple(
        PublicKeyInfo.from_json(_read_json(p), str(p))
        for p in sorted(directory.glob("office-*.json"))
    )
    if not office:
        raise KeyFileError(f"{directory}: no office key (run 'lianxin keys init')")
    gateway = PublicKeyInfo.from_json(_read_json(directory / "gateway.json"), "gateway.json")
    publisher = PublicKeyInfo.from_json(_read_json(directory / "publisher.json"), "publisher.json")
    return Keyring(office, gateway, publisher)


_PRIVATE_NAMES = {
    "office": "an office private key (office-*.key)",
    "gateway": "the gateway's signing key (gateway.key)",
    "publisher": "the publisher's signing key (publisher.key)",
    "office_signer": "the office signing key (office_signer.key)",
}


def _what_it_is(text: str, doc: Any) -> str:
    """What kind of file a private key file turned out to be, in words."""
    if doc is None:
        try:
            b64d(text.strip(), "secret", size=32)
            return "the gateway secret (gateway.secret)"
        except Exception:
            return "not a key file (not JSON)"
    if not isinstance(doc, dict):
        return "not a key file"
    if "current_office_key_id" in doc:
        return "the published keyring (keys.json)"
    if "public_key" in doc and doc.get("kind") in _PRIVATE_NAMES:
        return f"a {doc['kind']} public key, not a private key"
    if "secret_key" in doc and doc.get("kind") in _PRIVATE_NAMES:
        return _PRIVATE_NAMES[str(doc["kind"])]
    return "not a key file"


def _read_private(path: Path, kind: str) -> dict[str, Any]:
    """A private key file of ``kind``; a file of another kind is refused saying what it is."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path}: missing (run 'lianxin keys init')") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: unreadable ({exc})") from exc
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == kind and "secret_key" in doc:
        return doc
    raise KeyFileError(
        f"{path}: this is {_what_it_is(text, doc)}; {_PRIVATE_NAMES[kind]} is needed"
    )


def _load_signer(directory: Path, kind: str) -> SigningSecret:
    path = directory / f"{kind}.key"
    doc = _read_private(path, kind)
    try:
        key = SigningKey(b64d(doc["secret_key"], "secret_key", size=32))
    except Exception as exc:
        raise KeyFileError(f"{path}: not a valid {kind} key file") from exc
    key_id = key_id_of(bytes(key.verify_key))
    if doc.get("key_id") != key_id:
        raise KeyFileError(f"{path}: key_id does not match the key")
    return SigningSecret(key, key_id)


@dataclass(frozen=True)
class GatewayKeys:
    """What the gateway holds: public keys, its receipt signer and its secret. No office secret."""

    keyring: Keyring
    receipt_signer: SigningSecret
    secret: GatewaySecret


def load_gateway_keys(directory: Path) -> GatewayKeys:
    """Load the gateway's keys. Reads only public files, ``gateway.key`` and ``gateway.secret``."""
    keyring = load_keyring(directory)
    signer = _load_signer(directory, "gateway")
    if signer.key_id != keyring.gateway.key_id:
        raise KeyFileError(f"{directory}: gateway.key does not match gateway.json")
    path = directory / "gateway.secret"
    try:
        secret = GatewaySecret(b64d(path.read_text().strip(), "gateway.secret", size=32))
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path}: missing (run 'lianxin keys init')") from exc
    except Exception as exc:
        raise KeyFileError(f"{path}: not a valid gateway secret") from exc
    return GatewayKeys(keyring, signer, secret)


def load_publisher_signer(directory: Path) -> SigningSecret:
    """Load the publisher's signing key."""
    return _load_signer(directory, "publisher")


def load_office_secrets(path: Path) -> dict[str, OfficeSecretKey]:
    """Load office private keys from one ``office-*.key`` file or a folder of them (desk only)."""
    files = sorted(path.glob("office-*.key")) if path.is_dir() else [path]
    keys: dict[str, OfficeSecretKey] = {}
    for file in files:
        doc = _read_private(file, "office")
        try:
            secret = PrivateKey(b64d(doc["secret_key"], "secret_key", size=32))
        except Exception as exc:
            raise KeyFileError(f"{file}: not a valid office key file") from exc
        key_id = key_id_of(bytes(secret.public_key))
        if doc.get("key_id") != key_id:
            raise KeyFileError(f"{file}: key_id does not match the key")
        keys[key_id] = OfficeSecretKey(secret, key_id)
    if not keys:
        raise KeyFileError(f"{path}: no office private key found")
    return keys


def verify_keyring_signature(data: bytes, sig: bytes, publisher: VerifyKey) -> None:
    """Check the publisher's signature over the raw bytes of a published keys.json."""
    publisher.verify(keyring_signing_message(data), sig)


def export_published(directory: Path, out: Path) -> None:
    """Write keys.json (the public keyring) and keys.json.sig (publisher signature over it)."""
    keyring = load_keyring(directory)
    signer = load_publisher_signer(directory)
    if signer.key_id != keyring.publisher.key_id:
        raise KeyFileError(f"{directory}: publisher.key does not match publisher.json")
    data = (json.dumps(keyring.to_json(), indent=2, ensure_ascii=False) + "\n").encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    out.with_name(out.name + ".sig").write_text(
        b64e(signer.sign(keyring_signing_message(data))) + "\n"
    )


def init_office_signer(directory: Path) -> PublicKeyInfo:
    """Create the office signing key (``office_signer.key`` / ``.json``, Ed25519) that signs
    packages to linked offices; refuse if it exists (``lianxin office init``)."""
    if (directory / "office_signer.key").exists():
        raise KeysExistError(f"{directory}: already holds office_signer.key; refusing to overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    return _new_signer(directory, "office_signer")


def load_office_signer(directory: Path) -> SigningSecret:
    """Load the office signing key from a keys folder."""
    return _load_signer(directory, "office_signer")


def load_office_signer_public(directory: Path) -> PublicKeyInfo:
    """The public half of the office signing key."""
    path = directory / "office_signer.json"
    if not path.is_file():
        raise KeyFileError(f"{path}: missing (run 'lianxin office init --keys {directory}')")
    return PublicKeyInfo.from_json(_read_json(path), str(path))
