"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

    leaf hash  = SHA-256(0x00 || entry)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")

Proofs are computed over a ``HashSource``: a function returning the hash of the complete,
aligned subtree ``(level, index)`` (leaves ``index * 2**level`` up to ``(index + 1) * 2**level``).
A list of leaf hashes, a database or a set of tiles can all serve as one. Verification follows
RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from . import LogError

HashSource = Callable[[int, int], bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(LogError):
    """A proof does not verify."""


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one entry."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(source: HashSource, lo: int, hi: int) -> bytes:
    """MTH of leaves ``lo..hi-1`` where ``lo`` starts an aligned subtree (as RFC 6962 recurses)."""
    n = hi - lo
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        level = n.bit_length() - 1
        return source(level, lo >> level)
    k = _split(n)
    return node_hash(subtree_hash(source, lo, lo + k), subtree_hash(source, lo + k, hi))


def root(source: HashSource, size: int) -> bytes:
    """The root hash of the tree of ``size`` leaves."""
    return subtree_hash(source, 0, size)


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size]), from the leaf's sibling up."""
    if not 0 <= index < size:
        raise LogError(f"index {index} is outside a tree of size {size}")
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            proof.append(subtree_hash(source, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(source, lo, lo + k))
            lo += k
    proof.reverse()
    return proof


def consistency_proof(source: HashSource, size1: int, size2: int) -> list[bytes]:
    """RFC 6962 PROOF(size1, D[0:size2])."""
    if not 0 <= size1 <= size2:
        raise LogError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, size2, size1, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                proof.append(subtree_hash(source, lo, hi))
            break
        k = _split(n)
        if m <= k:
            proof.append(subtree_hash(source, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(source, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def list_source(leaves: Sequence[bytes]) -> HashSource:
    """A ``HashSource`` over leaf hashes held in memory (for tests and small trees)."""
    cache: dict[tuple[int, int], bytes] = {}

    def source(level: int, index: int) -> bytes:
        if level == 0:
            return leaves[index]
        key = (level, index)
        if key not in cache:
            cache[key] = node_hash(source(level - 1, 2 * index), source(level - 1, 2 * index + 1))
        return cache[key]

    return source


def _hash_sizes(*hashes: bytes) -> None:
    if any(len(h) != 32 for h in hashes):
        raise ProofError("a root or leaf hash is not 32 bytes")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Check that ``leaf`` is entry ``index`` of the tree ``(size, root_hash)`` (RFC 9162)."""
    _hash_sizes(leaf, root_hash)
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != 32:
            raise ProofError("a proof hash is not 32 bytes")
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != root_hash:
        raise ProofError("the inclusion proof does not lead to the root hash")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that tree ``(size2, root2)`` extends tree ``(size1, root1)`` (RFC 9162 §2.1.4.2)."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"a tree of size {size2} cannot extend one of size {size1}")
    if size1 == 0:
        raise ProofError("a consistency check from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError("two different root hashes for the same size")
        return
    _hash_sizes(root1, root2)
    if not proof:
        raise ProofError("the consistency proof is empty")
    if any(len(p) != 32 for p in proof):
        raise ProofError("a proof hash is not 32 bytes")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != root1 or sr != root2:
        raise ProofError("the consistency proof does not lead to both root hashes")


class Builder:
    """The root of a growing tree, from its leaf hashes in order, in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []  # roots of the complete subtrees, largest first

    def add(self, leaf: bytes) -> None:
        self.stack.append(leaf)
        self.size += 1
        n = self.size
        while n & 1 == 0:
            right = self.stack.pop()
            self.stack[-1] = node_hash(self.stack[-1], right)
            n >>= 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        result = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            result = node_hash(left, result)
        return result
