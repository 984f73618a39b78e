"""Generate ``protocol-v1.json``: known-answer vectors for every derived value of the protocol.

Every value comes from ``lianxin.protocol`` (or ``lianxin.keys``) with fixed inputs: fixed tokens,
fixed seeds for client, office, gateway and publisher keys, fixed challenge bytes. Sealed boxes are
randomised by design, so the vectors seal with a *fixed ephemeral key* exactly as libsodium's
``crypto_box_seal`` does (``epk || crypto_box(m, nonce=BLAKE2b-192(epk || pk), esk, pk)``): they are
real sealed boxes that any implementation must OPEN, not reproduce. What they seal is what the
implementation's own (randomised) sealing functions seal: the generator opens their output and
re-seals the same padded bytes, so a change of padding or packing shows up here.

    .venv/bin/python tests/vectors/make_vectors.py           # rewrite protocol-v1.json
    .venv/bin/python tests/vectors/make_vectors.py --check   # exit 1 if the file is stale

``tests/test_vectors.py`` checks the vectors against the Python implementation and
``tests/node/protocol.test.mjs`` against ``portal/js/protocol.mjs``.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

from nacl import bindings
from nacl.public import PrivateKey, SealedBox
from nacl.signing import SigningKey

from lianxin import keys as keys_
from lianxin.protocol import (
    Envelope,
    Receipt,
    Token,
    TokenError,
    seal_answer_for_reporter,
    seal_followup,
    seal_report,
    seal_sent_for_reporter,
)
from lianxin.protocol import pow as pow_
from lianxin.protocol.documents import ANSWER, SENT, validate_followup, validate_report
from lianxin.protocol.encoding import b64e, blake2b, lp
from lianxin.protocol.errors import MalformedError, PayloadError
from lianxin.protocol.padding import (
    MIN_BUCKET,
    STATUS_BLOCK,
    bucket,
    pad,
    pad_block,
    unpad,
    unpad_block,
)
from lianxin.protocol.payload import Attachment, pack, unpack
from lianxin.protocol.sealing import open_with_reply_key, seal_for_reply_key

OUT = Path(__file__).with_name("protocol-v1.json")
RECEIVED = "2025-01-15"
CREATED = "2025-01-01"


def seed(label: str) -> bytes:
    """A fixed 32-byte seed named by ``label`` (BLAKE2b-256 of it)."""
    return blake2b(f"lianxin/test-vectors/{label}".encode())


def deterministic_seal(message: bytes, recipient: bytes, ephemeral_seed: bytes) -> bytes:
    """``crypto_box_seal`` with a fixed ephemeral key: the same bytes libsodium would produce."""
    epk, esk = bindings.crypto_box_seed_keypair(ephemeral_seed)
    nonce = blake2b(epk + recipient, size=24)
    return epk + bindings.crypto_box(message, nonce, recipient, esk)


def opens(sealed: bytes, secret: PrivateKey) -> bytes:
    """Open with PyNaCl; proves the deterministic box is a genuine sealed box."""
    return bytes(SealedBox(secret).decrypt(sealed))


def attachments_json(items: list[Attachment]) -> list[dict[str, str]]:
    return [{"name": a.name, "type": a.type, "data": b64e(a.data)} for a in items]


# --- tokens ---------------------------------------------------------------------------------

TOKEN_DATA = [
    "000000000000000000000000000",
    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    "0123456789ABCDEFGHJKMNPQRST",
    "7KQ2M9XDRT4HW8NB3JCV6PFGE5A",
    "VWXYZ0123456789ABCDEFGHJKMN",
]


def token_vector(data: str) -> dict[str, Any]:
    token = Token(data)
    derived = token.keys()
    tk = blake2b(data.encode("ascii"), key=b"lianxin/token/v1")
    return {
        "data": data,
        "check": str(token).replace("-", "")[-1],
        "grouped": str(token),
        "tk": tk.hex(),
        "lookup_id": derived.lookup_hex,
        "reply_public_key": b64e(bytes(derived.reply_public)),
        "reply_secret_key": b64e(bytes(derived.reply_key)),
        "followup_public_key": b64e(bytes(derived.followup_verify)),
    }


def typed_tokens() -> list[dict[str, str]]:
    """Forgiving reading: case, separators and the Crockford aliases O -> 0, I/L -> 1."""
    grouped = str(Token(TOKEN_DATA[3]))
    zeros = str(Token(TOKEN_DATA[0]))
    inputs = [
        grouped,
        grouped.lower(),
        grouped.replace("-", " "),
        "\t" + grouped.replace("-", "") + " ",
        grouped.replace("-", "\u3000"),  # ideographic space, as a Chinese IME types it
        grouped.replace("-", "\n", 2).replace("-", "\xa0"),
        zeros.replace("0", "o"),
        zeros.replace("0", "O"),
        str(Token("111111111111111111111111111")).replace("1", "i"),
        str(Token("111111111111111111111111111")).replace("1", "L"),
    ]
    return [{"input": text, "data": Token.parse(text).data} for text in inputs]


def bad_tokens() -> list[dict[str, str]]:
    good = str(Token(TOKEN_DATA[3])).replace("-", "")
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    swapped = good[:5] + good[6] + good[5] + good[7:]
    cases = [
        ("bad check symbol", wrong_check),
        ("one symbol mistyped", "8" + good[1:]),
        ("two adjacent symbols swapped", swapped),
        ("too short (check symbol missing)", good[:-1]),
        ("too long", good + "0"),
        ("empty", ""),
        ("foreign symbol U", "U" + good[1:]),
        ("foreign symbol *", good[:10] + "*" + good[11:]),
        ("foreign symbol é", good[:10] + "é" + good[11:]),
        ("foreign separator _", good[:4] + "_" + good[4:]),
    ]
    out = []
    for reason, text in cases:
        try:
            Token.parse(text)
        except TokenError as exc:
            out.append({"reason": reason, "input": text, "error": exc.slug})
        else:
            raise SystemExit(f"bad token vector {reason!r} parses: choose another")
    return out


# --- padding, lp, payload, documents ----------------------------------------------------

BUCKET_LENGTHS = [
    0,
    1,
    4092,
    4093,
    4096,
    4097,
    5000,
    8191,
    8192,
    8193,
    65535,
    65536,
    65537,
    100_000,
    1_000_000,
    5 * 1024 * 1024,
    5 * 1024 * 1024 + 1,
    16 * 1024 * 1024 - 1,
    100_000_000,
    2**31 + 1,
    2**32 - 1,
]


def padding_vectors() -> dict[str, Any]:
    samples = [b"", b"a", b"lianxin", bytes(range(256)) * 16, bytes(5000)]
    padded = []
    for plain in samples:
        out = pad(plain)
        assert unpad(out) == plain and not any(out[4 + len(plain) :])
        padded.append(
            {"plaintext": b64e(plain), "head": out[: 4 + len(plain)].hex(), "length": len(out)}
        )
    ok = pad(b"abc")
    bad = [
        ("shorter than its header", b"\x00\x00\x00"),
        ("declared length too long", struct.pack(">I", 5000) + bytes(4092)),
        ("not of its bucket size", ok + b"\x00"),
        ("padding not zero", ok[:-1] + b"\x01"),
    ]
    errors = []
    for reason, data in bad:
        try:
            unpad(data)
        except PayloadError as exc:
            errors.append({"reason": reason, "padded": b64e(data), "error": exc.slug})
        else:
            raise SystemExit(f"unpad accepts {reason!r}")
    return {
        "min_bucket": MIN_BUCKET,
        "buckets": [{"length": n, "bucket": bucket(n)} for n in BUCKET_LENGTHS],
        "padded": padded,
        "unpad_errors": errors,
        "status_block": STATUS_BLOCK,
        "blocks": [
            {"length": n, "padded_length": len(pad_block(bytes(n)))}
            for n in (0, 1, 123, 124, 125, 252, 253, 1000)
        ],
        "unpad_block_errors": block_errors(),
    }


def block_errors() -> list[dict[str, str]]:
    ok = pad_block(b"abc")
    bad = [
        ("not whole blocks", ok + b"\x00"),
        ("too short", b"\x00\x00\x00"),
        ("declared length too long", struct.pack(">I", 125) + bytes(124)),
        ("a whole block of padding too many", pad_block(b"abc") + bytes(STATUS_BLOCK)),
        ("padding not zero", ok[:-1] + b"\x01"),
    ]
    out = []
    for reason, data in bad:
        try:
            unpad_block(data)
        except PayloadError as exc:
            out.append({"reason": reason, "padded": b64e(data), "error": exc.slug})
        else:
            raise SystemExit(f"unpad_block accepts {reason!r}")
    return out


def lp_vectors() -> list[dict[str, Any]]:
    lists = [[], [b""], [b"a"], [b"lianxin", b"", b"\x00\xff"], [b"\xab" * 300], ["中文".encode()]]
    return [{"items": [i.hex() for i in items], "encoded": lp(*items).hex()} for items in lists]


def payload_vectors() -> list[dict[str, Any]]:
    # Keys chosen so that sorting by code point (Python) and by UTF-16 unit differ:
    # U+FF01 sorts before U+1F600 by code point, after it by UTF-16 unit.
    tricky = {
        "schema": ANSWER,
        "\U0001f600": "emoji key",
        "\uff01": "fullwidth key",
        "b": [1, 0, -7, 9007199254740991, True, False, None],
        "a": {"z": "", "y": {"x": "nested"}},
        "é": 'quote " backslash \\ slash / controls \x00\x01\x1f\x7f \b\f\n\r\t',
        "text": "中文 ，。 \u2028 \u2029 \U0001d11e \ufeff",
    }
    report = validate_report(
        {
            "schema": "lianxin/report/v1",
            "title": "某县 road fund 问题",
            "text": "第一段\n第二段 — “quoted”",
            "reported": {"name": "张三", "unit": "某县交通局", "post": "局长", "rank": "county"},
            "region": "110101",
            "problem_type": "misuse-of-funds",
            "lang": "zh",
        }
    )
    files = [
        Attachment("照片.jpg", "image/jpeg", bytes(range(200))),
        Attachment("empty.txt", "text/plain", b""),
        Attachment("notes.txt", "text/plain", "账目 ledger\n".encode()),
    ]
    longest = [Attachment("文" * 255, "application/vnd.lianxin.test+json", b"{}")]
    material = {"schema": "lianxin/followup/v1", "type": "material", "text": ""}
    cases = [(tricky, []), (report, files), (material, longest)]
    return [
        {"doc": doc, "attachments": attachments_json(items), "packed": b64e(pack(doc, items))}
        for doc, items in cases
    ]


def payload_errors() -> list[dict[str, str]]:
    """Packed payloads whose attachment entry breaks a limit of §8.1; pack refuses them too."""
    bad = [
        ("name empty", "", "text/plain"),
        ("name of 256 characters", "文" * 256, "text/plain"),
        ("name with a line break", "a\nb.txt", "text/plain"),
        ("name with a C1 control", "a\x85b.txt", "text/plain"),
        ("type empty", "a.txt", ""),
        ("type without a subtype", "a.txt", "text"),
        ("type with a parameter", "a.txt", "text/plain; charset=utf-8"),
        ("type with a space", "a.txt", "text/ plain"),
        ("type not ASCII", "a.txt", "text/plaîn"),
        ("type subtype of 128 characters", "a.txt", "text/" + "x" * 128),
    ]
    out = []
    for reason, name, media_type in bad:
        doc = {
            "attachments": [{"name": name, "size": 1, "type": media_type}],
            "schema": "lianxin/followup/v1",
            "text": "",
            "type": "material",
        }
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        packed = struct.pack(">I", len(body)) + body + b"x"
        fields = []
        for attempt in (unpack, pack):
            try:
                if attempt is unpack:
                    unpack(packed)
                else:
                    pack(doc, [Attachment(name, media_type, b"x")])
            except PayloadError as exc:
                fields.append(exc.detail.split(":")[0])
            else:
                raise SystemExit(f"{attempt.__name__} accepts {reason!r}")
        assert fields[0] == fields[1], fields
        field = fields[0]
        out.append({"reason": reason, "packed": b64e(packed), "error_field": field})
    return out


def document_vectors() -> dict[str, Any]:
    report = "lianxin/report/v1"
    valid_reports = [
        {"schema": report, "title": "t", "text": "x", "reported": {"name": "n"}},
        {
            "schema": report,
            "real_name": True,
            "identity": {"name": "李四", "contact": "+86 10 1234 5678"},
            "title": "\U0001f600" * 200,  # 200 code points (400 UTF-16 units) is allowed
            "text": "x",
            "reported": {"name": "n", "unit": None},
            "attachments": [],
        },
        {"schema": report, "title": "t", "text": "x", "reported": {"name": "n"}, "identity": {}},
    ]
    invalid_reports = [
        {"schema": report, "text": "x", "reported": {"name": "n"}},
        {"schema": report, "title": "\x1c\x1f\x85 ", "text": "x", "reported": {"name": "n"}},
        {"schema": report, "title": "a" * 201, "text": "x", "reported": {"name": "n"}},
        {"schema": report, "title": "t", "text": "x", "reported": {"name": "n"}, "extra": 1},
        {"schema": report, "title": "t", "text": "x", "reported": {"name": "n"}, "real_name": None},
        {"schema": report, "title": "t", "text": "x", "reported": None},
        {"schema": report, "title": "t", "text": "x", "reported": {"name": "n", "age": "1"}},
        {
            "schema": report,
            "title": "t",
            "text": "x",
            "reported": {"name": "n"},
            "identity": {"a": 1},
        },
        {"schema": report, "title": "t", "text": "x", "reported": {"name": "n"}, "real_name": True},
        {"schema": report, "title": 5, "text": "x", "reported": {"name": "n"}},
        {"schema": "lianxin/followup/v1", "title": "t", "text": "x"},
    ]
    followup = "lianxin/followup/v1"
    valid_followups = [
        {"schema": followup, "type": "material", "text": "more"},
        {"schema": followup, "type": "material"},
        {"schema": followup, "type": "satisfaction", "rating": "basically"},
        {"schema": followup, "type": "material", "rating": "not"},  # valid, and dropped
        {"schema": followup, "type": "material", "rating": None},
    ]
    invalid_followups = [
        {"schema": followup, "type": "satisfaction", "rating": "great"},
        {"schema": followup, "type": "complaint", "text": "x"},
        {"schema": followup, "type": "material", "rating": "not", "extra": True},
        {"schema": followup, "type": "material", "rating": "great"},
        {"schema": followup, "type": "material", "rating": 5},
    ]

    def outcome(validate: Any, doc: dict[str, Any]) -> dict[str, Any]:
        try:
            return {"input": doc, "output": validate(doc)}
        except PayloadError as exc:
            return {"input": doc, "error_field": exc.detail.split(":")[0]}

    return {
        "reports": [outcome(validate_report, d) for d in valid_reports + invalid_reports],
        "followups": [outcome(validate_followup, d) for d in valid_followups + invalid_followups],
    }


# --- envelopes, receipts, proof of work, sealed data ------------------------------------------


def office_key() -> PrivateKey:
    return PrivateKey(seed("office-1"))


def envelope_vector(kind: str) -> dict[str, Any]:
    office = office_key()
    office_pk = bytes(office.public_key)
    key_id = keys_.key_id_of(office_pk)
    common = {"office_key": office.public_key, "office_key_id": key_id}
    extra: dict[str, Any]
    if kind == "report":
        doc: dict[str, Any] = {
            "title": "Vector report",
            "text": "报告正文 with attachments",
            "reported": {"name": "王五", "unit": "某局"},
            "region": "110000",
        }
        files = [Attachment("a.bin", "application/octet-stream", bytes(range(64)))]
        client = SigningKey(seed("client-1"))
        sealed = seal_report(
            dict(doc, schema="lianxin/report/v1"), files, client_key=client, **common
        )
        author, signer = bytes(client.verify_key), client
        extra = {"client_seed": seed("client-1").hex()}
    else:
        doc = {"type": "satisfaction", "rating": "not", "text": "不满意：未见处理结果"}
        files = []
        token = Token(TOKEN_DATA[3])
        sealed = seal_followup(
            dict(doc, schema="lianxin/followup/v1"), files, token_keys=token.keys(), **common
        )
        author, signer = token.keys().lookup_id, token.keys().followup_key
        extra = {"token": str(token)}
    padded = opens(sealed.ciphertext, office)
    plaintext = unpad(padded)
    ephemeral = seed(f"ephemeral-{kind}")
    ciphertext = deterministic_seal(padded, office_pk, ephemeral)
    assert opens(ciphertext, office) == padded
    unsigned = Envelope(kind, key_id, author, ciphertext, b"")  # type: ignore[arg-type]
    sig = bytes(signer.sign(unsigned.signing_message).signature)
    envelope = Envelope(kind, key_id, author, ciphertext, sig, signer)  # type: ignore[arg-type]
    challenge = challenge_bytes(seed("pow-key"), 8, 4_102_444_800, seed(f"bind-{kind}")[:16])
    proof = envelope.proof(challenge, 7)
    return {
        "kind": kind,
        **extra,
        "doc": doc,
        "attachments": attachments_json(files),
        "office_secret_key": b64e(bytes(office)),
        "office_public_key": b64e(office_pk),
        "key_id": key_id,
        "plaintext": b64e(plaintext),
        "padded_length": len(padded),
        "ephemeral_seed": ephemeral.hex(),
        "signing_message": b64e(envelope.signing_message),
        "sig": b64e(sig),
        "receipt_id": envelope.receipt_id.hex(),
        "wire": envelope.to_json(),
        "pow_binding": {
            "challenge": proof["challenge"],
            "message": b64e(envelope.binding_message(challenge)),
            "sig": proof["sig"],
        },
    }


def receipt_vector(report: dict[str, Any]) -> dict[str, Any]:
    gateway = SigningKey(seed("gateway"))
    gateway_pk = bytes(gateway.verify_key)
    receipt = Receipt.issue(
        gateway,
        keys_.key_id_of(gateway_pk),
        receipt_id=bytes.fromhex(report["receipt_id"]),
        kind="report",
        received=RECEIVED,
        key_id=report["key_id"],
    )
    tampered = dict(receipt.to_json(), received="2025-01-16")
    wire = receipt.to_json()
    shapes = [
        ("an extra member is ignored", dict(wire, note="not signed"), True),
        ("v is 2", dict(wire, v=2), False),
        ("receipt_id in upper case", dict(wire, receipt_id=wire["receipt_id"].upper()), False),
        ("receipt_id of 31 bytes", dict(wire, receipt_id=wire["receipt_id"][:62]), False),
        ("kind not a string", dict(wire, kind=1), False),
        ("received not YYYY-MM-DD", dict(wire, received="2025-1-15"), False),
        ("gateway_key_id missing", {k: x for k, x in wire.items() if k != "gateway_key_id"}, False),
        ("sig padded", dict(wire, sig=wire["sig"] + "=="), False),
    ]
    checked = []
    for reason, doc, accepted in shapes:
        try:
            Receipt.from_json(doc).verify(gateway.verify_key)
        except MalformedError:
            ok = False
        else:
            ok = True
        if ok != accepted:
            raise SystemExit(f"Receipt.from_json: {reason!r} accepted={ok}")
        checked.append({"reason": reason, "receipt": doc, "accepted": accepted})
    return {
        "shapes": checked,
        "gateway_seed": seed("gateway").hex(),
        "gateway_public_key": b64e(gateway_pk),
        "gateway_key_id": keys_.key_id_of(gateway_pk),
        "message": Receipt.message(
            receipt.receipt_id, receipt.kind, receipt.received, receipt.key_id
        ).hex(),
        "receipt": receipt.to_json(),
        "tampered": tampered,
    }


def challenge_bytes(pow_key: bytes, difficulty: int, expires: int, nonce: bytes) -> bytes:
    """The challenge layout of ``pow.py``: version, difficulty, expires, nonce, MAC."""
    body = struct.pack(">BBQ", pow_.CHALLENGE_VERSION, difficulty, expires) + nonce
    return body + blake2b(body, size=16, key=pow_key)


def pow_vectors() -> dict[str, Any]:
    pow_key = seed("pow-key")
    challenges = []
    for difficulty, expires, label in ((12, 1_767_225_600, "a"), (16, 4_102_444_800, "b")):
        nonce = seed(f"pow-nonce-{label}")[:16]
        raw = challenge_bytes(pow_key, difficulty, expires, nonce)
        challenge = pow_.decode(b64e(raw))
        answer = pow_.solve(challenge)
        pow_.verify(pow_key, challenge.text, answer, min_difficulty=difficulty, now=expires)
        probes = sorted({0, 1, 2, 3, 255, 256, 65535, answer, 2**32 - 1, 2**32, 2**53 - 1})
        challenges.append(
            {
                "pow_key": pow_key.hex(),
                "difficulty": difficulty,
                "expires": expires,
                "nonce": nonce.hex(),
                "mac": raw[26:].hex(),
                "challenge": challenge.text,
                "answer": answer,
                "digest": blake2b(raw + struct.pack(">Q", answer)).hex(),
                "probes": [
                    {
                        "answer": n,
                        "digest": (d := blake2b(raw + struct.pack(">Q", n))).hex(),
                        "leading_zero_bits": pow_.leading_zero_bits(d),
                        "meets": pow_.meets(raw, n, difficulty),
                    }
                    for n in probes
                ],
            }
        )
    digests = [
        bytes(32),
        b"\x80" + bytes(31),
        b"\x01" + bytes(31),
        b"\x00\x01" + bytes(30),
        b"\x00\x00\x3f" + b"\xff" * 29,
        bytes(31) + b"\x01",
    ]
    return {
        "challenges": challenges,
        "leading_zero_bits": [
            {"digest": d.hex(), "bits": pow_.leading_zero_bits(d)} for d in digests
        ],
    }


def reply_sealed_vectors() -> list[dict[str, Any]]:
    """Data sealed to a token's reply key: an office answer, a raw status row and the record of
    a report the reporter sent."""
    token = Token(TOKEN_DATA[3])
    reply = token.keys().reply_key
    reply_pk = bytes(reply.public_key)
    answer_doc = {"text": "经查，反映问题属实，已立案处理。", "case": "2025-0001"}
    status_row = json.dumps({"state": "answered", "deadline": "2025-03-01"}).encode()
    sent_doc = {"kind": "report", "date": "2025-03-14", "title": "工程款问题", "files": 1}
    docs = {"answer": dict(answer_doc, schema=ANSWER), "sent": dict(sent_doc, schema=SENT)}
    out = []
    for what, randomised in (
        ("answer", seal_answer_for_reporter(answer_doc, reply_pk)),
        ("status-row", seal_for_reply_key(status_row, reply_pk)),
        ("sent", seal_sent_for_reporter(sent_doc, reply_pk)),
    ):
        padded = opens(randomised, reply)
        sealed = deterministic_seal(padded, reply_pk, seed(f"reply-{what}"))
        plain = open_with_reply_key(sealed, token.keys())
        out.append(
            {
                "what": what,
                "token": str(token),
                "recipient_secret_key": b64e(bytes(reply)),
                "recipient_public_key": b64e(reply_pk),
                "sealed": b64e(sealed),
                "padded_length": len(padded),
                "plaintext": b64e(plain),
                **({"doc": docs[what]} if what in docs else {}),
                "wrong_token": str(Token(TOKEN_DATA[2])),
            }
        )
    return out


def _write_signer(directory: Path, kind: str, key: SigningKey) -> None:
    pub = bytes(key.verify_key)
    info = keys_.PublicKeyInfo(kind, "ed25519", keys_.key_id_of(pub), pub, CREATED)
    (directory / f"{kind}.json").write_text(json.dumps(info.to_json(), indent=2) + "\n")
    secret = {"kind": kind, "key_id": info.key_id, "secret_key": b64e(bytes(key))}
    (directory / f"{kind}.key").write_text(json.dumps(secret) + "\n")


def keyring_vector() -> dict[str, Any]:
    """keys.json and keys.json.sig exactly as ``lianxin.keys.export_published`` writes them."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for serial in (1, 2):
            pub = bytes(PrivateKey(seed(f"office-{serial}")).public_key)
            info = keys_.PublicKeyInfo(
                "office", "x25519", keys_.key_id_of(pub), pub, CREATED, serial
            )
            (directory / f"office-{info.key_id}.json").write_text(json.dumps(info.to_json()))
        _write_signer(directory, "gateway", SigningKey(seed("gateway")))
        _write_signer(directory, "publisher", SigningKey(seed("publisher")))
        keys_.export_published(directory, directory / "out" / "keys.json")
        data = (directory / "out" / "keys.json").read_bytes()
        sig = (directory / "out" / "keys.json.sig").read_text()
    publisher_pk = bytes(SigningKey(seed("publisher")).verify_key)
    current = bytes(PrivateKey(seed("office-2")).public_key)
    return {
        "refused": refused_keyrings(data),
        "keys_json": b64e(data),
        "keys_json_sig": sig,
        "signing_message": b64e(keys_.keyring_signing_message(data)),
        "publisher_fingerprint": keys_.fingerprint(publisher_pk),
        "current_office_key_id": keys_.key_id_of(current),
        "current_office_public_key": b64e(current),
        "gateway_public_key": b64e(bytes(SigningKey(seed("gateway")).verify_key)),
    }


def refused_keyrings(data: bytes) -> list[dict[str, str]]:
    """Keyrings signed by the right publisher key that a client must still refuse (§5.4 step 4)."""
    good = json.loads(data)
    older, newer = good["office"][1], good["office"][0]

    def variant(**changes: Any) -> dict[str, Any]:
        return json.loads(json.dumps(dict(good, **changes)))

    cases: list[tuple[str, dict[str, Any]]] = [
        ("office keys oldest first", variant(office=[older, newer])),
        ("two office keys share a serial", variant(office=[newer, dict(older, serial=2)])),
        ("a serial that is not an integer", variant(office=[newer, dict(older, serial="1")])),
        ("a gateway key that is x25519", variant(gateway=dict(good["gateway"], alg="x25519"))),
        (
            "an office key listed as a gateway key",
            variant(office=[newer, dict(older, kind="gateway")]),
        ),
        (
            "current_office_key_id names the older key",
            variant(current_office_key_id=older["key_id"]),
        ),
    ]
    signer = SigningKey(seed("publisher"))
    out = []
    for reason, doc in cases:
        text = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
        try:
            keys_.Keyring.from_json(json.loads(text), "keys.json")
        except keys_.KeyFileError:
            pass
        else:
            raise SystemExit(f"Keyring.from_json accepts {reason!r}")
        sig = b64e(signer.sign(keys_.keyring_signing_message(text)).signature) + "\n"
        out.append({"reason": reason, "keys_json": b64e(text), "keys_json_sig": sig})
    return out


def build() -> dict[str, Any]:
    """Every vector, as one JSON-ready document."""
    report = envelope_vector("report")
    return {
        "protocol": "lianxin/v1",
        "generator": "tests/vectors/make_vectors.py",
        "notes": [
            "Byte strings are lower-case hex or URL-safe base64 without padding (b64u).",
            "Sealed boxes use a fixed ephemeral key: open them, do not expect to reproduce them.",
            "payload.packed is Python's json.dumps(sort_keys=True, separators=(',', ':'), "
            "ensure_ascii=False) in UTF-8; a client should produce the same bytes.",
        ],
        "tokens": [token_vector(d) for d in TOKEN_DATA],
        "typed_tokens": typed_tokens(),
        "bad_tokens": bad_tokens(),
        "padding": padding_vectors(),
        "lp": lp_vectors(),
        "payloads": payload_vectors(),
        "payload_errors": payload_errors(),
        "documents": document_vectors(),
        "envelopes": [report, envelope_vector("followup")],
        "receipt": receipt_vector(report),
        "pow": pow_vectors(),
        "reply_sealed": reply_sealed_vectors(),
        "keyring": keyring_vector(),
    }


def render(vectors: dict[str, Any]) -> str:
    """The file's exact text."""
    return json.dumps(vectors, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
