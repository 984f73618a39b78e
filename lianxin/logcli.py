"""``lianxin receipt prove|verify``, ``lianxin audit`` and ``lianxin witness``: the office's
public log seen from outside (``lianxin/tlog``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from nacl.signing import SigningKey

from .protocol import ProtocolError, Receipt
from .tlog import LogError
from .tlog.client import audit, prove_receipt, witness
from .tlog.entries import receipt_entry
from .tlog.note import COSIGNATURE, Verifier
from .tlog.proof import verify_proof
from .tlog.site import Site


@contextmanager
def log_errors() -> Iterator[None]:
    try:
        yield
    except (LogError, ProtocolError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def _receipt(path: Path) -> Receipt:
    try:
        return Receipt.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{path}: not a receipt file ({exc})") from exc
    except ProtocolError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


def _witnesses(values: tuple[str, ...]) -> list[Verifier]:
    verifiers = []
    for value in values:
        try:
            verifier = Verifier.parse(value)
        except LogError as exc:
            raise click.BadParameter(str(exc), param_hint="--witness") from exc
        if verifier.kind != COSIGNATURE:
            raise click.BadParameter(
                f"{value}: not a cosignature (type 0x04) key", param_hint="--witness"
            )
        verifiers.append(verifier)
    return verifiers


witness_option = click.option(
    "--witness",
    "witness_keys",
    multiple=True,
    metavar="VKEY",
    help="A trusted witness's verifier key (name+id+key); repeat for several.",
)
quorum_option = click.option(
    "--quorum",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="How many of the --witness keys must have cosigned the checkpoint.",
)


@click.group("receipt")
def receipt_group() -> None:
    """Prove that a receipt is in the office's public log, and check such proofs."""


@receipt_group.command("prove")
@click.argument("receipt_file", metavar="RECEIPT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--site", required=True, help="The portal: a URL or a built site folder.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the proof (FILE.tlog-proof).",
)
def receipt_prove(receipt_file: Path, site: str, out: Path) -> None:
    """Find RECEIPT in the log and write an offline C2SP tlog-proof for it."""
    receipt = _receipt(receipt_file)
    reader = Site(site)
    with log_errors():
        found = prove_receipt(reader, receipt.receipt_id)
        out.write_text(found.proof.render(), encoding="utf-8")
    click.echo(
        f"Your receipt is entry {found.index} of the office's public log "
        f"(checkpoint of {found.size} entries); proof written to {out}."
    )


@receipt_group.command("verify")
@click.argument("receipt_file", metavar="RECEIPT", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("proof_file", metavar="PROOF", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--log-key",
    required=True,
    metavar="VKEY",
    help="The log's verifier key (the site's log/vkey, checked against its signed keys.json).",
)
@witness_option
@quorum_option
def receipt_verify(
    receipt_file: Path, proof_file: Path, log_key: str, witness_keys: tuple[str, ...], quorum: int
) -> None:
    """Check offline that PROOF shows RECEIPT in the log signed by --log-key."""
    receipt = _receipt(receipt_file)
    with log_errors():
        log = Verifier.parse(log_key)
        text = proof_file.read_text(encoding="utf-8")
        signed = verify_proof(
            text, receipt_entry(receipt.receipt_id), log, _witnesses(witness_keys), quorum
        )
    cosigned = f", cosigned by {', '.join(signed.witnesses())}" if signed.witnesses() else ""
    click.echo(
        f"Verified: the receipt is in {signed.checkpoint.origin} "
        f"(checkpoint of {signed.checkpoint.size} entries{cosigned})."
    )


@click.command("audit")
@click.argument("site", metavar="SITE_URL")
@click.option(
    "--state",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder keeping the last checkpoint seen; the next audit checks consistency with it.",
)
@witness_option
@quorum_option
def audit_command(
    site: str, state: Path | None, witness_keys: tuple[str, ...], quorum: int
) -> None:
    """Verify the portal's public log: signature, append-only growth, tiles and entries."""
    reader = Site(site)
    with log_errors():
        report = audit(reader, state, _witnesses(witness_keys), quorum)
    since = (
        f"; consistent with the checkpoint of {report.previous} seen before"
        if report.previous is not None
        else ""
    )
    cosigned = f"; cosigned by {', '.join(report.witnesses)}" if report.witnesses else ""
    click.echo(f"OK: {report.origin} holds {report.size} entries{since}{cosigned}.")


@click.command("witness")
@click.argument("site", metavar="SITE_URL")
@click.option("--name", required=True, help="The witness's name, e.g. witness.example.org/w1.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The witness's private key file (created, mode 0600, if it does not exist).",
)
@click.option(
    "--state",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder keeping the last checkpoint cosigned.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Where to write the cosigned checkpoint (give it to the office's publisher).",
)
def witness_command(site: str, name: str, key_file: Path, state: Path, out: Path) -> None:
    """Cosign the portal's checkpoint after checking it extends the last one cosigned."""
    with log_errors():
        key = _witness_key(key_file)
        cosigned = witness(Site(site), key, name, state)
        out.write_text(cosigned, encoding="utf-8")
    vkey = Verifier(name, COSIGNATURE, bytes(key.verify_key)).vkey
    click.echo(f"Cosigned; written to {out}. Witness key: {vkey}")


def _witness_key(path: Path) -> SigningKey:
    if path.exists():
        data = path.read_bytes()
        if len(data) != 32:
            raise click.ClickException(f"{path}: not a witness key (32 bytes)")
        return SigningKey(data)
    key = SigningKey.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(key))
    return key
