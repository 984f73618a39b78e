"""The log's core: RFC 6962 proofs against the transparency-dev vectors and a naive tree, C2SP
signed notes and checkpoints against the specifications' examples, tile paths and tlog-proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from lianxin.tlog import LogError
from lianxin.tlog.checkpoint import Checkpoint, open_checkpoint
from lianxin.tlog.merkle import (
    Builder,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    list_source,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from lianxin.tlog.note import (
    COSIGNATURE,
    ED25519,
    NoteError,
    Verifier,
    cosign,
    open_note,
    parse_note,
    sign,
)
from lianxin.tlog.proof import TlogProof, verify_proof
from lianxin.tlog.tiles import TileSource, decode_bundle, encode_bundle, index_path, tile_path

# transparency-dev's vectors, in ../shared beside the repository (as CI lays it out).
VECTORS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "merkle"
FILES = sorted(VECTORS.rglob("*.json"))


def test_the_vectors_are_there() -> None:
    assert len(FILES) > 100, f"no Merkle test vectors under {VECTORS}"


def _b(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def test_vectors_are_present() -> None:
    assert len(FILES) >= 190
    assert any(json.loads(f.read_text())["wantErr"] for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_transparency_dev_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    proof = [_b(p) for p in case["proof"] or []]
    if "leafIdx" in case:
        run = lambda: verify_inclusion(
            _b(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b(case["root"])
        )
    else:
        run = lambda: verify_consistency(
            case["size1"], case["size2"], proof, _b(case["root1"]), _b(case["root2"])
        )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            run()
    else:
        run()


def _naive(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_naive(leaves[:k]), _naive(leaves[k:]))


def test_every_leaf_and_size_up_to_128_against_a_naive_tree() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(128)]
    source = list_source(leaves)
    roots = {}
    for size in range(1, 129):
        expected = _naive(leaves[:size])
        roots[size] = expected
        assert root(source, size) == expected
        builder = Builder()
        for leaf in leaves[:size]:
            builder.add(leaf)
        assert builder.root() == expected
        for index in range(size):
            proof = inclusion_proof(source, index, size)
            verify_inclusion(leaves[index], index, size, proof, expected)
            with pytest.raises(ProofError):
                verify_inclusion(leaves[(index + 1) % size] if size > 1 else b"\0" * 32,
                                 index, size, proof, expected)  # fmt: skip
    for size2 in range(1, 129, 7):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(source, size1, size2)
            verify_consistency(size1, size2, proof, roots[size1], roots[size2])
            if size1 < size2:
                with pytest.raises(ProofError):
                    verify_consistency(size1, size2, proof, roots[size2], roots[size2])


# The example of golang.org/x/mod/sumdb/note, which C2SP signed-note standardises.
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
# The C2SP signed-note and tlog-checkpoint examples (their keys are not published).
SPEC_NOTE = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouF"
    "SQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2o"
    "yin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)  # fmt: skip


def test_signed_note_example_verifies_and_is_reproduced() -> None:
    verifier = Verifier.parse(VKEY)
    assert verifier.vkey == VKEY and verifier.kind == ED25519
    opened = open_note(TEXT + "\n" + SIG, [verifier])
    assert opened.note.text == TEXT and opened.verified == (verifier,)
    assert sign(TEXT, "PeterNeumann", SigningKey(SEED)).line() == SIG
    with pytest.raises(NoteError, match="does not verify"):
        open_note(TEXT.replace("answer", "Answer") + "\n" + SIG, [verifier])


def test_unknown_keys_are_ignored_and_a_note_without_a_known_key_is_refused() -> None:
    note = parse_note(SPEC_NOTE)
    assert (
        note.text.endswith("ed è subito sera.\n")
        and note.signatures[0].name == "quasimodo.example/salvatore"
    )
    with pytest.raises(NoteError, match="not signed by any trusted key"):
        open_note(SPEC_NOTE, [Verifier.parse(VKEY)])
    checkpoint = Checkpoint.from_text(parse_note(SPEC_CHECKPOINT).text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.text() == parse_note(SPEC_CHECKPOINT).text
    with pytest.raises(NoteError):
        open_note(SPEC_CHECKPOINT, [Verifier.parse(VKEY)])
    # An unknown signature beside a known one is ignored.
    mixed = TEXT + "\n" + SPEC_NOTE.split("\n\n")[-1] + SIG
    assert open_note(mixed, [Verifier.parse(VKEY)]).verified


@pytest.mark.parametrize(
    "bad",
    [
        TEXT + SIG,  # no blank line
        TEXT + "\n" + SIG.replace("— ", "- "),
        TEXT + "\n" + SIG.replace("x08go", "x08g!"),
        TEXT + "\n",
        TEXT.replace("\n", "\r\n", 1) + "\n" + SIG,
    ],
)
def test_malformed_notes_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        open_note(bad, [Verifier.parse(VKEY)])


def test_checkpoint_cosignature_and_quorum() -> None:
    log_key, witness_key = SigningKey(b"\x01" * 32), SigningKey(b"\x02" * 32)
    log = Verifier("office.example/log", ED25519, bytes(log_key.verify_key))
    wit = Verifier("news.example/w", COSIGNATURE, bytes(witness_key.verify_key))
    text = Checkpoint("office.example/log", 3, b"\x07" * 32).text()
    note = parse_note(text + "\n" + sign(text, log.name, log_key).line())
    cosigned = note.with_signature(cosign(text, wit.name, witness_key, 1_700_000_000)).render()
    signed = open_checkpoint(cosigned, log, [wit], quorum=1)
    assert signed.witnesses() == ["news.example/w"]
    with pytest.raises(NoteError, match="0 of the 1"):
        open_checkpoint(note.render(), log, [wit], quorum=1)
    misnamed = text + "\n" + sign(text, "other/log", log_key).line()
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(misnamed, Verifier("other/log", ED25519, log.public_key))
    assert Verifier.parse(wit.vkey) == wit


def test_tile_paths_and_bundles() -> None:
    assert index_path(1234067) == "x001/x234/067"
    assert index_path(5) == "005"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 2, 17) == "tile/1/002.p/17"
    assert tile_path("entries", 1000) == "tile/entries/x001/000"
    entries = [b"", b"a", b"x" * 300]
    assert decode_bundle(encode_bundle(entries), 3) == entries
    with pytest.raises(LogError):
        decode_bundle(encode_bundle(entries)[:-1], 3)


def test_proofs_from_tiles_and_tlog_proof_round_trip() -> None:
    size = 70_000
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    memory = list_source(leaves)
    files: dict[str, bytes] = {}
    for level, count in ((0, size), (1, size >> 8), (2, size >> 16)):
        for n in range((count + 255) // 256):
            width = min(256, count - n * 256)
            files[tile_path(level, n, width)] = b"".join(
                memory(8 * level, i) for i in range(n * 256, n * 256 + width)
            )
    tiles = TileSource(files.__getitem__, size)
    assert root(tiles, size) == root(memory, size)
    for index in (0, 255, 256, 65_535, 65_536, size - 1):
        assert inclusion_proof(tiles, index, size) == inclusion_proof(memory, index, size)
    assert consistency_proof(tiles, 1000, size) == consistency_proof(memory, 1000, size)
    key = SigningKey(b"\x03" * 32)
    log = Verifier("office.example/log", ED25519, bytes(key.verify_key))
    text = Checkpoint(log.name, size, root(memory, size)).text()
    checkpoint = text + "\n" + sign(text, log.name, key).line()
    entry = (4242).to_bytes(4, "big")
    proof = TlogProof(4242, tuple(inclusion_proof(tiles, 4242, size)), checkpoint).render()
    assert proof.startswith("c2sp.org/tlog-proof@v1\nindex 4242\n")
    assert verify_proof(proof, entry, log).checkpoint.size == size
    with pytest.raises(ProofError):
        verify_proof(proof, (4243).to_bytes(4, "big"), log)
    with pytest.raises(LogError):
        verify_proof(proof.replace("index 4242", "index 4243"), entry, log)
