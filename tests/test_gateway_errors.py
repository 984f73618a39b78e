"""Every bad input: a specific 4xx problem+json, and a database left exactly as it was."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, GatewayProcess
from nacl.signing import SigningKey
from support import post, problem_slug, sealed_followup, sealed_report, snapshot, solved

from lianxin.keys import Keyring, load_gateway_keys, load_keyring
from lianxin.protocol import Envelope, Token
from lianxin.protocol import pow as pow_
from lianxin.protocol.encoding import b64e

MAX_BODY = 262_144


@pytest.fixture
def gw(start_gateway: Callable[..., GatewayProcess]) -> Iterator[GatewayProcess]:
    gateway = start_gateway("--max-body", str(MAX_BODY))
    # One real case so that "unchanged" is checked against a database with data in it.
    answer = post(gateway.url, "/v1/reports", sealed_report(load_keyring(gateway.keys_dir)))
    assert answer.status_code == 201
    gateway.token = answer.json()["token"]  # type: ignore[attr-defined]
    yield gateway


def _body(keyring: Keyring, url: str, **changes: Any) -> dict[str, Any]:
    sealed = sealed_report(keyring)
    envelope = sealed.to_json()
    envelope.update(changes)
    return {"envelope": envelope, "pow": solved(url, sealed)}


def _with(envelope: Envelope, url: str) -> dict[str, Any]:
    return {"envelope": envelope.to_json(), "pow": solved(url, envelope)}


def _raw(url: str, body: bytes) -> httpx.Response:
    return httpx.post(
        url + "/v1/reports", content=body, headers={"content-type": "application/json"}
    )


def _stolen_envelope_body(gw: GatewayProcess) -> dict[str, Any]:
    """The stored envelope of an existing case, re-posted by someone without its client key."""
    import sqlite3

    conn = sqlite3.connect(gw.db_path)
    key_id, author, ciphertext, sig = conn.execute(
        "SELECT key_id, author, ciphertext, sig FROM submissions WHERE kind = 'report'"
    ).fetchone()
    conn.close()
    stolen = Envelope("report", key_id, author, ciphertext, sig, SigningKey.generate())
    return _with(stolen, gw.url)


def _forge_challenge(gw: GatewayProcess, *, expired: bool = False) -> pow_.Challenge:
    key = load_gateway_keys(gw.keys_dir).secret.derive("pow")
    return pow_.issue(key, 8, 30, now=0 if expired else None)


def _wrong_answer(challenge: pow_.Challenge) -> int:
    answer = 0
    while pow_.meets(challenge.raw, answer, challenge.difficulty):
        answer += 1
    return answer


CASES: dict[str, tuple[int, str, Callable[[GatewayProcess, Keyring], httpx.Response]]] = {
    "malformed JSON": (
        400,
        "bad-json",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            content=b'{"envelope": ',
            headers={"content-type": "application/json"},
        ),
    ),
    "not UTF-8": (
        400,
        "bad-json",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            content=b"\xff\xfe{}",
            headers={"content-type": "application/json"},
        ),
    ),
    "wrong content type": (
        415,
        "bad-content-type",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            content=json.dumps(_body(kr, gw.url)),
            headers={"content-type": "text/plain"},
        ),
    ),
    "body over the limit": (
        413,
        "body-too-large",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            content=b"{" + b" " * MAX_BODY + b"}",
            headers={"content-type": "application/json"},
        ),
    ),
    "body over the limit, chunked": (
        413,
        "body-too-large",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            content=iter([b"{", b" " * MAX_BODY, b"}"]),
            headers={"content-type": "application/json"},
        ),
    ),
    "wrong body shape": (
        400,
        "bad-request",
        lambda gw, kr: httpx.post(gw.url + "/v1/reports", json={"envelope": {}}),
    ),
    "unknown version": (
        422,
        "bad-version",
        lambda gw, kr: httpx.post(gw.url + "/v1/reports", json=_body(kr, gw.url, v=2)),
    ),
    "unknown key id": (
        422,
        "unknown-key-id",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports", json=_body(kr, gw.url, key_id="00000000000000aa")
        ),
    ),
    "invalid base64": (
        422,
        "bad-base64",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports", json=_body(kr, gw.url, ciphertext="abc$def")
        ),
    ),
    "wrong length": (
        422,
        "bad-length",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports", json=_body(kr, gw.url, client_pk=b64e(bytes(31)))
        ),
    ),
    "missing field": (
        422,
        "missing-field",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            json=_body(kr, gw.url, sig=None)
            | {"envelope": {k: v for k, v in _body(kr, gw.url)["envelope"].items() if k != "sig"}},
        ),
    ),
    "bad signature": (
        422,
        "bad-signature",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports", json=_body(kr, gw.url, sig=b64e(bytes(64)))
        ),
    ),
    "follow-up sent as a report": (
        422,
        "bad-kind",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            json={
                **_with(
                    sealed_followup(
                        kr,
                        Token.parse(gw.token).keys(),  # type: ignore
                        {"type": "material", "text": "x"},
                    ),
                    gw.url,
                ),
            },
        ),
    ),
    "missing proof of work": (
        403,
        "pow-missing",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports", json={"envelope": sealed_report(kr).to_json(), "pow": {}}
        ),
    ),
    "forged challenge": (
        403,
        "pow-invalid",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            json={
                "envelope": sealed_report(kr).to_json(),
                "pow": {"challenge": b64e(bytes([1, 8]) + bytes(40)), "answer": 0},
            },
        ),
    ),
    "expired challenge": (
        403,
        "pow-expired",
        lambda gw, kr: (
            lambda c: httpx.post(
                gw.url + "/v1/reports",
                json={
                    "envelope": (e := sealed_report(kr)).to_json(),
                    "pow": e.proof(c.raw, pow_.solve(c)),
                },
            )
        )(_forge_challenge(gw, expired=True)),
    ),
    "wrong answer": (
        403,
        "pow-wrong",
        lambda gw, kr: (
            lambda c: httpx.post(
                gw.url + "/v1/reports",
                json={
                    "envelope": (e := sealed_report(kr)).to_json(),
                    "pow": e.proof(c.raw, _wrong_answer(c)),
                },
            )
        )(_forge_challenge(gw)),
    ),
    "unknown lookup id": (
        404,
        "unknown-lookup-id",
        lambda gw, kr: post(
            gw.url,
            "/v1/followups",
            sealed_followup(kr, Token.generate().keys(), {"type": "material", "text": "x"}),
        ),
    ),
    "follow-up signed by the wrong key": (
        422,
        "bad-signature",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/followups",
            json={
                "envelope": {
                    **(
                        e := sealed_followup(
                            kr, Token.generate().keys(), {"type": "material", "text": "x"}
                        )
                    ).to_json(),
                    "lookup_id": Token.parse(gw.token).keys().lookup_hex,  # type: ignore
                },
                "pow": solved(gw.url, e),
            },
        ),
    ),
    "proof of work signed by another key": (
        403,
        "pow-unbound",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            json={
                "envelope": sealed_report(kr).to_json(),
                "pow": solved(gw.url, sealed_report(kr)),
            },
        ),
    ),
    "proof of work not signed": (
        403,
        "pow-missing",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            json={
                "envelope": (e := sealed_report(kr)).to_json(),
                "pow": {k: v for k, v in solved(gw.url, e).items() if k != "sig"},
            },
        ),
    ),
    "a stored envelope re-posted without its client key": (
        403,
        "pow-unbound",
        lambda gw, kr: httpx.post(gw.url + "/v1/reports", json=_stolen_envelope_body(gw)),
    ),
    "extra member in pow": (
        400,
        "bad-request",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/reports",
            json={
                "envelope": (e := sealed_report(kr)).to_json(),
                "pow": {**solved(gw.url, e), "extra": 1},
            },
        ),
    ),
    "UTF-16 body": (
        400,
        "bad-json",
        lambda gw, kr: _raw(gw.url, json.dumps(_body(kr, gw.url)).encode("utf-16")),
    ),
    "duplicate members": (
        400,
        "bad-json",
        lambda gw, kr: _raw(gw.url, b'{"envelope": {}, "envelope": {}, "pow": {}}'),
    ),
    "NaN": (400, "bad-json", lambda gw, kr: _raw(gw.url, b'{"envelope": NaN, "pow": {}}')),
    "huge integer literal": (
        400,
        "bad-json",
        lambda gw, kr: _raw(gw.url, b'{"envelope": ' + b"9" * 5000 + b', "pow": {}}'),
    ),
    "deeply nested arrays": (
        400,
        "bad-json",
        lambda gw, kr: _raw(gw.url, b"[" * 100_000 + b"]" * 100_000),
    ),
    "version as a float": (
        422,
        "bad-version",
        lambda gw, kr: httpx.post(gw.url + "/v1/reports", json=_body(kr, gw.url, v=1.0)),
    ),
    "lookup id with a trailing newline": (
        422,
        "bad-field",
        lambda gw, kr: httpx.post(
            gw.url + "/v1/followups",
            json={
                "envelope": {
                    **(
                        e := sealed_followup(
                            kr,
                            Token.parse(gw.token).keys(),  # type: ignore
                            {"type": "material", "text": "x"},
                        )
                    ).to_json(),
                    "lookup_id": Token.parse(gw.token).keys().lookup_hex + "\n",
                },  # type: ignore
                "pow": solved(gw.url, e),
            },
        ),
    ),
    "field name with a lone surrogate": (
        422,
        "unknown-field",
        lambda gw, kr: _raw(gw.url, json.dumps(_body(kr, gw.url, **{"\ud800": 1})).encode()),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_its_problem_and_changes_nothing(gw: GatewayProcess, name: str) -> None:
    status, slug, send = CASES[name]
    keyring = load_keyring(gw.keys_dir)
    before = snapshot(gw.db_path)
    answer = send(gw, keyring)
    assert answer.status_code == status, answer.text
    assert problem_slug(answer) == slug
    assert snapshot(gw.db_path) == before


def test_replayed_challenge_is_refused_and_changes_nothing(gw: GatewayProcess) -> None:
    keyring = load_keyring(gw.keys_dir)
    first = sealed_report(keyring)
    proof = solved(gw.url, first)
    assert post(gw.url, "/v1/reports", first, proof).status_code == 201
    before = snapshot(gw.db_path)
    second = sealed_report(keyring)
    challenge = pow_.decode(proof["challenge"])
    again = post(gw.url, "/v1/reports", second, second.proof(challenge.raw, proof["answer"]))
    assert again.status_code == 409 and problem_slug(again) == "pow-replayed"
    assert snapshot(gw.db_path) == before


def test_every_problem_type_is_reachable_by_a_test_and_documented() -> None:
    from gateway.problems import PROBLEMS

    tested = {slug for _, slug, _ in CASES.values()} | {
        "pow-replayed",
        "not-found",
        "method-not-allowed",
        "store-unavailable",
        "cors-refused",  # test_gateway_api.py
        "unavailable",  # test_gateway_worker.py
        "body-not-allowed",  # test_gateway_hardening.py
        "body-timeout",
        "store-failing",
        "unknown-office",  # test_linked_offices.py
        "wrong-office",
        "wrong-direction",
        "wrong-key",
        "replayed",
    }
    untested = set(PROBLEMS) - tested - {"unknown-field", "bad-field", "bad-kind"}
    assert not untested, f"problem types without a gateway test: {sorted(untested)}"
    docs = (ROOT / "portal/docs/protocol.en.md").read_text()
    undocumented = [slug for slug in PROBLEMS if not re.search(rf"`{slug}`", docs)]
    assert not undocumented, f"problem types missing from the protocol page: {undocumented}"


def test_random_garbage_never_gets_a_5xx(gw: GatewayProcess) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    before = snapshot(gw.db_path)

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.binary(max_size=400), st.sampled_from(["/v1/reports", "/v1/followups"]))
    def fire(body: bytes, path: str) -> None:
        answer = httpx.post(
            gw.url + path, content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= answer.status_code < 500
        problem_slug(answer)

    fire()
    assert snapshot(gw.db_path) == before


def test_db_has_no_plaintext_token_or_address(gw: GatewayProcess, tmp_path: Path) -> None:
    raw = gw.db_path.read_bytes() + Path(str(gw.db_path) + "-wal").read_bytes()
    token = gw.token  # type: ignore[attr-defined]
    for needle in (token, token.replace("-", ""), "127.0.0.1", "工程款"):
        assert needle.encode() not in raw


@pytest.mark.slow
def test_a_locked_store_is_a_503_problem_and_changes_nothing(gw: GatewayProcess) -> None:
    """Another writer (the desk, a backup) holding the lock past the busy timeout."""
    import sqlite3

    before = snapshot(gw.db_path)
    holder = sqlite3.connect(gw.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer = post(gw.url, "/v1/reports", sealed_report(load_keyring(gw.keys_dir)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503 and problem_slug(answer) == "store-unavailable"
    assert answer.headers["retry-after"] == "5"
    assert snapshot(gw.db_path) == before
