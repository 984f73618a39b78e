"""Reading a published log from a site (a URL or a built folder): checkpoint, tiles, entries,
and the log key (the publisher key from the site's signed ``keys.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ..keys import KeyError_, Keyring, verify_keyring_signature
from ..protocol import ProtocolError
from ..protocol.encoding import b64d
from . import LogError
from .checkpoint import peek_checkpoint
from .note import ED25519, Verifier

LOG_DIR = "log"


class SiteError(LogError):
    """A file of the site cannot be read."""


class Site:
    """A published portal; every fetched file is counted (for the benchmark)."""

    def __init__(self, location: str):
        self.location = location.rstrip("/")
        self.remote = location.startswith(("http://", "https://"))
        self.fetched = 0
        self.files = 0
        self._client = httpx.Client(timeout=30) if self.remote else None

    def get(self, path: str) -> bytes:
        if self._client is not None:
            try:
                answer = self._client.get(f"{self.location}/{path}")
            except httpx.HTTPError as exc:
                raise SiteError(f"cannot fetch {path} from {self.location}: {exc}") from exc
            if answer.status_code != 200:
                raise SiteError(f"{self.location}/{path}: HTTP {answer.status_code}")
            data = answer.content
        else:
            try:
                data = (Path(self.location) / path).read_bytes()
            except OSError as exc:
                raise SiteError(
                    f"cannot read {Path(self.location) / path}: {exc.strerror}"
                ) from exc
        self.fetched += len(data)
        self.files += 1
        return data

    def log(self, path: str) -> bytes:
        return self.get(f"{LOG_DIR}/{path}")

    def publisher_key(self) -> bytes:
        """The publisher's Ed25519 key from the signed keys.json (signature checked)."""
        data = self.get("keys.json")
        try:
            doc = json.loads(data)
            keyring = Keyring.from_json(doc.get("keyring", doc), "keys.json")
            sig = b64d(self.get("keys.json.sig").decode().strip(), "keys.json.sig", size=64)
            verify_keyring_signature(data, sig, VerifyKey(keyring.publisher.public_key))
        except (ValueError, AttributeError, KeyError_, ProtocolError) as exc:
            raise SiteError(f"keys.json: {exc}") from exc
        except BadSignatureError as exc:
            raise SiteError("keys.json is not signed by its publisher key") from exc
        return keyring.publisher.public_key

    def log_verifier(self) -> Verifier:
        """The log key: the publisher key, named by the checkpoint's origin."""
        origin = peek_checkpoint(self.log("checkpoint")).origin
        return Verifier(origin, ED25519, self.publisher_key())

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
