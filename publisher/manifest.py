"""The signed manifest of a built site, and its verification (``lianxin verify-site``).

    manifest.json      {"v": 1, "publisher_key_id": "...", "built": "YYYY-MM-DD",
                        "files": {"<path>": "<sha256 hex>", ...}}
    manifest.json.sig  base64url Ed25519 signature over lp("lianxin/v1/manifest", manifest bytes)

Every file of the site except the manifest and its signature is listed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from lianxin.keys import Keyring, fingerprint
from lianxin.protocol.encoding import b64d, b64e, lp
from lianxin.secrets import SigningSecret

from .errors import PublisherError

MANIFEST_DOMAIN = b"lianxin/v1/manifest"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"


class SiteVerificationError(PublisherError):
    """A site does not match its signed manifest."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_hashes(site: Path) -> dict[str, str]:
    """SHA-256 of every file under ``site`` (POSIX relative paths), manifest files excluded."""
    hashes = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site).as_posix()
        if path.is_file() and rel not in (MANIFEST, SIGNATURE):
            hashes[rel] = _sha256(path)
    return hashes


def write_manifest(site: Path, signer: SigningSecret, built: str) -> dict[str, Any]:
    """Hash every file, write manifest.json and its signature."""
    manifest = {
        "v": 1,
        "publisher_key_id": signer.key_id,
        "built": built,
        "files": file_hashes(site),
    }
    data = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    (site / MANIFEST).write_bytes(data)
    (site / SIGNATURE).write_text(b64e(signer.sign(lp(MANIFEST_DOMAIN, data))) + "\n")
    return manifest


@dataclass(frozen=True)
class Verified:
    """The outcome of a successful verification."""

    files: int
    publisher_fingerprint: str


def _reader(site: str) -> Any:
    if site.startswith(("http://", "https://")):
        client = httpx.Client(base_url=site.rstrip("/") + "/", timeout=30)

        def fetch(path: str) -> bytes | None:
            answer = client.get(path)
            return answer.content if answer.status_code == 200 else None

        return fetch

    root = Path(site)

    def read(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return read


def verify_site(site: str, *, publisher_fingerprint: str | None = None) -> Verified:
    """Check the manifest's signature and every listed file; a folder must hold no extra file.

    The publisher key is read from the site's keys.json unless ``publisher_fingerprint`` pins it
    (recommended: a site can only vouch for itself).
    """
    fetch = _reader(site)
    data, sig_text, keys_data = fetch(MANIFEST), fetch(SIGNATURE), fetch("keys.json")
    if data is None or sig_text is None:
        raise SiteVerificationError(f"{site}: no {MANIFEST} or {SIGNATURE}")
    if keys_data is None:
        raise SiteVerificationError(f"{site}: no keys.json to find the publisher key in")
    try:
        keyring = Keyring.from_json(json.loads(keys_data), "keys.json")
        manifest = json.loads(data)
        sig = b64d(sig_text.decode().strip(), SIGNATURE, size=64)
    except Exception as exc:
        raise SiteVerificationError(f"{site}: unreadable manifest or keys ({exc})") from exc
    fp = fingerprint(keyring.publisher.public_key)
    if publisher_fingerprint and fp != publisher_fingerprint.replace(" ", "").lower():
        raise SiteVerificationError(f"{site}: publisher key {fp} is not the expected one")
    try:
        VerifyKey(keyring.publisher.public_key).verify(lp(MANIFEST_DOMAIN, data), sig)
    except BadSignatureError as exc:
        raise SiteVerificationError(f"{site}: the manifest's signature does not verify") from exc
    files: dict[str, str] = manifest.get("files", {})
    for path, expected in files.items():
        content = fetch(path)
        if content is None:
            raise SiteVerificationError(f"{site}: {path} is listed but missing")
        if hashlib.sha256(content).hexdigest() != expected:
            raise SiteVerificationError(f"{site}: {path} does not match the manifest")
    if not site.startswith(("http://", "https://")):
        extra = sorted(set(file_hashes(Path(site))) - set(files))
        if extra:
            raise SiteVerificationError(f"{site}: {extra[0]} is not in the manifest")
    return Verified(len(files), fp)
