"""The gateway end to end on a real uvicorn: round trip, retries, rotation, headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, GatewayProcess
from support import post, problem_slug, report_doc, sealed_followup, sealed_report

from lianxin import keys as keys_mod
from lianxin.protocol import Envelope, Receipt, Token, open_envelope
from lianxin.store.db import connect
from lianxin.store.events import verify_chain


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lianxin_cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        input=stdin,
        timeout=120,
    )


def stored_envelopes(db_path: Path, kind: str) -> list[tuple[int, Envelope]]:
    db = connect(db_path, readonly=True)
    rows = db.execute(
        "SELECT case_id, key_id, author, ciphertext, sig FROM submissions WHERE kind = ?"
        " ORDER BY id",
        [kind],
    ).fetchall()
    db.conn.close()
    return [(r[0], Envelope(kind, r[1], r[2], r[3], r[4])) for r in rows]  # type: ignore[arg-type]


def test_cli_round_trip_opens_byte_for_byte(gateway: GatewayProcess, tmp_path: Path) -> None:
    published = tmp_path / "site" / "keys.json"
    keys_mod.export_published(gateway.keys_dir, published)
    doc = report_doc("ROUNDTRIP", real_name=True)
    del doc["schema"]
    (tmp_path / "report.json").write_text(json.dumps(doc, ensure_ascii=False))
    attachment = bytes(range(256)) * 40 + "证据".encode()
    (tmp_path / "evidence.bin").write_bytes(attachment)

    result = run_cli(
        "submit",
        "--gateway",
        gateway.url,
        "--keys",
        str(published),
        "--report",
        str(tmp_path / "report.json"),
        "--attach",
        str(tmp_path / "evidence.bin"),
        "--receipt-out",
        str(tmp_path / "receipt.json"),
        "--token-out",
        str(tmp_path / "token.txt"),
    )
    assert result.returncode == 0, result.stderr
    token = Token.parse((tmp_path / "token.txt").read_text())
    assert str(token) in result.stdout
    assert (tmp_path / "token.txt").stat().st_mode & 0o777 == 0o600

    [(case_id, envelope)] = stored_envelopes(gateway.db_path, "report")
    payload = open_envelope(envelope, keys_mod.load_office_secrets(gateway.keys_dir))
    assert payload.attachments[0].data == attachment
    assert payload.attachments[0].name == "evidence.bin"
    assert payload.doc["identity"]["name"] == "李四ROUNDTRIP"
    assert payload.doc["text"] == doc["text"]

    receipt = Receipt.from_json(json.loads((tmp_path / "receipt.json").read_text()))
    assert receipt.receipt_id == envelope.receipt_id
    receipt.verify(keys_mod.load_keyring(gateway.keys_dir).gateway_verify_key())

    db = connect(gateway.db_path, readonly=True)
    row = db.execute(
        "SELECT case_id FROM tokens WHERE lookup_id = ?", [token.keys().lookup_id]
    ).fetchone()
    assert row == (case_id,)
    assert verify_chain(db) == []


def test_cli_followup_reaches_the_same_case(gateway: GatewayProcess, tmp_path: Path) -> None:
    keyring = keys_mod.load_keyring(gateway.keys_dir)
    answer = post(gateway.url, "/v1/reports", sealed_report(keyring))
    assert answer.status_code == 201
    token = answer.json()["token"]
    result = run_cli(
        "followup",
        "--gateway",
        gateway.url,
        "--keys",
        str(gateway.keys_dir),
        "--token",
        "-",
        "--satisfaction",
        "not",
        "--text",
        "处理结果不属实",
        stdin=token + "\n",
    )
    assert result.returncode == 0, result.stderr
    [(case_id, envelope)] = stored_envelopes(gateway.db_path, "followup")
    [(report_case, _)] = stored_envelopes(gateway.db_path, "report")
    assert case_id == report_case
    payload = open_envelope(envelope, keys_mod.load_office_secrets(gateway.keys_dir))
    assert payload.doc["rating"] == "not" and payload.doc["text"] == "处理结果不属实"


def test_identical_envelope_makes_one_case_and_a_working_second_token(
    gateway: GatewayProcess,
) -> None:
    keyring = keys_mod.load_keyring(gateway.keys_dir)
    envelope = sealed_report(keyring)
    first = post(gateway.url, "/v1/reports", envelope)
    second = post(gateway.url, "/v1/reports", envelope)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["duplicate"] is True
    assert first.json()["receipt"] == second.json()["receipt"]
    tokens = [Token.parse(a.json()["token"]) for a in (first, second)]
    assert tokens[0] != tokens[1]
    db = connect(gateway.db_path, readonly=True)
    assert db.execute("SELECT count(*) FROM cases").fetchone() == (1,)
    # The retry's token works: a follow-up signed with it lands on the same case.
    followup = sealed_followup(keyring, tokens[1].keys(), {"type": "material", "text": "补充"})
    assert post(gateway.url, "/v1/followups", followup).status_code == 201
    cases = db.execute("SELECT DISTINCT case_id FROM submissions").fetchall()
    assert len(cases) == 1


def test_rotated_office_keys_are_all_accepted_and_openable(
    start_gateway: Callable[..., GatewayProcess],
    keys_dir: Path,
) -> None:
    old = keys_mod.load_keyring(keys_dir)
    keys_mod.rotate_office(keys_dir)
    new = keys_mod.load_keyring(keys_dir)
    assert new.current_office.key_id != old.current_office.key_id
    gateway = start_gateway()
    assert post(gateway.url, "/v1/reports", sealed_report(old)).status_code == 201
    assert post(gateway.url, "/v1/reports", sealed_report(new)).status_code == 201
    secrets = keys_mod.load_office_secrets(keys_dir)
    opened = [open_envelope(e, secrets) for _, e in stored_envelopes(gateway.db_path, "report")]
    assert [e.key_id for _, e in stored_envelopes(gateway.db_path, "report")] == [
        old.current_office.key_id,
        new.current_office.key_id,
    ]
    assert len(opened) == 2


def test_keys_endpoint_publishes_keys_and_limits(gateway: GatewayProcess) -> None:
    doc = httpx.get(gateway.url + "/v1/keys").json()
    keyring = keys_mod.load_keyring(gateway.keys_dir)
    assert doc["keyring"]["current_office_key_id"] == keyring.current_office.key_id
    assert doc["limits"]["max_plaintext_bytes"] < doc["limits"]["max_ciphertext_bytes"]
    assert doc["limits"]["pow_difficulty"] == 8


def test_security_headers_and_no_cookies(gateway: GatewayProcess) -> None:
    for answer in (
        httpx.get(gateway.url + "/v1/health"),
        httpx.post(gateway.url + "/v1/reports", content=b"{"),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert "set-cookie" not in answer.headers
        assert "server" not in answer.headers


def test_cors_allows_only_the_portal_origin(
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    gateway = start_gateway("--portal-origin", "https://portal.example.org")
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    allowed = httpx.options(
        gateway.url + "/v1/reports", headers={"origin": "https://portal.example.org", **preflight}
    )
    assert allowed.headers.get("access-control-allow-origin") == "https://portal.example.org"
    other = httpx.options(
        gateway.url + "/v1/reports", headers={"origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in other.headers
    assert other.status_code == 403 and problem_slug(other) == "cors-refused"
    assert "origin" in other.json()["detail"]
    wrong_header = httpx.options(
        gateway.url + "/v1/reports",
        headers={"origin": "https://portal.example.org", **preflight,
                 "access-control-request-headers": "x-tracking"},
    )  # fmt: skip
    assert (
        problem_slug(wrong_header) == "cors-refused" and "headers" in wrong_header.json()["detail"]
    )
    simple = httpx.get(gateway.url + "/v1/keys", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


def test_unsafe_settings_refuse_to_start(tmp_path: Path, keys_dir: Path) -> None:
    for args, needle in (
        (["--portal-origin", "*"], "portal_origin"),
        (["--pow-difficulty", "0"], "pow_difficulty"),
        (["--timezone", "Mars/Base"], "timezone"),
    ):
        result = run_cli(
            "gateway",
            "serve",
            "--db",
            str(tmp_path / "x.sqlite"),
            "--keys",
            str(keys_dir),
            "--port",
            "1",
            *args,
        )
        assert result.returncode == 2 and needle in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.sqlite").exists()


def test_missing_keys_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(
        "gateway",
        "serve",
        "--db",
        str(tmp_path / "x.sqlite"),
        "--keys",
        str(tmp_path / "nokeys"),
        "--port",
        "1",
    )
    assert result.returncode == 1 and "keys init" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_routes_and_methods_are_problems(gateway: GatewayProcess) -> None:
    assert problem_slug(httpx.get(gateway.url + "/v1/nothing")) == "not-found"
    assert problem_slug(httpx.get(gateway.url + "/v1/reports")) == "method-not-allowed"


def test_openapi_document_in_the_portal_is_current() -> None:
    from gateway.openapi_export import openapi_document

    committed = json.loads((ROOT / "portal/docs/api/openapi.json").read_text())
    assert committed == openapi_document(), (
        "run: lianxin gateway openapi --out portal/docs/api/openapi.json"
    )


@pytest.mark.parametrize("env_token", [True, False])
def test_followup_cli_refuses_a_mistyped_token_before_sending(
    gateway: GatewayProcess,
    env_token: bool,
) -> None:
    from support import snapshot

    before = snapshot(gateway.db_path)
    typo = str(Token.generate())
    typo = typo[:-1] + ("0" if typo[-1] != "0" else "1")
    env = {**os.environ, "LIANXIN_TOKEN": typo} if env_token else None
    args = [
        "followup",
        "--gateway",
        gateway.url,
        "--keys",
        str(gateway.keys_dir),
        "--text",
        "x",
    ] + ([] if env_token else ["--token", typo])
    result = subprocess.run(
        [sys.executable, "-m", "lianxin_cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "check symbol" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(gateway.db_path) == before


def test_cli_refuses_too_many_attachments_before_sending(
    start_gateway: Callable[..., GatewayProcess], tmp_path: Path
) -> None:
    from support import snapshot

    gateway = start_gateway("--max-attachments", "1")
    (tmp_path / "r.json").write_text(
        json.dumps({"title": "t", "text": "x", "reported": {"name": "某"}})
    )
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    before = snapshot(gateway.db_path)
    result = run_cli(
        "submit",
        "--gateway",
        gateway.url,
        "--keys",
        str(gateway.keys_dir),
        "--report",
        str(tmp_path / "r.json"),
        "--attach",
        str(tmp_path / "a.txt"),
        "--attach",
        str(tmp_path / "b.txt"),
    )
    assert result.returncode == 1 and "at most 1" in result.stderr
    assert snapshot(gateway.db_path) == before
