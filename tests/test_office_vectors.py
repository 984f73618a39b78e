"""The known-answer vectors of linked offices (tests/vectors/offices-v1.json, protocol §20) hold
for lianxin.offices: the card's signature, the package's signing message and both signatures,
and the wire form accepted with the pinned signing key and refused when altered."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.signing import SigningKey, VerifyKey

from lianxin.offices.card import card_signing_message, verify_card
from lianxin.offices.package import PackageRefused, parse_package
from lianxin.protocol import SignatureError
from lianxin.protocol.encoding import b64d, b64e

VECTORS = Path(__file__).with_name("vectors") / "offices-v1.json"
DOC = json.loads(VECTORS.read_text(encoding="utf-8"))


def _key(name: str) -> SigningKey:
    return SigningKey(b64d(DOC["seeds"][name], name, size=32))


def test_the_card_vector() -> None:
    data = DOC["card"]["bytes"].encode("utf-8")
    assert card_signing_message(data).hex() == DOC["card"]["signing_message_hex"]
    signature = _key("publisher").sign(card_signing_message(data)).signature
    assert b64e(signature) == DOC["card"]["sig"]
    card = verify_card(data, DOC["card"]["sig"])
    assert card.publisher_key == bytes(_key("publisher").verify_key)
    assert card.signing_key == bytes(_key("office_signer").verify_key)


def test_the_package_vector() -> None:
    wire = json.dumps(DOC["package"]["wire"]).encode()
    package = parse_package(wire)
    assert package.message().hex() == DOC["package"]["message_hex"]
    officer_sig = _key("officer").sign(package.message()).signature
    assert b64e(officer_sig) == DOC["package"]["officer_sig"]
    office_sig = _key("office_signer").sign(package.office_message()).signature
    assert b64e(office_sig) == DOC["package"]["office_sig"]
    assert package.digest == DOC["package"]["digest"]
    signer = bytes(_key("office_signer").verify_key)
    package.verify(signer)
    VerifyKey(package.officer_key).verify(package.message(), package.officer_sig)
    altered = dict(DOC["package"]["wire"], seq=8)
    with pytest.raises(SignatureError):
        parse_package(json.dumps(altered).encode()).verify(signer)
    with pytest.raises(PackageRefused, match="signer_fp"):
        package.verify(bytes(_key("officer").verify_key))


def test_the_vectors_file_is_current() -> None:
    script = VECTORS.with_name("make_office_vectors.py")
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, timeout=60)
    assert done.returncode == 0, "tests/vectors/offices-v1.json is stale: run the script"
