"""Key files: creation, permissions, refusal to overwrite, rotation, redaction, and the rule that
the gateway never loads the office private key."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, GatewayProcess
from support import post, sealed_report

from lianxin import keys
from lianxin.protocol import Token


def test_init_creates_every_key_with_private_files_0600(tmp_path: Path) -> None:
    keyring = keys.init_keys(tmp_path / "k")
    files = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "k").iterdir()}
    office = f"office-{keyring.current_office.key_id}"
    assert files == {
        f"{office}.key": 0o600,
        f"{office}.json": 0o644,
        "gateway.key": 0o600,
        "gateway.json": 0o644,
        "publisher.key": 0o600,
        "publisher.json": 0o644,
        "gateway.secret": 0o600,
    }
    for info in (keyring.current_office, keyring.gateway, keyring.publisher):
        assert info.key_id == info.fingerprint[:16] == keys.key_id_of(info.public_key)


def test_init_refuses_to_overwrite(keys_dir: Path) -> None:
    before = {p.name: p.read_bytes() for p in keys_dir.iterdir()}
    with pytest.raises(keys.KeysExistError):
        keys.init_keys(keys_dir)
    assert {p.name: p.read_bytes() for p in keys_dir.iterdir()} == before


def test_private_keys_are_git_ignored() -> None:
    for name in ("keys/office-0123456789abcdef.key", "keys/gateway.key", "keys/gateway.secret"):
        result = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT)
        assert result.returncode == 0, f"{name} is not git-ignored"


def test_secret_objects_never_print_their_bytes(keys_dir: Path) -> None:
    office = keys.load_office_secrets(keys_dir)
    gateway = keys.load_gateway_keys(keys_dir)
    raw = json.loads(next(keys_dir.glob("office-*.key")).read_text())["secret_key"]
    seed = json.loads((keys_dir / "gateway.key").read_text())["secret_key"]
    secret = (keys_dir / "gateway.secret").read_text().strip()
    printed = " ".join(
        [
            repr(office),
            str(office),
            repr(gateway),
            str(gateway.receipt_signer),
            repr(gateway.secret),
            str(gateway.secret),
            repr(gateway.keyring),
        ]
    )
    for needle in (raw, seed, secret):
        assert needle not in printed
    for key in office.values():
        assert "redacted" in repr(key)


def test_tampered_key_files_are_refused_clearly(keys_dir: Path) -> None:
    public = keys_dir / "gateway.json"
    doc = json.loads(public.read_text())
    doc["key_id"] = "0" * 16
    public.write_text(json.dumps(doc))
    with pytest.raises(keys.KeyFileError, match="key_id"):
        keys.load_keyring(keys_dir)


def test_cli_keys_show_and_rotate(keys_dir: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lianxin_cli", "keys", *args, "--dir", str(keys_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    before = keys.load_keyring(keys_dir)
    shown = cli("show")
    assert shown.returncode == 0 and before.current_office.key_id in shown.stdout
    assert cli("rotate", "office").returncode == 0
    after = keys.load_keyring(keys_dir)
    assert len(after.office) == 2 and after.current_office.serial == 2
    again = cli("init")
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr


def test_published_keys_signature_is_checked(keys_dir: Path, tmp_path: Path) -> None:
    from lianxin.client import ClientError, load_published_keys

    out = tmp_path / "keys.json"
    keys.export_published(keys_dir, out)
    published = load_published_keys(str(out))
    assert published.signed
    fp = keys.load_keyring(keys_dir).publisher.fingerprint
    assert load_published_keys(str(out), publisher_fingerprint=fp).signed
    with pytest.raises(keys.KeyFileError):
        load_published_keys(str(out), publisher_fingerprint="00" * 32)
    out.write_bytes(out.read_bytes().replace(b'"v": 1', b'"v":1'))
    with pytest.raises(ClientError, match="signature"):
        load_published_keys(str(out))
    out.with_name("keys.json.sig").unlink()
    with pytest.raises(ClientError, match="not signed"):
        load_published_keys(str(out))


def test_gateway_source_never_names_the_office_private_key() -> None:
    for path in (ROOT / "gateway").rglob("*.py"):
        text = path.read_text()
        for forbidden in ("load_office_secrets", "OfficeSecretKey", "office-*.key"):
            assert forbidden not in text, f"{path.name} mentions {forbidden}"


def test_gateway_runs_without_office_private_keys(
    keys_dir: Path,
    tmp_path: Path,
    start_gateway: Callable[..., GatewayProcess],
) -> None:
    for private in keys_dir.glob("office-*.key"):
        shutil.move(private, tmp_path / private.name)  # keep them for the desk, off the gateway
    gateway = start_gateway()
    answer = post(gateway.url, "/v1/reports", sealed_report(keys.load_keyring(keys_dir)))
    assert answer.status_code == 201
    Token.parse(answer.json()["token"])


AUDIT_SCRIPT = r"""
import json, sys
from pathlib import Path
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, Path)):
        opened.append(str(args[0]))
sys.addaudithook(hook)
from fastapi.testclient import TestClient
from gateway.app import create_app
from gateway.settings import GatewaySettings
from lianxin.keys import load_keyring
sys.path.insert(0, "tests")
from support import sealed_report
from lianxin.protocol import pow as pow_
keys_dir, db = Path(sys.argv[1]), Path(sys.argv[2])
app = create_app(GatewaySettings(db_path=db, keys_dir=keys_dir, pow_difficulty=4))
with TestClient(app) as client:
    c = pow_.decode(client.post("/v1/challenges").json()["challenge"])
    env = sealed_report(load_keyring(keys_dir))
    r = client.post("/v1/reports", json={"envelope": env.to_json(),
                                         "pow": env.proof(c.raw, pow_.solve(c))})
    assert r.status_code == 201, r.text
print(json.dumps([p for p in opened if str(keys_dir) in p]))
"""


def test_gateway_process_never_opens_an_office_private_key(keys_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", AUDIT_SCRIPT, str(keys_dir), str(tmp_path / "db.sqlite")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    opened = json.loads(result.stdout.strip().splitlines()[-1])
    assert any(p.endswith("gateway.key") for p in opened)  # the hook does see key files
    assert not [p for p in opened if "office-" in p and p.endswith(".key")]
