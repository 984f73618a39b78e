"""The known-answer vectors in tests/vectors/protocol-v1.json hold for lianxin.protocol.

The same file is checked against the JavaScript client by tests/node/protocol.test.mjs, so a value
both implementations agree on here is a value the browser and the office agree on.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from lianxin import client as client_
from lianxin.keys import KeyFileError, fingerprint, key_id_of, verify_keyring_signature
from lianxin.protocol import (
    Attachment,
    DecryptionError,
    MalformedError,
    PayloadError,
    Receipt,
    SignatureError,
    Token,
    TokenError,
    open_answer,
    open_envelope,
    open_item,
    parse_envelope,
    seal_followup,
    seal_report,
    validate_followup,
    validate_report,
)
from lianxin.protocol import pow as pow_
from lianxin.protocol.encoding import b64e, blake2b, lp
from lianxin.protocol.padding import STATUS_BLOCK, bucket, pad, pad_block, unpad, unpad_block
from lianxin.protocol.payload import pack, unpack
from lianxin.protocol.sealing import open_with_reply_key
from lianxin.secrets import OfficeSecretKey

VECTORS_DIR = Path(__file__).parent / "vectors"
VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "protocol-v1.json").read_text("utf-8"))


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def attachments(items: list[dict[str, str]]) -> list[Attachment]:
    return [Attachment(a["name"], a["type"], b64d(a["data"])) for a in items]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_vectors", VECTORS_DIR / "make_vectors.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vectors_file_is_what_the_generator_writes() -> None:
    generator = load_generator()
    expected = generator.render(generator.build())
    actual = (VECTORS_DIR / "protocol-v1.json").read_text("utf-8")
    assert actual == expected, "protocol-v1.json is stale: run tests/vectors/make_vectors.py"


# --- tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("v", VECTORS["tokens"], ids=lambda v: v["data"])
def test_token_derivation(v: dict[str, Any]) -> None:
    token = Token(v["data"])
    assert str(token) == v["grouped"]
    assert v["grouped"].replace("-", "")[-1] == v["check"]
    assert Token.parse(v["grouped"]) == token
    keys = token.keys()
    assert blake2b(v["data"].encode(), key=b"lianxin/token/v1").hex() == v["tk"]
    assert keys.lookup_hex == v["lookup_id"]
    assert b64e(bytes(keys.reply_public)) == v["reply_public_key"]
    assert b64e(bytes(keys.reply_key)) == v["reply_secret_key"]
    assert b64e(bytes(keys.followup_verify)) == v["followup_public_key"]


@pytest.mark.parametrize("v", VECTORS["typed_tokens"], ids=lambda v: v["input"])
def test_typed_tokens_are_read_forgivingly(v: dict[str, str]) -> None:
    assert Token.parse(v["input"]).data == v["data"]


@pytest.mark.parametrize("v", VECTORS["bad_tokens"], ids=lambda v: v["reason"])
def test_bad_tokens_are_refused(v: dict[str, str]) -> None:
    with pytest.raises(TokenError) as caught:
        Token.parse(v["input"])
    assert caught.value.slug == v["error"]


# --- padding, lp, payloads, documents -------------------------------------------------------


def test_buckets() -> None:
    for v in VECTORS["padding"]["buckets"]:
        assert bucket(v["length"]) == v["bucket"], v


@pytest.mark.parametrize("v", VECTORS["padding"]["padded"], ids=lambda v: str(v["length"]))
def test_pad(v: dict[str, Any]) -> None:
    plain = b64d(v["plaintext"])
    padded = pad(plain)
    assert len(padded) == v["length"]
    assert padded.hex().startswith(v["head"]) and not any(padded[len(v["head"]) // 2 :])
    assert unpad(padded) == plain


@pytest.mark.parametrize("v", VECTORS["padding"]["unpad_errors"], ids=lambda v: v["reason"])
def test_unpad_errors(v: dict[str, str]) -> None:
    with pytest.raises(PayloadError) as caught:
        unpad(b64d(v["padded"]))
    assert caught.value.slug == v["error"]


def test_block_padding() -> None:
    assert VECTORS["padding"]["status_block"] == STATUS_BLOCK
    for v in VECTORS["padding"]["blocks"]:
        padded = pad_block(bytes(v["length"]))
        assert len(padded) == v["padded_length"], v
        assert unpad_block(padded) == bytes(v["length"])


@pytest.mark.parametrize("v", VECTORS["padding"]["unpad_block_errors"], ids=lambda v: v["reason"])
def test_unpad_block_errors(v: dict[str, str]) -> None:
    with pytest.raises(PayloadError) as caught:
        unpad_block(b64d(v["padded"]))
    assert caught.value.slug == v["error"]


def test_lp() -> None:
    for v in VECTORS["lp"]:
        assert lp(*(bytes.fromhex(i) for i in v["items"])).hex() == v["encoded"]


@pytest.mark.parametrize("v", VECTORS["payloads"], ids=lambda v: v["doc"]["schema"])
def test_payload_pack(v: dict[str, Any]) -> None:
    files = attachments(v["attachments"])
    assert pack(v["doc"], files) == b64d(v["packed"])
    decoded = unpack(b64d(v["packed"]))
    assert decoded.attachments == tuple(files)
    assert {k: x for k, x in decoded.doc.items() if k != "attachments"} == v["doc"]


@pytest.mark.parametrize(
    ("validate", "v"),
    [(validate_report, v) for v in VECTORS["documents"]["reports"]]
    + [(validate_followup, v) for v in VECTORS["documents"]["followups"]],
)
def test_documents(validate: Any, v: dict[str, Any]) -> None:
    if "output" in v:
        assert validate(v["input"]) == v["output"]
    else:
        with pytest.raises(PayloadError) as caught:
            validate(v["input"])
        assert caught.value.detail.split(":")[0] == v["error_field"]


# --- envelopes ------------------------------------------------------------------------------


def office_secrets(v: dict[str, Any]) -> dict[str, OfficeSecretKey]:
    return {v["key_id"]: OfficeSecretKey(PrivateKey(b64d(v["office_secret_key"])), v["key_id"])}


@pytest.mark.parametrize("v", VECTORS["envelopes"], ids=lambda v: v["kind"])
def test_envelope_vector(v: dict[str, Any]) -> None:
    envelope = parse_envelope(v["wire"], max_ciphertext=1 << 24)
    assert envelope.to_json() == v["wire"]
    assert envelope.signing_message == b64d(v["signing_message"])
    assert envelope.receipt_id.hex() == v["receipt_id"]
    office = PrivateKey(b64d(v["office_secret_key"]))
    assert b64e(bytes(office.public_key)) == v["office_public_key"]
    assert key_id_of(bytes(office.public_key)) == v["key_id"]
    if v["kind"] == "report":
        client = SigningKey(bytes.fromhex(v["client_seed"]))
        assert envelope.author == bytes(client.verify_key)
        envelope.verify()
    else:
        keys = Token.parse(v["token"]).keys()
        assert envelope.lookup_id == keys.lookup_hex
        envelope.verify(keys.followup_verify)
    binding = v["pow_binding"]
    challenge = b64d(binding["challenge"])
    assert envelope.binding_message(challenge) == b64d(binding["message"])
    key = None if v["kind"] == "report" else Token.parse(v["token"]).keys().followup_verify
    envelope.verify_binding(challenge, b64d(binding["sig"]), key)
    assert bytes(SealedBox(office).decrypt(envelope.ciphertext)) == pad(b64d(v["plaintext"]))
    assert len(pad(b64d(v["plaintext"]))) == v["padded_length"]
    opened = open_envelope(envelope, office_secrets(v))
    validate = validate_report if v["kind"] == "report" else validate_followup
    schema = f"lianxin/{v['kind']}/v1"
    expected = validate(dict(v["doc"], schema=schema))
    assert {k: x for k, x in opened.doc.items() if k != "attachments"} == expected
    assert list(opened.attachments) == attachments(v["attachments"])


@pytest.mark.parametrize("v", VECTORS["envelopes"], ids=lambda v: v["kind"])
def test_seal_functions_produce_the_vector_plaintext(v: dict[str, Any]) -> None:
    """seal_report / seal_followup (randomised) seal the same padded bytes, signed the same way."""
    office = PrivateKey(b64d(v["office_secret_key"]))
    common = {"office_key": office.public_key, "office_key_id": v["key_id"]}
    files = attachments(v["attachments"])
    if v["kind"] == "report":
        client = SigningKey(bytes.fromhex(v["client_seed"]))
        envelope = seal_report(
            dict(v["doc"], schema="lianxin/report/v1"), files, client_key=client, **common
        )
        envelope.verify()
        assert b64e(envelope.author) == v["wire"]["client_pk"]
    else:
        keys = Token.parse(v["token"]).keys()
        doc = dict(v["doc"], schema="lianxin/followup/v1")
        envelope = seal_followup(doc, files, token_keys=keys, **common)
        envelope.verify(keys.followup_verify)
        assert envelope.author.hex() == v["wire"]["lookup_id"]
    assert bytes(SealedBox(office).decrypt(envelope.ciphertext)) == pad(b64d(v["plaintext"]))


def test_receipt_vector() -> None:
    v = VECTORS["receipt"]
    gateway = SigningKey(bytes.fromhex(v["gateway_seed"]))
    assert b64e(bytes(gateway.verify_key)) == v["gateway_public_key"]
    assert key_id_of(bytes(gateway.verify_key)) == v["gateway_key_id"]
    receipt = Receipt.from_json(v["receipt"])
    assert receipt.message(
        receipt.receipt_id, receipt.kind, receipt.received, receipt.key_id
    ) == bytes.fromhex(v["message"])
    receipt.verify(gateway.verify_key)
    assert receipt.to_json() == v["receipt"]
    assert receipt.receipt_id.hex() == VECTORS["envelopes"][0]["receipt_id"]
    with pytest.raises(SignatureError):
        Receipt.from_json(v["tampered"]).verify(gateway.verify_key)


# --- proof of work --------------------------------------------------------------------------


@pytest.mark.parametrize("v", VECTORS["pow"]["challenges"], ids=lambda v: str(v["difficulty"]))
def test_pow_challenge(v: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    key = bytes.fromhex(v["pow_key"])
    challenge = pow_.decode(v["challenge"])
    assert (challenge.difficulty, challenge.expires) == (v["difficulty"], v["expires"])
    assert challenge.nonce.hex() == v["nonce"] and challenge.raw[26:].hex() == v["mac"]
    # The gateway's own issue() lays out the same bytes for the same key, time and nonce.
    monkeypatch.setattr(pow_.secrets, "token_bytes", lambda n: bytes.fromhex(v["nonce"]))
    issued = pow_.issue(key, v["difficulty"], ttl_seconds=600, now=v["expires"] - 600)
    assert issued.text == v["challenge"]
    assert pow_.solve(challenge) == v["answer"]
    pow_.verify(key, v["challenge"], v["answer"], min_difficulty=v["difficulty"], now=v["expires"])
    with pytest.raises(pow_.ProofOfWorkError):
        pow_.verify(key, v["challenge"], v["answer"], min_difficulty=1, now=v["expires"] + 1)
    for probe in v["probes"]:
        digest = blake2b(challenge.raw + struct.pack(">Q", probe["answer"]))
        assert digest.hex() == probe["digest"]
        assert pow_.leading_zero_bits(digest) == probe["leading_zero_bits"]
        assert pow_.meets(challenge.raw, probe["answer"], v["difficulty"]) is probe["meets"]
        if probe["answer"] <= v["answer"]:  # the answer is the smallest one
            assert probe["meets"] is (probe["answer"] == v["answer"])


def test_leading_zero_bits() -> None:
    for v in VECTORS["pow"]["leading_zero_bits"]:
        assert pow_.leading_zero_bits(bytes.fromhex(v["digest"])) == v["bits"]


# --- data sealed to the reply key, published keys --------------------------------------------


@pytest.mark.parametrize("v", VECTORS["reply_sealed"], ids=lambda v: v["what"])
def test_reply_sealed(v: dict[str, Any]) -> None:
    keys = Token.parse(v["token"]).keys()
    assert b64e(bytes(keys.reply_key)) == v["recipient_secret_key"]
    sealed = b64d(v["sealed"])
    assert open_with_reply_key(sealed, keys) == b64d(v["plaintext"])
    assert len(sealed) - 48 == v["padded_length"] == len(pad_block(b64d(v["plaintext"])))
    if v["what"] == "answer":
        assert open_answer(sealed, keys).doc == dict(v["doc"], attachments=[])
    if v["what"] == "sent":
        assert open_item(sealed, keys).doc == dict(v["doc"], attachments=[])
    with pytest.raises(DecryptionError):
        open_with_reply_key(sealed, Token.parse(v["wrong_token"]).keys())


def test_keyring_vector(tmp_path: Path) -> None:
    v = VECTORS["keyring"]
    data = b64d(v["keys_json"])
    publisher = VerifyKey(b64d(json.loads(data)["publisher"]["public_key"]))
    assert fingerprint(bytes(publisher)) == v["publisher_fingerprint"]
    assert b64d(v["signing_message"]) == lp(b"lianxin/v1/keyring", data)
    verify_keyring_signature(data, b64d(v["keys_json_sig"].strip()), publisher)
    (tmp_path / "keys.json").write_bytes(data)
    (tmp_path / "keys.json.sig").write_text(v["keys_json_sig"])
    published = client_.load_published_keys(
        str(tmp_path / "keys.json"), publisher_fingerprint=v["publisher_fingerprint"]
    )
    assert published.signed
    assert published.office[0] == v["current_office_key_id"]
    assert b64e(bytes(published.office[1])) == v["current_office_public_key"]
    assert b64e(published.keyring.gateway.public_key) == v["gateway_public_key"]
    (tmp_path / "keys.json").write_bytes(data.replace(b'"v": 1', b'"v":  1'))
    with pytest.raises(client_.ClientError):
        client_.load_published_keys(str(tmp_path / "keys.json"))


@pytest.mark.parametrize("v", VECTORS["payload_errors"], ids=lambda v: v["reason"])
def test_attachment_limits(v: dict[str, str]) -> None:
    packed = b64d(v["packed"])
    with pytest.raises(PayloadError) as caught:
        unpack(packed)
    assert caught.value.detail.split(":")[0] == v["error_field"]
    entry = json.loads(packed[4:-1])["attachments"][0]
    with pytest.raises(PayloadError) as caught:
        pack(json.loads(packed[4:-1]), [Attachment(entry["name"], entry["type"], b"x")])
    assert caught.value.detail.split(":")[0] == v["error_field"]


@pytest.mark.parametrize("v", VECTORS["keyring"]["refused"], ids=lambda v: v["reason"])
def test_signed_but_malformed_keyrings_are_refused(v: dict[str, str], tmp_path: Path) -> None:
    data = b64d(v["keys_json"])
    publisher = VerifyKey(b64d(json.loads(data)["publisher"]["public_key"]))
    verify_keyring_signature(data, b64d(v["keys_json_sig"].strip()), publisher)  # signed...
    (tmp_path / "keys.json").write_bytes(data)
    (tmp_path / "keys.json.sig").write_text(v["keys_json_sig"])
    with pytest.raises(KeyFileError):  # ...and still refused
        client_.load_published_keys(
            str(tmp_path / "keys.json"),
            publisher_fingerprint=VECTORS["keyring"]["publisher_fingerprint"],
        )


@pytest.mark.parametrize("v", VECTORS["receipt"]["shapes"], ids=lambda v: v["reason"])
def test_receipt_shapes(v: dict[str, Any]) -> None:
    gateway = SigningKey(bytes.fromhex(VECTORS["receipt"]["gateway_seed"]))
    if v["accepted"]:
        Receipt.from_json(v["receipt"]).verify(gateway.verify_key)
    else:
        with pytest.raises(MalformedError):
            Receipt.from_json(v["receipt"])
