"""Reading a case's status from a published site (``lianxin status``), as the browser does.

Only the token's shard is fetched; the lookup id, the reply key and the decryption stay local.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .protocol import DecryptionError, PayloadError, ProtocolError, Token
from .protocol.documents import ANSWER, SENT, SENT_KINDS
from .protocol.sealing import open_item, open_with_reply_key

MAGIC = b"LXS1"


class StatusError(Exception):
    """The site's status data cannot be read."""


@dataclass(frozen=True)
class CaseStatus:
    """What a token holder can see."""

    status: dict[str, Any]
    answers: list[dict[str, Any]]
    sent: list[dict[str, Any]] = field(default_factory=list)  # what the reporter sent

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
        if self.sent:
            out.append("\nWhat you sent:")
            out += [f"  {sent_line(item)}" for item in self.sent]
        for answer in self.answers:
            out.append("\nAnswer from the office:\n" + str(answer.get("text", "")))
        return out


# The kinds of record of what the reporter sent (lianxin/sent/v1), in words.
SENT_WORDS = {"report": "Report", "material": "Additional material", "satisfaction": "Your rating"}
RATING_WORDS = {
    "satisfied": "satisfied",
    "basically": "basically satisfied",
    "not": "not satisfied",
}


def sent_line(item: dict[str, Any]) -> str:
    """One record of what the reporter sent, as ``lianxin status`` prints it."""
    kind = str(item.get("kind", ""))
    words = [f"{item.get('date', '')}  {SENT_WORDS.get(kind, kind)}"]
    if kind == "satisfaction":
        rating = str(item.get("rating", ""))
        words.append(RATING_WORDS.get(rating, rating))
    if item.get("title"):
        words.append(f"\u201c{item['title']}\u201d")
    files = item.get("files")
    if isinstance(files, int) and files > 0:
        words.append(f"({files} file{'s' if files > 1 else ''})")
    return ": ".join(words[:2]) + (" " + " ".join(words[2:]) if words[2:] else "")


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
    """Every row of a shard (dummies too) as (lookup id, sealed status, sealed items)."""
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
        items = [take(struct.unpack(">H", take(2))[0]) for _ in range(take(1)[0])]
        rows.append((lookup_id, status, items))
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
    for lookup_id, sealed, items in parse_shard(_fetch(site, f"status/{shard}.bin")):
        if lookup_id != keys.lookup_id:
            continue
        try:
            status = json.loads(open_with_reply_key(sealed, keys))
        except DecryptionError:
            continue  # not sealed to this token: a dummy row that shares the id
        except (PayloadError, ValueError) as exc:
            raise StatusError("the status of this case cannot be read") from exc
        answers, sent = [], []
        for i, sealed_item in enumerate(items, 1):
            try:
                doc = open_item(sealed_item, keys).doc
            except ProtocolError as exc:
                raise StatusError(f"item {i} of this case cannot be read: {exc}") from exc
            if doc["schema"] == ANSWER:
                answers.append(doc)
            elif doc["schema"] == SENT and doc.get("kind") in SENT_KINDS:
                sent.append(doc)
            # any other type or kind is a later revision's item: ignored (protocol §13.3)
        sent.sort(key=lambda d: str(d.get("date", "")))  # stable: same day keeps its order
        return CaseStatus(status, answers, sent)
    return None
