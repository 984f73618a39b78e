"""Canaries: nothing a reporter sends or receives is readable at rest or in the gateway's log.

Reports and follow-ups carry unique marker strings in every text field, in identity fields and in
attachment names and bytes; the requests also carry markers in headers, the query string and a
forged ``X-Forwarded-For``. Afterwards the raw bytes of every file the gateway touched (database,
``-wal``, ``-shm``, log) must contain none of: the markers (UTF-8, UTF-16LE/BE, any case), the
issued tokens (grouped or not, upper or lower case), the client's address ``127.0.0.1`` or the
forged one. The files are read while the gateway runs and again after it has stopped (WAL
checkpointed). Positive controls prove the scan sees what the gateway stores.

The gateway listens on ``localhost`` (which resolves to 127.0.0.1) so that its own start-up banner
does not print ``127.0.0.1``: the client connects from 127.0.0.1, so that address can only reach
the files if the gateway records a peer address.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from conftest import GatewayProcess
from nacl.signing import SigningKey

from lianxin.keys import Keyring
from lianxin.protocol import Attachment, Envelope, Token, seal_followup, seal_report
from lianxin.protocol import pow as pow_

CLIENT_ADDRESS = "127.0.0.1"
FORGED_ADDRESS = "203.0.113.77"


class Markers:
    """Unique marker strings, remembered so the scan can look for every one."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    def __call__(self, cjk: bool = False) -> str:
        marker = ("金丝雀" if cjk else "CANARY-") + secrets.token_hex(8)
        self.issued.append(marker)
        return marker


def _variants(text: str) -> set[bytes]:
    """``text`` as bytes in every spelling a careless component might write."""
    out: set[bytes] = set()
    for spelling in {text, text.lower(), text.upper()}:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            out.add(spelling.encode(encoding))
    return out


def _token_spellings(token: str) -> set[str]:
    grouped = str(Token.parse(token))
    ungrouped = grouped.replace("-", "")
    data = ungrouped[:-1]  # the 27 data symbols, without the check symbol
    return {grouped, ungrouped, data, grouped.lower(), ungrouped.lower(), data.lower()}


def _scan(files: Iterable[Path], needles: dict[str, str]) -> list[str]:
    """Every (file, needle) pair found, as readable lines."""
    patterns = [(label, pattern) for label, text in needles.items() for pattern in _variants(text)]
    found = []
    for path in files:
        data = path.read_bytes()
        for label, pattern in patterns:
            if pattern in data:
                found.append(f"{path.name}: {label} ({pattern[:40]!r})")
    return sorted(set(found))


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _report(keyring: Keyring, mark: Markers, *, real_name: bool) -> Envelope:
    office = keyring.current_office
    doc: dict[str, Any] = {
        "schema": "lianxin/report/v1",
        "real_name": real_name,
        "reported": {
            "name": mark(cjk=True),
            "unit": mark(),
            "post": mark(cjk=True),
            "rank": mark(),
        },
        "region": mark(),
        "problem_type": mark(),
        "lang": "zh",
        "title": f"{mark()} 工程款问题 {mark(cjk=True)}",
        "text": f"反映问题。{mark()}\n{mark(cjk=True)}",
    }
    if real_name:
        doc["identity"] = {"name": mark(cjk=True), "contact": mark(), "id_number": mark()}
    marker = mark()
    attachments = [
        Attachment(f"{mark()}.txt", "text/plain", f"{marker} {mark(cjk=True)}".encode()),
        Attachment("scan.bin", "application/octet-stream", mark().encode("utf-16-le")),
    ]
    return seal_report(
        doc,
        attachments,
        office_key=keyring.office_key(office.key_id),  # type: ignore[arg-type]
        office_key_id=office.key_id,
        client_key=SigningKey.generate(),
    )


def _followup(keyring: Keyring, token: str, doc: dict[str, Any], mark: Markers) -> Envelope:
    office = keyring.current_office
    return seal_followup(
        dict(doc, schema="lianxin/followup/v1"),
        [Attachment(f"{mark()}.pdf", "application/pdf", mark().encode())],
        office_key=keyring.office_key(office.key_id),  # type: ignore[arg-type]
        office_key_id=office.key_id,
        token_keys=Token.parse(token).keys(),
    )


def _send(
    http: httpx.Client, url: str, path: str, envelope: Envelope, mark: Markers
) -> dict[str, Any]:
    issued = http.post(url + "/v1/challenges", headers={"user-agent": mark()})
    assert issued.status_code == 201, issued.text
    challenge = pow_.decode(issued.json()["challenge"])
    answer = http.post(
        f"{url}{path}?note={mark()}",
        json={
            "envelope": envelope.to_json(),
            "pow": envelope.proof(challenge.raw, pow_.solve(challenge)),
        },
        headers={
            "user-agent": mark(),
            "x-forwarded-for": FORGED_ADDRESS,
            "x-real-ip": FORGED_ADDRESS,
            "referer": f"https://portal.example/{mark()}",
        },
    )
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_no_marker_token_or_address_at_rest_or_in_the_log(
    start_gateway: Callable[..., GatewayProcess], keyring: Keyring
) -> None:
    gw = start_gateway("--host", "localhost")
    mark = Markers()
    tokens: list[str] = []
    receipt_ids: list[bytes] = []
    with httpx.Client(
        timeout=30, transport=httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
    ) as http:
        for real_name in (True, False):
            envelope = _report(keyring, mark, real_name=real_name)
            answer = _send(http, gw.url, "/v1/reports", envelope, mark)
            tokens.append(answer["token"])
            receipt_ids.append(envelope.receipt_id)
            # A retry of the identical envelope: same case, a second token.
            again = _send(http, gw.url, "/v1/reports", envelope, mark)
            assert again["duplicate"] is True
            tokens.append(again["token"])
        material = {"type": "material", "text": f"补充 {mark()} {mark(cjk=True)}"}
        satisfaction = {"type": "satisfaction", "rating": "not", "text": mark(cjk=True)}
        for token, doc in ((tokens[0], material), (tokens[3], satisfaction)):
            envelope = _followup(keyring, token, doc, mark)
            _send(http, gw.url, "/v1/followups", envelope, mark)
            receipt_ids.append(envelope.receipt_id)

        # Requests that fail must not leave traces either.
        for token in tokens:
            assert http.get(f"{gw.url}/v1/status/{token}").status_code == 404
        bad = http.post(
            gw.url + "/v1/reports",
            content=f'{{"envelope": "{mark()}", "token": "{tokens[0]}"'.encode(),
            headers={"content-type": "application/json", "x-forwarded-for": FORGED_ADDRESS},
        )
        assert bad.status_code == 400
        unknown = _followup(keyring, str(Token.generate()), material, mark)
        issued = http.post(gw.url + "/v1/challenges").json()
        challenge = pow_.decode(issued["challenge"])
        refused = http.post(
            gw.url + "/v1/followups",
            json={
                "envelope": unknown.to_json(),
                "pow": unknown.proof(challenge.raw, pow_.solve(challenge)),
            },
        )
        assert refused.status_code == 404

    needles = {f"marker {m}": m for m in mark.issued}
    for i, token in enumerate(tokens):
        needles.update({f"token {i} as {s}": s for s in _token_spellings(token)})
    needles["client address"] = CLIENT_ADDRESS
    needles["forged address"] = FORGED_ADDRESS
    assert len(mark.issued) > 40

    root = gw.db_path.parent
    # While the gateway runs: the WAL holds the recent writes.
    running = _files(root)
    assert {p.name for p in running} >= {
        gw.db_path.name,
        gw.db_path.name + "-wal",
        gw.db_path.name + "-shm",
        gw.log_path.name,
    }
    assert _scan(running, needles) == []
    _assert_scan_sees_stored_values(running, receipt_ids, tokens)

    gw.stop()
    stopped = _files(root)
    wal = gw.db_path.with_name(gw.db_path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the WAL was not checkpointed"
    assert _scan(stopped, needles) == []
    # After the checkpoint the main file alone holds every stored value.
    _assert_scan_sees_stored_values([gw.db_path], receipt_ids, tokens)
    assert b"Application startup complete" in gw.log_path.read_bytes()


def _assert_scan_sees_stored_values(
    files: list[Path], receipt_ids: list[bytes], tokens: list[str]
) -> None:
    """Positive control: the values the gateway does store are found by reading raw bytes."""
    data = b"".join(p.read_bytes() for p in files)
    for receipt_id in receipt_ids:
        assert receipt_id in data
    for token in tokens:
        assert Token.parse(token).keys().lookup_id in data
