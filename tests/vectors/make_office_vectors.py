"""Generate ``offices-v1.json``: known-answer vectors for linked offices (protocol page §20).

Fixed seeds for the publisher, the office signing key, the officer and the receiving office's
X25519 key: an office card (its exact bytes and the publisher's signature), and a package's
signing message, both signatures and its wire form. The package's ``sealed`` member is fixed
bytes (a real body is a randomised sealed box); an implementation must reproduce the message
and the signatures, and accept the wire form with the pinned signing key.

    .venv/bin/python tests/vectors/make_office_vectors.py           # rewrite offices-v1.json
    .venv/bin/python tests/vectors/make_office_vectors.py --check   # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lianxin.keys import fingerprint, key_id_of  # noqa: E402
from lianxin.offices.card import OfficeCard, card_signing_message  # noqa: E402
from lianxin.offices.package import Package  # noqa: E402
from lianxin.protocol.encoding import b64e  # noqa: E402

OUT = Path(__file__).with_name("offices-v1.json")
PUBLISHER = SigningKey(bytes(range(32)))
OFFICE_SIGNER = SigningKey(bytes(range(32, 64)))
OFFICER = SigningKey(bytes(range(64, 96)))
RECEIVER_BOX = PrivateKey(bytes(range(96, 128)))
SENDER_BOX = PrivateKey(bytes(range(128, 160)))


def vectors() -> dict[str, Any]:
    """Every vector, computed with lianxin.offices."""
    card = OfficeCard(
        office_id="zj-hz",
        name="示例市纪委监委",
        level="city",
        region="330100",
        office_key=bytes(SENDER_BOX.public_key),
        signing_key=bytes(OFFICE_SIGNER.verify_key),
        publisher_key=bytes(PUBLISHER.verify_key),
        gateway_url="https://gateway.example.org",
        portal_url="https://portal.example.org",
        parent=None,
        version=3,
        issued="2026-03-02",
    )
    data = card.to_bytes()
    card_sig = PUBLISHER.sign(card_signing_message(data)).signature
    receiver_key = bytes(RECEIVER_BOX.public_key)
    unsigned = Package(
        sender="zj-hz",
        receiver="zj-hz-xh",
        seq=7,
        kind="assignment",
        key_id=key_id_of(receiver_key),
        signer_fp=fingerprint(bytes(OFFICE_SIGNER.verify_key)),
        officer_id="zhao",
        officer_key=bytes(OFFICER.verify_key),
        sealed=bytes(range(256)) * 2,
        officer_sig=b"",
        office_sig=b"",
    )
    message = unsigned.message()
    officer_sig = OFFICER.sign(message).signature
    signed = Package(**{**unsigned.__dict__, "officer_sig": officer_sig})
    office_sig = OFFICE_SIGNER.sign(signed.office_message()).signature
    package = Package(**{**signed.__dict__, "office_sig": office_sig})
    return {
        "seeds": {
            "publisher": b64e(bytes(range(32))),
            "office_signer": b64e(bytes(range(32, 64))),
            "officer": b64e(bytes(range(64, 96))),
            "receiver_x25519": b64e(bytes(range(96, 128))),
            "sender_x25519": b64e(bytes(range(128, 160))),
        },
        "card": {
            "bytes": data.decode("utf-8"),
            "signing_message_hex": card_signing_message(data).hex(),
            "sig": b64e(card_sig),
        },
        "package": {
            "message_hex": message.hex(),
            "officer_sig": b64e(officer_sig),
            "office_sig": b64e(office_sig),
            "digest": package.digest,
            "wire": package.to_json(),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    text = json.dumps(vectors(), ensure_ascii=False, indent=2) + "\n"
    if args.check:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
