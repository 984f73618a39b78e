"""Reading a case's status from a published site (``lianxin status``), as the browser does.

Only the token's shard is fetched; the lookup id, the reply key and the decryption stay local.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .protocol import DecryptionError, PayloadError, ProtocolError, Token
from .protocol.sealing import open_answer, open_with_reply_key

MAGIC = b"LXS1"


class StatusError(Exception):
    """The site's status data cannot be read."""


@dataclass(frozen=True)
class CaseStatus:
    """What a token holder can see."""

    status: dict[str, Any]
    answers: list[dict[str, Any]]

    def lines(self) -> list[str]:
        """The status as ``lianxin status`` prints it: plain words, no markup."""
        status = self.status
        out = [f"Status: {status['state']} (as of {status['as_of']}, the office's date)"]
        out += [f"  {step['date']}  {step['step']}" for step in status["steps"]]
        out += [f"  {day}  your rating or material received" for day in status.get("followups", [])]
        if status.get("satisfaction"):
            out.append(f"Your rating: {status['satisfaction']} (recorded by the office)")
        if status.get("due"):
            colour = str(status.get("colour"))
            words = DEADLINE_WORDS.get(colour, colour)
            provisional = (
                " (calendar not yet published for that year)" if status["due_uncertain"] else ""
            )
            out.append(f"Deadline: {status['due']}, {words}{provisional}")
        for answer in self.answers:
            out.append("\nAnswer from the office:\n" + str(answer.get("text", "")))
        return out


# The status page's deadline colours, in words.
DEADLINE_WORDS = {"red": "overdue", "yellow": "due soon", "green": "on time", "blue": "done"}


def _fetch(site: str, path: str) -> bytes:
    if site.startswith(("http://", "https://")):
        try:
            answer = httpx.get(site.rstrip("/") + "/" + path, timeout=30)
        except httpx.HTTPError as exc:
            raise StatusError(f"cannot fetch {path} from {site}: {exc}") from exc
        if answer.status_code != 200:
            raise StatusError(f"{site}/{path}: HTTP {answer.status_code}")
        return answer.content
    try:
        return (Path(site) / path).read_bytes()
    except OSError as exc:
        raise StatusError(f"cannot read {Path(site) / path}: {exc.strerror}") from exc


def parse_shard(data: bytes) -> list[tuple[bytes, bytes, list[bytes]]]:
    """Every row of a shard (dummies too) as (lookup id, sealed status, sealed answers)."""
    if data[:4] != MAGIC or len(data) < 8:
        raise StatusError("the shard is not Lianxin status data")
    (count,) = struct.unpack_from(">I", data, 4)
    pos, rows = 8, []

    def take(size: int) -> bytes:
        nonlocal pos
        if pos + size > len(data):
            raise StatusError("the shard is truncated")
        pos += size
        return data[pos - size : pos]

    for _ in range(count):
        lookup_id = take(16)
        status = take(struct.unpack(">H", take(2))[0])
        answers = [take(struct.unpack(">H", take(2))[0]) for _ in range(take(1)[0])]
        rows.append((lookup_id, status, answers))
    return rows


def read_status(site: str, token: Token) -> CaseStatus | None:
    """The status of ``token``'s case on ``site`` (a folder or URL), or None if not listed.

    Every row with the token's lookup id is tried in order (the scan goes on past a row that does
    not open: a dummy that happens to share the id); the first whose status opens is the case.
    """
    try:
        index = json.loads(_fetch(site, "status/index.json"))
        shards = int(index["shards"])
    except (ValueError, KeyError, TypeError) as exc:
        raise StatusError("status/index.json is not valid") from exc
    keys = token.keys()
    shard = int.from_bytes(keys.lookup_id[:4], "big") % shards
    for lookup_id, sealed, answers in parse_shard(_fetch(site, f"status/{shard}.bin")):
        if lookup_id != keys.lookup_id:
            continue
        try:
            status = json.loads(open_with_reply_key(sealed, keys))
        except DecryptionError:
            continue  # not sealed to this token: a dummy row that shares the id
        except (PayloadError, ValueError) as exc:
            raise StatusError("the status of this case cannot be read") from exc
        opened = []
        for i, sealed_answer in enumerate(answers, 1):
            try:
                opened.append(open_answer(sealed_answer, keys).doc)
            except ProtocolError as exc:
                raise StatusError(f"answer {i} of this case cannot be read: {exc}") from exc
        return CaseStatus(status, opened)
    return None
