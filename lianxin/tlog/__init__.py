"""A transparency log: RFC 6962 Merkle trees published as C2SP tlog-tiles with signed checkpoints.

Used by the publisher (which appends and writes the tiles), the ``lianxin`` client (receipt
proofs, status), auditors and witnesses. Nothing here imports the desk, gateway or publisher.
"""

from __future__ import annotations


class LogError(Exception):
    """A log artefact is malformed or does not verify; the message says which and why."""
