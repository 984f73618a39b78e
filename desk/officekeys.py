"""The office keys an officer brings with ``--key PATH`` (a key file or a folder of them).

Private keys open reports, follow-ups and notes. New notes and intake reports are sealed to the
office's *current* public key: the newest ``office-*.json`` beside the private key file, which
must be one of the keys loaded (so whoever sealed a note can read it back). Nothing here is
ever written to the database.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PublicKey, SealedBox

from lianxin.keys import KeyError_, PublicKeyInfo, load_office_secrets
from lianxin.protocol import ProtocolError
from lianxin.protocol.encoding import blake2b
from lianxin.protocol.padding import pad, unpad
from lianxin.secrets import OfficeSecretKey

from .refusals import WrongKey


@dataclass(frozen=True)
class OfficeKeys:
    """The private keys loaded and the current public key (if its file is beside them)."""

    secrets: Mapping[str, OfficeSecretKey]
    source: Path
    current: PublicKeyInfo | None

    def sealing_key(self) -> PublicKeyInfo:
        """The current office public key, which must be among the loaded private keys."""
        if self.current is None:
            raise WrongKey(f"{self.source}: no office-*.json public key file beside it")
        if self.current.key_id not in self.secrets:
            raise WrongKey(
                f"the current office key {self.current.key_id} is not in {self.source}; "
                "give the folder or file holding it"
            )
        return self.current

    def secret(self, key_id: str, what: str) -> OfficeSecretKey:
        """The private key with ``key_id``; refused naming ``what`` needs it."""
        key = self.secrets.get(key_id)
        if key is None:
            loaded = ", ".join(sorted(self.secrets))
            raise WrongKey(f"{what} is sealed to office key {key_id}; {self.source} holds {loaded}")
        return key


def load_office_keys(path: Path) -> OfficeKeys:
    """Load the private keys at ``path`` and find the current public key beside them."""
    try:
        secrets = load_office_secrets(path)
    except (KeyError_, OSError) as exc:
        raise WrongKey(str(exc)) from exc
    folder = path if path.is_dir() else path.parent
    infos: list[PublicKeyInfo] = []
    for file in sorted(folder.glob("office-*.json")):
        try:
            infos.append(PublicKeyInfo.from_json(json.loads(file.read_text()), str(file)))
        except (KeyError_, OSError, ValueError):
            continue  # an unreadable public file is no reason to refuse the private keys
    current = max(infos, key=lambda k: k.serial) if infos else None
    return OfficeKeys(secrets, path, current)


def pack_note(doc: dict[str, Any], data: bytes) -> bytes:
    """A note's padded plaintext: length-prefixed JSON document, then raw bytes."""
    body = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
    return pad(struct.pack(">I", len(body)) + body + data)


def seal_to_office(doc: dict[str, Any], data: bytes, key: PublicKeyInfo) -> bytes:
    """Seal a note (JSON document plus raw bytes) to an office public key, padded."""
    return bytes(SealedBox(PublicKey(key.public_key)).encrypt(pack_note(doc, data)))


def open_from_office(sealed: bytes, key: OfficeSecretKey) -> tuple[dict[str, Any], bytes]:
    """Open what :func:`seal_to_office` sealed."""
    try:
        return unpack_note(key.open(sealed))
    except ProtocolError as exc:
        raise WrongKey(f"cannot open a note with office key {key.key_id}: {exc}") from exc


def unpack_note(padded: bytes) -> tuple[dict[str, Any], bytes]:
    """The document and bytes of :func:`pack_note`'s output."""
    payload = unpad(padded)
    (length,) = struct.unpack(">I", payload[:4])
    doc = json.loads(payload[4 : 4 + length].decode())
    if not isinstance(doc, dict):
        raise WrongKey("a note does not hold a JSON object")
    return doc, payload[4 + length :]


def digest(sealed: bytes) -> str:
    """A short hash of sealed bytes, kept in the event log so edits are detected."""
    return blake2b(sealed, size=16).hex()
