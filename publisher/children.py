"""Collecting the child offices' published releases for the roll-up (``lianxin publish
--children``), verified against the office directory.

For each child office in the directory, the publisher reads the child's signed manifest
(``manifest.json`` and ``manifest.json.sig``, :mod:`publisher.manifest`) and ``keys.json`` from
the portal URL on the child's pinned card (or from a local folder, ``--children-from DIR``:
``DIR/<office id>/`` is that child's built site). It is taken only if the site's publisher key is
the one the directory pins (by fingerprint) and the manifest's signature verifies with that pinned
key; then each monthly release file (``data/releases/YYYY-MM.json``) must match its hash in the
manifest. What passed is copied to the cache (``<store>.children/<office id>/``) with the
manifest, so every build verifies it again; a child refused (unknown key, bad signature, a file
that does not match, unreachable) is dropped from the cache and the roll-up page says why.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlite_utils
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from lianxin.keys import Keyring, fingerprint
from lianxin.protocol.encoding import b64d, lp

from .errors import PublisherError
from .manifest import MANIFEST, MANIFEST_DOMAIN, SIGNATURE

RELEASE = re.compile(r"data/releases/(\d{4}-\d{2})\.json")
KEYS = "keys.json"
COLLECTED = "collected.json"
TIMEOUT = 20.0

Fetch = Callable[[str], bytes | None]


class ChildRefused(PublisherError):
    """A child's published release is not taken: the reason says why."""


@dataclass(frozen=True)
class Child:
    """A child office as the directory pins it."""

    office_id: str
    name: str
    region: str
    portal_url: str
    publisher_key: bytes
    publisher_fp: str


@dataclass(frozen=True)
class ChildRelease:
    """A child's verified monthly releases: month -> the records of its release file."""

    child: Child
    months: dict[str, list[dict[str, Any]]]
    built: str


@dataclass(frozen=True)
class Outcome:
    """What collecting one child gave: taken, or refused with a reason."""

    office_id: str
    name: str
    source: str
    months: int
    refused: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For ``collected.json``."""
        return dict(self.__dict__)


def directory_children(db: sqlite_utils.Database) -> list[Child]:
    """The child offices of the directory (``lianxin office add --relation child``)."""
    if "offices" not in db.table_names():
        return []
    from lianxin.offices.directory import list_offices

    return [
        Child(
            e.card.office_id,
            e.card.name,
            e.card.region,
            e.card.portal_url,
            e.card.publisher_key,
            e.card.publisher_fp,
        )
        for e in list_offices(db)
        if e.relation == "child"
    ]


def folder_reader(root: Path) -> Fetch:
    """Read a site's files from a folder."""

    def read(path: str) -> bytes | None:
        target = root / path
        return target.read_bytes() if target.is_file() else None

    return read


def verify_child(child: Child, fetch: Fetch, where: str) -> tuple[ChildRelease, dict[str, bytes]]:
    """Verify a child's published releases against its pinned publisher key; returns them and
    the files to cache. ``ChildRefused`` says what failed."""
    data, sig_text, keys_data = fetch(MANIFEST), fetch(SIGNATURE), fetch(KEYS)
    if data is None or sig_text is None or keys_data is None:
        raise ChildRefused(f"{where}: no signed manifest ({MANIFEST}, {SIGNATURE}, {KEYS})")
    try:
        published = fingerprint(Keyring.from_json(json.loads(keys_data), KEYS).publisher.public_key)
        signature = b64d(sig_text.decode().strip(), SIGNATURE, size=64)
        manifest = json.loads(data)
        files: dict[str, str] = dict(manifest["files"])
    except Exception as exc:
        raise ChildRefused(f"{where}: unreadable manifest or keys ({exc})") from exc
    if published != child.publisher_fp:
        raise ChildRefused(
            f"{where}: unknown publisher key {published}; the directory pins {child.publisher_fp}"
            " (refresh the office's card: an officer confirms a changed key)"
        )
    try:
        VerifyKey(child.publisher_key).verify(lp(MANIFEST_DOMAIN, data), signature)
    except BadSignatureError as exc:
        raise ChildRefused(
            f"{where}: the manifest's signature does not verify with the pinned publisher key"
            f" {child.publisher_fp}"
        ) from exc
    months: dict[str, list[dict[str, Any]]] = {}
    cache = {MANIFEST: data, SIGNATURE: sig_text, KEYS: keys_data}
    for path, expected in sorted(files.items()):
        match = RELEASE.fullmatch(path)
        if match is None:
            continue
        content = fetch(path)
        if content is None:
            raise ChildRefused(f"{where}: {path} is in the signed manifest but missing")
        if hashlib.sha256(content).hexdigest() != expected:
            raise ChildRefused(f"{where}: {path} does not match the signed manifest")
        try:
            records = json.loads(content)
            if not isinstance(records, list):
                raise ValueError("not a list of records")
        except ValueError as exc:
            raise ChildRefused(f"{where}: {path} is not a release file ({exc})") from exc
        months[match.group(1)] = records
        cache[path] = content
    return ChildRelease(child, months, str(manifest.get("built", ""))), cache


def default_cache(db_path: Path) -> Path:
    """Where a store's collected child releases are kept: beside it, ``<store>.children``."""
    return db_path.with_name(db_path.stem + ".children")


def collect_children(
    children: Iterable[Child], cache: Path, *, source: Path | None = None
) -> list[Outcome]:
    """Fetch, verify and cache every child's releases (from ``source/<office id>/`` when given,
    else over HTTP from the card's portal URL); a refused child is dropped from the cache. The
    outcomes are written to ``cache/collected.json`` for the page."""
    cache.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for child in children:
            if source is not None:
                where = str(source / child.office_id)
                fetch = folder_reader(source / child.office_id)
            else:
                where = child.portal_url
                fetch = _http_reader(client, child.portal_url)
            folder = cache / child.office_id
            try:
                release, files = verify_child(child, fetch, where)
            except ChildRefused as exc:
                shutil.rmtree(folder, ignore_errors=True)
                outcomes.append(Outcome(child.office_id, child.name, where, 0, str(exc)))
                continue
            shutil.rmtree(folder, ignore_errors=True)
            for path, content in files.items():
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            outcomes.append(Outcome(child.office_id, child.name, where, len(release.months)))
    doc = {"children": [o.as_dict() for o in outcomes]}
    (cache / COLLECTED).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return outcomes


def _http_reader(client: httpx.Client, base: str) -> Fetch:
    def fetch(path: str) -> bytes | None:
        try:
            answer = client.get(f"{base.rstrip('/')}/{path}")
        except httpx.HTTPError as exc:
            raise ChildRefused(f"{base}: cannot fetch {path} ({exc.__class__.__name__})") from exc
        return answer.content if answer.status_code == 200 else None

    return fetch


def cached_releases(
    children: Iterable[Child], cache: Path
) -> tuple[list[ChildRelease], list[Outcome]]:
    """The cached releases, verified again against the directory, and the children left out
    (refused when collected, refused now, or never collected)."""
    collected: dict[str, dict[str, Any]] = {}
    if (cache / COLLECTED).is_file():
        doc = json.loads((cache / COLLECTED).read_text(encoding="utf-8"))
        collected = {c["office_id"]: c for c in doc.get("children", [])}
    taken: list[ChildRelease] = []
    left: list[Outcome] = []
    for child in children:
        folder = cache / child.office_id
        before = collected.get(child.office_id)
        if before is not None and before.get("refused"):
            reason = str(before["refused"])
            left.append(Outcome(child.office_id, child.name, str(before["source"]), 0, reason))
            continue
        if not folder.is_dir():
            left.append(Outcome(child.office_id, child.name, "", 0, "not collected yet"))
            continue
        try:
            release, _ = verify_child(child, folder_reader(folder), f"cache of {child.office_id}")
        except ChildRefused as exc:
            left.append(Outcome(child.office_id, child.name, str(folder), 0, str(exc)))
            continue
        taken.append(release)
    return taken, left
