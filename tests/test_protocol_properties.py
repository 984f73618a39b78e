"""Property tests for the protocol encodings: tokens, padding, payloads, the envelope parser."""

from __future__ import annotations

import base64
import json
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from lianxin.protocol import (
    Attachment,
    MalformedError,
    PayloadError,
    ProtocolError,
    SignatureError,
    Token,
    TokenError,
    parse_envelope,
)
from lianxin.protocol.encoding import b64d, b64e
from lianxin.protocol.envelope import Envelope
from lianxin.protocol.padding import MIN_BUCKET, bucket, pad, unpad
from lianxin.protocol.payload import pack, unpack
from lianxin.protocol.token import ALPHABET, DATA_SYMBOLS, check_symbol, public_values

tokens = st.text(alphabet=ALPHABET, min_size=DATA_SYMBOLS, max_size=DATA_SYMBOLS).map(Token)


@given(tokens)
def test_token_round_trips_through_its_written_form(token: Token) -> None:
    written = str(token)
    assert len(written.split("-")) == 7 and all(len(g) == 4 for g in written.split("-"))
    assert Token.parse(written) == token
    assert Token.parse(written.lower().replace("-", " ")) == token


@given(tokens)
def test_crockford_aliases_read_as_their_digits(token: Token) -> None:
    written = str(token).replace("0", "o").replace("1", "l")
    assert Token.parse(written) == token


@given(tokens)
def test_the_gateways_public_values_are_the_token_keys_public_halves(token: Token) -> None:
    keys = token.keys()
    assert public_values(token) == (
        keys.lookup_id,
        bytes(keys.reply_public),
        bytes(keys.followup_verify),
    )


def _b64d_by_the_rule(text: str) -> bytes | None:
    """The rule b64d implements, written plainly: URL-safe alphabet only, no padding, a length
    that is not 1 mod 4, and no stray bits in the last character; None if refused."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return data if b64e(data) == text else None


@given(st.text(alphabet="AQgw_-+/=~ \n\u00e9\uff21" + string.ascii_letters[:6], max_size=12))
def test_b64d_accepts_exactly_canonical_unpadded_base64url(text: str) -> None:
    expected = _b64d_by_the_rule(text)
    if expected is None:
        with pytest.raises(MalformedError) as refused:
            b64d(text, "field")
        assert refused.value.slug == "bad-base64"
    else:
        assert b64d(text, "field") == expected


@given(tokens, st.integers(0, DATA_SYMBOLS), st.sampled_from(ALPHABET))
def test_every_single_symbol_typo_is_caught(token: Token, position: int, symbol: str) -> None:
    full = token.data + check_symbol(token.data)
    if full[position] == symbol:
        return
    typo = full[:position] + symbol + full[position + 1 :]
    with pytest.raises(TokenError) as caught:
        Token.parse(typo)
    assert caught.value.slug == "token-check"


@given(tokens, st.integers(0, DATA_SYMBOLS - 1))
def test_adjacent_transpositions_are_caught_except_0_and_z(token: Token, position: int) -> None:
    full = token.data + check_symbol(token.data)
    a, b = full[position], full[position + 1]
    if a == b or {a, b} == {"0", "Z"}:  # Luhn mod N's one blind spot, documented
        return
    swapped = full[:position] + b + a + full[position + 2 :]
    with pytest.raises(TokenError):
        Token.parse(swapped)


@given(st.text(max_size=60))
def test_parsing_any_text_raises_only_token_errors(text: str) -> None:
    try:
        Token.parse(text)
    except TokenError:
        pass


def test_generated_tokens_are_distinct_and_never_printed_by_repr() -> None:
    seen = {Token.generate() for _ in range(2000)}
    assert len(seen) == 2000
    token = next(iter(seen))
    assert token.data not in repr(token) and token.data not in repr(token.keys())


@given(st.binary(max_size=20_000))
def test_padding_round_trips_and_lands_on_a_bucket(data: bytes) -> None:
    padded = pad(data)
    assert len(padded) == bucket(len(data) + 4)
    assert unpad(padded) == data


@given(st.integers(0, 64 * 1024 * 1024))
def test_buckets_are_monotonic_and_cost_at_most_12_percent(length: int) -> None:
    size = bucket(length)
    assert size >= max(length, MIN_BUCKET)
    assert bucket(length + 1) >= size
    if length > MIN_BUCKET:
        assert size <= length * 1.125


@given(st.binary(max_size=9000))
def test_unpad_of_arbitrary_bytes_raises_only_payload_errors(data: bytes) -> None:
    try:
        unpad(data)
    except PayloadError:
        pass


# Attachment names as §8.1 allows them: 1 to 255 characters, no control character.
_NAMES = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=255)


@given(_NAMES, st.characters(whitelist_categories=("Cc",)), st.integers(0, 255))
def test_attachment_names_with_a_control_character_are_refused(
    name: str, control: str, at: int
) -> None:
    bad = name[:at] + control + name[at:]
    with pytest.raises(PayloadError, match=r"attachments\[0\]\.name"):
        pack({"schema": "lianxin/report/v1"}, [Attachment(bad, "text/plain", b"")])


@given(
    st.dictionaries(
        st.text(string.ascii_letters, min_size=1, max_size=8), st.text(max_size=50), max_size=5
    ),
    st.lists(st.tuples(_NAMES, st.binary(max_size=300)), max_size=4),
)
def test_payload_round_trips(extra: dict[str, str], files: list[tuple[str, bytes]]) -> None:
    doc = {**extra, "schema": "lianxin/report/v1"}
    attachments = [Attachment(name, "application/octet-stream", data) for name, data in files]
    decoded = unpack(pack(doc, attachments))
    assert decoded.attachments == tuple(attachments)
    assert {k: v for k, v in decoded.doc.items() if k != "attachments"} == doc


@given(st.binary(max_size=4000))
def test_unpack_of_arbitrary_bytes_raises_only_payload_errors(data: bytes) -> None:
    try:
        unpack(data)
    except PayloadError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=6)
    ),
    max_leaves=20,
)
envelope_like = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 2, 0, "1", True, None]),
        "kind": st.sampled_from(["report", "followup", "x", 1]),
        "key_id": st.sampled_from(["0123456789abcdef", "0123", "ZZZZZZZZZZZZZZZZ", 7]),
        "client_pk": st.text(max_size=60) | st.binary(max_size=40).map(lambda b: b.hex()),
        "lookup_id": st.text(string.hexdigits, max_size=40),
        "ciphertext": st.text(max_size=200),
        "sig": st.text(max_size=100),
        "extra": json_values,
    },
)


@settings(max_examples=300)
@given(json_values | envelope_like)
def test_envelope_parser_raises_only_protocol_errors(doc: object) -> None:
    try:
        parse_envelope(doc, max_ciphertext=10_000)
    except ProtocolError:
        pass


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_envelope_parser_on_arbitrary_bytes(data: bytes) -> None:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return
    try:
        parse_envelope(doc, max_ciphertext=10_000)
    except ProtocolError:
        pass


def _signed_report(ciphertext: bytes = bytes(48 + 4096)) -> tuple[Envelope, SigningKey]:
    key = SigningKey.generate()
    unsigned = Envelope("report", "0123456789abcdef", bytes(key.verify_key), ciphertext, b"")
    sig = key.sign(unsigned.signing_message).signature
    return Envelope("report", "0123456789abcdef", unsigned.author, ciphertext, sig), key


def test_envelope_wire_form_round_trips_and_verifies() -> None:
    envelope, _ = _signed_report()
    parsed = parse_envelope(envelope.to_json(), max_ciphertext=10_000)
    assert parsed == envelope
    parsed.verify()
    assert parsed.receipt_id == envelope.receipt_id


@given(st.integers(0, 99), st.integers(0, 7))
def test_any_flipped_ciphertext_bit_breaks_the_signature(byte: int, bit: int) -> None:
    envelope, _ = _signed_report()
    flipped = bytearray(envelope.ciphertext)
    flipped[byte] ^= 1 << bit
    tampered = Envelope(
        envelope.kind, envelope.key_id, envelope.author, bytes(flipped), envelope.sig
    )
    with pytest.raises(SignatureError):
        tampered.verify()


def test_field_boundaries_are_unambiguous() -> None:
    # Moving bytes between key_id-adjacent fields must change the signed message.
    a = Envelope("report", "0123456789abcdef", bytes(32), b"\x01" * 60, b"")
    b = Envelope("report", "0123456789abcdef", bytes(31) + b"\x01", b"\x01" * 59 + b"\x00", b"")
    assert a.signing_message != b.signing_message


@pytest.mark.parametrize(
    ("mutate", "slug"),
    [
        (lambda d: d.update(v=2), "bad-version"),
        (lambda d: d.update(kind="other"), "bad-kind"),
        (lambda d: d.pop("sig"), "missing-field"),
        (lambda d: d.update(extra=1), "unknown-field"),
        (lambda d: d.update(key_id="XYZ"), "bad-field"),
        (lambda d: d.update(client_pk="***"), "bad-base64"),
        (lambda d: d.update(client_pk="AAAA"), "bad-length"),
        (lambda d: d.update(sig="AAAA"), "bad-length"),
        (lambda d: d.update(ciphertext="AAAA"), "bad-length"),
        (lambda d: d.update(ciphertext=b64e(bytes(48 + 5000))), "bad-length"),
    ],
)
def test_each_defect_has_its_own_slug(mutate: object, slug: str) -> None:
    envelope, _ = _signed_report()
    doc = envelope.to_json()
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(MalformedError) as caught:
        parse_envelope(doc, max_ciphertext=10_000)
    assert caught.value.slug == slug


@given(tokens)
def test_full_width_input_from_chinese_input_methods_reads_the_same(token: Token) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != "-" else "－" for c in str(token))
    assert Token.parse(full_width.replace("－", "\u3000", 2)) == token


def test_letters_that_upper_case_to_two_symbols_are_refused() -> None:
    with pytest.raises(TokenError):
        Token.parse("ß" * 28)
