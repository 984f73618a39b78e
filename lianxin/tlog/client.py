"""What readers of a published log do: prove an entry's inclusion, audit the whole log against
the last checkpoint seen, and (for witnesses) cosign a checkpoint after checking consistency.

Proofs and consistency are computed from the tiles, as any tlog-tiles client does; the audit also
recomputes the tree from the entry bundles, so tiles that disagree with the entries are caught.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from nacl.signing import SigningKey

from . import LogError
from .checkpoint import SignedCheckpoint, open_checkpoint
from .entries import receipt_entry
from .merkle import (
    EMPTY_ROOT,
    Builder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)
from .note import Verifier, cosign, parse_note
from .proof import TlogProof
from .site import Site, SiteError
from .tiles import WIDTH, TileSource, decode_bundle, tile_path, tile_width


class AuditError(LogError):
    """The log is not what it must be; the message shows the checkpoints involved."""


def current(
    site: Site, witnesses: list[Verifier] | None = None, quorum: int = 0
) -> SignedCheckpoint:
    """The site's checkpoint, verified against the publisher key of its signed keys.json."""
    return open_checkpoint(site.log("checkpoint"), site.log_verifier(), witnesses, quorum=quorum)


def site_policy(site: Site) -> tuple[list[Verifier], int]:
    """The witnesses and quorum the site's ``log/policy.json`` asks readers to require."""
    try:
        doc = json.loads(site.log("policy.json"))
    except SiteError:
        return [], 0  # a site without a witness policy
    except ValueError as exc:
        raise LogError("log/policy.json is not JSON") from exc
    try:
        return [Verifier.parse(str(v)) for v in doc["witnesses"]], int(doc["quorum"])
    except (KeyError, TypeError, ValueError) as exc:
        raise LogError("log/policy.json: expected witnesses and quorum") from exc


@dataclass(frozen=True)
class Inclusion:
    """An entry found in the log and its verified proof."""

    index: int
    size: int
    proof: TlogProof


def prove_index(site: Site, signed: SignedCheckpoint, index: int, entry: bytes) -> Inclusion:
    """Build and check the inclusion proof of ``entry`` at ``index`` from the tiles."""
    size, root_hash = signed.checkpoint.size, signed.checkpoint.root
    if not 0 <= index < size:
        raise LogError(f"entry {index} is not in the log (size {size})")
    source = TileSource(site.log, size)
    hashes = inclusion_proof(source, index, size)
    verify_inclusion(leaf_hash(entry), index, size, hashes, root_hash)
    return Inclusion(index, size, TlogProof(index, tuple(hashes), signed.raw))


def find_entry(site: Site, size: int, entry: bytes) -> int:
    """The index of ``entry``, by reading the entry bundles (newest first)."""
    for n in reversed(range((size + WIDTH - 1) // WIDTH)):
        width = tile_width(0, n, size)
        bundle = decode_bundle(site.log(tile_path("entries", n, width)), width)
        if entry in bundle:
            return n * WIDTH + bundle.index(entry)
    raise LogError("this receipt is not in the office's public log (yet)")


def prove_receipt(site: Site, receipt_id: bytes, index: int | None = None) -> Inclusion:
    """A verified tlog-proof for a receipt."""
    signed = current(site)
    entry = receipt_entry(receipt_id)
    if index is None:
        index = find_entry(site, signed.checkpoint.size, entry)
    return prove_index(site, signed, index, entry)


# --- audit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditReport:
    """What an audit established."""

    origin: str
    size: int
    previous: int | None
    witnesses: list[str]


def _state_file(state: Path) -> Path:
    return state / "log-state.json"


def _load_state(state: Path) -> dict[str, str] | None:
    path = _state_file(state)
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {"vkey": str(doc["vkey"]), "checkpoint": str(doc["checkpoint"])}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AuditError(f"{path}: not a saved audit state ({exc})") from exc


def _save_state(state: Path, vkey: str, checkpoint: str) -> None:
    state.mkdir(parents=True, exist_ok=True)
    tmp = _state_file(state).with_suffix(".tmp")
    tmp.write_text(json.dumps({"vkey": vkey, "checkpoint": checkpoint}, indent=1) + "\n")
    tmp.replace(_state_file(state))


def check_consistent(site: Site, old: SignedCheckpoint, new: SignedCheckpoint) -> None:
    """Check from the tiles that ``new`` extends ``old``; report both on failure."""
    a, b = old.checkpoint, new.checkpoint
    both = f"\nearlier checkpoint:\n{old.raw}\ncurrent checkpoint:\n{new.raw}"
    if b.size < a.size:
        raise AuditError(f"the log shrank from {a.size} to {b.size} entries{both}")
    if b.size == a.size:
        if a.root != b.root:
            raise AuditError(f"two different trees of size {a.size} (a fork){both}")
        return
    if a.size == 0:  # every tree extends the empty one
        if a.root != EMPTY_ROOT:
            raise AuditError(f"an empty tree with a root hash other than SHA-256(''){both}")
        return
    try:
        proof = consistency_proof(TileSource(site.log, b.size), a.size, b.size)
        verify_consistency(a.size, b.size, proof, a.root, b.root)
    except LogError as exc:
        raise AuditError(f"the current tree does not extend the earlier one ({exc}){both}") from exc


def recompute(site: Site, signed: SignedCheckpoint) -> None:
    """Recompute the tree from the entry bundles and from the tiles; both must give the root."""
    size, expected = signed.checkpoint.size, signed.checkpoint.root
    builder = Builder()
    tiles = TileSource(site.log, size)
    for n in range((size + WIDTH - 1) // WIDTH):
        width = tile_width(0, n, size)
        entries = decode_bundle(site.log(tile_path("entries", n, width)), width)
        hashes = [leaf_hash(e) for e in entries]
        if b"".join(hashes) != tiles.tile(0, n):
            raise AuditError(f"log tile 0/{n} does not hold the hashes of its entry bundle")
        for h in hashes:
            builder.add(h)
    if builder.root() != expected:
        raise AuditError(f"the entries do not give the checkpoint's root hash (size {size})")
    if root(tiles, size) != expected:
        raise AuditError(f"the tiles do not give the checkpoint's root hash (size {size})")


def audit(
    site: Site,
    state: Path | None,
    witnesses: list[Verifier] | None = None,
    quorum: int = 0,
    *,
    full: bool = True,
) -> AuditReport:
    """Verify the site's checkpoint, its consistency with the last one seen, and the tree."""
    saved = _load_state(state) if state else None
    verifier = site.log_verifier()
    if saved and Verifier.parse(saved["vkey"]) != verifier:
        raise AuditError(
            f"the log key changed: saw {saved['vkey']}, now {verifier.vkey}"
            f"\nearlier checkpoint:\n{saved['checkpoint']}"
        )
    signed = open_checkpoint(site.log("checkpoint"), verifier, witnesses, quorum=quorum)
    previous = None
    if saved:
        old = open_checkpoint(saved["checkpoint"], verifier)
        check_consistent(site, old, signed)
        previous = old.checkpoint.size
    if full:
        recompute(site, signed)
    if state:
        _save_state(state, verifier.vkey, signed.raw)
    return AuditReport(
        signed.checkpoint.origin, signed.checkpoint.size, previous, signed.witnesses()
    )


# --- witness ----------------------------------------------------------------------------------


def witness(site: Site, key: SigningKey, name: str, state: Path, now: int | None = None) -> str:
    """Check the site's checkpoint (consistency with the last one cosigned, full recompute) and
    return it with this witness's cosignature added."""
    audit(site, state, full=True)
    note = parse_note(site.log("checkpoint"))
    timestamp = int(time.time()) if now is None else now
    return note.with_signature(cosign(note.text, name, key, timestamp)).render()


def log_lines(location: str, entries: list[dict[str, object]]) -> list[str]:
    """For ``lianxin status``: each of the token's entries, verified against the checkpoint."""
    if not entries:
        return []
    site = Site(location)
    try:
        signed = current(site, *site_policy(site))
        lines = []
        for item in entries:
            index, receipt = int(str(item["i"])), bytes.fromhex(str(item["r"]))
            try:
                prove_index(site, signed, index, receipt_entry(receipt))
                lines.append(
                    f"Your receipt {receipt.hex()[:16]} is entry {index} of the office's public"
                    f" log (verified against its signed checkpoint of {signed.checkpoint.size}"
                    " entries)."
                )
            except LogError as exc:
                lines.append(f"WARNING: entry {index} of the public log does not verify: {exc}")
        return lines
    except (LogError, KeyError, ValueError) as exc:
        return [f"WARNING: the office's public log cannot be verified: {exc}"]
    finally:
        site.close()
