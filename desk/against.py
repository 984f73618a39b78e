"""``desk verify --against SITE_OR_FILE``: compare the register with the chain heads the
publisher signed at each publish.

Someone with write access to the database can edit an event and recompute every hash after
it (and, holding officers' keys, every signature): the chain then checks out on its own. A
head signed at an earlier publish (on the site, or a saved copy of ``register-head.json``)
still names the hash the event at its position had; a different hash there means the
register was rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils
from nacl.signing import VerifyKey

from lianxin.keys import KeyError_, Keyring
from lianxin.store.heads import check_head

from .refusals import BadValue

HEAD_FILE = "register-head.json"


def _read(path: Path, argument: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadValue(f"cannot read {path} ({exc})", argument) from exc


def load_heads(source: Path) -> tuple[list[dict[str, Any]], VerifyKey]:
    """The heads of a site folder or a head file, and the publisher key of the keys.json
    beside them."""
    head_file = source / HEAD_FILE if source.is_dir() else source
    if not head_file.is_file():
        raise BadValue(f"no {HEAD_FILE} at {source}", "--against")
    doc = _read(head_file, "--against")
    keys_file = head_file.parent / "keys.json"
    if not keys_file.is_file():
        raise BadValue(f"no keys.json beside {head_file} (the publisher key)", "--against")
    try:
        keyring = Keyring.from_json(_read(keys_file, "--against"), str(keys_file))
    except KeyError_ as exc:
        raise BadValue(str(exc), "--against") from exc
    heads = doc.get("heads") if isinstance(doc, dict) else None
    if not isinstance(heads, list):
        heads = [doc]
    return heads, VerifyKey(keyring.publisher.public_key)


def check_against(db: sqlite_utils.Database, source: Path) -> list[tuple[int, str]]:
    """(position, problem) for every published head the register no longer matches."""
    heads, publisher = load_heads(source)
    out = []
    for doc in heads:
        try:
            seq, digest = check_head(doc, publisher)
        except ValueError as exc:
            out.append((0, str(exc)))
            continue
        if seq == 0:
            continue
        row = db.execute("SELECT hash FROM events WHERE seq = ?", [seq]).fetchone()
        if row is None:
            out.append((seq, f"the head signed on {doc.get('date')} names event {seq}: missing"))
        elif bytes(row[0]) != digest:
            out.append(
                (
                    seq,
                    f"the register was rewritten: event {seq}'s hash differs from the head"
                    f" signed on {doc.get('date')}",
                )
            )
    return out
